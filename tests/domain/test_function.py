"""bot.domain.function: the PSFS summary (start, latest, average, beyond measurement error:
2 points in the average or 3 for one activity, clinical.md §3) and typed activities."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.function import FunctionSeries, clean_label, summarize

D1, D2, D3 = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)


def series(*ratings: tuple[int, ...]) -> list[FunctionSeries]:
    days = (D1, D2, D3)
    return [
        FunctionSeries(f"Activity {i}", tuple(zip(days, values, strict=False)))
        for i, values in enumerate(ratings, start=1)
    ]


@pytest.mark.parametrize(
    ("ratings", "starts", "latests", "averages", "beyond"),
    [
        # One activity: 3 points is beyond the error, 2 is not.
        (((3, 5, 6),), [3], [6], (3.0, 6.0), True),
        (((3, 4, 5),), [3], [5], (3.0, 5.0), True),  # 2 in the average (one activity)
        (((4, 5),), [4], [5], (4.0, 5.0), False),
        (((6, 4),), [6], [4], (6.0, 4.0), True),  # a drop of 2 in the average counts too
        # Three activities: +2 each is 2 in the average.
        (((2, 4), (3, 5), (5, 7)), [2, 3, 5], [4, 5, 7], (10 / 3, 16 / 3), True),
        # +1, +1, +2: average +1.33, no single +3: within the error.
        (((2, 3), (3, 4), (5, 7)), [2, 3, 5], [3, 4, 7], (10 / 3, 14 / 3), False),
        # One activity +3, the others flat: beyond for that activity.
        (((2, 5), (5, 5), (5, 5)), [2, 5, 5], [5, 5, 5], (4.0, 5.0), True),
        # Only the starting ratings: no change.
        (((4,), (6,)), [4, 6], [4, 6], (5.0, 5.0), False),
    ],
)
def test_summary(
    ratings: tuple[tuple[int, ...], ...],
    starts: list[int],
    latests: list[int],
    averages: tuple[float, float],
    beyond: bool,
) -> None:
    summary = summarize(series(*ratings))
    assert summary is not None
    assert [a.start for a in summary.activities] == starts
    assert [a.latest for a in summary.activities] == latests
    assert (summary.start_average, summary.latest_average) == pytest.approx(averages)
    assert summary.beyond_error is beyond


def test_no_rated_activity_has_no_summary() -> None:
    assert summarize([]) is None
    assert summarize([FunctionSeries("Sitting")]) is None


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("  climbing   stairs ", "Climbing stairs"),
        ("gardening", "Gardening"),
        ("6", None),
        ("6/10", None),
        ("x", None),
        ("", None),
        ("a" * 61, None),
        ("Monter l’escalier", "Monter l’escalier"),
    ],
)
def test_typed_activity(typed: str, label: str | None) -> None:
    assert clean_label(typed) == label
