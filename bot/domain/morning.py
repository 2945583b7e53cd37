"""The morning's decisions, pure: for one claimed person at one instant, what is due (the
routine, the next-morning follow-up question, the silence question, a nudge, the weekly look
back, or nothing and why), and when the next morning falls.

Nothing here reads a clock, the database or Telegram: the dispatcher (bot.usecases.morning)
claims, calls ``decide``, sends what it says and records. ``next_morning`` is the one rule for
the next routine's time; the conversation (bot.usecases.turn, bot.usecases.routine) uses it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.program import (
    DayPlan,
    PatientStatus,
    ProgramState,
    plan_day,
    rest_day,
    resume,
    start_program,
)
from bot.domain.silence import Morning, Silence
from bot.domain.silence import after as silence_after
from bot.domain.silence import decide as decide_silence
from bot.domain.timing import (
    CatchUp,
    NonexistentLocalDate,
    catch_up,
    first_send_at,
    local_date,
    local_now,
    local_send_instant,
    next_send_at,
    nudge_at,
    resume_send_at,
    weekly_send_at,
    weekly_weekday,
)

__all__ = [
    "AfterSend",
    "Decision",
    "Kind",
    "NextTimes",
    "Person",
    "Skip",
    "after_send",
    "decide",
    "follow_up_or_routine",
    "next_morning",
    "nudge_session_ok",
    "parse_zone",
    "stored_state",
]


class Skip(StrEnum):
    """Why a due person got no routine (or no nudge) in a pass."""

    PAUSED = "paused"
    SAFETY_HOLD = "safety_hold"
    BLOCKED = "blocked"  # blocked the bot, or the chat is gone
    ONBOARDING = "onboarding"  # still setting up
    ALREADY_SENT = "already_sent_today"
    MISSED = "missed_cutoff"
    NO_ROUTINE = "no_routine"  # the program has nothing to send (all exercises left out)
    INVALID = "invalid_data"  # unreadable program state
    CHAT_GONE = "chat_gone"  # blocked the bot, deleted the account, or "chat not found" now
    FAILED = "failed"  # Telegram kept failing; tried again later
    NUDGE_NOT_NEEDED = "nudge_not_needed"  # answered, off, or no routine today
    NUDGE_TOO_LATE = "nudge_too_late"
    STOPPED = "stopped"  # the process was stopping: handed back unsent
    SILENT = "silent"  # no answer for a week, or "stop the morning messages": until they write


class Kind(StrEnum):
    ROUTINE = "routine"
    FOLLOW_UP = "follow_up"  # "is it still there this morning?" instead of the routine
    NUDGE = "nudge"
    WEEKLY = "weekly"
    SILENCE = "silence"  # "carry on, pause or stop?" instead of the routine, after silent mornings


class Person(Protocol):
    """What the decisions read about a claimed person (db.dispatch.Claimed has it all)."""

    @property
    def status(self) -> PatientStatus: ...
    @property
    def blocked_at(self) -> datetime | None: ...
    @property
    def paused_until(self) -> date | None: ...
    @property
    def next_send_at(self) -> datetime | None: ...
    @property
    def nudge_at(self) -> datetime | None: ...
    @property
    def nudges_enabled(self) -> bool: ...
    @property
    def program_state(self) -> dict[str, Any]: ...
    @property
    def follow_up_report_id(self) -> int | None: ...
    @property
    def weekly_enabled(self) -> bool: ...
    @property
    def weekly_weekday(self) -> int | None: ...
    @property
    def next_weekly_at(self) -> datetime | None: ...
    @property
    def program_started_on(self) -> date | None: ...


@dataclass(slots=True)
class Decision:
    """What one due person gets this pass, and their times once it is through."""

    today: date
    next_send_at: datetime | None  # defaults: the stored times, unchanged
    nudge_at: datetime | None
    next_weekly_at: datetime | None
    kind: Kind | None = None
    skip: Skip | None = None
    routine: DayPlan | None = None
    resumed: ProgramState | None = None  # paused until today: resumed with a welcome back
    rested: ProgramState | None = None  # a rest day: the state once it is sent (it counts)
    silence: Silence | None = None  # stored once this morning is through (bot.domain.silence)
    weekly: bool = False  # the weekly look back is due too (after the routine, if any)


# --- The one rule for the next routine's time ------------------------------------------------


def next_morning(
    reminder: time,
    zone: ZoneInfo,
    now: datetime,
    status: PatientStatus = PatientStatus.ACTIVE,
    paused_until: date | None = None,
    *,
    after_today: bool = False,
) -> datetime | None:
    """The next routine's send time: for an active person the first strictly after ``now``
    (``after_today``: on a later local date than today's, today's routine being out); during a
    pause with an end, the morning it ends; otherwise (paused without an end, a safety hold,
    still setting up) none."""
    if status is PatientStatus.PAUSED:
        return resume_send_at(paused_until, reminder, zone) if paused_until is not None else None
    if status is not PatientStatus.ACTIVE:
        return None
    if after_today:
        return first_send_at(reminder, zone, now, start_today=False)
    return next_send_at(reminder, zone, now)


# --- Reading what is stored --------------------------------------------------------------------


def parse_zone(name: str | None, default: str) -> tuple[ZoneInfo, bool]:
    """The zone ``name`` (``default`` when none is stored), and whether a stored name was
    readable (False: ``default`` is returned instead)."""
    try:
        return ZoneInfo(name or default), True
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default), False


def stored_state(data: Mapping[str, Any] | None, status: PatientStatus) -> ProgramState:
    """The stored program with the person's status (a person who never started gets day 1);
    ValueError when it cannot be read (TypeError too: stored JSON that is not an object)."""
    if not data:
        return replace(start_program(), status=status)
    try:
        return ProgramState.from_json(data, status)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


# --- What is due ---------------------------------------------------------------------------------


def decide(
    person: Person,
    now: datetime,
    zone: ZoneInfo,
    reminder: time,
    *,
    cutoff: time,
    nudge_latest: time,
) -> Decision:
    """Everything about one claimed person that needs no database and no Telegram."""
    today = local_date(now, zone)
    decision = Decision(today, person.next_send_at, person.nudge_at, person.next_weekly_at)
    _weekly(decision, person, now, zone, reminder)
    due = person.next_send_at
    if due is None or due > now:
        return _nudge(decision, person, now, zone, nudge_latest)
    decision.nudge_at = None  # a routine is due; any older nudge is stale now
    held = _held(person, today, now, zone, reminder)
    if held is not None:
        decision.skip, decision.next_send_at = held
        return decision
    effective = _effective_due(due, now, reminder, zone)
    if catch_up(effective, now, zone, cutoff) is CatchUp.MISSED:
        # A paused person stays paused: tomorrow's claim resumes them with the welcome back.
        return _skip(decision, Skip.MISSED, next_morning(reminder, zone, now))
    return _routine(decision, person, now, zone, reminder)


def _held(
    person: Person, today: date, now: datetime, zone: ZoneInfo, reminder: time
) -> tuple[Skip, datetime | None] | None:
    """Why no routine goes to this person this morning whatever their program says, and their
    next time; None when it may."""
    if person.blocked_at is not None:
        # Their time keeps moving, so they resume by themselves once they write again.
        return Skip.BLOCKED, next_morning(reminder, zone, now)
    status = person.status
    if status is PatientStatus.PAUSED:
        until = person.paused_until
        if until is None or until > today:
            return Skip.PAUSED, next_morning(reminder, zone, now, status, until)
        return None  # the pause ends today: resumed below
    if status is PatientStatus.SAFETY_HOLD:
        return Skip.SAFETY_HOLD, next_morning(reminder, zone, now, status)
    if status is not PatientStatus.ACTIVE:
        return Skip.ONBOARDING, next_morning(reminder, zone, now, status)
    return None


def _routine(
    decision: Decision, person: Person, now: datetime, zone: ZoneInfo, reminder: time
) -> Decision:
    tomorrow = next_morning(reminder, zone, now)
    try:
        state = stored_state(person.program_state, PatientStatus.ACTIVE)
    except ValueError:
        return _skip(decision, Skip.INVALID, tomorrow)
    # Silence is noticed: after silent mornings a question instead of the routine, after a
    # week (or "stop") nothing until the person writes or taps.
    silence = Silence.from_state(person.program_state)
    morning = decide_silence(silence, decision.today)
    decision.silence = silence_after(silence, decision.today, morning)
    if morning is Morning.QUIET:
        return _skip(decision, Skip.SILENT, tomorrow)
    if person.status is PatientStatus.PAUSED:
        state = resume(replace(state, status=PatientStatus.PAUSED))
        decision.resumed = state
    decision.next_send_at = tomorrow
    if person.follow_up_report_id is not None:
        decision.kind = Kind.FOLLOW_UP  # confirmed (or dropped) once the report is read
    routine = plan_day(state)
    if not routine.sends_routine and decision.kind is None:
        decision.silence = None  # nothing was sent: the silence is unchanged
        return _skip(decision, Skip.NO_ROUTINE, tomorrow)
    decision.routine = routine
    decision.kind = Kind.SILENCE if morning is Morning.ASK else decision.kind or Kind.ROUTINE
    if decision.kind is Kind.ROUTINE and routine.rest_day:
        decision.rested = rest_day(decision.resumed or state)
        decision.silence = None  # a rest day asks for no answer: the silence is unchanged
    return decision


def _weekly(
    decision: Decision, person: Person, now: datetime, zone: ZoneInfo, reminder: time
) -> None:
    """The weekly look back: due at its time to active people only (never on hold, paused or
    blocked: that week is skipped, the next one planned); planned for anyone active without
    one yet."""
    if not person.weekly_enabled:
        decision.next_weekly_at = None
        return
    active = person.status is PatientStatus.ACTIVE and person.blocked_at is None
    due = person.next_weekly_at
    if due is not None and due <= now:
        decision.weekly = active
    elif due is not None or not active:
        return
    weekday = weekly_weekday(person.weekly_weekday, person.program_started_on, decision.today)
    decision.next_weekly_at = weekly_send_at(weekday, reminder, zone, now)


def _nudge(
    decision: Decision, person: Person, now: datetime, zone: ZoneInfo, latest: time
) -> Decision:
    """No routine due: a nudge, the weekly look back alone, or nothing."""
    if person.nudge_at is None or person.nudge_at > now:
        if decision.weekly:
            decision.kind = Kind.WEEKLY  # only the weekly look back is due
        else:
            decision.skip = Skip.NUDGE_NOT_NEEDED
        return decision
    inactive = person.blocked_at is not None or person.status is not PatientStatus.ACTIVE
    decision.nudge_at = None
    if inactive or not person.nudges_enabled:
        decision.skip = Skip.NUDGE_NOT_NEEDED
    elif local_now(now, zone).time() >= latest:
        decision.skip = Skip.NUDGE_TOO_LATE
    else:
        decision.kind = Kind.NUDGE
    return decision


def _skip(decision: Decision, reason: Skip, next_at: datetime | None) -> Decision:
    decision.skip = reason
    decision.next_send_at = next_at
    return decision


def _effective_due(due: datetime, now: datetime, reminder: time, zone: ZoneInfo) -> datetime:
    """The latest send time that has passed: after a long outage that is today's, not the
    stored (older) one, so today's routine still goes out if it is before the cut-off."""
    try:
        todays = local_send_instant(local_date(now, zone), reminder, zone)
    except NonexistentLocalDate:
        return due
    return todays if due < todays <= now else due


# --- What to send, once the database has been read ------------------------------------------------


def follow_up_or_routine(
    today: date, routine: DayPlan | None, asked_on: date | None
) -> tuple[Kind, Skip | None]:
    """A follow-up question is asked the morning after its report (``asked_on``: the report's
    local date, None when it is gone); asked later the same day or gone, today's routine goes
    as usual, or nothing when there is none."""
    if asked_on is not None and asked_on < today:
        return Kind.FOLLOW_UP, None
    if routine is not None and routine.sends_routine:
        return Kind.ROUTINE, None
    return Kind.FOLLOW_UP, Skip.NO_ROUTINE


def nudge_session_ok(*, answered: bool, nudged: bool, message_id: int | None) -> bool:
    """A nudge goes only under today's routine that went out, unanswered and not nudged yet."""
    return not answered and not nudged and message_id is not None


# --- Once it went out ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NextTimes:
    """A person's times before the send: as decided, and as stored (kept when a send fails)."""

    send: datetime | None
    nudge: datetime | None
    stored_send: datetime | None


@dataclass(frozen=True, slots=True)
class AfterSend:
    """The person's times once a send's outcome is known."""

    skip: Skip | None
    next_send_at: datetime | None
    nudge_at: datetime | None
    retry_at: datetime | None = None


def after_send(
    kind: Kind | None,
    skip: Skip | None,
    next_at: NextTimes,
    *,
    gone: bool,
    now: datetime,
    zone: ZoneInfo,
    nudge_after: timedelta | None,
    nudge_latest: time,
    retry_after: timedelta,
) -> AfterSend:
    """Turn what happened on the wire into the next times: a gone chat gets no nudge (the
    person is skipped as blocked until they write); a failed send stays due and is tried again
    ``retry_after`` later (a failed nudge is not: nudges are a courtesy); a routine sent gets
    its nudge (``nudge_after``: None when the person wants none, or on a rest day)."""
    if gone:
        return AfterSend(Skip.CHAT_GONE, next_at.send, None)
    if skip is Skip.FAILED:
        if kind is Kind.NUDGE:
            return AfterSend(skip, next_at.send, None)
        return AfterSend(skip, next_at.stored_send, next_at.nudge, now + retry_after)
    nudge = next_at.nudge
    if kind is Kind.ROUTINE and nudge_after is not None:
        nudge = nudge_at(now, zone, nudge_after, nudge_latest)
    return AfterSend(skip, next_at.send, nudge)
