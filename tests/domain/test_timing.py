"""Scheduling math: DST tables, pause/catch-up/nudge edges and one-send-per-day properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
APIA = ZoneInfo("Pacific/Apia")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def chain(reminder: time, zone: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    sends = []
    for _ in range(count):
        after = next_send_at(reminder, zone, after)
        sends.append(after)
    return sends


# --------------------------------------------------------------------------- local_send_instant


@pytest.mark.parametrize(
    ("day", "reminder", "zone", "expected_utc", "expected_local"),
    [
        # Ordinary days either side of the Paris changes: 08:00 local, UTC moves by an hour.
        (date(2026, 3, 28), time(8), PARIS, utc(2026, 3, 28, 7), "08:00+01:00"),
        (date(2026, 3, 29), time(8), PARIS, utc(2026, 3, 29, 6), "08:00+02:00"),
        (date(2026, 10, 25), time(8), PARIS, utc(2026, 10, 25, 7), "08:00+01:00"),
        # Paris spring-forward night: 02:30 does not exist -> 03:00 local.
        (date(2026, 3, 29), time(2, 30), PARIS, utc(2026, 3, 29, 1), "03:00+02:00"),
        (date(2026, 3, 29), time(2, 0), PARIS, utc(2026, 3, 29, 1), "03:00+02:00"),
        (date(2026, 3, 29), time(2, 59), PARIS, utc(2026, 3, 29, 1), "03:00+02:00"),
        (date(2026, 3, 29), time(3, 0), PARIS, utc(2026, 3, 29, 1), "03:00+02:00"),
        (date(2026, 3, 29), time(1, 59), PARIS, utc(2026, 3, 29, 0, 59), "01:59+01:00"),
        # Paris fall-back night: 02:30 happens twice -> the first one (summer time).
        (date(2026, 10, 25), time(2, 30), PARIS, utc(2026, 10, 25, 0, 30), "02:30+02:00"),
        (date(2026, 10, 25), time(2, 0), PARIS, utc(2026, 10, 25, 0, 0), "02:00+02:00"),
        (date(2026, 10, 25), time(3, 0), PARIS, utc(2026, 10, 25, 2, 0), "03:00+01:00"),
        # New York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00.
        (date(2026, 3, 8), time(2, 15), NEW_YORK, utc(2026, 3, 8, 7), "03:00-04:00"),
        (date(2026, 3, 8), time(8), NEW_YORK, utc(2026, 3, 8, 12), "08:00-04:00"),
        (date(2026, 11, 1), time(1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30), "01:30-04:00"),
        (date(2026, 11, 1), time(8), NEW_YORK, utc(2026, 11, 1, 13), "08:00-05:00"),
        # Kolkata: +05:30 all year.
        (date(2026, 1, 1), time(8), KOLKATA, utc(2026, 1, 1, 2, 30), "08:00+05:30"),
        (date(2026, 7, 1), time(0, 0), KOLKATA, utc(2026, 6, 30, 18, 30), "00:00+05:30"),
        # Lord Howe shifts by 30 minutes: 2026-10-04 02:00 -> 02:30, 2026-04-05 02:00 -> 01:30.
        (date(2026, 10, 4), time(2, 15), LORD_HOWE, utc(2026, 10, 3, 15, 30), "02:30+11:00"),
        (date(2026, 10, 4), time(8), LORD_HOWE, utc(2026, 10, 3, 21), "08:00+11:00"),
        (date(2026, 4, 5), time(1, 45), LORD_HOWE, utc(2026, 4, 4, 14, 45), "01:45+11:00"),
        (date(2026, 4, 5), time(8), LORD_HOWE, utc(2026, 4, 4, 21, 30), "08:00+10:30"),
        # Sao Paulo used to change at midnight: 2018-11-04 00:00 -> 01:00.
        (date(2018, 11, 4), time(0, 30), SAO_PAULO, utc(2018, 11, 4, 3), "01:00-02:00"),
        # ...and 2019-02-17 00:00 -> 2019-02-16 23:00: 23:30 on the 16th happens twice.
        (date(2019, 2, 16), time(23, 30), SAO_PAULO, utc(2019, 2, 17, 1, 30), "23:30-02:00"),
    ],
)
def test_local_send_instant(
    day: date, reminder: time, zone: ZoneInfo, expected_utc: datetime, expected_local: str
) -> None:
    instant = local_send_instant(day, reminder, zone)
    assert instant == expected_utc
    assert instant.tzinfo is UTC
    local = instant.astimezone(zone)
    assert local.date() == day
    assert local.isoformat(timespec="minutes")[11:] == expected_local


def test_apia_skipped_a_whole_day() -> None:
    # Samoa jumped from 2011-12-29 (UTC-10) straight to 2011-12-31 (UTC+14).
    with pytest.raises(NonexistentLocalDate) as raised:
        local_send_instant(date(2011, 12, 30), time(8), APIA)
    assert isinstance(raised.value, ValueError)
    assert raised.value.day == date(2011, 12, 30)
    sends = chain(time(8), APIA, utc(2011, 12, 28), 4)
    assert [s.astimezone(APIA).date() for s in sends] == [
        date(2011, 12, 28),
        date(2011, 12, 29),
        date(2011, 12, 31),
        date(2012, 1, 1),
    ]
    assert all(s.astimezone(APIA).time() == time(8) for s in sends)


def test_a_gap_across_midnight_keeps_the_send_on_its_own_date() -> None:
    # Toronto, 1919-03-30: 23:30 jumped to 00:30 on the 31st. A 23:45 reminder cannot move
    # forward without landing on the 31st (which has its own send), so it goes just before.
    toronto = ZoneInfo("America/Toronto")
    instant = local_send_instant(date(1919, 3, 30), time(23, 45), toronto)
    assert instant.astimezone(toronto).replace(tzinfo=None) == datetime(1919, 3, 30, 23, 29)  # noqa: DTZ001
    sends = chain(time(23, 45), toronto, utc(1919, 3, 29, 12), 3)
    assert [s.astimezone(toronto).date() for s in sends] == [
        date(1919, 3, 29),
        date(1919, 3, 30),
        date(1919, 3, 31),
    ]


def test_time_with_tzinfo_or_fold_is_read_as_a_plain_wall_time() -> None:
    reminder = time(2, 30, tzinfo=UTC, fold=1)
    assert local_send_instant(date(2026, 10, 25), reminder, PARIS) == utc(2026, 10, 25, 0, 30)


# --------------------------------------------------------------------------- explicit DST runs


@pytest.mark.parametrize(
    ("zone", "start", "utc_hours"),
    [
        # The last Sundays of March and October 2026 in Paris, 08:00 every day.
        (PARIS, date(2026, 3, 26), [7, 7, 7, 6, 6, 6]),
        (PARIS, date(2026, 10, 22), [6, 6, 6, 7, 7, 7]),
        (NEW_YORK, date(2026, 3, 6), [13, 13, 12, 12]),
        (NEW_YORK, date(2026, 10, 30), [12, 12, 13, 13]),
        (KOLKATA, date(2026, 3, 27), [2, 2, 2, 2]),
        (LORD_HOWE, date(2026, 10, 2), [21, 21, 21, 21]),  # 21:30Z, 21:30Z, 21:00Z (prev day)
    ],
)
def test_eight_oclock_every_day_across_a_change(
    zone: ZoneInfo, start: date, utc_hours: list[int]
) -> None:
    first = local_send_instant(start, time(8), zone)
    sends = [first, *chain(time(8), zone, first, len(utc_hours) - 1)]
    assert [s.astimezone(zone).date() for s in sends] == [
        start + timedelta(days=n) for n in range(len(utc_hours))
    ]
    assert all(s.astimezone(zone).time() == time(8) for s in sends)
    assert [s.hour for s in sends] == utc_hours


def test_lord_howe_half_hour_shift() -> None:
    first = local_send_instant(date(2026, 10, 3), time(8), LORD_HOWE)
    sends = [first, *chain(time(8), LORD_HOWE, first, 2)]
    assert [s - first for s in sends] == [
        timedelta(0),
        timedelta(hours=23, minutes=30),
        timedelta(hours=47, minutes=30),
    ]


def test_paris_0230_on_the_spring_forward_night_sends_once_at_three() -> None:
    sends = chain(time(2, 30), PARIS, utc(2026, 3, 27, 12), 4)
    assert [f"{s.astimezone(PARIS):%m-%d %H:%M%z}" for s in sends] == [
        "03-28 02:30+0100",
        "03-29 03:00+0200",
        "03-30 02:30+0200",
        "03-31 02:30+0200",
    ]


def test_paris_0230_on_the_fall_back_night_sends_once_at_the_first_0230() -> None:
    sends = chain(time(2, 30), PARIS, utc(2026, 10, 23, 12), 4)
    assert [f"{s.astimezone(PARIS):%m-%d %H:%M%z}" for s in sends] == [
        "10-24 02:30+0200",
        "10-25 02:30+0200",
        "10-26 02:30+0100",
        "10-27 02:30+0100",
    ]
    # Asked right after the first 02:30, the second 02:30 of that night is not a new send.
    assert next_send_at(time(2, 30), PARIS, sends[1]) == sends[2]
    assert next_send_at(time(2, 30), PARIS, utc(2026, 10, 25, 1, 30)) == sends[2]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 6, 1, 5, 59), utc(2026, 6, 1, 6)),  # just before today's
        (utc(2026, 6, 1, 6), utc(2026, 6, 2, 6)),  # exactly at today's: strictly after
        (utc(2026, 6, 1, 6, 0, 1), utc(2026, 6, 2, 6)),
        (utc(2026, 5, 31, 22, 30), utc(2026, 6, 1, 6)),  # already June 1st in Paris
        (datetime(2026, 6, 1, 7, 59, tzinfo=PARIS), utc(2026, 6, 1, 6)),  # any aware zone
    ],
)
def test_next_send_at_is_strictly_after(after: datetime, expected: datetime) -> None:
    assert next_send_at(time(8), PARIS, after) == expected


# --------------------------------------------------------------------------- other helpers


def test_local_now_and_local_date() -> None:
    now = utc(2026, 6, 30, 20)
    assert local_now(now, KOLKATA) == datetime(2026, 7, 1, 1, 30, tzinfo=KOLKATA)
    assert local_now(now, KOLKATA).utcoffset() == timedelta(hours=5, minutes=30)
    assert local_date(now, KOLKATA) == date(2026, 7, 1)
    assert local_date(now, NEW_YORK) == date(2026, 6, 30)


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: local_now(naive, PARIS),
        lambda naive: local_date(naive, PARIS),
        lambda naive: next_send_at(time(8), PARIS, naive),
        lambda naive: first_send_at(time(8), PARIS, naive, start_today=True),
        lambda naive: catch_up(naive, utc(2026, 1, 1), PARIS),
        lambda naive: catch_up(utc(2026, 1, 1), naive, PARIS),
        lambda naive: nudge_at(naive, PARIS),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    naive = datetime(2026, 1, 1, 8)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="aware"):
        call(naive)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("now", "start_today", "expected"),
    [
        (utc(2026, 6, 1, 5), True, utc(2026, 6, 1, 6)),  # 07:00 Paris: today at 08:00
        (utc(2026, 6, 1, 6), True, utc(2026, 6, 1, 6)),  # exactly 08:00: not past yet
        (utc(2026, 6, 1, 6, 0, 1), True, utc(2026, 6, 2, 6)),  # past: tomorrow
        (utc(2026, 6, 1, 5), False, utc(2026, 6, 2, 6)),  # not today: tomorrow
        (utc(2026, 6, 1, 21, 59), False, utc(2026, 6, 2, 6)),  # 23:59 Paris
        (utc(2026, 6, 1, 22), False, utc(2026, 6, 3, 6)),  # 00:00 Paris on June 2nd
        (utc(2026, 3, 28, 12), False, utc(2026, 3, 29, 6)),  # tomorrow is spring-forward day
    ],
)
def test_first_send_at(now: datetime, start_today: bool, expected: datetime) -> None:
    assert first_send_at(time(8), PARIS, now, start_today=start_today) == expected


def test_first_send_at_skips_a_missing_tomorrow() -> None:
    now = datetime(2011, 12, 29, 12, tzinfo=APIA)
    assert first_send_at(time(8), APIA, now, start_today=False) == datetime(
        2011, 12, 31, 8, tzinfo=APIA
    )


@pytest.mark.parametrize(
    ("until", "reminder", "zone", "expected"),
    [
        (date(2026, 7, 1), time(8), PARIS, utc(2026, 7, 1, 6)),
        (date(2026, 3, 29), time(2, 30), PARIS, utc(2026, 3, 29, 1)),
        (date(2026, 7, 1), time(0, 0), KOLKATA, utc(2026, 6, 30, 18, 30)),
        (date(2011, 12, 30), time(8), APIA, datetime(2011, 12, 31, 8, tzinfo=APIA)),
    ],
)
def test_resume_send_at(until: date, reminder: time, zone: ZoneInfo, expected: datetime) -> None:
    assert resume_send_at(until, reminder, zone) == expected


DUE = utc(2026, 6, 1, 6)  # 08:00 in Paris


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE, CatchUp.SEND),
        (DUE - timedelta(seconds=5), CatchUp.SEND),  # clock skew: early counts as on time
        (utc(2026, 6, 1, 7, 30), CatchUp.SEND),  # 09:30 same day
        (utc(2026, 6, 1, 17, 59, 59), CatchUp.SEND),  # 19:59:59
        (utc(2026, 6, 1, 18), CatchUp.MISSED),  # 20:00: the cutoff itself is too late
        (utc(2026, 6, 1, 21, 59), CatchUp.MISSED),
        (utc(2026, 6, 2, 5), CatchUp.MISSED),  # next day 07:00
        (utc(2026, 6, 2, 6, 30), CatchUp.MISSED),  # next day, even before the cutoff
    ],
)
def test_catch_up(now: datetime, expected: CatchUp) -> None:
    assert catch_up(DUE, now, PARIS) is expected


def test_catch_up_custom_cutoff_and_evening_reminders() -> None:
    assert catch_up(DUE, utc(2026, 6, 1, 9), PARIS, cutoff=time(10)) is CatchUp.MISSED
    evening = utc(2026, 6, 1, 19)  # 21:00 in Paris, after the 20:00 cutoff
    assert catch_up(evening, evening + timedelta(minutes=5), PARIS) is CatchUp.SEND
    assert catch_up(evening, evening + timedelta(minutes=59), PARIS) is CatchUp.SEND
    assert catch_up(evening, evening + timedelta(hours=1), PARIS) is CatchUp.MISSED
    late = utc(2026, 6, 1, 21, 50)  # 23:50 in Paris: past midnight is another day
    assert catch_up(late, late + timedelta(minutes=20), PARIS) is CatchUp.MISSED


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (utc(2026, 6, 1, 6), utc(2026, 6, 1, 9)),  # 08:00 -> 11:00
        (utc(2026, 6, 1, 15, 59), utc(2026, 6, 1, 18, 59)),  # 17:59 -> 20:59
        (utc(2026, 6, 1, 16), None),  # 18:00 -> 21:00: at the limit
        (utc(2026, 6, 1, 19), None),  # 21:00 -> 00:00 next day
        (utc(2026, 6, 1, 21, 30), None),  # 23:30 -> 02:30 next day
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 4)),  # 03:00 on spring-forward day
    ],
)
def test_nudge_at(sent_at: datetime, expected: datetime | None) -> None:
    assert nudge_at(sent_at, PARIS) == expected


def test_nudge_at_custom_delay_and_limit() -> None:
    sent = utc(2026, 6, 1, 2, 30)  # 08:00 in Kolkata
    assert nudge_at(sent, KOLKATA, delay=timedelta(hours=2)) == utc(2026, 6, 1, 4, 30)
    assert nudge_at(sent, KOLKATA, latest=time(11)) is None
    assert nudge_at(sent, KOLKATA, latest=time(11, 1)) == utc(2026, 6, 1, 5, 30)


# --------------------------------------------------------------------------- properties

NAMED_ZONES = [
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Pacific/Apia",
    "America/Santiago",
    "America/Havana",
    "America/St_Johns",
    "Asia/Tehran",
    "Asia/Gaza",
    "Africa/Casablanca",
    "Europe/Dublin",
    "Antarctica/Troll",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
]
ALL_ZONES = sorted(
    name
    for name in available_timezones()
    if name not in {"localtime", "posixrules", "Factory"}
    and not name.startswith(("posix/", "right/"))
)
YEARS = st.integers(min_value=2000, max_value=2040)


@cache
def change_days(zone_name: str, year: int) -> tuple[date, ...]:
    """Local dates in ``year`` on which the zone's UTC offset changes (DST or otherwise)."""
    zone = ZoneInfo(zone_name)
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        noon_before = datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone)
        noon = datetime.combine(day, time(12), tzinfo=zone)
        if noon_before.utcoffset() != noon.utcoffset():
            days.append(day)
        day += timedelta(days=1)
    return tuple(days) or (date(year, 3, 1),)


def reminder_exists(day: date, reminder: time, zone: ZoneInfo) -> bool:
    wall = datetime.combine(day, reminder)
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def local_dates_between(start: datetime, end: datetime, zone: ZoneInfo) -> set[date]:
    """Every local date the zone shows between two instants (15-minute steps)."""
    seen = set()
    step = start
    while step <= end:
        seen.add(step.astimezone(zone).date())
        step += timedelta(minutes=15)
    seen.add(end.astimezone(zone).date())
    return seen


def check_one_send_per_day(sends: list[datetime], reminder: time, zone: ZoneInfo) -> None:
    for earlier, later in pairwise(sends):
        assert later > earlier
        first_day, next_day = local_date(earlier, zone), local_date(later, zone)
        assert next_day > first_day
        # Any date between two sends must never have existed on the wall clock.
        skipped = {first_day + timedelta(days=n) for n in range(1, (next_day - first_day).days)}
        if skipped:
            assert not skipped & local_dates_between(earlier, later, zone)
    for send in sends:
        assert send.tzinfo is UTC
        local = send.astimezone(zone)
        wall = datetime.combine(local.date(), reminder.replace(tzinfo=None))
        if reminder_exists(local.date(), reminder, zone):
            assert local.replace(tzinfo=None) == wall
            # The first occurrence: the same wall time did not already happen earlier.
            for hours_back in (0.5, 1, 2, 3):
                earlier = (send - timedelta(hours=hours_back)).astimezone(zone)
                assert earlier.replace(tzinfo=None) != wall
        else:
            # In a gap: the first instant after it (the moment before still reads earlier),
            # or, when the gap runs past midnight, the last minute before it.
            just_before = (send - timedelta(seconds=1)).astimezone(zone).replace(tzinfo=None)
            after_gap = just_before < wall < local.replace(tzinfo=None)
            one_minute_on = (send + timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None)
            before_gap = local.replace(tzinfo=None) < wall and one_minute_on.date() > local.date()
            assert after_gap or before_gap


reminders = st.one_of(
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
    st.sampled_from([time(0), time(0, 30), time(1, 30), time(2), time(2, 30), time(3), time(23)]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone_name=st.sampled_from(NAMED_ZONES),
    year=YEARS,
    pick=st.integers(min_value=0),
    days_before=st.integers(min_value=0, max_value=3),
    hour=st.integers(min_value=0, max_value=23),
    reminder=reminders,
)
def test_one_send_per_local_day_around_every_change(
    zone_name: str, year: int, pick: int, days_before: int, hour: int, reminder: time
) -> None:
    zone = ZoneInfo(zone_name)
    days = change_days(zone_name, year)
    around = days[pick % len(days)] - timedelta(days=days_before)
    start = datetime.combine(around, time(hour), tzinfo=zone).astimezone(UTC)
    sends = chain(reminder, zone, start, 8)
    assert sends[0] > start
    # Nothing was skipped between `start` and the first send either.
    assert local_date(sends[0], zone) - local_date(start, zone) <= timedelta(days=2)
    check_one_send_per_day(sends, reminder, zone)


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ALL_ZONES),
    year=YEARS,
    pick=st.integers(min_value=0),
    reminder=reminders,
)
def test_one_send_per_local_day_in_any_zone(
    zone_name: str, year: int, pick: int, reminder: time
) -> None:
    zone = ZoneInfo(zone_name)
    days = change_days(zone_name, year)
    start = datetime.combine(days[pick % len(days)] - timedelta(days=2), time(12), tzinfo=UTC)
    check_one_send_per_day(chain(reminder, zone, start, 5), reminder, zone)


@settings(max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(NAMED_ZONES),
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2040, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    reminder=reminders,
)
def test_next_send_at_never_skips_a_send_between_calls(
    zone_name: str, moment: datetime, reminder: time
) -> None:
    # Whatever instant we ask from, the answer is the same as from the previous send.
    zone = ZoneInfo(zone_name)
    found = next_send_at(reminder, zone, moment)
    assert found > moment
    day = local_date(found, zone)
    previous_day_send = next_send_at(reminder, zone, found - timedelta(days=2))
    followers = [previous_day_send, *chain(reminder, zone, previous_day_send, 3)]
    assert found in followers
    assert local_send_instant(day, reminder, zone) == found


def test_a_whole_year_of_sends_in_each_named_zone() -> None:
    for name in NAMED_ZONES:
        zone = ZoneInfo(name)
        for reminder in (time(0), time(2, 30), time(8), time(23, 30)):
            sends = chain(reminder, zone, utc(2025, 12, 31, 12), 366)
            check_one_send_per_day(sends, reminder, zone)


# --- The weekly look back ------------------------------------------------------------------------


def test_weekly_send_is_the_next_chosen_weekday_at_the_reminder_time() -> None:
    paris = ZoneInfo("Europe/Paris")
    monday_7 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday 07:00 in Paris
    # Monday at 08:00 Paris: later the same day.
    assert weekly_send_at(0, time(8, 0), paris, monday_7) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    # Sunday: six days later.
    assert weekly_send_at(6, time(8, 0), paris, monday_7) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    # Just after Monday's send: next Monday.
    after = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert weekly_send_at(0, time(8, 0), paris, after) == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)


def test_weekly_send_keeps_the_local_time_across_dst() -> None:
    paris = ZoneInfo("Europe/Paris")
    # Sunday 22 March 08:00 CET, then Sunday 29 March (the clocks go forward that night): 08:00
    # CEST, an hour earlier in UTC; exactly one a week.
    first = weekly_send_at(6, time(8, 0), paris, datetime(2026, 3, 20, tzinfo=UTC))
    assert first == datetime(2026, 3, 22, 7, 0, tzinfo=UTC)
    second = weekly_send_at(6, time(8, 0), paris, first)
    assert second == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert weekly_send_at(6, time(8, 0), paris, second) == datetime(2026, 4, 5, 6, 0, tzinfo=UTC)
