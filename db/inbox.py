"""The update inbox's queries: store each update before it is confirmed to Telegram, mark it
applied in the transaction of its effects, its replies counted as each one is delivered, done
once answered, failed when quarantined; and the per-person leases that keep each person's
updates in order across processes (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import InboxLease, InboxState, InboxUpdate

_inbox = cast(Table, InboxUpdate.__table__)
_leases = cast(Table, InboxLease.__table__)
OPEN = (InboxState.RECEIVED.value, InboxState.APPLIED.value)


@dataclass(slots=True)
class Item:
    """One stored update on its way through the pipeline."""

    update_id: int
    person_key: int
    payload: dict[str, Any]
    state: InboxState = InboxState.RECEIVED
    response: dict[str, Any] | None = None
    attempts: int = 0
    delivered: int = 0  # replies already delivered (recorded as each one goes out)
    query_answered: bool = False  # the button press was answered (in this process)


# The pipeline's per-person bookkeeping runs on an autocommit connection (db.engine.autocommit):
# one round trip per statement, no BEGIN and COMMIT around it.
Executor = AsyncSession | AsyncConnection


def _insert(db: Executor) -> Any:
    bind = db.get_bind() if isinstance(db, AsyncSession) else db
    return postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert


async def accept(db: AsyncSession, items: Sequence[Item], now: datetime) -> set[int]:
    """Store updates; returns the ids that were new (a redelivered update is stored once)."""
    if not items:
        return set()
    stmt = (
        _insert(db)(_inbox)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(_inbox.c.update_id)
    )
    result = await db.execute(
        stmt,
        [
            {
                "update_id": i.update_id,
                "person_key": i.person_key,
                "received_at": now,
                "payload": i.payload,
                "state": InboxState.RECEIVED.value,
                "attempts": 0,
            }
            for i in items
        ],
    )
    return {row[0] for row in result.all()}


# Built once: these run for every update, and building a statement costs more than running it.
_MARK_APPLIED = (
    update(_inbox)
    .where(
        _inbox.c.update_id == bindparam("one_id"),
        _inbox.c.state == InboxState.RECEIVED.value,
    )
    .values(
        state=InboxState.APPLIED.value,
        response=bindparam("stored_response", type_=_inbox.c.response.type),
    )
)
_MARK_DONE = (
    update(_inbox)
    .where(
        _inbox.c.update_id.in_(bindparam("some_ids", expanding=True)),
        _inbox.c.state.in_(OPEN),
    )
    .values(
        state=InboxState.DONE.value,
        finished_at=bindparam("done_at", type_=_inbox.c.finished_at.type),
    )
)


_RECORD_DELIVERED = (
    update(_inbox)
    .where(
        _inbox.c.update_id == bindparam("one_id"),
        # Only a stored response is delivered again after a crash (an update not applied yet
        # is handled anew), so only its progress counts.
        _inbox.c.state == InboxState.APPLIED.value,
    )
    .values(delivered=bindparam("count"))
)


async def mark_applied(db: AsyncSession, update_id: int, response: dict[str, Any]) -> bool:
    """In the transaction of the update's effects: False if it was applied before."""
    result = await db.execute(_MARK_APPLIED, {"one_id": update_id, "stored_response": response})
    return _rowcount(result) == 1


async def mark_done(db: Executor, update_ids: Sequence[int], now: datetime) -> None:
    """Handled and answered (several at once: the pipeline marks them in groups)."""
    if not update_ids:
        return
    await db.execute(_MARK_DONE, {"some_ids": list(update_ids), "done_at": now})


async def record_delivered(db: Executor, counts: Mapping[int, int]) -> None:
    """How many replies of each update (update_id -> count) went out: a restart after a crash
    sends only the rest. Several updates at once (the pipeline records them in groups)."""
    if counts:
        await db.execute(_RECORD_DELIVERED, [{"one_id": k, "count": n} for k, n in counts.items()])


async def mark_failed(db: AsyncSession, update_id: int, error: str, now: datetime) -> None:
    await db.execute(
        update(_inbox)
        .where(_inbox.c.update_id == update_id)
        .values(
            state=InboxState.FAILED.value,
            error=error[:64],
            finished_at=now,
            attempts=_inbox.c.attempts + 1,
        )
    )


async def mark_attempt(db: AsyncSession, update_id: int, error: str) -> None:
    await db.execute(
        update(_inbox)
        .where(_inbox.c.update_id == update_id)
        .values(error=error[:64], attempts=_inbox.c.attempts + 1)
    )


async def load(db: AsyncSession, update_id: int) -> Item | None:
    result = await db.execute(select(*_COLUMNS).where(_inbox.c.update_id == update_id))
    row = result.first()
    return None if row is None else _item(row)


_COLUMNS = (
    _inbox.c.update_id,
    _inbox.c.person_key,
    _inbox.c.payload,
    _inbox.c.state,
    _inbox.c.response,
    _inbox.c.attempts,
    _inbox.c.delivered,
)


def _item(row: Any) -> Item:
    return Item(row[0], row[1], row[2], InboxState(row[3]), row[4], row[5], row[6])


async def open_items(
    db: AsyncSession, *, person_key: int | None = None, limit: int = 1000
) -> list[Item]:
    """Updates not yet done, oldest first (of one person, or of everyone)."""
    query = select(*_COLUMNS).where(_inbox.c.state.in_(OPEN))
    if person_key is not None:
        query = query.where(_inbox.c.person_key == person_key)
    result = await db.execute(query.order_by(_inbox.c.update_id).limit(limit))
    return [_item(row) for row in result.all()]


async def open_ids(db: Executor, person_keys: Collection[int]) -> dict[int, list[int]]:
    """The ids of these people's updates not yet done, oldest first (people with none are left
    out): the cheap check the pipeline makes around their updates (no payload is read)."""
    result = await db.execute(_OPEN_IDS, {"keys": sorted(person_keys)})
    found: dict[int, list[int]] = {}
    for update_id, person_key in result.all():
        found.setdefault(person_key, []).append(update_id)
    return found


_OPEN_IDS = (
    select(_inbox.c.update_id, _inbox.c.person_key)
    .where(_inbox.c.person_key.in_(bindparam("keys", expanding=True)), _inbox.c.state.in_(OPEN))
    .order_by(_inbox.c.update_id)
)


async def items(db: Executor, update_ids: Sequence[int]) -> list[Item]:
    """Stored updates by id (those not found are left out), oldest first."""
    result = await db.execute(
        select(*_COLUMNS).where(_inbox.c.update_id.in_(update_ids)).order_by(_inbox.c.update_id)
    )
    return [_item(row) for row in result.all()]


async def open_people(db: AsyncSession, now: datetime, owner: str, limit: int = 500) -> list[int]:
    """People with open updates that no other live process is handling (for the sweeper)."""
    leased = select(_leases.c.person_key).where(_leases.c.until > now, _leases.c.owner != owner)
    result = await db.execute(
        select(_inbox.c.person_key)
        .where(_inbox.c.state.in_(OPEN), _inbox.c.person_key.not_in(leased))
        .group_by(_inbox.c.person_key)
        .order_by(func.min(_inbox.c.update_id))
        .limit(limit)
    )
    return [row[0] for row in result.all()]


async def prune(db: AsyncSession, before: datetime) -> int:
    """Forget updates handled (or quarantined) before ``before``."""
    result = await db.execute(
        delete(_inbox).where(
            _inbox.c.state.in_((InboxState.DONE.value, InboxState.FAILED.value)),
            _inbox.c.finished_at < before,
        )
    )
    return _rowcount(result)


async def erase_person(db: AsyncSession, person_key: int) -> int:
    """Forget a person's handled updates now (/delete), not after the retention: what they
    typed goes with the rest. Updates still open are kept: they are handled (and answered)
    first, and pruned as usual."""
    result = await db.execute(
        delete(_inbox).where(
            _inbox.c.person_key == person_key,
            _inbox.c.state.in_((InboxState.DONE.value, InboxState.FAILED.value)),
        )
    )
    return _rowcount(result)


async def lag(db: AsyncSession, now: datetime) -> tuple[int, float]:
    """How many updates wait, and how old the oldest is (seconds), for the metrics."""
    result = await db.execute(
        select(func.count(), func.min(_inbox.c.received_at)).where(_inbox.c.state.in_(OPEN))
    )
    count, oldest = result.one()
    if oldest is None:
        return int(count), 0.0
    return int(count), max(0.0, (now - oldest).total_seconds())


# --- Per-person leases (several processes on PostgreSQL) -----------------------------------------


async def take_leases(
    db: Executor, person_keys: Collection[int], owner: str, until: datetime, now: datetime
) -> set[int]:
    """Become the one process handling these people's updates (until ``until``), except those
    another live process already handles; returns the people taken. Atomic on PostgreSQL
    (INSERT ... ON CONFLICT ... WHERE); rows are locked in person order, so two processes
    taking overlapping groups cannot deadlock."""
    if not person_keys:
        return set()
    rows = [{"person_key": k, "owner": owner, "until": until} for k in sorted(person_keys)]
    stmt = (
        _insert(db)(_leases)
        .values(rows)
        .on_conflict_do_update(
            index_elements=["person_key"],
            set_={"owner": owner, "until": until},
            where=or_(_leases.c.until <= now, _leases.c.owner == owner),
        )
        .returning(_leases.c.person_key)
    )
    result = await db.execute(stmt)
    return {row[0] for row in result.all()}


async def drop_lease(db: Executor, person_keys: Collection[int], owner: str) -> None:
    """Give these people back (only the leases ``owner`` holds)."""
    await db.execute(
        delete(_leases).where(
            and_(_leases.c.person_key.in_(sorted(person_keys)), _leases.c.owner == owner)
        )
    )


async def drop_leases(db: AsyncSession, owner: str) -> None:
    await db.execute(delete(_leases).where(_leases.c.owner == owner))


async def lease_owners(db: AsyncSession) -> list[str]:
    """The processes holding leases now (to find those that died holding some)."""
    result = await db.execute(select(_leases.c.owner).distinct())
    return [row[0] for row in result.all()]


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
