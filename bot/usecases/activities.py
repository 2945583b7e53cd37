"""Function (PSFS, clinical.md §3): naming and rating up to three everyday activities (after
the baseline at onboarding, or with /activities), their weekly rating with the weekly look back,
and what /progress, /report and /export read of them.

It informs the person and their clinician only: nothing here calls the safety engine, records
a safety event or changes the program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.flows import FunctionData, FunctionStep, Next
from bot.domain.function import (
    COMMON_ACTIVITIES,
    MAX_ACTIVITIES,
    RATING_MAX,
    FunctionSeries,
    RatingKind,
    clean_label,
)
from bot.domain.parsing import InvalidNumber, parse_rating
from bot.domain.program import PatientStatus
from bot.domain.timing import local_date
from bot.rendering import activity_texts as texts
from bot.rendering.i18n import Texts
from bot.rendering.replies import Reply
from bot.usecases.turn import Turn
from db import repo
from db.models import FunctionActivity

# A weekly rating made within this long of another counts as the same week's (a correction).
WEEK = timedelta(days=6)


# --- Naming and rating ---------------------------------------------------------------------------


def ask(turn: Turn, then: Next = Next.ONBOARDING) -> None:
    """The short intro, then the card: choose or type up to three activities."""
    intro = "function.intro" if then is Next.ONBOARDING else "function.intro_change"
    turn.response.add(turn.t(intro))
    data = turn.open(FunctionData(then=then.value))
    _show(turn, data, edit=None)


async def activities_command(turn: Turn, _args: str | None) -> None:
    """/activities: the current activities and their latest rating, then the card to replace
    them (Skip keeps them)."""
    if turn.patient.consent_at is None:
        turn.response.add(turn.t("errors.not_started"))
        return
    if turn.patient.status is PatientStatus.ONBOARDING:
        turn.response.add(turn.t("function.not_now"))
        return
    turn.response.add(texts.current(await _latest(turn), turn.texts))
    ask(turn, Next.NOTHING)


async def _latest(turn: Turn) -> list[tuple[str, int | None, date | None]]:
    activities = await repo.current_activities(turn.db, turn.patient.id)
    ratings = await repo.function_ratings_of(turn.db, turn.patient.id)
    latest = {r.activity_id: r for r in ratings}
    return [
        (
            a.label,
            latest[a.id].rating if a.id in latest else None,
            local_date(latest[a.id].rated_at, turn.zone) if a.id in latest else None,
        )
        for a in activities
    ]


async def on_name(turn: Turn, data: FunctionData, value: str, message_id: int) -> None:
    """A tap while naming: a common activity, Done or Skip."""
    if data.step != FunctionStep.NAME:
        turn.response.answer = turn.t("errors.stale_button")
        return
    if value == texts.SKIP:
        await _skip(turn, data, edit=message_id)
        return
    if value == texts.DONE and data.labels:
        _show(turn, replace(data, step=FunctionStep.RATE), edit=message_id)
        return
    if value not in COMMON_ACTIVITIES:
        turn.response.answer = turn.t("errors.stale_button")
        return
    _add_label(turn, data, texts.common_label(value, turn.texts), edit=message_id)


async def on_rate(turn: Turn, data: FunctionData, value: str, message_id: int) -> None:
    """A tap while rating: 0 to 10, or Skip."""
    if data.step != FunctionStep.RATE:
        turn.response.answer = turn.t("errors.stale_button")
        return
    if value == texts.SKIP:
        await _skip(turn, data, edit=message_id)
        return
    try:
        rating = parse_rating(value, RATING_MAX)
    except InvalidNumber:
        turn.response.answer = turn.t("errors.stale_button")
        return
    await _rated(turn, data, rating, edit=message_id)


async def on_text(turn: Turn, data: FunctionData, text: str) -> None:
    """Typed: an activity in a few words while naming; "6" or "6/10" while rating; "skip"."""
    if _means_skip(text, turn.t("function.skip_words")):
        await _skip(turn, data, edit=data.card)
        return
    if data.step == FunctionStep.RATE:
        try:
            rating = parse_rating(text, RATING_MAX)
        except InvalidNumber:
            turn.response.add(turn.t("function.invalid_rating"))
            return
        await _rated(turn, data, rating, edit=data.card)
        return
    label = clean_label(text)
    if label is None:
        turn.response.add(turn.t("function.use_buttons"))
        return
    _add_label(turn, data, label, edit=data.card)


def _means_skip(text: str, words: str) -> bool:
    said = " ".join(text.casefold().strip(" .!").split())
    return said in {w.strip().casefold() for w in words.split("|")}


def _add_label(turn: Turn, data: FunctionData, label: str, *, edit: int | None) -> None:
    if label.casefold() not in (known.casefold() for known in data.labels):
        data = replace(data, labels=(*data.labels, label))
    if len(data.labels) >= MAX_ACTIVITIES:
        data = replace(data, step=FunctionStep.RATE)
    _show(turn, data, edit=edit)


async def _rated(turn: Turn, data: FunctionData, rating: int, *, edit: int | None) -> None:
    data = replace(data, ratings=(*data.ratings, rating))
    if len(data.ratings) < len(data.labels):
        _show(turn, data, edit=edit)
        return
    _retire(turn, data, keep=edit)
    turn.response.replies.append(Reply(texts.card_done(data, turn.texts), (), edit=edit))
    await repo.replace_activities(
        turn.db, turn.patient.id, list(zip(data.labels, data.ratings, strict=True)), turn.now
    )
    turn.response.add(turn.t("function.saved"))
    _close(turn, data)


async def _skip(turn: Turn, data: FunctionData, *, edit: int | None) -> None:
    """Nothing is stored; the activities in use (if any) stay."""
    _retire(turn, data, keep=edit)
    onboarding = Next(data.then) is Next.ONBOARDING
    key = "function.skipped" if onboarding else "function.kept"
    turn.response.replies.append(Reply(turn.t(key), (), edit=edit))
    _close(turn, data)


def _close(turn: Turn, data: FunctionData) -> None:
    if turn.patient.function_asked_at is None:
        turn.patient.function_asked_at = turn.now
    turn.close()
    turn.then(Next(data.then))


def _show(turn: Turn, data: FunctionData, *, edit: int | None) -> None:
    """The card as it is now, in place on ``edit`` or as a new message (its id is stored once
    delivered, so typed answers edit it too)."""
    _retire(turn, data, keep=edit)
    data = turn.save(replace(data, card=None))
    text, keyboard = texts.card(data, turn.texts)
    turn.response.replies.append(Reply(text, keyboard, edit=edit, track=f"card:{data.nonce}"))


def _retire(turn: Turn, data: FunctionData, *, keep: int | None) -> None:
    """An older card loses its buttons, so only one card takes answers."""
    if data.card is not None and data.card != keep:
        turn.response.replies.append(
            Reply(texts.card_done(data, turn.texts) or "…", (), edit=data.card, cleanup=True)
        )


# --- The weekly rating, with the weekly look back ------------------------------------------------


async def weekly_card(db: AsyncSession, patient_id: int, t: Texts, now: datetime) -> Reply | None:
    """The card that asks this week's rating of the first activity not rated yet this week
    (None when the person follows no activity)."""
    activities = await repo.current_activities(db, patient_id)
    return await _next_weekly(db, activities, t, now, edit=None)


async def _next_weekly(
    db: AsyncSession,
    activities: Sequence[FunctionActivity],
    t: Texts,
    now: datetime,
    *,
    edit: int | None,
) -> Reply | None:
    rated = await repo.ratings_since(
        db, [a.id for a in activities], RatingKind.WEEKLY.value, now - WEEK
    )
    done = [(a.label, rated[a.id].rating) for a in activities if a.id in rated]
    pending = [a for a in activities if a.id not in rated]
    if not pending:
        return Reply(texts.weekly_done(done, t), (), edit=edit) if edit is not None else None
    text, keyboard = texts.weekly_card(pending[0].id, pending[0].label, done, t)
    return Reply(text, keyboard, edit=edit)


async def on_weekly(turn: Turn, activity_id: int, value: str, message_id: int) -> None:
    """One tap on the weekly card: this week's rating of that activity (a second tap the same
    week corrects it), then the next activity on the same card, or thanks."""
    activity = await repo.get_activity(turn.db, turn.patient.id, activity_id)
    try:
        rating = parse_rating(value, RATING_MAX)
    except InvalidNumber:
        activity = None
    if activity is None or activity.retired_at is not None:
        turn.response.answer = turn.t("errors.stale_button")
        return
    week = await repo.ratings_since(
        turn.db, [activity.id], RatingKind.WEEKLY.value, turn.now - WEEK
    )
    if activity.id in week:
        week[activity.id].rating = rating
    else:
        repo.add_function_rating(turn.db, activity.id, rating, RatingKind.WEEKLY.value, turn.now)
    await turn.db.flush()
    activities = await repo.current_activities(turn.db, turn.patient.id)
    reply = await _next_weekly(turn.db, activities, turn.texts, turn.now, edit=message_id)
    if reply is not None:
        turn.response.replies.append(reply)


# --- What the progress views read ----------------------------------------------------------------


async def series(db: AsyncSession, patient_id: int, zone: ZoneInfo) -> tuple[FunctionSeries, ...]:
    """The activities in use, each with its ratings by local date, oldest first."""
    activities = await repo.current_activities(db, patient_id)
    ratings = await repo.function_ratings_of(db, patient_id)
    return tuple(
        FunctionSeries(
            a.label,
            tuple(
                (local_date(r.rated_at, zone), r.rating) for r in ratings if r.activity_id == a.id
            ),
        )
        for a in activities
    )
