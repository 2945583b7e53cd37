"""The exercise pictures: one drawing per exercise and stage, drawn from data, and per side.

The drawings are vector figures computed from ``bot/content/pictures.toml`` (joint coordinates
of a simple human figure, arrows, props), so they carry no text, need no downloaded image and
can be reviewed and corrected like any other content. The data is loaded and checked once;
anything wrong, including an anatomically impossible joint (a knee or elbow bending the wrong
way, a limb longer than the body allows), raises ``ContentError`` naming the file and the field.

Most poses are side views; a stage may add a close-up seen from above (an inset,
``[[exercise.inset]]`` with ``view = "above"``), where a crossing of the legs can be seen.

A one-leg exercise is drawn for either leg: the data draws one leg as the one with symptoms,
and the picture for the other side is the same drawing mirrored (head and feet swap ends, so
the person's other leg is the coloured one). Picture keys name the side (``e3s2-left``); an
exercise without a leg with symptoms (exercise 1) has one picture per stage (``e1s2``).

Drawing uses matplotlib's object-oriented API with the Agg canvas and one ``Figure`` per call,
never pyplot, so it needs no display and is safe to run in a worker thread. For review:
``python -m bot.rendering.pictures --out DIR`` writes every picture as ``<key>.png``.
"""

from __future__ import annotations

import argparse
import io
import math
import struct
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle

from bot.content import CONTENT_DIR, ContentError, read_toml
from bot.domain.program import EXERCISE_ORDER

PICTURES_FILE: Final = CONTENT_DIR / "pictures.toml"

# The drawing's frame, in centimetres of a 175 cm adult: x grows to the right, y upwards.
FRAME_WIDTH: Final = 224.0
FRAME_HEIGHT: Final = 140.0
# 1024 x 640 px: landscape, sharp on a phone, far inside Telegram's photo limits.
PIXEL_WIDTH: Final = 1024
PIXEL_HEIGHT: Final = 640
_DPI: Final = 128

# Telegram's rules for a photo (Bot API, sendPhoto).
TELEGRAM_MAX_SIDES: Final = 10_000  # width + height
TELEGRAM_MAX_RATIO: Final = 20.0
TELEGRAM_MAX_BYTES: Final = 10 * 1024 * 1024

# Okabe-Ito colours, told apart with any colour vision: a dark grey figure, its far limbs a
# lighter grey, the leg with symptoms orange, arrows and marks blue, the belt bluish green.
FIGURE_COLOUR: Final = "#3b4450"
FAR_COLOUR: Final = "#a3acb6"
SYMPTOMATIC_COLOUR: Final = "#e69f00"
FAR_SYMPTOMATIC_COLOUR: Final = "#f3cf80"
ARROW_COLOUR: Final = "#0072b2"
BELT_COLOUR: Final = "#009e73"
FLOOR_COLOUR: Final = "#8a939c"
FLOOR_FILL: Final = "#eef0f2"
BACKGROUND: Final = "#ffffff"

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
_ABOVE_TRUNK_WIDTH: Final = 1.3  # the trunk's width seen from above, against its side depth

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
        return _mid(self.near["hip"], self.far["hip"])

    @property
    def handedness(self) -> float:
        """+1 or -1: which way a joint bends in this picture (mirroring flips it)."""
        axis = _sub(self.centre["neck"], self.hip_mid)
        front = (0.0, 1.0 if self.facing == "up" else -1.0)
        return 1.0 if _cross(axis, front) > 0 else -1.0

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
            towards_head = _sub(self.centre["head"], self.hip_mid)
            right = _cross(towards_head, _sub(self.near["hip"], self.far["hip"])) > 0
        else:
            right = self.handedness < 0
        return "right" if right else "left"


@dataclass(frozen=True)
class ExercisePictures:
    id: int
    symptomatic: str | None  # the side whose leg is drawn in the accent colour (None: no leg)
    stages: tuple[Pose, ...]
    insets: tuple[Pose, ...] = ()  # a close-up per stage, drawn in a corner (or none)

    @property
    def one_leg(self) -> bool:
        """Whether the exercise has a leg with symptoms, drawn for each side."""
        return self.symptomatic is not None


@dataclass(frozen=True)
class Pictures:
    body: Body
    exercises: Mapping[int, ExercisePictures]


# --- Small geometry ------------------------------------------------------------------------------


def _sub(a: Point, b: Point) -> Point:
    return (a[0] - b[0], a[1] - b[1])


def _add(a: Point, b: Point) -> Point:
    return (a[0] + b[0], a[1] + b[1])


def _scale(a: Point, k: float) -> Point:
    return (a[0] * k, a[1] * k)


def _mid(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def _length(a: Point) -> float:
    return math.hypot(a[0], a[1])


def _unit(a: Point) -> Point:
    size = _length(a)
    return (a[0] / size, a[1] / size) if size else (0.0, 0.0)


def _dot(a: Point, b: Point) -> float:
    return a[0] * b[0] + a[1] * b[1]


def _cross(a: Point, b: Point) -> float:
    return a[0] * b[1] - a[1] * b[0]


def _rotate(a: Point, degrees: float) -> Point:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (a[0] * c - a[1] * s, a[0] * s + a[1] * c)


def _front_of(upwards: Point, handedness: float) -> Point:
    """The anterior normal of a body part whose head-ward direction is ``upwards``."""
    return _rotate(_unit(upwards), 90.0 * handedness)


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
        if _length(_sub(end, start)) < 4:
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
    seen = _length(_sub(b, a))
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
        if _length(_sub(centre["waist"], end)) > 0.9 * body.trunk:
            raise ContentError(f"{where}.waist: not between the hips and the neck")
    for pair, spread in _ABOVE_SPREAD.items():
        if _length(_sub(pose.near[pair], pose.far[pair])) > spread:
            raise ContentError(f"{where}.far.{pair}: too far from the near {pair}")
    for side in SIDES:
        joints = pose.side(side)
        label = f"{where}.{side}"
        if _length(_sub(joints["shoulder"], centre["neck"])) > _ABOVE_SHOULDER_REACH:
            raise ContentError(f"{label}.shoulder: not attached to the neck and trunk")
        for a, b, nominal in (
            ("shoulder", "elbow", body.upper_arm),
            ("elbow", "wrist", body.forearm),
            ("wrist", "hand", body.hand),
            ("hip", "knee", body.thigh),
            ("knee", "ankle", body.shin),
            ("ankle", "heel", body.heel),
            ("ankle", "toe", body.foot),
        ):
            _check_length(joints[a], joints[b], nominal, f"{label}.{b}", shortest=_ABOVE_SHORTEST)


def _check_pose(pose: Pose, body: Body, where: str) -> None:
    """Hold a pose to the body's proportions and to the way joints bend."""
    if pose.view == "above":
        _check_above(pose, body, where)
        return
    hand = pose.handedness
    centre = pose.centre
    if abs(_cross(_unit(_sub(centre["neck"], pose.hip_mid)), (1.0, 0.0))) > 0.95:
        raise ContentError(f"{where}.facing: the trunk is upright; only lying poses are drawn")
    _check_length(pose.hip_mid, centre["neck"], body.trunk, f"{where}.neck", shortest=_SHORTEST)
    _check_length(centre["neck"], centre["head"], body.neck, f"{where}.head", shortest=0.8)
    for end in (pose.hip_mid, centre["neck"]):
        if _length(_sub(centre["waist"], end)) > 0.9 * body.trunk:
            raise ContentError(f"{where}.waist: not between the hips and the neck")
    for pair in ("shoulder", "hip"):
        if _length(_sub(pose.near[pair], pose.far[pair])) > _HIP_SPREAD:
            raise ContentError(f"{where}.far.{pair}: too far from the near {pair}")
    for side in SIDES:
        joints = pose.side(side)
        label = f"{where}.{side}"
        if _length(_sub(joints["shoulder"], centre["neck"])) > _SHOULDER_REACH:
            raise ContentError(f"{label}.shoulder: not attached to the neck and trunk")
        for a, b, nominal in (
            ("shoulder", "elbow", body.upper_arm),
            ("elbow", "wrist", body.forearm),
            ("wrist", "hand", body.hand),
            ("hip", "knee", body.thigh),
            ("knee", "ankle", body.shin),
            ("ankle", "heel", body.heel),
            ("ankle", "toe", body.foot),
        ):
            # A limb pointing towards the viewer looks shorter, never longer.
            _check_length(joints[a], joints[b], nominal, f"{label}.{b}", shortest=_SHORTEST)
        for joint, (a, b, c), normal_sign in (
            # A knee flexes backwards, an elbow forwards: opposite senses of rotation.
            ("knee", ("hip", "knee", "ankle"), 1.0),
            ("elbow", ("shoulder", "elbow", "wrist"), -1.0),
        ):
            first = _unit(_sub(joints[b], joints[a]))
            second = _unit(_sub(joints[c], joints[b]))
            if _cross(first, second) * hand * normal_sign < -_STRAIGHT_SLACK:
                raise ContentError(f"{label}.{joint}: bends the wrong way")
        front = _front_of(_sub(joints["knee"], joints["ankle"]), hand)
        if _dot(_sub(joints["toe"], joints["ankle"]), front) <= 0:
            raise ContentError(f"{label}.toe: the toes must point forwards from the shin")
        if _dot(_sub(joints["heel"], joints["ankle"]), front) >= 0:
            raise ContentError(f"{label}.heel: the heel must be behind the ankle")
        for name, point in joints.items():
            if point[1] < pose.floor:
                raise ContentError(f"{label}.{name}: below the floor")
    for name, point in centre.items():
        if point[1] < pose.floor:
            raise ContentError(f"{where}.{name}: below the floor")


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
        _only(raw, ("id", "symptomatic", "stage", "inset"), where)
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
        exercises[exercise_id] = ExercisePictures(
            exercise_id, symptomatic, tuple(poses), tuple(insets)
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


# --- Drawing -------------------------------------------------------------------------------------

_PT_PER_CM: Final = PIXEL_WIDTH / _DPI * 72 / FRAME_WIDTH
_HALO: Final = [patheffects.withStroke(linewidth=8, foreground=BACKGROUND)]

# Half-thickness (cm) of the body at each joint: the limbs are drawn as tapered capsules.
_RADIUS: Final[Mapping[str, float]] = {
    "shoulder": 5.2,
    "elbow": 4.0,
    "wrist": 3.0,
    "hand": 2.6,
    "hip": 7.5,
    "knee": 5.4,
    "ankle": 3.9,
    "heel": 3.4,
    "toe": 2.0,
}
_NECK_RADIUS: Final = 4.6
# The trunk's half-thickness from the hips (0) to the neck base (1).
_TRUNK_PROFILE: Final = ((0.0, 11.5), (0.35, 10.0), (0.75, 12.0), (1.0, 9.5))
_OUTLINE: Final = 1.4  # white edge that separates overlapping parts, cm


def _circle_arc(centre: Point, radius: float, start: float, stop: float) -> list[Point]:
    steps = max(4, int(abs(stop - start) / (math.pi / 16)))
    return [
        (
            centre[0] + radius * math.cos(start + (stop - start) * i / steps),
            centre[1] + radius * math.sin(start + (stop - start) * i / steps),
        )
        for i in range(steps + 1)
    ]


def _capsule(p: Point, q: Point, rp: float, rq: float) -> list[Point]:
    """Outline of two circles and the tangents joining them: a limb segment."""
    d = _length(_sub(q, p))
    if d <= abs(rp - rq):
        centre, radius = (p, rp) if rp >= rq else (q, rq)
        return _circle_arc(centre, radius, 0.0, 2 * math.pi)
    base = math.atan2(q[1] - p[1], q[0] - p[0])
    phi = math.acos((rp - rq) / d)
    return _circle_arc(q, rq, base - phi, base + phi) + _circle_arc(
        p, rp, base + phi, base + 2 * math.pi - phi
    )


def _trunk_outline(hips: Point, waist: Point, neck: Point, width: float = 1.0) -> list[Point]:
    """A smooth trunk along the quadratic curve from the hips through the waist to the neck
    (``width`` scales its thickness: seen from above, the body is wider than deep)."""
    control = _sub(_scale(waist, 2), _scale(_add(hips, neck), 0.5))
    steps = 24
    centres: list[Point] = []
    for i in range(steps + 1):
        t = i / steps
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        centres.append(
            (
                a * hips[0] + b * control[0] + c * neck[0],
                a * hips[1] + b * control[1] + c * neck[1],
            )
        )
    left: list[Point] = []
    right: list[Point] = []
    for i, point in enumerate(centres):
        before, after = centres[max(i - 1, 0)], centres[min(i + 1, steps)]
        tangent = _unit(_sub(after, before))
        normal = (-tangent[1], tangent[0])
        radius = _profile(i / steps) * width
        left.append(_add(point, _scale(normal, radius)))
        right.append(_add(point, _scale(normal, -radius)))
    end_dx, end_dy = _sub(centres[-1], centres[-2])
    start_dx, start_dy = _sub(centres[0], centres[1])
    end_angle, start_angle = math.atan2(end_dy, end_dx), math.atan2(start_dy, start_dx)
    end_cap = _circle_arc(
        centres[-1], _profile(1.0) * width, end_angle - math.pi / 2, end_angle + math.pi / 2
    )
    start_cap = _circle_arc(
        centres[0], _profile(0.0) * width, start_angle - math.pi / 2, start_angle + math.pi / 2
    )
    return right + end_cap + left[::-1] + start_cap


def _profile(t: float) -> float:
    for (t0, r0), (t1, r1) in pairwise(_TRUNK_PROFILE):
        if t <= t1:
            return r0 + (r1 - r0) * (t - t0) / (t1 - t0)
    return _TRUNK_PROFILE[-1][1]


class _Painter:
    """Draws outlines in two passes per body part, so parts of one limb merge without seams."""

    def __init__(self, axes: Axes) -> None:
        self.axes = axes
        self.z = 1.0

    def part(self, outlines: Sequence[list[Point]], colour: str) -> None:
        for face, edge, width in ((BACKGROUND, BACKGROUND, 2 * _OUTLINE), (colour, "none", 0.0)):
            for outline in outlines:
                self.axes.add_patch(
                    Polygon(
                        outline,
                        closed=True,
                        facecolor=face,
                        edgecolor=edge,
                        linewidth=width * _PT_PER_CM,
                        joinstyle="round",
                        zorder=self.z,
                    )
                )
            self.z += 0.1

    def line(self, points: Sequence[Point], colour: str, width_cm: float) -> None:
        xs, ys = zip(*points, strict=True)
        self.axes.plot(
            xs,
            ys,
            color=colour,
            linewidth=width_cm * _PT_PER_CM,
            solid_capstyle="round",
            solid_joinstyle="round",
            zorder=self.z,
            path_effects=[
                patheffects.withStroke(
                    linewidth=(width_cm + _OUTLINE) * _PT_PER_CM, foreground=BACKGROUND
                )
            ],
        )
        self.z += 0.1


def _arm(joints: Mapping[str, Point]) -> list[list[Point]]:
    return [_capsule(joints[a], joints[b], _RADIUS[a], _RADIUS[b]) for a, b in pairwise(ARM_JOINTS)]


def _leg(joints: Mapping[str, Point]) -> list[list[Point]]:
    segments = [
        _capsule(joints["hip"], joints["knee"], _RADIUS["hip"], _RADIUS["knee"]),
        _capsule(joints["knee"], joints["ankle"], _RADIUS["knee"], _RADIUS["ankle"]),
        _capsule(joints["ankle"], joints["heel"], _RADIUS["ankle"], _RADIUS["heel"]),
        _capsule(joints["heel"], joints["toe"], _RADIUS["heel"], _RADIUS["toe"]),
        _capsule(joints["ankle"], joints["toe"], _RADIUS["ankle"], _RADIUS["toe"]),
    ]
    # Fill the sole between the three foot capsules.
    segments.append([joints["ankle"], joints["heel"], joints["toe"]])
    return segments


def _head(painter: _Painter, pose: Pose, body: Body) -> None:
    head, neck = pose.centre["head"], pose.centre["neck"]
    up = _unit(_sub(head, neck))
    front = _front_of(up, pose.handedness)
    radius = body.head_radius
    # The nose and eye show which way the face looks: up when lying on the back, down on the front.
    nose_dir = _unit(_add(front, _scale(up, 0.25)))
    side = _rotate(nose_dir, 90)
    nose = [
        _add(head, _add(_scale(nose_dir, radius * 0.8), _scale(side, 3.2))),
        _add(head, _scale(nose_dir, radius + 2.6)),
        _add(head, _add(_scale(nose_dir, radius * 0.8), _scale(side, -3.2))),
    ]
    circle = _circle_arc(head, radius, 0.0, 2 * math.pi)
    painter.part([circle, nose], FIGURE_COLOUR)
    eye = _add(head, _scale(_unit(_add(front, _scale(up, 0.9))), radius * 0.55))
    painter.axes.add_patch(Circle(eye, 1.5, facecolor=BACKGROUND, zorder=painter.z))
    painter.z += 0.1


def _belt(painter: _Painter, pose: Pose, prop: Prop, *, strand: str) -> None:
    """One strand of the belt, from a hand to the sole, and (near strand) the loop on the sole."""
    foot = pose.side(prop.side)
    ankle, toe, heel = foot["ankle"], foot["toe"], foot["heel"]
    # The belt crosses the sole at the ball of the foot, on the side away from the ankle.
    along = _sub(toe, heel)
    ball = _add(heel, _scale(along, 0.68))
    sole = _rotate(_unit(along), 90)
    if _dot(sole, _sub(ball, ankle)) < 0:
        sole = _scale(sole, -1)
    on_sole = _add(ball, _scale(sole, 2.2))
    hand = pose.side(strand)["hand"]
    painter.line([hand, on_sole], BELT_COLOUR, 2.6)
    if strand == "near":
        half = _scale(_unit(along), 2.6)
        painter.line([_sub(on_sole, half), _add(on_sole, half)], BELT_COLOUR, 3.2)


def _arrow(painter: _Painter, arrow: Arrow) -> None:
    patch = FancyArrowPatch(
        arrow.start,
        arrow.end,
        connectionstyle=f"arc3,rad={arrow.bend}",
        arrowstyle="-|>,head_length=0.55,head_width=0.35",
        mutation_scale=40,
        linewidth=5,
        color=ARROW_COLOUR,
        capstyle="round",
        joinstyle="round",
        shrinkA=0,
        shrinkB=0,
        zorder=painter.z,
        path_effects=_HALO,
    )
    painter.axes.add_patch(patch)
    painter.z += 0.1


def _stretch_mark(painter: _Painter, mark: Mark) -> None:
    """A small starburst: where the stretch should be felt."""
    for i in range(8):
        direction = _rotate((1.0, 0.0), 22.5 + 45 * i)
        painter.line(
            [_add(mark.at, _scale(direction, 4.5)), _add(mark.at, _scale(direction, 8.5))],
            ARROW_COLOUR,
            1.3,
        )
    painter.axes.add_patch(
        Circle(mark.at, 2.2, facecolor=ARROW_COLOUR, edgecolor=BACKGROUND, zorder=painter.z)
    )
    painter.z += 0.1


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


def _head_above(painter: _Painter, pose: Pose, body: Body) -> None:
    """The head seen from above, face up: the eyes show which way the face looks."""
    head, neck = pose.centre["head"], pose.centre["neck"]
    painter.part([_circle_arc(head, body.head_radius, 0.0, 2 * math.pi)], FIGURE_COLOUR)
    up = _unit(_sub(head, neck))
    across = _rotate(up, 90)
    for sign in (1.0, -1.0):
        eye = _add(head, _add(_scale(up, -1.5), _scale(across, 3.6 * sign)))
        painter.axes.add_patch(Circle(eye, 1.4, facecolor=BACKGROUND, zorder=painter.z))
    painter.z += 0.1


def _draw(axes: Axes, pose: Pose, body: Body, symptomatic: str | None) -> None:
    if pose.view == "above":
        _draw_above(axes, pose, body, symptomatic)
        return
    painter = _Painter(axes)
    axes.add_patch(
        Rectangle((0, 0), FRAME_WIDTH, pose.floor, facecolor=FLOOR_FILL, edgecolor="none")
    )
    axes.plot(
        [0, FRAME_WIDTH], [pose.floor, pose.floor], color=FLOOR_COLOUR, linewidth=2.5, zorder=0.5
    )

    def leg_colour(side: str) -> str:
        if side == symptomatic:
            return SYMPTOMATIC_COLOUR if side == "near" else FAR_SYMPTOMATIC_COLOUR
        return FIGURE_COLOUR if side == "near" else FAR_COLOUR

    # Back to front: far arm (further out than the far leg), far leg, the far strand of a belt,
    # trunk and head, near leg, near arm.
    painter.part(_arm(pose.far), FAR_COLOUR)
    painter.part(_leg(pose.far), leg_colour("far"))
    for prop in pose.props:
        _belt(painter, pose, prop, strand="far")
    neck, head = pose.centre["neck"], pose.centre["head"]
    painter.part(
        [
            _trunk_outline(pose.hip_mid, pose.centre["waist"], neck),
            _capsule(neck, head, _NECK_RADIUS, _NECK_RADIUS),
        ],
        FIGURE_COLOUR,
    )
    _head(painter, pose, body)
    if pose.near_arm_behind_leg:
        painter.part(_arm(pose.near), FIGURE_COLOUR)
    painter.part(_leg(pose.near), leg_colour("near"))
    for prop in pose.props:
        _belt(painter, pose, prop, strand="near")
    if not pose.near_arm_behind_leg:
        painter.part(_arm(pose.near), FIGURE_COLOUR)
    for mark in pose.marks:
        _stretch_mark(painter, mark)
    for arrow in pose.arrows:
        _arrow(painter, arrow)


def _draw_above(
    axes: Axes, pose: Pose, body: Body, symptomatic: str | None, *, full: bool = True
) -> None:
    """A three-quarter view from above: the floor all round, then the trunk and head, the arms,
    the other leg, and the leg with symptoms on top (the crossing leg rests on the other one)."""
    painter = _Painter(axes)
    if full:
        axes.add_patch(
            Rectangle((0, 0), FRAME_WIDTH, FRAME_HEIGHT, facecolor=FLOOR_FILL, edgecolor="none")
        )
    else:
        axes.set_facecolor(FLOOR_FILL)

    def leg_colour(side: str) -> str:
        return SYMPTOMATIC_COLOUR if side == symptomatic else FIGURE_COLOUR

    neck, head = pose.centre["neck"], pose.centre["head"]
    painter.part(_arm(pose.far), FIGURE_COLOUR)
    painter.part(
        [
            _trunk_outline(pose.hip_mid, pose.centre["waist"], neck, _ABOVE_TRUNK_WIDTH),
            _capsule(neck, head, _NECK_RADIUS, _NECK_RADIUS),
        ],
        FIGURE_COLOUR,
    )
    _head_above(painter, pose, body)
    crossing = symptomatic if symptomatic is not None else "near"
    other = "far" if crossing == "near" else "near"
    if pose.near_arm_behind_leg:
        painter.part(_arm(pose.near), FIGURE_COLOUR)
    painter.part(_leg(pose.side(other)), leg_colour(other))
    if not pose.near_arm_behind_leg:
        painter.part(_arm(pose.near), FIGURE_COLOUR)
    painter.part(_leg(pose.side(crossing)), leg_colour(crossing))
    for mark in pose.marks:
        _stretch_mark(painter, mark)
    for arrow in pose.arrows:
        _arrow(painter, arrow)


# Where a close-up goes (figure fractions: left, bottom, width, height): the upper right corner,
# empty in every side view of the figure lying with its legs up (checked by looking at them).
_INSET_BOX: Final = (0.67, 0.49, 0.32, 0.49)
_INSET_MARGIN: Final = 6.0  # cm around the close-up's figure
INSET_EDGE: Final = "#8a939c"


def _draw_inset(figure: Figure, pose: Pose, body: Body, symptomatic: str | None) -> None:
    """A close-up in a framed box in the upper right corner, fitted around its figure."""
    axes = figure.add_axes(_INSET_BOX)
    points = [*pose.centre.values(), *pose.near.values(), *pose.far.values()]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    reach = body.head_radius + _INSET_MARGIN
    left, right = min(xs) - reach, max(xs) + reach
    bottom, top = min(ys) - reach, max(ys) + reach
    # Fit the box's shape: widen or heighten the view around the figure's centre.
    box_ratio = (_INSET_BOX[2] * PIXEL_WIDTH) / (_INSET_BOX[3] * PIXEL_HEIGHT)
    width, height = right - left, top - bottom
    if width / height < box_ratio:
        grow = (height * box_ratio - width) / 2
        left, right = left - grow, right + grow
    else:
        grow = (width / box_ratio - height) / 2
        bottom, top = bottom - grow, top + grow
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top)
    axes.set_aspect("equal")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_edgecolor(INSET_EDGE)
        spine.set_linewidth(2.0)
    # The close-up is smaller than the main drawing: the outlines and marks stay the same
    # thickness in pixels, which is what keeps the parts apart.
    _draw_above(axes, pose, body, symptomatic, full=False)


def _render(exercise_id: int, stage: int, side: str | None = None) -> bytes:
    pictures = load_pictures()
    exercise = pictures.exercises.get(exercise_id)
    if exercise is None or not 1 <= stage <= len(exercise.stages):
        raise KeyError(f"no picture for exercise {exercise_id}, stage {stage}")
    if side is not None and side not in LEG_SIDES:
        raise KeyError(f"no picture for the {side!r} side")
    figure = Figure(figsize=(PIXEL_WIDTH / _DPI, PIXEL_HEIGHT / _DPI), dpi=_DPI)
    figure.patch.set_facecolor(BACKGROUND)
    FigureCanvasAgg(figure)  # attaches itself to the figure: Agg, no display
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, FRAME_WIDTH)
    axes.set_ylim(0, FRAME_HEIGHT)
    axes.set_aspect("equal")
    axes.set_axis_off()
    _draw(axes, pose_for(exercise, stage, side), pictures.body, exercise.symptomatic)
    inset = inset_for(exercise, stage, side)
    if inset is not None:
        _draw_inset(figure, inset, pictures.body, exercise.symptomatic)
    buffer = io.BytesIO()
    # Everything explicit, so global rcParams set elsewhere cannot change the picture; no
    # "Software" stamp, so the same data gives the same bytes.
    figure.savefig(
        buffer, format="png", dpi=_DPI, facecolor=BACKGROUND, metadata={"Software": None}
    )
    return buffer.getvalue()


_cache: dict[tuple[int, int, str | None], bytes] = {}
_cache_lock = threading.Lock()


def render_picture(exercise_id: int, stage: int, side: str | None = None) -> bytes:
    """The PNG of ``stage`` (1-based) of exercise ``exercise_id`` with ``side`` the leg with
    symptoms (the right one when None; ignored by an exercise without one), rendered once per
    process."""
    exercise = load_pictures().exercises.get(exercise_id)
    if exercise is None or not exercise.one_leg:
        side = None
    elif side is None:
        side = DEFAULT_SIDE
    key = (exercise_id, stage, side)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    # Outside the lock: threads may render different pictures.
    png = _render(exercise_id, stage, side)
    with _cache_lock:
        return _cache.setdefault(key, png)


def render_key(key: str) -> bytes:
    """The PNG of the picture named ``key`` (``e3s2-left``, ``e1s2``); KeyError if none."""
    exercise_id, stage, side = parse_key(key)
    if side is not None and not (exercise_id in load_pictures().exercises and one_leg(exercise_id)):
        raise KeyError(f"exercise {exercise_id} has no leg with symptoms: {key!r}")
    return render_picture(exercise_id, stage, side)


def all_keys() -> tuple[str, ...]:
    """Every picture's key: each stage of each exercise, for each side of a one-leg one."""
    keys: list[str] = []
    for exercise_id, count in STAGE_COUNTS.items():
        sides: tuple[str | None, ...] = LEG_SIDES if one_leg(exercise_id) else (None,)
        keys.extend(
            picture_key(exercise_id, stage, side) for stage in range(1, count + 1) for side in sides
        )
    return tuple(keys)


def render_all() -> dict[str, bytes]:
    """Every picture, by key (``e1s1``, ``e3s2-left``, ``e3s2-right``...)."""
    return {key: render_key(key) for key in all_keys()}


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height read from a PNG's header; ValueError if it is not a PNG."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def check_photo(png: bytes, where: str) -> None:
    """Raise ContentError unless Telegram accepts ``png`` as a photo."""
    try:
        width, height = png_size(png)
    except ValueError as exc:
        raise ContentError(f"{where}: {exc}") from None
    if width + height > TELEGRAM_MAX_SIDES:
        raise ContentError(
            f"{where}: {width}x{height} px, width + height over {TELEGRAM_MAX_SIDES}"
        )
    if max(width, height) > TELEGRAM_MAX_RATIO * min(width, height):
        raise ContentError(f"{where}: aspect ratio over {TELEGRAM_MAX_RATIO:g}")
    if len(png) > TELEGRAM_MAX_BYTES:
        raise ContentError(f"{where}: {len(png)} bytes, over Telegram's photo limit")


def validate_pictures() -> None:
    """Render every picture and check it against Telegram's photo rules (ContentError)."""
    for key, png in render_all().items():
        exercise_id, stage, side = parse_key(key)
        where = f"{PICTURES_FILE}: exercise[{exercise_id}].stage[{stage}]"
        check_photo(png, f"{where} ({side})" if side else where)


def main(argv: Sequence[str] | None = None) -> int:
    """Write every picture as ``<key>.png`` (``e3s2-left.png``) into a folder, for review."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.rendering.pictures", description=main.__doc__
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the PNGs into")
    args = parser.parse_args(argv)
    try:
        validate_pictures()
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for key, png in render_all().items():
        path = args.out / f"{key}.png"
        path.write_bytes(png)
        print(f"{path} ({len(png) // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
