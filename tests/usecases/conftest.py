"""Fixtures of the offline use-case tests: a fake clock, Services on SQLite, and a person."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.context import Services
from tests.support.harness import FakeClock
from tests.support.offline import Person, migrated_sqlite, offline_services


@pytest.fixture
def clock() -> FakeClock:
    """07:00 UTC on Monday 2 March 2026 (08:00 in Paris)."""
    return FakeClock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file for the whole run."""
    return migrated_sqlite(tmp_path_factory.mktemp("template") / "bot.db")


@pytest.fixture
async def services(
    tmp_path: Path, clock: FakeClock, sqlite_template: Path
) -> AsyncIterator[Services]:
    """Services on a fresh copy of the migrated SQLite file (PostgreSQL: ``database_url``)."""
    path = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, path)
    async with offline_services(f"sqlite+aiosqlite:///{path}", clock, migrate=False) as built:
        yield built


@pytest.fixture
def person(services: Services) -> Person:
    return Person(services)


@pytest.fixture
async def services_each_backend(database_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    """Services on SQLite and on PostgreSQL, for use cases whose queries matter."""
    async with offline_services(database_url, clock) as built:
        yield built
