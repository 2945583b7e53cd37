"""Telegram file_ids of the exercise pictures and animations, kept per bot in memory and in the
database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.rendering.motion import animation_version, is_animation_key
from bot.rendering.poses import picture_version
from db import media


def media_version(key: str) -> str:
    """The version of a picture (``e3s2-left``) or of an animation (``a3-left-en``)."""
    return animation_version(key) if is_animation_key(key) else picture_version(key)


@dataclass
class MediaCache:
    """Telegram file_ids of the exercise pictures and animations, per bot: in memory, backed by
    the database.

    A picture or animation is stored under its version (``bot.rendering.poses.picture_version``,
    ``bot.rendering.motion.animation_version``: the key and a hash of its pose data and drawing
    code, computed without drawing), so a changed pose or drawing is uploaded anew. ``render``
    gives a picture's PNG ("e1s2") or an animation's MP4 ("a3-left-en") by key, from the render
    workers (an animation from its file on disk once drawn); it runs only when one must be
    uploaded (its file_id is unknown or refused).
    """

    sessions: async_sessionmaker[AsyncSession]
    render: Callable[[str], Awaitable[bytes]]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    version: Callable[[str], str] = media_version
    _ids: dict[tuple[int, str], str] = field(default_factory=dict)
    _versions: dict[str, str] = field(default_factory=dict)
    _loaded: set[int] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def png(self, key: str) -> bytes:
        return await self.render(key)

    async def mp4(self, key: str) -> bytes:
        return await self.render(key)

    def versioned(self, key: str) -> str:
        version = self._versions.get(key)
        if version is None:
            version = self._versions[key] = self.version(key)
        return version

    async def file_id(self, bot_id: int, key: str) -> str | None:
        if bot_id not in self._loaded:
            async with self._lock:
                if bot_id not in self._loaded:
                    async with self.sessions() as db:
                        stored = await media.file_ids(db, bot_id)
                    self._ids.update({(bot_id, k): v for k, v in stored.items()})
                    self._loaded.add(bot_id)
        return self._ids.get((bot_id, self.versioned(key)))

    async def remember(self, bot_id: int, key: str, file_id: str) -> None:
        versioned = self.versioned(key)
        if self._ids.get((bot_id, versioned)) == file_id:
            return
        self._ids[(bot_id, versioned)] = file_id
        async with self.sessions() as db:
            await media.store(db, bot_id, versioned, file_id, self.clock())
            await db.commit()

    async def forget(self, bot_id: int, key: str) -> None:
        self._ids.pop((bot_id, self.versioned(key)), None)
