"""One clock per dispatcher pass: a pass "as if it were" another time (``dispatch --now T``)
stamps its leases on that time, not on the process's clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import update

from bot.usecases.morning import LEASE, Skip, dispatch_once
from db.models import Patient
from tests.support.dispatch import dispatch_env, local
from tests.support.harness import FakeClock

PARIS = "Europe/Paris"
DAY = date(2026, 3, 10)


async def test_a_pass_at_another_time_leases_on_that_time(database_url: str) -> None:
    real = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # the process's clock: noon
    then = local(DAY, time(8, 0), PARIS)  # the pass is asked for 08:00 Paris (07:00 UTC)
    async with dispatch_env(database_url, FakeClock(real)) as env:
        pid = await env.add_person(1, next_send_at=then)
        hold = env.server.hold("sendMessage")
        passing = asyncio.create_task(dispatch_once(env.services, then))
        await hold.wait_held()
        person = await env.patient(pid)
        assert person.claimed_until == then + LEASE  # not noon + LEASE
        # A command changes the person while the routine is on the wire: the pass then leaves
        # its lease to run out rather than overwrite their change.
        async with env.services.sessions() as db, db.begin():
            await db.execute(
                update(Patient).where(Patient.id == pid).values(version=Patient.version + 1)
            )
        hold.release()
        first = await passing
        assert first.routines == 1

        # Eleven minutes later on the same clock the lease has run out: the person is claimed
        # again (and found already served today), instead of staying leased until past noon.
        later = await dispatch_once(env.services, then + timedelta(minutes=11))
        assert later.claimed == 1
        assert later.skipped == {Skip.ALREADY_SENT.value: 1}
        assert len(env.routines(1)) == 1
