"""Typed SQLAlchemy models: patients, their daily sessions, symptom reports and safety events.

Every timestamp is stored in UTC (timezone-aware columns); local dates are derived from the
person's IANA zone by the domain. No names or usernames are stored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp on every backend (SQLite itself stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[int]: JSON,
        list[str]: JSON,
    }


class PatientStatus:
    """Where a person is in the program (stored as short strings)."""

    ONBOARDING = "onboarding"
    ACTIVE = "active"
    PAUSED = "paused"
    SAFETY_HOLD = "safety_hold"
    DECLINED = "declined"  # said no to storing data: nothing else is kept
    ALL = (ONBOARDING, ACTIVE, PAUSED, SAFETY_HOLD, DECLINED)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8), default="en")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    reminder_time: Mapped[time | None] = mapped_column(Time)
    status: Mapped[str] = mapped_column(String(16), default=PatientStatus.ONBOARDING)
    # The step of a multi-message flow in progress (onboarding, check-in, confirmations) and
    # its answers so far, kept in the database so a restart loses nothing.
    flow: Mapped[str | None] = mapped_column(String(32))
    flow_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    paused_until: Mapped[date | None] = mapped_column(Date)
    next_send_at: Mapped[datetime | None] = mapped_column(index=True)
    nudge_at: Mapped[datetime | None] = mapped_column(index=True)
    nudges_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The dispatcher's lease: while it lies in the future one dispatcher owns this person's due
    # routine or nudge, so a second process (or the next pass) leaves the row alone.
    claimed_until: Mapped[datetime | None]
    program_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    program_started_on: Mapped[date | None] = mapped_column(Date)
    # Incremented by /reset: earlier sessions stay in the history, marked by their epoch.
    program_epoch: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Optimistic locking: two updates racing on one person (two button presses, the dispatcher
    # and a command) cannot both win; the loser sees StaleDataError and changes nothing.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    sessions: Mapped[list[DailySession]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True
    )


class SessionOutcome:
    DONE = "done"
    SKIPPED = "skipped"
    STOPPED = "stopped"  # had to stop during the routine
    NO_ANSWER = "no_answer"
    ALL = (DONE, SKIPPED, STOPPED, NO_ANSWER)


class DailySession(Base):
    """One routine sent to one person on one local date."""

    __tablename__ = "daily_sessions"
    __table_args__ = (UniqueConstraint("patient_id", "program_epoch", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    program_epoch: Mapped[int] = mapped_column(SmallInteger)
    local_date: Mapped[date] = mapped_column(Date)
    day_number: Mapped[int] = mapped_column(SmallInteger)
    exercises: Mapped[list[int]] = mapped_column(JSON)
    new_exercise: Mapped[int | None] = mapped_column(SmallInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(String(16))
    sent_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    nudged_at: Mapped[datetime | None]
    # "dispatcher" when the morning dispatcher created the row: a row of its own still without a
    # message id is a send that crashed midway and may be retried; one from /today is not.
    sent_by: Mapped[str | None] = mapped_column(String(16))

    patient: Mapped[Patient] = relationship(back_populates="sessions")


class ReportKind:
    BASELINE = "baseline"
    SESSION = "session"  # after a routine
    ADHOC = "adhoc"  # /checkin
    ALL = (BASELINE, SESSION, ADHOC)


class SymptomReport(Base):
    """Ratings at one moment: baseline, after a routine, or ad hoc."""

    __tablename__ = "symptom_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("daily_sessions.id", ondelete="CASCADE"), index=True
    )
    program_epoch: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))
    pain: Mapped[int] = mapped_column(SmallInteger)
    numbness: Mapped[int] = mapped_column(SmallInteger)
    tingling: Mapped[int] = mapped_column(SmallInteger)
    extent: Mapped[int] = mapped_column(SmallInteger)
    stop_signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "Had to stop": which exercise and what happened.
    stopped_exercise: Mapped[int | None] = mapped_column(SmallInteger)
    stopped_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class SafetyEvent(Base):
    """A verdict of the safety engine, stored whenever it is not 'none'."""

    __tablename__ = "safety_events"
    __table_args__ = (Index("ix_safety_events_patient_created", "patient_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("symptom_reports.id", ondelete="CASCADE")
    )
    tier: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    suspected_exercise: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
