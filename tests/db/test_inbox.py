"""db/inbox.py, the update inbox and its per-person leases, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import inbox
from db.engine import autocommit
from db.models import InboxLease, InboxState, InboxUpdate

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)


def item(update_id: int, person_key: int = 501, text: str = "hello") -> inbox.Item:
    return inbox.Item(update_id, person_key, {"update_id": update_id, "text": text})


async def accept(
    sessions: async_sessionmaker[AsyncSession], *items: inbox.Item, now: datetime = NOW
) -> set[int]:
    async with sessions() as db:
        new = await inbox.accept(db, items, now)
        await db.commit()
    return new


async def stored(sessions: async_sessionmaker[AsyncSession], update_id: int) -> InboxUpdate:
    async with sessions() as db:
        row = await db.get(InboxUpdate, update_id)
    assert row is not None
    return row


async def test_accept_stores_each_update_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await accept(sessions, item(1), item(2)) == {1, 2}
    # Telegram delivers 2 again (we had not confirmed it yet): stored once, the first kept.
    assert await accept(sessions, item(2, text="again"), item(3), now=LATER) == {3}
    assert await accept(sessions) == set()
    row = await stored(sessions, 2)
    assert row.payload == {"update_id": 2, "text": "hello"}
    assert (row.state, row.attempts, row.received_at) == (InboxState.RECEIVED, 0, NOW)
    async with sessions() as db:
        loaded = await inbox.load(db, 3)
        assert await inbox.load(db, 99) is None
    assert loaded == inbox.Item(3, 501, {"update_id": 3, "text": "hello"})


async def test_mark_applied_succeeds_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    await accept(sessions, item(1))
    response = {"replies": [{"text": "Hi"}], "answer": None}
    async with sessions() as db:
        assert await inbox.mark_applied(db, 1, response)
        assert not await inbox.mark_applied(db, 1, {"replies": []})  # a replay: applied before
        assert not await inbox.mark_applied(db, 99, response)
        await db.commit()
    row = await stored(sessions, 1)
    assert (row.state, row.response) == (InboxState.APPLIED, response)
    async with sessions() as db:
        loaded = await inbox.load(db, 1)
    assert loaded is not None and loaded.response == response


async def test_mark_done_finishes_only_open_updates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await accept(sessions, item(1), item(2), item(3))
    async with sessions() as db:
        await inbox.mark_applied(db, 2, {"replies": []})
        await inbox.mark_failed(db, 3, "boom", NOW)
        await inbox.mark_done(db, [1, 2, 3], LATER)
        await inbox.mark_done(db, [], LATER)
        await db.commit()
    rows = [await stored(sessions, update_id) for update_id in (1, 2, 3)]
    assert [(row.state, row.finished_at) for row in rows] == [
        (InboxState.DONE, LATER),
        (InboxState.DONE, LATER),
        (InboxState.FAILED, NOW),  # quarantined stays quarantined
    ]


async def test_mark_attempt_then_mark_failed(sessions: async_sessionmaker[AsyncSession]) -> None:
    await accept(sessions, item(1))
    long_error = "ValueError: " + "x" * 100
    async with sessions() as db:
        await inbox.mark_attempt(db, 1, "TimedOut")
        await db.commit()
    row = await stored(sessions, 1)
    assert (row.state, row.attempts, row.error, row.finished_at) == (
        InboxState.RECEIVED,  # still to be handled
        1,
        "TimedOut",
        None,
    )
    async with sessions() as db:
        await inbox.mark_failed(db, 1, long_error, LATER)
        await db.commit()
    row = await stored(sessions, 1)
    assert (row.state, row.attempts, row.finished_at) == (InboxState.FAILED, 2, LATER)
    assert row.error == long_error[:64]


async def test_record_delivered_counts_the_replies_of_applied_updates(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Each reply is counted as it goes out (a restart sends only the rest); an update not
    applied yet, or finished, keeps its count: it is handled anew, or not at all."""
    await accept(sessions, item(1), item(2), item(3), item(4))
    async with sessions() as db:
        for update_id in (1, 2, 3):
            await inbox.mark_applied(db, update_id, {"replies": [{"text": "a"}, {"text": "b"}]})
        await inbox.mark_done(db, [3], NOW)
        await db.commit()
    async with engine.begin() as conn:
        await inbox.record_delivered(conn, {1: 1, 2: 1, 3: 1, 4: 1})
        await inbox.record_delivered(conn, {2: 2})
        await inbox.record_delivered(conn, {})
    async with sessions() as db:
        loaded = {i.update_id: i.delivered for i in await inbox.open_items(db)}
        one = await inbox.load(db, 1)
    assert loaded == {1: 1, 2: 2, 4: 0}
    assert one is not None and (one.state, one.delivered) == (InboxState.APPLIED, 1)
    assert (await stored(sessions, 3)).delivered == 0


async def test_open_items_in_update_id_order_per_person(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await accept(sessions, item(30), item(10), item(15, person_key=601), item(20), item(5))
    async with sessions() as db:
        await inbox.mark_done(db, [5], NOW)
        await inbox.mark_applied(db, 20, {"replies": []})
        await db.commit()
    async with sessions() as db:
        mine = await inbox.open_items(db, person_key=501)
        everyone = await inbox.open_items(db)
        first_two = await inbox.open_items(db, limit=2)
        ids = await inbox.open_ids(db, [501, 601, 701])
        loaded = await inbox.items(db, [30, 15, 99])
    assert ids == {501: [10, 20, 30], 601: [15]}  # 701 has none
    assert loaded == [item(15, person_key=601), item(30)]  # by id; an unknown id left out
    assert [i.update_id for i in mine] == [10, 20, 30]
    assert [i.state for i in mine] == [InboxState.RECEIVED, InboxState.APPLIED, InboxState.RECEIVED]
    assert [i.update_id for i in everyone] == [10, 15, 20, 30]
    assert [i.update_id for i in first_two] == [10, 15]


async def take(
    sessions: async_sessionmaker[AsyncSession],
    person_key: int,
    owner: str,
    until: datetime,
    now: datetime = NOW,
) -> bool:
    async with sessions() as db:
        taken = await inbox.take_leases(db, [person_key], owner, until, now)
        await db.commit()
    return taken == {person_key}


async def test_leases_on_an_autocommit_connection_take_effect_at_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The pipeline's bookkeeping (db.engine.autocommit): each statement is committed by
    itself, so another connection sees the lease at once, with no commit."""
    async with autocommit(engine) as conn:
        assert await inbox.take_leases(conn, [501, 502], "me", LATER, NOW) == {501, 502}
        assert not await take(sessions, 501, "other", LATER)  # seen by another connection
        await inbox.drop_lease(conn, [501, 502], "me")
        assert await leases(sessions) == {}


async def leases(sessions: async_sessionmaker[AsyncSession]) -> dict[int, tuple[str, datetime]]:
    async with sessions() as db:
        rows = (await db.execute(select(InboxLease))).scalars()
        return {r.person_key: (r.owner, r.until) for r in rows}


async def test_open_people_leaves_out_people_another_live_owner_handles(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await accept(
        sessions,
        item(40, person_key=501),
        item(10, person_key=601),
        item(20, person_key=701),
        item(30, person_key=801),
        item(5, person_key=901),
        item(6, person_key=601),
    )
    async with sessions() as db:
        await inbox.mark_done(db, [5], NOW)  # 901 has nothing open
        await db.commit()
    assert await take(sessions, 601, "other", NOW + timedelta(minutes=1))  # live, another's
    assert await take(sessions, 701, "me", NOW + timedelta(minutes=1))  # our own
    assert await take(sessions, 801, "other", NOW)  # another's, but it ends now
    async with sessions() as db:
        people = await inbox.open_people(db, NOW, "me")
        first = await inbox.open_people(db, NOW, "me", limit=1)
    assert people == [701, 801, 501]  # by their oldest open update
    assert first == [701]


async def test_prune_removes_only_finished_updates_older_than_the_cut_off(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await accept(sessions, item(1), item(2), item(3), item(4), item(5))
    cut_off = NOW + timedelta(hours=1)
    async with sessions() as db:
        await inbox.mark_done(db, [1], NOW)
        await inbox.mark_failed(db, 2, "boom", NOW)
        await inbox.mark_done(db, [3], cut_off)  # not before the cut-off
        await inbox.mark_applied(db, 4, {"replies": []})  # open: never pruned
        await db.commit()
    async with sessions() as db:
        assert await inbox.prune(db, cut_off) == 2
        await db.commit()
    async with sessions() as db:
        left = set((await db.execute(select(InboxUpdate.update_id))).scalars())
    assert left == {3, 4, 5}


async def test_lag_counts_open_updates_and_the_age_of_the_oldest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as db:
        assert await inbox.lag(db, NOW) == (0, 0.0)
    await accept(sessions, item(1), now=NOW - timedelta(seconds=10))
    await accept(sessions, item(2), item(3), now=NOW)
    async with sessions() as db:
        await inbox.mark_done(db, [1], NOW)
        await db.commit()
        assert await inbox.lag(db, NOW + timedelta(seconds=45)) == (2, 45.0)
        # A clock behind the stored time never gives a negative age.
        assert await inbox.lag(db, NOW - timedelta(seconds=5)) == (2, 0.0)


async def test_a_live_lease_is_kept_from_a_second_owner(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    until = NOW + timedelta(minutes=1)
    assert await take(sessions, 501, "one", until)
    assert not await take(sessions, 501, "two", until + timedelta(minutes=1))
    assert await leases(sessions) == {501: ("one", until)}
    # The owner renews its own lease.
    renewed = until + timedelta(minutes=1)
    assert await take(sessions, 501, "one", renewed, now=LATER)
    assert await leases(sessions) == {501: ("one", renewed)}
    # Expired (its owner died): the second owner takes it over.
    taken = renewed + timedelta(minutes=1)
    assert await take(sessions, 501, "two", taken, now=renewed)
    assert await leases(sessions) == {501: ("two", taken)}


async def test_drop_lease_only_by_its_owner(sessions: async_sessionmaker[AsyncSession]) -> None:
    until = NOW + timedelta(minutes=1)
    for person_key, owner in ((501, "one"), (601, "one"), (701, "two")):
        assert await take(sessions, person_key, owner, until)
    async with sessions() as db:
        await inbox.drop_lease(db, [501], "two")  # not theirs: kept
        await db.commit()
    assert set(await leases(sessions)) == {501, 601, 701}
    async with sessions() as db:
        await inbox.drop_lease(db, [501], "one")
        await db.commit()
    assert set(await leases(sessions)) == {601, 701}
    # Dropped: anyone may take it at once.
    assert await take(sessions, 501, "two", until)
    async with sessions() as db:
        await inbox.drop_leases(db, "one")
        await db.commit()
    assert await leases(sessions) == {501: ("two", until), 701: ("two", until)}


async def test_take_leases_for_a_group_takes_all_but_those_another_live_owner_holds(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    later = NOW + timedelta(minutes=1)
    assert await take(sessions, 601, "other", later)  # live, another's
    assert await take(sessions, 701, "other", NOW)  # another's, ending now
    assert await take(sessions, 801, "me", NOW)  # our own, ending now
    async with sessions() as db:
        taken = await inbox.take_leases(db, [901, 801, 701, 601], "me", later, NOW)
        await db.commit()
    assert taken == {701, 801, 901}
    assert await leases(sessions) == {
        601: ("other", later),
        701: ("me", later),
        801: ("me", later),
        901: ("me", later),
    }
