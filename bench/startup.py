"""Benchmark of start-up: the bot's process from spawn to its first getUpdates, beside a bare
python-telegram-bot Application, and a render worker's peak memory.

Run from the repository root::

    .venv/bin/python bench/startup.py [--runs 3] [--backend sqlite|postgres|both]
        [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--before TREE]

Each process is started as an operator starts it: ``python -m bot`` (the bot, long polling,
the default settings), and a bare ``ApplicationBuilder().base_url(...).build().run_polling()``
with the same local Bot API server (``tests.support.botapi.BotApiServer``, in this process).
The server notes when the first getUpdates call arrives and reads the process's resident
memory right then (VmRSS in /proc/<pid>/status): the time from spawning the process to that
call, and the RSS then. The bot runs against a database with 0 and with 100,000 registered
people (a fresh SQLite file, or a fresh PostgreSQL database dropped afterwards, migrated
beforehand so both find it at head), on SQLite and on PostgreSQL. The bot's RSS a few seconds
later is printed too (the 'settled' column: until the place index became a shipped file, the
bot built it in memory in the background then). Then a render worker
(``bot.rendering.offload.Renderer``, one process) draws a /progress chart, a /report PDF and
every exercise picture, and its peak RSS (VmHWM) is printed.

``--before TREE`` also starts the bot from another copy of the repository (``git archive
<commit> | tar -x -C TREE``), in turn with this one, for a comparison in the same minutes.

Each figure is the median of ``--runs`` runs (the runs alternate bot and bare), with the
target: at most 1.0 s and 90 MB for the bot, and at most twice the bare application's time.
Figures, not a timed test: they depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import DEFAULT_PG, TOKEN, database  # noqa: E402

TARGET_SECONDS = 1.0
TARGET_MB = 90.0
TARGET_RATIO = 2.0  # the bot's time against the bare application's
SETTLE = 5.0  # seconds after the first getUpdates before the settled RSS is read
PEOPLE = (0, 100_000)
WAIT = 120.0

BARE = """
import os
from telegram.ext import ApplicationBuilder

base = os.environ["TELEGRAM_API_BASE_URL"]
app = (
    ApplicationBuilder()
    .token(os.environ["TELEGRAM_BOT_TOKEN"])
    .base_url(base)
    .base_file_url(base.removesuffix("/bot") + "/file/bot")
    .build()
)
app.run_polling()
"""


def status_kb(pid: int, name: str) -> int | None:
    """A field of /proc/<pid>/status in kB (VmRSS, VmHWM); None if the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{name}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


@dataclass
class Started:
    seconds: float
    rss_mb: float
    settled_mb: float | None = None


@dataclass
class Figures:
    runs: dict[str, list[Started]] = field(default_factory=dict)

    def add(self, name: str, started: Started) -> None:
        self.runs.setdefault(name, []).append(started)

    def seconds(self, name: str) -> float:
        return statistics.median(s.seconds for s in self.runs[name])

    def rss(self, name: str) -> float:
        return statistics.median(s.rss_mb for s in self.runs[name])

    def settled(self, name: str) -> float | None:
        values = [s.settled_mb for s in self.runs[name] if s.settled_mb is not None]
        return statistics.median(values) if values else None


async def time_to_poll(command: Sequence[str], env: dict[str, str], settle: bool) -> Started:
    """Spawn ``command`` against a fresh local Bot API server; time and RSS at its first
    getUpdates (and ``SETTLE`` seconds later, if asked); then stop it with SIGTERM."""
    from aiohttp import web

    from tests.support.botapi import BotApiServer

    class FirstPoll(BotApiServer):
        pid = 0
        spawned = 0.0
        polled: float | None = None
        rss_kb: int | None = None

        async def _handle(self, request: web.Request) -> web.Response:
            if self.polled is None and request.match_info["method"].lower() == "getupdates":
                self.polled = time.monotonic() - self.spawned
                self.rss_kb = status_kb(self.pid, "VmRSS")
            return await super()._handle(request)

    async with FirstPoll(record_requests=False) as server:
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as cwd:
            server.spawned = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *command,
                env={**env, "TELEGRAM_API_BASE_URL": server.base_url},
                cwd=cwd,  # no .env file of the repository
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            server.pid = process.pid
            try:
                await server.wait_for(
                    lambda: server.polled is not None or process.returncode is not None,
                    timeout=WAIT,
                )
                if server.polled is None or server.rss_kb is None:
                    _out, err = await process.communicate()
                    raise RuntimeError(f"{command} stopped before polling:\n{err.decode()}")
                settled = None
                if settle:
                    await asyncio.sleep(SETTLE)
                    settled = (status_kb(process.pid, "VmRSS") or 0) / 1024
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.communicate(), timeout=30)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    return Started(server.polled, server.rss_kb / 1024, settled)


def environment(database_url: str | None, tree: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update({"PYTHONPATH": str(tree), "TELEGRAM_BOT_TOKEN": TOKEN})
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


async def prepare(url: str, people: int) -> None:
    """Migrate, and register ``people`` people (bench/dispatch.py's seed)."""
    from bench.dispatch import seed

    await seed(url, people, due=False)


def worker_peak_mb() -> float:
    """A render worker's peak RSS after a chart, a PDF and every exercise picture."""
    from bot.rendering.offload import Renderer, chart_png, picture_png, report_pdf
    from bot.rendering.poses import all_keys
    from tests.rendering.test_charts import sample_progress

    async def draw() -> float:
        renderer = Renderer(1)
        try:
            progress = sample_progress(6)
            await renderer(chart_png, progress)
            await renderer(report_pdf, progress)
            for key in all_keys():
                await renderer(picture_png, key)
            pool = renderer._pool
            assert pool is not None
            (pid,) = pool._processes  # one worker
            return (status_kb(pid, "VmHWM") or 0) / 1024
        finally:
            renderer.shutdown()

    return asyncio.run(draw())


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--before", type=Path, help="another copy of the repository to compare")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    bot = [sys.executable, "-m", "bot"]
    bare = [sys.executable, "-c", BARE]
    figures = Figures()
    for backend in backends:
        for people in PEOPLE:
            name = f"bot, {backend}, {people:,} people"
            with database(backend, args.postgres_url, prefix="bench-startup-") as url:
                asyncio.run(prepare(url, people))
                for run in range(args.runs):
                    started = asyncio.run(time_to_poll(bot, environment(url), settle=True))
                    figures.add(name, started)
                    figures.add("bare", asyncio.run(time_to_poll(bare, environment(None), False)))
                    if args.before is not None:
                        before = environment(url, args.before.resolve())
                        figures.add(f"before: {name}", asyncio.run(time_to_poll(bot, before, True)))
                    print(
                        f"  {name}, run {run + 1}: {started.seconds:.3f} s,"
                        f" {started.rss_mb:.1f} MB",
                        flush=True,
                    )
    peak = statistics.median(worker_peak_mb() for _ in range(args.runs))

    bare_s = figures.seconds("bare")
    print()
    print(f"Start-up, spawn to first getUpdates (median of {args.runs} runs, this machine)")
    print(f"  bare python-telegram-bot Application: {bare_s:.3f} s, {figures.rss('bare'):.1f} MB")
    header = f"  {'':40} {'time':>8} {'RSS':>9} {'x bare':>7} {'settled':>9}  targets"
    print(header)
    for name in figures.runs:
        if name == "bare":
            continue
        seconds, rss, settled = figures.seconds(name), figures.rss(name), figures.settled(name)
        ratio = seconds / bare_s
        verdicts = ", ".join(
            (
                f"time {_verdict(seconds <= TARGET_SECONDS)}",
                f"RSS {_verdict(rss <= TARGET_MB)}",
                f"x bare {_verdict(ratio <= TARGET_RATIO)}",
            )
        )
        settled_text = f"{settled:.1f} MB" if settled is not None else "-"
        print(
            f"  {name:40} {seconds:6.3f} s {rss:6.1f} MB {ratio:6.2f}x {settled_text:>9}"
            f"  {verdicts}"
        )
    print(f"  targets: at most {TARGET_SECONDS:.1f} s and {TARGET_MB:.0f} MB at the first")
    print(f"  getUpdates, at most {TARGET_RATIO:.0f}x the bare application's time; 'settled':")
    print(f"  the bot's RSS {SETTLE:.0f} s later (before: once the city index was built)")
    print(f"Render worker peak RSS (VmHWM) after a chart, a PDF and every picture: {peak:.1f} MB")


if __name__ == "__main__":
    main()
