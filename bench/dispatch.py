"""Benchmark of one dispatcher pass: N people due in the same minute, against a local Bot API.

Run from the repository root::

    .venv/bin/python bench/dispatch.py [--people 10000] [--large] [--backend sqlite|postgres|both]
        [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--skip-startup]
        [--limiter]

Two mornings: a day when an exercise is new (everyone on day 1: the new exercise's album of
four pictures, then the routine; the pictures are uploaded once and reused by file_id), and an
ordinary day (the full routine, text only). For each backend it seeds N active people due at
the same instant, runs one
``dispatch_once`` pass with the rate limiter off against ``tests.support.botapi.BotApiServer``
(in a child process, so the fake server's CPU is not billed to the bot), and prints routines
per second, CPU milliseconds per routine (this process only: bot + database driver; SQLite's
engine runs in-process, PostgreSQL's server does not), SQL statements per routine and peak RSS.
Statements are counted with a ``before_cursor_execute`` listener: an executemany counts once,
and so does each multi-row INSERT page. Then it starts the bot (build, migrate, initialise,
start the job queue) against an empty database and against one with 100,000 registered people,
each in a fresh process, and prints start-up time and RSS.

Figures, not a timed test: they depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import DEFAULT_PG, TOKEN, create_pg, drop_pg  # noqa: E402

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- fake Telegram


def _serve(port_queue: Any, stop_event: Any) -> None:
    from tests.support.botapi import BotApiServer

    async def main() -> None:
        async with BotApiServer(record_requests=False) as server:
            port_queue.put(server.base_url)
            # A multiprocessing event cannot be awaited: poll it.
            while not stop_event.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.2)

    asyncio.run(main())


class ServerProcess:
    def __enter__(self) -> str:
        ctx = multiprocessing.get_context("spawn")
        self.queue = ctx.Queue()
        self.stop = ctx.Event()
        self.proc = ctx.Process(target=_serve, args=(self.queue, self.stop), daemon=True)
        self.proc.start()
        return str(self.queue.get(timeout=30))

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.terminate()


# --------------------------------------------------------------------------- databases


def _state(new_day: bool) -> dict[str, Any]:
    """Day 1 (exercise 1 is new: its pictures go with the routine), or a day with nothing new
    (all five exercises, text only)."""
    from bot.domain.program import DayOutcome, ProgramAction, RoutineOutcome, replay

    if new_day:
        return replay([]).to_json()
    done = DayOutcome(RoutineOutcome.DONE, ProgramAction())
    return replay([done] * 5).to_json()


async def seed(url: str, people: int, *, due: bool, new_day: bool = False) -> None:
    """Migrate and insert ``people`` active people (due at NOW, or tomorrow)."""
    from sqlalchemy import insert

    from db.engine import create_engine
    from db.migrate import upgrade
    from db.models import Patient

    engine = create_engine(url)
    await upgrade(engine)
    state = _state(new_day)
    send = NOW if due else NOW.replace(day=3)
    chunk = 5000
    async with engine.begin() as conn:
        for start in range(0, people, chunk):
            rows = [
                {
                    "telegram_user_id": 10_000 + i,
                    "chat_id": 10_000 + i,
                    "language": "en",
                    "time_zone": ("Europe/Paris", "UTC", "Asia/Kolkata")[i % 3],
                    "reminder_time": dtime(8, 0),
                    "status": "active",
                    "flow_data": {},
                    "nudges_enabled": True,
                    "weekly_enabled": False,
                    "program_state": state,
                    "program_epoch": 1,
                    "next_send_at": send,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "version": 1,
                }
                for i in range(start, min(people, start + chunk))
            ]
            await conn.execute(insert(Patient), rows)
    await engine.dispose()


# --------------------------------------------------------------------------- one pass


async def one_pass(
    url: str, api: str, people: int, batch: int, limiter: bool = False
) -> dict[str, Any]:
    from sqlalchemy import event

    from bot.app import build_application
    from bot.config import Settings
    from bot.usecases.morning import dispatch_once

    settings = Settings(
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        database_url=url,
        telegram_api_base_url=api,
        rate_limit=limiter,
        dispatch_batch_size=batch,
        _env_file=None,  # type: ignore[call-arg]
    )
    app, svc = build_application(settings, clock=lambda: NOW)
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(svc.engine.sync_engine, "before_cursor_execute", count)
    async with app:
        statements = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        report = await dispatch_once(svc, NOW)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    await svc.engine.dispose()
    sent = report.routines
    assert sent == people, report.lines()
    return {
        "routines": sent,
        "messages": report.messages,
        "messages_per_s": round(report.messages / wall),
        "seconds": round(wall, 2),
        "routines_per_s": round(sent / wall),
        "cpu_ms_per_routine": round(1000 * cpu / sent, 3),
        "sql_per_routine": round(statements / sent, 4),
        "statements": statements,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_pass(
    backend: str, people: int, batch: int, pg_base: str, new_day: bool, limiter: bool
) -> dict[str, Any]:
    async def main(api: str) -> dict[str, Any]:
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="bench-dispatch-")
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
            await seed(url, people, due=True, new_day=new_day)
            return await one_pass(url, api, people, batch, limiter)
        url = await create_pg(pg_base)
        try:
            await seed(url, people, due=True, new_day=new_day)
            return await one_pass(url, api, people, batch, limiter)
        finally:
            await drop_pg(pg_base, url)

    with ServerProcess() as api:
        return asyncio.run(main(api))


# --------------------------------------------------------------------------- start-up


async def _startup_probe(url: str) -> dict[str, Any]:
    """Build, initialise, post_init and start the bot; time and RSS (in a fresh process)."""
    from bot.app import Runtime, build_application
    from bot.config import Settings

    with ServerProcess() as api:
        t0 = time.perf_counter()
        settings = Settings(
            telegram_bot_token=TOKEN,  # type: ignore[arg-type]
            database_url=url,
            telegram_api_base_url=api,
            _env_file=None,  # type: ignore[call-arg]
        )
        app, svc = build_application(settings)
        runtime = Runtime.create(app, svc)
        # What `python -m bot run` does before it polls: initialise, post_init (migrations, the
        # zone index, the pictures, the command menus), recover the inbox, start the jobs.
        await runtime.start(poll=False)
        assert app.job_queue is not None
        jobs = len(app.job_queue.jobs())
        seconds = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        await runtime.stop()
    return {"startup_s": round(seconds, 3), "rss_mb": round(rss, 1), "jobs": jobs}


def startup(backend: str, pg_base: str) -> dict[str, Any]:
    async def prepare(people: int) -> str:
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='bench-startup-')}/bench.db"
        else:
            url = await create_pg(pg_base)
        if people:
            await seed(url, people, due=False)
        return url

    results = {}
    for people in (0, 100_000):
        url = asyncio.run(prepare(people))
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--startup-probe", url],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            results[people] = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            if backend == "postgres":
                asyncio.run(drop_pg(pg_base, url))
    return results


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--large", action="store_true", help="100,000 people")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--batch", type=int, default=None, help="dispatch batch size")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument(
        "--limiter", action="store_true", help="with the production rate limiter (30 msg/s)"
    )
    parser.add_argument("--startup-probe", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--pass-probe", nargs=5, metavar="X", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.startup_probe:
        print(json.dumps(asyncio.run(_startup_probe(args.startup_probe))))
        return
    if args.pass_probe:
        backend, people, batch, new_day, limiter = args.pass_probe
        result = run_pass(
            backend, int(people), int(batch), args.postgres_url, new_day == "1", limiter == "1"
        )
        print(json.dumps(result))
        return

    people = 100_000 if args.large else args.people
    batch = args.batch or 500
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    limiter = "on (30 msg/s)" if args.limiter else "off"
    print(
        f"One dispatcher pass, {people:,} people due in the same minute, batch {batch},"
        f" rate limiter {limiter}"
    )
    for new_day, label in ((True, "new-exercise day (album + routine)"), (False, "ordinary day")):
        print(f" {label}:")
        for backend in backends:
            # Each pass in its own process, so peak RSS is that backend's alone.
            out = subprocess.run(
                [sys.executable, __file__, "--pass-probe", backend, str(people), str(batch),
                 "1" if new_day else "0", "1" if args.limiter else "0",
                 "--postgres-url", args.postgres_url],
                check=True, capture_output=True, text=True, cwd=ROOT,
            )  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"  {backend:8} {r['routines_per_s']:>6} routines/s, {r['messages']} messages"
                f" ({r['messages_per_s']}/s)  {r['cpu_ms_per_routine']:.3f} CPU ms/routine  "
                f"{r['sql_per_routine']:.4f} SQL/routine ({r['statements']} statements)  "
                f"peak RSS {r['peak_rss_mb']} MB  ({r['seconds']} s)"
            )
    if args.skip_startup:
        return
    print(
        "Start-up (build, initialise, post_init: migrations, zone index, command menu;"
        " start the job queue), fresh process each"
    )
    for backend in backends:
        res = startup(backend, args.postgres_url)
        empty, full = res[0], res[100_000]
        print(
            f"  {backend:8} empty: {empty['startup_s']} s, RSS {empty['rss_mb']} MB;  "
            f"100,000 people: {full['startup_s']} s, RSS {full['rss_mb']} MB;  "
            f"jobs: {empty['jobs']} / {full['jobs']}"
        )


if __name__ == "__main__":
    main()
