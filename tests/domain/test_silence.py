"""Silence is noticed (bot/domain/silence.py): what each morning sends to a person who does not
answer, as a table, and how the silence is stored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.silence import (
    KEY,
    Morning,
    Silence,
    after,
    decide,
    stopped,
    with_silence,
    without_silence,
)

D1 = date(2026, 3, 2)


def mornings(days: int, *, every: int = 1) -> list[Morning]:
    """What ``days`` due mornings send to a person who never answers (one every ``every`` days)."""
    silence, out = Silence(), []
    for n in range(days):
        today = D1 + timedelta(days=n * every)
        morning = decide(silence, today)
        out.append(morning)
        silence = after(silence, today, morning)
    return out


R, A, Q = Morning.ROUTINE, Morning.ASK, Morning.QUIET


def test_a_person_who_never_answers() -> None:
    # Three routines, the question instead of the fourth, the routine again until a week has
    # passed since the first silent morning, then nothing.
    assert mornings(10) == [R, R, R, A, R, R, R, Q, Q, Q]


def test_mornings_further_apart_still_stop_after_a_week() -> None:
    # Every other day (rest days send nothing): still quiet seven days after the first.
    assert mornings(6, every=2) == [R, R, R, A, Q, Q]


@pytest.mark.parametrize(
    ("silence", "today", "expected"),
    [
        (Silence(), D1, R),
        (Silence(2, D1), D1 + timedelta(days=2), R),
        (Silence(3, D1), D1 + timedelta(days=3), A),
        (Silence(4, D1, asked=True), D1 + timedelta(days=4), R),  # asked once per silence
        (Silence(6, D1, asked=True), D1 + timedelta(days=6), R),
        (Silence(7, D1, asked=True), D1 + timedelta(days=7), Q),
        (Silence(3, D1), D1 + timedelta(days=7), Q),  # a week wins over the question
        (stopped(), D1, Q),
        (Silence(0, None, quiet=True), D1, R),  # held back only by a date or a stop
    ],
)
def test_decide(silence: Silence, today: date, expected: Morning) -> None:
    assert decide(silence, today) is expected


def test_after_counts_what_went_out() -> None:
    first = after(Silence(), D1, R)
    assert first == Silence(1, D1)
    asked = after(Silence(3, D1), D1 + timedelta(days=3), A)
    assert asked == Silence(4, D1, asked=True)
    held = after(Silence(7, D1, asked=True), D1 + timedelta(days=7), Q)
    assert held == Silence(7, D1, asked=True, quiet=True)
    assert held.holds_mornings and stopped().holds_mornings and not first.holds_mornings


def test_stored_in_the_program_state_and_removed_by_any_answer() -> None:
    state = {"v": 2, "day": 3}
    silence = Silence(4, D1, asked=True)
    stored = with_silence(state, silence)
    assert Silence.from_state(stored) == silence
    assert without_silence(stored) == state
    assert Silence.from_state(state) == Silence()
    assert Silence.from_state(with_silence(state, stopped())) == stopped()


@pytest.mark.parametrize(
    "value",
    [
        None,
        "x",
        [],
        {"mornings": -1},
        {"mornings": True},
        {"mornings": "3"},
        {"mornings": 3, "since": "yesterday"},
        {"mornings": 3, "since": 20260302},
        {"mornings": 3, "asked": "yes"},
    ],
)
def test_anything_malformed_reads_as_no_silence(value: object) -> None:
    # The cautious reading is the ordinary routine, never a held-back morning.
    assert Silence.from_state({KEY: value}) == Silence()
