"""The check-in card: ratings, furthest point, stop signals (and the "had to stop" details).

One message, edited in place as each answer comes in, tapped or typed ("6", "6/10"). A card
never gets stuck: a press on an answer already recorded shows the current question again, and a
card that cannot be edited (deleted, too old) is sent again as a new message. What the answers
mean is decided in ``bot.usecases.verdicts``.
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain.flows import (
    MEASURE_STEPS,
    RATING_STEPS,
    CheckinData,
    CheckinStep,
    Next,
)
from bot.domain.parsing import InvalidNumber, parse_rating
from bot.domain.safety import (
    CHECK_IN_SIGNALS,
    EXTENT_MAX,
    RATING_MAX,
    StopCause,
    choose_signal,
    needs_confirmation,
)
from bot.rendering import checkin_card as card_texts
from bot.rendering.replies import Reply
from bot.rendering.verdict_texts import words_confirm, words_keyboard
from bot.usecases import verdicts
from bot.usecases.turn import Turn
from db import repo
from db.models import ReportKind

SETTLED = card_texts.SETTLED_VALUES
STEP_NAMES = tuple(step.value for step in CheckinStep)


def steps_for(data: CheckinData) -> list[CheckinStep]:
    """The questions of this card, in order."""
    steps: list[CheckinStep] = []
    if data.signs_only:
        steps.append(CheckinStep.SIGNALS)
        if needs_confirmation(data.signals):
            steps.append(CheckinStep.CONFIRM)
        return steps
    if data.stopped:
        steps += [CheckinStep.STOP_EXERCISE, CheckinStep.STOP_CAUSE]
        if data.stop_cause not in (None, StopCause.OTHER.value):
            steps.append(CheckinStep.SETTLED)
    steps += MEASURE_STEPS
    if data.kind != ReportKind.BASELINE:
        steps.append(CheckinStep.SIGNALS)
        if needs_confirmation(data.signals):
            steps.append(CheckinStep.CONFIRM)
    return steps


def _answered(data: CheckinData, step: CheckinStep) -> bool:
    if step in MEASURE_STEPS:
        return step in data.answers
    return {
        CheckinStep.STOP_EXERCISE: data.stop_exercise is not None,
        CheckinStep.STOP_CAUSE: data.stop_cause is not None,
        CheckinStep.SETTLED: data.settled is not None,
    }.get(step, False)


def begin(
    turn: Turn,
    kind: ReportKind,
    *,
    session_id: int | None = None,
    stopped: bool = False,
    exercises: tuple[int, ...] = (),
    then: Next = Next.NOTHING,
    stop_exercise: int | None = None,
) -> None:
    """Open a card and send its first question as a new message (``stop_exercise``: after
    "Had to stop" in a guided session, the exercise stopped is known and not asked)."""
    data = CheckinData(
        kind=kind.value,
        session_id=session_id,
        stopped=stopped,
        exercises=exercises,
        then=then.value,
        stop_exercise=stop_exercise if stopped and stop_exercise in exercises else None,
    )
    first = next(s for s in steps_for(data) if not _answered(data, s))
    data = turn.open(replace(data, step=first))
    _show(turn, data, edit=None)


def confirm_words(turn: Turn, signals: tuple[str, ...]) -> None:
    """Free text named warning signs: the check-in's "Is that right?" with those signs ticked.
    A card whose ratings are all in takes them (its report gets them). A card half answered
    keeps its answers: it asks the signs now and, if none is confirmed, takes its next answer
    again (``_resumes``). Otherwise a card with the stop signals only. Yes gives the verdict a
    tap on those signs gives; "No, change" shows the list to correct."""
    data = turn.any_data()
    if not isinstance(data, CheckinData) or data.kind == ReportKind.BASELINE:
        data = turn.open(CheckinData(kind=ReportKind.ADHOC.value, signs_only=True, signals=signals))
    elif data.signs_only or _complete(data):
        data = replace(data, signals=tuple(dict.fromkeys((*data.signals, *signals))))
    else:
        data = replace(data, signs_only=True, signals=signals)
    data = turn.save(replace(data, step=CheckinStep.CONFIRM))
    text = words_confirm(data.signals, turn.texts)
    turn.response.add(text, words_keyboard(data.nonce, CheckinStep.CONFIRM.value, turn.texts))


def _complete(data: CheckinData) -> bool:
    """Every rating is in and the card is at its last questions (the signs)."""
    return all(_answered(data, s) for s in steps_for(data) if s in MEASURE_STEPS) and CheckinStep(
        data.step
    ) in (CheckinStep.SIGNALS, CheckinStep.CONFIRM)


def _resumes(data: CheckinData) -> CheckinData | None:
    """A signs-only card that interrupted a card half answered (a check-in after a routine, or
    with answers in): that card again at its next question; None for a card of signs alone."""
    if not data.signs_only or (
        data.kind == ReportKind.ADHOC and not data.answers and not data.stopped
    ):
        return None
    card = replace(data, signs_only=False, signals=())
    step = next((s for s in steps_for(card) if not _answered(card, s)), CheckinStep.SIGNALS)
    return replace(card, step=step)


def _show(turn: Turn, data: CheckinData, *, edit: int | None) -> None:
    """Send the card as it is now, or edit it in place on message ``edit``. Its message id is
    stored again once this is delivered (``conversation.remember``), so ``data.card`` always
    names the one card that takes answers and shows the current question."""
    _retire(turn, data, keep=edit)
    data = turn.save(replace(data, card=None))
    text, keyboard = card_texts.card(data, turn.texts)
    turn.response.replies.append(Reply(text, keyboard, edit=edit, track=f"card:{data.nonce}"))


def _show_below(turn: Turn, data: CheckinData, before: str, *, pressed: int | None) -> None:
    """A message first (the signs in full words), then the card again below it, so the card's
    buttons stay the last thing on screen. The message pressed keeps its answers only."""
    if pressed is not None:
        turn.response.replies.append(
            Reply(card_texts.card_progress(data, turn.texts), (), edit=pressed, cleanup=True)
        )
    _retire(turn, data, keep=pressed)
    data = turn.save(replace(data, card=None))
    turn.response.replies.append(Reply(before))
    _show(turn, data, edit=None)


async def _first_check_in(turn: Turn) -> bool:
    """No check-in (after a routine, or on request) was recorded before this one."""
    reports = await repo.reports_of(turn.db, turn.patient.id)
    return not any(r.kind in (ReportKind.SESSION, ReportKind.ADHOC) for r in reports)


def _retire(turn: Turn, data: CheckinData, *, keep: int | None) -> None:
    """The card moves to another message (or is done there): the old one keeps the answers so
    far but loses its buttons (if it still exists), so only one card takes answers."""
    if data.card is not None and data.card != keep:
        turn.response.replies.append(
            Reply(card_texts.card_progress(data, turn.texts), (), edit=data.card, cleanup=True)
        )


async def on_button(turn: Turn, data: CheckinData, step: str, value: str, message_id: int) -> None:
    """A tap on the card (the router checked the nonce)."""
    try:
        tapped = CheckinStep(step)
    except ValueError:
        turn.response.answer = turn.t("errors.stale_button")
        return
    if tapped.value != data.step:
        if tapped in steps_for(data) and _answered(data, tapped):
            # A repeated press: show where the card is now on the message pressed (an older
            # card, or one whose update was lost), unless it is the card and already shows it.
            turn.response.answer = turn.t("errors.already_recorded")
            if message_id != data.card:
                _show(turn, data, edit=message_id)
        else:
            turn.response.answer = turn.t("errors.stale_button")
        return
    if tapped is CheckinStep.SIGNALS:
        await _on_signal(turn, data, value, message_id)
        return
    if tapped is CheckinStep.CONFIRM:
        await _on_confirm(turn, data, value, message_id)
        return
    try:
        data = _record(data, tapped, value)
    except ValueError:
        turn.response.answer = turn.t("errors.stale_button")
        return
    await _advance(turn, data, edit=message_id)


async def on_text(turn: Turn, data: CheckinData, text: str) -> None:
    """A typed answer: a number while a rating is pending; anything else gets the range."""
    step = CheckinStep(data.step)
    if step not in MEASURE_STEPS:
        turn.response.add(turn.t("checkin.use_buttons"))
        _show(turn, data, edit=None)
        return
    maximum = EXTENT_MAX if step is CheckinStep.EXTENT else RATING_MAX
    try:
        value = parse_rating(text, maximum)
    except InvalidNumber:
        turn.response.add(turn.t("checkin.invalid_number", maximum=maximum))
        return
    # Like a tap: the card moves on in place (a card not tracked yet is sent again below).
    await _advance(turn, _record(data, step, str(value)), edit=data.card)


def _record(data: CheckinData, step: CheckinStep, value: str) -> CheckinData:
    """The card's data with one more answer; ValueError for a value that is not offered."""
    if step in RATING_STEPS:
        return replace(data, answers={**data.answers, step.value: parse_rating(value, RATING_MAX)})
    if step is CheckinStep.EXTENT:
        return replace(data, answers={**data.answers, step.value: parse_rating(value, EXTENT_MAX)})
    if step is CheckinStep.STOP_EXERCISE:
        exercise = parse_rating(value, 9, minimum=1)
        if exercise not in data.exercises:
            raise ValueError(value)
        return replace(data, stop_exercise=exercise)
    if step is CheckinStep.STOP_CAUSE:
        return replace(data, stop_cause=StopCause(value).value)
    if step is CheckinStep.SETTLED and value in SETTLED:
        return replace(data, settled=value)
    raise ValueError(value)


async def _advance(turn: Turn, data: CheckinData, *, edit: int | None) -> None:
    remaining = [s for s in steps_for(data) if not _answered(data, s)]
    next_step = remaining[0] if remaining else CheckinStep.SIGNALS
    if remaining and next_step not in (CheckinStep.SIGNALS, CheckinStep.CONFIRM):
        data = turn.save(replace(data, step=next_step))
        _show(turn, data, edit=edit)
        return
    if data.kind == ReportKind.BASELINE:
        await _finish_baseline(turn, data, edit=edit)
        return
    data = turn.save(replace(data, step=CheckinStep.SIGNALS))
    if await _first_check_in(turn):
        # The first check-in shows the warning signs in full words once (clinical.md §2).
        meaning = card_texts.signal_descriptions(CHECK_IN_SIGNALS, turn.texts)
        _show_below(turn, data, meaning, pressed=edit)
        return
    _show(turn, data, edit=edit)


async def _on_signal(turn: Turn, data: CheckinData, value: str, message_id: int) -> None:
    if value == card_texts.EXPLAIN:
        meaning = card_texts.signal_descriptions(CHECK_IN_SIGNALS, turn.texts)
        _show_below(turn, data, meaning, pressed=message_id)
        return
    choice = choose_signal(data.signals, value, CHECK_IN_SIGNALS)
    if choice is None:
        turn.response.answer = turn.t("errors.stale_button")
        return
    data = turn.save(replace(data, signals=choice.selected))
    if not choice.done:
        _show(turn, data, edit=message_id)
        return
    if needs_confirmation(data.signals):
        # The ticked signs in full words, then "Is that right?" below them.
        data = turn.save(replace(data, step=CheckinStep.CONFIRM))
        ticked = card_texts.signal_descriptions(data.signals, turn.texts, ticked=True)
        _show_below(turn, data, ticked, pressed=message_id)
        return
    await _finish(turn, data, edit=message_id)


async def _on_confirm(turn: Turn, data: CheckinData, value: str, message_id: int) -> None:
    """ "Is that right?": yes gives the advice; a slip of the finger goes back to the list."""
    if value == "no":
        _show(turn, turn.save(replace(data, step=CheckinStep.SIGNALS)), edit=message_id)
        return
    if value != "yes":
        turn.response.answer = turn.t("errors.stale_button")
        return
    await _finish(turn, data, edit=message_id)


async def _finish(turn: Turn, data: CheckinData, *, edit: int | None) -> None:
    resumed = _resumes(data) if not data.signals else None
    if resumed is not None:
        # No sign after all: the card the words interrupted goes on, its answers kept.
        _retire(turn, data, keep=edit)
        turn.response.replies.append(Reply(turn.t("verdict.words.resume"), (), edit=edit))
        _show(turn, turn.save(replace(resumed, card=None)), edit=None)
        return
    _retire(turn, data, keep=edit)
    done = "\n".join([card_texts.card_progress(data, turn.texts), turn.t("checkin.recorded")])
    turn.response.replies.append(Reply(done, (), edit=edit))
    turn.close()
    if data.signs_only:
        await verdicts.conclude_signs(turn, data)
        return
    await verdicts.conclude(turn, data)


async def _finish_baseline(turn: Turn, data: CheckinData, *, edit: int | None) -> None:
    _retire(turn, data, keep=edit)
    done = "\n".join([card_texts.card_progress(data, turn.texts), turn.t("checkin.recorded")])
    turn.response.replies.append(Reply(done, (), edit=edit))
    turn.close()
    repo.add_report(
        turn.db, turn.patient, ReportKind.BASELINE, turn.now, ratings=verdicts.ratings_of(data)
    )
    turn.then(Next(data.then))
