"""Pure scheduling math: when, in UTC, a person's local reminder time falls.

Nothing here reads a clock. Every "now" is passed in as an aware datetime, and every
instant returned is an aware datetime in UTC, so the database and the dispatcher job
never see local or naive times.

Wall-clock rules, applied on each local date:

* A reminder time that exists once that day is used as is.
* A time that occurs twice (the clocks go back) uses the FIRST occurrence (``fold=0``),
  so the person is never messaged twice.
* A time that does not exist (the clocks go forward over it) moves FORWARD to the first
  instant after the gap, e.g. 02:30 in Paris on the spring-forward night becomes 03:00.
  In the rare case where the gap runs past midnight, the send falls on the last minute
  before the gap instead, so it stays on its own local date.
* A local date that never happened at all (Pacific/Apia skipped 2011-12-30) has no send.

Together these make "exactly one send per existing local date" hold across every change.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "CatchUp",
    "NonexistentLocalDate",
    "catch_up",
    "first_send_at",
    "local_date",
    "local_now",
    "local_send_instant",
    "next_send_at",
    "nudge_at",
    "resume_send_at",
    "weekly_send_at",
    "weekly_weekday",
]

#: How many local dates ahead ``next_send_at`` looks: one is normal, a skipped date needs two.
_MAX_DATES_AHEAD = 7


class CatchUp(enum.Enum):
    """What to do with a morning send that the bot is late for (after downtime)."""

    SEND = "send"
    """Still the same local day and not too late: send it now."""
    MISSED = "missed"
    """Too late: skip it and schedule ``next_send_at(reminder, zone, now)``."""


class NonexistentLocalDate(ValueError):
    """The local date never happened in that zone (the zone skipped a whole day)."""

    def __init__(self, day: date, zone: ZoneInfo) -> None:
        super().__init__(f"{day.isoformat()} does not exist in {zone.key}")
        self.day = day
        self.zone = zone


def _require_aware(value: datetime, name: str) -> datetime:
    # astimezone() on a naive datetime silently assumes the server's zone: refuse instead.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value


def local_now(now: datetime, zone: ZoneInfo) -> datetime:
    """The wall-clock time in ``zone`` at the aware instant ``now``."""
    return _require_aware(now, "now").astimezone(zone)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """The local calendar date in ``zone`` at the aware ``instant``."""
    return local_now(instant, zone).date()


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant where the forward jump that skips the naive ``wall`` time lands.

    In a gap, ``fold=0`` reads the wall time with the offset from before the jump and
    ``fold=1`` with the offset from after it, so the transition lies between the two
    readings. Offsets can carry seconds (old LMT offsets), so search by whole seconds.
    """
    before = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    after = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(before, after), max(before, after)
    old_offset = low.astimezone(zone).utcoffset()
    # Invariant: the offset at `low` is still the old one, at `high` it is the new one.
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            middle = low + timedelta(seconds=1)
        if middle.astimezone(zone).utcoffset() == old_offset:
            low = middle
        else:
            high = middle
    return high


def _send_on(day: date, reminder: time, zone: ZoneInfo) -> datetime | None:
    """The UTC send instant for the local date ``day``, or None if that date never existed."""
    wall = datetime.combine(day, reminder.replace(tzinfo=None, fold=0))
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant  # exists; fold=0 already picked the first of two occurrences
    after_gap = _end_of_gap(wall, zone)
    if after_gap.astimezone(zone).date() == day:
        return after_gap
    # The gap runs past midnight: keep the send on its own date, just before the jump.
    before_gap = after_gap - timedelta(minutes=1)
    if before_gap.astimezone(zone).date() == day:
        return before_gap
    return None


def local_send_instant(day: date, reminder: time, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of ``reminder`` on the local date ``day`` in ``zone``.

    Applies the DST rules in the module docstring. Raises ``NonexistentLocalDate`` for a
    date the zone skipped entirely.
    """
    instant = _send_on(day, reminder, zone)
    if instant is None:
        raise NonexistentLocalDate(day, zone)
    return instant


def _first_send_from(day: date, reminder: time, zone: ZoneInfo) -> datetime:
    """The send instant on ``day``, or on the first later local date that exists."""
    for offset in range(_MAX_DATES_AHEAD):
        instant = _send_on(day + timedelta(days=offset), reminder, zone)
        if instant is not None:
            return instant
    raise NonexistentLocalDate(day, zone)  # pragma: no cover - no zone skips a week


def next_send_at(reminder: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first send instant strictly after the aware instant ``after``.

    Chaining ``next_send_at(reminder, zone, previous)`` yields exactly one send per local
    date: never two on one date, never a date without one (other than a skipped date).
    """
    _require_aware(after, "after")
    day = local_date(after, zone)
    for offset in range(_MAX_DATES_AHEAD):
        instant = _send_on(day + timedelta(days=offset), reminder, zone)
        if instant is not None and instant > after:
            return instant
    raise NonexistentLocalDate(day, zone)  # pragma: no cover - no zone skips a week


def first_send_at(reminder: time, zone: ZoneInfo, now: datetime, *, start_today: bool) -> datetime:
    """The first send for a person who just finished setting up.

    With ``start_today`` the first send is today's, if today's time has not passed yet
    (a send due exactly ``now`` counts as not passed); otherwise it is the next local day's.
    """
    today = local_date(now, zone)
    if start_today:
        instant = _send_on(today, reminder, zone)
        if instant is not None and instant >= now:
            return instant
    return _first_send_from(today + timedelta(days=1), reminder, zone)


def resume_send_at(until: date, reminder: time, zone: ZoneInfo) -> datetime:
    """The first send after a pause that lasts until the local date ``until``.

    The person gets that date's send (at their reminder time), or the next existing
    date's if the zone skipped ``until``.
    """
    return _first_send_from(until, reminder, zone)


def catch_up(
    due_at: datetime,
    now: datetime,
    zone: ZoneInfo,
    cutoff: time = time(20, 0),
    *,
    grace: timedelta = timedelta(hours=1),
) -> CatchUp:
    """Decide whether a send due at ``due_at`` is still worth sending at ``now``.

    SEND when ``now`` is on the same local date as ``due_at`` and either local ``now`` is
    before ``cutoff`` or the send is less than ``grace`` late. The grace keeps an evening
    reminder (say 21:00, after the cutoff) from being dropped for a few minutes of delay;
    a morning reminder is never sent after the cutoff. A ``now`` before ``due_at`` (clock
    skew between instances) counts as on time. Otherwise MISSED, and the caller schedules
    ``next_send_at(reminder, zone, now)``.
    """
    _require_aware(due_at, "due_at")
    _require_aware(now, "now")
    if now <= due_at:
        return CatchUp.SEND
    if local_date(now, zone) != local_date(due_at, zone):
        return CatchUp.MISSED
    if local_now(now, zone).time() < cutoff or now - due_at < grace:
        return CatchUp.SEND
    return CatchUp.MISSED


def nudge_at(
    sent_at: datetime,
    zone: ZoneInfo,
    delay: timedelta = timedelta(hours=3),
    latest: time = time(21, 0),
) -> datetime | None:
    """When to remind a person who has not answered the routine sent at ``sent_at``.

    ``sent_at + delay``, unless that is at or after ``latest`` local time on the local
    date of ``sent_at`` (or on a later date): then None, because nobody should be nudged
    late in the evening.
    """
    _require_aware(sent_at, "sent_at")
    candidate = (sent_at + delay).astimezone(UTC)
    limit = _send_on(local_date(sent_at, zone), latest, zone)
    if limit is None or candidate >= limit:
        return None
    return candidate


def weekly_weekday(chosen: int | None, program_start: date | None, today: date) -> int:
    """The weekday of the weekly look back: the one the person chose, else the program's
    seventh day (the end of its first week)."""
    if chosen is not None:
        return chosen
    start = program_start or today
    return (start + timedelta(days=6)).weekday()


def weekly_send_at(weekday: int, reminder: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first send strictly after ``after`` on a local ``weekday`` (0 = Monday), at the
    reminder time: the weekly look back. DST rules as for the daily send."""
    _require_aware(after, "after")
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0-6, got {weekday}")
    day = local_date(after, zone)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    for _ in range(3):
        instant = _send_on(day, reminder, zone)
        if instant is not None and instant > after:
            return instant
        day += timedelta(days=7)
    raise NonexistentLocalDate(day, zone)  # pragma: no cover - no zone skips three weeks
