"""End-to-end harness: the real Application polling a local Bot API server, with a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, TypeHandler

from bot.app import build_application
from bot.config import Settings
from bot.services import SERVICES_KEY, Services
from tests.support.botapi import FIRST_UPDATE_ID, BotApiServer, SentMessage

TOKEN = "123456:TEST-token-never-real"
WAIT = 20.0  # generous: CI runs on two shared cores


@dataclass
class FakeClock:
    """The clock every use case reads; tests move it instead of sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 7, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("aware datetimes only")
        self.now = value


@dataclass
class BotHarness:
    server: BotApiServer
    app: Application  # type: ignore[type-arg]
    clock: FakeClock
    processed: set[int] = field(default_factory=set)

    async def until_processed(self) -> None:
        """Wait until the Application has finished with every update injected so far.

        A handler in the last group records each update after the real handlers ran (PTB runs
        groups in order, even after an error), so this does not depend on timing.
        """
        last = self.server.last_update_id
        await self.server.wait_for(
            lambda: all(i in self.processed for i in range(FIRST_UPDATE_ID, last + 1)),
            timeout=WAIT,
        )
        await self.server.settle(quiet=0.02)

    @property
    def services(self) -> Services:
        services: Services = self.app.bot_data[SERVICES_KEY]
        return services

    async def say(self, user_id: int, text: str) -> SentMessage:
        """Send a text (or command) as the person and return the bot's last message."""
        self.server.send_text(user_id, text)
        await self.until_processed()
        return self.server.last_message(user_id)

    async def after(self, inject: Callable[[], object]) -> None:
        """Inject an update (a sticker, an edit...) and wait until the bot has handled it."""
        inject()
        await self.until_processed()

    async def tap(self, user_id: int, button_text: str, message: SentMessage | None = None) -> str:
        """Press an inline button (on the last message by default); returns the answer text."""
        target = message if message is not None else self.server.last_message(user_id)
        query_id = self.server.press(user_id, target, button_text)
        await self.until_processed()
        answer = self.server.callback_answers.get(query_id)
        assert answer is not None, f"callback {query_id} was not answered\n{self.server.dump()}"
        return str(answer.get("text") or "")

    def last(self, user_id: int) -> SentMessage:
        return self.server.last_message(user_id)

    def texts(self, user_id: int) -> list[str]:
        return [m.text for m in self.server.messages(user_id)]


def make_settings(database_url: str, api_base_url: str, **extra: Any) -> Settings:
    return Settings(
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        database_url=database_url,
        telegram_api_base_url=api_base_url,
        rate_limit=False,
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


@asynccontextmanager
async def running_bot(
    database_url: str,
    clock: FakeClock | None = None,
    *,
    start_dispatcher: bool = False,
    **settings: Any,
) -> AsyncIterator[BotHarness]:
    """The bot on a fresh local server; the dispatcher job is off unless asked for (tests run
    passes themselves with the fake clock)."""
    clock = clock or FakeClock()
    async with BotApiServer() as server:
        harness_processed: set[int] = set()

        async def mark_processed(update: Update, _context: object) -> None:
            harness_processed.add(update.update_id)

        app = build_application(
            make_settings(database_url, server.base_url, **settings),
            clock=clock,
            start_dispatcher=start_dispatcher,
        )
        app.add_handler(TypeHandler(Update, mark_processed), group=99)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield BotHarness(server, app, clock, harness_processed)
            assert server.violations == [], server.violations
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
