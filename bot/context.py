"""What every use case and job needs: the Services built once by the composition root, and the
CallbackContext that carries them to the jobs (registered through PTB's ContextTypes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext

from bot.config import Settings
from bot.rendering.replies import Delivered, Response
from bot.telegram.delivery import FileIds
from bot.telegram.ratelimit import TelegramBot

if TYPE_CHECKING:
    from bot.metrics import Metrics


def utc_now() -> datetime:
    return datetime.now(UTC)


# Sends a Response to a chat at the broadcast priority (the morning, follow-ups, nudges, the
# weekly look back): composed by the runtime (bot.runtime.respond.broadcaster); raises ChatGone.
Broadcast = Callable[[int, Response], Awaitable[Delivered]]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = field(default=utc_now)
    media: FileIds | None = None
    metrics: Metrics | None = None
    # Runs CPU-heavy drawing (charts, PDFs) off the event loop; set by the composition root.
    offload: Callable[..., Any] | None = None
    # How scheduled messages go out; set by the composition root.
    broadcast: Broadcast | None = None


class BotData:
    """The Application's bot_data: the Services, set once by the composition root."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the composition root has not set the services")
        return self._services

    @services.setter
    def services(self, value: Services) -> None:
        self._services = value


class BotContext(CallbackContext[TelegramBot, dict[Any, Any], dict[Any, Any], BotData]):
    """The context every job receives: ``context.services`` instead of a lookup
    by key in bot_data."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


BotApplication = Application[TelegramBot, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
