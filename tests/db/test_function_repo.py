"""db/repo.py's function (PSFS) queries, on SQLite and PostgreSQL: activities replaced are
retired with their ratings kept, the weekly ratings of a week, and /delete erases them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import repo
from db.models import FunctionActivity, FunctionRating
from tests.support.rows import add_person

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


async def test_replacing_retires_the_old_activities_and_keeps_their_ratings(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    pid = await add_person(sessions, 501)
    async with sessions() as db:
        first = await repo.replace_activities(db, pid, [("Sitting", 3), ("Walking", 5)], NOW)
        await db.commit()
        first_ids = [a.id for a in first]
    later = NOW + timedelta(days=8)
    async with sessions() as db:
        await repo.replace_activities(db, pid, [("Lifting a bag", 2)], later)
        await db.commit()
    async with sessions() as db:
        current = await repo.current_activities(db, pid)
        every = await repo.activities_of(db, pid)
        ratings = await repo.function_ratings_of(db, pid)
    assert [(a.label, a.position, a.retired_at) for a in current] == [("Lifting a bag", 1, None)]
    assert [(a.label, a.retired_at) for a in every] == [
        ("Sitting", later),
        ("Walking", later),
        ("Lifting a bag", None),
    ]
    assert [(r.activity_id in first_ids, r.rating, r.kind) for r in ratings] == [
        (True, 3, "start"),
        (True, 5, "start"),
        (False, 2, "start"),
    ]


async def test_weekly_ratings_since_and_one_persons_activity_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    pid = await add_person(sessions, 501)
    other = await add_person(sessions, 601)
    async with sessions() as db:
        (mine,) = await repo.replace_activities(db, pid, [("Sitting", 3)], NOW)
        (theirs,) = await repo.replace_activities(db, other, [("Walking", 4)], NOW)
        repo.add_function_rating(db, mine.id, 4, "weekly", NOW + timedelta(days=7))
        repo.add_function_rating(db, mine.id, 6, "weekly", NOW + timedelta(days=14))
        await db.commit()
        mine_id, theirs_id = mine.id, theirs.id
    async with sessions() as db:
        week = await repo.ratings_since(db, [mine_id], "weekly", NOW + timedelta(days=10))
        assert {k: v.rating for k, v in week.items()} == {mine_id: 6}
        assert await repo.ratings_since(db, [mine_id], "weekly", NOW + timedelta(days=15)) == {}
        assert await repo.ratings_since(db, [], "weekly", NOW) == {}
        assert await repo.get_activity(db, pid, theirs_id) is None
        found = await repo.get_activity(db, pid, mine_id)
        assert found is not None and found.label == "Sitting"


async def test_delete_patient_erases_activities_and_ratings_of_that_person_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    gone = await add_person(sessions, 501)
    kept = await add_person(sessions, 601)
    async with sessions() as db:
        await repo.replace_activities(db, gone, [("Sitting", 3), ("Walking", 5)], NOW)
        await repo.replace_activities(db, kept, [("Walking", 4)], NOW)
        await db.commit()
    async with sessions() as db:
        await repo.delete_patient(db, gone)
        await db.commit()
    async with sessions() as db:
        activities = await db.scalar(select(func.count()).select_from(FunctionActivity))
        ratings = await db.scalar(select(func.count()).select_from(FunctionRating))
        assert (activities, ratings) == (1, 1)
        assert [a.label for a in await repo.current_activities(db, kept)] == ["Walking"]
