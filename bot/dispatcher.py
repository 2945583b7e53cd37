"""The morning dispatcher: one repeating job sends every due routine and nudge in batches."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.error import Forbidden
from telegram.ext import Application, ContextTypes, Job

from bot.domain.program import DayPlan, ProgramState, resume
from bot.domain.timing import (
    CatchUp,
    NonexistentLocalDate,
    catch_up,
    local_date,
    local_now,
    local_send_instant,
    next_send_at,
    nudge_at,
    resume_send_at,
)
from bot.outbox import send_lean
from bot.replies import Reply
from bot.services import SERVICES_KEY, Services
from bot.usecases.routine import plan_for, program_state, routine_buttons, routine_replies
from db import dispatch as q
from db.models import Patient, PatientStatus

log = logging.getLogger(__name__)

# How long a claim is ours. It must outlast sending one batch under Telegram's limits, 429 waits
# and retries included (the rate limiter gives up on a message after about five minutes), or a
# second dispatcher could take the rows over mid-send.
LEASE: Final = timedelta(minutes=10)
# A send that failed for a reason other than Forbidden is tried again this much later (until the
# catch-up cut-off), rather than hammering a failing chat every pass.
RETRY_FAILED_AFTER: Final = timedelta(minutes=5)
# People sent to at once within a batch; Telegram's pace comes from the rate limiter. 16 in
# flight cover 30 msg/s at Telegram's ~100 ms round trip; with the aiohttp transport, 32 or 64
# measured no faster in bench/dispatch.py (httpx's pool, before it, got slower with more).
SEND_CONCURRENCY: Final = 16

JOB_NAME: Final = "dispatcher"


class Skip(StrEnum):
    """Why a due person got no routine (or no nudge) in a pass."""

    PAUSED = "paused"
    SAFETY_HOLD = "safety_hold"
    INACTIVE = "inactive"  # blocked the bot earlier
    NOT_ACTIVE = "not_active"  # onboarding or declined
    ALREADY_SENT = "already_sent_today"
    MISSED = "missed_cutoff"
    NO_ROUTINE = "no_routine"  # the program has nothing to send (all exercises left out)
    INVALID = "invalid_data"  # unreadable program state or time zone
    FORBIDDEN = "forbidden"  # blocked the bot during this pass
    FAILED = "failed"  # Telegram kept failing; retried later
    NUDGE_ANSWERED = "nudge_not_needed"  # answered, off, or no routine today
    NUDGE_TOO_LATE = "nudge_too_late"


@dataclass
class DispatchReport:
    """What one pass did."""

    routines: int = 0
    nudges: int = 0
    welcome_backs: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    claimed: int = 0

    def merge(self, other: DispatchReport) -> None:
        self.routines += other.routines
        self.nudges += other.nudges
        self.welcome_backs += other.welcome_backs
        self.skipped.update(other.skipped)
        self.claimed += other.claimed

    def lines(self) -> list[str]:
        out = [
            f"Routines sent: {self.routines} ({self.welcome_backs} after a pause)",
            f"Nudges sent: {self.nudges}",
            f"Skipped: {sum(self.skipped.values())}",
        ]
        out += [f"  {reason}: {n}" for reason, n in sorted(self.skipped.items())]
        return out


@dataclass(slots=True)
class _Plan:
    """What to do for one claimed person; filled in step by step through the batch."""

    person: q.Claimed
    zone: ZoneInfo
    reminder: time
    # Defaults: nothing sent, times unchanged.
    next_send_at: datetime | None
    nudge_at: datetime | None
    skip: Skip | None = None
    routine: DayPlan | None = None
    today: date | None = None
    resumed: ProgramState | None = None
    session_id: int | None = None
    nudge_session: int | None = None
    retry_at: datetime | None = None
    message_id: int | None = None
    forbidden: bool = False

    @property
    def sends_routine(self) -> bool:
        return self.routine is not None and self.skip is None

    @property
    def sends_nudge(self) -> bool:
        return self.nudge_session is not None and self.skip is None


async def dispatch_once(
    bot: Bot, services: Services, now: datetime | None = None
) -> DispatchReport:
    """One pass as if it were ``now``: claim due people batch by batch until none are left."""
    now = services.clock() if now is None else now
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("dispatch_once needs an aware datetime")
    report = DispatchReport()
    batch_size = services.settings.dispatch_batch_size
    while True:
        batch = await _run_batch(bot, services, now, batch_size)
        report.merge(batch)
        # A batch releases or re-leases every row it claimed, so this always ends.
        if batch.claimed < batch_size:
            break
    if report.claimed:
        log.info(
            "Dispatch pass: %d routines, %d nudges, skipped %s",
            report.routines,
            report.nudges,
            dict(report.skipped) or "none",
        )
    return report


async def _run_batch(bot: Bot, services: Services, now: datetime, limit: int) -> DispatchReport:
    report = DispatchReport()
    async with services.sessions() as db, db.begin():
        claimed = await q.claim_due(db, now, now + LEASE, limit)
        report.claimed = len(claimed)
        if not claimed:
            return report
        plans = [_decide(person, now, services) for person in claimed]
        await _attach_sessions(db, plans, now)

    semaphore = asyncio.Semaphore(SEND_CONCURRENCY)

    async def send(plan: _Plan) -> None:
        async with semaphore:
            await _send(bot, services, plan)

    await asyncio.gather(*(send(p) for p in plans if p.sends_routine or p.sends_nudge))

    for plan in plans:
        _finish(plan, now, services)
    async with services.sessions() as db, db.begin():
        await _record(db, plans, now)

    for plan in plans:
        if plan.skip is not None:
            report.skipped[plan.skip.value] += 1
        elif plan.nudge_session is not None:
            report.nudges += 1
        elif plan.routine is not None:
            report.routines += 1
            report.welcome_backs += plan.resumed is not None
    return report


def _zone(person: q.Claimed, default: str) -> ZoneInfo:
    return ZoneInfo(person.time_zone or default)


def _decide(person: q.Claimed, now: datetime, services: Services) -> _Plan:
    """Everything about one person that needs no database and no Telegram."""
    settings = services.settings
    reminder = person.reminder_time or settings.default_reminder_time
    try:
        zone = _zone(person, settings.default_time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("Patient %d has an unknown time zone; using the default", person.id)
        zone = ZoneInfo(settings.default_time_zone)
    plan = _Plan(person, zone, reminder, person.next_send_at, person.nudge_at)

    routine_due = person.next_send_at is not None and person.next_send_at <= now
    if not routine_due:
        # Only the nudge is due; the session check happens with the database.
        plan.today = local_date(now, zone)
        inactive = person.blocked_at is not None or person.status != PatientStatus.ACTIVE
        if inactive or not person.nudges_enabled:
            plan.nudge_at = None
            plan.skip = Skip.NUDGE_ANSWERED
        elif local_now(now, zone).time() >= settings.nudge_latest:
            plan.nudge_at = None
            plan.skip = Skip.NUDGE_TOO_LATE
        return plan

    # A routine is due; any older nudge is stale now.
    assert person.next_send_at is not None
    plan.nudge_at = None
    tomorrow = next_send_at(reminder, zone, now)
    today = local_date(now, zone)
    plan.today = today

    if person.blocked_at is not None:
        # Keep their time moving, so they resume by themselves once they write again.
        return _skip(plan, Skip.INACTIVE, tomorrow)
    if person.status == PatientStatus.SAFETY_HOLD:
        return _skip(plan, Skip.SAFETY_HOLD, None)
    if person.status == PatientStatus.PAUSED:
        if person.paused_until is None:
            return _skip(plan, Skip.PAUSED, None)
        if person.paused_until > today:
            return _skip(plan, Skip.PAUSED, resume_send_at(person.paused_until, reminder, zone))
    elif person.status != PatientStatus.ACTIVE:
        return _skip(plan, Skip.NOT_ACTIVE, None)

    due = _effective_due(person.next_send_at, now, reminder, zone)
    if catch_up(due, now, zone, settings.catch_up_cutoff) is CatchUp.MISSED:
        # A paused person stays paused: tomorrow's claim resumes them with the welcome back.
        return _skip(plan, Skip.MISSED, tomorrow)

    try:
        state = program_state(_as_patient(person, person.program_state))
    except ValueError:
        log.warning("Patient %d has an unreadable program state; no routine sent", person.id)
        return _skip(plan, Skip.INVALID, tomorrow)
    if person.status == PatientStatus.PAUSED:
        state = resume(state)
        plan.resumed = state
    # plan_for is what /today uses, so both send the same routine.
    routine = plan_for(_as_patient(person, state.to_json()))
    if not routine.sends_routine:
        return _skip(plan, Skip.NO_ROUTINE, tomorrow)
    plan.routine = routine
    plan.next_send_at = tomorrow
    return plan


def _skip(plan: _Plan, reason: Skip, next_at: datetime | None) -> _Plan:
    plan.skip = reason
    plan.next_send_at = next_at
    return plan


def _as_patient(person: q.Claimed, state: dict[str, Any]) -> Patient:
    # A transient row for the use-case helpers, which read only these fields.
    return Patient(
        id=person.id,
        time_zone=person.time_zone,
        reminder_time=person.reminder_time,
        program_state=state,
        program_epoch=person.program_epoch,
    )


def _effective_due(due: datetime, now: datetime, reminder: time, zone: ZoneInfo) -> datetime:
    """The latest send time that has passed: after a long outage that is today's, not the
    stored (older) one, so today's routine still goes out if it is before the cut-off."""
    try:
        todays = local_send_instant(local_date(now, zone), reminder, zone)
    except NonexistentLocalDate:
        return due
    return todays if due < todays <= now else due


async def _attach_sessions(db: AsyncSession, plans: Sequence[_Plan], now: datetime) -> None:
    """Create today's session rows (ids go into the buttons) and find the nudges' sessions."""
    routines = [p for p in plans if p.sends_routine]
    inserted = await q.insert_sessions(
        db,
        [
            q.NewSession(
                patient_id=p.person.id,
                program_epoch=p.person.program_epoch,
                local_date=p.today,
                day_number=p.routine.day,
                exercises=p.routine.exercises,
                new_exercise=p.routine.new,
                sent_at=now,
            )
            for p in routines
            if p.routine is not None and p.today is not None
        ],
    )
    for p in routines:
        p.session_id = inserted.get(p.person.id)
    conflicts = [p for p in routines if p.session_id is None]
    nudges = [p for p in plans if p.routine is None and p.skip is None]
    existing = await q.sessions_on(
        db,
        [
            (p.person.id, p.person.program_epoch, p.today)
            for p in (*conflicts, *nudges)
            if p.today is not None
        ],
    )
    for p in conflicts:
        session = existing.get(p.person.id)
        if session is not None and session.unsent_by_dispatcher:
            p.session_id = session.id  # a send that crashed midway: send it again
        else:
            p.skip = Skip.ALREADY_SENT  # /today came first; next_send_at is already tomorrow
    for p in nudges:
        session = existing.get(p.person.id)
        p.nudge_at = None
        if (
            session is None
            or session.outcome is not None
            or session.nudged_at is not None
            or session.message_id is None
        ):
            p.skip = Skip.NUDGE_ANSWERED
        else:
            p.nudge_session = session.id


async def _send(bot: Bot, services: Services, plan: _Plan) -> None:
    content = services.content
    cat = content.catalogue
    replies: list[Reply]
    if plan.nudge_session is not None:
        replies = [Reply(cat.text("dispatch.nudge"), routine_buttons(plan.nudge_session, content))]
    else:
        assert plan.routine is not None
        assert plan.session_id is not None
        replies = routine_replies(plan.routine, plan.session_id, content)
        if plan.resumed is not None:
            replies.insert(0, Reply(cat.text("dispatch.welcome_back")))
    try:
        for reply in replies:
            plan.message_id = await send_lean(bot, plan.person.chat_id, reply)
    except Forbidden:
        plan.forbidden = True
    except Exception as exc:
        # The rate limiter already retried 429s and network errors; what is left is not going
        # to pass in this pass. Log the kind only: the message may quote the person's text.
        log.warning("Patient %d: send failed (%s); retrying later", plan.person.id, type(exc))
        plan.message_id = None
        plan.skip = Skip.FAILED


def _finish(plan: _Plan, now: datetime, services: Services) -> None:
    """Turn what happened on the wire into the person's next times."""
    settings = services.settings
    if plan.forbidden:
        plan.skip = Skip.FORBIDDEN
        plan.nudge_at = None
        return
    if plan.skip is Skip.FAILED:
        if plan.nudge_session is not None:
            plan.nudge_at = None  # nudges are a courtesy: not retried
        else:
            plan.next_send_at = plan.person.next_send_at  # still due: try again later
            plan.retry_at = now + RETRY_FAILED_AFTER
        return
    if plan.sends_routine and plan.person.nudges_enabled:
        plan.nudge_at = nudge_at(
            now, plan.zone, timedelta(hours=settings.nudge_after_hours), settings.nudge_latest
        )


async def _record(db: AsyncSession, plans: Sequence[_Plan], now: datetime) -> None:
    sent = [p for p in plans if p.skip is None]
    await q.resume_patients(
        db,
        [
            q.Resumed(p.person.id, p.person.version, p.resumed.to_json())
            for p in sent
            if p.resumed is not None and p.routine is not None
        ],
        now,
    )
    await q.release(
        db,
        [
            q.Release(p.person.id, p.person.version, p.next_send_at, p.nudge_at, p.retry_at)
            for p in plans
        ],
        now,
    )
    await q.mark_blocked(db, [p.person.id for p in plans if p.forbidden], now)
    await q.set_message_ids(
        db,
        [
            (p.session_id, p.message_id)
            for p in sent
            if p.routine is not None and p.session_id is not None and p.message_id is not None
        ],
    )
    await q.mark_nudged(db, [p.nudge_session for p in sent if p.nudge_session is not None], now)
    await q.delete_unsent(
        db,
        [
            p.session_id
            for p in plans
            if p.session_id is not None and p.skip in (Skip.FAILED, Skip.FORBIDDEN)
        ],
    )


# The job


async def _dispatch_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc: Services = context.application.bot_data[SERVICES_KEY]
    try:
        await dispatch_once(context.bot, svc, svc.clock())
    except Exception:
        # The next pass tries again; rows claimed by this one are released when the lease ends.
        log.exception("Dispatch pass failed")


def schedule_dispatcher(app: Application) -> Job[Any]:  # type: ignore[type-arg]
    """Register the one repeating dispatcher job (no job per person)."""
    if app.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    svc: Services = app.bot_data[SERVICES_KEY]
    interval = svc.settings.dispatch_interval_seconds
    return app.job_queue.run_repeating(
        _dispatch_job,
        interval=interval,
        first=min(interval, 1.0),
        name=JOB_NAME,
        # A pass that outlasts the interval (a big morning under Telegram's limits) is not
        # overlapped by another in this process; the next run starts when it is done.
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
