"""The morning dispatcher against a local Bot API, on SQLite and PostgreSQL, with a fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import Runtime
from bot.domain.program import PatientStatus, RoutineOutcome, start_program
from bot.domain.timing import resume_send_at
from bot.runtime.jobs import JOB_NAME, schedule_jobs
from bot.usecases import conversation
from bot.usecases.morning import LEASE, Skip, dispatch_once
from bot.usecases.turn import Event
from db import dispatch as q
from db import repo
from db.models import DailySession, Patient
from tests.support.dispatch import dispatch_env, local
from tests.support.harness import FakeClock

PARIS = "Europe/Paris"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------- DST time travel

# (zone, reminder, {local date: expected UTC send}) for dates whose wall time is skipped or
# repeated; every other date expects the plain wall time. The overrides are worked out by hand.
Scenario = tuple[str, time, dict[date, datetime]]

WINDOWS: dict[str, tuple[datetime, list[Scenario]]] = {
    "new_york_spring_and_kolkata": (
        utc(2026, 3, 6),
        [("America/New_York", time(8, 0), {}), ("Asia/Kolkata", time(8, 0), {})],
    ),
    "paris_spring": (
        utc(2026, 3, 27),
        [
            (PARIS, time(8, 0), {}),
            # 02:30 does not exist on 29 March: the first valid minute is 03:00 CEST.
            (PARIS, time(2, 30), {date(2026, 3, 29): utc(2026, 3, 29, 1, 0)}),
        ],
    ),
    "lord_howe_autumn": (
        utc(2026, 4, 3),
        [
            ("Australia/Lord_Howe", time(8, 0), {}),
            # 01:45 happens twice on 5 April (02:00 +11 -> 01:30 +10:30): the first one.
            ("Australia/Lord_Howe", time(1, 45), {date(2026, 4, 5): utc(2026, 4, 4, 14, 45)}),
        ],
    ),
    "lord_howe_spring": (
        utc(2026, 10, 2),
        [
            ("Australia/Lord_Howe", time(8, 0), {}),
            # 02:15 does not exist on 4 October (02:00 -> 02:30): 02:30 +11.
            ("Australia/Lord_Howe", time(2, 15), {date(2026, 10, 4): utc(2026, 10, 3, 15, 30)}),
        ],
    ),
    "paris_autumn": (
        utc(2026, 10, 23),
        [
            (PARIS, time(8, 0), {}),
            # 02:30 happens twice on 25 October: the first, still CEST (+2).
            (PARIS, time(2, 30), {date(2026, 10, 25): utc(2026, 10, 25, 0, 30)}),
        ],
    ),
    "new_york_autumn": (utc(2026, 10, 30), [("America/New_York", time(8, 0), {})]),
}
STEP = timedelta(minutes=15)
DAYS = 4


def _expected(scenario: Scenario, start: datetime, end: datetime) -> list[datetime]:
    zone, at, overrides = scenario
    first = start.astimezone(ZoneInfo(zone)).date()
    out = []
    for offset in range(DAYS + 2):
        day = first + timedelta(days=offset)
        instant = overrides.get(day) or local(day, at, zone).astimezone(UTC)
        if start <= instant < end:
            out.append(instant)
    return out


@pytest.mark.parametrize("window", sorted(WINDOWS))
async def test_one_routine_per_local_day_across_dst(database_url: str, window: str) -> None:
    start, scenarios = WINDOWS[window]
    end = start + timedelta(days=DAYS)
    async with dispatch_env(database_url, FakeClock(start)) as env:
        chats = []
        for i, (zone, at, _) in enumerate(scenarios):
            chat = 100 + i
            await env.add_person(chat, zone=zone, at=at, nudges_enabled=False)
            chats.append(chat)
        sent_at: dict[int, list[datetime]] = {chat: [] for chat in chats}
        now = start
        while now < end:
            await env.dispatch(now)
            for chat in chats:
                if len(env.routines(chat)) > len(sent_at[chat]):
                    sent_at[chat].append(now)
                    await env.answer(chat)  # not silent (bot.domain.silence)
            now += STEP
        for chat, scenario in zip(chats, scenarios, strict=True):
            expected = _expected(scenario, start, end)
            assert len(expected) >= DAYS - 1
            # Sent at the first pass at or after the local time, once per local date.
            assert sent_at[chat] == expected, (scenario[0], scenario[1])
            assert len(env.routines(chat)) == len(expected)


# --------------------------------------------------------------------------- downtime


async def test_downtime_during_the_morning_sends_at_start(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(6, 0), PARIS))) as env:
        await env.add_person(1)
        report = await env.dispatch(local(day, time(7, 0), PARIS))
        assert report.routines == 0
        # Down from 07:00 to 09:30: the 08:00 routine goes out at the first pass.
        report = await env.dispatch(local(day, time(9, 30), PARIS))
        assert report.routines == 1
        assert len(env.routines(1)) == 1
        report = await env.dispatch(local(day, time(10, 0), PARIS))
        assert report.routines == 0
        report = await env.dispatch(local(day + timedelta(days=1), time(8, 0), PARIS))
        assert report.routines == 1


async def test_downtime_all_day_counts_as_missed(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(6, 0), PARIS))) as env:
        await env.add_person(1)
        await env.add_person(2)
        # Down until after the cut-off (20:00) the same day: missed.
        report = await env.dispatch(local(day, time(20, 30), PARIS))
        assert report.routines == 0
        assert report.skipped == {Skip.MISSED.value: 2}
        # The next morning is normal.
        report = await env.dispatch(local(day + timedelta(days=1), time(7, 59), PARIS))
        assert report.routines == 0
        report = await env.dispatch(local(day + timedelta(days=1), time(8, 0), PARIS))
        assert report.routines == 2
        assert len(env.routines(1)) == 1


async def test_down_overnight_still_sends_todays_routine(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(6, 0), PARIS))) as env:
        pid = await env.add_person(1)
        # Down from before yesterday's 08:00 until 09:30 today: yesterday is missed, today not.
        report = await env.dispatch(local(day + timedelta(days=1), time(9, 30), PARIS))
        assert report.routines == 1
        sessions = await env.sessions(pid)
        assert [s.local_date for s in sessions] == [day + timedelta(days=1)]


async def test_crash_after_claim_resends_once_after_the_lease(database_url: str) -> None:
    day = date(2026, 3, 10)
    at = local(day, time(8, 0), PARIS)
    async with dispatch_env(database_url, FakeClock(at)) as env:
        pid = await env.add_person(1)
        # A dispatcher claims and creates the session, then dies before sending.
        async with env.services.sessions() as db, db.begin():
            claimed = await q.claim_due(db, at, at + LEASE, 10)
            assert [c.id for c in claimed] == [pid]
            inserted = await q.insert_sessions(db, [q.NewSession(pid, 1, day, 1, (1,), 1, at)])
        report = await env.dispatch(at + timedelta(minutes=1))
        assert report.claimed == 0  # still leased
        report = await env.dispatch(at + LEASE + timedelta(minutes=1))
        assert report.routines == 1
        sessions = await env.sessions(pid)
        assert [(s.id, s.message_id is not None) for s in sessions] == [(inserted[pid], True)]
        assert env.routines(1)[0].callback_data[0].startswith(f"r|{inserted[pid]}|")


# --------------------------------------------------------------------------- statuses


async def test_already_sent_today_by_today_command(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        pid = await env.add_person(1)
        async with env.services.sessions() as db, db.begin():
            person = await db.get(Patient, pid)
            assert person is not None
            repo.add_session(db, person, day, 1, [1], 1, env.clock())  # what /today does
        report = await env.dispatch(local(day, time(8, 0), PARIS))
        assert report.skipped == {Skip.ALREADY_SENT.value: 1}
        assert env.routines(1) == []
        person = await env.patient(pid)
        assert person.next_send_at == local(day + timedelta(days=1), time(8, 0), PARIS)


async def test_statuses_are_skipped(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        hold = await env.add_person(1, status=PatientStatus.SAFETY_HOLD)
        blocked = await env.add_person(2, blocked_at=env.clock())
        paused = await env.add_person(
            3, status=PatientStatus.PAUSED, paused_until=day + timedelta(2)
        )
        onboarding = await env.add_person(4, status=PatientStatus.ONBOARDING)
        active = await env.add_person(5)
        report = await env.dispatch(local(day, time(8, 0), PARIS))
        assert report.routines == 1
        assert report.skipped == {
            Skip.SAFETY_HOLD.value: 1,
            Skip.BLOCKED.value: 1,
            Skip.PAUSED.value: 1,
            Skip.ONBOARDING.value: 1,
        }
        for chat in (1, 2, 3, 4):
            assert env.server.messages(chat) == []
        assert len(env.routines(5)) == 1
        assert (await env.patient(hold)).next_send_at is None
        assert (await env.patient(onboarding)).next_send_at is None
        # Inactive people keep a next time, so they resume by themselves once unblocked.
        assert (await env.patient(blocked)).next_send_at == local(
            day + timedelta(1), time(8, 0), PARIS
        )
        assert (await env.patient(paused)).next_send_at == local(
            day + timedelta(2), time(8, 0), PARIS
        )
        assert (await env.patient(active)).status == PatientStatus.ACTIVE


async def test_pause_ends_with_a_welcome_back(database_url: str) -> None:
    day = date(2026, 3, 10)
    until = day + timedelta(days=3)
    paused_state = start_program().to_json()
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        pid = await env.add_person(
            1,
            status=PatientStatus.PAUSED,
            paused_until=until,
            program_state=paused_state,
            next_send_at=resume_send_at(until, time(8, 0), ZoneInfo(PARIS)),
        )
        for offset in range(3):
            report = await env.dispatch(local(day + timedelta(offset), time(8, 0), PARIS))
            assert report.claimed == 0
        report = await env.dispatch(local(until, time(8, 0), PARIS))
        assert (report.routines, report.welcome_backs) == (1, 1)
        texts = [m.html for m in env.server.messages(1)]
        assert texts[0] == env.text("dispatch.welcome_back")
        assert len(env.routines(1)) == 1
        person = await env.patient(pid)
        assert person.status == PatientStatus.ACTIVE
        assert person.paused_until is None
        report = await env.dispatch(local(until + timedelta(1), time(8, 0), PARIS))
        assert (report.routines, report.welcome_backs) == (1, 0)


# --------------------------------------------------------------------------- Telegram failures


async def test_429_waits_and_loses_nothing(database_url: str) -> None:
    async with dispatch_env(database_url, dispatch_batch_size=7) as env:
        for chat in range(1, 21):
            await env.add_person(chat, zone="UTC")
        env.server.fail_next("sendMessage", 429, retry_after=3, times=2)
        report = await env.dispatch(utc(2026, 3, 2, 8, 0))
        assert report.routines == 20
        assert report.skipped == {}
        assert all(len(env.routines(chat)) == 1 for chat in range(1, 21))
        assert env.sleeps.count(3.1) == 2  # retry_after plus the margin, twice


async def test_5xx_burst_is_retried(database_url: str) -> None:
    async with dispatch_env(database_url) as env:
        for chat in range(1, 6):
            await env.add_person(chat, zone="UTC")
        env.server.fail_next("sendMessage", 502, times=3)
        report = await env.dispatch(utc(2026, 3, 2, 8, 0))
        assert report.routines == 5
        assert all(len(env.routines(chat)) == 1 for chat in range(1, 6))
        assert len(env.sleeps) == 3


async def test_forbidden_marks_inactive_and_spares_the_others(database_url: str) -> None:
    async with dispatch_env(database_url) as env:
        ids = [await env.add_person(chat, zone="UTC") for chat in range(1, 6)]
        env.server.forbid_chat(3)
        report = await env.dispatch(utc(2026, 3, 2, 8, 0))
        assert report.routines == 4
        assert report.skipped == {Skip.CHAT_GONE.value: 1}
        assert env.sleeps == []  # no retry for Forbidden
        blocked = await env.patient(ids[2])
        assert blocked.blocked_at == utc(2026, 3, 2, 8, 0)
        assert await env.sessions(ids[2]) == []  # the unsent session is gone
        for i in (0, 1, 3, 4):
            assert (await env.patient(ids[i])).blocked_at is None
            assert len(await env.sessions(ids[i])) == 1
        report = await env.dispatch(utc(2026, 3, 3, 8, 0))
        assert report.routines == 4
        assert report.skipped == {Skip.BLOCKED.value: 1}


async def test_other_failures_are_retried_later_not_lost(database_url: str) -> None:
    async with dispatch_env(database_url) as env:
        pid = await env.add_person(1, zone="UTC")
        env.server.fail_next("sendMessage", 400)
        report = await env.dispatch(utc(2026, 3, 2, 8, 0))
        assert report.skipped == {Skip.FAILED.value: 1}
        assert await env.sessions(pid) == []
        report = await env.dispatch(utc(2026, 3, 2, 8, 1))
        assert report.claimed == 0  # not hammered every pass
        report = await env.dispatch(utc(2026, 3, 2, 8, 6))
        assert report.routines == 1
        assert len(env.routines(1)) == 1


# --------------------------------------------------------------------------- nudges


async def test_nudge_after_three_hours_once(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        pid = await env.add_person(1)
        await env.dispatch(local(day, time(8, 0), PARIS))
        report = await env.dispatch(local(day, time(10, 59), PARIS))
        assert report.nudges == 0
        report = await env.dispatch(local(day, time(11, 0), PARIS))
        assert report.nudges == 1
        (nudge,) = env.nudges(1)
        session = (await env.sessions(pid))[0]
        assert nudge.callback_data == [
            f"r|{session.id}|{v}" for v in ("done", "skipped", "stopped")
        ]
        assert session.nudged_at == local(day, time(11, 0), PARIS)
        report = await env.dispatch(local(day, time(12, 0), PARIS))
        assert (report.claimed, report.nudges) == (0, 0)


async def test_no_nudge_once_answered(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        pid = await env.add_person(1)
        await env.dispatch(local(day, time(8, 0), PARIS))
        session = (await env.sessions(pid))[0]
        async with env.services.sessions() as db, db.begin():
            await repo.record_outcome(db, session.id, RoutineOutcome.DONE, env.clock())
        report = await env.dispatch(local(day, time(11, 0), PARIS))
        assert report.nudges == 0
        assert env.nudges(1) == []
        assert (await env.patient(pid)).nudge_at is None


async def test_nudge_never_after_21(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        late = await env.add_person(1, at=time(18, 0))  # 21:00 would be the nudge: none
        early = await env.add_person(2, at=time(17, 30))  # 20:30: allowed
        await env.dispatch(local(day, time(17, 30), PARIS))
        await env.dispatch(local(day, time(18, 0), PARIS))
        assert (await env.patient(late)).nudge_at is None
        assert (await env.patient(early)).nudge_at == local(day, time(20, 30), PARIS)
        # Down from 20:00 to 21:10: the 20:30 nudge is not sent that late.
        report = await env.dispatch(local(day, time(21, 10), PARIS))
        assert report.nudges == 0
        assert report.skipped == {Skip.NUDGE_TOO_LATE.value: 1}
        assert env.nudges(2) == []


async def reminders(env: object, user: int, args: str | None) -> str:
    """/reminders as a use case, offline: the text it answers."""
    services = env.services  # type: ignore[attr-defined]
    response = await conversation.on_command(services, Event(user, user), "reminders", args)
    return "\n".join(reply.text for reply in response.replies)


async def test_reminders_off_means_no_nudge(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        pid = await env.add_person(1)
        assert await reminders(env, 1, None) == (
            f"{env.text('dispatch.reminders_status_on')}\n{env.text('dispatch.reminders_usage')}"
        )
        assert await reminders(env, 1, "off") == env.text("dispatch.reminders_off")
        await env.dispatch(local(day, time(8, 0), PARIS))
        assert (await env.patient(pid)).nudge_at is None
        await env.dispatch(local(day, time(11, 0), PARIS))
        assert env.nudges(1) == []
        assert await reminders(env, 1, "ON") == env.text("dispatch.reminders_on", latest="21:00")
        await env.dispatch(local(day + timedelta(1), time(8, 0), PARIS))
        await env.dispatch(local(day + timedelta(1), time(11, 0), PARIS))
        assert len(env.nudges(1)) == 1
        assert await reminders(env, 999, "on") == env.text("errors.not_started")


async def test_turning_reminders_off_drops_a_planned_nudge(database_url: str) -> None:
    day = date(2026, 3, 10)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        await env.add_person(1)
        await env.dispatch(local(day, time(8, 0), PARIS))
        await reminders(env, 1, "off")
        report = await env.dispatch(local(day, time(11, 0), PARIS))
        assert (report.claimed, report.nudges) == (0, 0)


# --------------------------------------------------------------------------- many dispatchers


async def test_two_dispatchers_race_each_person_gets_one(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several dispatchers at once is a PostgreSQL deployment")
    now = utc(2026, 3, 2, 8, 0)
    async with (
        dispatch_env(database_url, FakeClock(now), dispatch_batch_size=50) as first,
        dispatch_env(database_url, FakeClock(now), dispatch_batch_size=50) as second,
    ):
        people = 1000
        async with first.services.sessions() as db, db.begin():
            for chat in range(1, people + 1):
                person = repo.new_patient(db, chat, chat, now, "en")
                person.status = PatientStatus.ACTIVE
                person.time_zone = "UTC"
                person.reminder_time = time(8, 0)
                person.program_state = start_program().to_json()
                person.next_send_at = now
        reports = await asyncio.gather(
            dispatch_once(first.services, now),
            dispatch_once(second.services, now),
        )
        assert sum(r.routines for r in reports) == people
        assert all(r.routines > 0 for r in reports), [r.routines for r in reports]
        for chat in range(1, people + 1):
            got = len(first.routines(chat)) + len(second.routines(chat))
            assert got == 1, chat
        async with first.services.sessions() as db:
            count = await db.scalar(select(func.count()).select_from(DailySession))
            missing = await db.scalar(
                select(func.count())
                .select_from(DailySession)
                .where(DailySession.message_id.is_(None))
            )
        assert (count, missing) == (people, 0)


# --------------------------------------------------------------------------- the job


async def test_one_repeating_job_whatever_the_number_of_people(database_url: str) -> None:
    async with dispatch_env(database_url) as env:
        for chat in range(1, 51):
            await env.add_person(chat, zone="UTC")
        runtime = Runtime.create(env.app, env.services)
        state = schedule_jobs(env.app, runtime.pipeline, asyncio.Event())
        names = [job.name for job in state.jobs]
        assert names.count(JOB_NAME) == 1
        dispatcher = next(job for job in state.jobs if job.name == JOB_NAME)
        assert dispatcher.trigger.interval.total_seconds() <= 30  # type: ignore[attr-defined]
        # No job per person: the same few jobs for 50 people as for none.
        assert len(names) <= 4
