"""The daily routine of the conversation: /today, the routine's buttons (Done, Not today, Had to
stop) and "Show me how"."""

from __future__ import annotations

from bot.domain.flows import GuidedData, Next
from bot.domain.morning import next_morning
from bot.domain.program import (
    EXERCISE_ORDER,
    DayOutcome,
    PatientStatus,
    RoutineOutcome,
    plan_day,
    record_day,
    rest_day,
)
from bot.domain.timing import local_date
from bot.rendering.buttons import howto_button
from bot.rendering.replies import Button, Reply, rows
from bot.rendering.routine_texts import howto_buttons_reply, howto_reply, routine_replies
from bot.usecases import checkin
from bot.usecases.turn import Turn
from db import repo
from db.models import DailySession, ReportKind


async def send_today(turn: Turn) -> None:
    """Today's routine: today's session if it exists (same buttons), else a new one."""
    session = await repo.session_on(
        turn.db, turn.patient.id, turn.patient.program_epoch, turn.today
    )
    if session is not None and session.outcome is RoutineOutcome.REST:
        turn.response.add(turn.t("routine_status.rest_today"))
        turn.then(Next.SCHEDULE)
        return
    if session is not None and session.outcome is not None:
        turn.response.add(turn.t("routine_status.already_answered"))
        turn.then(Next.SCHEDULE)
        return
    plan = plan_day(turn.state)
    if session is None:
        session = repo.add_session(
            turn.db, turn.patient, turn.today, plan.day, plan.exercises, plan.new, turn.now
        )
        await turn.db.flush()
    if plan.rest_day:
        # Nothing to mark: the rest day counts at once, and tomorrow the program goes on.
        await repo.record_outcome(turn.db, session.id, RoutineOutcome.REST, turn.now)
        turn.save_state(rest_day(turn.state))
    # One routine per local day: today's is out, so the dispatcher's next one is tomorrow's.
    next_at = turn.patient.next_send_at
    if next_at is not None and local_date(next_at, turn.zone) <= turn.today:
        reminder = turn.patient.reminder_time or turn.settings.default_reminder_time
        turn.patient.next_send_at = next_morning(
            reminder,
            turn.zone,
            turn.now,
            PatientStatus(turn.patient.status),
            turn.patient.paused_until,
            after_today=True,
        )
    turn.response.replies.extend(
        routine_replies(plan, session.id, turn.texts, side=turn.patient.symptom_side)
    )


async def on_button(turn: Turn, session_id: int, value: str, message_id: int) -> None:
    """Done / Not today / Had to stop under a routine: checked for ownership and staleness."""
    try:
        outcome = RoutineOutcome(value)
    except ValueError:
        outcome = RoutineOutcome.NO_ANSWER
    if outcome in (RoutineOutcome.NO_ANSWER, RoutineOutcome.REST):
        turn.response.answer = turn.t("errors.stale_button")
        return
    session = await open_session(turn, session_id)
    if session is not None:
        await record(turn, session, outcome, message_id)


async def open_session(turn: Turn, session_id: int) -> DailySession | None:
    """Today's routine ``session_id`` if this person may still mark it; else None, with the
    answer that says why (stale, not theirs, already marked, an older day, not active)."""
    session = await repo.get_session(turn.db, session_id)
    if session is None:
        turn.response.answer = turn.t("errors.stale_button")
        return None
    if session.patient_id != turn.patient.id:
        turn.response.answer = turn.t("errors.not_yours")
        return None
    if session.outcome is not None:
        turn.response.answer = turn.t("errors.already_recorded")
        return None
    if session.program_epoch != turn.patient.program_epoch or session.local_date != turn.today:
        turn.response.answer = turn.t("errors.old_routine")
        return None
    if turn.patient.status is not PatientStatus.ACTIVE:
        turn.response.answer = turn.t("errors.not_now")
        return None
    return session


async def record(
    turn: Turn,
    session: DailySession,
    outcome: RoutineOutcome,
    message_id: int,
    *,
    stop_exercise: int | None = None,
) -> None:
    """Mark the routine (the buttons of message ``message_id`` go); Done and Had to stop open
    the check-in (``stop_exercise``: the exercise stopped, already known)."""
    if not await repo.record_outcome(turn.db, session.id, outcome, turn.now):
        turn.response.answer = turn.t("errors.already_recorded")
        return
    turn.patient.nudge_at = None
    guided = turn.data(GuidedData)
    if guided is not None:
        # Marked while a guided session was open: it ends, and its step loses its buttons.
        if guided.card is not None and guided.card != message_id:
            turn.response.replies.append(
                Reply("", (), edit=guided.card, markup_only=True, cleanup=True)
            )
        turn.close()
    # The routine stays readable; only its answer buttons go ("Show me how" too: a new routine
    # comes tomorrow, and /howto still works).
    turn.response.replies.append(Reply("", (), edit=message_id, markup_only=True, cleanup=True))
    if outcome is RoutineOutcome.SKIPPED:
        turn.save_state(record_day(turn.state, DayOutcome(RoutineOutcome.SKIPPED)))
        turn.response.add(turn.t("routine_status.skipped"))
        return
    checkin.begin(
        turn,
        ReportKind.SESSION,
        session_id=session.id,
        stopped=outcome is RoutineOutcome.STOPPED,
        exercises=tuple(session.exercises),
        stop_exercise=stop_exercise,
    )


async def howto(turn: Turn, exercise_id: int) -> None:
    """ "Show me how" and /howto N: the pictures and steps of one exercise. While today's
    routine waits for its answer, the marking buttons follow again, so they stay the last
    thing on screen (the routine above keeps only its "Show me how" buttons)."""
    if exercise_id not in EXERCISE_ORDER:
        turn.response.add(turn.t("howto.usage"))
        return
    turn.response.replies.append(
        howto_reply(exercise_id, turn.texts, side=turn.patient.symptom_side)
    )
    if turn.patient.status is not PatientStatus.ACTIVE:
        return
    session = await repo.session_on(
        turn.db, turn.patient.id, turn.patient.program_epoch, turn.today
    )
    if session is None or session.outcome is not None or not session.exercises:
        return
    if session.message_id is not None:
        howto_rows = rows(
            *(
                Button(turn.t("buttons.show_how", number=x), howto_button(x))
                for x in session.exercises
            ),
            width=3,
        )
        turn.response.replies.append(
            Reply("", howto_rows, edit=session.message_id, markup_only=True, cleanup=True)
        )
    turn.response.replies.append(howto_buttons_reply(session.id, turn.texts))
