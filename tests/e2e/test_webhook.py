"""Webhook mode: the secret, start-up refusals, two bot processes behind a round-robin proxy on
PostgreSQL, and the operators' /healthz and /metrics."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import Runtime, build_application, migrate
from bot.config import Settings
from bot.domain.program import PatientStatus, start_program
from bot.runtime import webhook
from bot.runtime.webhook import SECRET_HEADER, OpsServer, WebhookServer
from db.engine import create_engine, create_session_factory
from db.migrate import current_revision
from db.models import DailySession, InboxState, InboxUpdate, Patient, ReportKind, SymptomReport
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.support.botapi import FIRST_UPDATE_ID, BotApiServer, SentMessage
from tests.support.harness import make_settings
from tests.support.proxy import RoundRobinProxy

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:webhook-test-token-SECRET-xxxxxxxxx"
SECRET = "webhook-test-secret_0123456789-abcdefXYZ"
HOOK_PATH = "/telegram/hook"
WAIT = 60.0  # generous: two bot processes, PostgreSQL and the fake share two cores
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}
CONSENT, DURATION, NO_SIGNS = "Yes, store my answers", "2 to 6 weeks", "None of these"
SIDE = "Left leg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def poll(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll an async condition until it holds (no fixed sleeps)."""
    deadline = time.monotonic() + WAIT
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {WAIT}s: {what}")
        await asyncio.sleep(0.05)


def metric(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from a Prometheus exposition (None if absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def versions(message: SentMessage) -> list[str]:
    """Every text a message showed, first to last (a card is edited as it moves on)."""
    return [*message.history, message.text] if message.history else [message.text]


def original(message: SentMessage) -> str:
    """The text a message had when it was sent (a card is edited afterwards)."""
    return message.history[0] if message.history else message.text


# --------------------------------------------------------------------------- in-process bot


@dataclass
class WebhookBot:
    runtime: Runtime
    hook_url: str
    ops_url: str
    handled: set[int] = field(default_factory=set)

    async def post(self, update: dict[str, Any], secret: str | None) -> int:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.hook_url, json=update, headers=headers) as response,
        ):
            return response.status

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(self.ops_url + path) as response:
            return response.status, await response.text()

    async def stored(self, update_id: int) -> InboxUpdate | None:
        async with self.runtime.services.sessions() as db:
            return await db.get(InboxUpdate, update_id)


@asynccontextmanager
async def webhook_bot(
    database_url: str, server: BotApiServer, *, jobs: bool = False, **settings: Any
) -> AsyncIterator[WebhookBot]:
    """The real runtime in webhook mode (as `python -m bot run --webhook` wires it)."""
    port, ops_port = free_port(), free_port()
    hook_url = f"http://127.0.0.1:{port}{HOOK_PATH}"
    app, services = build_application(
        make_settings(
            database_url,
            server.base_url,
            webhook_url=hook_url,
            webhook_secret=SECRET,
            webhook_port=port,
            metrics_port=ops_port,
            **settings,
        )
    )
    runtime = Runtime.create(app, services)
    bot = WebhookBot(runtime, hook_url, f"http://127.0.0.1:{ops_port}")
    runtime.pipeline.on_handled = bot.handled.add
    await runtime.start(poll=False, jobs=jobs)
    servers: list[WebhookServer | OpsServer] = []
    try:
        servers.append(await WebhookServer.start(runtime))
        servers.append(await OpsServer.start(runtime))
        yield bot
        assert server.violations == [], server.violations
    finally:
        for running in servers:
            await running.stop()
        await runtime.stop(grace=5.0)


def forged_start(update_id: int, user_id: int) -> dict[str, Any]:
    chat = {"id": user_id, "type": "private", "first_name": "Mallory"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "from": {"id": user_id, "is_bot": False, "first_name": "Mallory"},
            "chat": chat,
            "date": int(time.time()),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_requests_without_the_secret_are_refused(database_url: str) -> None:
    async with BotApiServer() as server, webhook_bot(database_url, server) as bot:
        assert server.webhook_url == bot.hook_url and server.webhook_secret == SECRET

        # Refused: no header, a wrong one, one that differs only in its last character.
        assert await bot.post(forged_start(900_001, 31), secret=None) == 403
        assert await bot.post(forged_start(900_002, 32), secret="not-the-secret") == 403
        assert await bot.post(forged_start(900_003, 33), secret=SECRET[:-1] + "Q") == 403
        assert await raw_post(bot.hook_url, forged_start(900_005, 35), b"\xff\xfe") == 403
        for update_id in (900_001, 900_002, 900_003, 900_005):
            assert await bot.stored(update_id) is None
        assert bot.runtime.pipeline.received == 0

        # Accepted: Telegram's own delivery (the fake sends the secret setWebhook gave it)...
        delivered = server.send_text(30, "/start")["update_id"]
        await server.wait_for(lambda: delivered in bot.handled, timeout=60)
        assert server.webhook_deliveries == [(delivered, 200)]
        assert "not a doctor" in server.messages(30)[0].text
        # ...and any request that carries it.
        assert await bot.post(forged_start(900_004, 34), secret=SECRET) == 200
        await server.wait_for(lambda: 900_004 in bot.handled, timeout=60)
        assert "not a doctor" in server.messages(34)[0].text

        await server.settle(quiet=0.05)
        for refused in (31, 32, 33, 35):
            assert server.messages(refused) == []
        status, text = await bot.get("/metrics")
        assert status == 200
        assert metric(text, "bot_webhook_rejected_total") == 4
        assert metric(text, "bot_updates_received_total") == 2
        assert metric(text, "bot_updates_processed_total") == 2


async def raw_post(url: str, update: dict[str, Any], secret: bytes) -> int:
    """A POST whose secret header carries raw bytes (aiohttp's client only sends text)."""
    parts = urlsplit(url)
    body = json.dumps(update).encode()
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()
            + SECRET_HEADER.encode()
            + b": "
            + secret
            + f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def test_an_update_is_confirmed_only_once_stored(database_url: str) -> None:
    async with BotApiServer() as server, webhook_bot(database_url, server) as bot:
        pipeline = bot.runtime.pipeline
        accept = pipeline.accept
        failures = [ConnectionResetError("the database went away")]

        async def flaky_accept(raw_updates: list[Any]) -> None:
            if failures:
                raise failures.pop()
            await accept(raw_updates)

        pipeline.accept = flaky_accept  # type: ignore[method-assign]
        update_id = server.send_text(50, "/start")["update_id"]
        await server.wait_for(lambda: update_id in bot.handled, timeout=60)
        await server.settle(quiet=0.05)
        # Refused while it could not be stored; Telegram sent it again; handled once.
        assert server.webhook_deliveries == [(update_id, 503), (update_id, 200)]
        texts = [m.text for m in server.messages(50)]
        assert len(texts) == len(set(texts)) == 2  # the welcome and the consent question
        stored = await bot.stored(update_id)
        assert stored is not None and stored.state is InboxState.DONE


# --------------------------------------------------------------------------- processes


def bot_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a bot process: none of the caller's bot settings leak in."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTINGS_ENV}
    env.update(PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=TOKEN, RATE_LIMIT="false", LOG_LEVEL="INFO")
    env.update(WARM_MEDIA="false")  # no render workers outliving a killed process
    env.update(settings)
    return env


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log_path: Path
    ops_url: str | None = None

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def get(self, path: str) -> tuple[int, str]:
        assert self.ops_url is not None
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
                http.get(self.ops_url + path) as response,
            ):
                return response.status, await response.text()
        except aiohttp.ClientConnectionError:
            return 0, ""

    async def health(self) -> dict[str, Any] | None:
        assert self.ops_url is not None
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
                http.get(self.ops_url + "/healthz") as response,
            ):
                return await response.json() if response.status == 200 else None
        except aiohttp.ClientConnectionError:
            return None

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        assert self.process.returncode is not None
        return self.process.returncode


async def spawn(tmp_path: Path, name: str, args: list[str], env: dict[str, str]) -> BotProcess:
    # Output goes to a file: a pipe nobody reads would fill up and stall a busy bot.
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=tmp_path,  # no .env there
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    ops = env.get("METRICS_PORT")
    return BotProcess(process, log_path, f"http://127.0.0.1:{ops}" if ops else None)


async def run_to_end(
    tmp_path: Path, name: str, args: list[str], env: dict[str, str], *, code: int = 1
) -> str:
    """Run `python -m bot ...` to its end; its output, once the exit status is checked."""
    proc = await spawn(tmp_path, name, args, env)
    assert await asyncio.wait_for(proc.process.wait(), timeout=WAIT) == code, proc.log
    return proc.log


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (None, "WEBHOOK_SECRET is missing"),
        ("", "WEBHOOK_SECRET is missing"),
        ("hunter2", "WEBHOOK_SECRET is too weak"),
        ("a-long-enough-secret-but with spaces!", "WEBHOOK_SECRET is too weak"),
    ],
)
async def test_webhook_mode_refuses_a_missing_or_weak_secret(
    tmp_path: Path, secret: str | None, problem: str
) -> None:
    settings = {
        "WEBHOOK_URL": "https://bot.example.org/telegram/hook",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        # Never contacted: the settings are refused before anything starts.
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}/bot",
    }
    if secret is not None:
        settings["WEBHOOK_SECRET"] = secret
    env = bot_env(tmp_path, **settings)
    output = await run_to_end(tmp_path, "bot", ["run", "--webhook"], env, code=2)
    assert output.count("\n") == 1, output
    assert output.startswith("Configuration error: ") and problem in output
    assert "secrets.token_urlsafe" in output  # how to make a good one
    assert "Traceback" not in output
    if secret:
        assert secret not in output
    assert not (tmp_path / "bot.db").exists()  # refused before touching the database


async def test_a_busy_port_is_named_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with BotApiServer() as server:
            env = bot_env(
                tmp_path,
                TELEGRAM_API_BASE_URL=server.base_url,
                DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
                WEBHOOK_URL="https://bot.example.org/telegram/hook",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_PORT=str(port),
                LOG_LEVEL="WARNING",
            )
            output = await run_to_end(tmp_path, "bot", ["run", "--webhook"], env)
            assert server.count("setWebhook") == 0  # Telegram was never pointed at it
    assert output == (
        f"Start-up error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "check WEBHOOK_LISTEN and WEBHOOK_PORT.\n"
    )


async def test_sqlite_refuses_a_second_process(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        env = bot_env(
            tmp_path,
            TELEGRAM_API_BASE_URL=server.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/data/bot.db",
        )
        first = await spawn(tmp_path, "first", ["run"], env)
        try:
            await server.wait_for(lambda: server.count("getUpdates") > 0, timeout=WAIT)
            webhook_env = {**env, "WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/hook"}
            webhook_env["WEBHOOK_SECRET"] = SECRET
            for name, args, second_env in (
                ("polling", ["run"], env),
                ("webhook", ["run", "--webhook"], webhook_env),
                ("dispatch", ["dispatch"], env),
            ):
                output = await run_to_end(tmp_path, name, args, second_env, code=2)
                assert output.count("\n") == 1, output
                assert "another bot process already uses the SQLite database" in output
                assert "Traceback" not in output
            # The first one never noticed.
            server.send_text(7, "/start")
            await server.wait_for(lambda: len(server.messages(7)) >= 2, timeout=WAIT)
        finally:
            code = await first.stop()
        assert code == 0, first.log
        assert "Traceback" not in first.log


# --------------------------------------------------------------------------- two processes


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database (skipped with a reason, or failed under CI=true)."""
    url = await _create_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(url)


async def test_processes_starting_together_migrate_in_turn(postgres_url: str) -> None:
    engines = [create_engine(postgres_url) for _ in range(4)]
    try:
        # As systemd starts several instances at once on a new database.
        await asyncio.gather(*(migrate(engine) for engine in engines))
        revisions = {await current_revision(engine) for engine in engines}
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(revisions) == 1 and None not in revisions


@dataclass
class Person:
    """One person going through onboarding, with ratings and a reminder time of their own."""

    user_id: int
    ratings: tuple[int, int, int, int]  # pain, numbness, tingling, furthest point

    @property
    def reminder(self) -> dtime:
        return dtime(6 + self.user_id % 5, 5 * (self.user_id % 12))

    @property
    def typed(self) -> list[str]:
        return [*(str(r) for r in self.ratings), "skip", self.reminder.strftime("%H:%M")]

    @property
    def markers(self) -> list[str]:
        """What the replies to the typed answers show first, in the order they must come."""
        pain, numbness, tingling, _extent = self.ratings
        return [
            f"Pain: {pain}/10",
            f"Numbness: {numbness}/10",
            f"Tingling: {tingling}/10",
            "Thank you, recorded.",
            "One more question, and you may skip it.",
            "Skipped.",
            "At what time should I send",
            f"Your routine time: {self.reminder.strftime('%H:%M')}.",
            "Which time zone are you in?",
        ]


def people(count: int) -> list[Person]:
    return [Person(20_000 + i, (i % 11, (i + 3) % 11, (i + 7) % 11, i % 6)) for i in range(count)]


async def wait_button(server: BotApiServer, user_id: int, label: str) -> SentMessage:
    found: list[SentMessage] = []

    def ready() -> bool:
        found[:] = [m for m in server.messages(user_id) if label in m.buttons]
        return bool(found)

    await server.wait_for(ready, timeout=WAIT, interval=0.05)
    return found[-1]


# What each person sends while onboarding: /start, four taps, four ratings, "skip" (the
# everyday activities) and a reminder time.
UPDATES_EACH = 11


async def onboard_in_a_burst(server: BotApiServer, person: Person) -> None:
    """Tap through consent, duration, screening and side, then type four ratings and a reminder
    time all at once, without waiting for the replies in between."""
    uid = person.user_id
    server.send_text(uid, "/start")
    for label in (CONSENT, DURATION, NO_SIGNS, SIDE):
        server.press(uid, await wait_button(server, uid, label), label)
    await server.wait_for(
        lambda: any("How strong is your pain" in m.text for m in server.messages(uid)),
        timeout=WAIT,
        interval=0.05,
    )
    for text in person.typed:
        server.send_text(uid, text)
    await server.wait_for(
        lambda: "Which time zone" in server.last_message(uid).text, timeout=WAIT, interval=0.05
    )


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now, so the routine is not past its cut-off."""
    offset = 12 - now.astimezone(UTC).hour  # -11 .. +12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # the POSIX sign is reversed


@asynccontextmanager
async def cluster(
    tmp_path: Path, server: BotApiServer, database_url: str, count: int = 2, **settings: str
) -> AsyncIterator[tuple[list[BotProcess], RoundRobinProxy]]:
    """``count`` `python -m bot run --webhook` processes behind a round-robin proxy."""
    ports = [free_port() for _ in range(count)]
    async with RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports]) as proxy:
        processes = []
        try:
            for i, port in enumerate(ports):
                env = bot_env(
                    tmp_path,
                    TELEGRAM_API_BASE_URL=server.base_url,
                    DATABASE_URL=database_url,
                    WEBHOOK_URL=proxy.url + HOOK_PATH,
                    WEBHOOK_SECRET=SECRET,
                    WEBHOOK_PORT=str(port),
                    METRICS_PORT=str(free_port()),
                    DISPATCH_INTERVAL_SECONDS="1",
                    **settings,
                )
                # Started together on an empty database, as systemd starts two instances.
                processes.append(await spawn(tmp_path, f"bot{i}", ["run", "--webhook"], env))

            async def all_healthy() -> bool:
                for proc in processes:
                    if proc.process.returncode is not None:
                        raise AssertionError(f"a bot process ended early:\n{proc.log}")
                return all([await proc.health() for proc in processes])

            await poll(all_healthy, "both processes healthy")
            yield processes, proxy
        finally:
            codes = [await proc.stop() for proc in processes]
            logs = "\n".join(proc.log for proc in processes)
        assert codes == [0] * count, logs
        assert "Traceback" not in logs, logs
        assert TOKEN.split(":")[1] not in logs and SECRET not in logs


async def test_two_processes_behind_a_load_balancer(tmp_path: Path, postgres_url: str) -> None:
    crowd = people(100)
    engine = create_engine(postgres_url)
    sessions = create_session_factory(engine)
    try:
        async with (
            # Like Telegram: a chat's next update only once the previous one was confirmed.
            BotApiServer(record_requests=False, webhook_chat_order=True) as server,
            cluster(tmp_path, server, postgres_url, DISPATCH_BATCH_SIZE="10") as (bots, proxy),
        ):
            await asyncio.gather(*(onboard_in_a_burst(server, p) for p in crowd))
            await server.settle(quiet=0.1, timeout=WAIT)
            # Both processes took updates (round robin); Telegram had each confirmed once.
            assert all(n > 0 for n in proxy.forwarded.values()), proxy.forwarded
            assert server.last_update_id == FIRST_UPDATE_ID + len(crowd) * UPDATES_EACH - 1
            accepted = [uid for uid, status in server.webhook_deliveries if status == 200]
            assert sorted(accepted) == list(range(FIRST_UPDATE_ID, server.last_update_id + 1))
            async with sessions() as db:
                await check_onboarded_once_in_order(db, server, crowd)
            async with sessions() as db, db.begin():
                await make_everyone_due(db, datetime.now(UTC))
            await check_one_morning_each(server, bots, crowd)
        async with sessions() as db:
            days = await db.scalar(select(func.count()).select_from(DailySession))
        assert days == len(crowd)
    finally:
        await engine.dispose()


async def check_onboarded_once_in_order(
    db: AsyncSession, server: BotApiServer, crowd: list[Person]
) -> None:
    patients = {p.telegram_user_id: p for p in (await db.execute(select(Patient))).scalars()}
    baselines = (
        await db.execute(
            select(SymptomReport, Patient.telegram_user_id)
            .join(Patient, Patient.id == SymptomReport.patient_id)
            .where(SymptomReport.kind == ReportKind.BASELINE)
        )
    ).all()
    grouped = await db.execute(select(InboxUpdate.state, func.count()).group_by(InboxUpdate.state))
    states = {state: count for state, count in grouped.all()}
    # Every update applied once: one row per person, one baseline each, every update done.
    assert sorted(patients) == [p.user_id for p in crowd]
    assert sorted(uid for _, uid in baselines) == [p.user_id for p in crowd]
    assert states == {InboxState.DONE: len(crowd) * UPDATES_EACH}
    by_user = {uid: report for report, uid in baselines}
    for person in crowd:
        row, report = patients[person.user_id], by_user[person.user_id]
        # In order: each typed answer went to the question it answered...
        assert (report.pain, report.numbness, report.tingling, report.extent) == person.ratings
        assert row.reminder_time == person.reminder
        assert row.flow == "zone" and row.status is PatientStatus.ONBOARDING
        # ...its replies came in the order of the updates, and none came twice. A typed rating
        # moves the card on in place, so each message's versions count, in the order shown.
        messages = server.messages(person.user_id, include_deleted=True)
        shown = [text for m in messages for text in versions(m)]
        firsts = [next(i for i, t in enumerate(shown) if marker in t) for marker in person.markers]
        assert firsts == sorted(firsts), (person, shown)
        sent = [original(m) for m in messages]
        assert len(sent) == len(set(sent)), sent


async def make_everyone_due(db: AsyncSession, now: datetime) -> None:
    """Everyone active, their routine due a minute ago, where it is about noon."""
    await db.execute(
        update(Patient).values(
            status=PatientStatus.ACTIVE,
            time_zone=midday_zone(now),
            flow=None,
            flow_data={},
            program_state=start_program().to_json(),
            program_started_on=now.date(),
            reminder_time=dtime(0, 0),
            next_send_at=now - timedelta(minutes=1),
        )
    )


async def check_one_morning_each(
    server: BotApiServer, bots: list[BotProcess], crowd: list[Person]
) -> None:
    """Both processes run the dispatcher every second: each person gets one routine."""

    def routines(user_id: int) -> list[SentMessage]:
        return [m for m in server.messages(user_id) if "Done" in m.buttons]

    await server.wait_for(
        lambda: all(routines(p.user_id) for p in crowd), timeout=WAIT, interval=0.05
    )
    served = time.monotonic()

    async def counted() -> bool:
        total = 0.0
        for proc in bots:
            _, text = await proc.get("/metrics")
            total += metric(text, "bot_routines_sent_total", kind="routine") or 0
        return total == len(crowd)

    await poll(counted, "the routines in the metrics")
    # Then two more passes end in each process: the second began after everyone was served.
    for proc in bots:
        ends: list[float] = []

        async def another_pass_ended(proc: BotProcess = proc, ends: list[float] = ends) -> bool:
            health = await proc.health()
            ago = None if health is None else health["dispatcher_last_pass_seconds_ago"]
            if ago is None:
                return False
            end = time.monotonic() - ago
            if end > max([served, *ends]) + 0.5:
                ends.append(end)
            return len(ends) == 2

        await poll(another_pass_ended, "two more dispatcher passes")
    assert [len(routines(p.user_id)) for p in crowd] == [1] * len(crowd)


# --------------------------------------------------------------------------- health, metrics


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB reads 429s
async def test_health_and_metrics_after_some_traffic(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        BotApiServer() as server,
        webhook_bot(database_url, server, jobs=True, dispatch_interval_seconds=1) as bot,
    ):
        users = [41, 42, 43]
        for uid in users:
            server.send_text(uid, "/start", first_name="Zanzibar")
        server.fail_next("sendMessage", status=429, retry_after=1)
        await server.wait_for(lambda: all(len(server.messages(u)) >= 2 for u in users), timeout=60)
        server.press(users[0], await wait_button(server, users[0], CONSENT), CONSENT)
        await wait_button(server, users[0], DURATION)
        poison = server.inject_raw({"message": {"from": {"id": 44}, "chat": "not a chat"}})
        await server.wait_for(lambda: poison["update_id"] in bot.handled, timeout=60)
        typed = server.send_text(users[1], "Llanfairpwllgwyngyll 4242")
        await server.wait_for(lambda: typed["update_id"] in bot.handled, timeout=60)

        async def fresh_pass() -> bool:
            _, body = await bot.get("/healthz")
            return '"dispatcher_last_pass_seconds_ago": null' not in body

        await poll(fresh_pass, "a dispatcher pass")
        status, body = await bot.get("/healthz")
        assert status == 200, body
        health = json.loads(body)
        assert health["process"] == health["database"] == health["bot_api"] == "ok"
        assert 0 <= health["dispatcher_last_pass_seconds_ago"] < 30

        status, text = await bot.get("/metrics")
        assert status == 200
        assert metric(text, "bot_updates_received_total") == 6
        assert metric(text, "bot_updates_processed_total") == 5
        assert metric(text, "bot_updates_failed_total") == 1
        assert metric(text, "bot_telegram_429_total") == 1
        assert metric(text, "bot_people", status="onboarding") == 3
        assert metric(text, "bot_inbox_waiting") == 0
        assert metric(text, "bot_inbox_lag_seconds") == 0
        assert metric(text, "bot_webhook_rejected_total") == 0
        # Counts only: no ids, names, typed words, token or secret.
        for private in ("41", "42", "43", "44", "Zanzibar", "Llanfair", TOKEN, SECRET):
            assert not re.search(rf"(?<![\d.e+-]){re.escape(private)}(?![\d.])", text), private

        # Telegram unreachable: /healthz says so (the check waits BOT_API_TIMEOUT at most).
        monkeypatch.setattr(webhook, "BOT_API_CHECK_EVERY", 0.0)
        monkeypatch.setattr(webhook, "BOT_API_TIMEOUT", 0.5)
        await server.stop()
        status, body = await bot.get("/healthz")
        assert status == 503
        assert '"bot_api": "unreachable"' in body and '"database": "ok"' in body
