"""The morning's decisions (bot/domain/morning.py), as tables: what a due person gets, why
nothing, and their next times; the one next-send-time rule; what the database's answers and the
send's outcome change."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.morning import (
    Kind,
    NextTimes,
    Skip,
    after_send,
    decide,
    follow_up_or_routine,
    next_morning,
    nudge_session_ok,
    parse_zone,
    stored_state,
)
from bot.domain.program import PatientStatus, ProgramState, plan_day, start_program
from bot.domain.silence import Silence, with_silence

PARIS = ZoneInfo("Europe/Paris")
REMINDER = time(8, 0)
TODAY = date(2026, 3, 2)  # a Monday; Paris is UTC+1
AT_8 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 08:00 in Paris: today's send
TOMORROW_8 = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
CUTOFF = time(20, 0)
LATEST = time(21, 0)

DAY_1 = start_program().to_json()
# Exercise 1 left out, 2 not introduced yet: nothing to do today, the program goes on.
REST = {**DAY_1, "new": None, "excluded": [[1, "stopped_during"]]}
# Every exercise introduced and left out: nothing left to send.
NOTHING_LEFT = {
    **DAY_1,
    "day": 9,
    "unlocked": [1, 2, 3, 4, 5],
    "new": None,
    "excluded": [[x, "stopped_during"] for x in (1, 2, 3, 4, 5)],
}


@dataclass(frozen=True)
class Person:
    status: PatientStatus = PatientStatus.ACTIVE
    blocked_at: datetime | None = None
    paused_until: date | None = None
    next_send_at: datetime | None = AT_8
    nudge_at: datetime | None = None
    nudges_enabled: bool = True
    program_state: dict[str, Any] = field(default_factory=lambda: dict(DAY_1))
    follow_up_report_id: int | None = None
    weekly_enabled: bool = False
    weekly_weekday: int | None = None
    next_weekly_at: datetime | None = None
    program_started_on: date | None = None


def run(person: Person, now: datetime = AT_8) -> Any:
    return decide(person, now, PARIS, REMINDER, cutoff=CUTOFF, nudge_latest=LATEST)


def silent(mornings: int, since: date | None, **flags: bool) -> dict[str, Any]:
    return with_silence(DAY_1, Silence(mornings, since, **flags))


PAUSED = PatientStatus.PAUSED
HOLD = PatientStatus.SAFETY_HOLD
ONBOARDING = PatientStatus.ONBOARDING


@pytest.mark.parametrize(
    ("person", "now", "kind", "skip", "next_send"),
    [
        # An ordinary morning: the routine, the next one tomorrow.
        (Person(), AT_8, Kind.ROUTINE, None, TOMORROW_8),
        # Late after an outage, before the cut-off: caught up.
        (Person(), AT_8 + timedelta(hours=10), Kind.ROUTINE, None, TOMORROW_8),
        # After the cut-off (20:00 local): missed, tomorrow's is planned.
        (Person(), AT_8 + timedelta(hours=12, minutes=1), None, Skip.MISSED, TOMORROW_8),
        # Due yesterday, the bot down overnight: today's time has passed, so today's goes.
        (Person(next_send_at=AT_8 - timedelta(days=1)), AT_8, Kind.ROUTINE, None, TOMORROW_8),
        # Paused without an end: nothing, and no send until they resume.
        (Person(status=PAUSED), AT_8, None, Skip.PAUSED, None),
        # Paused until Thursday: nothing, the send planned on Thursday.
        (
            Person(status=PAUSED, paused_until=date(2026, 3, 5)),
            AT_8,
            None,
            Skip.PAUSED,
            datetime(2026, 3, 5, 7, 0, tzinfo=UTC),
        ),
        # A pause ending today: resumed, the routine (with the welcome back).
        (Person(status=PAUSED, paused_until=TODAY), AT_8, Kind.ROUTINE, None, TOMORROW_8),
        # A safety hold: never the routine, no send planned.
        (Person(status=HOLD), AT_8, None, Skip.SAFETY_HOLD, None),
        # Still setting up.
        (Person(status=ONBOARDING), AT_8, None, Skip.ONBOARDING, None),
        # Blocked the bot: nothing, but their time keeps moving.
        (Person(blocked_at=AT_8 - timedelta(days=3)), AT_8, None, Skip.BLOCKED, TOMORROW_8),
        # An unreadable program: nothing, tomorrow tried again.
        (Person(program_state={"v": 2}), AT_8, None, Skip.INVALID, TOMORROW_8),
        # A report from yesterday: the follow-up question first (checked once the report is read).
        (Person(follow_up_report_id=7), AT_8, Kind.FOLLOW_UP, None, TOMORROW_8),
        # Three silent mornings: the question instead of the routine.
        (
            Person(program_state=silent(3, TODAY - timedelta(days=3))),
            AT_8,
            Kind.SILENCE,
            None,
            TOMORROW_8,
        ),
        # Asked already, four days: the routine again.
        (
            Person(program_state=silent(4, TODAY - timedelta(days=4), asked=True)),
            AT_8,
            Kind.ROUTINE,
            None,
            TOMORROW_8,
        ),
        # A week of silence: nothing until they write.
        (
            Person(program_state=silent(6, TODAY - timedelta(days=7), asked=True)),
            AT_8,
            None,
            Skip.SILENT,
            TOMORROW_8,
        ),
        # "Stop the morning messages".
        (Person(program_state=silent(0, None, stopped=True)), AT_8, None, Skip.SILENT, TOMORROW_8),
        # A rest day is sent (it counts), with no buttons to answer.
        (Person(program_state=REST), AT_8, Kind.ROUTINE, None, TOMORROW_8),
        # Every exercise left out: nothing left to send.
        (Person(program_state=NOTHING_LEFT), AT_8, None, Skip.NO_ROUTINE, TOMORROW_8),
        # Not due yet, no nudge due: nothing, the times unchanged.
        (Person(next_send_at=TOMORROW_8), AT_8, None, Skip.NUDGE_NOT_NEEDED, TOMORROW_8),
    ],
)
def test_what_a_due_morning_sends(
    person: Person, now: datetime, kind: Kind | None, skip: Skip | None, next_send: datetime | None
) -> None:
    decision = run(person, now)
    assert (decision.kind if skip is None else None, decision.skip) == (kind, skip)
    assert decision.next_send_at == next_send
    assert decision.today == now.astimezone(PARIS).date()


def test_a_due_routine_drops_a_stale_nudge() -> None:
    decision = run(Person(nudge_at=AT_8 - timedelta(hours=20)))
    assert (decision.kind, decision.nudge_at) == (Kind.ROUTINE, None)


def test_resumed_after_a_pause_and_the_rest_day_state() -> None:
    resumed = run(Person(status=PAUSED, paused_until=TODAY))
    assert resumed.resumed is not None
    assert resumed.resumed.status is PatientStatus.ACTIVE
    rest = run(Person(program_state=REST))
    assert rest.routine is not None
    assert rest.routine.rest_day
    assert rest.rested is not None
    assert rest.rested.day == 2
    assert rest.silence is None  # a rest day asks for no answer: the silence is unchanged
    plain = run(Person())
    assert (plain.resumed, plain.rested) == (None, None)
    assert plain.silence == Silence(1, TODAY)


NUDGE_DUE = AT_8 + timedelta(hours=3)  # 11:00 in Paris


@pytest.mark.parametrize(
    ("person", "now", "kind", "skip"),
    [
        (Person(next_send_at=TOMORROW_8, nudge_at=NUDGE_DUE), NUDGE_DUE, Kind.NUDGE, None),
        (
            Person(next_send_at=TOMORROW_8, nudge_at=NUDGE_DUE, nudges_enabled=False),
            NUDGE_DUE,
            None,
            Skip.NUDGE_NOT_NEEDED,
        ),
        (
            Person(next_send_at=TOMORROW_8, nudge_at=NUDGE_DUE, status=PAUSED),
            NUDGE_DUE,
            None,
            Skip.NUDGE_NOT_NEEDED,
        ),
        (
            Person(next_send_at=TOMORROW_8, nudge_at=NUDGE_DUE, blocked_at=AT_8),
            NUDGE_DUE,
            None,
            Skip.NUDGE_NOT_NEEDED,
        ),
        # Claimed late in the evening (21:30 local): too late to nudge.
        (
            Person(next_send_at=TOMORROW_8, nudge_at=NUDGE_DUE),
            datetime(2026, 3, 2, 20, 30, tzinfo=UTC),
            None,
            Skip.NUDGE_TOO_LATE,
        ),
    ],
)
def test_nudges(person: Person, now: datetime, kind: Kind | None, skip: Skip | None) -> None:
    decision = run(person, now)
    assert (decision.kind, decision.skip) == (kind, skip)
    assert decision.nudge_at is None  # sent or not, the nudge is through


MONDAY_8 = AT_8


@pytest.mark.parametrize(
    ("person", "kind", "weekly", "next_weekly"),
    [
        # Due with the routine: both go, the next in a week.
        (
            Person(weekly_enabled=True, weekly_weekday=0, next_weekly_at=MONDAY_8),
            Kind.ROUTINE,
            True,
            MONDAY_8 + timedelta(days=7),
        ),
        # Due alone (the routine is tomorrow's): only the look back.
        (
            Person(
                weekly_enabled=True,
                weekly_weekday=0,
                next_weekly_at=MONDAY_8,
                next_send_at=TOMORROW_8,
            ),
            Kind.WEEKLY,
            True,
            MONDAY_8 + timedelta(days=7),
        ),
        # On hold: that week is skipped, the next one planned.
        (
            Person(weekly_enabled=True, weekly_weekday=0, next_weekly_at=MONDAY_8, status=HOLD),
            None,
            False,
            MONDAY_8 + timedelta(days=7),
        ),
        # Active without one yet: planned (on the program's seventh day, a Sunday here).
        (
            Person(weekly_enabled=True, program_started_on=date(2026, 3, 2)),
            Kind.ROUTINE,
            False,
            datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        ),
        # Turned off: none planned.
        (Person(weekly_enabled=False, next_weekly_at=MONDAY_8), Kind.ROUTINE, False, None),
    ],
)
def test_the_weekly_look_back(
    person: Person, kind: Kind | None, weekly: bool, next_weekly: datetime | None
) -> None:
    decision = run(person)
    assert (decision.kind, decision.weekly, decision.next_weekly_at) == (kind, weekly, next_weekly)


AT_7 = AT_8 - timedelta(hours=1)


@pytest.mark.parametrize(
    ("status", "until", "now", "after_today", "expected"),
    [
        (PatientStatus.ACTIVE, None, AT_7, False, AT_8),  # today's has not passed yet
        (PatientStatus.ACTIVE, None, AT_8, False, TOMORROW_8),  # strictly after now
        (PatientStatus.ACTIVE, None, AT_7, True, TOMORROW_8),  # today's is out already
        (PAUSED, None, AT_8, False, None),
        (PAUSED, date(2026, 3, 5), AT_8, False, datetime(2026, 3, 5, 7, 0, tzinfo=UTC)),
        (HOLD, None, AT_8, False, None),
        (ONBOARDING, None, AT_8, False, None),
    ],
)
def test_the_one_next_send_time_rule(
    status: PatientStatus,
    until: date | None,
    now: datetime,
    after_today: bool,
    expected: datetime | None,
) -> None:
    assert next_morning(REMINDER, PARIS, now, status, until, after_today=after_today) == expected


def test_stored_zone_and_state() -> None:
    assert parse_zone("Europe/Paris", "UTC") == (PARIS, True)
    assert parse_zone(None, "Europe/Paris") == (PARIS, True)
    assert parse_zone("Mars/Olympus", "Europe/Paris") == (PARIS, False)
    assert stored_state({}, PAUSED) == replace(start_program(), status=PAUSED)
    assert stored_state(REST, PatientStatus.ACTIVE).excluded_ids == {1}
    for bad in ({"v": 2}, {"v": 99}, {**DAY_1, "unlocked": "x"}, {**DAY_1, "day": 0}):
        with pytest.raises(ValueError):  # noqa: PT011 - every unreadable state says so
            stored_state(bad, PatientStatus.ACTIVE)


ROUTINE_PLAN = plan_day(ProgramState())
NOTHING = plan_day(ProgramState.from_json(NOTHING_LEFT))


@pytest.mark.parametrize(
    ("routine", "asked_on", "expected"),
    [
        (ROUTINE_PLAN, TODAY - timedelta(days=1), (Kind.FOLLOW_UP, None)),  # the morning after
        (ROUTINE_PLAN, TODAY, (Kind.ROUTINE, None)),  # reported today: asked tomorrow
        (ROUTINE_PLAN, None, (Kind.ROUTINE, None)),  # the report is gone
        (NOTHING, None, (Kind.FOLLOW_UP, Skip.NO_ROUTINE)),
    ],
)
def test_follow_up_or_routine(
    routine: Any, asked_on: date | None, expected: tuple[Kind, Skip | None]
) -> None:
    assert follow_up_or_routine(TODAY, routine, asked_on) == expected


@pytest.mark.parametrize(
    ("answered", "nudged", "message_id", "expected"),
    [
        (False, False, 10, True),
        (True, False, 10, False),
        (False, True, 10, False),
        (False, False, None, False),  # the routine never went out
    ],
)
def test_a_nudge_needs_an_open_routine(
    answered: bool, nudged: bool, message_id: int | None, expected: bool
) -> None:
    assert nudge_session_ok(answered=answered, nudged=nudged, message_id=message_id) is expected


STORED = AT_8
TIMES = NextTimes(TOMORROW_8, None, STORED)
THREE_HOURS = timedelta(hours=3)


@pytest.mark.parametrize(
    ("kind", "skip", "gone", "nudge_after", "expected"),
    [
        # Sent: the nudge three hours later.
        (Kind.ROUTINE, None, False, THREE_HOURS, (None, TOMORROW_8, AT_8 + THREE_HOURS, None)),
        # No nudges wanted (or a rest day).
        (Kind.ROUTINE, None, False, None, (None, TOMORROW_8, None, None)),
        (Kind.FOLLOW_UP, None, False, THREE_HOURS, (None, TOMORROW_8, None, None)),
        # The chat is gone.
        (Kind.ROUTINE, None, True, THREE_HOURS, (Skip.CHAT_GONE, TOMORROW_8, None, None)),
        # Failed: still due, tried again five minutes later.
        (
            Kind.ROUTINE,
            Skip.FAILED,
            False,
            THREE_HOURS,
            (Skip.FAILED, STORED, None, AT_8 + timedelta(minutes=5)),
        ),
        # A failed nudge is not tried again.
        (Kind.NUDGE, Skip.FAILED, False, THREE_HOURS, (Skip.FAILED, TOMORROW_8, None, None)),
    ],
)
def test_after_the_send(
    kind: Kind,
    skip: Skip | None,
    gone: bool,
    nudge_after: timedelta | None,
    expected: tuple[Skip | None, datetime | None, datetime | None, datetime | None],
) -> None:
    out = after_send(
        kind,
        skip,
        TIMES,
        gone=gone,
        now=AT_8,
        zone=PARIS,
        nudge_after=nudge_after,
        nudge_latest=LATEST,
        retry_after=timedelta(minutes=5),
    )
    assert (out.skip, out.next_send_at, out.nudge_at, out.retry_at) == expected
