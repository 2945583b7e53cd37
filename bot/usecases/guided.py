"""The guided session: today's routine one exercise at a time ("Start" on the day card).

Each step shows the exercise (its demonstration, then three short lines) with Next / Had to
stop / Leave; after the last one the routine is marked done and the check-in opens, as a tap on
Done does. The state is a flow (``GuidedData``): every step opens with a fresh nonce, so a Next
pressed twice, or on an older step, changes nothing; each press is one transaction, and the
update is marked applied in it (a redelivered press is not applied twice). No message is edited
on a timer: the count and the hold live in the demonstration.

A session left half-way ("Leave", or any text or command while it is open) is offered again
once, that day: Resume at the same exercise, or mark the routine with the day card's buttons.
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain.flows import GUIDE, CheckinData, CheckinStep, GuidedData, new_nonce
from bot.domain.program import PatientStatus, RoutineOutcome
from bot.rendering.replies import Reply
from bot.rendering.routine_texts import guided_offer, guided_step
from bot.rendering.verdict_texts import free_text
from bot.usecases import routine
from bot.usecases.turn import Turn
from db import repo


def is_guide(value: str) -> bool:
    """A routine button that starts ("guide") or resumes ("guide:N") the guided session."""
    return value == GUIDE or value.startswith(f"{GUIDE}:")


async def start(turn: Turn, session_id: int, value: str, message_id: int) -> None:
    """ "Start" on the day card (or "Resume" at exercise N): the first (or Nth) step."""
    pending = turn.data(CheckinData)
    if pending is not None and pending.step == CheckinStep.CONFIRM:
        # Warning signs wait for "Is that right?": no exercise before that answer.
        turn.response.answer = turn.t("guided.answer_first")
        return
    session = await routine.open_session(turn, session_id)
    if session is None:
        return
    exercises = tuple(session.exercises)
    index = _resume_index(value, len(exercises))
    if not exercises or index is None:
        turn.response.answer = turn.t("errors.stale_button")
        return
    current = turn.data(GuidedData)
    if current is not None and current.card is not None and current.card != message_id:
        # Started again while a step is on screen: that step loses its buttons.
        _retire(turn, current.card)
    if value != GUIDE:
        # "Resume" is on an offer message: it keeps its text, its buttons go.
        _retire(turn, message_id)
    data = turn.open(
        GuidedData(
            session_id=session.id,
            exercises=exercises,
            new=session.new_exercise,
            index=index,
        )
    )
    _show(turn, data)


def _resume_index(value: str, total: int) -> int | None:
    """The step to open: 0 for "guide", N-1 for "guide:N" (None if out of range)."""
    if value == GUIDE:
        return 0
    number = value.partition(":")[2]
    if not (number.isascii() and number.isdigit()):
        return None
    index = int(number) - 1
    return index if 0 <= index < total else None


def _show(turn: Turn, data: GuidedData) -> None:
    turn.response.replies.append(guided_step(data, turn.texts, turn.patient.symptom_side))


def _retire(turn: Turn, message_id: int) -> None:
    """A message that keeps its text but loses its buttons (skipped if it is gone)."""
    turn.response.replies.append(Reply("", (), edit=message_id, markup_only=True, cleanup=True))


async def on_next(turn: Turn, data: GuidedData, _value: str, message_id: int) -> None:
    """Next: the following exercise; after the last one, the routine is done."""
    session = await routine.open_session(turn, data.session_id)
    if session is None:
        turn.close()
        return
    if data.index + 1 < len(data.exercises):
        _retire(turn, message_id)
        data = turn.open(replace(data, nonce=new_nonce(), index=data.index + 1, card=None))
        _show(turn, data)
        return
    _retire_day_card(turn, session.message_id, message_id)
    await routine.record(turn, session, RoutineOutcome.DONE, message_id)


async def on_stop(turn: Turn, data: GuidedData, _value: str, message_id: int) -> None:
    """Had to stop in the middle: the "had to stop" check-in, that exercise already chosen."""
    session = await routine.open_session(turn, data.session_id)
    if session is None:
        turn.close()
        return
    _retire_day_card(turn, session.message_id, message_id)
    await routine.record(
        turn,
        session,
        RoutineOutcome.STOPPED,
        message_id,
        stop_exercise=data.exercises[data.index],
    )


async def on_leave(turn: Turn, data: GuidedData, _value: str, message_id: int) -> None:
    """Leave: the step loses its buttons; Resume, or mark the routine. The flow stays open
    (with a fresh nonce) so that the next message offers it once more."""
    session = await routine.open_session(turn, data.session_id)
    if session is None:
        turn.close()
        return
    _retire(turn, message_id)
    data = turn.open(replace(data, nonce=new_nonce(), card=None))
    turn.response.replies.append(
        guided_offer(session.id, data.index, len(data.exercises), turn.texts, left=True)
    )


async def on_text(turn: Turn, data: GuidedData, text: str) -> None:
    """Text while the guided session is open: the kind answer to text, then the offer."""
    turn.response.add(free_text(turn.texts, turn.patient.time_zone))
    await interrupted(turn)


async def interrupted(turn: Turn) -> None:
    """The person wrote or sent a command while a guided session was open: it is offered
    once (Resume or mark the routine) if today's routine still waits for its answer; either
    way the flow closes, so it is offered only once."""
    data = turn.data(GuidedData)
    if data is None:
        return
    turn.close()
    if data.card is not None:
        _retire(turn, data.card)
    session = await repo.get_session(turn.db, data.session_id)
    if (
        session is None
        or session.patient_id != turn.patient.id
        or session.outcome is not None
        or session.program_epoch != turn.patient.program_epoch
        or session.local_date != turn.today
        or turn.patient.status is not PatientStatus.ACTIVE
        or not data.exercises
    ):
        return
    turn.response.replies.append(
        guided_offer(session.id, data.index, len(data.exercises), turn.texts, left=False)
    )


def _retire_day_card(turn: Turn, day_card: int | None, pressed: int) -> None:
    """The guided session ends the routine: the day card's buttons go too."""
    if day_card is not None and day_card != pressed:
        _retire(turn, day_card)
