"""The /progress chart: a PNG for a phone screen, drawn in the render workers.

Drawn with matplotlib's object-oriented API on the Agg canvas only (a new ``Figure`` per chart,
never pyplot and never the global rcParams), so charts can be drawn from several threads or in a
process pool. Every word comes from the catalogue in the person's language and every date from
Babel. Colours are Okabe-Ito, and each series also has its own marker, so nothing depends on
colour alone. What is drawn comes from ``bot.domain.progress.chart_series``; the caption and the
weekly look back are words only (``bot/rendering/progress_texts.py``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from bot.content import Catalogue, Content
from bot.domain.progress import (
    SAFETY_TIERS,
    ChartSeries,
    Direction,
    Progress,
    Status,
    chart_series,
    runs,
)
from bot.domain.safety import EXTENT_MAX, MEASURES, RATING_MAX
from bot.rendering.progress_texts import (
    DATE_STYLES,
    FULL_DATE,
    SHORT_DATE,
    format_day,
    plain_text,
)

# --- The chart -----------------------------------------------------------------------------------

WIDTH_PX = 1080  # what Telegram shows full width on a phone
HEIGHT_PX = 1350  # 4:5, shown uncropped in a chat
DPI = 100
PNG_COLOURS = 256
PNG_COMPRESS_LEVEL = 3  # flat colours compress well even when fast

# Okabe-Ito, with a marker per series so no series is told apart by colour alone.
COLOURS = {"pain": "#D55E00", "numbness": "#0072B2", "tingling": "#009E73", "extent": "#000000"}
MARKERS = {"pain": "o", "numbness": "s", "tingling": "^", "extent": "D"}
MARKER_SIZES = {"pain": 15.0, "numbness": 13.0, "tingling": 14.0, "extent": 12.0}
LINE_WIDTH = 4.0
FULL_MARKERS_PX_PER_DAY = 24  # below this, markers shrink ...
MIN_MARKER_SCALE = 0.5  # ... down to half their size
BASELINE_WIDTH = 2.5
BASELINE_DASHES = (0, (5, 3))
TIER_BOX = {  # fill, text colour: the box also carries the tier's word
    "emergency": ("#D55E00", "#FFFFFF"),
    "urgent": ("#D55E00", "#FFFFFF"),
    "soon": ("#E69F00", "#000000"),
    "stop_exercise": ("#CC79A7", "#000000"),
    "review": ("#56B4E9", "#000000"),
    "watch": ("#F0E442", "#000000"),
}
ADDED_COLOUR = "#000000"
LEFT_OUT_COLOUR = "#D55E00"
GRID_COLOUR = "#D9D9D9"
BAND_COLOUR = "#EFEFEF"
MUTED = "#555555"

TITLE_SIZE = 34
TEXT_SIZE = 23
LEGEND_SIZE = 22
TICK_SIZE = 22
LEVEL_SIZE = 16
LEVEL_OFFSET = 0.2  # of a level: the name sits just clear of the markers
MARK_SIZE = 22
BOX_SIZE = 19
BOX_PAD_PX = 8  # the rounded box around an advice label, each side
NOTE_SIZE = 18
MIN_TEXT_SIZE = 15  # a long translation shrinks to fit, down to this
MAX_DATE_TICKS = 7
TICK_PAD_PX = 10  # between an axis and its labels
TICK_STEPS = (1, 2, 3, 7, 14, 21, 28, 56, 91)

# Layout, in pixels from the top: explicit positions are much faster than a layout engine.
# Only the legend's rows and the rows of marks vary; the ratings panel gives up the height.
LEFT_PX, RIGHT_PX = 82, 34
PLOT_WIDTH_PX = WIDTH_PX - LEFT_PX - RIGHT_PX
TITLE_Y, SUBTITLE_Y, LEGEND_Y = 24, 80, 140
LEGEND_ROW_PX = 40
LEGEND_MARKER_PX = 58
LEGEND_TEXT_GAP_PX = 12
LEGEND_GAP_PX = 30
LANE_PX = 36  # one row of exercise changes
BOX_LANE_PX = 44  # one row of advice boxes
MAX_LANES = 3  # rows per kind of mark (exercise changes, advice); beyond that, neighbours merge
LABEL_GAP_PX = 14  # between two labels in one row
EDGE_PX = 12  # between a label and the edge of the image
PANEL_LABEL_PX = 46  # a panel's heading, above it
EXTENT_LABEL_Y, EXTENT_TOP, EXTENT_BOTTOM = 754, 800, 1196
# With PSFS ratings (issue 23, point 1) the leg panel gives up its lower part to a small panel.
# The ratings panel gives up FUNCTION_SHIFT_PX, so the leg panel keeps its height.
FUNCTION_SHIFT_PX, FUNCTION_EXTENT_BOTTOM, FUNCTION_TOP = 90, 980, 1060
FUNCTION_LEGEND_Y, FUNCTION_NOTE_Y = 1262, 1306
FUNCTION_COLOURS = ("#CC79A7", "#E69F00", "#56B4E9")  # Okabe-Ito, unused by the symptoms
FUNCTION_MARKERS = ("P", "X", "v")
RATINGS_GAP_PX = 24  # between the ratings panel and the heading of the next one
NOTE_Y = 1274


def _x(px: float) -> float:
    return px / WIDTH_PX


def _y(px: float) -> float:
    return 1 - px / HEIGHT_PX


def _rect(top: float, bottom: float) -> tuple[float, float, float, float]:
    """A figure-fraction rectangle from pixel rows, between the side margins."""
    return (_x(LEFT_PX), _y(bottom), _x(PLOT_WIDTH_PX), (bottom - top) / HEIGHT_PX)


# The fonts every text of the chart is drawn with (matplotlib's defaults: DejaVu Sans).
_REGULAR = FontProperties()
_BOLD = FontProperties(weight="bold")


@lru_cache(maxsize=4096)
def text_width_px(text: str, size: float, *, bold: bool = False) -> float:
    """The width the Agg canvas gives ``text``, from the font's own metrics.

    Lays out the legend and the marks without matplotlib's layout machinery. ``get_font`` keeps
    one font object per thread, so this is thread-safe; the same few labels come back in every
    chart, so their widths are kept.
    """
    font = get_font(findfont(_BOLD if bold else _REGULAR))
    font.set_size(size, DPI)
    font.set_text(text, 0.0)
    width, _height = font.get_width_height()
    return float(width) / 64  # FreeType's 26.6 fixed point


def _fitting_size(text: str, size: float, width_px: float, *, bold: bool = False) -> float:
    """The largest font size up to ``size`` at which ``text`` fits in ``width_px``."""
    natural = text_width_px(text, size, bold=bold)
    if natural <= width_px:
        return size
    return max(MIN_TEXT_SIZE, size * width_px / natural)


@dataclass(frozen=True)
class _Label:
    x: float  # day position
    text: str
    kind: str  # "added" | "left_out" | "safety"
    tier: str = ""
    middle_px: float = 0.0  # below the top of the rows of marks
    days: tuple[float, ...] = ()  # the x of each day it stands for: a leader line goes to each


def _stack(spans: Sequence[tuple[float, float]], *, crowd: bool = False) -> list[int] | None:
    """A row for each (left, right) span, greedy from left to right, so that none touch.

    None when that needs more than ``MAX_LANES`` rows, unless ``crowd``: then the row that
    frees up first takes the label, and labels may touch.
    """
    ends: list[float] = []
    lanes: list[int] = []
    for left, right in spans:
        lane = next((n for n, end in enumerate(ends) if end + LABEL_GAP_PX <= left), None)
        if lane is None and len(ends) < MAX_LANES:
            lane = len(ends)
            ends.append(right)
        elif lane is None:
            if not crowd:
                return None
            lane = min(range(len(ends)), key=lambda n: ends[n])
        ends[lane] = right
        lanes.append(lane)
    return lanes


def _severity(label: _Label) -> int:
    return SAFETY_TIERS.index(label.tier) if label.tier in SAFETY_TIERS else len(SAFETY_TIERS)


def _merge(cluster: Sequence[_Label]) -> _Label:
    """One label for labels too close to show apart: the most severe advice, or every change."""
    days = tuple(day for label in cluster for day in label.days)
    if cluster[0].kind == "safety":
        return replace(min(cluster, key=_severity), days=days)
    text = " ".join(label.text for label in cluster)
    kind = "left_out" if all(label.kind == "left_out" for label in cluster) else "added"
    return _Label((cluster[0].x + cluster[-1].x) / 2, text, kind, days=days)


def _mark_labels(series: ChartSeries, cat: Catalogue) -> tuple[list[_Label], float]:
    """The labels over the panels and the height they take.

    Exercise changes take the upper rows, advice the rows below them; a label moves to another
    row rather than touch its neighbour. When even ``MAX_LANES`` rows are not enough (days of
    advice in a row on a long chart), neighbours that touch become one label: the most severe
    advice, or the changes side by side; the report lists each of them.
    """
    px_per_day = PLOT_WIDTH_PX / series.days
    changes = [
        _Label(
            series.x_of(mark.local_date) + 0.5,
            plain_text(cat.text(f"progress.chart.{mark.change}", number=mark.exercise)),
            mark.change,
            days=(series.x_of(mark.local_date) + 0.5,),
        )
        for mark in series.marks
    ]
    advice = [
        _Label(
            series.x_of(mark.local_date) + 0.5,
            plain_text(cat.text(f"progress.chart.tier.{mark.tier}")),
            "safety",
            mark.tier,
            days=(series.x_of(mark.local_date) + 0.5,),
        )
        for mark in series.safety
    ]

    def half_width(label: _Label) -> float:
        boxed = label.kind == "safety"
        half = text_width_px(label.text, BOX_SIZE if boxed else MARK_SIZE, bold=not boxed) / 2
        return half + (BOX_PAD_PX if boxed else 0)

    def inside(label: _Label) -> _Label:
        """The label moved just enough to stay on the image (its line stays on its day)."""
        half = half_width(label)
        centre = label.x * px_per_day
        centre = max(centre, -LEFT_PX + EDGE_PX + half)
        centre = min(centre, PLOT_WIDTH_PX + RIGHT_PX - EDGE_PX - half)
        return replace(label, x=centre / px_per_day)

    def span(label: _Label) -> tuple[float, float]:
        half = half_width(label)
        return label.x * px_per_day - half, label.x * px_per_day + half

    def clusters(labels: Sequence[_Label]) -> list[list[_Label]]:
        groups: list[list[_Label]] = []
        right = float("-inf")
        for label in labels:
            left, end = span(label)
            if groups and left < right + LABEL_GAP_PX:
                groups[-1].append(label)
                right = max(right, end)
            else:
                groups.append([label])
                right = end
        return groups

    placed: list[_Label] = []
    top = 0.0
    for group, height in ((changes, LANE_PX), (advice, BOX_LANE_PX)):
        group = sorted((inside(label) for label in group), key=lambda label: label.x)
        lanes = _stack([span(label) for label in group])
        if lanes is None:
            group = [inside(_merge(cluster)) for cluster in clusters(group)]
            lanes = _stack([span(label) for label in group], crowd=True) or []
        for label, lane in zip(group, lanes, strict=True):
            placed.append(replace(label, middle_px=top + (lane + 0.5) * height))
        top += (max(lanes, default=-1) + 1) * height
    return placed, top


def _draw_marks(
    fig: Figure,
    panels: Sequence[Axes],
    series: ChartSeries,
    labels: Sequence[_Label],
    strip_top: float,
) -> None:
    """Exercise changes ("+2", "−4") and advice (a labelled box) over their day.

    A dotted line runs down through both panels on each day with a mark, and a thin leader
    joins each label to its day's line (a label moved to stay on the image, or standing for
    neighbours merged into one, still points at each of its days).
    """
    on_days = blended_transform_factory(panels[0].transData, fig.transFigure)
    panel_top = panels[0].get_position().y1
    for label in labels:
        y = _y(strip_top + label.middle_px)
        # A leader from the label down to its own day's line, so no label floats on its own.
        half = (BOX_LANE_PX if label.kind == "safety" else LANE_PX) / 2
        below = _y(strip_top + label.middle_px + half - 4)
        colour = LEFT_OUT_COLOUR if label.kind == "left_out" else "#000000"
        for day in label.days:
            fig.add_artist(
                Line2D(
                    [label.x, label.x, day],
                    [below, below - 0.004, panel_top],
                    transform=on_days,
                    color=colour,
                    linewidth=1.5,
                    alpha=0.8,
                )
            )
        if label.kind == "safety":
            fill, ink = TIER_BOX[label.tier]
            box = {"boxstyle": "round,pad=0.25", "facecolor": fill, "edgecolor": "#000000"}
            fig.text(
                label.x,
                y,
                label.text,
                transform=on_days,
                ha="center",
                va="center",
                fontsize=BOX_SIZE,
                color=ink,
                bbox=box,
            )
        else:
            fig.text(
                label.x,
                y,
                label.text,
                transform=on_days,
                ha="center",
                va="center",
                fontsize=MARK_SIZE,
                fontweight="bold",
                color=LEFT_OUT_COLOUR if label.kind == "left_out" else ADDED_COLOUR,
                # White behind the label: a leader from a higher row passes under it.
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "#FFFFFF", "edgecolor": "none"},
            )
    # One line a day with a mark; an exercise left out wins over the advice that left it out,
    # advice over an addition (drawn light: additions are many and come early).
    lines = {series.x_of(mark.local_date) + 0.5: "added" for mark in series.marks}
    for advice in series.safety:
        lines[series.x_of(advice.local_date) + 0.5] = "safety"
    for change in series.marks:
        if change.change == "left_out":
            lines[series.x_of(change.local_date) + 0.5] = "left_out"
    for x, kind in lines.items():
        if kind == "left_out":
            colour, dashes = LEFT_OUT_COLOUR, (0, (2, 3))
        elif kind == "safety":
            colour, dashes = "#000000", (0, (1, 2))
        else:
            colour, dashes = "#999999", (0, (1, 3))
        for ax in panels:
            ax.axvline(x, color=colour, linewidth=2, linestyle=dashes, zorder=1)


def _legend_entries(cat: Catalogue) -> list[tuple[str, str, float, int]]:
    """(series, name, left px, row) for a legend that wraps to a second row if it must."""
    names = [(m, plain_text(cat.text(f"progress.chart.{m}"))) for m in MEASURES]
    names.append(("start", plain_text(cat.text("progress.chart.start"))))
    entries = []
    x, row = float(LEFT_PX), 0
    for key, name in names:
        width = LEGEND_MARKER_PX + LEGEND_TEXT_GAP_PX + text_width_px(name, LEGEND_SIZE)
        if x + width > WIDTH_PX - RIGHT_PX and x > LEFT_PX:
            x, row = float(LEFT_PX), row + 1
        entries.append((key, name, x, row))
        x += width + LEGEND_GAP_PX
    return entries


def _draw_legend(fig: Figure, entries: Sequence[tuple[str, str, float, int]]) -> None:
    """The legend drawn by hand: matplotlib's own costs a sixth of the whole chart."""
    for key, name, x, row in entries:
        y = _y(LEGEND_Y + row * LEGEND_ROW_PX)
        line_x = [_x(x), _x(x + LEGEND_MARKER_PX)]
        if key == "start":
            style: dict[str, Any] = {"color": MUTED, "linewidth": BASELINE_WIDTH}
            style["linestyle"] = BASELINE_DASHES
        else:
            style = {"color": COLOURS[key], "linewidth": LINE_WIDTH}
        fig.add_artist(Line2D(line_x, [y, y], transform=fig.transFigure, **style))
        if key != "start":
            fig.add_artist(
                Line2D(
                    [_x(x + LEGEND_MARKER_PX / 2)],
                    [y],
                    color=COLOURS[key],
                    marker=MARKERS[key],
                    markersize=MARKER_SIZES[key],
                    markeredgecolor="#FFFFFF",
                    markeredgewidth=1.5,
                    transform=fig.transFigure,
                )
            )
        text_x = _x(x + LEGEND_MARKER_PX + LEGEND_TEXT_GAP_PX)
        fig.text(text_x, y, name, fontsize=LEGEND_SIZE, va="center_baseline")


def _tick_step(days: int) -> int:
    for step in TICK_STEPS:
        if days / step <= MAX_DATE_TICKS:
            return step
    return TICK_STEPS[-1]


def _style_axes(
    ax: Axes,
    days: int,
    ticks: Sequence[float],
    height_px: float,
    y_ticks: Sequence[int],
    *,
    y_grid: bool,
    x_labels: Sequence[str] = (),
) -> None:
    """Grid lines and tick labels drawn as plain lines and texts.

    Matplotlib's tick objects (two lines and two texts each, created and laid out one by one)
    cost about a tenth of a chart; these few plain artists draw the same thing.
    """
    ax.set_xlim(0, days)
    ax.set_xticks([])
    ax.set_yticks([])
    grid: dict[str, Any] = {"color": GRID_COLOUR, "linewidth": 1.2, "zorder": 0}
    ax.vlines(ticks, 0, 1, transform=ax.get_xaxis_transform(), **grid)
    if y_grid:
        ax.hlines(y_ticks, 0, 1, transform=ax.get_yaxis_transform(), **grid)
    on_y = blended_transform_factory(ax.transAxes, ax.transData)
    for value in y_ticks:
        ax.text(
            -TICK_PAD_PX / PLOT_WIDTH_PX,
            value,
            str(value),
            transform=on_y,
            fontsize=TICK_SIZE,
            ha="right",
            va="center_baseline",
            clip_on=False,
        )
    on_x = blended_transform_factory(ax.transData, ax.transAxes)
    for x, label in zip(ticks, x_labels, strict=False):
        ax.text(
            x,
            -TICK_PAD_PX / height_px,
            label,
            transform=on_x,
            fontsize=TICK_SIZE,
            ha="center",
            va="top",
            clip_on=False,
        )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
        ax.spines[side].set_linewidth(1.5)


def _marker_scale(series: ChartSeries) -> float:
    """Smaller markers on a long chart, so that daily points do not merge into a chain."""
    px_per_day = PLOT_WIDTH_PX / series.days
    return min(1.0, max(MIN_MARKER_SCALE, px_per_day / FULL_MARKERS_PX_PER_DAY))


def _plot(ax: Axes, series: ChartSeries, measure: str) -> None:
    """The measure's points, joined only across consecutive days: a day without ratings (a
    skipped or unanswered routine) leaves a gap in the line."""
    for run in runs(series.points[measure]):
        ax.plot(
            [p.x for p in run],
            [p.value for p in run],
            color=COLOURS[measure],
            marker=MARKERS[measure],
            markersize=MARKER_SIZES[measure] * _marker_scale(series),
            linewidth=LINE_WIDTH,
            markeredgecolor="#FFFFFF",
            markeredgewidth=1.5,
            solid_capstyle="round",
            solid_joinstyle="round",
            zorder=3,
            clip_on=False,
        )
    if measure in series.baseline:
        ax.axhline(
            series.baseline[measure],
            color=COLOURS[measure],
            linewidth=BASELINE_WIDTH,
            linestyle=BASELINE_DASHES,
            alpha=0.85,
            zorder=2,
        )


def _draw_function(fig: Figure, ax: Axes, series: ChartSeries, progress: Progress) -> None:
    """PSFS (issue 23, point 1): each activity's ratings, 0 unable to 10 as before, named in a
    row under the dates. Ratings come a week apart, so the line joins them."""
    ax.set_ylim(-0.8, RATING_MAX + 0.8)
    x = float(LEFT_PX)
    for index, activity in enumerate(progress.function[: len(FUNCTION_COLOURS)]):
        style: dict[str, Any] = {
            "color": FUNCTION_COLOURS[index],
            "marker": FUNCTION_MARKERS[index],
            "markersize": 11,
            "markeredgecolor": "#FFFFFF",
        }
        ax.plot(
            [series.x_of(day) + 0.5 for day, _ in activity.ratings],
            [value for _, value in activity.ratings],
            linewidth=3,
            zorder=3,
            **style,
        )
        y = _y(FUNCTION_LEGEND_Y)
        fig.add_artist(
            Line2D([_x(x), _x(x + 40)], [y, y], transform=fig.transFigure, linewidth=3, **style)
        )
        fig.text(_x(x + 48), y, activity.label, fontsize=NOTE_SIZE, va="center_baseline")
        x += 48 + text_width_px(activity.label, NOTE_SIZE) + LEGEND_GAP_PX


def _draw_levels(ax: Axes, cat: Catalogue) -> None:
    """One band per level of the furthest point, its name in the band's upper part.

    Long names stay readable at phone size without a wide margin, and the line runs along the
    band's middle, under the name.
    """
    ax.set_ylim(-0.5, EXTENT_MAX + 0.5)
    on_left = blended_transform_factory(ax.transAxes, ax.transData)
    for level in range(EXTENT_MAX + 1):
        if level % 2:
            ax.axhspan(level - 0.5, level + 0.5, color=BAND_COLOUR, zorder=0, linewidth=0)
        name = plain_text(cat.text(f"measures.extent.{level}"))
        size = _fitting_size(name, LEVEL_SIZE, PLOT_WIDTH_PX - 24)
        ax.text(
            0.012,
            level + LEVEL_OFFSET,
            name,
            transform=on_left,
            fontsize=size,
            color=MUTED,
            va="bottom",
            # Above the line where it moves between levels, on the band's colour: always legible.
            zorder=4,
            bbox={
                "boxstyle": "square,pad=0.1",
                "facecolor": BAND_COLOUR if level % 2 else "#FFFFFF",
                "edgecolor": "none",
                "alpha": 0.9,
            },
        )


def _heading(fig: Figure, y_px: float, text: str, size: float, **style: Any) -> None:
    """A line of text at the left margin, shrunk if a translation is too long for one line."""
    bold = style.get("fontweight") == "bold"
    size = _fitting_size(text, size, PLOT_WIDTH_PX, bold=bold)
    fig.text(_x(LEFT_PX), _y(y_px), text, fontsize=size, va="top", **style)


def render_chart(progress: Progress, content: Content) -> bytes:
    """The progress chart as a PNG, 1080 x 1350 px (see ``has_enough_for_chart``)."""
    cat = content.catalogue
    language = progress.language
    series = chart_series(progress)
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="#FFFFFF")
    canvas = FigureCanvasAgg(fig)

    legend = _legend_entries(cat)
    labels, strip_height = _mark_labels(series, cat)
    # The ratings panel's heading comes above the rows of marks, so each mark's leader runs
    # straight down into the panel without crossing any text.
    ratings_label = LEGEND_Y + max(row for *_, row in legend) * LEGEND_ROW_PX + 36
    strip_top = ratings_label + PANEL_LABEL_PX
    ratings_top = strip_top + strip_height + 8
    function = progress.function
    shift = FUNCTION_SHIFT_PX if function else 0
    extent_top = EXTENT_TOP - shift
    ratings_bottom = EXTENT_LABEL_Y - shift - RATINGS_GAP_PX

    _heading(
        fig, TITLE_Y, plain_text(cat.text("progress.chart.title")), TITLE_SIZE, fontweight="bold"
    )
    span = cat.text(
        "progress.chart.dates",
        first=format_day(series.first, cat, language, FULL_DATE),
        last=format_day(series.last, cat, language, FULL_DATE),
    )
    _heading(fig, SUBTITLE_Y, plain_text(span), TEXT_SIZE, color=MUTED)
    _draw_legend(fig, legend)
    headings = [("ratings", ratings_label), ("extent", extent_top - PANEL_LABEL_PX)]
    extent_bottom = FUNCTION_EXTENT_BOTTOM if function else EXTENT_BOTTOM
    if function:
        headings.append(("function", FUNCTION_TOP - PANEL_LABEL_PX))
    for key, y_px in headings:
        text = plain_text(cat.text(f"progress.chart.{key}"))
        _heading(fig, y_px, text, TEXT_SIZE, fontweight="bold")

    step = _tick_step(series.days)
    ticks = [n + 0.5 for n in range(0, series.days, step)]
    ratings = fig.add_axes(_rect(ratings_top, ratings_bottom))
    ratings.set_ylim(-0.6, RATING_MAX + 0.6)
    rating_ticks = range(0, RATING_MAX + 1, 2)
    _style_axes(
        ratings, series.days, ticks, ratings_bottom - ratings_top, rating_ticks, y_grid=True
    )
    extent = fig.add_axes(_rect(extent_top, extent_bottom))
    dates = [format_day(d, cat, language, SHORT_DATE) for d in series.dates[::step]]
    _style_axes(
        extent,
        series.days,
        ticks,
        extent_bottom - extent_top,
        range(EXTENT_MAX + 1),
        y_grid=False,
        x_labels=() if function else dates,
    )
    for measure in MEASURES:
        _plot(ratings, series, measure)
    _draw_levels(extent, cat)
    _plot(extent, series, "extent")
    panels = [ratings, extent]
    if function:
        panel = fig.add_axes(_rect(FUNCTION_TOP, EXTENT_BOTTOM))
        _style_axes(
            panel, series.days, ticks, EXTENT_BOTTOM - FUNCTION_TOP, (0, 5, 10), y_grid=True,
            x_labels=dates,
        )  # fmt: skip
        _draw_function(fig, panel, series, progress)
        panels.append(panel)
    _draw_marks(fig, panels, series, labels, strip_top)
    note = plain_text(cat.text("progress.chart.marks_note"))
    _heading(fig, FUNCTION_NOTE_Y if function else NOTE_Y, note, NOTE_SIZE, color=MUTED)
    return _png(canvas)


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The drawn canvas as a 256-colour PNG.

    A chart has a few flat colours and their anti-aliased edges: a palette loses nothing visible
    (a few levels on some edge pixels), and the file is a third of the size and faster to write
    than RGBA, which matters at thousands of charts a morning.
    """
    # backend_agg.py carries no annotations (the rest of matplotlib does).
    canvas.draw()  # type: ignore[no-untyped-call]
    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(
        PNG_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    buffer = io.BytesIO()
    palette.save(buffer, "png", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


REQUIRED_KEYS: tuple[str, ...] = (
    "progress.not_enough",
    "progress.title",
    "progress.routines",
    *(f"progress.pain.{d.value}" for d in Direction),
    "progress.pain.improved",
    *(f"progress.{m}.{d}" for m in (*MEASURES[1:], "extent") for d in ("rose", "fell")),
    *(f"progress.next.{s.value}" for s in Status),
    "progress.next.on_hold",
    *(f"progress.format.{style}" for style in DATE_STYLES),
    *(
        f"progress.chart.{k}"
        for k in (
            "title",
            "dates",
            "ratings",
            "extent",
            *MEASURES,
            "start",
            "added",
            "left_out",
            "marks_note",
            "function",
        )
    ),
    *(f"progress.chart.tier.{tier}" for tier in TIER_BOX),
    *(f"measures.extent.{level}" for level in range(EXTENT_MAX + 1)),
    "weekly.title",
    "weekly.routines",
    "weekly.this_week",
    "weekly.this_week_one",
    "weekly.advice",
    "weekly.no_check_ins",
    *(f"weekly.since.{d.value}" for d in Direction),
    "weekly.since.improved",
    *(f"weekly.tier.{tier}" for tier in SAFETY_TIERS),
)
"""Every key this module reads, so a test (and a translation check) can find a missing one."""
