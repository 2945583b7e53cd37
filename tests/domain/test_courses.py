"""Five-week simulated courses: the program and the safety engine together, day by day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.program import (
    DayOutcome,
    PatientStatus,
    ProgramState,
    RoutineOutcome,
    plan_day,
    record_day,
    resume,
    start_program,
)
from bot.domain.safety import (
    CheckIn,
    History,
    Ratings,
    StopCause,
    StoppedEarly,
    Tier,
    Verdict,
    assess,
)
from bot.rendering.i18n import texts_for
from bot.rendering.routine_texts import render_routine
from bot.rendering.verdict_texts import render_verdict

ZONE = ZoneInfo("Europe/London")
FIRST_DAY = date(2025, 3, 24)  # British Summer Time starts on day 7 (30 March)
DAYS = 35
BASELINE = Ratings(pain=6, numbness=3, tingling=3, extent=4)
ALL = (1, 2, 3, 4, 5)

GOOD, N, W, R, X, S, U, E = (
    Tier.IMPROVED,
    Tier.NONE,
    Tier.WATCH,
    Tier.REVIEW,
    Tier.STOP_EXERCISE,
    Tier.SOON,
    Tier.URGENT,
    Tier.EMERGENCY,
)


@dataclass(frozen=True)
class Today:
    ratings: Ratings | None = BASELINE
    signals: frozenset[str] = frozenset()
    routine: RoutineOutcome = RoutineOutcome.DONE
    stop: tuple[int, StopCause, bool | None] | None = None
    resume: bool = False  # a professional agreed the person may go on


@dataclass
class Course:
    state: ProgramState = field(default_factory=start_program)
    history: History = field(
        default_factory=lambda: History(BASELINE, at(0, 12), (), at(1, 8), frozenset())
    )
    log: list[tuple[tuple[int, ...], Tier | None]] = field(default_factory=list)
    verdicts: list[Verdict | None] = field(default_factory=list)
    plans: list[ProgramState] = field(default_factory=list)


def at(day: int, hour: int) -> datetime:
    return datetime.combine(FIRST_DAY + timedelta(days=day - 1), time(hour), ZONE)


def run(script: Callable[[int], Today]) -> Course:
    content = texts_for("en")
    course = Course()
    for number in range(1, DAYS + 1):
        today = script(number)
        if today.resume:
            course.state = resume(course.state)
        plan = plan_day(course.state)
        course.plans.append(course.state)
        if not plan.sends_routine:
            course.log.append(((), None))
            course.verdicts.append(None)
            continue
        messages = render_routine(plan, content)
        if plan.exercises:
            # The message under the buttons reminds the person (the heading comes first).
            assert "You may stop any exercise that hurts." in messages[-1]
        evening = at(number, 19)
        if today.stop is not None:
            exercise, cause, settled = today.stop
            report: CheckIn | StoppedEarly = StoppedEarly(evening, exercise, cause, settled)
            outcome = RoutineOutcome.STOPPED
        elif today.ratings is not None:
            report = CheckIn(evening, today.ratings, today.signals, plan.day, plan.new)
            outcome = today.routine
        else:
            course.state = record_day(course.state, DayOutcome(today.routine, None))
            course.log.append((plan.exercises, None))
            course.verdicts.append(None)
            continue
        verdict = assess(course.history, report, evening)
        course.state = record_day(course.state, DayOutcome(outcome, verdict.action))
        if isinstance(report, CheckIn):
            course.history = replace(course.history, check_ins=(*course.history.check_ins, report))
        course.history = replace(course.history, excluded=course.state.excluded_ids)
        render_verdict(verdict, content, zone="Europe/London", next_plan=plan_day(course.state))
        course.log.append((plan.exercises, verdict.tier))
        course.verdicts.append(verdict)
    return course


def expect(*spans: tuple[int, int, tuple[int, ...], Tier | None]) -> list[object]:
    rows: list[object] = []
    for first, last, exercises, tier in spans:
        assert first == len(rows) + 1, "spans must be contiguous"
        rows.extend((exercises, tier) for _ in range(first, last + 1))
    assert len(rows) == DAYS
    return rows


def pain(value: int, extent: int = 4) -> Ratings:
    return replace(BASELINE, pain=value, extent=extent)


def test_steady_improvement() -> None:
    def script(d: int) -> Today:
        if d < 5:
            return Today(pain(6))
        if d < 10:
            return Today(pain(5))
        if d < 15:
            return Today(pain(4))
        return Today(pain(3, extent=3))  # also centralising

    course = run(script)
    assert course.log == expect(
        (1, 1, (1,), N),
        (2, 2, (1, 2), N),
        (3, 3, (1, 2, 3), N),
        (4, 4, (1, 2, 3, 4), N),
        (5, 9, ALL, N),
        (10, 35, ALL, GOOD),
    )
    assert course.state.day == 36 and not course.state.excluded
    assert course.verdicts[14] is not None and course.verdicts[14].centralised


def test_worse_the_day_exercise_three_is_added() -> None:
    def script(d: int) -> Today:
        if d == 3:
            return Today(pain(8))
        return Today(pain(6) if d < 8 else pain(4))

    course = run(script)
    assert course.log == expect(
        (1, 1, (1,), N),
        (2, 2, (1, 2), N),
        (3, 3, (1, 2, 3), X),
        (4, 4, (1, 2), N),  # held: nothing new until a check-in is no longer worse
        (5, 7, (1, 2, 5), N),  # 4 needs 2 and 3 tolerated, so 5 comes next
        (8, 35, (1, 2, 5), GOOD),
    )
    verdict = course.verdicts[2]
    assert verdict is not None and verdict.suspect == 3
    assert {e.exercise for e in course.state.excluded} == {3, 4}


def test_peripheralisation_on_exercise_one() -> None:
    def script(d: int) -> Today:
        calmer = Ratings(pain=5 if d < 10 else 4, numbness=2, tingling=2, extent=4)
        if d == 1:
            return Today(replace(calmer, extent=5))  # lower ratings, but further down the leg
        return Today(calmer)

    course = run(script)
    assert course.log == expect(
        (1, 1, (1,), X),
        (2, 2, (), N),  # a rest day while things settle
        (3, 3, (2,), N),
        (4, 4, (2, 3), N),
        (5, 5, (2, 3, 4), N),
        (6, 9, (2, 3, 4, 5), N),
        (10, 35, (2, 3, 4, 5), GOOD),
    )
    first = course.verdicts[0]
    assert first is not None and first.worse_measures == ("extent",) and first.suspect == 1


def test_stop_signal_on_day_nine() -> None:
    def script(d: int) -> Today:
        if d == 9:
            return Today(pain(4), signals=frozenset({"bladder"}))
        if d == 20:
            return Today(pain(4), resume=True)
        return Today(pain(6) if d < 9 else pain(4))

    course = run(script)
    assert course.log == expect(
        (1, 1, (1,), N),
        (2, 2, (1, 2), N),
        (3, 3, (1, 2, 3), N),
        (4, 4, (1, 2, 3, 4), N),
        (5, 8, ALL, N),
        (9, 9, ALL, E),
        (10, 19, (), None),  # safety hold: no routine is sent
        (20, 35, ALL, GOOD),
    )
    assert course.plans[9].status is PatientStatus.SAFETY_HOLD
    verdict = course.verdicts[8]
    assert verdict is not None
    text = render_verdict(verdict, texts_for("en"), zone="Europe/London")
    assert text.startswith("<b>Stop all exercise now")
    assert "<b>999</b>" in text


def test_had_to_stop_with_sharp_pain_in_exercise_four() -> None:
    def script(d: int) -> Today:
        if d == 4:
            return Today(stop=(4, StopCause.SHARP_PAIN, True))
        return Today(pain(6))

    course = run(script)
    assert course.log == expect(
        (1, 1, (1,), N),
        (2, 2, (1, 2), N),
        (3, 3, (1, 2, 3), N),
        (4, 4, (1, 2, 3, 4), X),
        (5, 5, (1, 2, 3), N),
        (6, 21, (1, 2, 3, 5), N),
        (22, 35, (1, 2, 3, 5), R),  # still no improvement after three weeks
    )
    assert [(e.exercise, e.reason.value) for e in course.state.excluded] == [(4, "stopped_during")]
    assert course.plans[4].day == 5  # the stopped day counts as a practice day


def test_worse_twice_in_a_row() -> None:
    def script(d: int) -> Today:
        if d in (3, 4):
            return Today(pain(8))
        if d == 12:
            return Today(pain(6), resume=True)
        return Today(pain(6))

    course = run(script)
    assert course.log == expect(
        (1, 1, (1,), N),
        (2, 2, (1, 2), N),
        (3, 3, (1, 2, 3), X),
        (4, 4, (1, 2), S),
        (5, 11, (), None),  # paused: see a professional within days
        (12, 12, (1, 2), N),
        (13, 21, (1, 2, 5), N),
        (22, 35, (1, 2, 5), R),
    )
    assert course.plans[4].status is PatientStatus.SAFETY_HOLD
    assert plan_day(course.plans[11]).holding  # after a pause, nothing new on the first day


def test_no_improvement_for_three_weeks() -> None:
    course = run(lambda d: Today(pain(6)))  # never 2 points or 30% better
    assert course.log == expect(
        (1, 1, (1,), N),
        (2, 2, (1, 2), N),
        (3, 3, (1, 2, 3), N),
        (4, 4, (1, 2, 3, 4), N),
        (5, 21, ALL, N),
        (22, 35, ALL, R),  # three weeks after the program started
    )
    verdict = course.verdicts[21]
    assert verdict is not None
    assert "doctor or physiotherapist" in render_verdict(verdict, texts_for("en"))


@pytest.mark.parametrize("skipped", [RoutineOutcome.SKIPPED, RoutineOutcome.NO_ANSWER])
def test_skipped_days_repeat_the_routine(skipped: RoutineOutcome) -> None:
    def script(d: int) -> Today:
        return Today(pain(6), routine=skipped) if d in (2, 3) else Today(pain(6))

    course = run(script)
    assert [exercises for exercises, _ in course.log[:6]] == [
        (1,),
        (1, 2),
        (1, 2),
        (1, 2),
        (1, 2, 3),
        (1, 2, 3, 4),
    ]
