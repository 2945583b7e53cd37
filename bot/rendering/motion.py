"""The exercise animations' timing, without drawing: which pose each frame shows, interpolated
between the validated stages of ``bot/content/pictures.toml``, and what its counter says.

Pure (no matplotlib, no NumPy): the main process uses it to name an animation and its version
(``animation_version``: a hash of the frames and of the drawing code, computed without drawing),
so an uploaded animation's file_id is kept per version like a picture's. The render workers
(``bot/rendering/animations.py``) draw the frames and encode them.

One animation shows the whole dose at a calm pace, each repetition numbered in the frame
("3 / 10", then "4 / 10"... to "10 / 10"), or for the piriformis stretch
(exercise 5) the three holds with their timer running at real speed ("0:18 / 0:30 · hold 2 of
3"), the leg let go and resting between them ("Rest · then hold 2 of 3"); it loops. Every
in-between frame is held to the same anatomical checks as the stages (``check_frames``).
Keys: ``a3-left-en`` (exercise, the leg with symptoms, language), ``a1-en`` (an exercise
without a leg with symptoms).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Final

from bot.content import CONTENT_DIR
from bot.rendering.poses import (
    DEFAULT_SIDE,
    DRAWING_LIBRARIES,
    LEG_SIDES,
    Point,
    Pose,
    _check_pose,
    _drawing_code,
    inset_for,
    load_pictures,
    one_leg,
    pose_for,
)

FPS: Final = 10
LANGUAGES: Final = ("en", "fr")


@dataclass(frozen=True)
class Step:
    """A move from one stage to another over ``seconds`` (the same stage: a pause). A "hold"
    step shows the hold's timer (the dose's seconds, one drawn frame a second); a "rest" step
    comes between two holds."""

    start: int  # stage, 1-based
    end: int
    seconds: float
    phase: str = ""  # "", "hold" or "rest"


@dataclass(frozen=True)
class Dose:
    """What the counter shows: a repetition ``1 / count``, or holds of ``hold_seconds``
    (``holds`` of them, one per "hold" step)."""

    count: int = 0
    hold_seconds: int = 0
    holds: int = 0


# Exercise 5: the stretch held, then let go, a short rest lying still, and into it again.
_HOLD: Final = Step(2, 2, 30.0, "hold")
_REST: Final = (Step(2, 1, 2.0, "rest"), Step(1, 1, 4.0, "rest"), Step(1, 2, 2.0, "rest"))


@dataclass(frozen=True)
class Motion:
    steps: tuple[Step, ...]
    dose: Dose


# One repetition each, at a calm pace (seconds), shown as many times as the article's dose says
# (exercises.toml).
MOTIONS: Final[Mapping[int, Motion]] = {
    # Up step by step (on the elbows, elbows closer, the press-up), then back down.
    1: Motion(
        (
            Step(1, 1, 0.8),
            Step(1, 2, 1.5),
            Step(2, 2, 0.8),
            Step(2, 3, 1.2),
            Step(3, 3, 0.8),
            Step(3, 4, 1.5),
            Step(4, 4, 1.0),
            Step(4, 1, 2.0),
        ),
        Dose(count=10),
    ),
    2: Motion((Step(1, 1, 0.6), Step(1, 2, 1.6), Step(2, 2, 0.6), Step(2, 1, 1.6)), Dose(count=20)),
    3: Motion((Step(1, 1, 0.8), Step(1, 2, 2.0), Step(2, 2, 0.8), Step(2, 1, 2.0)), Dose(count=20)),
    4: Motion((Step(1, 1, 0.8), Step(1, 2, 2.0), Step(2, 2, 1.0), Step(2, 1, 2.0)), Dose(count=15)),
    # Into the stretch, the three 30-second holds at real speed with a rest between them (the
    # article gives no length for it: the rest's counter has no timer), and out of it.
    5: Motion(
        (Step(1, 1, 1.0), Step(1, 2, 2.0), _HOLD, *_REST, _HOLD, *_REST, _HOLD, Step(2, 1, 2.0)),
        Dose(hold_seconds=30, holds=3),
    ),
}


@dataclass(frozen=True)
class Counter:
    """The text drawn in a frame, as data (the worker words it in the person's language)."""

    kind: str  # "count" (repetition), "hold" (the timer running), "rest" (between two holds),
    # "ready" (before the first hold and after the last)
    value: int = 0  # the repetition, or the seconds held
    total: int = 0  # the dose's count, or the hold's seconds
    hold: int = 0  # which hold (the one to come, during a rest)
    holds: int = 0


@dataclass(frozen=True)
class Frame:
    pose: Pose
    inset: Pose | None
    counter: Counter
    repeat: int  # how many video frames it lasts (a still frame is drawn once)


# --- Keys ----------------------------------------------------------------------------------------


def animation_key(exercise_id: int, side: str | None, language: str) -> str:
    """``a3-left-en``; ``a1-en`` for an exercise without a leg with symptoms."""
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    if not one_leg(exercise_id):
        return f"a{exercise_id}-{language}"
    return f"a{exercise_id}-{side if side in LEG_SIDES else DEFAULT_SIDE}-{language}"


def is_animation_key(key: str) -> bool:
    return key.startswith("a")


def parse_animation_key(key: str) -> tuple[int, str | None, str]:
    """(exercise, side, language); KeyError unless it is an existing animation's key."""
    parts = key.removeprefix("a").split("-")
    if not key.startswith("a") or len(parts) not in (2, 3) or not parts[0].isdigit():
        raise KeyError(f"not an animation key: {key!r}")
    exercise_id, language = int(parts[0]), parts[-1]
    side = parts[1] if len(parts) == 3 else None
    if exercise_id not in MOTIONS or language not in LANGUAGES:
        raise KeyError(f"no animation {key!r}")
    if one_leg(exercise_id) != (side is not None) or (side is not None and side not in LEG_SIDES):
        raise KeyError(f"no animation {key!r}")
    return exercise_id, side, language


def all_animation_keys() -> tuple[str, ...]:
    """Every animation: each exercise, for each side of a one-leg one, in each language."""
    keys: list[str] = []
    for exercise_id in MOTIONS:
        sides: tuple[str | None, ...] = LEG_SIDES if one_leg(exercise_id) else (None,)
        keys.extend(
            animation_key(exercise_id, side, language) for side in sides for language in LANGUAGES
        )
    return tuple(keys)


# --- Frames --------------------------------------------------------------------------------------


def _ease(t: float) -> float:
    """Slow at both ends: a calm, even movement."""
    return 0.5 - 0.5 * math.cos(math.pi * t)


def _mix(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _turn(a: Point, b: Point, t: float, long_way: bool = False) -> Point:
    """A segment's vector turned and stretched a fraction ``t`` of the way from ``a`` to ``b``
    (the short way round, or the long one): a limb keeps its length and bends smoothly."""
    start, end = math.atan2(a[1], a[0]), math.atan2(b[1], b[0])
    change = (end - start + math.pi) % (2 * math.pi) - math.pi
    if long_way:
        change -= math.copysign(2 * math.pi, change)
    angle = start + change * t
    size = math.hypot(*a) + (math.hypot(*b) - math.hypot(*a)) * t
    return (size * math.cos(angle), size * math.sin(angle))


# Each joint hangs from the one before it: (joint, parent); a root moves in a straight line.
_CHAIN: Final = (
    ("knee", "hip"),
    ("ankle", "knee"),
    ("heel", "ankle"),
    ("toe", "ankle"),
    ("elbow", "shoulder"),
    ("wrist", "elbow"),
    ("hand", "wrist"),
)


def interpolate(a: Pose, b: Pose, t: float, long_way: frozenset[str] = frozenset()) -> Pose:
    """The pose a fraction ``t`` of the way from ``a`` to ``b``: the hips move in a straight
    line and every other joint turns about the one it hangs from (so no limb shrinks or bends
    the wrong way on the way; ``long_way`` names the joints, "near.hand", that turn the long
    way round, over the top rather than through the floor). The arrows are left out (the
    movement shows the way); a stretch mark shows once the stretch is reached."""
    if t <= 0.0:
        return replace(a, arrows=())
    if t >= 1.0:
        return replace(b, arrows=())
    hips_a, hips_b = a.hip_mid, b.hip_mid
    hips = _mix(hips_a, hips_b, t)

    def hung(
        pa: Point, pb: Point, parent_a: Point, parent_b: Point, parent: Point, name: str = ""
    ) -> Point:
        turned = _turn(_sub(pa, parent_a), _sub(pb, parent_b), t, name in long_way)
        return (parent[0] + turned[0], parent[1] + turned[1])

    neck = hung(a.centre["neck"], b.centre["neck"], hips_a, hips_b, hips)
    centre = {
        "neck": neck,
        "waist": hung(a.centre["waist"], b.centre["waist"], hips_a, hips_b, hips),
        "head": hung(a.centre["head"], b.centre["head"], a.centre["neck"], b.centre["neck"], neck),
    }
    sides: dict[str, dict[str, Point]] = {}
    for name in ("near", "far"):
        ja, jb = a.side(name), b.side(name)
        joints = {
            "hip": hung(ja["hip"], jb["hip"], hips_a, hips_b, hips),
            "shoulder": hung(
                ja["shoulder"], jb["shoulder"], a.centre["neck"], b.centre["neck"], neck
            ),
        }
        for joint, parent in _CHAIN:
            joints[joint] = hung(
                ja[joint], jb[joint], ja[parent], jb[parent], joints[parent], f"{name}.{joint}"
            )
        for root, middle, end in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle")):
            near_a, near_b = a.near[end][1] - a.floor, b.near[end][1] - b.floor
            if max(near_a, near_b) < _ON_THE_FLOOR:
                # A hand or foot that rests on the floor at both ends slides along it: it moves
                # in a straight line and the joint above it bends as it must (the far limb
                # as the near one).
                _planted(joints, ja, jb, (root, middle, end), t)
        sides[name] = joints
    nearest = a if t < 0.5 else b
    return replace(
        nearest,
        floor=a.floor + (b.floor - a.floor) * t,
        centre=centre,
        near=sides["near"],
        far=sides["far"],
        arrows=(),
        marks=(),
    )


_ON_THE_FLOOR: Final = 8.0  # cm: a wrist or ankle this close to the floor rests on it


def _planted(
    joints: dict[str, Point],
    ja: Mapping[str, Point],
    jb: Mapping[str, Point],
    limb: tuple[str, str, str],
    t: float,
) -> None:
    """Move ``limb``'s end in a straight line and find its middle joint (two-bone inverse
    kinematics, bending the way it bends at the start); what hangs from the end follows."""
    root, middle, end = limb
    tip = _mix(ja[end], jb[end], t)
    upper = math.dist(ja[root], ja[middle]) * (1 - t) + math.dist(jb[root], jb[middle]) * t
    lower = math.dist(ja[middle], ja[end]) * (1 - t) + math.dist(jb[middle], jb[end]) * t
    base = joints[root]
    reach = _sub(tip, base)
    span = math.hypot(*reach)
    if span >= upper + lower or span == 0:
        joints[middle] = _mix(base, tip, upper / (upper + lower))
    else:
        along = (upper * upper - lower * lower + span * span) / (2 * span)
        across = math.sqrt(max(upper * upper - along * along, 0.0))
        ux, uy = reach[0] / span, reach[1] / span
        foot = (base[0] + ux * along, base[1] + uy * along)
        bends = [_bend(j, limb) for j in (ja, jb)]
        sign = 1.0 if max(bends, key=abs) >= 0 else -1.0
        # The normal (uy, -ux) puts the middle joint on the side it bends to at the end that
        # bends more (a straight limb says nothing).
        joints[middle] = (foot[0] + sign * uy * across, foot[1] - sign * ux * across)
    moved = _sub(tip, joints[end])
    joints[end] = tip
    for joint, parent in _CHAIN:
        if parent == end:
            joints[joint] = (joints[joint][0] + moved[0], joints[joint][1] + moved[1])


def _bend(joints: Mapping[str, Point], limb: tuple[str, str, str]) -> float:
    """How much and which way a limb bends at its middle joint (the sine, signed)."""
    root, middle, end = limb
    first = _sub(joints[middle], joints[root])
    second = _sub(joints[end], joints[middle])
    size = math.hypot(*first) * math.hypot(*second)
    return (first[0] * second[1] - first[1] * second[0]) / size if size else 0.0


def _sub(a: Point, b: Point) -> Point:
    return (a[0] - b[0], a[1] - b[1])


def _over_the_floor(a: Pose, b: Pose) -> frozenset[str]:
    """The joints that must turn the long way so that nothing goes through the floor (a
    forearm brought from beside the body to in front of the head comes over the top)."""
    long_way: set[str] = set()
    for joint, _ in _CHAIN:
        for t in (0.25, 0.5, 0.75):
            pose = interpolate(a, b, t, frozenset(long_way))
            if min(pose.near[joint][1], pose.far[joint][1]) < pose.floor:
                # Both sides alike: the far limb moves as the near one does.
                long_way.update((f"near.{joint}", f"far.{joint}"))
                break
    return frozenset(long_way)


@cache
def frames(exercise_id: int, side: str | None) -> tuple[Frame, ...]:
    """The animation's frames (drawn once each; ``repeat`` says for how many video frames):
    every repetition of the dose, each with its number, so that the loop is the whole set
    ("1 / 20" to "20 / 20") and a person can move along with it."""
    one = repetition(exercise_id, side)
    count = MOTIONS[exercise_id].dose.count
    if not count:
        return one
    return tuple(
        replace(frame, counter=Counter("count", number, count))
        for number in range(1, count + 1)
        for frame in one
    )


@cache
def repetition(exercise_id: int, side: str | None) -> tuple[Frame, ...]:
    """One repetition's frames (the whole of exercise 5: its three holds), numbered 1."""
    exercise = load_pictures().exercises[exercise_id]
    motion = MOTIONS[exercise_id]
    dose = motion.dose
    result: list[Frame] = []
    holds = 0  # the holds shown so far
    for step in motion.steps:
        a, b = pose_for(exercise, step.start, side), pose_for(exercise, step.end, side)
        inset_a, inset_b = (
            inset_for(exercise, step.start, side),
            inset_for(exercise, step.end, side),
        )
        count = max(1, round(step.seconds * FPS))
        if step.phase == "hold":
            holds += 1
            # The timer at real speed: one drawn frame per second, shown for a second.
            for second in range(dose.hold_seconds + 1):
                held = Counter("hold", second, dose.hold_seconds, holds, dose.holds)
                result.append(Frame(interpolate(a, b, 1.0), inset_b, held, FPS))
            continue
        counter = _counter(dose, step, holds)
        if step.start == step.end:
            still = interpolate(a, b, 1.0)
            result.append(Frame(still, inset_b, counter, count))
            continue
        long_way = _over_the_floor(a, b)
        for i in range(1, count + 1):
            t = _ease(i / count)
            inset = None if inset_a is None or inset_b is None else interpolate(inset_a, inset_b, t)
            result.append(Frame(interpolate(a, b, t, long_way), inset, counter, 1))
    return tuple(result)


def _counter(dose: Dose, step: Step, holds: int) -> Counter:
    """The counter of a step that is not a hold (``holds``: the holds shown before it)."""
    if step.phase == "rest":
        return Counter("rest", 0, dose.hold_seconds, holds + 1, dose.holds)
    if dose.holds:
        return Counter("ready", 0, dose.hold_seconds, 1, dose.holds)
    return Counter("count", 1, dose.count)


def duration(exercise_id: int) -> float:
    """The animation's length in seconds (one loop: every repetition of the dose)."""
    return sum(f.repeat for f in frames(exercise_id, DEFAULT_SIDE)) / FPS


def check_frames(exercise_id: int, side: str | None) -> None:
    """Hold every frame (and its close-up) to the stages' anatomical checks (ContentError); the
    repetitions after the first show the same poses."""
    body = load_pictures().body
    for number, frame in enumerate(repetition(exercise_id, side), start=1):
        where = f"animation of exercise {exercise_id} ({side or 'both'}), frame {number}"
        _check_pose(frame.pose, body, where)
        if frame.inset is not None:
            _check_pose(frame.inset, body, f"{where}, close-up")


# --- What an animation looks like, without drawing it --------------------------------------------

ANIMATION_SOURCES: Final = (
    Path(__file__).with_name("animations.py"),
    Path(__file__).with_name("pictures.py"),
    Path(__file__).with_name("poses.py"),
    Path(__file__),
)
ENCODER: Final = ("imageio-ffmpeg",)


def animation_version(key: str) -> str:
    """``<key>:<12 hex digits>``: the key and a hash of its frames, the body, the closing
    texts' language and the drawing and encoding code (KeyError for an unknown key)."""
    exercise_id, side, language = parse_animation_key(key)
    exercise = load_pictures().exercises[exercise_id]
    digest = hashlib.sha256(_drawing_code(ANIMATION_SOURCES, (*DRAWING_LIBRARIES, *ENCODER)))
    digest.update(repr((key, load_pictures().body, exercise.symptomatic)).encode())
    digest.update(repr(exercise.closeup).encode())
    digest.update((CONTENT_DIR / "locales" / language / "pictures.toml").read_bytes())
    # One repetition and the dose: ``frames`` repeats the one as the dose says (its code is
    # hashed with the rest of this module).
    digest.update(repr((repetition(exercise_id, side), MOTIONS[exercise_id].dose)).encode())
    return f"{key}:{digest.hexdigest()[:12]}"


def animation_path(key: str, folder: Path) -> Path:
    """Where animation ``key``'s current version is kept: ``<folder>/a3-left-en-<hash>.mp4``."""
    return folder / (animation_version(key).replace(":", "-") + ".mp4")


def missing_animations(folder: Path) -> list[str]:
    """The animations whose current version is not in ``folder`` yet (no drawing needed)."""
    return [key for key in all_animation_keys() if not animation_path(key, folder).exists()]
