"""db/media.py, the uploaded pictures' file_ids per bot, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import media
from db.models import MediaFile

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


async def test_file_ids_are_read_per_bot(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as db:
        assert await media.file_ids(db, 1) == {}
        await media.store(db, 1, "e1s1", "first-bot-e1s1", NOW)
        await media.store(db, 1, "e2s1", "first-bot-e2s1", NOW)
        await media.store(db, 2, "e1s1", "second-bot-e1s1", NOW)  # file_ids are per bot
        await db.commit()
    async with sessions() as db:
        assert await media.file_ids(db, 1) == {"e1s1": "first-bot-e1s1", "e2s1": "first-bot-e2s1"}
        assert await media.file_ids(db, 2) == {"e1s1": "second-bot-e1s1"}
        assert await media.file_ids(db, 3) == {}


async def test_store_replaces_the_file_id_of_a_key(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    later = NOW + timedelta(days=1)
    async with sessions() as db:
        await media.store(db, 1, "e1s1", "old", NOW)
        await db.commit()
    async with sessions() as db:
        await media.store(db, 1, "e1s1", "new", later)  # uploaded again (the old one expired)
        await db.commit()
    async with sessions() as db:
        rows = list((await db.execute(select(MediaFile))).scalars())
        assert await media.file_ids(db, 1) == {"e1s1": "new"}
    assert [(r.bot_id, r.key, r.file_id, r.created_at) for r in rows] == [(1, "e1s1", "new", later)]
