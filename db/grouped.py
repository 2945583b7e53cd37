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
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
K = TypeVar("K")
A = TypeVar("A")
R = TypeVar("R")


class Grouped(Generic[K, A, R]):
    """The mechanism: calls that arrive while a group is being run wait, then run together as
    the next group (up to ``limit`` of them), so a burst of people costs one round of
    statements, not one each. ``call(key, arg)`` returns the group's result for ``key``; if
    the group fails, every call in it raises the error. Used for GroupCommit below and for
    the update pipeline's bookkeeping (bot.botapi.inbox)."""

    def __init__(
        self,
        run: Callable[[dict[K, A]], Awaitable[Mapping[K, R]]],
        *,
        limit: int | None = None,
    ) -> None:
        self._run = run
        self._limit = limit
        self._waiting: dict[K, tuple[A, asyncio.Future[R]]] = {}
        self._writer: asyncio.Task[None] | None = None

    async def call(self, key: K, arg: A) -> R:
        loop = asyncio.get_running_loop()
        waiting = self._waiting.get(key)
        if waiting is None:
            waiting = self._waiting[key] = (arg, loop.create_future())
            # Read even when nobody awaits it any more (its task was cancelled at stop).
            waiting[1].add_done_callback(_retrieve)
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write())
        # Shielded: a stop that cancels one person's task does not cancel the others' group.
        return await asyncio.shield(waiting[1])

    async def idle(self) -> None:
        """Wait for the group being run, if any (at stop)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write(self) -> None:
        while self._waiting:
            keys = list(self._waiting)[: self._limit]
            group = {key: self._waiting.pop(key) for key in keys}
            try:
                results = await self._run({key: arg for key, (arg, _) in group.items()})
            except Exception as exc:
                for _, future in group.values():
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled at shutdown: no one is left waiting forever
                for _, future in group.values():
                    future.cancel()
                raise
            for key, (_, future) in group.items():
                if not future.done():
                    future.set_result(results[key])


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class Unit(Protocol[T_co]):
    async def apply(self, db: AsyncSession) -> T_co: ...

    async def alone(self) -> T_co: ...


# Reads what a group's units need, in a few queries, before they run (e.g. their people).
Prepare = Callable[[AsyncSession, Sequence[Unit[Any]]], Awaitable[None]]
# Writes what the units left for the end of the group, before it commits; raises to refuse it.
Finish = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class _Ended:
    """How one unit of a group ended: its result, or the error it raised (alone)."""

    result: Any = None
    error: Exception | None = None


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
        self._grouped: Grouped[int, Unit[Any], _Ended] = Grouped(self._run_group, limit=limit)
        self._ids = itertools.count()
        self.groups = 0  # groups committed together (for tests and the benchmark)
        self.fallbacks = 0  # groups that had to run their units one by one

    async def run(self, unit: Unit[T]) -> T:
        ended = await self._grouped.call(next(self._ids), unit)
        if ended.error is not None:
            raise ended.error
        result: T = ended.result
        return result

    async def idle(self) -> None:
        """Wait for the group being written, if any (at stop)."""
        await self._grouped.idle()

    async def _run_group(self, units: dict[int, Unit[Any]]) -> dict[int, _Ended]:
        if len(units) > 1:
            results = await self._together(list(units.values()))
            if results is not None:
                self.groups += 1
                return {key: _Ended(result) for key, result in zip(units, results, strict=True)}
            self.fallbacks += 1
        ended = await asyncio.gather(*(_alone(unit) for unit in units.values()))
        return dict(zip(units, ended, strict=True))

    async def _together(self, units: list[Unit[Any]]) -> list[Any] | None:
        """The units' results, committed together; None if nothing of the group was kept."""
        try:
            async with self._sessions() as db:
                if self._prepare is not None:
                    await self._prepare(db, units)
                results = [await unit.apply(db) for unit in units]
                if self._finish is not None:
                    await self._finish(db)
                await db.commit()
        except Exception as exc:
            # Nothing of the group was written; each unit now runs (and fails) by itself.
            log.debug("A group of %d fell back to one by one (%s)", len(units), type(exc).__name__)
            return None
        return results


async def _alone(unit: Unit[Any]) -> _Ended:
    try:
        return _Ended(await unit.alone())
    except Exception as exc:
        return _Ended(error=exc)
