"""What the benchmarks share: the fake token, and a throw-away PostgreSQL database per run."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

TOKEN = "123456:BENCH-token-never-real-xxxxxxxxxxxx"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _server_url(base: str) -> str:
    """The maintenance connection asyncpg understands (no SQLAlchemy driver name)."""
    from sqlalchemy.engine import make_url

    return make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pg(base: str) -> str:
    """Create an empty database next to ``base``'s and return its SQLAlchemy URL."""
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_server_url(base))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def drop_pg(base: str, url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    conn = await asyncpg.connect(_server_url(base))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


async def pg_transactions(base: str, url: str) -> int:
    """Transactions committed or rolled back in ``url``'s database so far."""
    import asyncpg
    from sqlalchemy.engine import make_url

    conn = await asyncpg.connect(_server_url(base))
    try:
        # Each backend flushes its counters about once a second: let them catch up.
        await asyncio.sleep(1.5)
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            make_url(url).database,
        )
    finally:
        await conn.close()
    return int(value or 0)


@contextmanager
def database(backend: str, pg_base: str, prefix: str = "bench-") -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix=prefix)}/bench.db"
        return
    url = asyncio.run(create_pg(pg_base))
    try:
        yield url
    finally:
        asyncio.run(drop_pg(pg_base, url))
