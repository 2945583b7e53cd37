"""db/grouped.py on SQLite and PostgreSQL: units that arrive together share one transaction;
when one of them fails, or the commit does, nothing of the group is kept and each unit runs
alone, so every unit gets what it would have got by itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import repo
from db.grouped import GroupCommit
from db.models import Patient
from tests.support.rows import CREATED

Sessions = async_sessionmaker[AsyncSession]


class Refused(Exception):
    pass


@dataclass
class AddPerson:
    """A unit that stores one person; ``refuse`` makes it fail wherever it runs."""

    sessions: Sessions
    user_id: int
    refuse: bool = False
    gate: asyncio.Event | None = None
    started: asyncio.Event | None = None
    applied: int = 0
    alone_runs: int = 0

    async def apply(self, db: AsyncSession) -> int:
        self.applied += 1
        if self.started is not None:
            self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.refuse:
            raise Refused(self.user_id)
        repo.new_patient(db, self.user_id, self.user_id, CREATED, "en")
        await db.flush()
        return self.user_id

    async def alone(self) -> int:
        self.alone_runs += 1
        async with self.sessions() as db:
            result = await self.apply(db)
            await db.commit()
            return result


async def stored(sessions: Sessions) -> list[int]:
    async with sessions() as db:
        rows = await db.execute(select(Patient.telegram_user_id).order_by(Patient.id))
        return list(rows.scalars())


async def test_units_that_arrive_together_commit_once(sessions: Sessions) -> None:
    group = GroupCommit(sessions)
    units = [AddPerson(sessions, user_id) for user_id in (1, 2, 3, 4)]
    results = await asyncio.gather(*(group.run(unit) for unit in units))
    assert results == [1, 2, 3, 4]
    assert (group.groups, group.fallbacks) == (1, 0)
    assert [unit.alone_runs for unit in units] == [0, 0, 0, 0]
    assert await stored(sessions) == [1, 2, 3, 4]


async def test_a_unit_on_its_own_runs_alone(sessions: Sessions) -> None:
    group = GroupCommit(sessions)
    unit = AddPerson(sessions, 7)
    assert await group.run(unit) == 7
    assert (group.groups, unit.alone_runs) == (0, 1)
    assert await stored(sessions) == [7]


async def test_one_failing_unit_sends_the_group_one_by_one(sessions: Sessions) -> None:
    group = GroupCommit(sessions)
    units = [AddPerson(sessions, 1), AddPerson(sessions, 2, refuse=True), AddPerson(sessions, 3)]
    results = await asyncio.gather(*(group.run(u) for u in units), return_exceptions=True)
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], Refused)
    assert (group.groups, group.fallbacks) == (0, 1)
    assert [unit.alone_runs for unit in units] == [1, 1, 1]
    assert await stored(sessions) == [1, 3]  # each once: nothing of the group was kept


async def test_a_commit_that_fails_sends_the_group_one_by_one(sessions: Sessions) -> None:
    """Two units that conflict (the same person twice): the first wins alone, the second gets
    the database's error, as it would have without grouping."""
    group = GroupCommit(sessions)
    units = [AddPerson(sessions, 5), AddPerson(sessions, 5), AddPerson(sessions, 6)]
    results = await asyncio.gather(*(group.run(u) for u in units), return_exceptions=True)
    assert results[0] == 5 and results[2] == 6
    assert isinstance(results[1], IntegrityError)
    assert group.fallbacks == 1
    assert sorted(await stored(sessions)) == [5, 6]


async def test_a_caller_that_is_cancelled_does_not_cancel_the_group(sessions: Sessions) -> None:
    """At stop, a person's task may be cancelled while its unit waits in a group: the group
    goes on as a whole, so the unit is applied (and the update replayed later) or not at all."""
    group = GroupCommit(sessions)
    gate, started = asyncio.Event(), asyncio.Event()
    first, second = AddPerson(sessions, 1, gate=gate, started=started), AddPerson(sessions, 2)
    running = [asyncio.create_task(group.run(unit)) for unit in (first, second)]
    await started.wait()  # the group is being written, held at the gate
    running[0].cancel()
    gate.set()
    assert await running[1] == 2
    with pytest.raises(asyncio.CancelledError):
        await running[0]
    await group.idle()
    assert await stored(sessions) == [1, 2]
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Patient)) == 2
