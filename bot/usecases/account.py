"""The commands of a person with a program: /start again, /today, /checkin, /status, /pause,
/resume, /reset, /delete, /reminders, /weekly, /language, /howto and /help."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.flows import DeleteData, LanguageData, Next, ResetData, WeeklyData
from bot.domain.parsing import InvalidNumber, parse_pause_days, parse_rating
from bot.domain.program import PatientStatus, plan_day, program_day, resume, start_program
from bot.domain.program import pause as pause_program
from bot.domain.safety import Tier
from bot.domain.timing import local_date, resume_send_at
from bot.rendering import onboarding_texts
from bot.rendering import status as status_texts
from bot.rendering.i18n import available_languages, texts_for
from bot.rendering.replies import Reply
from bot.usecases import checkin, followup, holds, onboarding, routine, schedule
from bot.usecases.turn import Turn
from db import repo
from db.models import ReportKind, SafetyEvent, SymptomReport


def _needs_program(turn: Turn) -> bool:
    """True (and the reason said) when the person has no program to act on yet."""
    if turn.patient.status is PatientStatus.ONBOARDING:
        turn.response.add(turn.t("errors.finish_onboarding"))
        return True
    return False


async def start(turn: Turn, _args: str | None) -> None:
    status = turn.patient.status
    if status is PatientStatus.SAFETY_HOLD:
        await holds.show(turn)
    elif status is PatientStatus.ONBOARDING:
        await onboarding.resume(turn)
    else:
        turn.response.add(turn.t("welcome.back"))
        await status_command(turn, None)


async def today(turn: Turn, _args: str | None) -> None:
    if _needs_program(turn):
        return
    status = turn.patient.status
    if status is PatientStatus.SAFETY_HOLD:
        await holds.show(turn)
        return
    if status is PatientStatus.PAUSED:
        turn.response.add(status_texts.paused(turn.patient.paused_until, turn.texts))
        return
    report = await followup.due(turn)
    if report is not None:
        followup.ask(turn, report)
        return
    if onboarding.side_unasked(turn):
        # Which leg, asked once of people who started before the question existed: first, so
        # that today's pictures show that leg.
        onboarding.ask_side(turn, Next.TODAY)
        return
    await routine.send_today(turn)


async def checkin_command(turn: Turn, _args: str | None) -> None:
    if _needs_program(turn):
        return
    if turn.patient.status is PatientStatus.SAFETY_HOLD:
        await holds.show(turn)
        return
    checkin.begin(turn, ReportKind.ADHOC)


async def status_command(turn: Turn, _args: str | None) -> None:
    if _needs_program(turn):
        return
    patient = turn.patient
    state = turn.state
    plan = plan_day(state)
    session = await repo.session_on(turn.db, patient.id, patient.program_epoch, turn.today)
    reports = await repo.reports_of(turn.db, patient.id)
    baseline = _last(reports, baseline=True)
    latest = _last(reports, baseline=False)
    events = await repo.events_of(turn.db, patient.id)
    tier = holds.current_tier(turn)
    view = status_texts.StatusView(
        status=patient.status,
        plan=plan,
        today_open=session is not None and session.outcome is None,
        next_send_at=patient.next_send_at if patient.blocked_at is None else None,
        zone=turn.zone,
        now=turn.now,
        paused_until=patient.paused_until,
        hold_tier=tier,
        release_from=holds.release_from(turn),
        baseline=baseline,
        latest=latest,
        nudges=patient.nudges_enabled,
        weekly=patient.weekly_enabled,
        assessment_advised_on=_advised_on(turn, events, "symptoms_6_weeks"),
        review_advised_on=_advised_on(turn, events, "no_improvement_3_weeks"),
        side=patient.symptom_side,
        day=program_day(state, session.outcome if session is not None else None),
    )
    turn.response.add(status_texts.status(view, turn.texts))


def _last(reports: list[SymptomReport], *, baseline: bool) -> status_texts.Ratings | None:
    for report in reversed(reports):
        if (report.kind == ReportKind.BASELINE) == baseline and report.has_ratings:
            return status_texts.Ratings(
                report.pain or 0, report.numbness or 0, report.tingling or 0, report.extent or 0
            )
    return None


def _advised_on(turn: Turn, events: list[SafetyEvent], rule: str) -> date | None:
    for event in reversed(events):
        if rule in event.reasons:
            return local_date(event.created_at, turn.zone)
    return None


async def pause(turn: Turn, args: str | None) -> None:
    if _needs_program(turn):
        return
    if turn.patient.status is PatientStatus.SAFETY_HOLD:
        await holds.show(turn)
        return
    try:
        days = parse_pause_days(args)
    except InvalidNumber as exc:
        turn.response.add(turn.t("pause.invalid", minimum=exc.minimum, maximum=exc.maximum))
        return
    patient = turn.patient
    if days is None:
        patient.paused_until = None
    else:
        patient.paused_until = turn.today + timedelta(days=days)
    turn.save_state(pause_program(turn.state))
    if patient.paused_until is not None:
        reminder = patient.reminder_time or turn.settings.default_reminder_time
        patient.next_send_at = resume_send_at(patient.paused_until, reminder, turn.zone)
    turn.response.add(status_texts.paused(patient.paused_until, turn.texts, days=days))


async def resume_command(turn: Turn, _args: str | None) -> None:
    status = turn.patient.status
    if status is PatientStatus.SAFETY_HOLD:
        await holds.on_resume(turn)
        return
    if _needs_program(turn):
        return
    if status is PatientStatus.ACTIVE:
        turn.response.add(turn.t("pause.not_paused"))
        return
    turn.patient.paused_until = None
    turn.save_state(resume(turn.state))
    turn.schedule_next()
    turn.response.add(turn.t("pause.resumed"))
    turn.then(Next.SCHEDULE)


# --- /reset and /delete (both confirmed first) ---------------------------------------------------


async def reset(turn: Turn, _args: str | None) -> None:
    if _needs_program(turn):
        return
    if turn.patient.status is PatientStatus.SAFETY_HOLD:
        await holds.show(turn)
        return
    data = turn.open(ResetData())
    turn.response.add(*status_texts.reset_question(data.nonce, turn.texts))


async def on_reset(turn: Turn, data: ResetData, value: str, message_id: int) -> None:
    turn.close()
    if value != "yes":
        turn.response.replies.append(Reply(turn.t("reset.cancelled"), edit=message_id))
        return
    patient = turn.patient
    patient.program_epoch += 1
    patient.program_started_on = turn.today
    patient.paused_until = None
    patient.follow_up_report_id = None
    turn.save_state(start_program())
    turn.schedule_next()
    turn.schedule_weekly()
    turn.response.replies.append(Reply(turn.t("reset.done"), edit=message_id))
    turn.then(Next.SCHEDULE)


async def delete(turn: Turn, _args: str | None) -> None:
    data = turn.open(DeleteData())
    turn.response.add(*status_texts.delete_question(data.nonce, turn.texts))


async def on_delete(turn: Turn, data: DeleteData, value: str, message_id: int) -> None:
    if value != "yes":
        turn.close()
        turn.response.replies.append(Reply(turn.t("delete.cancelled"), edit=message_id))
        return
    turn.response.replies.append(Reply(turn.t("delete.done"), edit=message_id))
    await turn.erase()


# --- Settings ------------------------------------------------------------------------------------


async def time_command(turn: Turn, _args: str | None) -> None:
    if _needs_program(turn):
        return
    schedule.ask_reminder(turn, Next.SCHEDULE)


async def timezone_command(turn: Turn, _args: str | None) -> None:
    if _needs_program(turn):
        return
    schedule.ask_zone(turn, Next.SCHEDULE)


_ON = frozenset({"on", "yes", "oui"})
_OFF = frozenset({"off", "no", "non", "stop"})


async def reminders(turn: Turn, args: str | None) -> None:
    """/reminders off|on: the follow-up nudge (no argument: show the setting)."""
    if _needs_program(turn):
        return
    choice = (args or "").strip().casefold()
    patient = turn.patient
    if choice in _ON or choice in _OFF:
        patient.nudges_enabled = choice in _ON
        if not patient.nudges_enabled:
            patient.nudge_at = None
        turn.touch()
        key = "dispatch.reminders_on" if patient.nudges_enabled else "dispatch.reminders_off"
        turn.response.add(turn.t(key, latest=turn.texts.time(turn.settings.nudge_latest)))
        return
    current = (
        "dispatch.reminders_status_on"
        if patient.nudges_enabled
        else "dispatch.reminders_status_off"
    )
    turn.response.add(turn.t(current) + "\n" + turn.t("dispatch.reminders_usage"))


async def weekly(turn: Turn, args: str | None) -> None:
    """/weekly [off|on]: the weekly look back (no argument: choose its day)."""
    if _needs_program(turn):
        return
    choice = (args or "").strip().casefold()
    patient = turn.patient
    if choice in _OFF or choice in _ON:
        patient.weekly_enabled = choice in _ON
        turn.schedule_weekly()
        turn.touch()
        turn.response.add(
            turn.t("weekly_setting.on" if patient.weekly_enabled else "weekly_setting.off")
        )
        return
    data = turn.open(WeeklyData())
    turn.response.add(*status_texts.weekly_question(data.nonce, turn.texts))


async def on_weekly_day(turn: Turn, data: WeeklyData, value: str, message_id: int) -> None:
    patient = turn.patient
    if value != "off" and not (value.isascii() and value.isdigit() and int(value) <= 6):
        turn.response.answer = turn.t("errors.stale_button")
        return
    turn.close()
    if value == "off":
        patient.weekly_enabled = False
        patient.next_weekly_at = None
        turn.response.replies.append(Reply(turn.t("weekly_setting.off"), edit=message_id))
        return
    try:
        weekday = parse_rating(value, 6)
    except InvalidNumber:
        turn.response.answer = turn.t("errors.stale_button")
        return
    patient.weekly_enabled = True
    patient.weekly_weekday = weekday
    turn.schedule_weekly()
    turn.response.replies.append(
        Reply(turn.t("weekly_setting.chosen", day=turn.texts.weekday(weekday)), edit=message_id)
    )


async def language(turn: Turn, _args: str | None) -> None:
    data = turn.open(LanguageData())
    turn.response.add(*onboarding_texts.language_question(data.nonce, turn.texts))


async def on_language(turn: Turn, data: LanguageData, value: str, message_id: int) -> None:
    if value not in available_languages():
        turn.response.answer = turn.t("errors.stale_button")
        return
    turn.close()
    turn.patient.language = value
    turn.texts = texts_for(value)
    turn.response.replies.append(Reply(turn.t("language.chosen"), edit=message_id))


async def howto(turn: Turn, args: str | None) -> None:
    try:
        exercise = parse_rating(args or "", 5, minimum=1)
    except InvalidNumber:
        turn.response.add(turn.t("howto.usage"))
        return
    await routine.howto(turn, exercise)


async def ack_help(turn: Turn) -> None:
    """ "I am getting help now" under emergency or urgent advice: acknowledged, nothing else
    changes (the hold stays until the release step)."""
    tier = holds.current_tier(turn)
    turn.response.answer = turn.t("hold.getting_help_answer")
    if tier is not None and tier >= Tier.URGENT:
        turn.response.add(turn.t("hold.getting_help_reply"))
