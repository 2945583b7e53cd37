"""Tests for the one-new-exercise-a-day progression (bot/domain/program.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.program import (
    CONTINUE,
    EXERCISE_ORDER,
    HOLD,
    ActionKind,
    DayOutcome,
    Exclusion,
    ExclusionReason,
    PatientStatus,
    ProgramAction,
    ProgramDay,
    ProgramState,
    Reset,
    Resume,
    RoutineOutcome,
    pause,
    plan_day,
    program_day,
    record_day,
    replay,
    rest_day,
    resume,
    start_program,
)

DONE = RoutineOutcome.DONE
GOOD_DAY = DayOutcome(DONE, CONTINUE)


def exclude(n: int, reason: ExclusionReason = ExclusionReason.WORSE_AFTER_ADDING) -> ProgramAction:
    return ProgramAction(ActionKind.EXCLUDE, n, reason)


def test_day_one_is_exercise_one_and_new() -> None:
    plan = plan_day(start_program())
    assert (plan.day, plan.exercises, plan.new, plan.excluded) == (1, (1,), 1, ())
    assert plan.sends_routine


def test_good_days_add_one_exercise_each_then_the_full_routine_continues() -> None:
    state = start_program()
    seen = []
    for _ in range(8):
        plan = plan_day(state)
        seen.append((plan.day, plan.exercises, plan.new))
        state = record_day(state, GOOD_DAY)
    assert seen == [
        (1, (1,), 1),
        (2, (1, 2), 2),
        (3, (1, 2, 3), 3),
        (4, (1, 2, 3, 4), 4),
        (5, (1, 2, 3, 4, 5), 5),
        (6, (1, 2, 3, 4, 5), None),
        (7, (1, 2, 3, 4, 5), None),
        (8, (1, 2, 3, 4, 5), None),
    ]
    assert plan_day(state).complete


@pytest.mark.parametrize(
    "outcome",
    [
        DayOutcome(RoutineOutcome.SKIPPED, CONTINUE),
        DayOutcome(RoutineOutcome.NO_ANSWER, None),
        DayOutcome(RoutineOutcome.SKIPPED, None),
        DayOutcome(DONE, None),  # no check-in answered: nothing is known, nothing advances
        DayOutcome(RoutineOutcome.STOPPED, CONTINUE),
        DayOutcome(DONE, HOLD),
    ],
)
def test_days_that_do_not_advance(outcome: DayOutcome) -> None:
    state = record_day(start_program(), GOOD_DAY)
    after = record_day(state, outcome)
    assert plan_day(after).exercises == (1, 2)
    assert after.unlocked == state.unlocked


def test_a_skipped_day_repeats_the_same_routine_under_the_same_day_number() -> None:
    state = record_day(start_program(), GOOD_DAY)
    skipped = record_day(state, DayOutcome(RoutineOutcome.SKIPPED, None))
    assert plan_day(skipped) == plan_day(state)
    assert plan_day(skipped).new == 2  # still not tried, so still new


def test_practice_days_count_done_and_stopped_early() -> None:
    state = start_program()
    state = record_day(state, DayOutcome(DONE, HOLD))
    state = record_day(state, DayOutcome(RoutineOutcome.STOPPED, HOLD))
    state = record_day(state, DayOutcome(RoutineOutcome.NO_ANSWER, None))
    assert state.day == 3


def test_an_exclusion_holds_progression_until_a_check_in_is_no_longer_worse() -> None:
    state = replay([GOOD_DAY, GOOD_DAY])  # day 3: 1, 2, 3 (3 new)
    state = record_day(state, DayOutcome(DONE, exclude(3)))
    plan = plan_day(state)
    assert plan.exercises == (1, 2)
    assert plan.new is None and plan.holding
    # Exercise 4 needs 2 and 3 tolerated: it is left out too, and 5 comes next.
    assert plan.excluded == (
        Exclusion(3, ExclusionReason.WORSE_AFTER_ADDING),
        Exclusion(4, ExclusionReason.NEEDS_SLIDERS),
    )
    assert plan.next_exercise == 5
    held = record_day(state, DayOutcome(DONE, HOLD))
    assert plan_day(held).exercises == (1, 2)
    after = record_day(held, GOOD_DAY)
    assert plan_day(after).exercises == (1, 2, 5)
    assert plan_day(after).new == 5
    assert not plan_day(after).holding


def test_excluding_a_slider_after_exercise_four_was_added_drops_four_too() -> None:
    state = replay([GOOD_DAY] * 4)  # 1..4, 5 is new
    state = record_day(state, DayOutcome(DONE, exclude(2, ExclusionReason.STOPPED_DURING)))
    assert plan_day(state).exercises == (1, 3, 5)
    assert {e.exercise for e in state.excluded} == {2, 4}


def test_excluding_exercise_one_on_day_one_gives_a_rest_day_then_exercise_two() -> None:
    state = record_day(start_program(), DayOutcome(DONE, exclude(1)))
    plan = plan_day(state)
    assert plan.exercises == () and plan.sends_routine and not plan.nothing_left
    state = record_day(state, GOOD_DAY)
    assert plan_day(state).exercises == (2,)
    assert plan_day(state).new == 2


def test_when_everything_is_excluded_nothing_is_left() -> None:
    state = start_program()
    for exercise in (1, 2, 3, 5):
        state = record_day(state, DayOutcome(DONE, exclude(exercise)))
        state = record_day(state, GOOD_DAY)
    plan = plan_day(state)
    assert plan.exercises == () and plan.nothing_left and not plan.sends_routine


@pytest.mark.parametrize(
    ("kind", "status"),
    # SOON (PAUSE) and EMERGENCY/URGENT (SAFETY_HOLD) both wait for the release step.
    [
        (ActionKind.PAUSE, PatientStatus.SAFETY_HOLD),
        (ActionKind.SAFETY_HOLD, PatientStatus.SAFETY_HOLD),
    ],
)
def test_pause_and_safety_hold_stop_routines_until_resumed(
    kind: ActionKind, status: PatientStatus
) -> None:
    state = replay([GOOD_DAY, DayOutcome(DONE, ProgramAction(kind))])
    assert state.status is status
    assert not plan_day(state).sends_routine
    # Days while paused change nothing, even a "continue" from an ad-hoc report.
    assert record_day(state, GOOD_DAY) == state
    resumed = resume(state)
    plan = plan_day(resumed)
    assert plan.sends_routine and plan.exercises == (1, 2) and plan.holding


def test_a_pause_cannot_soften_a_safety_hold() -> None:
    state = record_day(start_program(), DayOutcome(DONE, ProgramAction(ActionKind.SAFETY_HOLD)))
    state = record_day(state, DayOutcome(RoutineOutcome.SKIPPED, ProgramAction(ActionKind.PAUSE)))
    assert state.status is PatientStatus.SAFETY_HOLD


def test_a_person_pauses_and_resumes_but_never_softens_a_hold() -> None:
    state = record_day(start_program(), GOOD_DAY)
    paused = pause(state)
    assert paused.status is PatientStatus.PAUSED
    assert not plan_day(paused).sends_routine
    assert resume(paused).status is PatientStatus.ACTIVE
    held = record_day(state, DayOutcome(DONE, ProgramAction(ActionKind.SAFETY_HOLD)))
    assert pause(held) == held


def test_the_status_is_not_stored_in_the_json() -> None:
    state = replay([DayOutcome(DONE, ProgramAction(ActionKind.PAUSE))])
    data = state.to_json()
    assert "status" not in data
    assert ProgramState.from_json(data, state.status) == state
    # Version 1 kept the status too; it is read and the status column wins.
    old = {**data, "v": 1, "status": "paused"}
    assert ProgramState.from_json(old, PatientStatus.ACTIVE).status is PatientStatus.ACTIVE


def test_reset_starts_again_at_day_one_with_no_exclusions() -> None:
    state = replay([GOOD_DAY, GOOD_DAY, DayOutcome(DONE, exclude(3)), Reset()])
    assert state == start_program()
    state = replay([DayOutcome(DONE, ProgramAction(ActionKind.PAUSE)), Resume()])
    assert state.status is PatientStatus.ACTIVE


def test_json_round_trip() -> None:
    state = replay([GOOD_DAY, GOOD_DAY, DayOutcome(DONE, exclude(3)), GOOD_DAY])
    data = state.to_json()
    assert ProgramState.from_json(data, state.status) == state
    assert data["excluded"] == [[3, "worse_after_adding"], [4, "needs_sliders"]]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "v": 9,
            "day": 1,
            "unlocked": [1],
            "new": 1,
            "excluded": [],
            "holding": False,
            "status": "active",
        },
        {
            "v": 1,
            "day": 0,
            "unlocked": [1],
            "new": 1,
            "excluded": [],
            "holding": False,
            "status": "active",
        },
        {
            "v": 1,
            "day": 1,
            "unlocked": [2],
            "new": None,
            "excluded": [],
            "holding": False,
            "status": "active",
        },
        {
            "v": 1,
            "day": 1,
            "unlocked": [1],
            "new": 3,
            "excluded": [],
            "holding": False,
            "status": "active",
        },
        {
            "v": 1,
            "day": 1,
            "unlocked": [1],
            "new": 1,
            "excluded": [[1, "bad"]],
            "holding": False,
            "status": "active",
        },
        {
            "v": 1,
            "day": "1",
            "unlocked": [1],
            "new": 1,
            "excluded": [],
            "holding": False,
            "status": "active",
        },
        {
            "v": 1,
            "day": 1,
            "unlocked": [1],
            "new": 1,
            "excluded": [],
            "holding": "no",
            "status": "active",
        },
        {"v": 3, "day": 1, "unlocked": [1], "new": 1, "excluded": [], "holding": False},
    ],
)
def test_from_json_rejects_malformed_state(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        ProgramState.from_json(data)


# --- Properties ----------------------------------------------------------------------------------

actions = st.one_of(
    st.none(),
    st.sampled_from([ProgramAction(k) for k in ActionKind if k is not ActionKind.EXCLUDE]),
    st.builds(
        ProgramAction,
        st.sampled_from(list(ActionKind)),
        st.sampled_from(EXERCISE_ORDER),
        st.sampled_from(list(ExclusionReason)),
    ),
)
day_outcomes = st.builds(DayOutcome, st.sampled_from(list(RoutineOutcome)), actions)
events = st.one_of(day_outcomes, day_outcomes, day_outcomes, st.just(Resume()))


@given(st.lists(events, max_size=40))
def test_progression_invariants(history: list[DayOutcome | Resume]) -> None:
    state = start_program()
    ever_excluded: set[int] = set()
    for event in history:
        before = state
        state = replay([event], start=before)
        after_plan = plan_day(state)
        added = set(state.unlocked) - set(before.unlocked)
        # Never more than one exercise a day.
        assert len(added) <= 1
        ever_excluded |= state.excluded_ids
        # An excluded exercise never comes back (only a reset clears exclusions).
        assert not ever_excluded & set(after_plan.exercises)
        assert before.excluded_ids <= state.excluded_ids
        if added:
            assert isinstance(event, DayOutcome)
            # Advance only on a done routine with a check-in that was not worse, or after a
            # rest day (a day with nothing left to do).
            assert event.routine is RoutineOutcome.DONE or (
                event.routine is RoutineOutcome.REST and plan_day(before).rest_day
            )
            assert event.action is not None and event.action.kind is ActionKind.CONTINUE
            assert before.status is PatientStatus.ACTIVE
            # Exercise 4 only after 2 and 3 were introduced and are not excluded.
            if 4 in added:
                assert {2, 3} <= set(state.unlocked) and not {2, 3} & state.excluded_ids
        assert ProgramState.from_json(state.to_json(), state.status) == state


@pytest.mark.parametrize(
    ("day", "today", "shown", "done"),
    [
        (1, None, 1, False),  # before the first routine
        (1, RoutineOutcome.SKIPPED, 1, False),  # a skipped day repeats under the same number
        (1, RoutineOutcome.NO_ANSWER, 1, False),
        (2, None, 2, False),  # the next morning, before the routine is answered
        (2, RoutineOutcome.DONE, 1, True),  # right after day 1's check-in: day 1 is done
        (2, RoutineOutcome.STOPPED, 1, True),
        (3, RoutineOutcome.REST, 2, True),  # a rest day counts
        (7, RoutineOutcome.DONE, 6, True),  # the Sunday: the heading said "Day 6", so does /status
        (7, RoutineOutcome.SKIPPED, 7, False),
    ],
)
def test_program_day_is_the_one_day_count(
    day: int, today: RoutineOutcome | None, shown: int, done: bool
) -> None:
    state = ProgramState(day=day)
    assert program_day(state, today) == ProgramDay(shown, done)
    assert plan_day(state).day == program_day(state).number == day


def test_a_rest_day_counts_and_the_next_morning_adds_the_next_exercise() -> None:
    stopped = ProgramAction(ActionKind.EXCLUDE, 1, ExclusionReason.STOPPED_DURING)
    state = record_day(start_program(), DayOutcome(RoutineOutcome.STOPPED, stopped))
    plan = plan_day(state)
    assert plan.rest_day and plan.exercises == () and plan.day == 2
    after = rest_day(state)
    assert (after.day, after.unlocked, after.new, after.holding) == (3, (1, 2), 2, False)
    assert plan_day(after).exercises == (2,) and not plan_day(after).rest_day
    # A "rest" on a day with exercises is not an answer: nothing moves.
    assert rest_day(after) == after


def test_had_to_stop_is_the_reason_even_when_also_worse() -> None:
    worse = ProgramAction(ActionKind.EXCLUDE, 1, ExclusionReason.WORSE_AFTER_ADDING)
    stopped = ProgramAction(ActionKind.EXCLUDE, 1, ExclusionReason.STOPPED_DURING)
    state = record_day(start_program(), DayOutcome(RoutineOutcome.STOPPED, worse))
    state = record_day(state, DayOutcome(RoutineOutcome.NO_ANSWER, stopped))
    assert state.excluded == (Exclusion(1, ExclusionReason.STOPPED_DURING),)
