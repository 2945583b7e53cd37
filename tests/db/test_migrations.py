"""Alembic migrations build the whole schema and tear it down, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import current_revision, downgrade, upgrade
from db.models import Base

TABLES = {"patients", "daily_sessions", "symptom_reports", "safety_events"}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_to_head_then_downgrade_to_base(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        assert TABLES <= await _tables(engine)
        assert await current_revision(engine) is not None

        await downgrade(engine, "base")
        assert await _tables(engine) - {"alembic_version"} == set()
        assert await current_revision(engine) is None

        await upgrade(engine)  # and up again: the downgrade left nothing behind
        assert TABLES <= await _tables(engine)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(database_url: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()
