"""The words of /progress, /report and the weekly look back, without drawing anything: the
chart's caption (or the kind text when there is not enough to draw), the weekly look back, the
file names, and the plain text and dates the chart (``charts.py``) and the PDF (``report.py``)
share. The main process needs only these; the chart and the PDF are drawn in the render workers
(``bot/rendering/offload.py``), so it never loads matplotlib, fpdf or Pillow.

Every word comes from the catalogue in the person's language and every date from Babel.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list

from bot.content import Catalogue, Content
from bot.domain.progress import (
    SAFETY_TIERS,
    Direction,
    Progress,
    Status,
    Trend,
    trend,
    week,
    week_dates,
)
from bot.domain.safety import MEASURES
from bot.rendering.i18n import texts_for

# --- Plain text and dates, shared with the PDF ---------------------------------------------------

_TAG_RE = re.compile(r"</?[bi]>")


def plain_text(text: str) -> str:
    """A catalogue text for a picture or a PDF: tags stripped, entities unescaped."""
    return html.unescape(_TAG_RE.sub("", text))


@cache
def babel_locale(language: str) -> Locale:
    """The Babel locale of ``language`` (English if Babel does not know it), parsed once."""
    try:
        return Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return Locale.parse("en")


# Date styles: each names a CLDR pattern in the catalogue (``progress.format.<style>``), so a
# translation writes dates its own way ("2 Mar" / "2 mars") and Babel names the months.
SHORT_DATE = "date"  # 2 Mar: axis ticks, table rows
DAY_MONTH = "date_long"  # 2 March: in sentences
FULL_DATE = "date_full"  # 2 Mar 2026: the chart's and the report's span
DATE_STYLES = (SHORT_DATE, DAY_MONTH, FULL_DATE)


def format_day(day: date, cat: Catalogue, language: str, style: str = DAY_MONTH) -> str:
    """``day`` in the catalogue's pattern for ``style``, with month names in ``language``."""
    pattern = cat.texts[f"progress.format.{style}"]
    return format_date(day, format=pattern, locale=babel_locale(language))


# --- The chart's caption and the weekly look back --------------------


def has_enough_for_chart(progress: Progress) -> bool:
    """Two sets of ratings (the baseline counts) make a line; fewer get a kind text instead."""
    return len(progress.points) >= 2


CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption


def render_not_enough(content: Content) -> str:
    """What /progress says before there are two sets of ratings to draw."""
    return content.catalogue.text("progress.not_enough")


def _trend_lines(result: Trend, content: Content) -> list[str]:
    """The trend since the start, in words: pain always, the rest when it clearly moved."""
    cat = content.catalogue
    lines: list[str] = []
    pain = result.change("pain")
    key = "improved" if result.improved else pain.direction.value
    lines.append(cat.text(f"progress.pain.{key}", start=pain.start, latest=pain.latest))
    for measure in MEASURES[1:]:
        change = result.change(measure)
        if change.direction in (Direction.ROSE, Direction.FELL):
            lines.append(
                cat.text(
                    f"progress.{measure}.{change.direction.value}",
                    start=change.start,
                    latest=change.latest,
                )
            )
    extent = result.change("extent")
    if extent.direction in (Direction.ROSE, Direction.FELL):
        level = plain_text(cat.text(f"measures.extent.{extent.latest}"))
        lines.append(cat.text(f"progress.extent.{extent.direction.value}", latest=level))
    return lines


def _next_step(progress: Progress, status: Status | None, content: Content) -> str:
    cat = content.catalogue
    holding = progress.holding
    if holding is not None:
        # Never "keep going" while a verdict keeps the routine on hold (clinical.md §1).
        return cat.text(
            "progress.next.on_hold",
            date=format_day(holding.local_date, cat, progress.language, DAY_MONTH),
        )
    return cat.text(f"progress.next.{(status or Status.STEADY).value}")


def render_caption(progress: Progress, content: Content) -> str:
    """The chart's caption: the trend since the start in words and a calm next step."""
    result = trend(progress)
    if result.start is None or not result.known:
        return render_not_enough(content)
    cat = content.catalogue
    lines = [
        cat.text(
            "progress.title",
            date=format_day(result.start.local_date, cat, progress.language, DAY_MONTH),
        )
    ]
    lines += _trend_lines(result, content)
    if progress.routines_sent:
        lines.append(
            cat.text("progress.routines", done=progress.routines_done, sent=progress.routines_sent)
        )
    lines.append(_next_step(progress, result.status, content))
    caption = "\n".join(lines)
    if _telegram_length(caption) > CAPTION_LIMIT:  # a long translation: the essentials only
        caption = "\n".join((lines[0], lines[1], lines[-1]))
    return caption


def _telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


WEEKLY_LIMIT = 600  # characters of the weekly look back, besides the chart


def _week_days(progress: Progress, first: date, last: date) -> int:
    """How many of the window's days were program days (all 7 once the program is a week old)."""
    start = max(first, progress.program_start or first)
    return max(0, (last - start).days + 1)


def _week_advice(window: Progress, content: Content) -> str | None:
    """The advice given this week in one line, most severe first, each with its latest date."""
    cat = content.catalogue
    latest: dict[str, date] = {}
    for mark in window.safety:
        latest[mark.tier] = max(mark.local_date, latest.get(mark.tier, mark.local_date))
    if not latest:
        return None
    items = [
        f"{cat.text(f'weekly.tier.{tier}')} ({format_day(day, cat, window.language, DAY_MONTH)})"
        for tier, day in sorted(latest.items(), key=lambda item: SAFETY_TIERS.index(item[0]))
    ]
    return cat.text(
        "weekly.advice", advice=format_list(items, locale=babel_locale(window.language))
    )


def render_weekly(progress: Progress, content: Content, until: date) -> str:
    """The weekly look back, each figure said once: routines done of the week's days, the
    week's pain (first → last), the start's pain and what the change since then means (clinical.md
    §4, measured from the baseline), other measures that clearly moved, the week's advice in
    one line, and a calm next step. At most ``WEEKLY_LIMIT`` characters."""
    cat = content.catalogue
    language = progress.language
    first, last = week_dates(until)
    window = week(progress, until)
    lines = [
        cat.text(
            "weekly.title",
            first=format_day(first, cat, language, DAY_MONTH),
            last=format_day(last, cat, language, DAY_MONTH),
        ),
        cat.text(
            "weekly.routines",
            done=window.routines_done,
            days=_week_days(progress, first, last),
        ),
    ]
    result = trend(window)
    if not window.check_ins:
        lines.append(cat.text("weekly.no_check_ins"))
    else:
        week_first, week_last = window.check_ins[0].pain, window.check_ins[-1].pain
        if len(window.check_ins) >= 2:
            lines.append(cat.text("weekly.this_week", first=week_first, last=week_last))
        else:
            lines.append(cat.text("weekly.this_week_one", last=week_last))
        if result.known:
            pain = result.change("pain")
            key = "improved" if result.improved else pain.direction.value
            lines.append(cat.text(f"weekly.since.{key}", start=pain.start))
            lines += _trend_lines(result, content)[1:]  # pain is said above
    advice = _week_advice(window, content)
    if advice is not None:
        lines.append(advice)
    lines.append(_next_step(progress, result.status if window.check_ins else None, content))
    text = "\n".join(lines)
    if len(text) > WEEKLY_LIMIT:  # the essentials: no line about the other measures
        keep = (
            [line for line in lines if line not in _trend_lines(result, content)[1:]]
            if result.known
            else lines
        )
        text = "\n".join(keep)
    return text


# --- File names ------------------------------------------------------------


def file_name(cat: Catalogue, key: str, day: date) -> str:
    """A file's name in the person's language ("files.summary": "resume-sciatique-2026-12-06.pdf"),
    the day it was made and nothing about the person; ASCII only (accents dropped, anything
    else a hyphen), which every phone and mail client keeps as it is."""
    name = plain_text(cat.text(f"files.{key}", date=day.isoformat()))
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name)


def report_filename(progress: Progress) -> str:
    """The PDF's file name, in the person's language."""
    return file_name(texts_for(progress.language).content.catalogue, "summary", progress.today)
