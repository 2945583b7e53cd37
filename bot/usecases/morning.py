"""The morning dispatcher's work: claim the people who are due, send each their routine (or the
next-morning follow-up question, a nudge, a weekly look back), and record it.

One pass claims due people in batches (a lease in the database, extended by a heartbeat while
this process sends), decides for each what is due without Telegram or SQL, creates the day's
sessions in bulk, sends with bounded concurrency at the broadcast priority (replies to people
go first), and records what was delivered in small groups as sends complete. So a crash repeats
at most the sends in flight plus one unrecorded group, and a stop (SIGTERM) hands every unsent
claim back at once.

Delivery rule, one for both paths: when a send's outcome is unknown (the answer was lost), the
routine is sent again — a possible duplicate rather than a possible miss. The rate limiter
resends at once; if it gives up, the person is tried again RETRY_FAILED_AFTER later, until the
catch-up cut-off.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import TelegramError

from bot.context import Services
from bot.domain.morning import (
    Kind,
    NextTimes,
    after_send,
    decide,
    follow_up_or_routine,
    nudge_session_ok,
)
from bot.domain.morning import (
    Skip as Skip,  # re-exported: why a due person got nothing (tests and callers read it here)
)
from bot.domain.program import DayPlan, ProgramState, RoutineOutcome
from bot.domain.silence import Silence, with_silence
from bot.domain.timing import local_date
from bot.rendering.i18n import Texts, texts_for
from bot.rendering.offload import chart_png
from bot.rendering.progress_texts import has_enough_for_chart, render_weekly
from bot.rendering.replies import ChatGone, Reply, Response, Upload
from bot.rendering.routine_texts import answer_buttons, routine_replies
from bot.rendering.silence_texts import silence_question
from bot.rendering.status import follow_up_question
from bot.usecases import activities, progress_reports
from bot.usecases.turn import report_unreadable_state, zone_of
from db import dispatch as q
from db import repo
from db.models import Patient

log = logging.getLogger(__name__)

# How long a claim is ours without a heartbeat: a process that dies loses its claims this long
# after its last heartbeat, and another process (or this one restarted) takes them over.
LEASE: Final = timedelta(minutes=2)
HEARTBEAT_EVERY: Final = 30.0  # seconds
# A send that failed for a reason other than a gone chat is tried again this much later (until
# the catch-up cut-off), rather than hammering a failing chat every pass.
RETRY_FAILED_AFTER: Final = timedelta(minutes=5)
# People sent to at once; Telegram's pace comes from the rate limiter. 16 in flight cover
# 30 msg/s at Telegram's ~100 ms round trip.
SEND_CONCURRENCY: Final = 16
# Deliveries are recorded in groups of this many (or sooner when the sends run dry).
RECORD_EVERY: Final = 8


@dataclass
class DispatchReport:
    """What one pass did."""

    routines: int = 0
    nudges: int = 0
    welcome_backs: int = 0
    follow_ups: int = 0
    silence_questions: int = 0
    weekly: int = 0
    messages: int = 0  # Telegram messages, an album counting each of its pictures
    retried_later: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    claimed: int = 0

    def merge(self, other: DispatchReport) -> None:
        self.routines += other.routines
        self.nudges += other.nudges
        self.welcome_backs += other.welcome_backs
        self.follow_ups += other.follow_ups
        self.silence_questions += other.silence_questions
        self.weekly += other.weekly
        self.messages += other.messages
        self.retried_later += other.retried_later
        self.skipped.update(other.skipped)
        self.claimed += other.claimed

    def lines(self) -> list[str]:
        out = [
            f"Routines sent: {self.routines} ({self.welcome_backs} after a pause)",
            f"Follow-up questions sent: {self.follow_ups}",
            f"Silence questions sent: {self.silence_questions}",
            f"Nudges sent: {self.nudges}",
            f"Weekly look backs sent: {self.weekly}",
            f"Telegram messages: {self.messages}",
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
    texts: Texts
    # Defaults: nothing sent, times unchanged.
    next_send_at: datetime | None
    nudge_at: datetime | None
    next_weekly_at: datetime | None
    today: date
    kind: Kind | None = None
    skip: Skip | None = None
    routine: DayPlan | None = None
    resumed: ProgramState | None = None
    rested: ProgramState | None = None  # a rest day: the state once it is sent (it counts)
    session_id: int | None = None
    follow_up: q.FollowUp | None = None
    weekly: bool = False  # the weekly look back is due too (after the routine, if any)
    weekly_sent: bool = False
    retry_at: datetime | None = None
    message_id: int | None = None
    messages: int = 0
    gone: bool = False
    silence: Silence | None = None  # stored once this morning is through (bot.domain.silence)
    pictures_shown: bool = False  # the new exercise's album went out on an earlier day

    @property
    def sends(self) -> bool:
        return self.kind is not None and self.skip is None

    @property
    def sends_weekly(self) -> bool:
        return self.weekly and self.skip in (None, Skip.ALREADY_SENT, Skip.NO_ROUTINE)


async def dispatch_once(
    services: Services,
    now: datetime | None = None,
    *,
    owner: str = "",
    stopping: asyncio.Event | None = None,
) -> DispatchReport:
    """One pass as if it were ``now``: claim due people batch by batch until none are left
    (or the process is stopping)."""
    real = services.clock()
    now = real if now is None else now
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("dispatch_once needs an aware datetime")
    # One clock per pass: leases and heartbeats run on the pass's time (``now`` plus what has
    # elapsed), so a pass "as if it were" another time compares and stamps on the same clock.
    offset = now - real

    def clock() -> datetime:
        return services.clock() + offset

    stopping = stopping or asyncio.Event()
    report = DispatchReport()
    batch_size = services.settings.dispatch_batch_size
    while not stopping.is_set():
        batch = await _Batch(services, now, clock, owner, stopping).run(batch_size)
        report.merge(batch)
        # A batch releases or re-leases every row it claimed, so this always ends.
        if batch.claimed < batch_size:
            break
    if report.claimed:
        log.info(
            "Dispatch pass: %d routines, %d follow-ups, %d nudges, %d weekly, skipped %s",
            report.routines,
            report.follow_ups,
            report.nudges,
            report.weekly,
            dict(report.skipped) or "none",
        )
    if report.retried_later:
        log.warning(
            "Dispatch pass: %d sends failed after retries; they are sent again later "
            "(possible duplicates rather than misses)",
            report.retried_later,
        )
    _count(services, report)
    return report


def _count(services: Services, report: DispatchReport) -> None:
    """The pass's sends and skips in the metrics (/metrics), when they are kept."""
    metrics = services.metrics
    if metrics is not None:
        for kind, count in (
            (Kind.ROUTINE, report.routines),
            (Kind.FOLLOW_UP, report.follow_ups),
            (Kind.NUDGE, report.nudges),
            (Kind.WEEKLY, report.weekly),
        ):
            if count:
                metrics.routines_sent.labels(kind.value).inc(count)
        for reason, count in report.skipped.items():
            metrics.routines_skipped.labels(reason).inc(count)


class _Batch:
    def __init__(
        self,
        services: Services,
        now: datetime,
        clock: Callable[[], datetime],
        owner: str,
        stopping: asyncio.Event,
    ) -> None:
        self.services = services
        self.now = now
        self.clock = clock
        self.owner = owner
        self.stopping = stopping
        self.report = DispatchReport()
        self._to_record: list[_Plan] = []
        self._recorded: set[int] = set()
        self._record_lock = asyncio.Lock()

    async def run(self, limit: int) -> DispatchReport:
        services, now = self.services, self.now
        async with services.sessions() as db, db.begin():
            claimed = await q.claim_due(db, now, self.clock() + LEASE, limit, self.owner)
            self.report.claimed = len(claimed)
            if not claimed:
                return self.report
            plans = [_decide(person, now, services) for person in claimed]
            await _attach(db, plans, now)

        heartbeat = asyncio.create_task(self._heartbeat([p.person.id for p in plans]))
        try:
            await self._send_all([p for p in plans if p.sends or p.sends_weekly])
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            # Everything not recorded yet (skips, the last group, what a stop left unsent).
            await self._record([p for p in plans if p.person.id not in self._recorded])

        for plan in plans:
            self.report.weekly += plan.weekly_sent
            if plan.skip is not None:
                self.report.skipped[plan.skip.value] += 1
                self.report.retried_later += plan.skip is Skip.FAILED
                continue
            self.report.messages += plan.messages
            if plan.kind is Kind.NUDGE:
                self.report.nudges += 1
            elif plan.kind is Kind.FOLLOW_UP:
                self.report.follow_ups += 1
            elif plan.kind is Kind.SILENCE:
                self.report.silence_questions += 1
            elif plan.kind is Kind.ROUTINE:
                self.report.routines += 1
                self.report.welcome_backs += plan.resumed is not None
        return self.report

    async def _heartbeat(self, ids: list[int]) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            pending = [i for i in ids if i not in self._recorded]
            async with self.services.sessions() as db, db.begin():
                await q.heartbeat(db, self.owner, pending, self.clock() + LEASE)

    async def _send_all(self, plans: Sequence[_Plan]) -> None:
        queue = list(plans)
        queue.reverse()

        sending: dict[int, _Plan] = {}

        async def worker() -> None:
            while queue and not self.stopping.is_set():
                plan = queue.pop()
                sending[plan.person.id] = plan
                await _send(self.services, plan, self.now)
                del sending[plan.person.id]
                _finish(plan, self.now, self.services)
                self._to_record.append(plan)
                if len(self._to_record) >= RECORD_EVERY:
                    await self._flush()

        workers = [asyncio.create_task(worker()) for _ in range(min(SEND_CONCURRENCY, len(queue)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            # The process is stopping, or the pass was cancelled: hand back at once, untouched,
            # what was not sent and what was cut off mid-send (sent again: a possible duplicate
            # rather than a miss). Left as they were, they would be recorded as sent.
            for plan in (*queue, *sending.values()):
                _hand_back(plan)
        await self._flush()

    async def _flush(self) -> None:
        async with self._record_lock:
            group, self._to_record = self._to_record, []
            if group:
                await self._record(group)

    async def _record(self, plans: Sequence[_Plan]) -> None:
        if not plans:
            return
        async with self.services.sessions() as db, db.begin():
            await _record(db, plans, self.now)
        self._recorded.update(p.person.id for p in plans)


def _decide(person: q.Claimed, now: datetime, services: Services) -> _Plan:
    """What is due (bot.domain.morning.decide), with what sending it needs."""
    settings = services.settings
    reminder = person.reminder_time or settings.default_reminder_time
    zone = zone_of(person, settings.default_time_zone)
    d = decide(
        person,
        now,
        zone,
        reminder,
        cutoff=settings.catch_up_cutoff,
        nudge_latest=settings.nudge_latest,
    )
    if d.skip is Skip.INVALID:
        report_unreadable_state(person.id)  # once, not at every morning's claim
    return _Plan(
        person,
        zone,
        reminder,
        texts_for(person.language),
        d.next_send_at,
        d.nudge_at,
        d.next_weekly_at,
        kind=d.kind,
        skip=d.skip,
        routine=d.routine,
        today=d.today,
        resumed=d.resumed,
        rested=d.rested,
        silence=d.silence,
        weekly=d.weekly,
    )


def _hand_back(plan: _Plan) -> None:
    """Unsent because the process stops: the person keeps their due time, claimable at once."""
    plan.skip = Skip.STOPPED
    plan.next_send_at = plan.person.next_send_at
    plan.nudge_at = plan.person.nudge_at
    plan.next_weekly_at = plan.person.next_weekly_at
    plan.retry_at = None


async def _attach(db: AsyncSession, plans: Sequence[_Plan], now: datetime) -> None:
    """Read the follow-ups, create today's session rows (ids go into the buttons), and find
    the sessions nudges are about."""
    await _attach_follow_ups(db, plans)
    routines = [p for p in plans if p.sends and p.kind is Kind.ROUTINE]
    await _attach_sessions(db, routines, now)
    conflicts = [p for p in routines if p.session_id is None]
    nudges = [p for p in plans if p.sends and p.kind is Kind.NUDGE]
    existing = await q.sessions_on(
        db, [(p.person.id, p.person.program_epoch, p.today) for p in (*conflicts, *nudges)]
    )
    for p in conflicts:
        session = existing.get(p.person.id)
        if session is not None and session.unsent_by_dispatcher:
            p.session_id = session.id  # a send that crashed midway: send it again
        else:
            p.skip = Skip.ALREADY_SENT  # /today came first; next_send_at is already tomorrow
    for p in nudges:
        session = existing.get(p.person.id)
        if session is not None and nudge_session_ok(
            answered=session.outcome is not None,
            nudged=session.nudged_at is not None,
            message_id=session.message_id,
        ):
            p.session_id = session.id
        else:
            p.skip = Skip.NUDGE_NOT_NEEDED


async def _attach_follow_ups(db: AsyncSession, plans: Sequence[_Plan]) -> None:
    """The follow-up question is asked the morning after its report, else the routine goes."""
    asking = [p for p in plans if p.kind is Kind.FOLLOW_UP]
    follow_ups = await q.follow_ups(db, [p.person.follow_up_report_id or 0 for p in asking])
    for p in asking:
        found = follow_ups.get(p.person.follow_up_report_id or 0)
        asked_on = None if found is None else local_date(found.created_at, p.zone)
        p.kind, p.skip = follow_up_or_routine(p.today, p.routine, asked_on)
        if p.kind is Kind.FOLLOW_UP and p.skip is None:
            p.follow_up = found


async def _attach_sessions(db: AsyncSession, routines: Sequence[_Plan], now: datetime) -> None:
    """Today's session rows, and whether the new exercise's pictures were shown already (a
    day's pictures are sent once, the day the exercise is new, never again unasked)."""
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
            if p.routine is not None
        ],
    )
    shown = await q.pictures_shown(
        db,
        [
            (p.person.id, p.person.program_epoch, p.routine.new, p.today)
            for p in routines
            if p.routine is not None and p.routine.new is not None
        ],
    )
    for p in routines:
        p.session_id = inserted.get(p.person.id)
        p.pictures_shown = p.person.id in shown


def _replies(plan: _Plan) -> list[Reply]:
    texts = plan.texts
    if plan.kind is Kind.WEEKLY:
        return []
    if plan.kind is Kind.NUDGE:
        assert plan.session_id is not None
        return [Reply(texts.t("dispatch.nudge"), answer_buttons(plan.session_id, texts))]
    if plan.kind is Kind.SILENCE:
        return [silence_question(texts)]
    if plan.kind is Kind.FOLLOW_UP:
        follow = plan.follow_up
        assert follow is not None
        text, keyboard = follow_up_question(follow.report_id, follow.exercise, follow.cause, texts)
        return [Reply(text, keyboard)]
    assert plan.routine is not None
    assert plan.session_id is not None
    replies = routine_replies(
        plan.routine,
        plan.session_id,
        texts,
        side=plan.person.symptom_side,
        pictures=not plan.pictures_shown,
    )
    if plan.resumed is not None:
        replies.insert(0, Reply(texts.t("dispatch.welcome_back")))
    return replies


async def _send(services: Services, plan: _Plan, now: datetime) -> None:
    broadcast = services.broadcast
    assert broadcast is not None, "the composition root sets services.broadcast"
    replies = _replies(plan) if plan.sends else []
    try:
        if plan.sends_weekly:
            # The week's look back first: the day's buttons stay on the last message.
            await _send_weekly(services, plan, now)
        for reply in replies:
            delivered = await broadcast(plan.person.chat_id, Response([reply]))
            plan.messages += delivered.messages
            if delivered.last_message_id is not None:
                plan.message_id = delivered.last_message_id
    except ChatGone:
        plan.gone = True
    except TelegramError as exc:
        # The rate limiter already resent through 429s and network errors; what is left will
        # not pass in this pass. Log the kind only: the message may quote the person's text.
        log.warning(
            "Patient %d: send failed (%s); trying again later", plan.person.id, type(exc).__name__
        )
        plan.message_id = None
        plan.skip = Skip.FAILED


async def _send_weekly(services: Services, plan: _Plan, now: datetime) -> None:
    """The weekly look back: the week's trend in words, with the chart when there is one."""
    broadcast = services.broadcast
    assert broadcast is not None
    async with services.sessions() as db:
        patient = await db.get(Patient, plan.person.id)
        if patient is None:
            return
        data = await progress_reports.load(db, patient, now, services.settings.default_time_zone)
        # Everyday activities (PSFS): this week's rating, one tap each, right after.
        rating = await activities.weekly_card(db, patient.id, plan.texts, now)
    content = plan.texts.content
    text = render_weekly(data, content, data.today)
    reply = Reply(text)
    if has_enough_for_chart(data):
        offload = services.offload
        png = await offload(chart_png, data) if offload is not None else chart_png(data)
        name = f"week-{data.today.isoformat()}.png"
        reply = Reply(text, upload=Upload(name, png, photo=True))
    replies = [reply] if rating is None else [reply, rating]
    delivered = await broadcast(plan.person.chat_id, Response(replies))
    plan.messages += delivered.messages
    plan.weekly_sent = True


def _finish(plan: _Plan, now: datetime, services: Services) -> None:
    """Turn what happened on the wire into the person's next times."""
    settings = services.settings
    wants_nudge = plan.person.nudges_enabled and plan.rested is None
    times = after_send(
        plan.kind,
        plan.skip,
        NextTimes(plan.next_send_at, plan.nudge_at, plan.person.next_send_at),
        gone=plan.gone,
        now=now,
        zone=plan.zone,
        nudge_after=timedelta(hours=settings.nudge_after_hours) if wants_nudge else None,
        nudge_latest=settings.nudge_latest,
        retry_after=RETRY_FAILED_AFTER,
    )
    if plan.gone:
        # Said once: from now on the person is skipped as blocked until they write again.
        log.info("Patient %d: the chat is gone; marked inactive", plan.person.id)
    plan.skip, plan.next_send_at, plan.nudge_at = times.skip, times.next_send_at, times.nudge_at
    plan.retry_at = times.retry_at


def _state_json(plan: _Plan, state: dict[str, Any]) -> dict[str, Any]:
    return with_silence(state, plan.silence) if plan.silence is not None else state


async def _record(db: AsyncSession, plans: Sequence[_Plan], now: datetime) -> None:
    sent = [p for p in plans if p.skip is None and p.kind is not None]
    await _record_states(db, plans, sent, now)
    await q.mark_follow_ups_asked(db, [p.person.id for p in sent if p.kind is Kind.FOLLOW_UP], now)
    await q.release(
        db,
        [
            q.Release(
                p.person.id,
                p.person.version,
                p.next_send_at,
                p.nudge_at,
                p.retry_at,
                p.next_weekly_at,
            )
            for p in plans
        ],
        now,
    )
    await q.mark_blocked(db, [p.person.id for p in plans if p.gone], now)
    await q.set_message_ids(
        db,
        [
            (p.session_id, p.message_id)
            for p in sent
            if p.kind is Kind.ROUTINE and p.session_id is not None and p.message_id is not None
        ],
    )
    await q.mark_nudged(
        db, [p.session_id for p in sent if p.kind is Kind.NUDGE and p.session_id is not None], now
    )
    await q.delete_unsent(
        db,
        [
            p.session_id
            for p in plans
            if p.session_id is not None
            and p.kind is Kind.ROUTINE
            and p.skip in (Skip.FAILED, Skip.CHAT_GONE, Skip.STOPPED)
        ],
    )


async def _record_states(
    db: AsyncSession, plans: Sequence[_Plan], sent: Sequence[_Plan], now: datetime
) -> None:
    """The program states: resumed after a pause, moved on by a rest day, or only the silence
    counted (by what went out or was held back, bot.domain.silence)."""
    # A rest day counts once it is sent (its session is marked, the program moves on a day);
    # it takes the place of a resume. Both are one write of the new state.
    moved = [
        (p, state)
        for p in sent
        if p.kind is Kind.ROUTINE
        and (state := p.rested if p.rested is not None else p.resumed) is not None
    ]
    await q.resume_patients(
        db,
        [q.Resumed(p.person.id, p.person.version, _state_json(p, s.to_json())) for p, s in moved],
        now,
    )
    for p, _ in moved:
        if p.rested is not None and p.session_id is not None:
            await repo.record_outcome(db, p.session_id, RoutineOutcome.REST, now)
    written = {p.person.id for p, _ in moved}
    await q.save_states(
        db,
        [
            q.Resumed(p.person.id, p.person.version, _state_json(p, p.person.program_state))
            for p in plans
            if p.silence is not None
            and p.person.id not in written
            and (p.skip is None or p.skip is Skip.SILENT)
        ],
    )
