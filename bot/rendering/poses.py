"""The exercise pictures' data: poses read from ``bot/content/pictures.toml``, checked, and
named by key; no drawing (``bot/rendering/pictures.py`` draws them, in the render workers).

The pictures are vector figures computed from the data (joint coordinates of a simple human
figure, arrows, props), so they carry no text, need no downloaded image and can be reviewed and
corrected like any other content. The data is loaded and checked once; anything wrong,
including an anatomically impossible joint (a knee or elbow bending the wrong way, a limb longer
than the body allows), raises ``ContentError`` naming the file and the field. The bot loads it
at start-up, so a wrong pose stops it with one line.

Most poses are side views; a stage may add a close-up seen from above (an inset,
``[[exercise.inset]]`` with ``view = "above"``), where a crossing of the legs can be seen.

A one-leg exercise is drawn for either leg: the data draws one leg as the one with symptoms,
and the picture for the other side is the same drawing mirrored (head and feet swap ends, so
the person's other leg is the coloured one). Picture keys name the side (``e3s2-left``); an
exercise without a leg with symptoms (exercise 1) has one picture per stage (``e1s2``).

``picture_version`` names what a picture looks like without drawing it (a hash of its pose data
and of the drawing code), so an uploaded picture's Telegram file_id is kept per version.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from bot.content import CONTENT_DIR, ContentError, read_toml
from bot.domain.program import EXERCISE_ORDER

PICTURES_FILE: Final = CONTENT_DIR / "pictures.toml"

# The drawing's frame, in centimetres of a 175 cm adult: x grows to the right, y upwards.
FRAME_WIDTH: Final = 224.0
FRAME_HEIGHT: Final = 140.0
LEGEND_KEY: Final = "pictures.legend"

SIDES: Final = ("near", "far")
ARM_JOINTS: Final = ("shoulder", "elbow", "wrist", "hand")
LEG_JOINTS: Final = ("hip", "knee", "ankle", "heel", "toe")
SIDE_JOINTS: Final = ARM_JOINTS + LEG_JOINTS
CENTRE_JOINTS: Final = ("head", "neck", "waist")
BODY_FIELDS: Final = (
    "trunk",
    "neck",
    "head_radius",
    "upper_arm",
    "forearm",
    "hand",
    "thigh",
    "shin",
    "heel",
    "foot",
)
PROP_KINDS: Final = frozenset({"belt"})
MARK_KINDS: Final = frozenset({"stretch"})
FACINGS: Final = frozenset({"up", "down"})
VIEWS: Final = frozenset({"side", "above"})
LEG_SIDES: Final = ("left", "right")  # the person's legs, as stored (patients.symptom_side)
DEFAULT_SIDE: Final = "right"  # until the person has said
NEAR_ARM: Final = frozenset({"front", "behind_leg"})

# A side view can only shorten a segment (when it points towards the viewer), never lengthen it.
_LONGEST: Final = 1.1
_SHORTEST: Final = 0.45
# A straight joint may look a few degrees overstretched in a drawing; more is a wrong bend.
_STRAIGHT_SLACK: Final = math.sin(math.radians(8))
_SHOULDER_REACH: Final = 14.0  # neck base to shoulder joint, cm
_HIP_SPREAD: Final = 12.0  # near to far joint of a pair seen from the side, cm
# Seen from above the body shows its width: shoulders and hips are apart, and a projection
# may shorten a limb pointing up towards the viewer a lot more.
_ABOVE_SHORTEST: Final = 0.15
_ABOVE_SHOULDER_REACH: Final = 22.0
_ABOVE_SPREAD: Final = {"shoulder": 40.0, "hip": 24.0}

Point = tuple[float, float]


# --- Data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """Segment lengths in cm; the checks hold every pose to them."""

    trunk: float
    neck: float
    head_radius: float
    upper_arm: float
    forearm: float
    hand: float
    thigh: float
    shin: float
    heel: float
    foot: float


@dataclass(frozen=True)
class Arrow:
    start: Point
    end: Point
    bend: float  # matplotlib's arc3 radius: 0 straight, > 0 bulging to the right of the way


@dataclass(frozen=True)
class Prop:
    kind: str
    side: str  # the side of the foot a belt loops around


@dataclass(frozen=True)
class Mark:
    kind: str
    at: Point


@dataclass(frozen=True)
class Pose:
    """One picture: the figure's joints (cm, in the picture's frame) and what is drawn with it."""

    facing: str  # the front of the trunk faces the ceiling ("up") or the floor ("down")
    floor: float
    centre: Mapping[str, Point]
    near: Mapping[str, Point]
    far: Mapping[str, Point]
    arrows: tuple[Arrow, ...]
    props: tuple[Prop, ...]
    marks: tuple[Mark, ...]
    near_arm_behind_leg: bool
    view: str = "side"  # "side", or "above": a three-quarter view from above

    def side(self, name: str) -> Mapping[str, Point]:
        return self.near if name == "near" else self.far

    @property
    def hip_mid(self) -> Point:
        return mid(self.near["hip"], self.far["hip"])

    @property
    def handedness(self) -> float:
        """+1 or -1: which way a joint bends in this picture (mirroring flips it)."""
        axis = sub(self.centre["neck"], self.hip_mid)
        front = (0.0, 1.0 if self.facing == "up" else -1.0)
        return 1.0 if cross(axis, front) > 0 else -1.0

    @property
    def near_leg(self) -> str:
        """Which of the person's legs the near one is: "right" or "left".

        From the side, lying on the back with the head on the left, the near side is the right
        one (on the front, the left); mirroring swaps it. From above, lying on the back (the
        face towards the viewer), the near side is the right one when, going from the far hip
        to the near hip, the head is on the left (as for a person seen from above with the
        head on the left and the right side lower in the picture).
        """
        if self.view == "above":
            towards_head = sub(self.centre["head"], self.hip_mid)
            right = cross(towards_head, sub(self.near["hip"], self.far["hip"])) > 0
        else:
            right = self.handedness < 0
        return "right" if right else "left"


@dataclass(frozen=True)
class ExercisePictures:
    id: int
    symptomatic: str | None  # the side whose leg is drawn in the accent colour (None: no leg)
    stages: tuple[Pose, ...]
    insets: tuple[Pose, ...] = ()  # a close-up per stage, drawn in a corner (or none)
    # A part of the side view drawn enlarged in a corner (x0, y0, x1, y1 in cm), where a small
    # moving part (the feet of exercise 2) must be seen: mirrored with the picture.
    closeup: tuple[float, float, float, float] | None = None

    @property
    def one_leg(self) -> bool:
        """Whether the exercise has a leg with symptoms, drawn for each side."""
        return self.symptomatic is not None


@dataclass(frozen=True)
class Pictures:
    body: Body
    exercises: Mapping[int, ExercisePictures]


# --- Small geometry ------------------------------------------------------------------------------


def sub(a: Point, b: Point) -> Point:
    return (a[0] - b[0], a[1] - b[1])


def add(a: Point, b: Point) -> Point:
    return (a[0] + b[0], a[1] + b[1])


def scale(a: Point, k: float) -> Point:
    return (a[0] * k, a[1] * k)


def mid(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def length(a: Point) -> float:
    return math.hypot(a[0], a[1])


def unit(a: Point) -> Point:
    size = length(a)
    return (a[0] / size, a[1] / size) if size else (0.0, 0.0)


def dot(a: Point, b: Point) -> float:
    return a[0] * b[0] + a[1] * b[1]


def cross(a: Point, b: Point) -> float:
    return a[0] * b[1] - a[1] * b[0]


def rotate(a: Point, degrees: float) -> Point:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (a[0] * c - a[1] * s, a[0] * s + a[1] * c)


def front_of(upwards: Point, handedness: float) -> Point:
    """The anterior normal of a body part whose head-ward direction is ``upwards``."""
    return rotate(unit(upwards), 90.0 * handedness)


# --- Parsing and checks --------------------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ContentError(f"{where}: must be a number, got {value!r}")
    return float(value)


def _point(value: Any, where: str) -> Point:
    if not isinstance(value, list) or len(value) != 2:
        raise ContentError(f"{where}: must be a point [x, y], got {value!r}")
    x, y = _number(value[0], where), _number(value[1], where)
    if not (0 <= x <= FRAME_WIDTH and 0 <= y <= FRAME_HEIGHT):
        raise ContentError(
            f"{where}: [{x:g}, {y:g}] is outside the picture (0..{FRAME_WIDTH:g},"
            f" 0..{FRAME_HEIGHT:g})"
        )
    return (x, y)


def _table(raw: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = raw.get(name)
    if not isinstance(value, Mapping):
        raise ContentError(f"{where}.{name}: missing table")
    return value


def _only(raw: Mapping[str, Any], allowed: Sequence[str] | frozenset[str], where: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ContentError(f"{where}.{unknown[0]}: unknown field")


def _choice(raw: Mapping[str, Any], name: str, allowed: frozenset[str], where: str) -> str:
    value = raw.get(name)
    if value not in allowed:
        raise ContentError(
            f"{where}.{name}: expected one of {', '.join(sorted(allowed))}, got {value!r}"
        )
    return str(value)


def _list_of_tables(raw: Mapping[str, Any], name: str, where: str) -> list[Mapping[str, Any]]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ContentError(f"{where}.{name}: must be a list of tables ([[...{name}]])")
    return value


def _parse_body(raw: Mapping[str, Any], where: str) -> Body:
    _only(raw, BODY_FIELDS, where)
    values: dict[str, float] = {}
    for name in BODY_FIELDS:
        if name not in raw:
            raise ContentError(f"{where}.{name}: missing field")
        value = _number(raw[name], f"{where}.{name}")
        if not 0 < value < 100:
            raise ContentError(f"{where}.{name}: must be a length in cm (0..100), got {value:g}")
        values[name] = value
    body = Body(**values)
    if not 0.8 <= body.shin / body.thigh <= 1.25:
        raise ContentError(f"{where}.shin: thigh and shin must be of similar length")
    if not 0.8 <= body.forearm / body.upper_arm <= 1.25:
        raise ContentError(f"{where}.forearm: upper arm and forearm must be of similar length")
    return body


def _parse_side(raw: Mapping[str, Any], where: str) -> dict[str, Point]:
    unknown = sorted(set(raw) - set(SIDE_JOINTS))
    if unknown:
        raise ContentError(
            f"{where}.{unknown[0]}: unknown joint (expected {', '.join(SIDE_JOINTS)})"
        )
    joints: dict[str, Point] = {}
    for name in SIDE_JOINTS:
        if name not in raw:
            raise ContentError(f"{where}.{name}: missing joint")
        joints[name] = _point(raw[name], f"{where}.{name}")
    return joints


def _parse_stage(raw: Mapping[str, Any], where: str) -> Pose:
    allowed = (
        *CENTRE_JOINTS,
        *SIDES,
        "facing",
        "floor",
        "arrow",
        "prop",
        "mark",
        "near_arm",
        "view",
    )
    _only(raw, allowed, where)
    facing = _choice(raw, "facing", FACINGS, where)
    view = _choice({"view": raw.get("view", "side")}, "view", VIEWS, where)
    if "floor" not in raw:
        raise ContentError(f"{where}.floor: missing field")
    floor = _number(raw["floor"], f"{where}.floor")
    if not 0 < floor < FRAME_HEIGHT / 2:
        raise ContentError(f"{where}.floor: must lie in the lower half of the picture")
    centre: dict[str, Point] = {}
    for name in CENTRE_JOINTS:
        if name not in raw:
            raise ContentError(f"{where}.{name}: missing joint")
        centre[name] = _point(raw[name], f"{where}.{name}")
    near = _parse_side(_table(raw, "near", where), f"{where}.near")
    far = _parse_side(_table(raw, "far", where), f"{where}.far")
    arrows = []
    for index, item in enumerate(_list_of_tables(raw, "arrow", where), start=1):
        label = f"{where}.arrow[{index}]"
        _only(item, ("from", "to", "bend"), label)
        for name in ("from", "to"):
            if name not in item:
                raise ContentError(f"{label}.{name}: missing field")
        start, end = _point(item["from"], f"{label}.from"), _point(item["to"], f"{label}.to")
        bend = _number(item.get("bend", 0.0), f"{label}.bend")
        if not -1 <= bend <= 1:
            raise ContentError(f"{label}.bend: must be between -1 and 1, got {bend:g}")
        if length(sub(end, start)) < 4:
            raise ContentError(f"{label}: too short to see")
        arrows.append(Arrow(start, end, bend))
    props = []
    for index, item in enumerate(_list_of_tables(raw, "prop", where), start=1):
        label = f"{where}.prop[{index}]"
        _only(item, ("kind", "foot"), label)
        props.append(
            Prop(
                _choice(item, "kind", PROP_KINDS, label),
                _choice(item, "foot", frozenset(SIDES), label),
            )
        )
    marks = []
    for index, item in enumerate(_list_of_tables(raw, "mark", where), start=1):
        label = f"{where}.mark[{index}]"
        _only(item, ("kind", "at"), label)
        if "at" not in item:
            raise ContentError(f"{label}.at: missing field")
        marks.append(
            Mark(_choice(item, "kind", MARK_KINDS, label), _point(item["at"], f"{label}.at"))
        )
    near_arm = _choice({"near_arm": raw.get("near_arm", "front")}, "near_arm", NEAR_ARM, where)
    return Pose(
        facing,
        floor,
        centre,
        near,
        far,
        tuple(arrows),
        tuple(props),
        tuple(marks),
        near_arm == "behind_leg",
        view,
    )


def _check_length(a: Point, b: Point, nominal: float, where: str, *, shortest: float) -> None:
    seen = length(sub(b, a))
    if not shortest * nominal <= seen <= _LONGEST * nominal:
        raise ContentError(
            f"{where}: {seen:.1f} cm long, the body allows"
            f" {shortest * nominal:.1f}..{_LONGEST * nominal:.1f}"
        )


def _check_above(pose: Pose, body: Body, where: str) -> None:
    """A view from above: the body's proportions (a projection shortens a segment, never
    lengthens it). Which way a knee bends cannot be read from above: the poses are computed
    from joint angles in three dimensions, then projected (see pictures.toml)."""
    centre = pose.centre
    _check_length(pose.hip_mid, centre["neck"], body.trunk, f"{where}.neck", shortest=_SHORTEST)
    _check_length(centre["neck"], centre["head"], body.neck, f"{where}.head", shortest=0.5)
    for end in (pose.hip_mid, centre["neck"]):
        if length(sub(centre["waist"], end)) > 0.9 * body.trunk:
            raise ContentError(f"{where}.waist: not between the hips and the neck")
    for pair, spread in _ABOVE_SPREAD.items():
        if length(sub(pose.near[pair], pose.far[pair])) > spread:
            raise ContentError(f"{where}.far.{pair}: too far from the near {pair}")
    for side in SIDES:
        joints = pose.side(side)
        label = f"{where}.{side}"
        if length(sub(joints["shoulder"], centre["neck"])) > _ABOVE_SHOULDER_REACH:
            raise ContentError(f"{label}.shoulder: not attached to the neck and trunk")
        _check_limbs(joints, body, label, shortest=_ABOVE_SHORTEST)


def _check_limbs(joints: Mapping[str, Point], body: Body, label: str, *, shortest: float) -> None:
    """Each limb segment of one side at its length (seen shorter down to ``shortest``)."""
    for a, b, nominal in (
        ("shoulder", "elbow", body.upper_arm),
        ("elbow", "wrist", body.forearm),
        ("wrist", "hand", body.hand),
        ("hip", "knee", body.thigh),
        ("knee", "ankle", body.shin),
        ("ankle", "heel", body.heel),
        ("ankle", "toe", body.foot),
    ):
        _check_length(joints[a], joints[b], nominal, f"{label}.{b}", shortest=shortest)


def _check_pose(pose: Pose, body: Body, where: str) -> None:
    """Hold a pose to the body's proportions and to the way joints bend."""
    if pose.view == "above":
        _check_above(pose, body, where)
        return
    hand = pose.handedness
    centre = pose.centre
    if abs(cross(unit(sub(centre["neck"], pose.hip_mid)), (1.0, 0.0))) > 0.95:
        raise ContentError(f"{where}.facing: the trunk is upright; only lying poses are drawn")
    _check_length(pose.hip_mid, centre["neck"], body.trunk, f"{where}.neck", shortest=_SHORTEST)
    _check_length(centre["neck"], centre["head"], body.neck, f"{where}.head", shortest=0.8)
    for end in (pose.hip_mid, centre["neck"]):
        if length(sub(centre["waist"], end)) > 0.9 * body.trunk:
            raise ContentError(f"{where}.waist: not between the hips and the neck")
    for pair in ("shoulder", "hip"):
        if length(sub(pose.near[pair], pose.far[pair])) > _HIP_SPREAD:
            raise ContentError(f"{where}.far.{pair}: too far from the near {pair}")
    for side in SIDES:
        joints = pose.side(side)
        label = f"{where}.{side}"
        if length(sub(joints["shoulder"], centre["neck"])) > _SHOULDER_REACH:
            raise ContentError(f"{label}.shoulder: not attached to the neck and trunk")
        # A limb pointing towards the viewer looks shorter, never longer.
        _check_limbs(joints, body, label, shortest=_SHORTEST)
        for joint, (a, b, c), normal_sign in (
            # A knee flexes backwards, an elbow forwards: opposite senses of rotation.
            ("knee", ("hip", "knee", "ankle"), 1.0),
            ("elbow", ("shoulder", "elbow", "wrist"), -1.0),
        ):
            first = unit(sub(joints[b], joints[a]))
            second = unit(sub(joints[c], joints[b]))
            if cross(first, second) * hand * normal_sign < -_STRAIGHT_SLACK:
                raise ContentError(f"{label}.{joint}: bends the wrong way")
        front = front_of(sub(joints["knee"], joints["ankle"]), hand)
        if dot(sub(joints["toe"], joints["ankle"]), front) <= 0:
            raise ContentError(f"{label}.toe: the toes must point forwards from the shin")
        if dot(sub(joints["heel"], joints["ankle"]), front) >= 0:
            raise ContentError(f"{label}.heel: the heel must be behind the ankle")
        for name, point in joints.items():
            if point[1] < pose.floor:
                raise ContentError(f"{label}.{name}: below the floor")
    for name, point in centre.items():
        if point[1] < pose.floor:
            raise ContentError(f"{where}.{name}: below the floor")


def _parse_closeup(raw: Mapping[str, Any], where: str) -> tuple[float, float, float, float]:
    value = raw["closeup"]
    label = f"{where}.closeup"
    if not isinstance(value, list) or len(value) != 4:
        raise ContentError(f"{label}: must be [x0, y0, x1, y1], got {value!r}")
    x0, y0 = _point(value[:2], label)
    x1, y1 = _point(value[2:], label)
    if not (x1 - x0 >= 20 and y1 - y0 >= 20):
        raise ContentError(f"{label}: the region must be at least 20 cm each way, left to right")
    return (x0, y0, x1, y1)


def parse_pictures(data: Mapping[str, Any], source: str) -> Pictures:
    """Build and check the pictures from the parsed TOML ``data`` read from ``source``."""
    _only(data, ("body", "exercise"), source)
    if not isinstance(data.get("body"), Mapping):
        raise ContentError(f"{source}: body: missing table")
    body = _parse_body(data["body"], f"{source}: body")
    raw_list = data.get("exercise")
    if not isinstance(raw_list, list) or not all(isinstance(item, Mapping) for item in raw_list):
        raise ContentError(f"{source}: exercise: missing [[exercise]] tables")
    exercises: dict[int, ExercisePictures] = {}
    for index, raw in enumerate(raw_list, start=1):
        where = f"{source}: exercise[{raw.get('id', index)}]"
        _only(raw, ("id", "symptomatic", "stage", "inset", "closeup"), where)
        exercise_id = raw.get("id")
        if isinstance(exercise_id, bool) or exercise_id not in EXERCISE_ORDER:
            raise ContentError(f"{where}.id: must be one of {EXERCISE_ORDER}, got {exercise_id!r}")
        if exercise_id in exercises:
            raise ContentError(f"{where}.id: duplicate id {exercise_id}")
        symptomatic = (
            _choice(raw, "symptomatic", frozenset(SIDES), where) if "symptomatic" in raw else None
        )
        raw_stages = _list_of_tables(raw, "stage", where)
        if not raw_stages:
            raise ContentError(f"{where}.stage: no stages ([[exercise.stage]])")
        poses = []
        for number, raw_stage in enumerate(raw_stages, start=1):
            label = f"{where}.stage[{number}]"
            pose = _parse_stage(raw_stage, label)
            _check_pose(pose, body, label)
            poses.append(pose)
        insets = []
        for number, raw_inset in enumerate(_list_of_tables(raw, "inset", where), start=1):
            label = f"{where}.inset[{number}]"
            inset = _parse_stage(raw_inset, label)
            _check_pose(inset, body, label)
            insets.append(inset)
        if insets and len(insets) != len(poses):
            raise ContentError(f"{where}.inset: one close-up per stage, or none")
        if symptomatic is not None and len({p.near_leg for p in (*poses, *insets)}) > 1:
            raise ContentError(f"{where}.stage: the leg with symptoms changes between stages")
        closeup = _parse_closeup(raw, where) if "closeup" in raw else None
        if closeup is not None and insets:
            raise ContentError(f"{where}.closeup: a close-up or insets, not both")
        exercises[exercise_id] = ExercisePictures(
            exercise_id, symptomatic, tuple(poses), tuple(insets), closeup
        )
    missing = [i for i in EXERCISE_ORDER if i not in exercises]
    if missing:
        raise ContentError(f"{source}: exercise[{missing[0]}]: missing exercise")
    return Pictures(body, dict(sorted(exercises.items())))


@cache
def load_pictures() -> Pictures:
    """The checked pictures data, read once per process."""
    return parse_pictures(read_toml(PICTURES_FILE), str(PICTURES_FILE))


class _StageCounts(Mapping[int, int]):
    """Exercise id -> number of stages, read from the data on first use (not at import)."""

    def __getitem__(self, exercise_id: int) -> int:
        return len(load_pictures().exercises[exercise_id].stages)

    def __iter__(self) -> Iterator[int]:
        return iter(load_pictures().exercises)

    def __len__(self) -> int:
        return len(load_pictures().exercises)


STAGE_COUNTS: Final[Mapping[int, int]] = _StageCounts()


def stages(exercise_id: int) -> int:
    """How many pictures (stages) exercise ``exercise_id`` has."""
    return STAGE_COUNTS[exercise_id]


def one_leg(exercise_id: int) -> bool:
    """Whether exercise ``exercise_id`` has a leg with symptoms (drawn for each side)."""
    return load_pictures().exercises[exercise_id].one_leg


def picture_key(exercise_id: int, stage: int, side: str | None = None) -> str:
    """The key of a picture: ``e3s2-left`` (a one-leg exercise, for that side; the right one
    until the person has said), ``e1s2`` (no leg with symptoms)."""
    if not one_leg(exercise_id):
        return f"e{exercise_id}s{stage}"
    chosen = side if side in LEG_SIDES else DEFAULT_SIDE
    return f"e{exercise_id}s{stage}-{chosen}"


def parse_key(key: str) -> tuple[int, int, str | None]:
    """(exercise id, stage, side) from a picture key; KeyError if it is not one."""
    name, _, side = key.partition("-")
    exercise, _, stage = name.removeprefix("e").partition("s")
    if not (exercise.isascii() and exercise.isdigit() and stage.isascii() and stage.isdigit()):
        raise KeyError(f"not a picture key: {key!r}")
    if side and side not in LEG_SIDES:
        raise KeyError(f"not a picture key: {key!r}")
    return int(exercise), int(stage), side or None


def caption_key(exercise_id: int, stage: int) -> str:
    """The catalogue key of a picture's caption, e.g. ``pictures.e1.s1``."""
    return f"pictures.e{exercise_id}.s{stage}"


def _mirrored(pose: Pose) -> Pose:
    """The same pose seen from the other side: left and right swap, so the near leg becomes the
    person's other leg (head and feet swap ends; an arrow keeps its way round the joint)."""

    def flip(point: Point) -> Point:
        return (FRAME_WIDTH - point[0], point[1])

    return Pose(
        pose.facing,
        pose.floor,
        {name: flip(p) for name, p in pose.centre.items()},
        {name: flip(p) for name, p in pose.near.items()},
        {name: flip(p) for name, p in pose.far.items()},
        tuple(Arrow(flip(a.start), flip(a.end), -a.bend) for a in pose.arrows),
        pose.props,
        tuple(Mark(m.kind, flip(m.at)) for m in pose.marks),
        pose.near_arm_behind_leg,
        pose.view,
    )


def _flipped(exercise: ExercisePictures, stage: int, side: str | None) -> bool:
    """Whether stage ``stage`` must be mirrored so that the leg with symptoms is ``side``."""
    if exercise.symptomatic is None:
        return False
    near = exercise.stages[stage - 1].near_leg
    drawn = near if exercise.symptomatic == "near" else ("left" if near == "right" else "right")
    wanted = side if side in LEG_SIDES else DEFAULT_SIDE
    return drawn != wanted


def pose_for(exercise: ExercisePictures, stage: int, side: str | None) -> Pose:
    """Stage ``stage`` (1-based) drawn so that the leg with symptoms is the person's ``side``
    ("left" or "right"; the right one until they have said)."""
    pose = exercise.stages[stage - 1]
    return _mirrored(pose) if _flipped(exercise, stage, side) else pose


def inset_for(exercise: ExercisePictures, stage: int, side: str | None) -> Pose | None:
    """The close-up of stage ``stage``, mirrored with it (None: the exercise has none)."""
    if not exercise.insets:
        return None
    inset = exercise.insets[stage - 1]
    return _mirrored(inset) if _flipped(exercise, stage, side) else inset


def closeup_for(
    exercise: ExercisePictures, stage: int, side: str | None
) -> tuple[float, float, float, float] | None:
    """The enlarged region of stage ``stage`` (x0, y0, x1, y1), mirrored with it (or None)."""
    if exercise.closeup is None:
        return None
    x0, y0, x1, y1 = exercise.closeup
    if _flipped(exercise, stage, side):
        return (FRAME_WIDTH - x1, y0, FRAME_WIDTH - x0, y1)
    return exercise.closeup


def symptomatic_leg(exercise_id: int, stage: int, side: str | None) -> str | None:
    """Which of the person's legs picture (exercise, stage, side) colours: for the tests and
    for review (None: the exercise has no leg with symptoms)."""
    exercise = load_pictures().exercises[exercise_id]
    if exercise.symptomatic is None:
        return None
    near = pose_for(exercise, stage, side).near_leg
    if exercise.symptomatic == "near":
        return near
    return "left" if near == "right" else "right"


def all_keys() -> tuple[str, ...]:
    """Every picture's key: each stage of each exercise, for each side of a one-leg one."""
    keys: list[str] = []
    for exercise_id, count in STAGE_COUNTS.items():
        sides: tuple[str | None, ...] = LEG_SIDES if one_leg(exercise_id) else (None,)
        keys.extend(
            picture_key(exercise_id, stage, side) for stage in range(1, count + 1) for side in sides
        )
    return tuple(keys)


# --- What a picture looks like, without drawing it -----------------------------------------------

# The code that draws a picture: a change to it draws every picture anew.
DRAWING_SOURCES: Final = (Path(__file__).with_name("pictures.py"), Path(__file__))
DRAWING_LIBRARIES: Final = ("matplotlib", "pillow")


@cache
def _drawing_code(sources: tuple[Path, ...], libraries: tuple[str, ...]) -> bytes:
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.read_bytes())
    for library in libraries:
        digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.digest()


def picture_version(key: str) -> str:
    """``<key>:<12 hex digits>``: the key and a hash of everything that decides the picture's
    pixels (its pose and close-up, mirrored for the side; the body; which leg is coloured; the
    drawing code and the versions of the libraries that draw it). Computed without drawing,
    so the main process never loads the drawing stack; KeyError for an unknown key."""
    exercise_id, stage, side = parse_key(key)
    exercise = load_pictures().exercises.get(exercise_id)
    if exercise is None or not 1 <= stage <= len(exercise.stages):
        raise KeyError(f"no picture for {key!r}")
    if side is not None and not exercise.one_leg:
        raise KeyError(f"exercise {exercise_id} has no leg with symptoms: {key!r}")
    chosen = (side or DEFAULT_SIDE) if exercise.one_leg else None
    digest = hashlib.sha256(_drawing_code(DRAWING_SOURCES, DRAWING_LIBRARIES))
    drawn = (
        key,
        load_pictures().body,
        exercise.symptomatic,
        pose_for(exercise, stage, chosen),
        inset_for(exercise, stage, chosen),
        closeup_for(exercise, stage, chosen),
    )
    digest.update(repr(drawn).encode())
    return f"{key}:{digest.hexdigest()[:12]}"
