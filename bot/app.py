"""The composition root: builds the Application and wires every handler and job in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot.config import Settings
from bot.content import load_content
from bot.dispatcher import schedule_dispatcher
from bot.domain import zones
from bot.handlers import register_handlers
from bot.ratelimit import RateLimiter
from bot.services import SERVICES_KEY, Services, utc_now
from bot.transport import AiohttpRequest
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade

log = logging.getLogger(__name__)

# Connections for sending: the dispatcher's concurrent sends plus replies to people.
SEND_POOL_SIZE = 32

# The commands shown in Telegram's menu, in order; texts come from the catalogue.
MENU_COMMANDS = (
    "today",
    "checkin",
    "status",
    "pause",
    "resume",
    "reset",
    "time",
    "timezone",
    "reminders",
    "help",
    "delete",
)


def build_application(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    run_migrations: bool = True,
    start_dispatcher: bool = True,
    rate_limiter: RateLimiter | None = None,
) -> Application:  # type: ignore[type-arg]
    """Build the Application: Bot API endpoint, defaults, database, content, handlers, jobs.

    ``start_dispatcher=False`` leaves out the repeating dispatcher job (tests and the
    ``dispatch`` command run passes themselves); ``rate_limiter`` replaces the one built from
    the settings (tests inject one with a fake sleep).
    """
    token = settings.require_token()
    content = load_content()
    engine = create_engine(settings.database_url)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        content=content,
        clock=clock,
    )

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        if run_migrations:
            await upgrade(engine)
        # The city index takes about a second to build: build it now, not when the first
        # person types their city.
        await asyncio.to_thread(zones.warm_up)
        catalogue = content.catalogue
        await app.bot.set_my_commands(
            [BotCommand(name, catalogue.text(f"commands.{name}")) for name in MENU_COMMANDS]
        )
        log.info("Bot started as @%s", app.bot.username)

    async def post_shutdown(_app: Application) -> None:  # type: ignore[type-arg]
        await engine.dispose()

    builder = (
        ApplicationBuilder()
        .token(token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=UTC))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(False)
        # aiohttp instead of httpx: several times less CPU per message (see bot/transport.py).
        .request(AiohttpRequest(connection_pool_size=SEND_POOL_SIZE))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .rate_limiter(
            rate_limiter
            or RateLimiter(
                overall_per_second=settings.rate_limit_overall_per_second,
                per_chat_per_second=settings.rate_limit_per_chat_per_second,
                enabled=settings.rate_limit,
            )
        )
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    app = builder.build()
    app.bot_data[SERVICES_KEY] = services
    register_handlers(app)
    if start_dispatcher:
        schedule_dispatcher(app)
    return app
