"""The commands of an onboarded person: /today, /checkin, /status, /pause, /resume, /reset,
/time, /timezone, /delete, and the routine's own buttons."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain.parsing import InvalidNumber, parse_pause_days
from bot.domain.program import (
    DayOutcome,
    ProgramStatus,
    RoutineOutcome,
    plan_day,
    record_day,
    resume,
    start_program,
)
from bot.domain.timing import first_send_at, local_date, local_now, resume_send_at
from bot.replies import Reply, rows
from bot.usecases import checkin, onboarding
from bot.usecases.flows import HOLD_TEXT, Turn
from bot.usecases.routine import DONE, SKIP, STOP, routine_replies
from db import repo
from db.models import DailySession, PatientStatus, ReportKind, SessionOutcome, SymptomReport

_OUTCOMES = {DONE: SessionOutcome.DONE, SKIP: SessionOutcome.SKIPPED, STOP: SessionOutcome.STOPPED}


def refuse_if_not_active(turn: Turn) -> bool:
    """Explain why there is no routine now; True when the person is not active."""
    status = turn.patient.status
    if status == PatientStatus.ACTIVE:
        return False
    if status == PatientStatus.SAFETY_HOLD:
        show_hold(turn)
    elif status == PatientStatus.PAUSED:
        turn.outcome.add(pause_text(turn))
    else:
        turn.outcome.add(turn.t("errors.finish_onboarding"))
    return True


def refuse_unless_enrolled(turn: Turn) -> bool:
    """For commands that need a program (active or paused): explain why not; True if refused."""
    status = turn.patient.status
    if status in (PatientStatus.ACTIVE, PatientStatus.PAUSED):
        return False
    if status == PatientStatus.SAFETY_HOLD:
        show_hold(turn)
    else:
        turn.outcome.add(turn.t("errors.finish_onboarding"))
    return True


def show_hold(turn: Turn) -> None:
    """The emergency or urgent advice again, unchanged, with the one way out."""
    text = turn.data.get(HOLD_TEXT) or turn.t("hold.generic")
    turn.outcome.add(text, checkin.hold_keyboard(turn))


async def on_hold_confirmed(turn: Turn, message_id: int) -> None:
    turn.outcome.replies.append(
        Reply(turn.data.get(HOLD_TEXT) or turn.t("hold.generic"), edit=message_id)
    )
    turn.set_kept(HOLD_TEXT, None)
    turn.end_flow()
    # The safety events record when the person confirmed that a professional agreed.
    await repo.acknowledge_events(turn.db, turn.patient.id, turn.now)
    if turn.patient.reminder_time is None or turn.patient.time_zone is None:
        # The hold came at screening: the rest of onboarding follows.
        turn.patient.status = PatientStatus.ONBOARDING
        turn.patient.program_state = {}
        turn.outcome.add(turn.t("hold.released_onboarding"))
        onboarding.ask_baseline(turn)
        return
    turn.save_state(resume(turn.state))
    turn.patient.paused_until = None
    turn.schedule_next()
    turn.outcome.add(turn.t("hold.released"))
    turn.outcome.add(next_routine_text(turn))


# /today and the routine buttons


async def today(turn: Turn) -> None:
    if refuse_if_not_active(turn):
        return
    await send_today(turn)


async def send_today(turn: Turn) -> None:
    """Today's routine: the session of today if it exists (same buttons), else a new one."""
    session = await repo.session_on(
        turn.db, turn.patient.id, turn.patient.program_epoch, turn.today
    )
    if session is not None and session.outcome is not None:
        turn.outcome.add(turn.t("routine_status.already_answered"))
        turn.outcome.add(next_routine_text(turn))
        return
    plan = plan_day(turn.state)
    if session is None:
        session = repo.add_session(
            turn.db, turn.patient, turn.today, plan.day, plan.exercises, plan.new, turn.now
        )
        await turn.db.flush()
    # One routine per local day: today's is out, so the dispatcher's next one is tomorrow's.
    next_at = turn.patient.next_send_at
    if next_at is not None and local_date(next_at, turn.zone) <= turn.today:
        reminder = turn.patient.reminder_time or turn.settings.default_reminder_time
        turn.patient.next_send_at = first_send_at(reminder, turn.zone, turn.now, start_today=False)
    replies = routine_replies(plan, session.id, turn.content)
    replies[-1] = replace(replies[-1], track=f"session:{session.id}")
    turn.outcome.replies.extend(replies)


async def on_routine_button(turn: Turn, session: DailySession, value: str, message_id: int) -> None:
    """Done / Not today / Had to stop under a routine (ownership and staleness already checked)."""
    if not await repo.record_outcome(turn.db, session.id, _OUTCOMES[value], turn.now):
        turn.outcome.answer = turn.t("errors.already_recorded")
        return
    turn.patient.nudge_at = None
    # The routine stays readable; only its buttons go.
    turn.outcome.replies.append(Reply("", (), edit=message_id, markup_only=True))
    if value == SKIP:
        turn.save_state(record_day(turn.state, DayOutcome(RoutineOutcome.SKIPPED)))
        turn.outcome.add(turn.t("routine_status.skipped"))
        return
    checkin.begin(
        turn,
        ReportKind.SESSION,
        session_id=session.id,
        stopped=value == STOP,
        exercises=list(session.exercises),
    )


# /checkin


def start_checkin(turn: Turn) -> None:
    if refuse_unless_enrolled(turn):
        return
    checkin.begin(turn, ReportKind.ADHOC)


# /status


async def status(turn: Turn) -> None:
    patient = turn.patient
    if refuse_unless_enrolled(turn):
        return
    plan = plan_day(turn.state)
    cat = turn.content
    lines = [turn.t("status.title", day=plan.day)]
    names = [f"{x}. {cat.exercise(x).name}" for x in plan.exercises]
    lines.append(turn.t("status.routine", exercises=", ".join(names) or turn.t("status.none")))
    for exclusion in plan.excluded:
        lines.append(
            turn.t(
                "status.excluded",
                number=exclusion.exercise,
                name=cat.exercise(exclusion.exercise).name,
                reason=turn.t(f"program.excluded.{exclusion.reason.value}"),
            )
        )
    if patient.status == PatientStatus.PAUSED:
        lines.append(pause_text(turn))
    else:
        lines.append(next_routine_text(turn))
    reports = await repo.reports_of(turn.db, patient.id)
    baseline = next((r for r in reversed(reports) if r.kind == ReportKind.BASELINE), None)
    latest = next((r for r in reversed(reports) if r.kind != ReportKind.BASELINE), None)
    if baseline is not None:
        lines.append(_ratings_line(turn, "status.baseline", baseline))
    if latest is not None:
        lines.append(_ratings_line(turn, "status.latest", latest))
    reminders = "status.nudges_on" if patient.nudges_enabled else "status.nudges_off"
    lines.append(turn.t(reminders))
    turn.outcome.add("\n".join(lines))


def _ratings_line(turn: Turn, key: str, report: SymptomReport) -> str:
    return turn.t(
        key,
        pain=report.pain,
        numbness=report.numbness,
        tingling=report.tingling,
        extent=turn.t(f"measures.extent.{report.extent}"),
    )


def next_routine_text(turn: Turn) -> str:
    patient = turn.patient
    if patient.next_send_at is None or patient.status != PatientStatus.ACTIVE:
        return turn.t("status.no_next")
    local = local_now(patient.next_send_at, turn.zone)
    today = turn.today
    if local.date() == today:
        when = turn.t("status.today_at", time=f"{local:%H:%M}")
    elif local.date() == today + timedelta(days=1):
        when = turn.t("status.tomorrow_at", time=f"{local:%H:%M}")
    else:
        when = turn.t("status.on_date", date=f"{local:%A %d %B}", time=f"{local:%H:%M}")
    return turn.t("status.next", when=when, zone=patient.time_zone or "UTC")


def pause_text(turn: Turn) -> str:
    until = turn.patient.paused_until
    if until is None:
        return turn.t("pause.paused_indefinitely")
    return turn.t("pause.paused_until", date=f"{until:%A %d %B}")


# /pause, /resume


def pause(turn: Turn, argument: str | None) -> None:
    if refuse_unless_enrolled(turn):
        return
    try:
        days = parse_pause_days(argument)
    except InvalidNumber as exc:
        turn.outcome.add(turn.t("pause.invalid", minimum=exc.minimum, maximum=exc.maximum))
        return
    patient = turn.patient
    if days is None:
        patient.paused_until = None
        patient.next_send_at = None
    else:
        until = turn.today + timedelta(days=days)
        patient.paused_until = until
        reminder = patient.reminder_time or turn.settings.default_reminder_time
        patient.next_send_at = resume_send_at(until, reminder, turn.zone)
    turn.set_status(turn.state, ProgramStatus.PAUSED)
    turn.outcome.add(pause_text(turn) + "\n" + turn.t("pause.how_to_resume"))


def resume_program(turn: Turn) -> None:
    status = turn.patient.status
    if status == PatientStatus.SAFETY_HOLD:
        show_hold(turn)
        return
    if status == PatientStatus.ACTIVE:
        turn.outcome.add(turn.t("pause.not_paused"))
        return
    if status != PatientStatus.PAUSED:
        turn.outcome.add(turn.t("errors.finish_onboarding"))
        return
    turn.patient.paused_until = None
    turn.save_state(resume(turn.state))
    turn.schedule_next()
    turn.outcome.add(turn.t("pause.resumed"))
    turn.outcome.add(next_routine_text(turn))


# /reset and /delete (both confirmed first)


def ask_reset(turn: Turn) -> None:
    if refuse_unless_enrolled(turn):
        return
    turn.start_flow("confirm_reset")
    turn.outcome.add(
        turn.t("reset.question"),
        rows(
            turn.button(turn.t("reset.yes"), "reset:yes"),
            turn.button(turn.t("common.cancel"), "reset:no"),
        ),
    )


def on_reset(turn: Turn, value: str, message_id: int) -> None:
    turn.end_flow()
    if value != "yes":
        turn.outcome.replies.append(Reply(turn.t("reset.cancelled"), edit=message_id))
        return
    patient = turn.patient
    patient.program_epoch += 1
    patient.program_started_on = turn.today
    patient.paused_until = None
    turn.save_state(start_program())
    turn.schedule_next()
    turn.outcome.replies.append(Reply(turn.t("reset.done"), edit=message_id))
    turn.outcome.add(next_routine_text(turn))


def ask_delete(turn: Turn) -> None:
    turn.start_flow("confirm_delete")
    turn.outcome.add(
        turn.t("delete.question"),
        rows(
            turn.button(turn.t("delete.yes"), "delete:yes"),
            turn.button(turn.t("common.cancel"), "delete:no"),
        ),
    )
