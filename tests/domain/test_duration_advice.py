"""The assessment advice on long-lasting symptoms comes at the right moment (clinical.md §5):
the two longer answers at once, when given, and never again from the check-in rule; the two
shorter ones when the estimated total reaches about six weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.safety import (
    ASSESSMENT_AFTER,
    CheckIn,
    History,
    Ratings,
    SymptomDuration,
    advised_already,
    advised_at_answer,
    assess,
    symptoms_since,
)

ANSWERED = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # onboarding, and the program's start
BASE = Ratings(pain=5, numbness=2, tingling=2, extent=3)
STEADY = Ratings(pain=5, numbness=2, tingling=2, extent=3)  # no meaningful improvement


def advice_on(duration: SymptomDuration, days_in: int, *, stored: tuple[str, ...] = ()) -> bool:
    """Whether a check-in ``days_in`` days into the program, no better than the baseline,
    advises an assessment."""
    history = History(
        BASE,
        ANSWERED,
        program_start=ANSWERED,
        symptoms_since=symptoms_since(duration, ANSWERED),
        advised=advised_already(duration.value, stored),
    )
    at = ANSWERED + timedelta(days=days_in)
    verdict = assess(history, CheckIn(at, STEADY), at)
    return "symptoms_6_weeks" in verdict.reasons


@pytest.mark.parametrize(
    ("duration", "at_answer"),
    [
        (SymptomDuration.UNDER_2_WEEKS, False),
        (SymptomDuration.WEEKS_2_TO_6, False),
        (SymptomDuration.WEEKS_6_TO_12, True),
        (SymptomDuration.OVER_3_MONTHS, True),
    ],
)
def test_who_is_advised_when_they_answer(duration: SymptomDuration, at_answer: bool) -> None:
    assert advised_at_answer(duration.value) is at_answer
    assert ("symptoms_6_weeks" in advised_already(duration.value, ())) is at_answer


def test_nothing_known_is_no_advice_given() -> None:
    assert not advised_at_answer(None)
    assert advised_already(None, ()) == frozenset()
    # Stored events count; anything that is not once-per-program advice is ignored.
    assert advised_already(None, ("symptoms_6_weeks", "worse_twice")) == {"symptoms_6_weeks"}


@pytest.mark.parametrize(
    ("duration", "first_day_advised"),
    [
        # Estimated onset one week before: the total reaches six weeks five weeks in.
        (SymptomDuration.UNDER_2_WEEKS, 35),
        # Four weeks before: two weeks in.
        (SymptomDuration.WEEKS_2_TO_6, 14),
    ],
)
def test_shorter_answers_are_advised_when_the_total_reaches_six_weeks(
    duration: SymptomDuration, first_day_advised: int
) -> None:
    assert not advice_on(duration, 1)
    assert not advice_on(duration, first_day_advised - 1)
    assert advice_on(duration, first_day_advised)
    total = timedelta(days=first_day_advised) + (ANSWERED - symptoms_since(duration, ANSWERED))
    assert ASSESSMENT_AFTER <= total < timedelta(weeks=8)  # "about six to eight weeks"
    # Once given, the stored event keeps it from coming again.
    assert not advice_on(duration, first_day_advised + 1, stored=("symptoms_6_weeks",))


@pytest.mark.parametrize("duration", [SymptomDuration.WEEKS_6_TO_12, SymptomDuration.OVER_3_MONTHS])
@pytest.mark.parametrize("days_in", [1, 2, 14, 60])
def test_longer_answers_never_get_it_again_after_a_session(
    duration: SymptomDuration, days_in: int
) -> None:
    assert not advice_on(duration, days_in)
