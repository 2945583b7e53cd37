"""Every query the conversation needs, as named functions (handlers and use cases build no SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import PatientStatus, RoutineOutcome
from db.models import (
    DailySession,
    FunctionActivity,
    FunctionRating,
    Patient,
    ReportKind,
    SafetyEvent,
    SymptomReport,
)

# Built once: it runs for every update, and building a statement costs more than running it.
_PATIENT_BY_USER = select(Patient).where(Patient.telegram_user_id == bindparam("user"))


async def get_patient(db: AsyncSession, telegram_user_id: int) -> Patient | None:
    result = await db.execute(_PATIENT_BY_USER, {"user": telegram_user_id})
    return result.scalar_one_or_none()


def new_patient(
    db: AsyncSession, telegram_user_id: int, chat_id: int, now: datetime, language: str
) -> Patient:
    patient = Patient(
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        language=language,
        status=PatientStatus.ONBOARDING,
        flow_data={},
        program_state={},
        program_epoch=1,
        nudges_enabled=True,
        weekly_enabled=True,
        created_at=now,
        updated_at=now,
    )
    db.add(patient)
    return patient


async def delete_patient(db: AsyncSession, patient_id: int) -> None:
    """Erase every row about a person (children first, so it holds without FK cascades too)."""
    activities = select(FunctionActivity.id).where(FunctionActivity.patient_id == patient_id)
    await db.execute(delete(FunctionRating).where(FunctionRating.activity_id.in_(activities)))
    await db.execute(delete(FunctionActivity).where(FunctionActivity.patient_id == patient_id))
    await db.execute(delete(SafetyEvent).where(SafetyEvent.patient_id == patient_id))
    await db.execute(delete(SymptomReport).where(SymptomReport.patient_id == patient_id))
    await db.execute(delete(DailySession).where(DailySession.patient_id == patient_id))
    await db.execute(delete(Patient).where(Patient.id == patient_id))


async def mark_blocked(db: AsyncSession, telegram_user_id: int, now: datetime) -> bool:
    """The person blocked the bot (or the chat is gone): stop sending until they write again."""
    result = await db.execute(
        update(Patient)
        .where(Patient.telegram_user_id == telegram_user_id, Patient.blocked_at.is_(None))
        .values(blocked_at=now, nudge_at=None, version=Patient.version + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) > 0


async def set_card(db: AsyncSession, telegram_user_id: int, nonce: str, message_id: int) -> None:
    """Remember the message id of the open flow's card (only if that flow is still open)."""
    patient = await get_patient(db, telegram_user_id)
    if patient is None or (patient.flow_data or {}).get("nonce") != nonce:
        return
    patient.flow_data = {**patient.flow_data, "card": message_id}


# Daily sessions


async def get_session(db: AsyncSession, session_id: int) -> DailySession | None:
    return await db.get(DailySession, session_id)


async def session_on(
    db: AsyncSession, patient_id: int, epoch: int, local_date: date
) -> DailySession | None:
    result = await db.execute(
        select(DailySession).where(
            DailySession.patient_id == patient_id,
            DailySession.program_epoch == epoch,
            DailySession.local_date == local_date,
        )
    )
    return result.scalar_one_or_none()


def add_session(
    db: AsyncSession,
    patient: Patient,
    local_date: date,
    day_number: int,
    exercises: Sequence[int],
    new_exercise: int | None,
    now: datetime,
) -> DailySession:
    row = DailySession(
        patient_id=patient.id,
        program_epoch=patient.program_epoch,
        local_date=local_date,
        day_number=day_number,
        exercises=list(exercises),
        new_exercise=new_exercise,
        sent_at=now,
    )
    db.add(row)
    return row


async def record_outcome(
    db: AsyncSession, session_id: int, outcome: RoutineOutcome, now: datetime
) -> bool:
    """Record how a routine went, once: the second of two racing presses changes nothing."""
    result = await db.execute(
        update(DailySession)
        .where(DailySession.id == session_id, DailySession.outcome.is_(None))
        .values(outcome=outcome, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def set_session_message(
    db: AsyncSession, session_id: int, patient_id: int, message_id: int
) -> None:
    await db.execute(
        update(DailySession)
        .where(DailySession.id == session_id, DailySession.patient_id == patient_id)
        .values(message_id=message_id)
        .execution_options(synchronize_session=False)
    )


async def sessions_of(
    db: AsyncSession, patient_id: int, epoch: int | None = None
) -> list[DailySession]:
    """A person's sessions, oldest first (of one program epoch, or of all)."""
    query = select(DailySession).where(DailySession.patient_id == patient_id)
    if epoch is not None:
        query = query.where(DailySession.program_epoch == epoch)
    result = await db.execute(query.order_by(DailySession.local_date, DailySession.id))
    return list(result.scalars())


# Symptom reports and safety events


@dataclass(frozen=True, slots=True)
class Ratings:
    pain: int
    numbness: int
    tingling: int
    extent: int


def add_report(
    db: AsyncSession,
    patient: Patient,
    kind: ReportKind,
    now: datetime,
    *,
    ratings: Ratings | None = None,
    stop_signals: Sequence[str] = (),
    session_id: int | None = None,
    stopped_exercise: int | None = None,
    stopped_reason: str | None = None,
    settled: bool | None = None,
) -> SymptomReport:
    row = SymptomReport(
        patient_id=patient.id,
        session_id=session_id,
        program_epoch=patient.program_epoch,
        kind=kind,
        pain=ratings.pain if ratings else None,
        numbness=ratings.numbness if ratings else None,
        tingling=ratings.tingling if ratings else None,
        extent=ratings.extent if ratings else None,
        stop_signals=list(stop_signals),
        stopped_exercise=stopped_exercise,
        stopped_reason=stopped_reason,
        settled=settled,
        created_at=now,
    )
    db.add(row)
    return row


async def get_report(db: AsyncSession, report_id: int) -> SymptomReport | None:
    return await db.get(SymptomReport, report_id)


async def reports_of(db: AsyncSession, patient_id: int) -> list[SymptomReport]:
    """Every report of a person, oldest first (all epochs: the baseline predates a reset)."""
    result = await db.execute(
        select(SymptomReport)
        .where(SymptomReport.patient_id == patient_id)
        .order_by(SymptomReport.created_at, SymptomReport.id)
    )
    return list(result.scalars())


async def has_baseline(db: AsyncSession, patient_id: int) -> bool:
    result = await db.execute(
        select(
            exists().where(
                SymptomReport.patient_id == patient_id,
                SymptomReport.kind == ReportKind.BASELINE,
            )
        )
    )
    return bool(result.scalar())


def add_event(
    db: AsyncSession,
    patient: Patient,
    tier: str,
    action: str,
    reasons: Sequence[str],
    now: datetime,
    *,
    report_id: int | None = None,
    suspected_exercise: int | None = None,
) -> SafetyEvent:
    row = SafetyEvent(
        patient_id=patient.id,
        report_id=report_id,
        tier=tier,
        action=action,
        reasons=list(reasons),
        suspected_exercise=suspected_exercise,
        created_at=now,
    )
    db.add(row)
    return row


async def events_of(db: AsyncSession, patient_id: int) -> list[SafetyEvent]:
    """Every safety event of a person, oldest first."""
    result = await db.execute(
        select(SafetyEvent)
        .where(SafetyEvent.patient_id == patient_id)
        .order_by(SafetyEvent.created_at, SafetyEvent.id)
    )
    return list(result.scalars())


async def open_hold_event(
    db: AsyncSession, patient_id: int, tier: str
) -> tuple[SafetyEvent, SymptomReport | None] | None:
    """The latest unreleased event of that tier, with its report (to show its advice again)."""
    result = await db.execute(
        select(SafetyEvent, SymptomReport)
        .outerjoin(SymptomReport, SymptomReport.id == SafetyEvent.report_id)
        .where(
            SafetyEvent.patient_id == patient_id,
            SafetyEvent.tier == tier,
            SafetyEvent.acknowledged_at.is_(None),
        )
        .order_by(SafetyEvent.created_at.desc(), SafetyEvent.id.desc())
        .limit(1)
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def acknowledge_events(db: AsyncSession, patient_id: int, now: datetime) -> None:
    """A hold was released: every open event of the person gets its release time."""
    await db.execute(
        update(SafetyEvent)
        .where(SafetyEvent.patient_id == patient_id, SafetyEvent.acknowledged_at.is_(None))
        .values(acknowledged_at=now)
        .execution_options(synchronize_session=False)
    )


async def advised_once(db: AsyncSession, patient_id: int, since: datetime | None) -> set[str]:
    """The once-per-program advice (REVIEW rules) already given since the program began."""
    query = select(SafetyEvent.reasons).where(SafetyEvent.patient_id == patient_id)
    if since is not None:
        query = query.where(SafetyEvent.created_at >= since)
    result = await db.execute(query)
    return {reason for reasons in result.scalars() for reason in reasons}


# Function (PSFS, clinical.md §3)


async def current_activities(db: AsyncSession, patient_id: int) -> list[FunctionActivity]:
    """The activities in use (not retired), in the order named."""
    result = await db.execute(
        select(FunctionActivity)
        .where(FunctionActivity.patient_id == patient_id, FunctionActivity.retired_at.is_(None))
        .order_by(FunctionActivity.position, FunctionActivity.id)
    )
    return list(result.scalars())


async def activities_of(db: AsyncSession, patient_id: int) -> list[FunctionActivity]:
    """Every activity ever named, retired ones too, oldest first."""
    result = await db.execute(
        select(FunctionActivity)
        .where(FunctionActivity.patient_id == patient_id)
        .order_by(FunctionActivity.created_at, FunctionActivity.position, FunctionActivity.id)
    )
    return list(result.scalars())


async def replace_activities(
    db: AsyncSession, patient_id: int, rated: Sequence[tuple[str, int]], now: datetime
) -> list[FunctionActivity]:
    """Retire the current activities (their ratings stay) and add these, each with its
    starting rating."""
    await db.execute(
        update(FunctionActivity)
        .where(FunctionActivity.patient_id == patient_id, FunctionActivity.retired_at.is_(None))
        .values(retired_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = [
        FunctionActivity(patient_id=patient_id, position=i, label=label, created_at=now)
        for i, (label, _) in enumerate(rated, start=1)
    ]
    db.add_all(rows)
    await db.flush()
    for row, (_, rating) in zip(rows, rated, strict=True):
        db.add(FunctionRating(activity_id=row.id, rating=rating, kind="start", rated_at=now))
    return rows


async def get_activity(
    db: AsyncSession, patient_id: int, activity_id: int
) -> FunctionActivity | None:
    """One of the person's activities (None if it is someone else's or gone)."""
    row = await db.get(FunctionActivity, activity_id)
    return row if row is not None and row.patient_id == patient_id else None


def add_function_rating(
    db: AsyncSession, activity_id: int, rating: int, kind: str, now: datetime
) -> FunctionRating:
    row = FunctionRating(activity_id=activity_id, rating=rating, kind=kind, rated_at=now)
    db.add(row)
    return row


async def function_ratings_of(db: AsyncSession, patient_id: int) -> list[FunctionRating]:
    """Every rating of every activity of the person (retired ones too), oldest first."""
    result = await db.execute(
        select(FunctionRating)
        .join(FunctionActivity, FunctionActivity.id == FunctionRating.activity_id)
        .where(FunctionActivity.patient_id == patient_id)
        .order_by(FunctionRating.rated_at, FunctionRating.id)
    )
    return list(result.scalars())


async def ratings_since(
    db: AsyncSession, activity_ids: Sequence[int], kind: str, since: datetime
) -> dict[int, FunctionRating]:
    """The latest rating of ``kind`` since ``since`` of each of these activities."""
    if not activity_ids:
        return {}
    result = await db.execute(
        select(FunctionRating)
        .where(
            FunctionRating.activity_id.in_(activity_ids),
            FunctionRating.kind == kind,
            FunctionRating.rated_at >= since,
        )
        .order_by(FunctionRating.rated_at, FunctionRating.id)
    )
    return {row.activity_id: row for row in result.scalars()}


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
