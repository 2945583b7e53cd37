"""The exercise pictures drawn: one PNG per exercise, stage and side, from the poses in
``bot/rendering/poses.py`` (the data, its checks and the picture keys).

Only the render workers (``bot/rendering/offload.py``) and the tests import this module: the
bot's main process never loads matplotlib. Drawing uses matplotlib's object-oriented API with
the Agg canvas and one ``Figure`` per call, never pyplot, so it needs no display and is safe to
run in a worker thread. For review: ``python -m bot.rendering.pictures --out DIR`` writes every
picture as ``<key>.png``.
"""

from __future__ import annotations

import argparse
import io
import math
import struct
import sys
import threading
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Final

from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, Polygon, Rectangle

from bot.content import ContentError
from bot.rendering.poses import (
    ARM_JOINTS,
    DEFAULT_SIDE,
    FRAME_HEIGHT,
    FRAME_WIDTH,
    LEG_SIDES,
    PICTURES_FILE,
    Arrow,
    Body,
    Mark,
    Point,
    Pose,
    Prop,
    add,
    all_keys,
    closeup_for,
    dot,
    front_of,
    inset_for,
    length,
    load_pictures,
    one_leg,
    parse_key,
    pose_for,
    rotate,
    scale,
    sub,
    unit,
)

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

_ABOVE_TRUNK_WIDTH: Final = 1.3  # the trunk's width seen from above, against its side depth

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
    d = length(sub(q, p))
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
    control = sub(scale(waist, 2), scale(add(hips, neck), 0.5))
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
        tangent = unit(sub(after, before))
        normal = (-tangent[1], tangent[0])
        radius = _profile(i / steps) * width
        left.append(add(point, scale(normal, radius)))
        right.append(add(point, scale(normal, -radius)))
    end_dx, end_dy = sub(centres[-1], centres[-2])
    start_dx, start_dy = sub(centres[0], centres[1])
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
    up = unit(sub(head, neck))
    front = front_of(up, pose.handedness)
    radius = body.head_radius
    # The nose and eye show which way the face looks: up when lying on the back, down on the front.
    nose_dir = unit(add(front, scale(up, 0.25)))
    side = rotate(nose_dir, 90)
    nose = [
        add(head, add(scale(nose_dir, radius * 0.8), scale(side, 3.2))),
        add(head, scale(nose_dir, radius + 2.6)),
        add(head, add(scale(nose_dir, radius * 0.8), scale(side, -3.2))),
    ]
    circle = _circle_arc(head, radius, 0.0, 2 * math.pi)
    painter.part([circle, nose], FIGURE_COLOUR)
    eye = add(head, scale(unit(add(front, scale(up, 0.9))), radius * 0.55))
    painter.axes.add_patch(Circle(eye, 1.5, facecolor=BACKGROUND, zorder=painter.z))
    painter.z += 0.1


def _belt(painter: _Painter, pose: Pose, prop: Prop, *, strand: str) -> None:
    """One strand of the belt, from a hand to the sole, and (near strand) the loop on the sole."""
    foot = pose.side(prop.side)
    ankle, toe, heel = foot["ankle"], foot["toe"], foot["heel"]
    # The belt crosses the sole at the ball of the foot, on the side away from the ankle.
    along = sub(toe, heel)
    ball = add(heel, scale(along, 0.68))
    sole = rotate(unit(along), 90)
    if dot(sole, sub(ball, ankle)) < 0:
        sole = scale(sole, -1)
    on_sole = add(ball, scale(sole, 2.2))
    hand = pose.side(strand)["hand"]
    painter.line([hand, on_sole], BELT_COLOUR, 2.6)
    if strand == "near":
        half = scale(unit(along), 2.6)
        painter.line([sub(on_sole, half), add(on_sole, half)], BELT_COLOUR, 3.2)


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
        direction = rotate((1.0, 0.0), 22.5 + 45 * i)
        painter.line(
            [add(mark.at, scale(direction, 4.5)), add(mark.at, scale(direction, 8.5))],
            ARROW_COLOUR,
            1.3,
        )
    painter.axes.add_patch(
        Circle(mark.at, 2.2, facecolor=ARROW_COLOUR, edgecolor=BACKGROUND, zorder=painter.z)
    )
    painter.z += 0.1


def _head_above(painter: _Painter, pose: Pose, body: Body) -> None:
    """The head seen from above, face up: the eyes show which way the face looks."""
    head, neck = pose.centre["head"], pose.centre["neck"]
    painter.part([_circle_arc(head, body.head_radius, 0.0, 2 * math.pi)], FIGURE_COLOUR)
    up = unit(sub(head, neck))
    across = rotate(up, 90)
    for sign in (1.0, -1.0):
        eye = add(head, add(scale(up, -1.5), scale(across, 3.6 * sign)))
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
    _frame_inset(axes, (left, bottom, right, top))
    # The close-up is smaller than the main drawing: the outlines and marks stay the same
    # thickness in pixels, which is what keeps the parts apart.
    _draw_above(axes, pose, body, symptomatic, full=False)


def _draw_closeup(
    figure: Figure,
    pose: Pose,
    body: Body,
    symptomatic: str | None,
    region: tuple[float, float, float, float],
) -> None:
    """Part of the side view (``region``, cm) enlarged in a framed box in the upper right
    corner: a small moving part, such as the feet, seen at a size a phone shows."""
    axes = figure.add_axes(_INSET_BOX)
    _frame_inset(axes, region)
    axes.set_facecolor(BACKGROUND)
    _draw(axes, pose, body, symptomatic)


def _frame_inset(axes: Axes, region: tuple[float, float, float, float]) -> None:
    """Show ``region`` (left, bottom, right, top, cm) in the inset box, widened or heightened
    around its centre to the box's shape, at equal scale, framed, without ticks."""
    left, bottom, right, top = region
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


def draw_scene(
    figure: Figure,
    pose: Pose,
    body: Body,
    symptomatic: str | None,
    *,
    inset: Pose | None = None,
    closeup: tuple[float, float, float, float] | None = None,
) -> Axes:
    """One picture (or animation frame) on ``figure``: the side view filling it, and a close-up
    (``inset``, seen from above, or ``closeup``, a part enlarged) in the upper right corner."""
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, FRAME_WIDTH)
    axes.set_ylim(0, FRAME_HEIGHT)
    axes.set_aspect("equal")
    axes.set_axis_off()
    _draw(axes, pose, body, symptomatic)
    if inset is not None:
        _draw_inset(figure, inset, body, symptomatic)
    elif closeup is not None:
        _draw_closeup(figure, pose, body, symptomatic, closeup)
    return axes


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
    draw_scene(
        figure,
        pose_for(exercise, stage, side),
        pictures.body,
        exercise.symptomatic,
        inset=inset_for(exercise, stage, side),
        closeup=closeup_for(exercise, stage, side),
    )
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
