"""The async engine and session factory for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create the engine; for an SQLite file, create its folder and turn on WAL and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per checkout, on every update. A connection that died
    # (PostgreSQL restarted) fails its first statement, which invalidates the whole pool, and
    # the update is tried again (the pipeline retries; the dispatcher claims again).
    return create_async_engine(url, echo=echo, **kwargs)


def one_connection(engine: AsyncEngine) -> AsyncEngine:
    """An engine of one connection to ``engine``'s database, for a few small statements that
    must not wait in ``engine``'s pool behind the others (the pipeline's record of each reply
    delivered). An in-memory SQLite database is ``engine`` itself (another engine would open
    another database)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return engine
    return create_engine(url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection on which each statement commits by itself: one round trip per statement,
    for bookkeeping whose statements each stand alone (the pipeline's per-person leases)."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
