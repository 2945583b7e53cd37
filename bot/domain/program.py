"""The one-new-exercise-a-day progression of the seed article, as pure functions over a small state.

Vocabulary:

- A *step* adds the next exercise in line (1, 2, 3, 4, 5). The article's "day" is this step.
- ``ProgramState.day`` is the practice day shown to the person as "Day N": 1 + the number of
  routines actually done (done or stopped early) and rest days. A skipped or unanswered day
  repeats the same routine under the same day number, so "Day N" always means "your N-th
  practice day". ``program_day`` is the one place that turns the state into the number shown
  (the routine heading, /status, the sessions behind the weekly look back, the PDF and the CSV).
- A *rest day* is a day with nothing left to do (every exercise introduced so far was left out,
  and another can still come). It is not answered: it counts as a day when it is sent, and
  the next morning adds the next exercise (decision where clinical.md is silent: the suspect is
  already out, the next exercise still comes alone and is checked at its check-in, and a second
  worse check-in in a row pauses the program, clinical.md §5).
- An exercise is *new* from the step that adds it until a routine containing it has been done.

The state round-trips through a small JSON-able dict, so a scheduler can plan a routine from one
stored row without replaying the whole history. The person's status is not part of that dict: it
is stored once, in its own column, and handed back in by ``ProgramState.from_json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from typing import Any

EXERCISE_ORDER: tuple[int, ...] = (1, 2, 3, 4, 5)
# Exercise 4 (belt tensioning) strains the nerve more than the sliders 2 and 3, so it comes only
# after both were done and tolerated (clinical.md §5; Coppieters and Butler 2008).
PREREQUISITES: Mapping[int, frozenset[int]] = {4: frozenset({2, 3})}

STATE_VERSION = 2  # version 1 also stored the status, which now lives only in its own column


class RoutineOutcome(StrEnum):
    """What happened to the day's routine: the button's value, the stored value, one vocabulary."""

    DONE = "done"
    SKIPPED = "skipped"
    STOPPED = "stopped"  # had to stop during the routine
    NO_ANSWER = "no_answer"
    REST = "rest"  # a rest day: nothing to do, counted when sent (never a button's value)


# The outcomes after which the day counts: the next routine is the next day.
PRACTISED: frozenset[RoutineOutcome] = frozenset(
    {RoutineOutcome.DONE, RoutineOutcome.STOPPED, RoutineOutcome.REST}
)


class ActionKind(IntEnum):
    """What a verdict does to the program, ordered from lightest to heaviest."""

    CONTINUE = 0
    HOLD = 1  # no new exercise tomorrow
    EXCLUDE = 2  # leave one exercise out (and hold)
    PAUSE = 3  # SOON: no routine until the person confirms a professional has seen them
    SAFETY_HOLD = 4  # EMERGENCY/URGENT: the same, and not sooner than a few hours

    @property
    def label(self) -> str:
        return self.name.lower()


class ExclusionReason(StrEnum):
    """Why an exercise is left out of the routine."""

    WORSE_AFTER_ADDING = "worse_after_adding"
    STOPPED_DURING = "stopped_during"
    NEEDS_SLIDERS = "needs_sliders"  # exercise 4 when exercise 2 or 3 was not tolerated


class PatientStatus(StrEnum):
    """Where a person stands; the one vocabulary for it (stored as these strings)."""

    ONBOARDING = "onboarding"  # setting up: no program yet
    ACTIVE = "active"
    PAUSED = "paused"  # paused by the person (/pause): /resume continues at once
    SAFETY_HOLD = "safety_hold"  # a verdict paused it: only the release step continues


@dataclass(frozen=True)
class ProgramAction:
    """The program half of a verdict: a kind, and the exercise to leave out if any."""

    kind: ActionKind = ActionKind.CONTINUE
    exclude: int | None = None
    reason: ExclusionReason | None = None

    def __post_init__(self) -> None:
        if (self.exclude is None) != (self.reason is None):
            raise ValueError("an exclusion needs both an exercise and a reason")
        if self.exclude is not None and self.exclude not in EXERCISE_ORDER:
            raise ValueError(f"unknown exercise {self.exclude}")
        if self.kind is ActionKind.EXCLUDE and self.exclude is None:
            raise ValueError("EXCLUDE needs an exercise")


CONTINUE = ProgramAction()
HOLD = ProgramAction(ActionKind.HOLD)


@dataclass(frozen=True)
class Exclusion:
    exercise: int
    reason: ExclusionReason


@dataclass(frozen=True)
class DayOutcome:
    """One day as the program sees it: the routine's outcome and the verdict's action.

    ``action`` is None when no check-in was answered: nothing is known, so nothing advances.
    """

    routine: RoutineOutcome
    action: ProgramAction | None = None


@dataclass(frozen=True)
class Resume:
    """The person resumes after a pause or (with a professional's agreement) a safety hold."""


@dataclass(frozen=True)
class Reset:
    """The person starts again at day 1 with no exclusions."""


ProgramEvent = DayOutcome | Resume | Reset


@dataclass(frozen=True)
class ProgramState:
    day: int = 1
    unlocked: tuple[int, ...] = (1,)  # introduced so far, in order, including excluded ones
    new: int | None = 1  # introduced and not yet tried in a done routine
    excluded: tuple[Exclusion, ...] = ()
    holding: bool = False  # the last check-in was worse: no new exercise until one is not
    status: PatientStatus = PatientStatus.ACTIVE  # not serialised: see to_json

    def __post_init__(self) -> None:
        if self.day < 1:
            raise ValueError("day starts at 1")
        if not _is_valid_order(self.unlocked):
            raise ValueError(f"invalid unlocked exercises {self.unlocked}")
        if self.new is not None and self.new not in self.unlocked:
            raise ValueError("the new exercise must be unlocked")
        ids = [e.exercise for e in self.excluded]
        if len(ids) != len(set(ids)) or any(i not in EXERCISE_ORDER for i in ids):
            raise ValueError(f"invalid exclusions {self.excluded}")

    @property
    def excluded_ids(self) -> frozenset[int]:
        return frozenset(e.exercise for e in self.excluded)

    def to_json(self) -> dict[str, Any]:
        """The state without its status (the status column is the one place that keeps it)."""
        return {
            "v": STATE_VERSION,
            "day": self.day,
            "unlocked": list(self.unlocked),
            "new": self.new,
            "excluded": [[e.exercise, e.reason.value] for e in self.excluded],
            "holding": self.holding,
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], status: PatientStatus = PatientStatus.ACTIVE
    ) -> ProgramState:
        """Rebuild a state with the stored status; raises ValueError on anything malformed
        rather than guessing."""
        try:
            if data["v"] not in (1, STATE_VERSION):
                raise ValueError(f"unsupported program state version {data['v']!r}")
            new = data["new"]
            return cls(
                day=_int(data["day"]),
                unlocked=tuple(_int(x) for x in data["unlocked"]),
                new=None if new is None else _int(new),
                excluded=tuple(
                    Exclusion(_int(ex), ExclusionReason(reason)) for ex, reason in data["excluded"]
                ),
                holding=_bool(data["holding"]),
                status=PatientStatus(status),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed program state {dict(data)!r}: {exc}") from exc


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected a boolean, got {value!r}")
    return value


def _is_valid_order(unlocked: tuple[int, ...]) -> bool:
    # Exercise 4 may be skipped over, so "unlocked" is an increasing run of the order starting
    # at exercise 1, not always a strict prefix.
    return (
        bool(unlocked)
        and unlocked[0] == EXERCISE_ORDER[0]
        and all(x in EXERCISE_ORDER for x in unlocked)
        and list(unlocked) == sorted(set(unlocked))
    )


@dataclass(frozen=True)
class DayPlan:
    """What to send today."""

    day: int
    exercises: tuple[int, ...]  # in order
    new: int | None
    excluded: tuple[Exclusion, ...]
    holding: bool
    status: PatientStatus
    complete: bool = False  # every exercise has been introduced (or left out)
    nothing_left: bool = False  # every exercise was left out: only a professional can help now
    next_exercise: int | None = field(default=None)  # the one the next step would add

    @property
    def sends_routine(self) -> bool:
        return self.status is PatientStatus.ACTIVE and not self.nothing_left

    @property
    def rest_day(self) -> bool:
        """Nothing to do today, but the program goes on: a rest day (no buttons, no check-in)."""
        return self.sends_routine and not self.exercises


@dataclass(frozen=True)
class ProgramDay:
    """The program day as the person is told it: "Day N", and whether today's is behind them."""

    number: int
    done: bool = False  # today's routine was done, stopped early or was a rest day


def program_day(state: ProgramState, today: RoutineOutcome | None = None) -> ProgramDay:
    """The one day count. ``today`` is the outcome of today's routine, if one was sent.

    A routine done (or stopped early, or a rest day) moves the state on to the next day at
    once; that same day, the person is still on the day they just did, and it is done.
    """
    if today in PRACTISED and state.day > 1:
        return ProgramDay(state.day - 1, done=True)
    return ProgramDay(state.day)


def start_program() -> ProgramState:
    return ProgramState()


def next_in_line(state: ProgramState) -> int | None:
    """The exercise the next step would add, skipping any whose prerequisites were not tolerated."""
    excluded = state.excluded_ids
    for exercise in EXERCISE_ORDER:
        if exercise in state.unlocked or exercise in excluded:
            continue
        if PREREQUISITES.get(exercise, frozenset()) & excluded:
            continue
        # Prerequisites come earlier in the order, so reaching this one means they were tolerated.
        return exercise
    return None


def plan_day(state: ProgramState) -> DayPlan:
    excluded = state.excluded_ids
    exercises = tuple(x for x in state.unlocked if x not in excluded)
    upcoming = next_in_line(state)
    complete = upcoming is None
    return DayPlan(
        day=program_day(state).number,
        exercises=exercises,
        new=state.new if state.new in exercises else None,
        excluded=state.excluded,
        holding=state.holding,
        status=state.status,
        complete=complete,
        nothing_left=not exercises and upcoming is None,
        next_exercise=upcoming,
    )


def _exclude(state: ProgramState, exercise: int, reason: ExclusionReason) -> ProgramState:
    exclusions = list(state.excluded)
    if exercise not in state.excluded_ids:
        exclusions.append(Exclusion(exercise, reason))
    elif reason is ExclusionReason.STOPPED_DURING:
        # The person had to stop during it: that is the reason they are told (it is what they
        # said), even when the same check-in was also worse after it was added.
        exclusions = [
            Exclusion(exercise, reason) if e.exercise == exercise else e for e in exclusions
        ]
    # Be cautious: if a slider (2 or 3) is not tolerated, the stronger tensioner (4) is not
    # offered, and is dropped again if it was already in the routine.
    if exercise in PREREQUISITES[4] and 4 not in {e.exercise for e in exclusions}:
        exclusions.append(Exclusion(4, ExclusionReason.NEEDS_SLIDERS))
    exclusions.sort(key=lambda e: e.exercise)
    new = None if state.new == exercise else state.new
    return replace(state, excluded=tuple(exclusions), new=new)


def record_day(state: ProgramState, outcome: DayOutcome) -> ProgramState:
    """Fold one day into the state. Only a done routine with a 'continue' verdict advances."""
    if outcome.routine is RoutineOutcome.REST and not plan_day(state).rest_day:
        # Only a day with nothing to do can be a rest day: anything else is not an answer.
        outcome = replace(outcome, routine=RoutineOutcome.NO_ANSWER)
    action = outcome.action
    practised = outcome.routine in PRACTISED
    if state.status is not PatientStatus.ACTIVE:
        # No routine was sent: only a heavier verdict (e.g. an ad-hoc report) changes anything.
        practised = False

    new_state = state
    if practised:
        new_state = replace(new_state, day=new_state.day + 1)
        if outcome.routine in (RoutineOutcome.DONE, RoutineOutcome.REST):
            new_state = replace(new_state, new=None)

    if action is None:
        return new_state
    if action.exclude is not None and action.reason is not None:
        new_state = _exclude(new_state, action.exclude, action.reason)

    if action.kind in (ActionKind.SAFETY_HOLD, ActionKind.PAUSE):
        # Both wait for the person to confirm that a professional has seen them.
        return replace(new_state, status=PatientStatus.SAFETY_HOLD, holding=True)
    if action.kind in (ActionKind.HOLD, ActionKind.EXCLUDE):
        return replace(new_state, holding=True)

    # CONTINUE: a check-in that is no longer worse ends a hold; the program advances one step,
    # but only after a routine that was fully done.
    if state.status is not PatientStatus.ACTIVE:
        return new_state
    new_state = replace(new_state, holding=False)
    if outcome.routine in (RoutineOutcome.DONE, RoutineOutcome.REST):
        upcoming = next_in_line(new_state)
        if upcoming is None:
            return new_state
        return replace(new_state, unlocked=(*new_state.unlocked, upcoming), new=upcoming)
    return new_state


def rest_day(state: ProgramState) -> ProgramState:
    """A rest day was sent: it counts as a day, and the next morning adds the next exercise.
    On a day that is not a rest day, nothing changes."""
    if not plan_day(state).rest_day:
        return state
    return record_day(state, DayOutcome(RoutineOutcome.REST, CONTINUE))


def pause(state: ProgramState) -> ProgramState:
    """The person pauses their program (a safety hold is never softened into a pause)."""
    if state.status is PatientStatus.SAFETY_HOLD:
        return state
    return replace(state, status=PatientStatus.PAUSED)


def resume(state: ProgramState) -> ProgramState:
    """Back to active after a pause or hold; the first routine adds nothing new (cautious)."""
    if state.status is PatientStatus.ACTIVE:
        return state
    return replace(state, status=PatientStatus.ACTIVE, holding=True)


def replay(events: Iterable[ProgramEvent], start: ProgramState | None = None) -> ProgramState:
    """Fold a history of days, resumes and resets into the current state."""
    state = start if start is not None else start_program()
    for event in events:
        if isinstance(event, Reset):
            state = start_program()
        elif isinstance(event, Resume):
            state = resume(state)
        else:
            state = record_day(state, event)
    return state
