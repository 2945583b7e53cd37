"""What every handler and job needs, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content import Content


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    content: Content
    clock: Callable[[], datetime] = field(default=utc_now)


SERVICES_KEY = "services"


def services(context: Any) -> Services:
    """The Services stored in the Application's bot_data (handlers and jobs call this)."""
    return cast(Services, context.application.bot_data[SERVICES_KEY])
