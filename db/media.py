"""Telegram file_ids of the pictures the bot uploaded, per bot (so each is uploaded once)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import MediaFile


async def file_ids(db: AsyncSession, bot_id: int) -> dict[str, str]:
    result = await db.execute(
        select(MediaFile.key, MediaFile.file_id).where(MediaFile.bot_id == bot_id)
    )
    return {key: file_id for key, file_id in result.all()}


async def store(db: AsyncSession, bot_id: int, key: str, file_id: str, now: datetime) -> None:
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(MediaFile).values(bot_id=bot_id, key=key, file_id=file_id, created_at=now)
    await db.execute(
        stmt.on_conflict_do_update(
            index_elements=["bot_id", "key"], set_={"file_id": file_id, "created_at": now}
        )
    )
