"""Group commit: the transactions of different people's events, run together in one.

When many people act at once, each event's transaction (BEGIN, read the person, write the
answer, mark the update applied, COMMIT) costs more in round trips, connection checkouts and
commits than in the work itself; on SQLite the writers also queue for its one write lock. Here
the units that arrive while a group is being written wait for it, and then run one after
another in one session, with one commit, exactly as ``db.dispatch`` handles a morning batch.

A unit is a piece of work for one person that can run two ways:

- ``apply(db)`` inside a group: it does its work in the shared session and neither commits nor
  rolls back; anything unusual (an error, a conflict, a redelivered update) is raised;
- ``alone()`` in a transaction of its own, with all of its own error handling.

If any unit of a group raises, or the commit fails, the group is rolled back as a whole and
every unit of it runs ``alone()``: nothing of the group was written, so each unit then gets
exactly what it would have got had it run by itself. A unit that arrives when nothing else is
waiting runs ``alone()`` at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Unit(Protocol[T_co]):
    async def apply(self, db: AsyncSession) -> T_co: ...

    async def alone(self) -> T_co: ...


# Reads what a group's units need, in a few queries, before they run (e.g. their people).
Prepare = Callable[[AsyncSession, Sequence[Unit[Any]]], Awaitable[None]]
# Writes what the units left for the end of the group, before it commits; raises to refuse it.
Finish = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class _Waiting(Generic[T]):
    unit: Unit[T]
    done: asyncio.Future[T]


class GroupCommit:
    """Runs units in groups of up to ``limit``, one transaction per group."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        prepare: Prepare | None = None,
        finish: Finish | None = None,
        limit: int = 100,
    ) -> None:
        self._sessions = sessions
        self._prepare = prepare
        self._finish = finish
        self._limit = limit
        self._waiting: list[_Waiting[Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # groups committed together (for tests and the benchmark)
        self.fallbacks = 0  # groups that had to run their units one by one

    async def run(self, unit: Unit[T]) -> T:
        loop = asyncio.get_running_loop()
        waiting: _Waiting[T] = _Waiting(unit, loop.create_future())
        # Read even when nobody awaits it any more (its task was cancelled at stop).
        waiting.done.add_done_callback(_retrieve)
        self._waiting.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write())
        # Shielded: a person's task that is cancelled (at stop) does not cancel the group; its
        # unit is applied or not as a whole, like everyone else's.
        return await asyncio.shield(waiting.done)

    async def idle(self) -> None:
        """Wait for the group being written, if any (at stop)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write(self) -> None:
        while self._waiting:
            group = self._waiting[: self._limit]
            del self._waiting[: self._limit]
            try:
                if len(group) == 1:
                    await _alone(group[0])
                elif not await self._together(group):
                    self.fallbacks += 1
                    await asyncio.gather(*(_alone(w) for w in group))
            finally:
                for waiting in group:  # cancelled at shutdown: nobody is left hanging
                    if not waiting.done.done():
                        waiting.done.set_exception(asyncio.CancelledError())

    async def _together(self, group: list[_Waiting[Any]]) -> bool:
        try:
            async with self._sessions() as db:
                if self._prepare is not None:
                    await self._prepare(db, [waiting.unit for waiting in group])
                results = [await waiting.unit.apply(db) for waiting in group]
                if self._finish is not None:
                    await self._finish(db)
                await db.commit()
        except Exception as exc:
            # Nothing of the group was written; each unit now runs (and fails) by itself.
            log.debug("A group of %d fell back to one by one (%s)", len(group), type(exc).__name__)
            return False
        self.groups += 1
        for waiting, result in zip(group, results, strict=True):
            if not waiting.done.done():
                waiting.done.set_result(result)
        return True


def _retrieve(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()


async def _alone(waiting: _Waiting[Any]) -> None:
    try:
        result = await waiting.unit.alone()
    except Exception as exc:
        if not waiting.done.done():
            waiting.done.set_exception(exc)
    else:
        if not waiting.done.done():
            waiting.done.set_result(result)
