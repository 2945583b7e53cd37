"""bot/loop.py: the bot's main coroutine runs on uvloop where it is installed, else on asyncio's
own loop, and its result comes back either way."""

from __future__ import annotations

import asyncio
import sys

import pytest
import uvloop

from bot.loop import run


async def _loop_kind() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_the_bot_runs_on_uvloop() -> None:
    assert run(_loop_kind()) == "uvloop"
    assert uvloop.Loop.__module__.startswith("uvloop")


def test_without_uvloop_it_runs_on_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows: the import fails
    assert run(_loop_kind()) == "asyncio"
