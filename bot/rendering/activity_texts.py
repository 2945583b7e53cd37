"""Function (PSFS, clinical.md §3) as messages: the card that names and rates everyday
activities, the weekly rating card, /activities and the lines under /progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from babel import Locale
from babel.numbers import format_decimal

from bot.content import Catalogue
from bot.domain.flows import FunctionData, FunctionStep
from bot.domain.function import COMMON_ACTIVITIES, MAX_ACTIVITIES, RATING_MAX, FunctionSummary
from bot.rendering.buttons import flow_button, function_button
from bot.rendering.i18n import Texts
from bot.rendering.progress_texts import plain_text
from bot.rendering.replies import Button, Keyboard, rows

SKIP = "skip"
DONE = "done"


def _button(nonce: str, label: str, step: str, value: object) -> Button:
    return Button(label, flow_button(nonce, f"{step}:{value}"))


def _number_rows(buttons: Sequence[Button]) -> Keyboard:
    """0 to 10 on two rows, as on the check-in card."""
    return (tuple(buttons[:6]), tuple(buttons[6:]))


def label_of(label: str) -> str:
    """An activity's words as shown (typed ones may hold < or &)."""
    return escape(label, quote=False)


def common_label(key: str, texts: Texts) -> str:
    return texts.t(f"function.common.{key}")


def card(data: FunctionData, texts: Texts) -> tuple[str, Keyboard]:
    """The card at its current step: what is chosen or rated so far, then the question."""
    nonce = data.nonce
    progress = card_progress(data, texts)
    skip = _button(nonce, texts.t("function.skip"), data.step, SKIP)
    if data.step == FunctionStep.RATE:
        label = data.labels[len(data.ratings)]
        question = texts.t("function.rate_question", label=label_of(label))
        numbers = [_button(nonce, str(i), data.step, i) for i in range(RATING_MAX + 1)]
        return "\n".join([*progress, question]), (*_number_rows(numbers), (skip,))
    offered = [
        _button(nonce, common_label(key, texts), data.step, key)
        for key in COMMON_ACTIVITIES
        if common_label(key, texts) not in data.labels
    ]
    finish = (_button(nonce, texts.t("function.done"), data.step, DONE),) if data.labels else ()
    question = texts.t("function.name_more" if data.labels else "function.name_question")
    return "\n".join([*progress, question]), (*rows(*offered, width=2), (*finish, skip))


def card_progress(data: FunctionData, texts: Texts) -> list[str]:
    """The answers so far (an empty list before the first), each line then a blank line."""
    if not data.labels:
        return []
    if data.step == FunctionStep.RATE or data.ratings:
        lines = [
            texts.t("function.rated_item", label=label_of(label), rating=rating)
            for label, rating in zip(data.labels, data.ratings, strict=False)
        ]
    else:
        lines = [texts.t("function.item", label=label_of(label)) for label in data.labels]
    return [texts.t("function.chosen_title"), *lines, ""]


def card_done(data: FunctionData, texts: Texts) -> str:
    """The card once everything is rated: the ratings, no buttons."""
    return "\n".join(card_progress(data, texts)).strip()


def full(data: FunctionData) -> bool:
    return len(data.labels) >= MAX_ACTIVITIES


# --- The weekly rating ---------------------------------------------------------------------------


def weekly_card(
    activity_id: int, label: str, rated: Sequence[tuple[str, int]], texts: Texts
) -> tuple[str, Keyboard]:
    """One activity's weekly question (after those already rated), one tap: 0 to 10."""
    lines = _weekly_rated(rated, texts)
    question = texts.t("function.weekly.question", label=label_of(label))
    numbers = [Button(str(i), function_button(activity_id, str(i))) for i in range(RATING_MAX + 1)]
    return "\n".join([*lines, question]), _number_rows(numbers)


def weekly_done(rated: Sequence[tuple[str, int]], texts: Texts) -> str:
    return "\n".join([*_weekly_rated(rated, texts), texts.t("function.weekly.saved")])


def _weekly_rated(rated: Sequence[tuple[str, int]], texts: Texts) -> list[str]:
    if not rated:
        return []
    items = [
        texts.t("function.rated_item", label=label_of(label), rating=rating)
        for label, rating in rated
    ]
    return [texts.t("function.weekly.rated_title"), *items, ""]


# --- /activities and /progress -------------------------------------------------------------------


def current(activities: Sequence[tuple[str, int | None, date | None]], texts: Texts) -> str:
    """The activities in use with their latest rating and its date."""
    if not activities:
        return texts.t("function.current.none")
    lines = [texts.t("function.current.title")]
    for label, rating, day in activities:
        when = texts.date(day, "short") if day is not None else ""
        lines.append(
            texts.t(
                "function.current.item",
                label=label_of(label),
                rating="–" if rating is None else rating,
                date=when,
            )
        )
    return "\n".join(lines)


def _number(value: float, texts: Texts) -> str:
    """An average with at most one decimal, as the person's language writes it ("4.5", "4,5")."""
    return str(format_decimal(value, format="0.#", locale=texts.locale))


def report_text(summary: FunctionSummary | None, cat: Catalogue) -> str:
    """The PDF's short block (plain text): start → latest per activity, the average, and the
    measurement-error note ("" when no activity is rated)."""
    if summary is None:
        return ""
    items = cat.text("format.list_separator").join(
        cat.text("function.report.item", label=label_of(a.label), start=a.start, latest=a.latest)
        for a in summary.activities
    )
    locale = Locale.parse(cat.language)
    key = "function.report.beyond" if summary.beyond_error else "function.report.within"
    return plain_text(
        " ".join(
            [
                cat.text("function.report.title", items=items),
                cat.text(
                    "function.report.average",
                    start=format_decimal(summary.start_average, format="0.#", locale=locale),
                    latest=format_decimal(summary.latest_average, format="0.#", locale=locale),
                ),
                cat.text(key),
            ]
        )
    )


def progress_lines(summary: FunctionSummary | None, texts: Texts) -> str:
    """Under /progress: one line per activity (start → latest), the average, and whether the
    change is beyond measurement error ("" when no activity is rated)."""
    if summary is None:
        return ""
    lines = [texts.t("function.progress.title")]
    lines += [
        texts.t("function.progress.line", label=label_of(a.label), start=a.start, latest=a.latest)
        for a in summary.activities
    ]
    lines.append(
        texts.t(
            "function.progress.average",
            start=_number(summary.start_average, texts),
            latest=_number(summary.latest_average, texts),
        )
    )
    if any(a.start != a.latest for a in summary.activities):
        lines.append(
            texts.t(
                "function.progress.beyond" if summary.beyond_error else "function.progress.within"
            )
        )
    return "\n".join(lines)
