"""Apply Alembic migrations from code (the bot runs them at start-up).

Alembic (with Mako and Pygments, about 0.1 s and 11 MB) is imported only when there is
something to do: a start on a database already at the head revision reads its version with one
query and goes on (``at_head``)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = MIGRATIONS / "versions"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


@cache
def head_revision() -> str | None:
    """The head of the migration scripts, read from their ``revision`` and ``down_revision``
    assignments without importing them (nor Alembic); None when it cannot be told for sure (a
    script without both, or more than one head): then Alembic decides."""
    revisions: dict[str, set[object]] = {}
    for script in sorted(VERSIONS.glob("*.py")):
        if script.name == "__init__.py":
            continue
        found = _assignments(script, ("revision", "down_revision"))
        revision, down = found.get("revision"), found.get("down_revision", ...)
        if isinstance(down, str):
            down = (down,)
        if not isinstance(revision, str) or not (down is None or isinstance(down, tuple | list)):
            return None
        revisions[revision] = set(down or ())
    named = set().union(*revisions.values())
    heads = [revision for revision in revisions if revision not in named]
    return heads[0] if len(heads) == 1 else None


def _assignments(script: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The literal values assigned to ``names`` at the top level of ``script`` (``...`` for a
    value that is not a literal)."""
    found: dict[str, object] = {}
    target: ast.expr
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names and value is not None:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                found[target.id] = ...
    return found


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database is at the head revision already (nothing to migrate)."""
    head = head_revision()
    if head is None:
        return False
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text("SELECT version_num FROM alembic_version"))
            versions = list(result.scalars())
    except DBAPIError:  # no version table: a new database
        return False
    return versions == [head]
