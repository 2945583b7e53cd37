"""The event loop the bot runs on: uvloop (libuv) where it is installed, else asyncio's own.

uvloop does the same work as asyncio's loop with less CPU for every socket read, write and
callback, which is most of what the bot does between updates: `bench/interactive.py` measured
about a fifth less CPU per check-in press (see README, Performance). Everything the bot uses
(TCP, timers, signal handlers, threads for SQLite) behaves the same on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, on uvloop when it is available (it is on Linux and macOS)."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not exist there
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
