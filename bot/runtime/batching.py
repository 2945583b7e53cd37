"""Batching for the update pipeline's bookkeeping: calls that arrive together share one round
of statements (per-person leases, open-update checks, done marks), so a burst of people costs a
few statements, not a few each. One code path: a call is always answered by a group, possibly
a group of one, and a group that fails fails every call in it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

K = TypeVar("K")
A = TypeVar("A")
R = TypeVar("R")


class Grouped(Generic[K, A, R]):
    """The mechanism: calls that arrive while a group is being run wait, then run together as
    the next group (up to ``limit`` of them), so a burst of people costs one round of
    statements, not one each. ``call(key, arg)`` returns the group's result for ``key``; if
    the group fails, every call in it raises the error."""

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
