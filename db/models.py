"""Typed SQLAlchemy models: patients, their daily sessions, symptom reports, safety events, the
update inbox and the uploaded pictures.

Every timestamp is stored in UTC (timezone-aware columns); local dates are derived from the
person's IANA zone by the domain. No names or usernames are stored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Generic, TypeVar

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

from bot.domain.program import PatientStatus, RoutineOutcome

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

E = TypeVar("E", bound=StrEnum)


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


class EnumText(TypeDecorator[E], Generic[E]):
    """A domain StrEnum stored as its plain string value (no database enum type to migrate)."""

    impl = String(16)
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[int]: JSON,
        list[str]: JSON,
    }


class ReportKind(StrEnum):
    BASELINE = "baseline"
    SESSION = "session"  # after a routine
    ADHOC = "adhoc"  # /checkin
    SCREENING = "screening"  # the stop signals at onboarding (no ratings)
    RESCREEN = "rescreen"  # the stop signals asked again before a hold is lifted (no ratings)
    FOLLOW_UP = "follow_up"  # "is it still there this morning?" after a "had to stop"


class InboxState(StrEnum):
    RECEIVED = "received"  # stored, not yet handled
    APPLIED = "applied"  # its database effects are committed; its replies may not all be out
    DONE = "done"  # handled and answered
    FAILED = "failed"  # could not be handled after a few tries: quarantined


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8), default="en")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    reminder_time: Mapped[time | None] = mapped_column(Time)
    # The one place the person's status is kept (the program state JSON does not repeat it).
    status: Mapped[PatientStatus] = mapped_column(
        EnumText(PatientStatus), default=PatientStatus.ONBOARDING
    )
    # A safety hold: the tier that caused it (soon, urgent, emergency) and since when.
    hold_tier: Mapped[str | None] = mapped_column(String(16))
    hold_since: Mapped[datetime | None]
    # The multi-message exchange in progress (onboarding step, check-in, confirmation) and its
    # typed data, kept in the database so a restart loses nothing.
    flow: Mapped[str | None] = mapped_column(String(32))
    flow_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent_at: Mapped[datetime | None]
    screened_at: Mapped[datetime | None]
    # How long the person has had these symptoms (asked once) and the onset it implies.
    symptom_duration: Mapped[str | None] = mapped_column(String(8))
    symptoms_since: Mapped[datetime | None]
    # Which leg has the symptoms: "left" or "right" (None: not asked yet; "asked": the question
    # is open for someone who onboarded before it existed). The pictures show that leg.
    symptom_side: Mapped[str | None] = mapped_column(String(8))
    # When the function question (PSFS, clinical.md §3) was answered or skipped at onboarding.
    function_asked_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    paused_until: Mapped[date | None] = mapped_column(Date)
    next_send_at: Mapped[datetime | None] = mapped_column(index=True)
    nudge_at: Mapped[datetime | None] = mapped_column(index=True)
    nudges_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The weekly look back: on/off, the weekday (0 = Monday; None: the program's seventh day)
    # and when it is next due.
    weekly_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    weekly_weekday: Mapped[int | None] = mapped_column(SmallInteger)
    next_weekly_at: Mapped[datetime | None] = mapped_column(index=True)
    # A "had to stop" whose symptom had not settled: asked about the next morning.
    follow_up_report_id: Mapped[int | None] = mapped_column(Integer)
    follow_up_asked_at: Mapped[datetime | None]
    # A one-time notice for the next message (e.g. "please set your time zone again").
    notice: Mapped[str | None] = mapped_column(String(32))
    # The dispatcher's lease: while it lies in the future, the process named in claimed_by owns
    # this person's due sends, so another process (or the next pass) leaves the row alone.
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    program_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    program_started_on: Mapped[date | None] = mapped_column(Date)
    # Incremented by /reset: earlier sessions stay in the history, marked by their epoch.
    program_epoch: Mapped[int] = mapped_column(SmallInteger, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Optimistic locking: two updates racing on one person (the dispatcher and a command)
    # cannot both win; the loser sees StaleDataError and changes nothing.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    sessions: Mapped[list[DailySession]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True
    )


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
    outcome: Mapped[RoutineOutcome | None] = mapped_column(EnumText(RoutineOutcome))
    sent_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    nudged_at: Mapped[datetime | None]
    # "dispatcher" when the morning dispatcher created the row: a row of its own still without a
    # message id is a send that crashed midway and may be retried; one from /today is not.
    sent_by: Mapped[str | None] = mapped_column(String(16))

    patient: Mapped[Patient] = relationship(back_populates="sessions")


class SymptomReport(Base):
    """Ratings at one moment (baseline, after a routine, ad hoc), or, without ratings, the stop
    signals asked again before a hold is lifted, or a next-morning follow-up answer."""

    __tablename__ = "symptom_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("daily_sessions.id", ondelete="CASCADE"), index=True
    )
    program_epoch: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[ReportKind] = mapped_column(EnumText(ReportKind))
    pain: Mapped[int | None] = mapped_column(SmallInteger)
    numbness: Mapped[int | None] = mapped_column(SmallInteger)
    tingling: Mapped[int | None] = mapped_column(SmallInteger)
    extent: Mapped[int | None] = mapped_column(SmallInteger)
    stop_signals: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "Had to stop": which exercise, what happened, and whether it settled (None: not known).
    stopped_exercise: Mapped[int | None] = mapped_column(SmallInteger)
    stopped_reason: Mapped[str | None] = mapped_column(String(32))
    settled: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime]

    @property
    def has_ratings(self) -> bool:
        return None not in (self.pain, self.numbness, self.tingling, self.extent)


class SafetyEvent(Base):
    """A verdict of the safety engine, stored whenever it is not 'none'; ``acknowledged_at`` is
    when the hold it caused was released (or the advice acknowledged)."""

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


class FunctionActivity(Base):
    """An everyday activity the person named for the functional scale (PSFS, clinical.md §3).
    Replaced ones are retired (``retired_at``), never deleted: their ratings stay."""

    __tablename__ = "function_activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)  # 1 to 3, the order named
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class FunctionRating(Base):
    """One rating of an activity: 0 (unable) to 10 (as before the problem); ``kind`` is "start"
    (when it was named) or "weekly" (with the weekly look back)."""

    __tablename__ = "function_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("function_activities.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))
    rated_at: Mapped[datetime]


class InboxUpdate(Base):
    """An update Telegram delivered, stored before it is confirmed, until it has been handled.

    ``person_key`` (the sender, or the chat) orders each person's updates; ``response`` holds
    what the bot answers, written in the same transaction as the update's effects, so a replay
    after a crash delivers it instead of applying the update twice, from the reply after the
    ``delivered`` ones.
    """

    __tablename__ = "inbox_updates"
    __table_args__ = (
        Index("ix_inbox_updates_person", "person_key", "update_id"),
        Index("ix_inbox_updates_state", "state", "received_at"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_key: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[InboxState] = mapped_column(EnumText(InboxState), default=InboxState.RECEIVED)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    error: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    delivered: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    """How many of ``response``'s replies went out, recorded as each one is delivered."""
    finished_at: Mapped[datetime | None]


class InboxLease(Base):
    """Which process handles a person's updates right now (PostgreSQL with several processes):
    one at a time per person, so each person's updates are applied in order."""

    __tablename__ = "inbox_leases"

    person_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]


class MediaFile(Base):
    """A picture uploaded once: Telegram's file_id for it, per bot, reused for every later send."""

    __tablename__ = "media_files"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
