"""Alembic migrations build the whole schema and tear it down, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import at_head, current_revision, downgrade, head_revision, upgrade
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


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    """Start-up reads the head revision from the scripts' assignments, without Alembic."""
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_at_head_only_when_nothing_is_left_to_migrate(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert not await at_head(engine)  # a new database: no version table
        await upgrade(engine, "0004")
        assert not await at_head(engine)
        await upgrade(engine)
        assert await at_head(engine)
        await downgrade(engine, "base")
        assert not await at_head(engine)
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


async def test_0004_adds_the_symptom_side_and_takes_it_away(database_url: str) -> None:
    """0004: ``patients.symptom_side`` (NULL for everyone already there); its downgrade drops
    the column and closes a side question left open."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from db import repo
    from db.engine import create_session_factory

    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as conn:
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("patients")}
            )
        assert "symptom_side" not in columns
        await upgrade(engine)
        sessions = create_session_factory(engine)
        async with sessions() as db:
            patient = repo.new_patient(db, 7, 7, datetime(2026, 3, 2, tzinfo=UTC), "en")
            assert patient.symptom_side is None
            patient.symptom_side = "left"
            patient.flow, patient.flow_data = "side", {"nonce": "n", "step": "ask"}
            await db.commit()
        await downgrade(engine, "0003")
        async with engine.begin() as conn:
            row = (await conn.execute(text("SELECT flow, flow_data FROM patients"))).one()
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("patients")}
            )
        assert "symptom_side" not in columns
        assert row[0] is None
        await upgrade(engine)
        async with engine.begin() as conn:
            side = (await conn.execute(text("SELECT symptom_side FROM patients"))).scalar_one()
        assert side is None  # asked again: not said under this version
    finally:
        await engine.dispose()


async def test_0005_adds_the_function_tables_and_takes_them_away(database_url: str) -> None:
    """0005: ``function_activities``, ``function_ratings`` and ``patients.function_asked_at``
    (NULL for everyone already there); its downgrade drops them and closes an open question."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from db import repo
    from db.engine import create_session_factory

    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0004")
        assert not {"function_activities", "function_ratings"} & await _tables(engine)
        await upgrade(engine)
        assert {"function_activities", "function_ratings"} <= await _tables(engine)
        sessions = create_session_factory(engine)
        now = datetime(2026, 3, 2, tzinfo=UTC)
        async with sessions() as db:
            patient = repo.new_patient(db, 7, 7, now, "en")
            assert patient.function_asked_at is None
            patient.function_asked_at = now
            patient.flow, patient.flow_data = "function", {"nonce": "n", "step": "name"}
            await db.flush()
            await repo.replace_activities(db, patient.id, [("Sitting", 4)], now)
            await db.commit()
        await downgrade(engine, "0004")
        assert not {"function_activities", "function_ratings"} & await _tables(engine)
        async with engine.begin() as conn:
            row = (await conn.execute(text("SELECT flow FROM patients"))).one()
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("patients")}
            )
        assert "function_asked_at" not in columns
        assert row[0] is None
        await upgrade(engine)
        assert {"function_activities", "function_ratings"} <= await _tables(engine)
    finally:
        await engine.dispose()
