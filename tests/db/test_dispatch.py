"""db/dispatch.py, the morning dispatcher's queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.program import PatientStatus
from db import dispatch, repo
from db.models import DailySession, Patient, ReportKind
from tests.support.rows import add_person

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=2)
DAY = date(2026, 3, 2)
PAST = NOW - timedelta(minutes=1)
FUTURE = NOW + timedelta(hours=1)


async def person(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> Patient:
    async with sessions() as db:
        patient = await db.get(Patient, patient_id)
    assert patient is not None
    return patient


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime = NOW,
    owner: str = "one",
    limit: int = 100,
    until: datetime = LEASE,
) -> list[dispatch.Claimed]:
    async with sessions() as db:
        claimed = await dispatch.claim_due(db, now, until, limit, owner)
        await db.commit()
    return claimed


async def add_session(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    *,
    local_date: date = DAY,
    epoch: int = 1,
    sent_by: str | None = None,
    message_id: int | None = None,
) -> int:
    async with sessions() as db:
        row = DailySession(
            patient_id=patient_id,
            program_epoch=epoch,
            local_date=local_date,
            day_number=1,
            exercises=[1],
            sent_at=NOW,
            sent_by=sent_by,
            message_id=message_id,
        )
        db.add(row)
        await db.commit()
        return row.id


async def session_ids(sessions: async_sessionmaker[AsyncSession]) -> set[int]:
    async with sessions() as db:
        return set((await db.execute(select(DailySession.id))).scalars())


# --- Claims and leases ---------------------------------------------------------------------------


async def test_claim_due_leases_the_due_people_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    routine = await add_person(
        sessions,
        501,
        next_send_at=NOW,  # due at this very moment
        time_zone="Europe/Paris",
        reminder_time=time(8, 0),
        status=PatientStatus.ACTIVE,
        program_state={"v": 2, "day": 3},
    )
    nudge = await add_person(sessions, 601, nudge_at=PAST, next_send_at=FUTURE)
    weekly = await add_person(sessions, 701, next_weekly_at=PAST)
    await add_person(sessions, 801, next_send_at=FUTURE, nudge_at=FUTURE, next_weekly_at=FUTURE)
    await add_person(sessions, 901)  # nothing planned
    claimed = await claim(sessions)
    assert {c.id for c in claimed} == {routine, nudge, weekly}
    first = next(c for c in claimed if c.id == routine)
    assert first == dispatch.Claimed(
        id=routine,
        chat_id=502,
        time_zone="Europe/Paris",
        reminder_time=time(8, 0),
        status=PatientStatus.ACTIVE,
        language="en",
        blocked_at=None,
        paused_until=None,
        next_send_at=NOW,
        nudge_at=None,
        nudges_enabled=True,
        program_state={"v": 2, "day": 3},
        program_epoch=1,
        version=1,
        follow_up_report_id=None,
        weekly_enabled=True,
        weekly_weekday=None,
        next_weekly_at=None,
        program_started_on=None,
        telegram_user_id=501,
    )
    for patient_id in (routine, nudge, weekly):
        row = await person(sessions, patient_id)
        assert (row.claimed_until, row.claimed_by) == (LEASE, "one")
    async with sessions() as db:
        unclaimed = await db.execute(
            select(Patient.telegram_user_id).where(Patient.claimed_until.is_(None))
        )
        assert set(unclaimed.scalars()) == {801, 901}


async def test_a_leased_person_is_skipped_until_the_lease_ends(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501, next_send_at=PAST)
    assert [c.id for c in await claim(sessions, owner="one")] == [patient_id]
    assert await claim(sessions, owner="two") == []
    assert await claim(sessions, now=LEASE - timedelta(seconds=1), owner="two") == []
    # The lease ran out (its owner died): the next claim takes the person over.
    taken = await claim(sessions, now=LEASE, owner="two", until=LEASE + timedelta(minutes=2))
    assert [c.id for c in taken] == [patient_id]
    row = await person(sessions, patient_id)
    assert (row.claimed_until, row.claimed_by) == (LEASE + timedelta(minutes=2), "two")


async def test_claim_due_takes_at_most_the_limit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = {await add_person(sessions, 501 + 100 * n, next_send_at=PAST) for n in range(3)}
    first = await claim(sessions, limit=2)
    second = await claim(sessions, limit=2)
    assert len(first) == 2 and len(second) == 1
    assert {c.id for c in first} | {c.id for c in second} == ids
    assert await claim(sessions, limit=2) == []


async def test_an_anonymous_claim_has_no_owner(sessions: async_sessionmaker[AsyncSession]) -> None:
    patient_id = await add_person(sessions, 501, next_send_at=PAST)
    await claim(sessions, owner="")
    row = await person(sessions, patient_id)
    assert (row.claimed_until, row.claimed_by) == (LEASE, None)


async def test_heartbeat_extends_only_the_owners_leases(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    mine = await add_person(sessions, 501, next_send_at=PAST)
    theirs = await add_person(sessions, 601, next_send_at=PAST)
    await claim(sessions, owner="one", limit=1)
    await claim(sessions, owner="two", limit=1)
    owners = {
        patient_id: (await person(sessions, patient_id)).claimed_by for patient_id in (mine, theirs)
    }
    own = next(patient_id for patient_id, owner in owners.items() if owner == "one")
    other = next(patient_id for patient_id, owner in owners.items() if owner == "two")
    extended = LEASE + timedelta(minutes=5)
    async with sessions() as db:
        await dispatch.heartbeat(db, "one", [own, other], extended)
        await dispatch.heartbeat(db, "two", [], extended)  # nothing to extend: no statement
        await db.commit()
    assert (await person(sessions, own)).claimed_until == extended
    assert (await person(sessions, other)).claimed_until == LEASE


async def test_drop_claims_of_one_owner_or_of_everyone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await add_person(sessions, 501, next_send_at=PAST)
    second = await add_person(sessions, 601, next_send_at=PAST)
    third = await add_person(sessions, 701, next_send_at=PAST)
    await claim(sessions, owner="one", limit=2)
    await claim(sessions, owner="two", limit=1)
    before = {p: (await person(sessions, p)).claimed_by for p in (first, second, third)}
    assert sorted(str(owner) for owner in before.values()) == ["one", "one", "two"]
    async with sessions() as db:
        assert await dispatch.drop_claims(db, "one") == 2
        await db.commit()
    for patient_id, owner in before.items():
        row = await person(sessions, patient_id)
        if owner == "one":
            assert (row.claimed_until, row.claimed_by) == (None, None)
        else:
            assert (row.claimed_until, row.claimed_by) == (LEASE, "two")
    async with sessions() as db:
        assert await dispatch.drop_claims(db) == 1  # everyone's: only "two"'s was left
        await db.commit()
    for patient_id in before:
        assert (await person(sessions, patient_id)).claimed_until is None


async def test_release_is_guarded_by_the_version_read_at_claim_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    kept = await add_person(sessions, 501, next_send_at=PAST)
    changed = await add_person(sessions, 601, next_send_at=PAST)
    claimed = {c.id: c for c in await claim(sessions)}
    # A command changed the second person meanwhile (/time): their change wins.
    async with sessions() as db:
        patient = await db.get(Patient, changed)
        assert patient is not None
        patient.next_send_at = FUTURE
        await db.commit()
    tomorrow = NOW + timedelta(days=1)
    nudge = NOW + timedelta(hours=3)
    weekly = NOW + timedelta(days=6)
    async with sessions() as db:
        await dispatch.release(
            db,
            [
                dispatch.Release(kept, claimed[kept].version, tomorrow, nudge, None, weekly),
                dispatch.Release(changed, claimed[changed].version, tomorrow, nudge),
            ],
            NOW,
        )
        await dispatch.release(db, [], NOW)  # nothing to release: no statement
        await db.commit()
    row = await person(sessions, kept)
    assert (row.next_send_at, row.nudge_at, row.next_weekly_at) == (tomorrow, nudge, weekly)
    assert (row.claimed_until, row.claimed_by) == (None, None)
    assert row.version == claimed[kept].version + 1
    assert row.updated_at == NOW
    other = await person(sessions, changed)
    assert other.next_send_at == FUTURE  # not overwritten
    assert other.nudge_at is None
    assert (other.claimed_until, other.claimed_by) == (LEASE, "one")  # the lease runs out


async def test_release_may_keep_a_lease_to_retry_later(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501, next_send_at=PAST)
    (claimed,) = await claim(sessions)
    retry = NOW + timedelta(minutes=10)
    async with sessions() as db:
        await dispatch.release(
            db, [dispatch.Release(patient_id, claimed.version, PAST, None, retry)], NOW
        )
        await db.commit()
    row = await person(sessions, patient_id)
    assert (row.claimed_until, row.claimed_by) == (retry, None)
    assert await claim(sessions, now=retry - timedelta(seconds=1)) == []
    assert [c.id for c in await claim(sessions, now=retry)] == [patient_id]


async def test_resume_patients_only_if_unchanged_since_the_claim(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    paused = {"status": PatientStatus.PAUSED, "paused_until": DAY, "next_send_at": PAST}
    resumed = await add_person(sessions, 501, **paused)
    changed = await add_person(sessions, 601, **paused)
    claimed = {c.id: c for c in await claim(sessions)}
    async with sessions() as db:
        await db.execute(
            update(Patient)
            .where(Patient.id == changed)
            .values(paused_until=DAY + timedelta(days=3), version=Patient.version + 1)
        )
        await db.commit()
    state = {"v": 2, "day": 2, "holding": True}
    async with sessions() as db:
        await dispatch.resume_patients(
            db,
            [
                dispatch.Resumed(resumed, claimed[resumed].version, state),
                dispatch.Resumed(changed, claimed[changed].version, state),
            ],
            NOW,
        )
        await db.commit()
    row = await person(sessions, resumed)
    assert (row.status, row.paused_until, row.program_state) == (
        PatientStatus.ACTIVE,
        None,
        state,
    )
    other = await person(sessions, changed)
    assert (other.status, other.paused_until) == (PatientStatus.PAUSED, DAY + timedelta(days=3))


async def test_mark_blocked_blocks_each_person_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    earlier = NOW - timedelta(days=1)
    fresh = await add_person(sessions, 501, nudge_at=FUTURE)
    blocked = await add_person(sessions, 601, blocked_at=earlier)
    async with sessions() as db:
        await dispatch.mark_blocked(db, [fresh, blocked], NOW)
        await dispatch.mark_blocked(db, [], NOW)
        await db.commit()
    row = await person(sessions, fresh)
    assert (row.blocked_at, row.nudge_at, row.version) == (NOW, None, 2)
    other = await person(sessions, blocked)
    assert (other.blocked_at, other.version) == (earlier, 1)


async def test_people_by_status_counts_the_blocked_apart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as db:
        assert await dispatch.people_by_status(db) == {}
    await add_person(sessions, 501, status=PatientStatus.ACTIVE)
    await add_person(sessions, 601, status=PatientStatus.ACTIVE)
    await add_person(sessions, 701, status=PatientStatus.ACTIVE, blocked_at=NOW)
    await add_person(sessions, 801, status=PatientStatus.PAUSED, blocked_at=NOW)
    await add_person(sessions, 901)
    await add_person(sessions, 1001, status=PatientStatus.SAFETY_HOLD)
    async with sessions() as db:
        assert await dispatch.people_by_status(db) == {
            "active": 2,
            "blocked": 2,
            "onboarding": 1,
            "safety_hold": 1,
        }


# --- Sessions ------------------------------------------------------------------------------------


def new_session(patient_id: int, local_date: date = DAY, epoch: int = 1) -> dispatch.NewSession:
    return dispatch.NewSession(patient_id, epoch, local_date, 2, (1, 2), 2, NOW)


async def test_insert_sessions_is_idempotent_per_person_epoch_and_date(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await add_person(sessions, 501)
    second = await add_person(sessions, 601)
    from_today = await add_session(sessions, second)  # /today got there first
    async with sessions() as db:
        inserted = await dispatch.insert_sessions(db, [new_session(first), new_session(second)])
        await db.commit()
    assert set(inserted) == {first}  # the existing session is left out, the batch goes on
    async with sessions() as db:
        again = await dispatch.insert_sessions(
            db,
            [
                new_session(first),
                new_session(first, DAY + timedelta(days=1)),
                new_session(first, epoch=2),
            ],
        )
        assert await dispatch.insert_sessions(db, []) == {}
        await db.commit()
    assert set(again) == {first}  # one id per person: the two new rows are both stored
    async with sessions() as db:
        rows = list((await db.execute(select(DailySession).order_by(DailySession.id))).scalars())
    assert [(r.patient_id, r.program_epoch, r.local_date) for r in rows] == [
        (second, 1, DAY),
        (first, 1, DAY),
        (first, 1, DAY + timedelta(days=1)),
        (first, 2, DAY),
    ]
    assert rows[0].id == from_today
    assert rows[1].id == inserted[first]
    stored = rows[1]
    assert (stored.sent_by, stored.exercises, stored.new_exercise, stored.day_number) == (
        dispatch.DISPATCHER,
        [1, 2],
        2,
        2,
    )
    assert stored.sent_at == NOW and stored.message_id is None and stored.outcome is None


async def test_sessions_on_matches_the_exact_person_epoch_and_date(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await add_person(sessions, 501)
    second = await add_person(sessions, 601)
    tomorrow = DAY + timedelta(days=1)
    mine = await add_session(sessions, first, sent_by=dispatch.DISPATCHER)
    await add_session(sessions, first, local_date=tomorrow, epoch=2)
    theirs = await add_session(sessions, second, local_date=tomorrow, message_id=5)
    await add_session(sessions, second, epoch=2)
    async with sessions() as db:
        found = await dispatch.sessions_on(db, [(first, 1, DAY), (second, 1, tomorrow)])
        # Keys that mix one person's epoch with another's date match nothing.
        assert await dispatch.sessions_on(db, [(first, 1, tomorrow), (second, 1, DAY)]) == {}
        assert await dispatch.sessions_on(db, []) == {}
    assert found[first].id == mine and found[first].unsent_by_dispatcher
    assert found[second].id == theirs and not found[second].unsent_by_dispatcher
    assert (found[second].program_epoch, found[second].local_date) == (1, tomorrow)


async def test_set_message_ids_and_mark_nudged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501)
    first = await add_session(sessions, patient_id)
    second = await add_session(sessions, patient_id, local_date=DAY + timedelta(days=1))
    async with sessions() as db:
        await dispatch.set_message_ids(db, [(first, 11), (second, 12)])
        await dispatch.mark_nudged(db, [second], NOW)
        await dispatch.set_message_ids(db, [])
        await dispatch.mark_nudged(db, [], NOW)
        await db.commit()
    async with sessions() as db:
        rows = {r.id: r for r in (await db.execute(select(DailySession))).scalars()}
    assert (rows[first].message_id, rows[first].nudged_at) == (11, None)
    assert (rows[second].message_id, rows[second].nudged_at) == (12, NOW)


async def test_delete_unsent_removes_only_the_dispatchers_unsent_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501)
    other_id = await add_person(sessions, 601)
    unsent = await add_session(sessions, patient_id, sent_by=dispatch.DISPATCHER)
    sent = await add_session(
        sessions,
        patient_id,
        local_date=DAY + timedelta(days=1),
        sent_by=dispatch.DISPATCHER,
        message_id=9,
    )
    from_today = await add_session(sessions, patient_id, local_date=DAY + timedelta(days=2))
    not_named = await add_session(sessions, other_id, sent_by=dispatch.DISPATCHER)
    async with sessions() as db:
        await dispatch.delete_unsent(db, [unsent, sent, from_today])
        await dispatch.delete_unsent(db, [])
        await db.commit()
    assert await session_ids(sessions) == {sent, from_today, not_named}


# --- Follow-ups ----------------------------------------------------------------------------------


async def test_follow_ups_of_had_to_stop_reports(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501)
    async with sessions() as db:
        patient = await db.get(Patient, patient_id)
        assert patient is not None
        spreading = repo.add_report(
            db, patient, ReportKind.SESSION, NOW, stopped_exercise=1, stopped_reason="spreading"
        )
        unknown = repo.add_report(db, patient, ReportKind.SESSION, PAST, stopped_exercise=2)
        plain = repo.add_report(db, patient, ReportKind.ADHOC, NOW)
        await db.commit()
    async with sessions() as db:
        found = await dispatch.follow_ups(db, [spreading.id, unknown.id, plain.id, 9999])
        assert await dispatch.follow_ups(db, []) == {}
    assert found == {
        spreading.id: dispatch.FollowUp(spreading.id, 1, "spreading", NOW),
        unknown.id: dispatch.FollowUp(unknown.id, 2, "other", PAST),  # no cause: "other"
    }


async def test_mark_follow_ups_asked(sessions: async_sessionmaker[AsyncSession]) -> None:
    asked = await add_person(sessions, 501)
    not_asked = await add_person(sessions, 601)
    async with sessions() as db:
        await dispatch.mark_follow_ups_asked(db, [asked], NOW)
        await dispatch.mark_follow_ups_asked(db, [], NOW)
        await db.commit()
    assert (await person(sessions, asked)).follow_up_asked_at == NOW
    assert (await person(sessions, not_asked)).follow_up_asked_at is None
