"""The morning dispatcher's queries: batch claims with a lease, bulk session rows, bulk bookkeeping.

Every function here issues at most one SQL statement (an executemany counts as one), so a batch
of N people costs a fixed handful of statements, not N. The claim is one
``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) RETURNING ...``: on
PostgreSQL concurrent dispatchers skip each other's rows; on SQLite (one process, one writer)
the same statement runs without the lock clause, which SQLite's compiler leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.program import PatientStatus
from db.models import DailySession, Patient, SymptomReport

DISPATCHER = "dispatcher"  # daily_sessions.sent_by for the rows the dispatcher creates

_patients = cast(Table, Patient.__table__)
_sessions = cast(Table, DailySession.__table__)
_reports = cast(Table, SymptomReport.__table__)


@dataclass(frozen=True, slots=True)
class Claimed:
    """What the dispatcher needs to know about one claimed person (no ORM object)."""

    id: int
    chat_id: int
    time_zone: str | None
    reminder_time: time | None
    status: PatientStatus
    language: str
    blocked_at: datetime | None
    paused_until: date | None
    next_send_at: datetime | None
    nudge_at: datetime | None
    nudges_enabled: bool
    program_state: dict[str, Any]
    program_epoch: int
    version: int
    follow_up_report_id: int | None
    weekly_enabled: bool
    weekly_weekday: int | None
    next_weekly_at: datetime | None
    program_started_on: date | None
    telegram_user_id: int
    symptom_side: str | None = None  # the leg the pictures show ("left", "right")


_CLAIMED_COLUMNS = (
    _patients.c.id,
    _patients.c.chat_id,
    _patients.c.time_zone,
    _patients.c.reminder_time,
    _patients.c.status,
    _patients.c.language,
    _patients.c.blocked_at,
    _patients.c.paused_until,
    _patients.c.next_send_at,
    _patients.c.nudge_at,
    _patients.c.nudges_enabled,
    _patients.c.program_state,
    _patients.c.program_epoch,
    _patients.c.version,
    _patients.c.follow_up_report_id,
    _patients.c.weekly_enabled,
    _patients.c.weekly_weekday,
    _patients.c.next_weekly_at,
    _patients.c.program_started_on,
    _patients.c.telegram_user_id,
    _patients.c.symptom_side,
)


async def claim_due(
    db: AsyncSession, now: datetime, lease_until: datetime, limit: int, owner: str = ""
) -> list[Claimed]:
    """Lease up to ``limit`` people whose routine, nudge or weekly look back is due and whom
    nobody holds.

    The lease (``claimed_until``, ``claimed_by``) outlives the transaction, so the rows stay
    ours while we send without holding a database lock; the owner's heartbeat extends it, and a
    dead owner's lease simply runs out.
    """
    due = (
        select(_patients.c.id)
        .where(
            or_(
                _patients.c.next_send_at <= now,
                _patients.c.nudge_at <= now,
                _patients.c.next_weekly_at <= now,
            ),
            or_(_patients.c.claimed_until.is_(None), _patients.c.claimed_until <= now),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await db.execute(
        update(_patients)
        .where(_patients.c.id.in_(due))
        .values(claimed_until=lease_until, claimed_by=owner or None)
        .returning(*_CLAIMED_COLUMNS)
    )
    return [Claimed(*row) for row in result.all()]


async def heartbeat(db: AsyncSession, owner: str, ids: Sequence[int], until: datetime) -> None:
    """Extend this process's leases on the people it is still sending to."""
    if not ids:
        return
    await db.execute(
        update(_patients)
        .where(_patients.c.id.in_(ids), _patients.c.claimed_by == owner)
        .values(claimed_until=until)
    )


async def drop_claims(db: AsyncSession, owner: str | None = None) -> int:
    """End leases at once: this owner's (a clean stop), or everyone's (a single SQLite process
    starting again: any lease left is its own, from before a crash)."""
    query = update(_patients).where(_patients.c.claimed_until.is_not(None))
    if owner is not None:
        query = query.where(_patients.c.claimed_by == owner)
    result = await db.execute(query.values(claimed_until=None, claimed_by=None))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A "had to stop" awaiting its next-morning question."""

    report_id: int
    exercise: int
    cause: str
    created_at: datetime


async def follow_ups(db: AsyncSession, report_ids: Sequence[int]) -> dict[int, FollowUp]:
    if not report_ids:
        return {}
    result = await db.execute(
        select(
            _reports.c.id,
            _reports.c.stopped_exercise,
            _reports.c.stopped_reason,
            _reports.c.created_at,
        ).where(_reports.c.id.in_(report_ids), _reports.c.stopped_exercise.is_not(None))
    )
    return {row[0]: FollowUp(row[0], row[1], row[2] or "other", row[3]) for row in result.all()}


async def mark_follow_ups_asked(
    db: AsyncSession, patient_ids: Sequence[int], now: datetime
) -> None:
    if not patient_ids:
        return
    await db.execute(
        update(_patients).where(_patients.c.id.in_(patient_ids)).values(follow_up_asked_at=now)
    )


@dataclass(frozen=True, slots=True)
class NewSession:
    patient_id: int
    program_epoch: int
    local_date: date
    day_number: int
    exercises: tuple[int, ...]
    new_exercise: int | None
    sent_at: datetime


async def insert_sessions(db: AsyncSession, rows: Sequence[NewSession]) -> dict[int, int]:
    """Insert today's sessions; returns patient id -> session id for the rows inserted.

    A person who already has a session for that date (from /today, or a dispatcher that crashed)
    is left out of the answer instead of failing the batch: the caller looks those up.
    """
    if not rows:
        return {}
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(_sessions)
        .on_conflict_do_nothing(index_elements=["patient_id", "program_epoch", "local_date"])
        .returning(_sessions.c.patient_id, _sessions.c.id)
    )
    result = await db.execute(
        stmt,
        [
            {
                "patient_id": r.patient_id,
                "program_epoch": r.program_epoch,
                "local_date": r.local_date,
                "day_number": r.day_number,
                "exercises": list(r.exercises),
                "new_exercise": r.new_exercise,
                "sent_at": r.sent_at,
                "sent_by": DISPATCHER,
            }
            for r in rows
        ],
    )
    return {patient_id: session_id for patient_id, session_id in result.all()}


@dataclass(frozen=True, slots=True)
class ExistingSession:
    id: int
    patient_id: int
    program_epoch: int
    local_date: date
    message_id: int | None
    outcome: str | None
    sent_by: str | None
    nudged_at: datetime | None

    @property
    def unsent_by_dispatcher(self) -> bool:
        """A dispatcher row with no message id: a send that never completed, safe to retry."""
        return self.sent_by == DISPATCHER and self.message_id is None and self.outcome is None


async def sessions_on(
    db: AsyncSession, keys: Sequence[tuple[int, int, date]]
) -> dict[int, ExistingSession]:
    """The sessions for (patient id, epoch, local date) keys, by patient id."""
    if not keys:
        return {}
    wanted = set(keys)
    result = await db.execute(
        select(
            _sessions.c.id,
            _sessions.c.patient_id,
            _sessions.c.program_epoch,
            _sessions.c.local_date,
            _sessions.c.message_id,
            _sessions.c.outcome,
            _sessions.c.sent_by,
            _sessions.c.nudged_at,
        ).where(
            _sessions.c.patient_id.in_({k[0] for k in keys}),
            _sessions.c.local_date.in_({k[2] for k in keys}),
        )
    )
    found: dict[int, ExistingSession] = {}
    for row in result.all():
        session = ExistingSession(*row)
        if (session.patient_id, session.program_epoch, session.local_date) in wanted:
            found[session.patient_id] = session
    return found


@dataclass(frozen=True, slots=True)
class Resumed:
    """A pause that ended: the person is active again with this program state."""

    patient_id: int
    version: int
    program_state: dict[str, Any]


async def resume_patients(db: AsyncSession, rows: Sequence[Resumed], now: datetime) -> None:
    """Set the resumed people active (only if nobody changed them since the claim).

    Runs before ``release`` in the same transaction: it checks the version ``release`` bumps.
    """
    if not rows:
        return
    await db.execute(
        update(_patients)
        .where(_patients.c.id == bindparam("p_id"), _patients.c.version == bindparam("p_version"))
        .values(
            status=PatientStatus.ACTIVE,
            paused_until=None,
            program_state=bindparam("p_state"),
            updated_at=now,
        ),
        [{"p_id": r.patient_id, "p_version": r.version, "p_state": r.program_state} for r in rows],
    )


async def save_states(db: AsyncSession, rows: Sequence[Resumed]) -> None:
    """Store these people's program state (the dispatcher's silence count), only if nobody
    changed them since the claim: a person who wrote meanwhile ended the silence.

    Runs before ``release`` in the same transaction: it checks the version ``release`` bumps.
    """
    if not rows:
        return
    await db.execute(
        update(_patients)
        .where(_patients.c.id == bindparam("p_id"), _patients.c.version == bindparam("p_version"))
        .values(program_state=bindparam("p_state")),
        [{"p_id": r.patient_id, "p_version": r.version, "p_state": r.program_state} for r in rows],
    )


async def pictures_shown(db: AsyncSession, keys: Sequence[tuple[int, int, int, date]]) -> set[int]:
    """The people among (patient id, epoch, new exercise, today) who were already sent a routine
    with that exercise new on an earlier day of the same program: its pictures went out then."""
    if not keys:
        return set()
    wanted = {(k[0], k[1], k[2]): k[3] for k in keys}
    result = await db.execute(
        select(
            _sessions.c.patient_id,
            _sessions.c.program_epoch,
            _sessions.c.new_exercise,
            _sessions.c.local_date,
        ).where(
            _sessions.c.patient_id.in_({k[0] for k in keys}),
            _sessions.c.new_exercise.in_({k[2] for k in keys}),
            _sessions.c.message_id.is_not(None),
        )
    )
    shown: set[int] = set()
    for patient_id, epoch, exercise, day in result.all():
        today = wanted.get((patient_id, epoch, exercise))
        if today is not None and day < today:
            shown.add(patient_id)
    return shown


@dataclass(frozen=True, slots=True)
class Release:
    """The outcome of one claim: the person's next times and when they may be claimed again."""

    patient_id: int
    version: int
    next_send_at: datetime | None
    nudge_at: datetime | None
    claimed_until: datetime | None = None  # set to retry a failed send later, not at once
    next_weekly_at: datetime | None = None


async def release(db: AsyncSession, rows: Sequence[Release], now: datetime) -> None:
    """Store each person's next send and nudge times and end the lease.

    Guarded by the version read at claim time: if a command changed the person meanwhile
    (/pause, /time), their change wins and the lease simply runs out; the next claim then sees
    today's session and does not send twice.
    """
    if not rows:
        return
    await db.execute(
        update(_patients)
        .where(_patients.c.id == bindparam("p_id"), _patients.c.version == bindparam("p_version"))
        .values(
            next_send_at=bindparam("p_next"),
            nudge_at=bindparam("p_nudge"),
            next_weekly_at=bindparam("p_weekly"),
            claimed_until=bindparam("p_claim"),
            claimed_by=None,
            version=_patients.c.version + 1,
            updated_at=now,
        ),
        [
            {
                "p_id": r.patient_id,
                "p_version": r.version,
                "p_next": r.next_send_at,
                "p_nudge": r.nudge_at,
                "p_weekly": r.next_weekly_at,
                "p_claim": r.claimed_until,
            }
            for r in rows
        ],
    )


async def mark_blocked(db: AsyncSession, patient_ids: Sequence[int], now: datetime) -> None:
    """These people blocked the bot (Forbidden): inactive until they write again."""
    if not patient_ids:
        return
    await db.execute(
        update(_patients)
        .where(_patients.c.id.in_(patient_ids), _patients.c.blocked_at.is_(None))
        .values(blocked_at=now, nudge_at=None, version=_patients.c.version + 1, updated_at=now)
    )


async def set_message_ids(db: AsyncSession, pairs: Sequence[tuple[int, int]]) -> None:
    """Store the Telegram message id of each sent routine: (session id, message id)."""
    if not pairs:
        return
    await db.execute(
        update(_sessions)
        .where(_sessions.c.id == bindparam("s_id"))
        .values(message_id=bindparam("s_message")),
        [{"s_id": session_id, "s_message": message_id} for session_id, message_id in pairs],
    )


async def mark_nudged(db: AsyncSession, session_ids: Sequence[int], now: datetime) -> None:
    if not session_ids:
        return
    await db.execute(update(_sessions).where(_sessions.c.id.in_(session_ids)).values(nudged_at=now))


async def delete_unsent(db: AsyncSession, session_ids: Sequence[int]) -> None:
    """Remove dispatcher sessions whose routine never went out (the person must not see a gap)."""
    if not session_ids:
        return
    await db.execute(
        delete(_sessions).where(
            _sessions.c.id.in_(session_ids),
            _sessions.c.message_id.is_(None),
            _sessions.c.sent_by == DISPATCHER,
        )
    )


async def people_by_status(db: AsyncSession) -> dict[str, int]:
    """How many people in each status (the blocked counted apart), for the metrics."""
    result = await db.execute(
        select(_patients.c.status, _patients.c.blocked_at.is_not(None), func.count()).group_by(
            _patients.c.status, _patients.c.blocked_at.is_not(None)
        )
    )
    counts: dict[str, int] = {}
    for status, blocked, count in result.all():
        key = "blocked" if blocked else str(getattr(status, "value", status))
        counts[key] = counts.get(key, 0) + int(count)
    return counts
