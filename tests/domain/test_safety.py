"""Tests for the safety engine (bot/domain/safety.py): one table row per rule, edges, properties."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.program import ActionKind, ExclusionReason
from bot.domain.safety import (
    CHECK_IN_SIGNALS,
    RULES,
    SCREENING_SIGNALS,
    SIGNALS,
    STEADY,
    CheckIn,
    History,
    Ratings,
    SignalChoice,
    StopCause,
    StoppedEarly,
    Tier,
    assess,
    choose_signal,
    compare,
    fell_meaningfully,
    rose_meaningfully,
    screen,
)

T0 = datetime(2025, 3, 3, 18, 0, tzinfo=UTC)
BASE = Ratings(pain=5, numbness=2, tingling=2, extent=3)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def check_in(
    n: float,
    pain: int = 5,
    numbness: int = 2,
    tingling: int = 2,
    extent: int = 3,
    *,
    signals: frozenset[str] = frozenset(),
    new: int | None = None,
) -> CheckIn:
    return CheckIn(day(n), Ratings(pain, numbness, tingling, extent), signals, None, new)


def history(*check_ins: CheckIn, start_days: float = 0, **kwargs: object) -> History:
    return History(BASE, T0, tuple(check_ins), day(start_days), **kwargs)  # type: ignore[arg-type]


# --- Threshold edges (clinical.md §4) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "worse"),
    [
        (3, 4, True),  # 33%: worse
        (5, 6, False),  # 20%: watch
        (4, 5, False),  # 25%
        (4, 6, True),  # 2 points
        (0, 1, True),  # at least 1 point, from nothing
        (1, 2, True),
        (2, 3, True),
        (7, 8, False),
        (8, 10, True),
        (9, 10, False),
        (10, 10, False),
        (5, 4, False),
    ],
)
def test_worse_threshold(before: int, after: int, worse: bool) -> None:
    assert rose_meaningfully(before, after) is worse


@pytest.mark.parametrize(
    ("before", "after", "improved"),
    [
        (6, 4, True),
        (5, 4, False),
        (3, 2, True),
        (10, 7, True),
        (10, 8, True),
        (4, 3, False),
        (0, 0, False),
        (1, 0, True),
        (7, 6, False),
        (7, 5, True),
    ],
)
def test_improvement_threshold(before: int, after: int, improved: bool) -> None:
    assert fell_meaningfully(before, after) is improved


def test_peripheralisation_counts_even_when_ratings_fall() -> None:
    result = compare(BASE, None, Ratings(3, 1, 1, 4))
    assert result.worse == ("extent",)


def test_centralisation_is_never_worse() -> None:
    result = compare(BASE, Ratings(5, 2, 2, 4), Ratings(5, 2, 2, 2))
    assert result.worse == () and result.centralised


# --- One row per rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    rule: str
    history: History
    report: CheckIn | StoppedEarly
    tier: Tier
    action: ActionKind
    suspect: int | None = None
    now_days: float | None = None


ROWS = [
    Row(
        "emergency_signal",
        history(),
        check_in(1, signals=frozenset({"saddle"})),
        Tier.EMERGENCY,
        ActionKind.SAFETY_HOLD,
    ),
    Row(
        "urgent_signal",
        history(),
        check_in(1, signals=frozenset({"fever"})),
        Tier.URGENT,
        ActionKind.SAFETY_HOLD,
    ),
    Row(
        "soon_signal",
        history(),
        check_in(1, signals=frozenset({"night_pain"})),
        Tier.SOON,
        ActionKind.PAUSE,
    ),
    Row(
        "stopped_not_settled",
        history(),
        StoppedEarly(day(1), 3, StopCause.NUMBNESS_TINGLING, settled=False),
        Tier.SOON,
        ActionKind.PAUSE,
        suspect=3,
    ),
    Row(
        "worse_twice",
        history(check_in(1, pain=7, new=2), excluded=frozenset({2})),
        check_in(2, pain=7),
        Tier.SOON,
        ActionKind.PAUSE,
    ),
    Row(
        "worse_for_days",
        history(check_in(1, pain=7, new=2), check_in(2, pain=6), check_in(3, pain=6)),
        check_in(4, pain=7),
        Tier.SOON,
        ActionKind.PAUSE,
    ),
    Row(
        "worse_new_exercise",
        history(check_in(1), check_in(2)),
        check_in(3, pain=7, new=3),
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        suspect=3,
    ),
    Row(
        "stopped_nerve_exercise",
        history(),
        StoppedEarly(day(1), 4, StopCause.SHARP_PAIN),
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        suspect=4,
    ),
    Row(
        "stopped_extension_spreading",
        history(),
        StoppedEarly(day(1), 1, StopCause.SPREADING),
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        suspect=1,
    ),
    Row(
        "stopped_other_symptom",
        history(),
        StoppedEarly(day(1), 5, StopCause.SHARP_PAIN),
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        suspect=5,
    ),
    Row(
        "no_improvement_3_weeks",
        history(check_in(20)),
        check_in(21),
        Tier.REVIEW,
        ActionKind.CONTINUE,
    ),
    Row(
        "symptoms_6_weeks",
        history(check_in(1), symptoms_since=day(-41)),
        check_in(2),
        Tier.REVIEW,
        ActionKind.CONTINUE,
    ),
    Row("worse_no_suspect", history(check_in(1)), check_in(2, pain=7), Tier.WATCH, ActionKind.HOLD),
    Row(
        "stopped_other",
        history(),
        StoppedEarly(day(1), 2, StopCause.OTHER),
        Tier.WATCH,
        ActionKind.HOLD,
    ),
    Row(
        "centralising",
        history(check_in(1, pain=3, extent=4)),
        check_in(2, pain=4, extent=3),
        Tier.WATCH,
        ActionKind.CONTINUE,
    ),
    Row("small_rise", history(check_in(1)), check_in(2, pain=6), Tier.WATCH, ActionKind.CONTINUE),
    Row("improved", history(check_in(1)), check_in(2, pain=3), Tier.IMPROVED, ActionKind.CONTINUE),
]


def test_every_rule_has_a_table_row_and_a_source() -> None:
    assert sorted(r.rule for r in ROWS) == sorted(rule.id for rule in RULES)
    assert len({rule.id for rule in RULES}) == len(RULES)
    assert all("clinical.md §" in rule.source for rule in RULES)


@pytest.mark.parametrize("row", ROWS, ids=[r.rule for r in ROWS])
def test_rule_row(row: Row) -> None:
    now = row.report.at if row.now_days is None else day(row.now_days)
    verdict = assess(row.history, row.report, now)
    assert verdict.lead_rule == row.rule
    assert verdict.tier is row.tier
    assert verdict.action.kind is max(row.action, ActionKind.EXCLUDE if row.suspect else 0)
    assert verdict.suspect == row.suspect
    assert verdict.action.exclude == row.suspect


def test_nothing_to_report_is_steady() -> None:
    verdict = assess(history(check_in(1)), check_in(2), day(2))
    assert (verdict.tier, verdict.reasons, verdict.action.kind) == (
        Tier.NONE,
        (STEADY,),
        ActionKind.CONTINUE,
    )


# --- Edges named in the issue --------------------------------------------------------------------


def test_three_to_four_is_worse_against_the_previous_check_in() -> None:
    verdict = assess(history(check_in(1, pain=3)), check_in(2, pain=4, new=2), day(2))
    assert verdict.worse and verdict.tier is Tier.STOP_EXERCISE and verdict.suspect == 2


def test_five_to_six_is_watch() -> None:
    verdict = assess(history(check_in(1)), check_in(2, pain=6, new=2), day(2))
    assert not verdict.worse and verdict.tier is Tier.WATCH
    assert verdict.action.kind is ActionKind.CONTINUE


def test_extent_down_one_level_with_lower_ratings_is_worse() -> None:
    verdict = assess(history(check_in(1)), check_in(2, pain=3, numbness=1, extent=4, new=2), day(2))
    assert verdict.worse and verdict.worse_measures == ("extent",)
    assert verdict.tier is Tier.STOP_EXERCISE


def test_extent_moving_up_is_good() -> None:
    verdict = assess(history(check_in(1)), check_in(2, extent=2, new=2), day(2))
    assert not verdict.worse and verdict.centralised and verdict.tier is Tier.NONE


def test_centralisation_does_not_excuse_a_rise_of_two_points() -> None:
    verdict = assess(history(check_in(1, pain=3, extent=4)), check_in(2, pain=5, extent=3), day(2))
    assert verdict.worse


def test_worse_against_baseline_counts_even_if_better_than_yesterday() -> None:
    verdict = assess(history(check_in(1, pain=9)), check_in(2, pain=8), day(2))
    assert verdict.worse  # 5 -> 8 against baseline


def test_suspect_at_the_next_check_in() -> None:
    verdict = assess(history(check_in(1, new=5)), check_in(2, pain=7), day(2))
    assert verdict.suspect == 5 and verdict.tier is Tier.STOP_EXERCISE


def test_an_excluded_exercise_is_not_suspected_again() -> None:
    hist = history(check_in(1, new=5), excluded=frozenset({5}))
    verdict = assess(hist, check_in(2, pain=7), day(2))
    assert verdict.suspect is None and verdict.action.kind is ActionKind.HOLD


def test_still_worse_needs_about_three_days() -> None:
    hist = history(check_in(1, pain=7, new=2), check_in(2, pain=6))
    verdict = assess(hist, check_in(3, pain=7), day(3))
    assert "worse_for_days" not in verdict.reasons  # two days
    hist4 = history(check_in(1, pain=7, new=2), check_in(2, pain=6), check_in(3, pain=6))
    assert "worse_for_days" in assess(hist4, check_in(4, pain=7), day(4)).reasons
    # A check-in back to normal breaks the run.
    hist5 = history(check_in(1, pain=7, new=2), check_in(2, pain=5), check_in(3, pain=6))
    assert "worse_for_days" not in assess(hist5, check_in(4, pain=7), day(4)).reasons


def test_review_after_three_weeks_uses_real_time_across_dst() -> None:
    london = ZoneInfo("Europe/London")
    start = datetime(2025, 3, 20, 8, 0, tzinfo=london)  # DST starts 30 March
    hist = History(BASE, start, (), start)
    just_before = start + timedelta(days=21) - timedelta(minutes=30)
    report = CheckIn(just_before, BASE)
    # Wall-clock subtraction would say 21 days - 30 min; real time is 20 days 23.5 hours.
    assert "no_improvement_3_weeks" not in assess(hist, report, just_before).reasons
    later = just_before + timedelta(hours=2)
    assert "no_improvement_3_weeks" in assess(hist, CheckIn(later, BASE), later).reasons


def test_had_to_stop_during_nerve_exercise_with_unknown_settling_is_stop_exercise() -> None:
    verdict = assess(history(), StoppedEarly(day(1), 2, StopCause.NUMBNESS_TINGLING), day(1))
    assert verdict.tier is Tier.STOP_EXERCISE
    assert verdict.action.reason is ExclusionReason.STOPPED_DURING


def test_emergency_wins_over_everything() -> None:
    hist = history(check_in(1, pain=8, new=2), start_days=-30, symptoms_since=day(-90))
    report = check_in(2, pain=9, extent=5, new=3, signals=frozenset(SCREENING_SIGNALS))
    verdict = assess(hist, report, day(2))
    assert verdict.tier is Tier.EMERGENCY
    assert verdict.action.kind is ActionKind.SAFETY_HOLD
    assert verdict.action.exclude == 3  # the suspect stays out even after the hold
    assert verdict.signals[0] in {s for s in SIGNALS if SIGNALS[s].tier is Tier.EMERGENCY}


@pytest.mark.parametrize("signal", CHECK_IN_SIGNALS)
def test_each_check_in_signal_escalates_to_its_tier(signal: str) -> None:
    verdict = assess(history(), check_in(1, signals=frozenset({signal})), day(1))
    assert verdict.tier is SIGNALS[signal].tier
    assert verdict.tier >= Tier.URGENT
    assert verdict.action.kind is ActionKind.SAFETY_HOLD


def test_stop_signal_tiers_follow_clinical_section_two() -> None:
    tiers = [SIGNALS[s].tier for s in SCREENING_SIGNALS]
    assert tiers.count(Tier.EMERGENCY) == 7
    assert tiers.count(Tier.URGENT) == 3
    assert tiers.count(Tier.SOON) == 5
    assert SIGNALS["leg_weakness"].both_legs_variant == "both_legs_weakness"
    assert SIGNALS["both_legs_weakness"].tier is Tier.EMERGENCY


@pytest.mark.parametrize("signal", SCREENING_SIGNALS)
def test_screening_puts_every_signal_on_safety_hold(signal: str) -> None:
    verdict = screen({signal})
    assert verdict.tier is SIGNALS[signal].tier
    assert verdict.action.kind is ActionKind.SAFETY_HOLD


def test_screening_with_no_signal_lets_the_program_start() -> None:
    verdict = screen(set())
    assert verdict.tier is Tier.NONE and verdict.action.kind is ActionKind.CONTINUE


def test_unknown_signal_and_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown stop signal"):
        screen({"headache"})
    with pytest.raises(ValueError, match="aware"):
        CheckIn(datetime(2025, 1, 1), BASE)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="0-10"):
        Ratings(11, 0, 0, 0)
    with pytest.raises(ValueError, match="0-5"):
        Ratings(1, 0, 0, 6)


# --- Properties ----------------------------------------------------------------------------------

ratings = st.builds(
    Ratings,
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(0, 5),
)
signal_sets = st.frozensets(st.sampled_from(CHECK_IN_SIGNALS), max_size=3)
exercise_or_none = st.one_of(st.none(), st.integers(1, 5))


@st.composite
def histories(draw: st.DrawFn) -> History:
    n = draw(st.integers(0, 6))
    items = tuple(
        CheckIn(day(i + 1), draw(ratings), frozenset(), None, draw(exercise_or_none))
        for i in range(n)
    )
    return History(
        draw(ratings),
        T0,
        items,
        day(draw(st.integers(-30, 0))),
        draw(st.frozensets(st.integers(1, 5), max_size=2)),
    )


def _dominates(a: Ratings, b: Ratings) -> bool:
    return all(getattr(a, f) >= getattr(b, f) for f in ("pain", "numbness", "tingling", "extent"))


@given(histories(), ratings, signal_sets, st.sampled_from(CHECK_IN_SIGNALS), exercise_or_none)
def test_adding_a_stop_signal_never_gives_a_milder_verdict(
    hist: History, r: Ratings, signals: frozenset[str], extra: str, new: int | None
) -> None:
    now = day(10)
    base = assess(hist, CheckIn(now, r, signals, None, new), now)
    more = assess(hist, CheckIn(now, r, signals | {extra}, None, new), now)
    assert more.tier >= base.tier
    assert more.tier >= SIGNALS[extra].tier
    assert more.action.kind >= base.action.kind


@given(histories(), ratings, ratings, signal_sets, exercise_or_none)
def test_a_report_worse_on_every_measure_is_never_milder(
    hist: History, a: Ratings, b: Ratings, signals: frozenset[str], new: int | None
) -> None:
    worse, better = (a, b) if _dominates(a, b) else (b, a)
    if not _dominates(worse, better):
        worse = Ratings(
            *(max(getattr(a, f), getattr(b, f)) for f in ("pain", "numbness", "tingling", "extent"))
        )
    now = day(10)
    v_worse = assess(hist, CheckIn(now, worse, signals, None, new), now)
    v_better = assess(hist, CheckIn(now, better, signals, None, new), now)
    assert v_worse.tier >= v_better.tier
    assert v_worse.action.kind >= v_better.action.kind


@given(histories(), ratings, signal_sets, exercise_or_none)
def test_a_worse_check_in_never_lets_the_program_continue(
    hist: History, r: Ratings, signals: frozenset[str], new: int | None
) -> None:
    now = day(10)
    verdict = assess(hist, CheckIn(now, r, signals, None, new), now)
    if verdict.worse:
        assert verdict.action.kind is not ActionKind.CONTINUE
    if verdict.tier >= Tier.URGENT:
        assert verdict.action.kind is ActionKind.SAFETY_HOLD


def test_verdicts_are_values() -> None:
    verdict = assess(history(check_in(1)), check_in(2), day(2))
    with pytest.raises(AttributeError):
        verdict.tier = Tier.EMERGENCY  # type: ignore[misc]
    assert replace(verdict) == verdict


# --- one press on a list of stop signals --------------------------------------------------


def test_a_sign_toggles_on_and_off_in_the_order_ticked() -> None:
    first, second = CHECK_IN_SIGNALS[0], CHECK_IN_SIGNALS[1]
    assert choose_signal((), second, CHECK_IN_SIGNALS) == SignalChoice((second,), done=False)
    assert choose_signal((second,), first, CHECK_IN_SIGNALS) == SignalChoice(
        (second, first), done=False
    )
    assert choose_signal((second, first), second, CHECK_IN_SIGNALS) == SignalChoice(
        (first,), done=False
    )


def test_none_clears_and_done_keeps_what_is_ticked() -> None:
    ticked = (CHECK_IN_SIGNALS[0],)
    assert choose_signal(ticked, "none", CHECK_IN_SIGNALS) == SignalChoice((), done=True)
    assert choose_signal(ticked, "done", CHECK_IN_SIGNALS) == SignalChoice(ticked, done=True)


def test_a_sign_the_list_does_not_offer_is_refused() -> None:
    screening_only = next(s for s in SCREENING_SIGNALS if s not in CHECK_IN_SIGNALS)
    assert choose_signal((), screening_only, CHECK_IN_SIGNALS) is None
    assert choose_signal((), "x" * 60, SCREENING_SIGNALS) is None
    assert choose_signal((), screening_only, SCREENING_SIGNALS) == SignalChoice(
        (screening_only,), done=False
    )
