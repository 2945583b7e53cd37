"""End-to-end harness: the real bot (Application, update pipeline, long polling) against a local
Bot API server, with a fake clock."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from bot.app import Runtime, build_application
from bot.config import Settings
from bot.context import BotApplication, Services
from bot.telegram.ratelimit import RateLimiter
from tests.support.botapi import FIRST_UPDATE_ID, BotApiServer, SentMessage

TOKEN = "123456:TEST-token-never-real-xxxxxxxxxxxxx"
WAIT = 60.0  # generous: CI may run on two cores that other work keeps busy (issue 21, point 10)


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
    runtime: Runtime
    clock: FakeClock
    handled: set[int] = field(default_factory=set)
    first_update: int = FIRST_UPDATE_ID  # updates before this one were another bot's

    @property
    def app(self) -> BotApplication:
        return self.runtime.app

    @property
    def services(self) -> Services:
        return self.runtime.services

    async def until_processed(self) -> None:
        """Wait until the bot has handled every update injected so far (done, quarantined or
        dropped): the pipeline reports each one, so this does not depend on timing."""
        last = self.server.last_update_id
        await self.server.wait_for(
            lambda: all(i in self.handled for i in range(self.first_update, last + 1)),
            timeout=WAIT,
        )
        await self.server.settle(quiet=0.02)

    async def say(self, user_id: int, text: str, **kwargs: Any) -> SentMessage:
        """Send a text (or command) as the person and return the bot's last message."""
        self.server.send_text(user_id, text, **kwargs)
        await self.until_processed()
        return self.server.last_message(user_id)

    async def after(self, inject: Callable[[], object]) -> None:
        """Inject an update (a sticker, an edit...) and wait until the bot has handled it."""
        inject()
        await self.until_processed()

    async def tap(self, user_id: int, button_text: str, message: SentMessage | None = None) -> str:
        """Press an inline button (on the last message by default); returns the answer text."""
        target = message if message is not None else self.last_with(user_id, button_text)
        query_id = self.server.press(user_id, target, button_text)
        await self.until_processed()
        answer = self.server.callback_answers.get(query_id)
        assert answer is not None, f"callback {query_id} was not answered\n{self.server.dump()}"
        return str(answer.get("text") or "")

    def last(self, user_id: int) -> SentMessage:
        return self.server.last_message(user_id)

    def last_with(self, user_id: int, button_text: str) -> SentMessage:
        """The latest message that carries a button with this label (else the last message)."""
        for message in reversed(self.server.messages(user_id)):
            if button_text in message.buttons:
                return message
        return self.server.last_message(user_id)

    def texts(self, user_id: int) -> list[str]:
        return [m.text for m in self.server.messages(user_id)]


# The exercise animations the render workers draw, kept across tests and runs: each file is
# named by its version, so a changed pose or drawing code is drawn anew (a few seconds each).
# One folder per checkout: a folder keeps one version of each file, so two checkouts of
# different versions tested at once on one machine would remove each other's.
_CHECKOUT: Final = hashlib.sha256(str(Path(__file__).resolve().parents[2]).encode()).hexdigest()
TEST_MEDIA_DIR: Final = Path(tempfile.gettempdir()) / f"sciatica-bot-test-media-{_CHECKOUT[:10]}"


def make_settings(database_url: str, api_base_url: str, **extra: Any) -> Settings:
    # The tests' animations are drawn once per session (tests/conftest.py), not at each start.
    values: dict[str, Any] = {
        "rate_limit": False,
        "media_dir": TEST_MEDIA_DIR,
        "warm_media": False,
        **extra,
    }
    return Settings(
        telegram_bot_token=TOKEN,
        database_url=database_url,
        telegram_api_base_url=api_base_url,
        _env_file=None,
        **values,
    )


@asynccontextmanager
async def running_bot(
    database_url: str,
    clock: FakeClock | None = None,
    *,
    start_dispatcher: bool = False,
    server: BotApiServer | None = None,
    rate_limiter: RateLimiter | None = None,
    **settings: Any,
) -> AsyncIterator[BotHarness]:
    """The bot on a local server (a fresh one unless given); the repeating jobs are off unless
    asked for (tests run dispatcher passes themselves with the fake clock)."""
    clock = clock or FakeClock()
    own_server = server is None
    api = server or BotApiServer()
    if own_server:
        await api.start()
    try:
        app, services = build_application(
            make_settings(database_url, api.base_url, **settings),
            clock=clock,
            rate_limiter=rate_limiter,
        )
        runtime = Runtime.create(app, services)
        first = max(FIRST_UPDATE_ID, api.last_update_id + 1)
        harness = BotHarness(api, runtime, clock, first_update=first)
        runtime.pipeline.on_handled = harness.handled.add
        await runtime.start(poll=True, jobs=start_dispatcher)
        try:
            yield harness
            assert api.violations == [], api.violations
        finally:
            await runtime.stop(grace=5.0)
    finally:
        if own_server:
            await api.stop()
