"""The safety engine: a verdict (tier, reasons, suspect, program action) from a symptom history.

Every rule of shared/clinical.md §2, §4 and §5 is one row of ``RULES``, which names its source;
every threshold lives in the constants block below. The verdict's tier is the most severe row that
matches, so an emergency wins over everything. The engine recomputes "worse" for past check-ins
from their ratings instead of trusting stored verdicts, so a changed threshold applies everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum
from fractions import Fraction
from types import MappingProxyType

from bot.domain.program import (
    EXERCISE_ORDER,
    ActionKind,
    ExclusionReason,
    ProgramAction,
)

# --- Thresholds (clinical.md §4 and §5), in one place -------------------------------------------
RATING_MAX = 10
EXTENT_MAX = 5
WORSE_POINTS = 2  # a rise of 2 points is always worse
WORSE_FRACTION = Fraction(3, 10)  # ... and so is a rise of 30% of the reference value
MIN_CHANGE_POINTS = 1  # ... but never less than 1 point: 3 to 4 is worse, 5 to 6 is not
IMPROVED_POINTS = 2  # meaningful improvement: pain down 2 points ...
IMPROVED_FRACTION = Fraction(3, 10)  # ... or 30% from baseline (Ostelo 2008; Farrar 2001)
PERIPHERALISATION_LEVELS = 1  # the furthest point moving down one level is worse
# Centralisation is a good sign "even if the back itself hurts a little more for a while": a pain
# rise of at most this many points while the furthest point moves up is watched, not "worse".
CENTRALISING_PAIN_ALLOWANCE = 1
STILL_WORSE_AFTER = timedelta(days=3) - timedelta(hours=12)  # "about three days"
REVIEW_AFTER = timedelta(weeks=3)  # no meaningful improvement after 3 weeks of the program
ASSESSMENT_AFTER = timedelta(weeks=6)  # 6 to 8 weeks of symptoms: the earlier end, to be cautious
SETTLE_MINUTES = 30  # "had to stop": it should settle within about 30 minutes

MEASURES: tuple[str, ...] = ("pain", "numbness", "tingling")
EXTENT = "extent"

EXTENSION_EXERCISE = 1  # the press-up: watch for symptoms spreading down the leg
NERVE_EXERCISES = frozenset({2, 3, 4})  # sliders and tensioner: watch for nerve symptoms


class Tier(IntEnum):
    """Verdict tiers from mildest to most severe; "milder" means a smaller value."""

    IMPROVED = 0
    NONE = 1
    WATCH = 2
    REVIEW = 3
    STOP_EXERCISE = 4
    SOON = 5
    URGENT = 6
    EMERGENCY = 7

    @property
    def label(self) -> str:
        return self.name.lower()


# --- Stop signals (clinical.md §2) ---------------------------------------------------------------


@dataclass(frozen=True)
class StopSignal:
    id: str
    tier: Tier
    item: int  # the item number in clinical.md §2
    screening_only: bool = False  # asked at onboarding only
    both_legs_variant: str | None = None  # the EMERGENCY signal this becomes in both legs


STOP_SIGNALS: tuple[StopSignal, ...] = (
    StopSignal("saddle", Tier.EMERGENCY, 1),
    StopSignal("bladder", Tier.EMERGENCY, 2),
    StopSignal("bowel", Tier.EMERGENCY, 3),
    StopSignal("both_legs", Tier.EMERGENCY, 4),
    StopSignal("both_legs_weakness", Tier.EMERGENCY, 5),
    StopSignal("sexual", Tier.EMERGENCY, 6),
    StopSignal("unsteady", Tier.EMERGENCY, 7),
    # "EMERGENCY if it is in both legs": weakness in both legs is its own EMERGENCY button
    # (item 5), so the one-leg button stays URGENT and names its both-legs variant.
    StopSignal("leg_weakness", Tier.URGENT, 8, both_legs_variant="both_legs_weakness"),
    StopSignal("fever", Tier.URGENT, 9),
    StopSignal("injury", Tier.URGENT, 10),
    StopSignal("cancer", Tier.SOON, 11, screening_only=True),
    StopSignal("weight_loss", Tier.SOON, 11, screening_only=True),
    StopSignal("night_pain", Tier.SOON, 11, screening_only=True),
    StopSignal("age", Tier.SOON, 11, screening_only=True),
    StopSignal("steroids", Tier.SOON, 11, screening_only=True),
)
SIGNALS: MappingProxyType[str, StopSignal] = MappingProxyType({s.id: s for s in STOP_SIGNALS})
# Asked at every check-in ("since your last check-in"), in this order.
CHECK_IN_SIGNALS: tuple[str, ...] = tuple(s.id for s in STOP_SIGNALS if not s.screening_only)
# Asked at onboarding ("right now, or new in the last two weeks").
SCREENING_SIGNALS: tuple[str, ...] = tuple(s.id for s in STOP_SIGNALS)


@dataclass(frozen=True, slots=True)
class SignalChoice:
    """A list of stop signals after one press: the ticked signs and whether the list is done."""

    selected: tuple[str, ...]
    done: bool


def choose_signal(
    selected: Iterable[str], value: str, offered: tuple[str, ...]
) -> SignalChoice | None:
    """Apply one press on a list of stop signals: a sign toggles, "none" clears the list and
    ends it, "done" ends it as ticked; None for a value the list does not offer."""
    ticked = list(selected)
    if value in offered:
        if value in ticked:
            ticked.remove(value)
        else:
            ticked.append(value)
        return SignalChoice(tuple(ticked), done=False)
    if value == "none":
        return SignalChoice((), done=True)
    if value == "done":
        return SignalChoice(tuple(ticked), done=True)
    return None


def _check_signals(signals: Iterable[str]) -> frozenset[str]:
    result = frozenset(signals)
    unknown = sorted(result - SIGNALS.keys())
    if unknown:
        raise ValueError(f"unknown stop signal(s): {', '.join(unknown)}")
    return result


def elapsed(later: datetime, earlier: datetime) -> timedelta:
    """Real time between two aware datetimes.

    Subtracting datetimes that share a tzinfo gives wall-clock time, which is off by an hour
    across a DST change; converting to UTC first gives the real duration.
    """
    return later.astimezone(UTC) - earlier.astimezone(UTC)


def _check_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


# --- Inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    pain: int
    numbness: int
    tingling: int
    extent: int  # furthest point: 0 none .. 5 foot or toes (clinical.md §3)

    def __post_init__(self) -> None:
        for name in MEASURES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an integer")
            if not 0 <= value <= RATING_MAX:
                raise ValueError(f"{name} must be 0-{RATING_MAX}, got {value}")
        if isinstance(self.extent, bool) or not isinstance(self.extent, int):
            raise TypeError("extent must be an integer")
        if not 0 <= self.extent <= EXTENT_MAX:
            raise ValueError(f"extent must be 0-{EXTENT_MAX}, got {self.extent}")


@dataclass(frozen=True)
class CheckIn:
    at: datetime
    ratings: Ratings
    signals: frozenset[str] = frozenset()
    day: int | None = None  # the program day it follows; None for an ad-hoc report
    new_exercise: int | None = None  # the exercise that was new in that day's routine

    def __post_init__(self) -> None:
        _check_aware(self.at, "CheckIn.at")
        object.__setattr__(self, "signals", _check_signals(self.signals))
        if self.new_exercise is not None and self.new_exercise not in EXERCISE_ORDER:
            raise ValueError(f"unknown exercise {self.new_exercise}")


class StopCause(StrEnum):
    """What happened when the person had to stop during the routine."""

    SHARP_PAIN = "sharp_pain"  # sharp, shooting or electric pain
    NUMBNESS_TINGLING = "numbness_tingling"  # new or spreading numbness or tingling
    SPREADING = "spreading"  # symptoms spreading down the leg
    OTHER = "other"


@dataclass(frozen=True)
class StoppedEarly:
    at: datetime
    exercise: int
    what: StopCause
    # Did it settle within about 30 minutes (and was it gone the next morning)? None: not known
    # yet. False covers both "not within 30 minutes" and "still there next morning".
    settled: bool | None = None

    def __post_init__(self) -> None:
        _check_aware(self.at, "StoppedEarly.at")
        if self.exercise not in EXERCISE_ORDER:
            raise ValueError(f"unknown exercise {self.exercise}")


Report = CheckIn | StoppedEarly


@dataclass(frozen=True)
class History:
    baseline: Ratings
    baseline_at: datetime
    check_ins: tuple[CheckIn, ...] = ()  # earlier check-ins, oldest first
    program_start: datetime | None = None
    excluded: frozenset[int] = frozenset()  # exercises the program already leaves out
    symptoms_since: datetime | None = None  # when this episode began, if the person said
    # Advice given once per program (ids of REVIEW rules already advised): not repeated daily.
    advised: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_aware(self.baseline_at, "History.baseline_at")
        optional = (("program_start", self.program_start), ("symptoms_since", self.symptoms_since))
        for name, moment in optional:
            if moment is not None:
                _check_aware(moment, f"History.{name}")
        pairs = zip(self.check_ins, self.check_ins[1:], strict=False)
        if any(elapsed(b.at, a.at) < timedelta(0) for a, b in pairs):
            raise ValueError("check-ins must be in time order")


# --- Comparing ratings (clinical.md §4) ----------------------------------------------------------


def rose_meaningfully(reference: int, value: int) -> bool:
    """Up by 2 points, or by 30% of the reference, and by at least 1 point."""
    rise = value - reference
    return rise >= MIN_CHANGE_POINTS and (
        rise >= WORSE_POINTS or rise >= WORSE_FRACTION * reference
    )


def fell_meaningfully(reference: int, value: int) -> bool:
    """Down by 2 points, or by 30% of the reference, and by at least 1 point."""
    drop = reference - value
    return drop >= MIN_CHANGE_POINTS and (
        drop >= IMPROVED_POINTS or drop >= IMPROVED_FRACTION * reference
    )


@dataclass(frozen=True)
class Comparison:
    worse: tuple[str, ...]  # measures (and "extent") that count as worse
    small_rise: tuple[str, ...]  # measures up by less than "worse"
    centralised: bool  # the furthest point moved up toward the back
    centralising_allowance: bool  # a small pain rise excused by centralisation
    improved: bool

    @property
    def is_worse(self) -> bool:
        return bool(self.worse)


def compare(baseline: Ratings, previous: Ratings | None, current: Ratings) -> Comparison:
    """How ``current`` stands against the baseline and the previous check-in."""
    references = (baseline,) if previous is None else (baseline, previous)
    worse: list[str] = []
    small: list[str] = []
    for name in MEASURES:
        value = getattr(current, name)
        refs = [getattr(r, name) for r in references]
        if any(rose_meaningfully(ref, value) for ref in refs):
            worse.append(name)
        elif any(value > ref for ref in refs):
            small.append(name)
    # Peripheralisation counts even when the ratings fall (clinical.md §4).
    peripheralised = any(current.extent - r.extent >= PERIPHERALISATION_LEVELS for r in references)
    if peripheralised:
        worse.append(EXTENT)
    last = references[-1]
    centralised = not peripheralised and current.extent < last.extent
    allowance = (
        centralised
        and worse == ["pain"]
        and all(current.pain - r.pain <= CENTRALISING_PAIN_ALLOWANCE for r in references)
    )
    if allowance:
        worse = []
        small.insert(0, "pain")
    improved = not worse and fell_meaningfully(baseline.pain, current.pain)
    return Comparison(tuple(worse), tuple(small), centralised, allowance, improved)


# --- Facts the rules read ------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Everything the rule predicates need, derived once from the history and the new report."""

    check_in: CheckIn | None
    stop: StoppedEarly | None
    signals: frozenset[str]
    comparison: Comparison | None
    previous_worse: bool = False
    worse_since: datetime | None = None  # the first worse check-in of the current bad run
    suspect: int | None = None
    program_age: timedelta | None = None
    symptom_age: timedelta | None = None
    now: datetime | None = None
    advised: frozenset[str] = frozenset()

    @property
    def worse(self) -> bool:
        return self.comparison is not None and self.comparison.is_worse

    def signals_of(self, tier: Tier) -> tuple[str, ...]:
        return tuple(s.id for s in STOP_SIGNALS if s.id in self.signals and s.tier is tier)

    @property
    def not_improved(self) -> bool:
        return self.comparison is not None and not self.comparison.improved


def _stopped(f: Facts, exercises: frozenset[int], causes: frozenset[StopCause]) -> bool:
    return f.stop is not None and f.stop.exercise in exercises and f.stop.what in causes


_SYMPTOMS = frozenset({StopCause.SHARP_PAIN, StopCause.NUMBNESS_TINGLING, StopCause.SPREADING})
_NERVE_CAUSES = frozenset({StopCause.SHARP_PAIN, StopCause.NUMBNESS_TINGLING})


def _stopped_nerve(f: Facts) -> bool:
    return _stopped(f, NERVE_EXERCISES, _NERVE_CAUSES)


def _stopped_extension(f: Facts) -> bool:
    return _stopped(f, frozenset({EXTENSION_EXERCISE}), frozenset({StopCause.SPREADING}))


def _stopped_other_symptom(f: Facts) -> bool:
    return (
        _stopped(f, frozenset(EXERCISE_ORDER), _SYMPTOMS)
        and not _stopped_nerve(f)
        and not _stopped_extension(f)
    )


def _worse_for_days(f: Facts) -> bool:
    return (
        f.worse
        and f.worse_since is not None
        and f.now is not None
        and elapsed(f.now, f.worse_since) >= STILL_WORSE_AFTER
    )


# --- The rule table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    tier: Tier
    action: ActionKind
    source: str
    applies: Callable[[Facts], bool] = field(repr=False)
    # Leave the suspected exercise out, for this reason.
    excludes: ExclusionReason | None = None


RULES: tuple[Rule, ...] = (
    Rule(
        "emergency_signal",
        Tier.EMERGENCY,
        ActionKind.SAFETY_HOLD,
        "clinical.md §2 EMERGENCY items 1-7 (NHS Sciatica; GIRFT suspected cauda equina pathway"
        " 2023; cauda equina warning card)",
        lambda f: bool(f.signals_of(Tier.EMERGENCY)),
    ),
    Rule(
        "urgent_signal",
        Tier.URGENT,
        ActionKind.SAFETY_HOLD,
        "clinical.md §2 URGENT items 8-10 (NHS Sciatica; IFOMPT red-flag framework 2020)",
        lambda f: bool(f.signals_of(Tier.URGENT)),
    ),
    Rule(
        "soon_signal",
        Tier.SOON,
        ActionKind.PAUSE,
        "clinical.md §2 SOON (onboarding list; taken as SOON whenever reported: be cautious)",
        lambda f: bool(f.signals_of(Tier.SOON)),
    ),
    Rule(
        "stopped_not_settled",
        Tier.SOON,
        ActionKind.PAUSE,
        "clinical.md §5 had to stop: not settled within about 30 minutes or still there next"
        " morning",
        lambda f: f.stop is not None and f.stop.settled is False,
    ),
    Rule(
        "worse_twice",
        Tier.SOON,
        ActionKind.PAUSE,
        "clinical.md §5 worse at two check-ins in a row",
        lambda f: f.worse and f.previous_worse,
    ),
    Rule(
        "worse_for_days",
        Tier.SOON,
        ActionKind.PAUSE,
        "clinical.md §5 still worse after about three days",
        _worse_for_days,
    ),
    Rule(
        "worse_new_exercise",
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        "clinical.md §4 worse, §5 on the day a new exercise was added or at the next check-in"
        " (seed article: one new exercise a day)",
        lambda f: f.worse and f.check_in is not None and f.suspect is not None,
        excludes=ExclusionReason.WORSE_AFTER_ADDING,
    ),
    Rule(
        "stopped_nerve_exercise",
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        "clinical.md §5 had to stop: sharp pain, or new or spreading numbness or tingling, in a"
        " nerve exercise (2, 3, 4); seed article exercise 4",
        _stopped_nerve,
        excludes=ExclusionReason.STOPPED_DURING,
    ),
    Rule(
        "stopped_extension_spreading",
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        "clinical.md §5 had to stop: symptoms spreading down the leg in the press-up (1);"
        " McKenzie peripheralisation",
        _stopped_extension,
        excludes=ExclusionReason.STOPPED_DURING,
    ),
    Rule(
        "stopped_other_symptom",
        Tier.STOP_EXERCISE,
        ActionKind.EXCLUDE,
        "clinical.md §5 had to stop, extended to every exercise and symptom (clinical.md: where"
        " silent, be more cautious)",
        _stopped_other_symptom,
        excludes=ExclusionReason.STOPPED_DURING,
    ),
    Rule(
        "no_improvement_3_weeks",
        Tier.REVIEW,
        ActionKind.CONTINUE,
        "clinical.md §5 no meaningful improvement after 3 weeks of the program; seed article:"
        " no improvement after a while, seek professional help",
        lambda f: (
            f.not_improved
            and f.program_age is not None
            and f.program_age >= REVIEW_AFTER
            and "no_improvement_3_weeks" not in f.advised
        ),
    ),
    Rule(
        "symptoms_6_weeks",
        Tier.REVIEW,
        ActionKind.CONTINUE,
        "clinical.md §5 about 6 to 8 weeks of symptoms despite self-care (Jensen 2019; Koes 2007)",
        lambda f: (
            f.not_improved
            and f.symptom_age is not None
            and f.symptom_age >= ASSESSMENT_AFTER
            and "symptoms_6_weeks" not in f.advised
        ),
    ),
    Rule(
        "worse_no_suspect",
        Tier.WATCH,
        ActionKind.HOLD,
        "clinical.md §4 worse, §5 add no new exercise until a check-in is no longer worse",
        lambda f: f.worse and f.suspect is None,
    ),
    Rule(
        "stopped_other",
        Tier.WATCH,
        ActionKind.HOLD,
        "clinical.md §5 had to stop for another reason: repeat the routine, add nothing new"
        " (cautious)",
        lambda f: f.stop is not None and f.stop.what is StopCause.OTHER,
    ),
    Rule(
        "centralising",
        Tier.WATCH,
        ActionKind.CONTINUE,
        "clinical.md §4 centralisation is a good sign even if the back hurts a little more",
        lambda f: f.comparison is not None and f.comparison.centralising_allowance,
    ),
    Rule(
        "small_rise",
        Tier.WATCH,
        ActionKind.CONTINUE,
        "clinical.md §4 a smaller rise is watch: say so, change nothing",
        lambda f: (
            f.comparison is not None
            and not f.comparison.is_worse
            and bool(f.comparison.small_rise)
            and not f.comparison.centralising_allowance
        ),
    ),
    Rule(
        "improved",
        Tier.IMPROVED,
        ActionKind.CONTINUE,
        "clinical.md §4 meaningful improvement: pain down 2 points or 30% from baseline"
        " (Ostelo 2008; Farrar 2001)",
        lambda f: f.comparison is not None and f.comparison.improved,
    ),
)
RULES_BY_ID: MappingProxyType[str, Rule] = MappingProxyType({r.id: r for r in RULES})
# The verdict when no rule matches: the program simply goes on.
STEADY = "steady"


@dataclass(frozen=True)
class Verdict:
    tier: Tier
    reasons: tuple[str, ...]  # ids of the matching rules, most severe first (or "steady")
    action: ProgramAction
    suspect: int | None = None  # the exercise suspected of making things worse
    signals: tuple[str, ...] = ()  # the stop signals reported, most severe first
    worse: bool = False
    worse_measures: tuple[str, ...] = ()
    watch_measures: tuple[str, ...] = ()
    centralised: bool = False

    @property
    def lead_rule(self) -> str:
        return self.reasons[0]


# --- The engine ----------------------------------------------------------------------------------


def _run(history: History) -> tuple[bool, datetime | None]:
    """Whether the last check-in was worse, and when the current run of bad check-ins began.

    A run is the latest check-ins that were all worse or showed a smaller rise; it starts at its
    earliest worse check-in.
    """
    statuses: list[tuple[datetime, Comparison]] = []
    previous: Ratings | None = None
    for check_in in history.check_ins:
        statuses.append((check_in.at, compare(history.baseline, previous, check_in.ratings)))
        previous = check_in.ratings
    previous_worse = bool(statuses) and statuses[-1][1].is_worse
    since: datetime | None = None
    for at, comparison in reversed(statuses):
        if comparison.is_worse:
            since = at
        elif not comparison.small_rise:
            break
    return previous_worse, since


def _suspect(history: History, check_in: CheckIn) -> int | None:
    candidates = [check_in.new_exercise]
    if history.check_ins:
        # "or at the next check-in" (clinical.md §5): the exercise new at the previous check-in.
        candidates.append(history.check_ins[-1].new_exercise)
    for candidate in candidates:
        if candidate is not None and candidate not in history.excluded:
            return candidate
    return None


def _facts(history: History, report: Report, now: datetime) -> Facts:
    program_age = None if history.program_start is None else elapsed(now, history.program_start)
    symptom_age = None if history.symptoms_since is None else elapsed(now, history.symptoms_since)
    if isinstance(report, StoppedEarly):
        return Facts(
            check_in=None,
            stop=report,
            signals=frozenset(),
            comparison=None,
            suspect=report.exercise,
            program_age=program_age,
            symptom_age=symptom_age,
            now=now,
            advised=history.advised,
        )
    previous = history.check_ins[-1].ratings if history.check_ins else None
    previous_worse, since = _run(history)
    comparison = compare(history.baseline, previous, report.ratings)
    return Facts(
        check_in=report,
        stop=None,
        signals=report.signals,
        comparison=comparison,
        previous_worse=previous_worse,
        worse_since=since if since is not None else (report.at if comparison.is_worse else None),
        suspect=_suspect(history, report),
        program_age=program_age,
        symptom_age=symptom_age,
        now=now,
        advised=history.advised,
    )


def _verdict(facts: Facts, matched: list[Rule], *, screening: bool = False) -> Verdict:
    signals = tuple(
        s.id for s in sorted(STOP_SIGNALS, key=lambda s: -s.tier) if s.id in facts.signals
    )
    comparison = facts.comparison
    worse_measures = comparison.worse if comparison else ()
    watch_measures = comparison.small_rise if comparison else ()
    centralised = comparison.centralised if comparison else False
    if not matched:
        return Verdict(
            Tier.NONE,
            (STEADY,),
            ProgramAction(),
            signals=signals,
            watch_measures=watch_measures,
            centralised=centralised,
        )
    matched = sorted(matched, key=lambda r: -r.tier)  # stable: table order within a tier
    kind = max(r.action for r in matched)
    exclude: int | None = None
    reason: ExclusionReason | None = None
    excluding = [r for r in matched if r.excludes is not None]
    if excluding and facts.suspect is not None:
        exclude, reason = facts.suspect, excluding[0].excludes
        kind = max(kind, ActionKind.EXCLUDE)
    if screening and kind >= ActionKind.PAUSE:
        # Before the program starts, any red flag means: no routine until a professional agrees.
        kind = ActionKind.SAFETY_HOLD
    return Verdict(
        tier=matched[0].tier,
        reasons=tuple(r.id for r in matched),
        action=ProgramAction(kind, exclude, reason),
        suspect=exclude,
        signals=signals,
        worse=bool(worse_measures),
        worse_measures=worse_measures,
        watch_measures=watch_measures,
        centralised=centralised,
    )


def assess(history: History, report: Report, now: datetime) -> Verdict:
    """The verdict on a new check-in or "had to stop" report, given everything before it."""
    _check_aware(now, "now")
    facts = _facts(history, report, now)
    return _verdict(facts, [rule for rule in RULES if rule.applies(facts)])


def screen(signals: Iterable[str]) -> Verdict:
    """Onboarding screening: EMERGENCY/URGENT/SOON signals put the program on safety hold."""
    facts = Facts(check_in=None, stop=None, signals=_check_signals(signals), comparison=None)
    return _verdict(facts, [rule for rule in RULES if rule.applies(facts)], screening=True)


# --- Around the verdicts: confirming stop signals, releasing a hold, symptom duration -----------

# Once advised, these are not repeated at every check-in of the same program.
ONCE_PER_PROGRAM: frozenset[str] = frozenset({"no_improvement_3_weeks", "symptoms_6_weeks"})


def needs_confirmation(signals: Iterable[str]) -> bool:
    """Whether ticked signs lead to EMERGENCY or URGENT advice, which is confirmed once first
    ("Is that right?") so that a slip of the finger can be undone (clinical.md §1)."""
    return any(SIGNALS[s].tier >= Tier.URGENT for s in _check_signals(signals))


def hold_tier(verdict: Verdict) -> Tier | None:
    """The tier a verdict puts the program on hold for, if it does (SOON, URGENT, EMERGENCY)."""
    if verdict.action.kind in (ActionKind.PAUSE, ActionKind.SAFETY_HOLD):
        return max(verdict.tier, Tier.SOON)
    return None


def release_not_before(tier: Tier, since: datetime, min_wait: timedelta) -> datetime:
    """The earliest moment a hold may be lifted: an assessment after emergency or urgent advice
    takes at least ``min_wait``; a SOON pause may be lifted as soon as the person was seen."""
    _check_aware(since, "since")
    return since + min_wait if tier >= Tier.URGENT else since


def keeps_hold(signals: Iterable[str]) -> bool:
    """At the release step's re-screen: any EMERGENCY or URGENT sign still present keeps the
    hold (the bot cannot guide exercise while it is present)."""
    return needs_confirmation(signals)


class SymptomDuration(StrEnum):
    """How long the person has had these symptoms, asked once (clinical.md §5)."""

    UNDER_2_WEEKS = "lt2w"
    WEEKS_2_TO_6 = "2to6w"
    WEEKS_6_TO_12 = "6to12w"
    OVER_3_MONTHS = "gt3m"


# An estimate of how long ago the symptoms began, for each answer: the middle of the range
# (the open-ended one at its start). With ASSESSMENT_AFTER at 6 weeks, the advice comes about 2
# weeks into the program for "2 to 6 weeks" and about 5 weeks in for "less than 2 weeks"; the
# two longer answers are advised when they answer (ADVISED_AT_ANSWER), not by the rule.
_DURATION_ESTIMATE: MappingProxyType[SymptomDuration, timedelta] = MappingProxyType(
    {
        SymptomDuration.UNDER_2_WEEKS: timedelta(weeks=1),
        SymptomDuration.WEEKS_2_TO_6: timedelta(weeks=4),
        SymptomDuration.WEEKS_6_TO_12: timedelta(weeks=9),
        SymptomDuration.OVER_3_MONTHS: timedelta(weeks=13),
    }
)


# Symptoms that have lasted 6 weeks or more when the person says so: the assessment advice is
# given once, when they answer (at the end of onboarding; at once for a person asked later),
# never again by the "symptoms_6_weeks" rule (clinical.md §5). Shorter answers get that rule's
# advice when the estimated total reaches ASSESSMENT_AFTER.
ADVISED_AT_ANSWER: frozenset[SymptomDuration] = frozenset(
    {SymptomDuration.WEEKS_6_TO_12, SymptomDuration.OVER_3_MONTHS}
)
ASSESSMENT_RULE = "symptoms_6_weeks"


def advised_at_answer(duration: str | None) -> bool:
    """Whether this answer to "how long?" gets the assessment advice at once (and only then)."""
    return duration in {d.value for d in ADVISED_AT_ANSWER}


def advised_already(duration: str | None, stored: Iterable[str]) -> frozenset[str]:
    """The once-per-program advice (ONCE_PER_PROGRAM) this person was already given: what the
    stored safety events say, plus the assessment advice when it came with the answer."""
    given = frozenset(stored) & ONCE_PER_PROGRAM
    return given | {ASSESSMENT_RULE} if advised_at_answer(duration) else given


def symptoms_since(duration: SymptomDuration, answered_at: datetime) -> datetime:
    """When the symptoms probably began, from the answer and when it was given."""
    _check_aware(answered_at, "answered_at")
    return answered_at - _DURATION_ESTIMATE[duration]
