"""The one-page PDF summary for a doctor or physiotherapist (/report), drawn with fpdf2.

One A4 page read in a minute: what was measured at the start and now, the chart, the exercises,
every warning sign and piece of advice with its date, adherence, and the check-ins that fit.
DejaVu Sans from matplotlib's data folder is embedded (subset), so accents work and the file
needs nothing from the reader's machine. No name or username appears: the bot stores none.
Every word comes from the catalogue (tags stripped) and every date from Babel. Drawn in the
render workers (``bot/rendering/offload.py``); the file's name is in ``progress_texts.py``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import matplotlib
from babel.lists import format_list
from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos

from bot.content import Catalogue, Content, placeholders
from bot.domain.function import summarize
from bot.domain.program import EXERCISE_ORDER
from bot.domain.progress import (
    Direction,
    Event,
    Notable,
    Progress,
    Status,
    notable_days,
    trend,
    week_rows,
)
from bot.domain.safety import (
    IMPROVED_FRACTION,
    IMPROVED_POINTS,
    MEASURES,
    WORSE_FRACTION,
    WORSE_POINTS,
)
from bot.rendering.activity_texts import report_text as function_report_text
from bot.rendering.charts import HEIGHT_PX, WIDTH_PX
from bot.rendering.progress_texts import (
    FULL_DATE,
    SHORT_DATE,
    babel_locale,
    format_day,
    plain_text,
)

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"

# A4 in millimetres.
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
MARGIN = 12.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
CHART_WIDTH = 70.0
CHART_HEIGHT = CHART_WIDTH * HEIGHT_PX / WIDTH_PX
COLUMN_GAP = 6.0
SIDE_X = MARGIN + CHART_WIDTH + COLUMN_GAP
SIDE_WIDTH = WIDTH - CHART_WIDTH - COLUMN_GAP

TITLE_SIZE = 13.5
HEADING_SIZE = 10.0
TEXT_SIZE = 8.5
TABLE_SIZE = 7.5
NOTE_SIZE = 7.0
LINE = 4.0  # mm per line of body text
ROW = 3.9  # mm per line of a table row
CELL_PADDING = 1.0  # mm left and right inside a table cell
HEADING_GAP = 2.5

INK = (0, 0, 0)
MUTED = (85, 85, 85)
RULE = (170, 170, 170)
ZEBRA = (242, 242, 242)
HEADER_FILL = (225, 225, 225)

SERIOUS = frozenset({"emergency", "urgent"})  # in bold in the events table
WATCH_ROWS = 3  # a "watch" verdict given more often than this shares one row


# --- Drawing helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    width: float
    align: Align = Align.L


class _Pdf:
    """An FPDF page with the few drawing moves this report needs."""

    def __init__(self, progress: Progress, cat: Catalogue) -> None:
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.c_margin = CELL_PADDING  # inside every cell, single-line or wrapped alike
        pdf.add_font(FAMILY, "", REGULAR_FONT)
        pdf.add_font(FAMILY, "B", BOLD_FONT)
        pdf.set_lang(progress.language)
        pdf.set_title(plain_text(cat.text("report.title")))
        # The day the summary is made, not the clock: the same history gives the same file.
        pdf.set_creation_date(datetime.combine(progress.today, time(), tzinfo=UTC))
        pdf.add_page()
        self.pdf = pdf

    @property
    def y(self) -> float:
        return self.pdf.get_y()

    def font(self, size: float, *, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font(FAMILY, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def lines(self, text: str, width: float) -> list[str]:
        """``text`` wrapped to ``width`` in the current font."""
        result = self.pdf.multi_cell(
            width,
            LINE,
            text,
            dry_run=True,
            output=MethodReturnValue.LINES,
        )
        assert isinstance(result, list)
        return [str(line) for line in result] or [""]

    def paragraph(
        self, text: str, *, x: float = MARGIN, width: float = WIDTH, height: float = LINE
    ) -> None:
        self.pdf.set_x(x)
        self.pdf.multi_cell(width, height, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str, *, x: float = MARGIN, width: float = WIDTH) -> None:
        self.pdf.set_y(self.y + HEADING_GAP)
        self.font(HEADING_SIZE, bold=True)
        self.pdf.set_x(x)
        self.pdf.cell(width, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.3)
        self.pdf.line(x, self.y, x + width, self.y)
        self.pdf.set_y(self.y + 0.8)

    def fits(self, text: str, width: float) -> bool:
        """Whether ``text`` fits on one line of ``width`` (with the cells' padding)."""
        return self.pdf.get_string_width(text) <= width - 2 * CELL_PADDING

    def line_count(self, text: str, width: float) -> int:
        # Measuring is much cheaper than a dry run, and most cells are one short line.
        return 1 if self.fits(text, width) else len(self.lines(text, width))

    def row_height(
        self,
        cells: Sequence[str],
        columns: Sequence[_Column],
        *,
        bold: Sequence[bool] = (),
        size: float = TABLE_SIZE,
    ) -> float:
        """The height of a table row: its tallest cell, each measured in its own font."""
        counts = []
        for index, (text, column) in enumerate(zip(cells, columns, strict=True)):
            self.font(size, bold=index < len(bold) and bold[index])
            counts.append(self.line_count(text, column.width))
        return ROW * max(counts)

    def row(
        self,
        cells: Sequence[str],
        columns: Sequence[_Column],
        *,
        x: float = MARGIN,
        fill: tuple[int, int, int] | None = None,
        bold: Sequence[bool] = (),
        size: float = TABLE_SIZE,
        colour: tuple[int, int, int] = INK,
    ) -> float:
        """One table row, cells wrapped to their column; returns its height."""
        pdf = self.pdf
        top = self.y
        height = self.row_height(cells, columns, bold=bold, size=size)
        if fill is not None:
            pdf.set_fill_color(*fill)
            pdf.rect(x, top, sum(c.width for c in columns), height, style="F")
        left = x
        for index, (text, column) in enumerate(zip(cells, columns, strict=True)):
            self.font(size, bold=index < len(bold) and bold[index], colour=colour)
            pdf.set_xy(left, top)
            if self.fits(text, column.width):
                pdf.cell(column.width, ROW, text, align=column.align)
            else:
                pdf.multi_cell(column.width, ROW, text, align=column.align, new_y=YPos.TOP)
            left += column.width
        pdf.set_xy(x, top + height)
        return height


# --- Sections ------------------------------------------------------------------------------------


def _dates(progress: Progress) -> tuple[date, date]:
    known = [p.local_date for p in progress.points]
    if progress.program_start is not None:
        known.append(progress.program_start)
    return min(known, default=progress.today), progress.today


def _header(page: _Pdf, progress: Progress, cat: Catalogue) -> None:
    language = progress.language

    def day(value: date) -> str:
        return format_day(value, cat, language, FULL_DATE)

    first, last = _dates(progress)
    page.font(TITLE_SIZE, bold=True)
    page.paragraph(plain_text(cat.text("report.title")), height=6.5)
    page.pdf.set_y(page.y + 1)
    page.font(TEXT_SIZE)
    covers = cat.text(
        "report.covers",
        first=day(first),
        last=day(last),
        today=day(progress.today),
        zone=progress.time_zone,
    )
    page.paragraph(plain_text(covers))
    if progress.program_start is not None:
        started = cat.text("report.program_start", date=day(progress.program_start))
    else:
        started = cat.text("report.program_not_started")
    duration = cat.text(f"report.duration.{progress.symptom_duration or 'unknown'}")
    side = cat.text(f"report.side.{progress.symptom_side or 'unknown'}")
    page.paragraph(f"{plain_text(started)} {plain_text(duration)} {plain_text(side)}")
    page.paragraph(plain_text(_screening(progress, cat)))
    adherence = cat.text(
        "report.adherence",
        done=progress.routines_done,
        sent=progress.routines_sent,
        stopped=progress.routines_stopped,
        skipped=progress.routines_skipped,
        no_answer=progress.routines_unanswered,
    )
    page.font(TEXT_SIZE, bold=True)
    page.paragraph(plain_text(adherence))


def _screening(progress: Progress, cat: Catalogue) -> str:
    """The warning-sign questions at the start: which signs, and what advice they led to."""
    screening = progress.screening
    if screening is None:
        return cat.text("report.screening.unknown")
    on = format_day(screening.local_date, cat, progress.language, FULL_DATE)
    if not screening.signals:
        return cat.text("report.screening.none", date=on)
    names = [
        cat.text(f"stop_signals.{s}.short") if cat.has(f"stop_signals.{s}.short") else s
        for s in screening.signals
    ]
    signs = format_list(names, locale=babel_locale(progress.language))
    advice = (
        cat.text(f"report.tier.{screening.tier}")
        if screening.tier is not None
        else cat.text("report.screening.no_advice")
    )
    return cat.text("report.screening.signs", date=on, signs=signs, advice=advice)


def _signed(change: int) -> str:
    # A true minus sign: a hyphen reads as a dash in a table.
    return f"+{change}" if change > 0 else f"−{-change}" if change < 0 else "0"


def _extent_name(cat: Catalogue, level: int) -> str:
    return plain_text(cat.text(f"measures.extent.{level}"))


def _summary(page: _Pdf, progress: Progress, cat: Catalogue) -> None:
    """Start against latest, per measure, with what each change means (clinical.md §4)."""
    language = progress.language
    page.heading(plain_text(cat.text("report.section.summary")))
    result = trend(progress)
    if result.start is None or result.latest is None or result.status is None:
        page.font(TEXT_SIZE)
        baseline = progress.baseline
        if baseline is None:
            page.paragraph(plain_text(cat.text("report.no_baseline")))
        else:
            text = cat.text(
                "report.baseline",
                date=format_day(baseline.local_date, cat, language, FULL_DATE),
                pain=baseline.pain,
                numbness=baseline.numbness,
                tingling=baseline.tingling,
                extent=_extent_name(cat, baseline.extent),
            )
            page.paragraph(plain_text(text))
        return
    columns = (_Column(30), _Column(48), _Column(48), _Column(WIDTH - 126))
    header = (
        plain_text(cat.text("report.column.measure")),
        plain_text(
            cat.text(
                "report.column.start_on",
                date=format_day(result.start.local_date, cat, language, SHORT_DATE),
            )
        ),
        plain_text(
            cat.text(
                "report.column.latest_on",
                date=format_day(result.latest.local_date, cat, language, SHORT_DATE),
            )
        ),
        plain_text(cat.text("report.column.change")),
    )
    page.row(header, columns, fill=HEADER_FILL, bold=(True,) * 4)
    for index, change in enumerate(result.changes):
        name = plain_text(cat.text(f"report.measure.{change.measure}"))
        if change.measure in MEASURES:
            start, latest = str(change.start), str(change.latest)
            if change.measure == "pain" and result.improved:
                key = "report.change.improved"
            else:
                key = f"report.change.{change.direction.value}"
            meaning = cat.text(key, change=_signed(change.change))
        else:
            start, latest = _extent_name(cat, change.start), _extent_name(cat, change.latest)
            # One level is a whole change for the furthest point: rose, same or fell.
            meaning = cat.text(f"report.extent_change.{change.direction.value}")
        worse = change.direction is Direction.ROSE
        page.row(
            (name, start, latest, plain_text(meaning)),
            columns,
            fill=ZEBRA if index % 2 else None,
            bold=(False, False, False, worse),
        )
    page.pdf.set_y(page.y + 1)
    page.font(TEXT_SIZE, bold=True)
    page.paragraph(plain_text(cat.text(f"report.status.{result.status.value}")))


def _chart(page: _Pdf, chart_png: bytes | None, cat: Catalogue, top: float) -> float:
    """The chart at the left of the middle band; returns the band's bottom."""
    if chart_png is None:
        page.pdf.set_xy(MARGIN, top)
        page.font(TEXT_SIZE, colour=MUTED)
        page.paragraph(plain_text(cat.text("report.no_chart")), width=CHART_WIDTH)
        return page.y
    page.pdf.image(io.BytesIO(chart_png), x=MARGIN, y=top, w=CHART_WIDTH, h=CHART_HEIGHT)
    page.pdf.set_draw_color(*RULE)
    page.pdf.set_line_width(0.2)
    page.pdf.rect(MARGIN, top, CHART_WIDTH, CHART_HEIGHT)
    return top + CHART_HEIGHT


def _exercises(page: _Pdf, progress: Progress, content: Content, top: float) -> None:
    """Each exercise: when it was added, and whether it is in the routine or left out, and why."""
    cat = content.catalogue
    language = progress.language
    added: dict[int, date] = {}
    dropped: dict[int, date] = {}
    for mark in progress.marks:
        (added if mark.change == "added" else dropped)[mark.exercise] = mark.local_date
    left_out = dict(progress.exercises_left_out)
    page.pdf.set_y(top - HEADING_GAP)
    page.heading(plain_text(cat.text("report.section.exercises")), x=SIDE_X, width=SIDE_WIDTH)
    columns = (_Column(SIDE_WIDTH - 50), _Column(14), _Column(36))
    header = tuple(plain_text(cat.text(f"report.column.{k}")) for k in ("exercise", "added", "now"))
    page.row(header, columns, x=SIDE_X, fill=HEADER_FILL, bold=(True,) * 3)
    for index, number in enumerate(EXERCISE_ORDER):
        name = f"{number}. {content.exercise(number).name}"
        when = added.get(number)
        if number in left_out:
            reason_key = f"report.excluded.{left_out[number]}"
            reason = cat.text(reason_key) if cat.has(reason_key) else left_out[number]
            on = dropped.get(number)
            if on is None:
                now = cat.text("report.exercise.left_out_undated", reason=reason)
            else:
                now = cat.text(
                    "report.exercise.left_out",
                    date=format_day(on, cat, language, SHORT_DATE),
                    reason=reason,
                )
        elif number in progress.exercises_in_routine:
            now = cat.text("report.exercise.in_routine")
        else:
            now = cat.text("report.exercise.not_added")
        cells = (
            name,
            format_day(when, cat, language, SHORT_DATE) if when is not None else "–",
            plain_text(now),
        )
        page.row(cells, columns, x=SIDE_X, fill=ZEBRA if index % 2 else None)


def _advice_title(event: Event, content: Content) -> str:
    """The verdict's title as the person saw it, with the exercise it left out if known."""
    cat = content.catalogue
    key = f"verdict.{event.what}.title"
    if not cat.has(key):
        return ""
    needs = placeholders(cat.texts[key])
    if not needs:
        return cat.text(key)
    if event.exercise is None or not needs <= {"number", "name"}:
        return cat.text("report.event.exercise_left_out")
    return cat.text(key, number=event.exercise, name=content.exercise(event.exercise).name)


def _note_height(page: _Pdf, text: str) -> float:
    page.font(NOTE_SIZE, colour=MUTED)
    return len(page.lines(text, WIDTH)) * 3.2


def _note(page: _Pdf, text: str, height: float) -> None:
    top = PAGE_HEIGHT - MARGIN - height
    page.pdf.set_draw_color(*RULE)
    page.pdf.set_line_width(0.3)
    page.pdf.line(MARGIN, top - 1.5, MARGIN + WIDTH, top - 1.5)
    page.pdf.set_xy(MARGIN, top)
    page.font(NOTE_SIZE, colour=MUTED)
    page.paragraph(text, height=3.2)


class _Flow:
    """Rows that go on below the chart and onto a second page rather than be left out.

    ``limit`` is where the current page's room ends (above the note); a new page repeats the
    section's heading (marked as continued) and its header row.
    """

    def __init__(self, page: _Pdf, note: str, cat: Catalogue) -> None:
        self.page = page
        self.note = note
        self.cat = cat
        self.limit = PAGE_HEIGHT - MARGIN - _note_height(page, note) - 3

    def new_page(self, heading: str, header: Sequence[str], columns: Sequence[_Column]) -> None:
        page = self.page
        _note(page, self.note, _note_height(page, self.note))
        page.pdf.add_page()
        page.pdf.set_y(MARGIN - HEADING_GAP)
        continued = plain_text(self.cat.text("report.continued", section=heading))
        page.heading(continued)
        page.row(header, columns, fill=HEADER_FILL, bold=(True,) * len(header))


def _notable_cells(notable: Notable, progress: Progress, content: Content) -> tuple[str, str, str]:
    cat = content.catalogue
    language = progress.language

    def day(value: date) -> str:
        return format_day(value, cat, language, SHORT_DATE)

    def exercise(number: int) -> str:
        return f"{number}. {content.exercise(number).name}"

    when = day(notable.local_date)
    if notable.kind == "advice":
        tier = plain_text(cat.text(f"report.tier.{notable.tier}")) if notable.tier else ""
        event = Event(notable.local_date, "advice", notable.tier, notable.what, notable.exercise)
        return when, tier, plain_text(_advice_title(event, content))
    what = plain_text(cat.text(f"report.notable.{notable.kind}"))
    if notable.kind == "added" and notable.exercise is not None:
        return when, what, exercise(notable.exercise)
    if notable.kind == "left_out" and notable.exercise is not None:
        detail = exercise(notable.exercise)
        if notable.reason is not None:
            key = f"report.excluded.{notable.reason}"
            reason = cat.text(key) if cat.has(key) else notable.reason
            detail = plain_text(cat.text("report.notable.left_out_why", name=detail, reason=reason))
        return when, what, detail
    if notable.kind == "skipped" and notable.until is not None:
        detail = cat.text(
            "report.notable.skipped_days", count=notable.count, last=day(notable.until)
        )
        return when, what, plain_text(detail)
    event = Event(notable.local_date, "advice", notable.tier, notable.what, notable.exercise)
    if notable.kind == "released":  # the hold's level names which advice it ends
        return when, what, plain_text(cat.text(f"report.tier.{notable.tier}"))
    key = f"stop_signals.{notable.what}.short"
    return when, what, plain_text(cat.text(key) if cat.has(key) else notable.what)


def _notable_rows(progress: Progress, content: Content) -> list[tuple[tuple[str, str, str], bool]]:
    """The notable days, in date order, and whether each is an emergency or urgent.

    A "watch" advice given more often than ``WATCH_ROWS`` times shares one row that lists its
    dates: it changed nothing, and a long column of them would crowd out the rest.
    """
    cat = content.catalogue
    found = notable_days(progress)
    repeated: dict[str, list[Notable]] = {}
    for notable in found:
        if notable.kind == "advice" and notable.tier == "watch":
            repeated.setdefault(notable.what, []).append(notable)
    grouped = {what: group for what, group in repeated.items() if len(group) > WATCH_ROWS}
    rows = []
    language = progress.language
    for index, notable in enumerate(found):
        if notable.kind == "added" and index and found[index - 1].kind == "added":
            continue  # in the row of the first of these additions
        if notable.kind == "added" and index + 1 < len(found) and found[index + 1].kind == "added":
            # Exercises added one after another share a row (the Exercises table names them).
            run = []
            for following in found[index:]:
                if following.kind != "added":
                    break
                run.append(following)
            items = [
                cat.text(
                    "report.notable.added_on",
                    number=n.exercise,
                    date=format_day(n.local_date, cat, language, SHORT_DATE),
                )
                for n in run
            ]
            listed = plain_text(format_list(items, locale=babel_locale(language)))
            when = format_day(notable.local_date, cat, language, SHORT_DATE)
            rows.append(((when, plain_text(cat.text("report.notable.added_many")), listed), False))
            continue
        watch = notable.kind == "advice" and notable.tier == "watch"
        group = grouped.get(notable.what) if watch else None
        if group is not None:
            if notable is not group[0]:
                continue
            when, tier, title = _notable_cells(notable, progress, content)
            dates = [format_day(n.local_date, cat, progress.language, SHORT_DATE) for n in group]
            listed = format_list(dates, locale=babel_locale(progress.language))
            on_dates = plain_text(cat.text("report.event.dates", dates=listed))
            rows.append(((when, tier, f"{title} {on_dates}".strip()), False))
        else:
            serious = notable.kind in ("signal", "advice") and notable.tier in SERIOUS
            rows.append((_notable_cells(notable, progress, content), serious))
    return rows


def _notables(
    page: _Pdf, progress: Progress, content: Content, band_bottom: float, flow: _Flow
) -> None:
    """Notable days: beside the chart while there is room, then full width, then a new page."""
    cat = content.catalogue
    rows = _notable_rows(progress, content)
    heading = plain_text(cat.text("report.section.events"))
    page.heading(heading, x=SIDE_X, width=SIDE_WIDTH)
    if not rows:
        page.font(TEXT_SIZE, colour=MUTED)
        page.paragraph(plain_text(cat.text("report.no_events")), x=SIDE_X, width=SIDE_WIDTH)
        return
    # Beside the chart the detail gets the room and a long level may wrap; below, neither wraps.
    narrow = (_Column(14), _Column(31), _Column(SIDE_WIDTH - 45))
    wide = (_Column(14), _Column(40), _Column(WIDTH - 54))
    header = tuple(plain_text(cat.text(f"report.column.{k}")) for k in ("date", "what", "detail"))
    page.row(header, narrow, x=SIDE_X, fill=HEADER_FILL, bold=(True,) * 3)
    beside = True
    for index, (cells, serious) in enumerate(rows):
        bold = (False, serious, False)
        if beside and page.y + page.row_height(cells, narrow, bold=bold) > band_bottom:
            beside = False
            page.pdf.set_y(max(page.y, band_bottom) + 1.5)
            page.row(header, wide, fill=HEADER_FILL, bold=(True,) * 3)  # the table goes on here
        columns, x = (narrow, SIDE_X) if beside else (wide, MARGIN)
        if not beside and page.y + page.row_height(cells, columns, bold=bold) > flow.limit:
            flow.new_page(heading, header, wide)
        page.row(cells, columns, x=x, fill=ZEBRA if index % 2 else None, bold=bold)


def _number(value: float | None, language: str) -> str:
    """A median or an average: whole numbers plain, others to one decimal ("3.5" / "3,5")."""
    if value is None:
        return "–"
    if value == int(value):
        return str(int(value))
    return format_decimal(round(value, 1), format="0.0", locale=babel_locale(language))


def _weeks(page: _Pdf, progress: Progress, cat: Catalogue, flow: _Flow) -> None:
    """Every program week: routines, median ratings, furthest point (and PSFS when rated)."""
    heading = plain_text(cat.text("report.section.weeks"))
    page.heading(heading)
    rows = week_rows(progress)
    if not rows:
        page.font(TEXT_SIZE, colour=MUTED)
        page.paragraph(plain_text(cat.text("report.no_check_ins")))
        return
    # PSFS (issue 23, point 1): its column appears only once activities have been rated.
    function = any(row.function is not None for row in rows)
    keys = ["week", "dates", "done", "skipped", "stopped", "pain", "numbness", "tingling"]
    widths = [11.0, 30.0, 13.0, 16.0, 15.0, 16.0, 19.0, 17.0]
    keys.append("furthest")
    widths.append(WIDTH - sum(widths) - (16 if function else 0))
    if function:
        keys.append("function")
        widths.append(16.0)
    columns = [
        _Column(w, Align.L if k in ("dates", "furthest") else Align.C)
        for k, w in zip(keys, widths, strict=True)
    ]
    header = tuple(plain_text(cat.text(f"report.column.{k}")) for k in keys)
    page.row(header, columns, fill=HEADER_FILL, bold=(True,) * len(keys))
    language = progress.language
    for index, row in enumerate(rows):
        first = format_day(row.first, cat, language, SHORT_DATE)
        last = format_day(row.last, cat, language, SHORT_DATE)
        cells = [
            str(row.number),
            f"{first} – {last}",
            str(row.done),
            str(row.skipped),
            str(row.stopped),
            _number(row.pain, language),
            _number(row.numbness, language),
            _number(row.tingling, language),
            "–" if row.furthest is None else _extent_name(cat, row.furthest),
        ]
        if function:
            cells.append(_number(row.function, language))
        if page.y + page.row_height(cells, columns) > flow.limit:
            flow.new_page(heading, header, columns)
        page.row(cells, columns, fill=ZEBRA if index % 2 else None)


# --- The report ----------------------------------------------------------------------------------


def render_report(progress: Progress, content: Content, chart_png: bytes | None) -> bytes:
    """The one-page PDF summary; ``chart_png`` is ``render_chart``'s output, or None."""
    cat = content.catalogue
    page = _Pdf(progress, cat)
    note = plain_text(
        cat.text(
            "report.note",
            points=IMPROVED_POINTS,
            percent=round(float(IMPROVED_FRACTION) * 100),
            worse_points=WORSE_POINTS,
            worse_percent=round(float(WORSE_FRACTION) * 100),
        )
        + " "
        + cat.text("report.weeks_note")
    )
    _header(page, progress, cat)
    _summary(page, progress, cat)
    activities = function_report_text(summarize(progress.function), cat)  # PSFS, if any
    if activities:
        page.font(TEXT_SIZE)
        page.paragraph(activities)
    band_top = page.y + HEADING_GAP + 1.5
    band_bottom = _chart(page, chart_png, cat, band_top)
    _exercises(page, progress, content, band_top)
    flow = _Flow(page, note, cat)
    _notables(page, progress, content, band_bottom, flow)
    page.pdf.set_y(max(page.y, band_bottom))
    _weeks(page, progress, cat, flow)
    _note(page, note, _note_height(page, note))
    return bytes(page.pdf.output())


REQUIRED_KEYS: tuple[str, ...] = (
    "report.title",
    "report.covers",
    "report.program_start",
    "report.program_not_started",
    "report.baseline",
    "report.no_baseline",
    "report.adherence",
    "report.no_chart",
    "report.no_check_ins",
    "report.no_events",
    "report.continued",
    "report.weeks_note",
    *(f"report.screening.{k}" for k in ("unknown", "none", "signs", "no_advice")),
    *(
        f"report.notable.{k}"
        for k in (
            "added",
            "added_many",
            "added_on",
            "left_out",
            "left_out_why",
            "signal",
            "released",
            "skipped",
            "skipped_days",
        )
    ),
    "report.note",
    *(f"report.duration.{d}" for d in ("lt2w", "2to6w", "6to12w", "gt3m", "unknown")),
    *(f"report.side.{s}" for s in ("left", "right", "unknown")),
    *(f"report.section.{s}" for s in ("summary", "exercises", "events", "weeks")),
    *(
        f"report.column.{c}"
        for c in (
            "measure",
            "start_on",
            "latest_on",
            "change",
            "date",
            "week",
            "dates",
            "done",
            "skipped",
            "stopped",
            "function",
            "pain",
            "numbness",
            "tingling",
            "furthest",
            "exercise",
            "added",
            "now",
            "what",
            "detail",
        )
    ),
    *(f"report.measure.{m}" for m in (*MEASURES, "extent")),
    "report.change.improved",
    *(f"report.change.{d.value}" for d in Direction),
    *(f"report.extent_change.{d}" for d in ("rose", "same", "fell")),
    *(f"report.status.{s.value}" for s in Status),
    *(f"report.exercise.{k}" for k in ("in_routine", "not_added", "left_out", "left_out_undated")),
    *(f"report.excluded.{r}" for r in ("worse_after_adding", "stopped_during", "needs_sliders")),
    "report.event.exercise_left_out",
    "report.event.dates",
    *(
        f"report.tier.{t}"
        for t in ("emergency", "urgent", "soon", "stop_exercise", "review", "watch")
    ),
)
"""Every key this module reads (besides verdict titles and stop-signal names it checks first)."""
