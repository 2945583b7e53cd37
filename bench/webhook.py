"""Benchmark of webhook mode: 1 vs 2 bot processes on PostgreSQL behind a round-robin proxy.

Run from the repository root::

    .venv/bin/python bench/webhook.py [--people 1000] [--processes 1,2] [--repeat 1]
        [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--profile DIR]

For each number of processes it creates an empty PostgreSQL database, starts the fake Bot API
(``tests.support.botapi.BotApiServer``, delivering like Telegram: at most 40 connections, a
chat's next update only once the previous one was confirmed) and the round-robin proxy
(``tests.support.proxy``), each in its own process, and that many ``python -m bot run
--webhook`` processes with the rate limiter off. After a small warm-up, N people each send
four updates at once (/start, a word, /help, /status). It prints updates per second (all
updates over the time until the last one's first reply arrived), the time from an update's
injection to its first reply arriving at the fake server (p50, p99, max), and the CPU seconds
each process used during the load (bots, fake server, proxy, PostgreSQL), which shows what
limits the run. ``--profile DIR`` records each bot process with py-spy (speedscope files).

Figures, not a timed test: they depend on the machine (and on what else runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import DEFAULT_PG, TOKEN, create_pg, drop_pg, pg_transactions  # noqa: E402

SECRET = "bench-webhook-secret-0123456789-abcdef"
HOOK_PATH = "/telegram/hook"
# Each person's burst, and how many messages the bot sends for each update (a person who has
# not agreed yet: the welcome and the consent question, then one answer each).
SCRIPT = ("/start", "hello", "/help", "/status")
REPLIES = (2, 1, 1, 1)
WARM_UP = 50
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- fake Telegram


def _fake(conn: Any) -> None:
    """The fake Bot API in its own process; runs the loads it is sent and reports timings."""
    from tests.support.botapi import BotApiServer

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = BotApiServer(record_requests=False, webhook_chat_order=True)
        await server.start()
        replies: dict[int, list[float]] = {}
        send = server._handlers["sendmessage"]

        def timed_send(params: dict[str, Any]) -> Any:
            # The moment a reply reaches "Telegram", per chat, in arrival order.
            replies.setdefault(int(params["chat_id"]), []).append(time.monotonic())
            return send(params)

        server._handlers["sendmessage"] = timed_send
        conn.send((server.base_url, os.getpid()))
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command[0] == "stop":
                break
            _, first_user, people, timeout = command
            users = range(first_user, first_user + people)
            for user in users:
                replies.pop(user, None)
            started = time.monotonic()
            for user in users:
                for text in SCRIPT:
                    server.send_text(user, text)
            expected = sum(REPLIES)

            def done(users: range = users, expected: int = expected) -> bool:
                return all(len(replies.get(u, ())) >= expected for u in users)

            with contextlib.suppress(TimeoutError):
                await server.wait_for(done, timeout=timeout, interval=0.02)
            latencies, missing, extra = [], 0, 0
            for user in users:
                times = replies.get(user, [])
                missing += max(0, expected - len(times))
                index = 0
                for count in REPLIES:
                    if index < len(times):
                        latencies.append(times[index] - started)
                    index += count
            await server.settle(quiet=0.2, timeout=timeout)
            extra = sum(max(0, len(replies.get(u, [])) - expected) for u in users)
            conn.send(
                {
                    "latencies": latencies,
                    "missing": missing,
                    "extra": extra,
                    "violations": list(server.violations),
                }
            )
        await server.stop()

    asyncio.run(main())


def _proxy(conn: Any, upstreams: list[str]) -> None:
    """The load balancer in its own process (nginx's part, not billed to the bots)."""
    from tests.support.proxy import RoundRobinProxy

    async def main() -> None:
        async with RoundRobinProxy(upstreams) as proxy:
            conn.send((proxy.url, os.getpid()))
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(main())


class Child:
    """A spawned helper process talking over a pipe."""

    def __init__(self, target: Any, *args: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=(child, *args), daemon=True)
        self.proc.start()
        self.url, self.pid = self.conn.recv()

    def ask(self, *command: Any) -> Any:
        self.conn.send(command)
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send(("stop",))
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.terminate()


# --------------------------------------------------------------------------- databases, bots


@dataclass
class Bot:
    process: subprocess.Popen[bytes]
    ops_port: int
    log: Path


def start_bots(count: int, api: str, proxy: str, database: str, ports: list[int]) -> list[Bot]:
    folder = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    bots = []
    for i, port in enumerate(ports[:count]):
        ops = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))},
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api,
            "DATABASE_URL": database,
            "WEBHOOK_URL": proxy + HOOK_PATH,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_PORT": str(port),
            "METRICS_PORT": str(ops),
            "RATE_LIMIT": "false",
            "WARM_MEDIA": "false",
            "LOG_LEVEL": "WARNING",
        }
        log = folder / f"bot{i}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--webhook"],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        bots.append(Bot(process, ops, log))
    return bots


async def wait_healthy(bots: list[Bot], timeout: float = 90.0) -> None:  # noqa: ASYNC109
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        for bot in bots:
            while True:
                if bot.process.poll() is not None:
                    raise RuntimeError(f"a bot process ended:\n{bot.log.read_text()}")
                try:
                    async with http.get(f"http://127.0.0.1:{bot.ops_port}/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("the bots did not become healthy")
                await asyncio.sleep(0.2)


def stop_bots(bots: list[Bot]) -> None:
    for bot in bots:
        bot.process.send_signal(signal.SIGTERM)
    for bot in bots:
        try:
            bot.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bot.process.kill()


# --------------------------------------------------------------------------- CPU accounting


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (and its reaped children), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return sum(int(f) for f in fields[11:15]) / CLK_TCK


def postgres_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving this database (not other databases' work)."""
    name = database.rsplit("/", 1)[-1]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if command.startswith("postgres:") and f" {name} " in command:
                found.append(int(entry.name))
    return found


def busy_seconds() -> float:
    """CPU time the whole machine spent busy (all processes), from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK


class PostgresCPU:
    """CPU used by this database's backends over a period: sampled in a thread, as backends
    come and go (a backend that ends loses what it used since the last sample)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._start: dict[int, float] = {p: cpu_seconds(p) for p in postgres_pids(database)}
        self._last = dict(self._start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            for pid in postgres_pids(self.database):
                used = cpu_seconds(pid)
                self._start.setdefault(pid, 0.0)  # started during the run
                self._last[pid] = max(used, self._last.get(pid, 0.0))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self._last[p] - self._start[p] for p in self._last)


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    shot = {name: sum(cpu_seconds(p) for p in pids) for name, pids in groups.items()}
    shot["machine"] = busy_seconds()
    return shot


# --------------------------------------------------------------------------- one run


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(processes: int, people: int, pg_base: str, profile: Path | None) -> dict[str, Any]:
    database = asyncio.run(create_pg(pg_base))
    ports = [free_port() for _ in range(processes)]
    fake = Child(_fake)
    proxy = Child(_proxy, [f"http://127.0.0.1:{p}" for p in ports])
    bots = start_bots(processes, fake.url, proxy.url, database, ports)
    spies: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(wait_healthy(bots))
        warm = fake.ask("load", 1_000_000, WARM_UP, 60.0)
        assert warm["missing"] == 0, warm
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            for i, bot in enumerate(bots):
                out = profile / f"bot{i}-of-{processes}.speedscope.json"
                spies.append(
                    subprocess.Popen(
                        [str(ROOT / ".venv/bin/py-spy"), "record", "-p", str(bot.process.pid),
                         "-f", "speedscope", "-o", str(out), "-r", "50"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )
                )  # fmt: skip
        groups = {
            "bots": [b.process.pid for b in bots],
            "fake": [fake.pid],
            "proxy": [proxy.pid],
        }
        xacts = asyncio.run(pg_transactions(pg_base, database))
        load = os.getloadavg()[0]
        postgres = PostgresCPU(database)
        before = cpu_snapshot(groups)
        wall0 = time.monotonic()
        result = fake.ask("load", 2_000_000, people, 600.0)
        wall = time.monotonic() - wall0
        after = cpu_snapshot(groups)
        before["postgres"], after["postgres"] = 0.0, postgres.stop()
        # (The monitoring connection's own transaction counts once: negligible.)
        xacts = asyncio.run(pg_transactions(pg_base, database)) - xacts
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            spy.wait(timeout=60)
    finally:
        stop_bots(bots)
        proxy.stop()
        fake.stop()
        asyncio.run(drop_pg(pg_base, database))
    latencies = result["latencies"]
    updates = people * len(SCRIPT)
    last = max(latencies) if latencies else float("nan")
    return {
        "processes": processes,
        "updates": updates,
        "updates_per_s": updates / last,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": last,
        "missing": result["missing"],
        "extra": result["extra"],
        "violations": len(result["violations"]),
        "cpu": cpu_used(before, after),
        "wall": wall,
        "load": load,
        "xacts_per_update": xacts / updates,
    }


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    used = {k: after[k] - before[k] for k in after}
    # What else ran meanwhile (other work on the machine slows the run down).
    used["other"] = used.pop("machine") - sum(used.values())
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--processes", default="1,2", help="comma-separated, e.g. 1,2")
    parser.add_argument("--repeat", type=int, default=1, help="runs per number of processes")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--profile", type=Path, help="py-spy each bot process into this folder")
    args = parser.parse_args()

    counts = [int(n) for n in args.processes.split(",")]
    print(
        f"Webhook mode on PostgreSQL, limiter off: {args.people:,} people x {len(SCRIPT)} updates "
        f"at once ({args.people * len(SCRIPT):,} updates), {os.cpu_count()} CPUs"
    )
    best: dict[int, float] = {}
    for processes in counts:
        for _ in range(args.repeat):
            r = run(processes, args.people, args.postgres_url, args.profile)
            best[processes] = max(best.get(processes, 0.0), r["updates_per_s"])
            cpu = "  ".join(f"{k} {v:.1f}" for k, v in r["cpu"].items())
            per_update = "  ".join(
                f"{k} {1000 * v / r['updates']:.1f}" for k, v in r["cpu"].items() if k != "other"
            )
            print(
                f"  {processes} process{'es' if processes > 1 else '  '}: "
                f"{r['updates_per_s']:7.1f} updates/s   first reply p50 {r['p50']:.2f} s, "
                f"p99 {r['p99']:.2f} s, max {r['max']:.2f} s   "
                f"(missing {r['missing']}, duplicates {r['extra']}, violations {r['violations']})"
            )
            print(
                f"      CPU seconds during the load ({r['wall']:.1f} s wall, load average "
                f"{r['load']:.1f} before): {cpu}"
            )
            print(
                f"      CPU ms per update: {per_update};  database transactions per update: "
                f"{r['xacts_per_update']:.1f}"
            )
    if 1 in best and 2 in best:
        print(f"  2 processes / 1 process: {best[2] / best[1]:.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
