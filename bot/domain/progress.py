"""A person's progress as plain values: the trend, a week's window, the chart's series, the table.

Pure: no Telegram, no database, no clock reads, no drawing. The database side builds a
``Progress``; the chart, its caption, the weekly look back and the clinician's PDF
(bot/rendering/charts.py and report.py) read only what these functions return, so tests can
check "which points, which marks, which rows" without pixels. "Improved" and "worse" are the
safety engine's (clinical.md §4, bot/domain/safety.py), measured against the baseline.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

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
# Where a check-in sits within its day when its time does not match its local date.
MIDDAY = 0.5


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
    # Everyday activities (PSFS, clinical.md §3): the ones in use, with their ratings.
    function: tuple[FunctionSeries, ...] = ()

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
    outcomes: dict[tuple[date, int | None], str] = {}
    for check_in in check_ins:
        if check_in.routine_outcome is not None:
            outcomes[(check_in.local_date, check_in.day)] = check_in.routine_outcome
    tally = list(outcomes.values())
    return replace(
        progress,
        check_ins=check_ins,
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


def _time_of_day(point: CheckInPoint, zone: ZoneInfo) -> float:
    """The fraction of its local day at which a check-in was made."""
    local = point.at.astimezone(zone)
    if local.date() != point.local_date:
        return MIDDAY  # inconsistent inputs: keep the point on its stated date
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return seconds / 86400


def chart_series(progress: Progress) -> ChartSeries:
    """The points per measure, the baseline references and the marks, on one time axis.

    The axis runs from the earliest date known (baseline, program start, any check-in or mark)
    to the later of today and the latest date, and spans at least ``MIN_CHART_DAYS``. Each
    check-in sits at its local time of day, so two on one day are drawn apart.
    """
    points = progress.points
    dates = [p.local_date for p in points]
    dates += [m.local_date for m in progress.marks] + [s.local_date for s in progress.safety]
    if progress.program_start is not None:
        dates.append(progress.program_start)
    first = min(dates, default=progress.today)
    last = max([*dates, progress.today])
    last = max(last, first + timedelta(days=MIN_CHART_DAYS - 1))
    zone = ZoneInfo(progress.time_zone)
    placed = [(p, (p.local_date - first).days + _time_of_day(p, zone)) for p in points]
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


# --- The report's table --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRows:
    """The check-in rows that fit, oldest first: the baseline, then the most recent check-ins.

    ``not_shown`` rows were left out between the baseline and the first recent row; when it is
    not zero, one of the ``max_rows`` was kept free for the line that says so.
    """

    rows: tuple[CheckInPoint, ...]
    not_shown: int

    @property
    def gap_after(self) -> int:
        """How many rows come before the gap (the baseline, if it is kept)."""
        if not self.not_shown or not self.rows or self.rows[0].kind != "baseline":
            return 0
        return 1


def report_rows(progress: Progress, max_rows: int) -> ReportRows:
    """The table rows that fit in ``max_rows`` lines, the gap's own line included.

    The baseline stays (it is the reference every change is measured from) as long as at least
    one recent check-in fits beside it; the earliest check-ins after it are the ones left out.
    """
    points = progress.points
    if len(points) <= max_rows:
        return ReportRows(points, 0)
    room = max(0, max_rows - 1)  # one line says how many are not shown
    keep_baseline = progress.baseline is not None and room >= 2
    head = points[:1] if keep_baseline else ()
    recent = room - len(head)
    tail = points[len(points) - recent :] if recent > 0 else ()
    rows = (*head, *tail)
    return ReportRows(rows, len(points) - len(rows))


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
