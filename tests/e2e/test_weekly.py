"""End to end: the weekly look back goes out through the dispatcher once a week per person, at
their routine time on the program's seventh day (or the day they chose), across a DST change,
never while they are on hold, paused or blocked, and not at all once turned off."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import update

from bot.domain.program import PatientStatus
from db import repo
from db.models import Patient, ReportKind
from tests.support.dispatch import Env, dispatch_env, local
from tests.support.harness import FakeClock

PARIS = "Europe/Paris"
START = date(2026, 3, 16)  # a Monday; the program's seventh day is Sunday 22 March


async def add_reporting_person(env: Env, chat: int) -> int:
    pid = await env.add_person(chat, program_started_on=START, nudges_enabled=False)
    async with env.services.sessions() as db, db.begin():
        person = await db.get(Patient, pid)
        assert person is not None
        at = local(START, time(7, 0), PARIS)
        repo.add_report(db, person, ReportKind.BASELINE, at, ratings=repo.Ratings(6, 2, 3, 4))
        later = at + timedelta(hours=2)
        repo.add_report(db, person, ReportKind.ADHOC, later, ratings=repo.Ratings(4, 2, 2, 3))
    return pid


def weekly(env: Env, chat: int) -> list[str]:
    return [m.text for m in env.server.messages(chat) if "Your week" in m.text]


async def test_once_a_week_on_the_seventh_day_across_dst(database_url: str) -> None:
    clock = FakeClock(local(START, time(7, 0), PARIS))
    async with dispatch_env(database_url, clock) as env:
        await add_reporting_person(env, 1)
        for offset in range(21):
            day = START + timedelta(days=offset)
            await env.dispatch(local(day, time(8, 0), PARIS))
            await env.dispatch(local(day, time(8, 10), PARIS))
            await env.answer(1)  # they answer each day (else silence is noticed)
        messages = [m for m in env.server.messages(1) if "Your week" in m.text]
        # Sundays 22 March, 29 March (the clocks went forward that night) and 5 April.
        assert len(messages) == 3
        assert all(m.kind == "photo" for m in messages)  # with the chart
        first = messages[0].text.split("\n")
        # Each figure once: this week's pain, then the start's (6) and what the change means.
        assert first[1] == "Routines done: 0 of 7 days."  # none marked done here
        assert first[2] == "This week: pain 4."
        assert first[3] == "At the start it was 6: a meaningful improvement."
        assert len(messages[0].text) <= 600
        assert len(env.routines(1)) == 21  # and a routine every morning, as ever
        # The last morning (Sunday 5 April) has both: the look back first, then the routine,
        # so the day's buttons stay on the last message.
        assert messages[-1].message_id < env.routines(1)[-1].message_id


async def test_never_during_a_hold_or_a_pause_and_off_means_off(database_url: str) -> None:
    clock = FakeClock(local(START, time(7, 0), PARIS))
    async with dispatch_env(database_url, clock) as env:
        held = await add_reporting_person(env, 1)
        paused = await add_reporting_person(env, 2)
        off = await add_reporting_person(env, 3)
        await env.dispatch(local(START, time(8, 0), PARIS))  # plans the first look back
        async with env.services.sessions() as db, db.begin():
            await db.execute(
                update(Patient)
                .where(Patient.id == held)
                .values(status=PatientStatus.SAFETY_HOLD, hold_tier="urgent", next_send_at=None)
            )
            await db.execute(
                update(Patient).where(Patient.id == paused).values(status=PatientStatus.PAUSED)
            )
            await db.execute(
                update(Patient)
                .where(Patient.id == off)
                .values(weekly_enabled=False, next_weekly_at=None)
            )
        for offset in range(1, 14):
            await env.dispatch(local(START + timedelta(days=offset), time(8, 0), PARIS))
        for chat in (1, 2, 3):
            assert weekly(env, chat) == []
