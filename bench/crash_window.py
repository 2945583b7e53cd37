"""Benchmark of the resend window after ``kill -9``: how long before a crash a reply that went
out can still be sent again after the restart.

Run from the repository root::

    .venv/bin/python bench/crash_window.py [--people 300] [--after 50,100,150] [--runs 2]
        [--backend sqlite|postgres|both] [--limiter on|off]
        [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Each run: a fresh database; ``python -m bot`` as a child process against
``tests.support.botapi.BotApiServer`` (in this process); N new people send /start at once; when
the bot's M-th reply has been answered, the server kills the bot (SIGKILL) as the next reply
arrives (that one is refused, so every reply the server recorded was answered to the bot);
the inbox's states at the kill are read; the bot is started again and left to answer everyone.
Then, from the server's record: the replies sent twice (same chat, method and content), and
for each the time between its first sending and the kill; and the latest reply before the kill
that was not sent again. Figures, not a timed test: they depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from bench.common import DEFAULT_PG, TOKEN, database  # noqa: E402
from tests.support.botapi import BotApiServer, Request  # noqa: E402

# The calls that carry a reply to a person (what a resend would repeat).
REPLIES = frozenset(
    {"sendmessage", "editmessagetext", "editmessagereplymarkup", "sendphoto", "sendmediagroup"}
)
BASE_USER = 700_000
WAIT = 120.0  # seconds: starting a bot process on two shared cores takes a while


class KillingServer(BotApiServer):
    """The fake Bot API that SIGKILLs the bot once ``after`` replies have been answered: as the
    next reply arrives, which it refuses (so each recorded reply was answered to the bot)."""

    def __init__(self) -> None:
        super().__init__()
        self.after: int | None = None
        self.replies = 0
        self.victim: int | None = None  # the bot's pid
        self.killed_at: float | None = None  # time.time() of the kill
        self.killed = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        is_reply = request.match_info["method"].lower() in REPLIES
        if is_reply and self.after is not None and self.replies >= self.after:
            if self.killed_at is None and self.victim is not None:
                self.killed_at = time.time()
                os.kill(self.victim, signal.SIGKILL)
                self.killed.set()
            return web.Response(status=503, text="killed")
        response = await super()._handle(request)
        if is_reply and response.status == 200:
            self.replies += 1
        return response


@asynccontextmanager
async def bot_process(
    server: BotApiServer, url: str, folder: Path, limiter: bool
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m bot`` against the server, once it has started polling; killed if left."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT": "true" if limiter else "false",
        "WARM_MEDIA": "false",  # render workers would outlive a killed bot
    }
    commands = server.count("setMyCommands")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await server.wait_for(lambda: server.count("setMyCommands") > commands, timeout=WAIT)
        await server.wait_for(lambda: server.count("getUpdates") > 0, timeout=WAIT)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def inbox_states(url: str) -> dict[str, int]:
    """How many stored updates are in each state (read between the kill and the restart)."""
    from sqlalchemy import func, select

    from db.engine import create_engine
    from db.models import InboxUpdate

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(InboxUpdate.state, func.count()).group_by(InboxUpdate.state)
            )
            states = {str(getattr(state, "value", state)): int(n) for state, n in rows.all()}
            if hasattr(InboxUpdate, "delivered"):  # (a tree from before it was recorded: not)
                recorded = select(func.count()).where(InboxUpdate.delivered > 0)
                states["replies recorded"] = int((await conn.execute(recorded)).scalar_one())
            return states
    finally:
        await engine.dispose()


@dataclass
class Outcome:
    """One run: when the bot was killed, what the inbox held, and the replies sent twice."""

    after: int
    states: dict[str, int]
    sent_before: int
    repeats: list[float] = field(default_factory=list)  # ms between first sending and kill
    latest_kept: float | None = None  # ms: the most recent reply before the kill not repeated
    missing: int = 0  # people without an answer at the end (must be 0)


def _key(request: Request) -> tuple[str, int, str]:
    params = {k: v for k, v in request.params.items() if k != "chat_id"}
    return request.method, int(request.params.get("chat_id", 0)), json.dumps(params, sort_keys=True)


def tally(server: KillingServer, after: int, states: dict[str, int], people: int) -> Outcome:
    assert server.killed_at is not None
    sends: dict[tuple[str, int, str], list[float]] = {}
    for request in server.requests:
        if request.status == 200 and request.method.lower() in REPLIES:
            sends.setdefault(_key(request), []).append(request.at)
    before = {k: times[0] for k, times in sends.items() if times[0] <= server.killed_at}
    outcome = Outcome(after, states, len(before))
    for key, first in before.items():
        ago = 1000 * (server.killed_at - first)
        if len(sends[key]) > 1:
            outcome.repeats.append(ago)
        elif outcome.latest_kept is None or ago < outcome.latest_kept:
            outcome.latest_kept = ago
    outcome.repeats.sort()
    chats = {BASE_USER + i for i in range(people)}
    answered = {k[1] for k in sends}
    outcome.missing = len(chats - answered)
    return outcome


async def one_run(url: str, people: int, after: int, limiter: bool, folder: Path) -> Outcome:
    chats = [BASE_USER + i for i in range(people)]
    async with KillingServer() as server:
        async with bot_process(server, url, folder, limiter) as first:
            server.victim = first.pid
            server.after = after
            for chat in chats:
                server.send_text(chat, "/start")
            await asyncio.wait_for(server.killed.wait(), timeout=WAIT)
            await first.wait()
        states = await inbox_states(url)
        server.after = None  # the second process is left alone
        async with bot_process(server, url, folder, limiter) as second:

            def everyone() -> bool:
                return all(server.messages(c) for c in chats)

            await server.wait_for(everyone, timeout=WAIT)
            await server.settle(quiet=1.0, timeout=WAIT)
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=WAIT)
        return tally(server, after, states, people)


def report(backend: str, outcome: Outcome) -> str:
    shown = ", ".join(f"{ms:.1f}" for ms in outcome.repeats) or "none"
    kept = "-" if outcome.latest_kept is None else f"{outcome.latest_kept:.1f} ms"
    states = " ".join(f"{k} {v}" for k, v in sorted(outcome.states.items()))
    return (
        f"  {backend:10} kill after {outcome.after:>4} replies | inbox at the kill: {states} | "
        f"sent twice: {len(outcome.repeats)} (ms before the kill: {shown}) | "
        f"latest not repeated: {kept} before | unanswered: {outcome.missing}"
    )


def run(backend: str, args: argparse.Namespace, afters: Sequence[int]) -> list[Outcome]:
    import tempfile

    outcomes = []
    for _ in range(args.runs):
        for after in afters:
            with (
                database(backend, args.postgres_url, prefix="crash-") as url,
                tempfile.TemporaryDirectory(prefix="crash-bot-") as folder,
            ):
                limiter = args.limiter == "on"
                outcome = asyncio.run(one_run(url, args.people, after, limiter, Path(folder)))
                print(report(backend, outcome), flush=True)
                outcomes.append(outcome)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--after", default="50,100,150", help="replies before the kill")
    parser.add_argument("--runs", type=int, default=2, help="runs per --after value")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--limiter", choices=("on", "off"), default="on")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))
    args = parser.parse_args()
    afters = [int(a) for a in args.after.split(",")]
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    print(
        f"{args.people} people send /start at once; the bot is killed (SIGKILL) after M replies "
        f"and started again (rate limiter {args.limiter})"
    )
    summary = []
    for backend in backends:
        outcomes = run(backend, args, afters)
        repeats = [ms for o in outcomes for ms in o.repeats]
        widest = f"{max(repeats):.1f} ms" if repeats else "none"
        summary.append(
            f"  {backend}: {len(repeats)} replies sent twice in {len(outcomes)} runs; "
            f"the earliest of them went out {widest} before the kill; "
            f"unanswered people: {sum(o.missing for o in outcomes)}"
        )
    print("Window:")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
