"""db/repo.py, and the column types of db/models.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.program import PatientStatus, RoutineOutcome
from db import repo
from db.models import (
    DailySession,
    EnumText,
    InboxState,
    Patient,
    ReportKind,
    SafetyEvent,
    SymptomReport,
    UTCDateTime,
)
from tests.support.rows import add_person

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)
RATINGS = repo.Ratings(pain=5, numbness=2, tingling=3, extent=3)


async def load(sessions: async_sessionmaker[AsyncSession], user_id: int) -> Patient:
    async with sessions() as db:
        patient = await repo.get_patient(db, user_id)
    assert patient is not None
    return patient


async def add_history(
    sessions: async_sessionmaker[AsyncSession], user_id: int, at: datetime = NOW
) -> tuple[int, int, int]:
    """A session, a report on it and an event on the report; returns their ids."""
    async with sessions() as db:
        patient = await repo.get_patient(db, user_id)
        assert patient is not None
        session = repo.add_session(db, patient, DAY, 1, (1,), 1, at)
        await db.flush()
        report = repo.add_report(
            db, patient, ReportKind.SESSION, at, ratings=RATINGS, session_id=session.id
        )
        await db.flush()
        event = repo.add_event(
            db, patient, "watch", "hold", ["small_rise"], at, report_id=report.id
        )
        await db.commit()
        return session.id, report.id, event.id


async def count(
    sessions: async_sessionmaker[AsyncSession],
    model: type[DailySession] | type[SymptomReport] | type[SafetyEvent],
    patient_id: int,
) -> int:
    async with sessions() as db:
        result = await db.execute(
            select(func.count()).select_from(model).where(model.patient_id == patient_id)
        )
        return int(result.scalar_one())


# --- People --------------------------------------------------------------------------------------


async def test_new_patient_starts_onboarding_and_is_found_by_telegram_id(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501)
    patient = await load(sessions, 501)
    assert patient.id == patient_id
    assert patient.chat_id == 502
    assert patient.status is PatientStatus.ONBOARDING
    assert (patient.program_epoch, patient.version) == (1, 1)
    assert patient.flow_data == {} and patient.program_state == {}
    assert patient.nudges_enabled and patient.weekly_enabled
    assert patient.created_at == NOW
    async with sessions() as db:
        assert await repo.get_patient(db, 999) is None


async def test_delete_patient_erases_every_row_of_that_person_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    gone = await add_person(sessions, 501)
    kept = await add_person(sessions, 601)
    await add_history(sessions, 501)
    await add_history(sessions, 601)
    async with sessions() as db:
        await repo.delete_patient(db, gone)
        await db.commit()
    for model in (DailySession, SymptomReport, SafetyEvent):
        assert await count(sessions, model, gone) == 0, model
        assert await count(sessions, model, kept) == 1, model
    async with sessions() as db:
        assert await repo.get_patient(db, 501) is None
        assert await repo.get_patient(db, 601) is not None


async def test_mark_blocked_only_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_person(sessions, 501, nudge_at=NOW + timedelta(hours=3))
    later = NOW + timedelta(hours=1)
    async with sessions() as db:
        assert await repo.mark_blocked(db, 501, NOW)
        assert not await repo.mark_blocked(db, 501, later)  # already blocked: no change
        assert not await repo.mark_blocked(db, 999, NOW)  # nobody
        await db.commit()
    patient = await load(sessions, 501)
    assert patient.blocked_at == NOW
    assert patient.nudge_at is None
    assert patient.version == 2  # bumped once: a racing ORM update of the row loses


async def test_set_card_only_while_the_nonce_still_matches(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_person(sessions, 501, flow="checkin", flow_data={"nonce": "abc", "step": "pain"})
    async with sessions() as db:
        await repo.set_card(db, 501, "old", 41)  # a card of a flow that was replaced
        await repo.set_card(db, 999, "abc", 41)  # nobody: nothing to do
        await db.commit()
    assert (await load(sessions, 501)).flow_data == {"nonce": "abc", "step": "pain"}
    async with sessions() as db:
        await repo.set_card(db, 501, "abc", 42)
        await db.commit()
    assert (await load(sessions, 501)).flow_data == {"nonce": "abc", "step": "pain", "card": 42}


# --- Daily sessions ------------------------------------------------------------------------------


async def test_record_outcome_records_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_person(sessions, 501)
    session_id, _, _ = await add_history(sessions, 501)
    later = NOW + timedelta(minutes=5)
    async with sessions() as db:
        assert await repo.record_outcome(db, session_id, RoutineOutcome.DONE, NOW)
        assert not await repo.record_outcome(db, session_id, RoutineOutcome.SKIPPED, later)
        assert not await repo.record_outcome(db, session_id + 100, RoutineOutcome.DONE, NOW)
        await db.commit()
    async with sessions() as db:
        row = await repo.get_session(db, session_id)
    assert row is not None
    assert row.outcome is RoutineOutcome.DONE  # the first press wins
    assert row.answered_at == NOW


async def test_set_session_message_only_on_the_persons_own_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await add_person(sessions, 501)
    other = await add_person(sessions, 601)
    session_id, _, _ = await add_history(sessions, 501)

    async def message_id() -> int | None:
        async with sessions() as db:
            row = await repo.get_session(db, session_id)
        assert row is not None
        return row.message_id

    async with sessions() as db:
        await repo.set_session_message(db, session_id, other, 77)
        await db.commit()
    assert await message_id() is None
    async with sessions() as db:
        await repo.set_session_message(db, session_id, owner, 78)
        await db.commit()
    assert await message_id() == 78


async def test_sessions_by_date_and_epoch(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_person(sessions, 501)
    async with sessions() as db:
        patient = await repo.get_patient(db, 501)
        assert patient is not None
        later = repo.add_session(db, patient, DAY + timedelta(days=1), 2, (1, 2), 2, NOW)
        first = repo.add_session(db, patient, DAY, 1, (1,), 1, NOW)
        patient.program_epoch = 2
        reset = repo.add_session(db, patient, DAY + timedelta(days=1), 1, (1,), 1, NOW)
        await db.commit()
    async with sessions() as db:
        ordered = await repo.sessions_of(db, patient.id)
        assert [s.id for s in ordered] == [first.id, later.id, reset.id]  # date, then id
        assert [s.id for s in await repo.sessions_of(db, patient.id, 1)] == [first.id, later.id]
        assert [s.id for s in await repo.sessions_of(db, patient.id, 2)] == [reset.id]
        found = await repo.session_on(db, patient.id, 1, DAY + timedelta(days=1))
        assert found is not None and found.id == later.id
        assert await repo.session_on(db, patient.id, 2, DAY) is None
        stored = await repo.get_session(db, first.id)
        assert stored is not None and stored.exercises == [1]


# --- Reports and safety events -------------------------------------------------------------------


async def test_reports_oldest_first_across_epochs_and_the_baseline(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_person(sessions, 501)
    async with sessions() as db:
        patient = await repo.get_patient(db, 501)
        assert patient is not None
        assert not await repo.has_baseline(db, patient.id)
        screening = repo.add_report(
            db, patient, ReportKind.SCREENING, NOW, stop_signals=["night_pain"]
        )
        adhoc = repo.add_report(db, patient, ReportKind.ADHOC, NOW + timedelta(days=1))
        patient.program_epoch = 2
        baseline = repo.add_report(
            db, patient, ReportKind.BASELINE, NOW + timedelta(hours=1), ratings=RATINGS
        )
        await db.commit()
    async with sessions() as db:
        reports = await repo.reports_of(db, patient.id)
        assert [r.id for r in reports] == [screening.id, baseline.id, adhoc.id]
        assert [r.program_epoch for r in reports] == [1, 2, 1]
        assert reports[0].stop_signals == ["night_pain"] and not reports[0].has_ratings
        assert reports[1].has_ratings and reports[1].kind is ReportKind.BASELINE
        assert await repo.has_baseline(db, patient.id)
        found = await repo.get_report(db, adhoc.id)
        assert found is not None and found.kind is ReportKind.ADHOC


async def add_event(
    sessions: async_sessionmaker[AsyncSession],
    user_id: int,
    tier: str,
    at: datetime,
    *,
    signals: tuple[str, ...] | None = None,
    reasons: tuple[str, ...] = ("emergency_signal",),
    acknowledged: datetime | None = None,
) -> tuple[int, int | None]:
    """A safety event (with a report carrying ``signals``, if given); returns both ids."""
    async with sessions() as db:
        patient = await repo.get_patient(db, user_id)
        assert patient is not None
        report_id = None
        if signals is not None:
            report = repo.add_report(db, patient, ReportKind.ADHOC, at, stop_signals=signals)
            await db.flush()
            report_id = report.id
        event = repo.add_event(db, patient, tier, "safety_hold", reasons, at, report_id=report_id)
        event.acknowledged_at = acknowledged
        await db.commit()
        return event.id, report_id


async def test_open_hold_event_is_the_latest_unreleased_one_of_the_tier_with_its_report(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501)
    await add_person(sessions, 601)
    first, first_report = await add_event(sessions, 501, "emergency", NOW, signals=("bladder",))
    await add_event(  # later, but released
        sessions, 501, "emergency", NOW + timedelta(hours=2), acknowledged=NOW
    )
    soon, _ = await add_event(sessions, 501, "soon", NOW + timedelta(hours=3))
    await add_event(sessions, 601, "emergency", NOW + timedelta(hours=4), signals=("saddle",))
    async with sessions() as db:
        found = await repo.open_hold_event(db, patient_id, "emergency")
        assert found is not None
        event, report = found
        assert event.id == first
        assert report is not None and report.id == first_report
        assert report.stop_signals == ["bladder"]
        found_soon = await repo.open_hold_event(db, patient_id, "soon")
        assert found_soon is not None and found_soon[0].id == soon
        assert found_soon[1] is None  # an event without a report
        assert await repo.open_hold_event(db, patient_id, "urgent") is None
    # Two open events at the same moment: the one stored last.
    tie, _ = await add_event(sessions, 501, "emergency", NOW)
    async with sessions() as db:
        found = await repo.open_hold_event(db, patient_id, "emergency")
        assert found is not None and found[0].id == tie and found[1] is None


async def test_acknowledge_events_releases_every_open_event_of_the_person(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501)
    other_id = await add_person(sessions, 601)
    earlier = NOW - timedelta(days=1)
    await add_event(sessions, 501, "emergency", NOW)
    await add_event(sessions, 501, "soon", NOW)
    await add_event(sessions, 501, "urgent", earlier - timedelta(hours=1), acknowledged=earlier)
    await add_event(sessions, 601, "urgent", NOW)
    released = NOW + timedelta(hours=3)
    async with sessions() as db:
        await repo.acknowledge_events(db, patient_id, released)
        await db.commit()
    async with sessions() as db:
        mine = await repo.events_of(db, patient_id)
        theirs = await repo.events_of(db, other_id)
    assert [(e.tier, e.acknowledged_at) for e in mine] == [
        ("urgent", earlier),  # released before: keeps its release time
        ("emergency", released),
        ("soon", released),
    ]
    assert [e.acknowledged_at for e in theirs] == [None]


async def test_advised_once_collects_reasons_since_the_program_began(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    patient_id = await add_person(sessions, 501)
    await add_person(sessions, 601)
    start = NOW
    await add_event(sessions, 501, "review", start - timedelta(seconds=1), reasons=("old",))
    await add_event(sessions, 501, "review", start, reasons=("no_improvement_3_weeks",))
    await add_event(
        sessions, 501, "review", start + timedelta(days=1), reasons=("symptoms_6_weeks", "x")
    )
    await add_event(sessions, 601, "review", start, reasons=("theirs",))
    async with sessions() as db:
        assert await repo.advised_once(db, patient_id, start) == {
            "no_improvement_3_weeks",
            "symptoms_6_weeks",
            "x",
        }
        assert await repo.advised_once(db, patient_id, None) == {
            "old",
            "no_improvement_3_weeks",
            "symptoms_6_weeks",
            "x",
        }


# --- Column types --------------------------------------------------------------------------------


async def test_utc_datetime_stores_an_aware_time_and_reads_it_back_in_utc(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    paris = timezone(timedelta(hours=1))
    local = datetime(2026, 3, 2, 8, 30, tzinfo=paris)
    await add_person(sessions, 501, hold_since=local, blocked_at=None)
    patient = await load(sessions, 501)
    assert patient.hold_since == local  # the same instant ...
    assert patient.hold_since is not None and patient.hold_since.tzinfo is UTC  # ... in UTC
    assert patient.hold_since.hour == 7
    assert patient.blocked_at is None
    async with sessions() as db:  # compared as instants in a query, whatever the offset
        found = await db.execute(
            select(Patient.id).where(Patient.hold_since == datetime(2026, 3, 2, 7, 30, tzinfo=UTC))
        )
        assert found.scalar_one() == patient.id


async def test_utc_datetime_refuses_a_naive_datetime(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await add_person(sessions, 501, hold_since=datetime(2026, 3, 2, 8, 30))  # noqa: DTZ001
    async with sessions() as db:
        assert await repo.get_patient(db, 501) is None
        with pytest.raises(StatementError, match="naive datetime"):
            await db.execute(
                select(Patient).where(Patient.hold_since < datetime(2026, 3, 2))  # noqa: DTZ001
            )


def test_utc_datetime_reads_a_stored_time_without_offset_as_utc() -> None:
    """SQLite hands back what was written, without an offset: it was written in UTC."""
    column = UTCDateTime()
    dialect = sqlite.dialect()
    stored = datetime(2026, 3, 2, 7, 0)  # noqa: DTZ001 - what SQLite returns
    read = column.process_result_value(stored, dialect)
    assert read == NOW
    assert read is not None and read.tzinfo is UTC
    assert column.process_result_value(None, dialect) is None
    assert column.process_bind_param(None, dialect) is None


async def test_enum_text_stores_the_plain_value_and_reads_the_enum(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_person(sessions, 501, status=PatientStatus.SAFETY_HOLD)
    async with sessions() as db:
        raw = await db.execute(text("SELECT status FROM patients WHERE telegram_user_id = 501"))
        assert raw.scalar_one() == "safety_hold"  # a plain string column: nothing to migrate
        # A plain string is accepted where the enum is expected, and read back as the enum.
        await db.execute(
            update(Patient).where(Patient.telegram_user_id == 501).values(status="paused")
        )
        await db.commit()
    patient = await load(sessions, 501)
    assert patient.status is PatientStatus.PAUSED
    async with sessions() as db:
        found = await db.execute(select(Patient.id).where(Patient.status == "paused"))
        assert found.scalar_one() == patient.id


async def test_enum_text_refuses_a_value_outside_the_enum(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(StatementError, match="not a valid PatientStatus"):
        await add_person(sessions, 501, status="sleeping")
    async with sessions() as db:
        assert await repo.get_patient(db, 501) is None


def test_enum_text_converts_both_ways_without_a_database() -> None:
    column = EnumText(InboxState)
    dialect = sqlite.dialect()
    assert column.process_bind_param(InboxState.DONE, dialect) == "done"
    assert column.process_bind_param("failed", dialect) == "failed"
    assert column.process_bind_param(None, dialect) is None
    assert column.process_result_value("applied", dialect) is InboxState.APPLIED
    assert column.process_result_value(None, dialect) is None
