"""The conversation's flows and their data, declared in one place.

A *flow* is a multi-message exchange (a step of onboarding, a check-in, a confirmation). The
person's row keeps which flow is open and its data (``patients.flow``/``flow_data``), so a
restart loses nothing. Each flow's data is a typed dataclass below, stored as JSON with a nonce
that the flow's buttons carry: a press from an older flow is recognised as stale. Which handler
answers which step, and what comes after a flow, is declared in ``bot.usecases.conversation``.
Pure data: no Telegram, no database.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Self, cast


class Flow(StrEnum):
    CONSENT = "consent"
    DURATION = "duration"  # how long the person has had these symptoms
    SCREENING = "screening"  # the stop-signal list at onboarding
    SIDE = "side"  # which leg has the symptoms
    CHECKIN = "checkin"  # the card: ratings, furthest point, stop signals (baseline too)
    REMINDER = "reminder"
    ZONE = "zone"
    START = "start"  # start now or tomorrow
    RELEASE = "release"  # lifting a safety hold: seen by a professional, then a re-screen
    RESET = "reset"
    DELETE = "delete"
    LANGUAGE = "language"
    WEEKLY = "weekly"  # choosing the day of the weekly look back
    FUNCTION = "function"  # naming and rating everyday activities (PSFS, clinical.md §3)
    GUIDED = "guided"  # the guided session: today's routine one exercise at a time


class Next(StrEnum):
    """What comes after a flow ends (declared with the router, run after the handler)."""

    ONBOARDING = "onboarding"  # the next unfinished onboarding step
    SCHEDULE = "schedule"  # say when the next routine comes (after /time, /timezone)
    DURATION = "duration"  # ask how long the symptoms have lasted (people who never said)
    SIDE = "side"  # ask which leg has the symptoms (people who never said)
    TODAY = "today"  # today's routine (after a question asked at /today)
    NOTHING = "nothing"


def new_nonce() -> str:
    return secrets.token_urlsafe(6)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


@dataclass(frozen=True)
class FlowData:
    """Base of every flow's data: the nonce its buttons carry."""

    flow: ClassVar[Flow]
    nonce: str = field(default_factory=new_nonce)

    def to_json(self) -> dict[str, Any]:
        """As stored. What ``dataclasses.asdict`` gives, without its deep copy (it took more
        than half of a check-in answer's handling): flow data holds only plain values, tuples
        and dicts of plain values, and a dict is copied so the stored one is never shared."""
        return {
            name: dict(value) if isinstance(value, dict) else value
            for name in _field_names(type(self))
            for value in (getattr(self, name),)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from stored JSON; raises TypeError/ValueError on anything malformed."""
        names = _field_names(cls)
        # JSON has no tuples: every list field of a flow's data is a tuple.
        known = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
        return cast(Any, cls)(**known)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ConsentData(FlowData):
    flow = Flow.CONSENT


@dataclass(frozen=True)
class DurationData(FlowData):
    flow = Flow.DURATION
    then: str = Next.ONBOARDING


class ScreeningStep(StrEnum):
    LIST = "list"
    CONFIRM = "confirm"  # "Is that right?" before emergency or urgent advice


@dataclass(frozen=True)
class ScreeningData(FlowData):
    flow = Flow.SCREENING
    selected: tuple[str, ...] = ()
    step: str = ScreeningStep.LIST


class LegSide(StrEnum):
    """The leg with the symptoms, as stored (``patients.symptom_side``). Both legs is not a
    side: it is stop signal 4 (clinical.md §2, §3)."""

    LEFT = "left"
    RIGHT = "right"


SIDE_ASKED = "asked"  # symptom_side while the question is open for someone already onboarded


class SideStep(StrEnum):
    ASK = "ask"
    CONFIRM = "confirm"  # "Is that right?" after "Both legs", before the emergency advice


@dataclass(frozen=True)
class SideData(FlowData):
    flow = Flow.SIDE
    step: str = SideStep.ASK
    then: str = Next.ONBOARDING


class CheckinStep(StrEnum):
    STOP_EXERCISE = "stop_exercise"
    STOP_CAUSE = "stop_cause"
    SETTLED = "settled"
    PAIN = "pain"
    NUMBNESS = "numbness"
    TINGLING = "tingling"
    EXTENT = "extent"
    SIGNALS = "signals"
    CONFIRM = "confirm"  # "Is that right?" before emergency or urgent advice


RATING_STEPS = (CheckinStep.PAIN, CheckinStep.NUMBNESS, CheckinStep.TINGLING)
MEASURE_STEPS = (*RATING_STEPS, CheckinStep.EXTENT)


@dataclass(frozen=True)
class CheckinData(FlowData):
    flow = Flow.CHECKIN
    kind: str = "adhoc"  # a ReportKind value: baseline, session or adhoc
    step: str = CheckinStep.PAIN
    session_id: int | None = None
    stopped: bool = False  # "Had to stop": which exercise and what happened come first
    exercises: tuple[int, ...] = ()  # the routine's exercises (to pick the one stopped)
    answers: dict[str, int] = field(default_factory=dict)
    signals: tuple[str, ...] = ()
    stop_exercise: int | None = None
    stop_cause: str | None = None
    settled: str | None = None  # "yes", "no" or "unsure"
    card: int | None = None  # the message id of the card, edited in place
    then: str = Next.NOTHING
    # Opened by free text that names warning signs: only the stop signals are asked.
    signs_only: bool = False


class ReleaseStep(StrEnum):
    SEEN = "seen"  # has a professional seen you and agreed?
    SIGNALS = "signals"  # the stop signals, "right now"


@dataclass(frozen=True)
class ReleaseData(FlowData):
    flow = Flow.RELEASE
    step: str = ReleaseStep.SEEN
    selected: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderData(FlowData):
    flow = Flow.REMINDER
    then: str = Next.ONBOARDING


class ZoneStep(StrEnum):
    ASK = "ask"
    PICK = "pick"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class ZoneData(FlowData):
    flow = Flow.ZONE
    then: str = Next.ONBOARDING
    step: str = ZoneStep.ASK
    candidates: tuple[str, ...] = ()
    zone: str | None = None


@dataclass(frozen=True)
class StartData(FlowData):
    flow = Flow.START


@dataclass(frozen=True)
class ResetData(FlowData):
    flow = Flow.RESET


@dataclass(frozen=True)
class DeleteData(FlowData):
    flow = Flow.DELETE


@dataclass(frozen=True)
class LanguageData(FlowData):
    flow = Flow.LANGUAGE


@dataclass(frozen=True)
class WeeklyData(FlowData):
    flow = Flow.WEEKLY


class FunctionStep(StrEnum):
    NAME = "name"  # choosing or typing up to three activities
    RATE = "rate"  # rating each, 0 (unable) to 10 (as before the problem)


@dataclass(frozen=True)
class FunctionData(FlowData):
    """Naming and rating everyday activities, at onboarding or with /activities: nothing is
    stored until every named activity is rated (skipping stores nothing)."""

    flow = Flow.FUNCTION
    step: str = FunctionStep.NAME
    labels: tuple[str, ...] = ()
    ratings: tuple[int, ...] = ()  # one per label, in order, as they come
    card: int | None = None  # the message id of the card, edited in place
    then: str = Next.ONBOARDING


# The day card's "Start" (a routine button's value); "guide:N" resumes at exercise N (from 1).
GUIDE = "guide"


@dataclass(frozen=True)
class GuidedData(FlowData):
    """The guided session: which routine, and which of its exercises is on screen. Each step
    opens with a fresh nonce, so a Next pressed twice, or on an older step, is stale."""

    flow = Flow.GUIDED
    session_id: int = 0
    exercises: tuple[int, ...] = ()
    new: int | None = None  # today's new exercise (marked as new, with its full cautions)
    index: int = 0  # the exercise on screen, from 0
    card: int | None = None  # the message id of the step on screen (its buttons go when left)


FLOW_DATA: dict[Flow, type[FlowData]] = {
    cls.flow: cls
    for cls in (
        ConsentData,
        DurationData,
        ScreeningData,
        SideData,
        CheckinData,
        ReleaseData,
        ReminderData,
        ZoneData,
        StartData,
        ResetData,
        DeleteData,
        LanguageData,
        WeeklyData,
        FunctionData,
        GuidedData,
    )
}
