"""Tests for the progress data (bot/domain/progress.py): trend, week, series, rows, events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.function import FunctionSeries
from bot.domain.progress import (
    MIN_CHART_DAYS,
    CheckInPoint,
    Direction,
    Event,
    ExerciseMark,
    ProgramDay,
    Progress,
    SafetyMark,
    Status,
    chart_series,
    events,
    notable_days,
    runs,
    skipped_runs,
    trend,
    week,
    week_dates,
    week_rows,
)

ZONE = "Europe/Paris"
START = date(2026, 3, 2)  # a Monday; Paris is UTC+1 until 29 March


def on(day: int) -> date:
    return START + timedelta(days=day)


def point(
    day: int,
    pain: int,
    numbness: int = 2,
    tingling: int = 2,
    extent: int = 3,
    *,
    kind: str = "session",
    hour: int = 9,
    outcome: str | None = "done",
    program_day: int | None = None,
    signals: tuple[str, ...] = (),
) -> CheckInPoint:
    """A check-in ``day`` days after START, at ``hour`` local time."""
    local = on(day)
    at = datetime(local.year, local.month, local.day, hour, tzinfo=ZoneInfo(ZONE))
    if kind != "session":
        outcome = None
    return CheckInPoint(
        at=at.astimezone(UTC),
        local_date=local,
        kind=kind,
        pain=pain,
        numbness=numbness,
        tingling=tingling,
        extent=extent,
        day=(program_day or day) if kind == "session" else None,
        routine_outcome=outcome,
        signals=signals,
    )


def baseline(pain: int = 6, numbness: int = 2, tingling: int = 2, extent: int = 3) -> CheckInPoint:
    return point(0, pain, numbness, tingling, extent, kind="baseline", hour=8)


def make(
    *check_ins: CheckInPoint,
    start: CheckInPoint | None = None,
    marks: tuple[ExerciseMark, ...] = (),
    safety: tuple[SafetyMark, ...] = (),
    today: date | None = None,
) -> Progress:
    last = max((c.local_date for c in check_ins), default=START)
    return Progress(
        language="en",
        time_zone=ZONE,
        today=today or last,
        program_start=START,
        symptom_duration="2to6w",
        baseline=start,
        check_ins=check_ins,
        marks=marks,
        safety=safety,
        routines_sent=len(check_ins),
        routines_done=len(check_ins),
        routines_stopped=0,
        routines_skipped=0,
        exercises_in_routine=(1, 2),
        exercises_left_out=(),
    )


# --- trend ---------------------------------------------------------------------------------------


def test_trend_of_an_empty_history_is_unknown() -> None:
    result = trend(make())
    assert (result.start, result.latest, result.status, result.changes) == (None, None, None, ())
    assert not result.known and not result.improved and not result.worse


def test_trend_with_only_a_baseline_or_only_one_check_in_is_unknown() -> None:
    only_baseline = trend(make(start=baseline()))
    assert only_baseline.start == baseline() and only_baseline.status is None
    assert trend(make(point(1, 4))).status is None
    with pytest.raises(KeyError):
        only_baseline.change("pain")


@pytest.mark.parametrize(
    ("start", "latest", "status", "pain", "centralised", "peripheralised", "worse"),
    [
        # pain numbness tingling extent; clinical.md §4
        ((6, 2, 2, 3), (4, 2, 2, 3), Status.IMPROVED, Direction.FELL, False, False, ()),
        ((6, 2, 2, 3), (5, 2, 2, 3), Status.STEADY, Direction.FELL_A_LITTLE, False, False, ()),
        ((3, 2, 2, 3), (2, 2, 2, 3), Status.IMPROVED, Direction.FELL, False, False, ()),  # 30%
        ((6, 2, 2, 3), (6, 2, 2, 3), Status.STEADY, Direction.SAME, False, False, ()),
        ((5, 2, 2, 3), (6, 2, 2, 3), Status.WATCH, Direction.ROSE_A_LITTLE, False, False, ()),
        ((3, 2, 2, 3), (4, 2, 2, 3), Status.WORSE, Direction.ROSE, False, False, ("pain",)),
        ((6, 2, 2, 3), (8, 2, 2, 3), Status.WORSE, Direction.ROSE, False, False, ("pain",)),
        # Centralisation excuses a one-point pain rise: watched, not worse.
        ((6, 2, 2, 4), (7, 2, 2, 3), Status.WATCH, Direction.ROSE_A_LITTLE, True, False, ()),
        # Peripheralisation is worse even when the ratings fall.
        ((6, 2, 2, 3), (3, 2, 2, 4), Status.WORSE, Direction.FELL, False, True, ("extent",)),
        ((6, 2, 2, 3), (4, 4, 2, 3), Status.WORSE, Direction.FELL, False, False, ("numbness",)),
        ((6, 2, 2, 4), (4, 1, 0, 2), Status.IMPROVED, Direction.FELL, True, False, ()),
    ],
)
def test_trend_compares_the_latest_check_in_with_the_baseline(
    start: tuple[int, int, int, int],
    latest: tuple[int, int, int, int],
    status: Status,
    pain: Direction,
    centralised: bool,
    peripheralised: bool,
    worse: tuple[str, ...],
) -> None:
    middle = point(1, 10, 10, 10, 5)  # only the latest counts, however bad the one before
    result = trend(make(middle, point(2, *latest), start=baseline(*start)))
    assert result.status is status
    assert result.change("pain").direction is pain
    assert (result.centralised, result.peripheralised) == (centralised, peripheralised)
    assert result.worse_measures == worse
    assert result.change("pain").change == latest[0] - start[0]
    assert [c.measure for c in result.changes] == ["pain", "numbness", "tingling", "extent"]


def test_without_a_baseline_the_first_check_in_is_the_start() -> None:
    result = trend(make(point(1, 7), point(2, 6), point(3, 4)))
    assert result.start is not None and result.start.local_date == on(1)
    assert result.status is Status.IMPROVED and result.change("pain").start == 7


# --- week ----------------------------------------------------------------------------------------


def _fortnight() -> Progress:
    check_ins = [point(d, 6 - d // 4) for d in range(1, 15)]
    check_ins[9] = point(10, 5, outcome="stopped")  # day 10: stopped early
    check_ins[11] = point(12, 5, outcome="skipped")
    extra = point(12, 6, kind="adhoc", hour=19)  # same day, no routine of its own
    again = point(13, 3, hour=20)  # a second check-in for day 13's routine
    ordered = sorted([*check_ins, extra, again], key=lambda c: c.at)
    marks = (ExerciseMark(on(1), 1, "added"), ExerciseMark(on(9), 2, "added"))
    safety = (SafetyMark(on(3), "watch", ("small_rise",)), SafetyMark(on(10), "watch", ("x",)))
    return make(*ordered, start=baseline(), marks=marks, safety=safety, today=on(14))


def test_week_dates_are_the_seven_days_ending_until() -> None:
    assert week_dates(on(14)) == (on(8), on(14))


def test_week_keeps_the_baseline_and_only_the_seven_days_ending_until() -> None:
    full = _fortnight()
    result = week(full, on(14))
    assert result.baseline == full.baseline
    days = [(c.local_date - START).days for c in result.check_ins]
    assert days == [8, 9, 10, 11, 12, 12, 13, 13, 14]
    assert [m.local_date for m in result.marks] == [on(9)]
    assert [s.local_date for s in result.safety] == [on(10)]
    assert (result.today, result.program_start) == (full.today, full.program_start)


def test_week_counts_each_routine_once_from_its_check_ins() -> None:
    result = week(_fortnight(), on(14))
    # Routines of days 8-14: one stopped, one skipped, the others done; the ad-hoc check-in and
    # the second check-in of day 13 add none.
    assert (result.routines_sent, result.routines_done) == (7, 5)
    assert (result.routines_stopped, result.routines_skipped) == (1, 1)


def test_the_trend_of_a_week_is_still_measured_from_the_baseline() -> None:
    result = trend(week(_fortnight(), on(14)))
    assert result.start == baseline() and result.latest is not None
    assert result.latest.local_date == on(14)


def test_an_empty_week_has_no_check_ins_and_no_routines() -> None:
    result = week(_fortnight(), on(40))
    assert result.check_ins == () and result.routines_sent == 0
    assert trend(result).status is None


# --- chart_series --------------------------------------------------------------------------------


def test_series_has_a_point_per_check_in_per_measure_baseline_first() -> None:
    progress = make(point(1, 5, 1, 2, 3), point(3, 4, 1, 1, 2), start=baseline(6, 2, 2, 4))
    series = chart_series(progress)
    assert [(p.local_date, p.value, p.kind) for p in series.points["pain"]] == [
        (on(0), 6, "baseline"),
        (on(1), 5, "session"),
        (on(3), 4, "session"),
    ]
    assert [p.value for p in series.points["extent"]] == [4, 3, 2]
    assert [p.value for p in series.points["tingling"]] == [2, 2, 1]
    assert dict(series.baseline) == {"pain": 6, "numbness": 2, "tingling": 2, "extent": 4}


def test_series_places_a_check_in_on_its_date_and_spreads_several_in_time_order() -> None:
    series = chart_series(
        make(point(1, 6, kind="adhoc", hour=21), point(1, 5, hour=9), point(3, 4))
    )
    assert series.first == START  # the program start: day 1 is x 1 to 2, its tick at 1.5
    xs = [p.x for p in series.points["pain"]]
    assert xs == [pytest.approx(1.8), pytest.approx(1.2), pytest.approx(3.5)]


def test_series_spans_from_the_earliest_date_to_today_and_at_least_a_week() -> None:
    progress = make(point(1, 5), point(2, 4), start=baseline(), today=on(2))
    series = chart_series(progress)
    assert (series.first, series.days) == (START, MIN_CHART_DAYS)
    long = chart_series(make(point(1, 5), point(20, 4), start=baseline(), today=on(25)))
    assert (long.first, long.last, long.days) == (START, on(25), 26)
    assert long.x_of(on(3)) == 3.0 and long.dates[-1] == on(25)


def test_series_of_an_empty_history_is_an_empty_week_from_today() -> None:
    series = chart_series(replace(make(), program_start=None, today=on(5)))
    assert all(points == () for points in series.points.values())
    assert dict(series.baseline) == {}
    assert (series.first, series.days) == (on(5), MIN_CHART_DAYS)


def test_series_carries_the_marks_and_safety_marks_in_date_order() -> None:
    marks = (
        ExerciseMark(on(4), 4, "left_out", "worse_after_adding"),
        ExerciseMark(on(1), 1, "added"),
        ExerciseMark(on(3), 4, "added"),
    )
    safety = (SafetyMark(on(6), "soon", ("worse_twice",)), SafetyMark(on(4), "stop_exercise", ()))
    series = chart_series(make(point(1, 5), point(6, 7), marks=marks, safety=safety))
    assert [(m.local_date, m.exercise, m.change) for m in series.marks] == [
        (on(1), 1, "added"),
        (on(3), 4, "added"),
        (on(4), 4, "left_out"),
    ]
    assert [(s.local_date, s.tier) for s in series.safety] == [
        (on(4), "stop_exercise"),
        (on(6), "soon"),
    ]


# --- Program weeks, skipped runs, notable days ---------------------------------------------------


def days_of(outcomes: str) -> tuple[ProgramDay, ...]:
    """Program days from START, one letter each: d done, s skipped, n no answer, x stopped,
    r rest, . not answered yet."""
    names = {"d": "done", "s": "skipped", "n": "no_answer", "x": "stopped", "r": "rest", ".": None}
    return tuple(ProgramDay(on(i), i + 1, names[c]) for i, c in enumerate(outcomes))


@pytest.mark.parametrize(
    ("outcomes", "runs_found"),
    [
        ("", []),
        ("ddd", []),
        ("dsd", []),  # one day alone is not a run
        ("dssd", [(1, 2, 2)]),
        ("snd", [(0, 1, 2)]),  # unanswered counts as skipped
        ("dsssrss", [(1, 3, 3), (5, 6, 2)]),  # a rest day ends a run
        ("ss.", [(0, 2, 3)]),  # today's routine, not answered yet
        ("xss", [(1, 2, 2)]),
    ],
)
def test_skipped_runs_are_two_days_or_more_in_a_row(
    outcomes: str, runs_found: list[tuple[int, int, int]]
) -> None:
    found = skipped_runs(days_of(outcomes))
    assert [((r.first - START).days, (r.last - START).days, r.count) for r in found] == runs_found


def test_skipped_runs_need_consecutive_dates() -> None:
    apart = (ProgramDay(on(0), 1, "skipped"), ProgramDay(on(2), 2, "skipped"))
    assert skipped_runs(apart) == ()


@pytest.mark.parametrize(
    ("outcomes", "pains", "today", "expected"),
    [
        # (done, stopped, skipped, pain median) per week
        ("", {}, 0, [(0, 0, 0, None)]),
        ("ddddddd", {0: 6, 1: 4, 2: 5}, 6, [(7, 0, 0, 5.0)]),
        ("dxddsnd" + "dd", {0: 6, 3: 4, 8: 2}, 8, [(4, 1, 2, 5.0), (2, 0, 0, 2.0)]),
        (
            "sssssss" + "sssssss" + "d",
            {14: 3},
            14,
            [(0, 0, 7, None), (0, 0, 7, None), (1, 0, 0, 3.0)],
        ),
    ],
)
def test_week_rows_count_every_program_week(
    outcomes: str,
    pains: dict[int, int],
    today: int,
    expected: list[tuple[int, int, int, float | None]],
) -> None:
    check_ins = tuple(point(d, pain) for d, pain in sorted(pains.items()))
    progress = replace(make(*check_ins, start=baseline(9), today=on(today)), days=days_of(outcomes))
    rows = week_rows(progress)
    assert [(r.done, r.stopped, r.skipped, r.pain) for r in rows] == expected
    assert [r.number for r in rows] == list(range(1, len(expected) + 1))
    assert rows[0].first == START and rows[-1].last == on(today)


def test_week_rows_median_and_furthest_point_and_function() -> None:
    check_ins = (point(0, 6, 1, 2, 2), point(1, 3, 3, 4, 4), point(2, 4, 2, 2, 1), point(3, 5))
    function = (
        FunctionSeries("Sitting", ((on(0), 3), (on(5), 5), (on(9), 8))),
        FunctionSeries("Walking", ((on(1), 4),)),
    )
    progress = replace(make(*check_ins, today=on(9)), function=function)
    first, second = week_rows(progress)
    assert (first.pain, first.numbness, first.tingling, first.furthest) == (4.5, 2.0, 2.0, 4)
    assert first.function == pytest.approx((5 + 4) / 2)  # each activity's latest that week
    assert (second.pain, second.furthest, second.function) == (None, None, (8 + 4) / 2)
    assert week_rows(replace(progress, function=()))[0].function is None


def test_week_rows_without_program_days_count_the_check_ins_outcomes() -> None:
    progress = make(point(0, 5), point(1, 5, outcome="stopped"), point(2, 4), today=on(2))
    (row,) = week_rows(progress)
    assert (row.done, row.stopped, row.skipped) == (2, 1, 0)


def test_notable_days_list_everything_in_date_order() -> None:
    marks = (
        ExerciseMark(on(0), 1, "added"),
        ExerciseMark(on(3), 2, "added"),
        ExerciseMark(on(4), 2, "left_out", "worse_after_adding"),
    )
    safety = (
        SafetyMark(on(4), "stop_exercise", ("worse_new_exercise",)),
        SafetyMark(on(8), "soon", ("soon_signal",), ("night_pain",), released_on=on(10)),
    )
    progress = replace(
        make(point(1, 5), point(8, 7), marks=marks, safety=safety, today=on(12)),
        days=days_of("ddsssdddddddd"),
    )
    found = [
        ((n.local_date - START).days, n.kind, n.exercise, n.tier, n.count)
        for n in notable_days(progress)
    ]
    assert found == [
        (0, "added", 1, None, 0),
        (2, "skipped", None, None, 3),
        (3, "added", 2, None, 0),
        (4, "advice", 2, "stop_exercise", 0),
        (4, "left_out", 2, None, 0),
        (8, "signal", None, "soon", 0),
        (8, "advice", None, "soon", 0),
        (10, "released", None, "soon", 0),
    ]


def test_a_chart_line_breaks_at_a_day_without_ratings() -> None:
    progress = make(point(1, 5), point(2, 5), point(4, 4), point(4, 3, kind="adhoc", hour=20))
    series = chart_series(progress)
    stretches = runs(series.points["pain"])
    assert [[(p.local_date - START).days for p in run] for run in stretches] == [[1, 2], [4, 4]]


# --- events --------------------------------------------------------------------------------------


def test_events_list_signals_and_advice_in_date_order() -> None:
    check_ins = (point(2, 6, signals=("fever",)), point(5, 8))
    safety = (
        SafetyMark(on(5), "stop_exercise", ("worse_new_exercise",)),
        SafetyMark(on(2), "urgent", ("urgent_signal",), ("fever",), released_on=on(4)),
    )
    marks = (
        ExerciseMark(on(5), 5, "left_out", "stopped_during"),
        ExerciseMark(on(5), 3, "left_out", "worse_after_adding"),
    )
    found = events(make(*check_ins, start=baseline(), marks=marks, safety=safety))
    assert found == (
        Event(on(2), "signal", "urgent", "fever"),  # once, though two sources carry it
        Event(on(2), "advice", "urgent", "urgent_signal", released_on=on(4)),
        Event(on(5), "advice", "stop_exercise", "worse_new_exercise", exercise=3),
    )


def test_events_keep_onboarding_signals_and_unknown_ones() -> None:
    start = replace(baseline(), signals=("age", "no_such_signal"))
    found = events(make(start=start))
    assert found == (
        Event(on(0), "signal", "soon", "age"),
        Event(on(0), "signal", None, "no_such_signal"),
    )


def test_advice_that_left_nothing_out_names_no_exercise() -> None:
    safety = (SafetyMark(on(3), "stop_exercise", ("worse_new_exercise",)),)
    assert events(make(point(3, 8), safety=safety))[0].exercise is None


# --- inputs --------------------------------------------------------------------------------------


def test_progress_knows_a_hold_that_has_not_been_lifted() -> None:
    watch = SafetyMark(on(1), "watch", ("small_rise",))
    soon = SafetyMark(on(2), "soon", ("worse_twice",))
    assert make(safety=(watch,)).holding is None
    assert make(safety=(watch, soon)).holding == soon
    assert make(safety=(replace(soon, released_on=on(4)),)).holding is None


def test_unanswered_routines_are_those_neither_done_stopped_nor_skipped() -> None:
    progress = replace(
        make(), routines_sent=10, routines_done=6, routines_stopped=1, routines_skipped=2
    )
    assert progress.routines_unanswered == 1


@pytest.mark.parametrize(
    "bad",
    [
        lambda: replace(point(1, 5), at=datetime(2026, 3, 3, 9)),  # noqa: DTZ001 - naive on purpose
        lambda: replace(point(1, 5), kind="later"),
        lambda: replace(point(1, 5), pain=11),
        lambda: replace(point(1, 5), extent=6),
        lambda: replace(point(1, 5), routine_outcome="stopped_early"),
        lambda: ExerciseMark(on(1), 1, "removed"),
        lambda: ExerciseMark(on(1), 9, "added"),
        lambda: ExerciseMark(on(1), 1, "left_out", "bored"),
        lambda: SafetyMark(on(1), "panic", ()),
        lambda: replace(make(), symptom_duration="forever"),
        lambda: replace(make(), routines_done=-1),
    ],
)
def test_inputs_that_cannot_be_right_are_refused(bad: object) -> None:
    assert callable(bad)
    with pytest.raises((ValueError, TypeError)):
        bad()
