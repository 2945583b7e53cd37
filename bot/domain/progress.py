"""A person's progress as plain values: the trend, a week's window, the chart's series, the table.

Pure: no Telegram, no database, no clock reads, no drawing. The database side builds a
``Progress``; the chart, its caption, the weekly look back and the clinician's PDF
(bot/rendering/charts.py and report.py) read only what these functions return, so tests can
check "which points, which marks, which rows" without pixels. "Improved" and "worse" are the
safety engine's (clinical.md §4, bot/domain/safety.py), measured against the baseline.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from statistics import median
from types import MappingProxyType

from bot.domain.function import FunctionSeries
from bot.domain.program import EXERCISE_ORDER, ExclusionReason
from bot.domain.safety import (
    EXTENT,
    MEASURES,
    RULES_BY_ID,
    SIGNALS,
    Ratings,
    compare,
    fell_meaningfully,
)

KINDS = ("baseline", "session", "adhoc")
ROUTINE_OUTCOMES = ("done", "stopped", "skipped", "no_answer", "rest")
MARK_CHANGES = ("added", "left_out")
# Most severe first: the order the report lists them in, and the order holds are checked.
SAFETY_TIERS = ("emergency", "urgent", "soon", "stop_exercise", "review", "watch")
# Tiers that stop the routine until the person says a professional has seen them (clinical.md §1).
HOLDING_TIERS = frozenset({"emergency", "urgent", "soon"})
SYMPTOM_DURATIONS = ("lt2w", "2to6w", "6to12w", "gt3m")
CHART_MEASURES: tuple[str, ...] = (*MEASURES, EXTENT)  # pain, numbness, tingling, extent

WEEK_DAYS = 7
# A chart spans at least a week, so two check-ins on one day do not fill the whole width.
MIN_CHART_DAYS = 7


# --- Inputs (built by the database side) ---------------------------------------------------------


@dataclass(frozen=True)
class CheckInPoint:
    """One set of ratings (clinical.md §3)."""

    at: datetime  # aware, UTC
    local_date: date  # in the person's zone
    kind: str  # "baseline" | "session" (after a routine) | "adhoc"
    pain: int
    numbness: int
    tingling: int
    extent: int  # furthest point 0-5
    day: int | None  # program day number of the routine it follows, if any
    routine_outcome: str | None  # "done" | "stopped" | "skipped" | "no_answer" | None
    signals: tuple[str, ...] = ()  # stop-signal ids ticked

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("CheckInPoint.at must be an aware datetime")
        if self.kind not in KINDS:
            raise ValueError(f"unknown check-in kind {self.kind!r}")
        if self.routine_outcome is not None and self.routine_outcome not in ROUTINE_OUTCOMES:
            raise ValueError(f"unknown routine outcome {self.routine_outcome!r}")
        Ratings(self.pain, self.numbness, self.tingling, self.extent)  # checks types and ranges

    @property
    def ratings(self) -> Ratings:
        return Ratings(self.pain, self.numbness, self.tingling, self.extent)

    def value(self, measure: str) -> int:
        """The rating of ``measure`` ("pain", "numbness", "tingling" or "extent")."""
        if measure not in CHART_MEASURES:
            raise KeyError(measure)
        value: int = getattr(self, measure)
        return value


@dataclass(frozen=True)
class ExerciseMark:
    """The day an exercise was added to the routine or left out of it."""

    local_date: date
    exercise: int
    change: str  # "added" | "left_out"
    reason: str | None = None  # for left_out: "worse_after_adding" | "stopped_during" | ...

    def __post_init__(self) -> None:
        if self.change not in MARK_CHANGES:
            raise ValueError(f"unknown exercise change {self.change!r}")
        if self.exercise not in EXERCISE_ORDER:
            raise ValueError(f"unknown exercise {self.exercise}")
        if self.reason is not None:
            ExclusionReason(self.reason)  # raises ValueError on an unknown reason


@dataclass(frozen=True)
class SafetyMark:
    """A stored verdict above "carry on": its tier, its rules and the signals behind it."""

    local_date: date
    tier: str  # "emergency" | "urgent" | "soon" | "stop_exercise" | "review" | "watch"
    reasons: tuple[str, ...]  # safety rule ids, most severe first
    signals: tuple[str, ...] = ()
    released_on: date | None = None

    def __post_init__(self) -> None:
        if self.tier not in SAFETY_TIERS:
            raise ValueError(f"unknown safety tier {self.tier!r}")

    @property
    def holds(self) -> bool:
        """Whether this verdict still keeps the routine on hold (no release recorded)."""
        return self.tier in HOLDING_TIERS and self.released_on is None


@dataclass(frozen=True)
class ProgramDay:
    """One program day: the routine sent on that local date and what became of it."""

    local_date: date
    day: int  # program day number
    outcome: str | None  # ROUTINE_OUTCOMES, or None (sent today, not answered yet)

    def __post_init__(self) -> None:
        if self.outcome is not None and self.outcome not in ROUTINE_OUTCOMES:
            raise ValueError(f"unknown routine outcome {self.outcome!r}")


@dataclass(frozen=True)
class Screening:
    """The warning-sign questions at the start: which signs were ticked, and the advice given."""

    local_date: date
    signals: tuple[str, ...]  # stop-signal ids ticked; empty: none
    tier: str | None = None  # the verdict's tier when advice was given; None: none needed


@dataclass(frozen=True)
class Progress:
    """Everything the progress views show about one person, as of ``today``."""

    language: str  # "en" (later "fr"): for dates (Babel) and texts
    time_zone: str  # IANA
    today: date  # local date the summary is made
    program_start: date | None
    symptom_duration: str | None  # "lt2w" | "2to6w" | "6to12w" | "gt3m" | None (not asked)
    baseline: CheckInPoint | None
    check_ins: tuple[CheckInPoint, ...]  # after the baseline, oldest first
    marks: tuple[ExerciseMark, ...]
    safety: tuple[SafetyMark, ...]
    routines_sent: int
    routines_done: int
    routines_stopped: int
    routines_skipped: int
    exercises_in_routine: tuple[int, ...]  # today's routine
    exercises_left_out: tuple[tuple[int, str], ...]  # (exercise id, reason)
    symptom_side: str | None = None  # "left" | "right" | None (not said yet)
    # Every routine sent, one per program day, oldest first: skipped and unanswered days too.
    days: tuple[ProgramDay, ...] = ()
    screening: Screening | None = None
    function: tuple[FunctionSeries, ...] = ()  # PSFS activities (empty: none named)

    def __post_init__(self) -> None:
        if self.symptom_duration is not None and self.symptom_duration not in SYMPTOM_DURATIONS:
            raise ValueError(f"unknown symptom duration {self.symptom_duration!r}")
        if self.symptom_side not in (None, "left", "right"):
            raise ValueError(f"unknown symptom side {self.symptom_side!r}")
        counts = (self.routines_done, self.routines_stopped, self.routines_skipped)
        if min(self.routines_sent, *counts) < 0:
            raise ValueError("routine counts cannot be negative")

    @property
    def points(self) -> tuple[CheckInPoint, ...]:
        """Every set of ratings, the baseline first."""
        if self.baseline is None:
            return self.check_ins
        return (self.baseline, *self.check_ins)

    @property
    def routines_unanswered(self) -> int:
        """Routines sent that were neither done, stopped nor skipped."""
        answered = self.routines_done + self.routines_stopped + self.routines_skipped
        return max(0, self.routines_sent - answered)

    @property
    def holding(self) -> SafetyMark | None:
        """The latest verdict that still keeps the routine on hold, if any."""
        holds = [mark for mark in self.safety if mark.holds]
        return max(holds, key=lambda m: m.local_date) if holds else None


# --- The trend -----------------------------------------------------------------------------------


class Direction(StrEnum):
    """How one measure moved from the start to the latest check-in."""

    ROSE = "rose"  # counts as worse (clinical.md §4)
    ROSE_A_LITTLE = "rose_a_little"  # a smaller rise: "watch"
    SAME = "same"
    FELL_A_LITTLE = "fell_a_little"  # lower, but not by 2 points or 30%
    FELL = "fell"  # down by 2 points or 30% (for the furthest point: any level up the leg)


class Status(StrEnum):
    """The overall trend, in the safety engine's words."""

    IMPROVED = "improved"  # pain meaningfully lower and nothing worse
    STEADY = "steady"
    WATCH = "watch"  # a smaller rise somewhere, nothing worse
    WORSE = "worse"  # a measure up by 2 points or 30%, or further down the leg


@dataclass(frozen=True)
class MeasureChange:
    measure: str  # "pain" | "numbness" | "tingling" | "extent"
    start: int
    latest: int
    direction: Direction

    @property
    def change(self) -> int:
        """Latest minus start: negative is lower (for the furthest point: nearer the back)."""
        return self.latest - self.start


@dataclass(frozen=True)
class Trend:
    """The start (the baseline) against the latest check-in.

    Without a baseline the first check-in is the start. ``status`` is None when there are fewer
    than two sets of ratings, and then ``changes`` is empty.
    """

    start: CheckInPoint | None
    latest: CheckInPoint | None
    status: Status | None
    changes: tuple[MeasureChange, ...]  # pain, numbness, tingling, extent
    centralised: bool  # the furthest point moved up toward the back
    peripheralised: bool  # ... or down the leg, which is worse even when the ratings fall

    @property
    def known(self) -> bool:
        return self.status is not None

    @property
    def improved(self) -> bool:
        return self.status is Status.IMPROVED

    @property
    def worse(self) -> bool:
        return self.status is Status.WORSE

    def change(self, measure: str) -> MeasureChange:
        for change in self.changes:
            if change.measure == measure:
                return change
        raise KeyError(f"no change for {measure!r} (trend not known)")

    @property
    def worse_measures(self) -> tuple[str, ...]:
        return tuple(c.measure for c in self.changes if c.direction is Direction.ROSE)


def _direction(measure: str, start: int, latest: int, worse: Collection[str]) -> Direction:
    if measure in worse:
        return Direction.ROSE
    if latest > start:
        return Direction.ROSE_A_LITTLE
    if latest == start:
        return Direction.SAME
    if measure == EXTENT or fell_meaningfully(start, latest):
        return Direction.FELL
    return Direction.FELL_A_LITTLE


def trend(progress: Progress) -> Trend:
    """The start against the latest check-in, with clinical.md §4's meaning of each change.

    Uses the safety engine's ``compare`` against the baseline alone, so "worse" includes
    peripheralisation and the small pain rise that centralisation excuses is "watch", exactly
    as in the verdicts the person was given.
    """
    points = progress.points
    if len(points) < 2:
        return Trend(points[0] if points else None, None, None, (), False, False)
    start, latest = points[0], points[-1]
    comparison = compare(start.ratings, None, latest.ratings)
    changes = tuple(
        MeasureChange(
            m,
            start.value(m),
            latest.value(m),
            _direction(m, start.value(m), latest.value(m), comparison.worse),
        )
        for m in CHART_MEASURES
    )
    if comparison.is_worse:
        status = Status.WORSE
    elif comparison.improved:
        status = Status.IMPROVED
    elif comparison.small_rise:
        status = Status.WATCH
    else:
        status = Status.STEADY
    return Trend(
        start=start,
        latest=latest,
        status=status,
        changes=changes,
        centralised=latest.extent < start.extent,
        peripheralised=EXTENT in comparison.worse,
    )


# --- A week's window -----------------------------------------------------------------------------


def week_dates(until: date) -> tuple[date, date]:
    """The first and last local date of the 7 days ending ``until``."""
    return until - timedelta(days=WEEK_DAYS - 1), until


def week(progress: Progress, until: date) -> Progress:
    """The same summary restricted to the 7 local days ending ``until``, keeping the baseline.

    Check-ins, exercise marks and safety marks outside the window are dropped. The routine
    counts become what the window's check-ins show (one routine per program day and date, its
    latest outcome): a routine with no check-in at all is not visible here, so a caller that
    knows the week's counts from its sessions should set them with ``dataclasses.replace``.
    """
    first, last = week_dates(until)

    def inside(day: date) -> bool:
        return first <= day <= last

    check_ins = tuple(c for c in progress.check_ins if inside(c.local_date))
    days = tuple(d for d in progress.days if inside(d.local_date))
    if progress.days:
        tally = [d.outcome or "no_answer" for d in days if d.outcome != "rest"]
    else:
        outcomes: dict[tuple[date, int | None], str] = {}
        for check_in in check_ins:
            if check_in.routine_outcome is not None:
                outcomes[(check_in.local_date, check_in.day)] = check_in.routine_outcome
        tally = list(outcomes.values())
    return replace(
        progress,
        check_ins=check_ins,
        days=days,
        marks=tuple(m for m in progress.marks if inside(m.local_date)),
        safety=tuple(s for s in progress.safety if inside(s.local_date)),
        routines_sent=len(tally),
        routines_done=tally.count("done"),
        routines_stopped=tally.count("stopped"),
        routines_skipped=tally.count("skipped"),
    )


# --- What the chart draws ------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    local_date: date
    x: float  # days from the start of the chart's first date, plus the local time of day
    value: int
    kind: str  # "baseline" | "session" | "adhoc"


@dataclass(frozen=True)
class ChartSeries:
    """What the chart draws, on an x axis of days since the start of ``first``."""

    first: date
    last: date  # the last date on the axis, inclusive
    points: Mapping[str, tuple[SeriesPoint, ...]]  # per measure (CHART_MEASURES), oldest first
    baseline: Mapping[str, int]  # the reference values; empty without a baseline
    marks: tuple[ExerciseMark, ...]  # by date
    safety: tuple[SafetyMark, ...]  # by date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def x_of(self, day: date) -> float:
        """Where ``day`` starts on the x axis."""
        return float((day - self.first).days)

    @property
    def dates(self) -> tuple[date, ...]:
        return tuple(self.first + timedelta(days=n) for n in range(self.days))


def _placed(points: Sequence[CheckInPoint], first: date) -> list[float]:
    """Each point's x: the middle of its date, or spread evenly across the date, in time order,
    when there are several that day, so a point sits on its date's tick."""
    per_day: dict[date, list[int]] = {}
    for index, point in enumerate(points):
        per_day.setdefault(point.local_date, []).append(index)
    xs = [0.0] * len(points)
    for day, indexes in per_day.items():
        ordered = sorted(indexes, key=lambda i: points[i].at)
        for rank, index in enumerate(ordered):
            offset = 0.5 if len(ordered) == 1 else 0.2 + 0.6 * rank / (len(ordered) - 1)
            xs[index] = (day - first).days + offset
    return xs


def chart_series(progress: Progress) -> ChartSeries:
    """The points per measure, the baseline references and the marks, on one time axis.

    The axis runs from the earliest date known (baseline, program start, any check-in or mark)
    to the later of today and the latest date, and spans at least ``MIN_CHART_DAYS``. A check-in
    sits in the middle of its date (several on one date spread across it, in time order).
    """
    points = progress.points
    dates = [p.local_date for p in points]
    dates += [m.local_date for m in progress.marks] + [s.local_date for s in progress.safety]
    if progress.program_start is not None:
        dates.append(progress.program_start)
    first = min(dates, default=progress.today)
    last = max([*dates, progress.today])
    last = max(last, first + timedelta(days=MIN_CHART_DAYS - 1))
    placed = list(zip(points, _placed(points, first), strict=True))
    series = {
        m: tuple(SeriesPoint(p.local_date, x, p.value(m), p.kind) for p, x in placed)
        for m in CHART_MEASURES
    }
    baseline = progress.baseline
    references = {} if baseline is None else {m: baseline.value(m) for m in CHART_MEASURES}
    return ChartSeries(
        first=first,
        last=last,
        points=MappingProxyType(series),
        baseline=MappingProxyType(references),
        marks=tuple(sorted(progress.marks, key=lambda m: (m.local_date, m.exercise))),
        safety=tuple(sorted(progress.safety, key=lambda s: s.local_date)),
    )


def runs(points: Sequence[SeriesPoint]) -> tuple[tuple[SeriesPoint, ...], ...]:
    """The stretches a line joins: it breaks wherever a whole day without ratings lies between
    two points (a skipped or unanswered day is a gap, not a joined line)."""
    result: list[list[SeriesPoint]] = []
    for point in points:
        if result and (point.local_date - result[-1][-1].local_date).days <= 1:
            result[-1].append(point)
        else:
            result.append([point])
    return tuple(tuple(run) for run in result)


# --- Warning signs and advice, in date order -----------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One line of the report's "warning signs and advice" list."""

    local_date: date
    kind: str  # "signal" (a stop signal ticked) | "advice" (a verdict)
    tier: str | None  # the signal's or the verdict's tier; None for a signal the engine lacks
    what: str  # the stop-signal id, or the verdict's lead rule id
    exercise: int | None = None  # the exercise the advice left out, when a mark says which
    released_on: date | None = None  # when the hold that advice started was lifted


_EVENT_ORDER = {"signal": 0, "advice": 1}


def _left_out_by(mark: SafetyMark, marks: Iterable[ExerciseMark]) -> int | None:
    """The exercise a verdict left out: a "left_out" mark on its date (its reason if it can)."""
    rule = RULES_BY_ID.get(mark.reasons[0]) if mark.reasons else None
    if rule is None or rule.excludes is None:
        return None
    same_day = [m for m in marks if m.change == "left_out" and m.local_date == mark.local_date]
    matching = [m for m in same_day if m.reason == rule.excludes.value] or same_day
    return matching[0].exercise if matching else None


def events(progress: Progress) -> tuple[Event, ...]:
    """Every stop signal ticked and every verdict given (with the day its hold was lifted).

    A signal appears once per day even when both the check-in and its verdict carry it; on one
    day, the signals come before the advice they led to.
    """
    found: list[Event] = []
    seen: set[tuple[date, str]] = set()

    def signal(day: date, signal_id: str) -> None:
        if (day, signal_id) in seen:
            return
        seen.add((day, signal_id))
        known = SIGNALS.get(signal_id)
        found.append(Event(day, "signal", known.tier.label if known else None, signal_id))

    for point in progress.points:
        for signal_id in point.signals:
            signal(point.local_date, signal_id)
    for mark in progress.safety:
        for signal_id in mark.signals:
            signal(mark.local_date, signal_id)
        lead = mark.reasons[0] if mark.reasons else ""
        exercise = _left_out_by(mark, progress.marks)
        found.append(Event(mark.local_date, "advice", mark.tier, lead, exercise, mark.released_on))
    return tuple(sorted(found, key=lambda e: (e.local_date, _EVENT_ORDER[e.kind])))


# --- The report: program weeks and notable days ---------------------------------------------------

MISSED = frozenset({"skipped", "no_answer"})
MIN_SKIPPED_RUN = 2  # days in a row without a routine done that the report names


@dataclass(frozen=True)
class WeekRow:
    """One program week of the report's table (week 1 starts on the program's first day)."""

    number: int
    first: date
    last: date  # inclusive; the last week ends today
    done: int
    stopped: int
    skipped: int  # skipped or not answered
    pain: float | None  # medians of the week's check-ins; None without any
    numbness: float | None
    tingling: float | None
    furthest: int | None  # the furthest point reached (the highest level) that week
    function: float | None = None  # PSFS: the average of each activity's latest rating that week


def _median(values: Sequence[int]) -> float | None:
    return float(median(values)) if values else None


def week_rows(progress: Progress) -> tuple[WeekRow, ...]:
    """Every program week from the first day to today, none left out, oldest first.

    The weeks start on ``program_start`` (or the first date known); check-ins before it count in
    week 1, the baseline in none (it is the reference, shown apart). Without ``days`` the routine
    counts come from the check-ins' outcomes.
    """
    known = [c.local_date for c in progress.check_ins] + [d.local_date for d in progress.days]
    start = progress.program_start or min(known, default=None)
    if start is None:
        return ()
    end = max([progress.today, *known])
    count = (end - start).days // WEEK_DAYS + 1

    def number(day: date) -> int:
        return max(0, (day - start).days) // WEEK_DAYS

    outcomes: list[dict[tuple[date, int | None], str]] = [{} for _ in range(count)]
    if progress.days:
        for program_day in progress.days:
            outcome = program_day.outcome or "no_answer"
            outcomes[number(program_day.local_date)][(program_day.local_date, None)] = outcome
    else:
        for check_in in progress.check_ins:
            if check_in.routine_outcome is not None:
                key = (check_in.local_date, check_in.day)
                outcomes[number(check_in.local_date)][key] = check_in.routine_outcome
    ratings: list[list[CheckInPoint]] = [[] for _ in range(count)]
    for check_in in progress.check_ins:
        ratings[number(check_in.local_date)].append(check_in)
    rows = []
    for index in range(count):
        first = start + timedelta(days=index * WEEK_DAYS)
        last = min(first + timedelta(days=WEEK_DAYS - 1), end)
        tally = list(outcomes[index].values())
        points = ratings[index]
        latest = [
            [value for day, value in series.ratings if day <= last] for series in progress.function
        ]
        scores = [values[-1] for values in latest if values]
        rows.append(
            WeekRow(
                number=index + 1,
                first=first,
                last=last,
                done=tally.count("done"),
                stopped=tally.count("stopped"),
                skipped=sum(1 for outcome in tally if outcome in MISSED),
                pain=_median([p.pain for p in points]),
                numbness=_median([p.numbness for p in points]),
                tingling=_median([p.tingling for p in points]),
                furthest=max((p.extent for p in points), default=None),
                function=sum(scores) / len(scores) if scores else None,
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class SkippedRun:
    first: date
    last: date
    count: int


def skipped_runs(
    days: Sequence[ProgramDay], minimum: int = MIN_SKIPPED_RUN
) -> tuple[SkippedRun, ...]:
    """Runs of ``minimum`` or more consecutive dates whose routine was skipped or not answered."""
    found: list[SkippedRun] = []
    run: list[ProgramDay] = []

    def close() -> None:
        if len(run) >= minimum:
            found.append(SkippedRun(run[0].local_date, run[-1].local_date, len(run)))

    for program_day in sorted(days, key=lambda d: d.local_date):
        missed = (program_day.outcome or "no_answer") in MISSED
        follows = bool(run) and (program_day.local_date - run[-1].local_date).days == 1
        if missed and follows:
            run.append(program_day)
            continue
        close()
        run = [program_day] if missed else []
    close()
    return tuple(found)


@dataclass(frozen=True)
class Notable:
    """One notable day of the report, in date order."""

    local_date: date
    kind: str  # "added" | "left_out" | "signal" | "advice" | "released" | "skipped"
    exercise: int | None = None  # added or left out; or the exercise an advice left out
    reason: str | None = None  # why an exercise was left out (ExclusionReason value)
    tier: str | None = None  # a signal's or an advice's tier, or the released hold's
    what: str = ""  # the stop-signal id or the advice's lead rule id
    until: date | None = None  # the last day of a skipped run
    count: int = 0  # the days of a skipped run


_NOTABLE_ORDER = {"skipped": 0, "added": 1, "signal": 2, "advice": 3, "left_out": 4, "released": 5}


def notable_days(progress: Progress) -> tuple[Notable, ...]:
    """Every exercise added or left out, stop signal, advice, release and run of skipped days.

    Nothing is grouped or dropped here: the report decides how to fit them and says what it
    could not show.
    """
    found = [
        Notable(m.local_date, m.change, exercise=m.exercise, reason=m.reason)
        for m in progress.marks
    ]
    for event in events(progress):
        found.append(
            Notable(
                event.local_date,
                event.kind,
                exercise=event.exercise,
                tier=event.tier,
                what=event.what,
            )
        )
        if event.released_on is not None:
            found.append(Notable(event.released_on, "released", tier=event.tier, what=event.what))
    for run in skipped_runs(progress.days):
        found.append(Notable(run.first, "skipped", until=run.last, count=run.count))
    return tuple(sorted(found, key=lambda n: (n.local_date, _NOTABLE_ORDER[n.kind])))
