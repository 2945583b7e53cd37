"""The composition root: builds the Application, the Services and the jobs, and runs the bot
(long polling or webhook) with the update pipeline."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.config import ConfigError, Settings
from bot.content import DEFAULT_LANGUAGE
from bot.context import BotApplication, BotContext, BotData, Services, utc_now
from bot.metrics import Metrics
from bot.rendering.i18n import available_languages, texts_for
from bot.rendering.media_folder import media_path
from bot.rendering.motion import missing_animations
from bot.rendering.offload import Renderer, media_file
from bot.rendering.poses import load_pictures
from bot.rendering.validation import validate_all
from bot.runtime.jobs import JobState, on_error, schedule_jobs
from bot.runtime.picture_ids import MediaCache
from bot.runtime.pipeline import Pipeline, Poller
from bot.runtime.respond import broadcaster
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.transport import AiohttpRequest
from bot.usecases.conversation import MENU, menu_in
from db import dispatch as dispatch_queries
from db.engine import create_engine, create_session_factory
from db.migrate import at_head, downgrade, upgrade

log = logging.getLogger(__name__)

# Connections for sending: the dispatcher's concurrent sends plus replies to people.
SEND_POOL_SIZE = 64
# The PostgreSQL advisory lock held while migrating (any fixed number of our own).
MIGRATION_LOCK = 0x5C1A7C4


def command_menu(language: str) -> list[BotCommand]:
    """The command menu for a language: the commands under its names, described in its words
    (from the one list, ``bot.usecases.conversation.COMMANDS``)."""
    texts = texts_for(language)
    return [BotCommand(name, texts.t(f"commands.{key}")) for key, name in menu_in(language)]


def build_application(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    run_migrations: bool = True,
    rate_limiter: RateLimiter | None = None,
) -> tuple[BotApplication, Services]:
    """Build the Application: Bot API endpoint, defaults, database, the Services.

    ``rate_limiter`` replaces the one built from the settings (tests inject one with a fake
    clock). Jobs are scheduled by ``Runtime.start``.
    """
    token = settings.require_token()
    validate_all(MENU)
    # The pictures' poses are read and checked now (a wrong one stops start-up with one line);
    # they are drawn in the render workers, on first need, never in this process.
    load_pictures()
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    metrics = Metrics()
    # The drawing's worker processes start on first use (most runs never draw).
    renderer = Renderer(settings.render_workers)

    async def draw_picture(key: str) -> bytes:
        # Drawn before (by any process, at any earlier start): read here, no worker needed.
        try:
            return await asyncio.to_thread(media_path(key, settings.media_dir).read_bytes)
        except FileNotFoundError:
            return await renderer(media_file, key, settings.media_dir)

    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        media=MediaCache(sessions, draw_picture, clock),
        metrics=metrics,
        offload=renderer,
    )
    limiter = rate_limiter or RateLimiter(
        overall_per_second=settings.rate_limit_overall_per_second,
        per_chat_per_second=settings.rate_limit_per_chat_per_second,
        per_chat_burst=settings.rate_limit_per_chat_burst,
        enabled=settings.rate_limit,
    )
    metrics.count_flood_waits(lambda: limiter.stats.retry_after)

    async def post_init(app: BotApplication) -> None:
        if run_migrations:
            await migrate(engine)
        # Each language's menu shows its own names ("/aide" in French); the default menu, for
        # every other language, is English.
        for language in available_languages():
            await app.bot.set_my_commands(command_menu(language), language_code=language)
        await app.bot.set_my_commands(command_menu(DEFAULT_LANGUAGE))
        log.info("Bot started as @%s", app.bot.username)
        if settings.warm_media:
            # A plain task, cancelled at shutdown (PTB would wait for one of its own).
            warming.append(asyncio.create_task(warm_media(), name="warm-animations"))

    warming: list[asyncio.Task[None]] = []

    async def warm_media() -> None:
        # The exercise animations missing from MEDIA_DIR are drawn now, one at a time in the
        # render workers, so that no one waits for one to be drawn (a few seconds each, once
        # per version); a stop waits for one animation at most.
        missing = missing_animations(settings.media_dir)
        try:
            for key in missing:
                await renderer(media_file, key, settings.media_dir)
        except Exception:
            log.exception("Drawing the exercise animations failed; they are drawn on first need")
        else:
            if missing:
                log.info("Drew %d exercise animations into %s", len(missing), settings.media_dir)

    async def post_shutdown(_app: BotApplication) -> None:
        for task in warming:
            task.cancel()
        renderer.shutdown()
        await engine.dispose()

    builder = (
        ApplicationBuilder()
        .token(token)
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=UTC))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .updater(None)  # updates come through the durable inbox (bot.runtime.pipeline)
        # aiohttp instead of httpx: several times less CPU per message (bot/telegram/transport.py).
        .request(AiohttpRequest(connection_pool_size=SEND_POOL_SIZE))
        .rate_limiter(limiter)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    app: BotApplication = builder.build()
    app.bot_data.services = services
    services.broadcast = broadcaster(app.bot, services.media)
    # Updates are routed by bot.handlers.updates (called by the pipeline), not by PTB's handler
    # table; PTB's error handler logs what fails in a job.
    app.add_error_handler(on_error)
    return app, services


async def migrate(engine: AsyncEngine, revision: str = "head", *, down: bool = False) -> None:
    """Apply migrations; on PostgreSQL one process at a time (an advisory lock), so processes
    started together on a new database do not create the same tables at once. A database at
    the head revision already needs nothing (one query, without loading Alembic)."""
    if revision == "head" and not down and await at_head(engine):
        return
    if engine.dialect.name != "postgresql":
        await (downgrade(engine, revision) if down else upgrade(engine, revision))
        return
    async with engine.connect() as lock:
        # A session lock on its own connection, outside any transaction (nothing held idle).
        await lock.execution_options(isolation_level="AUTOCOMMIT")
        await lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            await (downgrade(engine, revision) if down else upgrade(engine, revision))
        finally:
            await lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def process_name() -> str:
    """This process's name as an owner of leases: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass
class Runtime:
    """A running bot: the Application, its update pipeline and, in polling mode, the poller."""

    app: BotApplication
    services: Services
    pipeline: Pipeline
    poller: Poller | None = None
    jobs: JobState | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @classmethod
    def create(
        cls, app: BotApplication, services: Services, *, owner: str | None = None
    ) -> Runtime:
        settings = services.settings
        pipeline = Pipeline(
            app,
            services,
            concurrency=settings.concurrent_updates,
            shared=not settings.is_sqlite,
            owner=owner or process_name(),
        )
        return cls(app, services, pipeline)

    async def start(self, *, poll: bool = True, jobs: bool = True) -> None:
        app = self.app
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        if self.services.settings.is_sqlite:
            # One process: any dispatcher lease left is this process's own, from before a crash;
            # take those people back at once instead of waiting for the leases to run out.
            async with self.services.sessions() as db:
                if await dispatch_queries.drop_claims(db):
                    log.info("Took back the dispatcher claims left by the previous run")
                await db.commit()
        await self.pipeline.recover()
        if jobs:
            self.jobs = schedule_jobs(app, self.pipeline, self.stopping)
        if poll:
            # Polling and a webhook exclude each other: leaving webhook mode keeps what Telegram
            # still holds for us (it comes through getUpdates).
            await app.bot.delete_webhook(drop_pending_updates=False)
            self.poller = Poller(app, self.pipeline)
            self._tasks.append(asyncio.create_task(self.poller.run(self.stopping)))

    async def stop(self, grace: float = 5.0) -> None:
        """A quick, clean stop: no new work, the updates in hand finish (or stay stored)."""
        self.stopping.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        app = self.app
        if app.job_queue is not None and app.job_queue.scheduler.running:
            await app.job_queue.stop(wait=False)
        running = self.jobs.running if self.jobs is not None else None
        if running is not None and not running.done():
            # The pass stops claiming and sending; give the sends in flight a moment.
            _done, pending = await asyncio.wait([running], timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # Unsent claims go back at once, so another process takes them over without waiting.
        async with self.services.sessions() as db:
            await dispatch_queries.drop_claims(db, self.pipeline.owner)
            await db.commit()
        await self.pipeline.stop(grace)
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


class SingleProcessLock:
    """SQLite serves one process: a second bot or dispatcher on the same file is refused."""

    def __init__(self, settings: Settings) -> None:
        self._path = settings.sqlite_path
        self._handle: IO[str] | None = None

    def __enter__(self) -> SingleProcessLock:
        if self._path is None:
            return self
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock = Path(f"{self._path}.lock")
        handle = lock.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigError(
                "Configuration error: another bot process already uses the SQLite database "
                f"{self._path}; SQLite serves one process (use PostgreSQL for several)."
            ) from None
        self._handle = handle
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
