"""bot/runtime/batching.py: calls that arrive while a group runs wait and run together as the
next group; a failing group fails each of its calls; a cancelled caller leaves the group be."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from bot.runtime.batching import Grouped


class Recorder:
    """A run function that records its groups; ``gate`` holds the first group open."""

    def __init__(self, gate: asyncio.Event | None = None, fail: bool = False) -> None:
        self.groups: list[list[int]] = []
        self.gate = gate
        self.fail = fail
        self.started = asyncio.Event()

    async def run(self, calls: dict[int, str]) -> Mapping[int, str]:
        self.groups.append(sorted(calls))
        self.started.set()
        if self.gate is not None and len(self.groups) == 1:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the database is gone")
        return {key: arg.upper() for key, arg in calls.items()}


async def test_calls_that_arrive_during_a_group_run_together_next() -> None:
    recorder = Recorder(gate=asyncio.Event())
    grouped: Grouped[int, str, str] = Grouped(recorder.run)
    first = asyncio.create_task(grouped.call(1, "a"))
    await recorder.started.wait()
    later = [asyncio.create_task(grouped.call(key, arg)) for key, arg in ((2, "b"), (3, "c"))]
    await asyncio.sleep(0)  # let them queue behind the running group
    assert recorder.gate is not None
    recorder.gate.set()
    assert await asyncio.gather(first, *later) == ["A", "B", "C"]
    assert recorder.groups == [[1], [2, 3]]


async def test_a_limit_splits_the_waiting_calls() -> None:
    recorder = Recorder(gate=asyncio.Event())
    grouped: Grouped[int, str, str] = Grouped(recorder.run, limit=2)
    first = asyncio.create_task(grouped.call(0, "x"))
    await recorder.started.wait()
    later = [asyncio.create_task(grouped.call(key, "y")) for key in (1, 2, 3)]
    await asyncio.sleep(0)
    assert recorder.gate is not None
    recorder.gate.set()
    await asyncio.gather(first, *later)
    assert recorder.groups == [[0], [1, 2], [3]]


async def test_a_failing_group_fails_each_of_its_calls() -> None:
    grouped: Grouped[int, str, str] = Grouped(Recorder(fail=True).run)
    results = await asyncio.gather(
        grouped.call(1, "a"), grouped.call(2, "b"), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_cancelled_caller_does_not_cancel_the_group() -> None:
    recorder = Recorder(gate=asyncio.Event())
    grouped: Grouped[int, str, str] = Grouped(recorder.run)
    first = asyncio.create_task(grouped.call(1, "a"))
    await recorder.started.wait()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert recorder.gate is not None
    recorder.gate.set()
    await grouped.idle()
    assert await grouped.call(2, "b") == "B"
    assert recorder.groups == [[1], [2]]
