"""The exercise animations' timing, without drawing: which pose each frame shows, interpolated
between the validated stages of ``bot/content/pictures.toml``, and what its counter says.

Pure (no matplotlib, no NumPy): the main process uses it to name an animation and its version
(``animation_version``: a hash of the frames and of the drawing code, computed without drawing),
so an uploaded animation's file_id is kept per version like a picture's. The render workers
(``bot/rendering/animations.py``) draw the frames and encode them.

One animation shows one repetition of the movement at a calm pace, with the dose's count drawn
in the frame ("1 / 10": the one repetition shown, of about ten), or for the piriformis stretch
(exercise 5) one hold with its timer running at real speed ("0:18 / 0:30 · hold 1 of 3"); it
loops. Every in-between frame is held to the same anatomical checks as the stages
(``check_frames``). Keys: ``a3-left-en`` (exercise, the leg with symptoms, language),
``a1-en`` (an exercise without a leg with symptoms).
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

FPS: Final = 12
LANGUAGES: Final = ("en", "fr")


@dataclass(frozen=True)
class Step:
    """A move from one stage to another over ``seconds`` (the same stage: a pause)."""

    start: int  # stage, 1-based
    end: int
    seconds: float


@dataclass(frozen=True)
class Dose:
    """What the counter shows: a repetition ``1 / count``, or a hold of ``hold_seconds``
    (``holds`` times) during the step ``hold_step`` (0-based)."""

    count: int = 0
    hold_seconds: int = 0
    holds: int = 0
    hold_step: int = -1


@dataclass(frozen=True)
class Motion:
    steps: tuple[Step, ...]
    dose: Dose


# One repetition each, at a calm pace (seconds); the article's doses (exercises.toml).
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
    # Into the stretch, the 30-second hold at real speed, and out of it.
    5: Motion(
        (Step(1, 1, 1.0), Step(1, 2, 2.0), Step(2, 2, 30.0), Step(2, 1, 2.0)),
        Dose(hold_seconds=30, holds=3, hold_step=2),
    ),
}


@dataclass(frozen=True)
class Counter:
    """The text drawn in a frame, as data (the worker words it in the person's language)."""

    kind: str  # "count" (repetition), "hold" (the timer running), "ready" (before/after a hold)
    value: int = 0  # the repetition, or the seconds held
    total: int = 0  # the dose's count, or the hold's seconds
    hold: int = 0  # which hold
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
    keys = []
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


def _joints(a: Mapping[str, Point], b: Mapping[str, Point], t: float) -> dict[str, Point]:
    return {name: _mix(a[name], b[name], t) for name in a}


def interpolate(a: Pose, b: Pose, t: float) -> Pose:
    """The pose a fraction ``t`` of the way from ``a`` to ``b`` (the arrows are left out: the
    movement shows the way; a stretch mark shows once the stretch is reached)."""
    nearest = a if t < 0.5 else b
    return replace(
        nearest,
        floor=a.floor + (b.floor - a.floor) * t,
        centre=_joints(a.centre, b.centre, t),
        near=_joints(a.near, b.near, t),
        far=_joints(a.far, b.far, t),
        arrows=(),
        marks=b.marks if t >= 0.999 else a.marks if t <= 0.001 else (),
    )


@cache
def frames(exercise_id: int, side: str | None) -> tuple[Frame, ...]:
    """The animation's frames (drawn once each; ``repeat`` says for how many video frames)."""
    exercise = load_pictures().exercises[exercise_id]
    motion = MOTIONS[exercise_id]
    dose = motion.dose
    result: list[Frame] = []
    for index, step in enumerate(motion.steps):
        a, b = pose_for(exercise, step.start, side), pose_for(exercise, step.end, side)
        inset_a, inset_b = (
            inset_for(exercise, step.start, side),
            inset_for(exercise, step.end, side),
        )
        if dose.holds:
            counter = Counter("ready", 0, dose.hold_seconds, 1, dose.holds)
        else:
            counter = Counter("count", 1, dose.count)
        count = max(1, round(step.seconds * FPS))
        if index == dose.hold_step:
            # The timer at real speed: one drawn frame per second, shown for a second.
            for second in range(dose.hold_seconds + 1):
                held = Counter("hold", second, dose.hold_seconds, 1, dose.holds)
                result.append(Frame(interpolate(a, b, 1.0), inset_b, held, FPS))
            continue
        if step.start == step.end:
            still = interpolate(a, b, 1.0)
            result.append(Frame(still, inset_b, counter, count))
            continue
        for i in range(1, count + 1):
            t = _ease(i / count)
            inset = None if inset_a is None or inset_b is None else interpolate(inset_a, inset_b, t)
            result.append(Frame(interpolate(a, b, t), inset, counter, 1))
    return tuple(result)


def duration(exercise_id: int) -> float:
    """The animation's length in seconds (one loop)."""
    return sum(f.repeat for f in frames(exercise_id, DEFAULT_SIDE)) / FPS


def check_frames(exercise_id: int, side: str | None) -> None:
    """Hold every frame (and its close-up) to the stages' anatomical checks (ContentError)."""
    body = load_pictures().body
    for number, frame in enumerate(frames(exercise_id, side), start=1):
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
    digest.update(repr(frames(exercise_id, side)).encode())
    return f"{key}:{digest.hexdigest()[:12]}"
