"""Shared fixtures: a fresh database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import upgrade

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session", autouse=True)
def _media_drawn(request: pytest.FixtureRequest) -> None:
    """Before the end-to-end tests, draw the exercise pictures and animations missing from the
    tests' media folder (two worker processes; kept across runs, named by version), so that no
    test waits for one to be drawn: the bot, like in production after its first run, reads them
    from the folder and starts no render worker for them."""
    if any("e2e" in item.path.parts for item in request.session.items):
        from bot.rendering.motion import all_animation_keys
        from bot.rendering.offload import media_file
        from bot.rendering.poses import all_keys
        from tests.support.harness import TEST_MEDIA_DIR

        context = multiprocessing.get_context("forkserver")
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
            keys = (*all_animation_keys(), *all_keys())
            list(pool.map(media_file, keys, [TEST_MEDIA_DIR] * len(keys)))


IN_CI = os.environ.get("CI", "").lower() == "true"


def _no_postgres(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and PostgreSQL is required: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _plain_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _create_postgres_database() -> str:
    if not POSTGRES_URL:
        _no_postgres(
            "set TEST_POSTGRES_URL (for example postgresql+asyncpg://postgres@127.0.0.1/test)"
        )
    name = f"sciatica_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        _no_postgres(f"cannot connect to TEST_POSTGRES_URL ({exc.__class__.__name__}: {exc})")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(url: str) -> None:
    conn = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[str]:
    """An empty database (no schema) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/bot.db"
        return
    url = await _create_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database on each backend."""
    eng = create_engine(database_url)
    await upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()
