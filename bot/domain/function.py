"""Function: the Patient-Specific Functional Scale (clinical.md §3).

The person names up to three everyday activities that the problem makes hard and rates each
from 0 (unable) to 10 (as before the problem); re-rated once a week. A change of 2 points in the
average, or 3 for one activity, is beyond measurement error. It informs the person and their
clinician and never triggers a verdict: nothing here is read by the safety engine.
Pure: no Telegram, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

MAX_ACTIVITIES = 3
RATING_MAX = 10  # as before the problem; 0: unable
LABEL_MAX = 60  # characters of a typed activity
AVERAGE_CHANGE = 2.0  # beyond measurement error in the average (Stratford 1995; Horn 2012)
ACTIVITY_CHANGE = 3  # beyond measurement error for one activity

# The common activities offered as buttons (their words are ``function.common.<key>``).
COMMON_ACTIVITIES = ("sitting", "walking", "socks", "sleeping", "lifting", "desk")


class RatingKind(StrEnum):
    START = "start"  # when the activity was named
    WEEKLY = "weekly"  # the weekly re-rating, with the weekly look back


@dataclass(frozen=True, slots=True)
class FunctionSeries:
    """One activity and its ratings, oldest first: (local date, rating)."""

    label: str
    ratings: tuple[tuple[date, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ActivityChange:
    label: str
    start: int
    latest: int

    @property
    def change(self) -> int:
        return self.latest - self.start

    @property
    def beyond_error(self) -> bool:
        return abs(self.change) >= ACTIVITY_CHANGE


@dataclass(frozen=True, slots=True)
class FunctionSummary:
    """Start and latest per activity, the averages, and whether the change is beyond
    measurement error (2 points in the average, or 3 for one activity)."""

    activities: tuple[ActivityChange, ...]

    @property
    def start_average(self) -> float:
        return sum(a.start for a in self.activities) / len(self.activities)

    @property
    def latest_average(self) -> float:
        return sum(a.latest for a in self.activities) / len(self.activities)

    @property
    def average_change(self) -> float:
        return self.latest_average - self.start_average

    @property
    def beyond_error(self) -> bool:
        # In whole points (the sums), so 10/3 → 16/3 is exactly 2 and not 1.999...
        total = sum(a.change for a in self.activities)
        return abs(total) >= AVERAGE_CHANGE * len(self.activities) or any(
            a.beyond_error for a in self.activities
        )


def summarize(series: Sequence[FunctionSeries]) -> FunctionSummary | None:
    """The summary of the activities that have ratings (None when none has)."""
    changes = tuple(
        ActivityChange(s.label, s.ratings[0][1], s.ratings[-1][1]) for s in series if s.ratings
    )
    return FunctionSummary(changes) if changes else None


def clean_label(text: str) -> str | None:
    """A typed activity as stored: spaces collapsed, 2 to LABEL_MAX characters, with at least
    one letter (a number alone is not an activity); None otherwise."""
    label = " ".join(text.split())
    if not 2 <= len(label) <= LABEL_MAX or not any(c.isalpha() for c in label):
        return None
    return label[0].upper() + label[1:]
