"""The end of a check-in: store the report, ask the safety engine, apply its verdicts to the
program (leave an exercise out, hold the progression, put the program on hold), and say what
happens next."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.domain.flows import CheckinData, CheckinStep, Next
from bot.domain.program import (
    ActionKind,
    DayOutcome,
    ExclusionReason,
    PatientStatus,
    ProgramAction,
    RoutineOutcome,
    plan_day,
    record_day,
)
from bot.domain.safety import (
    SIGNALS,
    CheckIn,
    History,
    Ratings,
    StopCause,
    StoppedEarly,
    SymptomDuration,
    Tier,
    Verdict,
    advised_already,
    assess,
    hold_tier,
    screen,
)
from bot.rendering.verdict_texts import hold_keyboard, render_verdicts
from bot.usecases import holds
from bot.usecases.turn import Turn
from db import repo
from db.models import DailySession, ReportKind, SymptomReport

# "Had to stop", settled? yes: it settled; no: not within about 30 minutes (SOON now);
# unsure: not yet, or too soon to say (asked again the next morning).
SETTLED = {"yes": True, "no": False, "unsure": None}
DURATION_ASKED = "asked"  # symptom_duration while the question is open for someone onboarded


def ratings_of(data: CheckinData) -> repo.Ratings:
    answers = data.answers
    return repo.Ratings(
        answers[CheckinStep.PAIN],
        answers[CheckinStep.NUMBNESS],
        answers[CheckinStep.TINGLING],
        answers[CheckinStep.EXTENT],
    )


def _ratings(report: SymptomReport) -> Ratings:
    assert report.has_ratings
    return Ratings(report.pain, report.numbness, report.tingling, report.extent)  # type: ignore[arg-type]


def _as_check_in(report: SymptomReport, session: DailySession | None) -> CheckIn:
    return CheckIn(
        at=report.created_at,
        ratings=_ratings(report),
        signals=frozenset(s for s in report.stop_signals if s in SIGNALS),
        day=session.day_number if session else None,
        new_exercise=session.new_exercise if session else None,
    )


def symptoms_since(turn: Turn) -> datetime | None:
    return turn.patient.symptoms_since


async def history_of(turn: Turn) -> History | None:
    """The safety engine's view of this person: baseline and this program's earlier check-ins."""
    reports = await repo.reports_of(turn.db, turn.patient.id)
    baselines = [r for r in reports if r.kind == ReportKind.BASELINE and r.has_ratings]
    if not baselines:
        return None
    baseline = baselines[-1]
    epoch = turn.patient.program_epoch
    sessions = {s.id: s for s in await repo.sessions_of(turn.db, turn.patient.id, epoch)}
    check_ins = tuple(
        _as_check_in(r, sessions.get(r.session_id) if r.session_id else None)
        for r in reports
        if r.kind in (ReportKind.SESSION, ReportKind.ADHOC)
        and r.has_ratings
        and r.program_epoch == epoch
        and r.created_at >= baseline.created_at
    )
    started = turn.patient.program_started_on
    program_start = datetime.combine(started, time(0), UTC) if started else None
    advised = await repo.advised_once(turn.db, turn.patient.id, program_start)
    return History(
        baseline=_ratings(baseline),
        baseline_at=baseline.created_at,
        check_ins=check_ins,
        program_start=program_start,
        excluded=turn.state.excluded_ids,
        symptoms_since=turn.patient.symptoms_since,
        advised=advised_already(turn.patient.symptom_duration, advised),
    )


async def conclude(turn: Turn, data: CheckinData) -> None:
    """Store the report, ask the safety engine, apply its verdicts, and say what happens next."""
    kind = ReportKind(data.kind)
    session = await repo.get_session(turn.db, data.session_id) if data.session_id else None
    history = await history_of(turn)
    ratings = ratings_of(data)
    settled = SETTLED.get(data.settled or "")
    report = repo.add_report(
        turn.db,
        turn.patient,
        kind,
        turn.now,
        ratings=ratings,
        stop_signals=sorted(data.signals),
        session_id=session.id if session else None,
        stopped_exercise=data.stop_exercise,
        stopped_reason=data.stop_cause,
        settled=settled if data.stopped else None,
    )
    await turn.db.flush()

    check_in = CheckIn(
        at=turn.now,
        ratings=Ratings(ratings.pain, ratings.numbness, ratings.tingling, ratings.extent),
        signals=frozenset(data.signals),
        day=session.day_number if session else None,
        new_exercise=session.new_exercise if session else None,
    )
    verdicts: list[Verdict] = []
    if history is None:
        # No baseline (should not happen after onboarding): judge the signals alone, cautiously.
        verdicts.append(screen(data.signals))
    else:
        verdicts.append(assess(history, check_in, turn.now))
        if data.stopped and data.stop_exercise and data.stop_cause:
            stop = StoppedEarly(
                at=turn.now,
                exercise=data.stop_exercise,
                what=StopCause(data.stop_cause),
                settled=settled,
            )
            verdicts.append(assess(history, stop, turn.now))
            if settled is None and data.stop_cause != StopCause.OTHER:
                # Not settled yet, or too soon to say: asked again the next morning.
                turn.patient.follow_up_report_id = report.id
                turn.patient.follow_up_asked_at = None
    verdicts.sort(key=lambda v: v.tier, reverse=True)
    for verdict in verdicts:
        if verdict.tier > Tier.NONE:
            holds.store_verdict(turn, verdict, report_id=report.id)

    routine = RoutineOutcome.NO_ANSWER
    if session is not None:
        routine = RoutineOutcome.STOPPED if data.stopped else RoutineOutcome.DONE
    apply_verdicts(turn, verdicts, routine)
    primary = verdicts[0]
    text = render_verdicts(
        verdicts, turn.texts, zone=turn.patient.time_zone, next_plan=plan_day(turn.state)
    )
    turn.response.add(text, hold_keyboard(turn.texts, primary.tier))
    if turn.patient.symptom_duration is None and primary.tier < Tier.SOON:
        # Asked once of people who started before the question existed (clinical.md §5).
        turn.patient.symptom_duration = DURATION_ASKED
        turn.then(Next.DURATION)
    elif (
        turn.patient.symptom_side is None
        and turn.patient.status is not PatientStatus.ONBOARDING
        and primary.tier < Tier.SOON
    ):
        # Which leg: asked once of people who started before the question existed (§3).
        turn.then(Next.SIDE)


async def conclude_signs(turn: Turn, data: CheckinData) -> None:
    """The end of a card that asked the stop signals only (free text named them): what a tap on
    those signs gives at a check-in — the report, the verdict stored, its hold and its advice."""
    if not data.signals:
        turn.response.add(turn.t("verdict.words.none"))
        return
    report = repo.add_report(
        turn.db, turn.patient, ReportKind.ADHOC, turn.now, stop_signals=sorted(data.signals)
    )
    await turn.db.flush()
    verdict = screen(data.signals)
    holds.store_verdict(turn, verdict, report_id=report.id)
    if turn.patient.program_started_on is not None:
        apply_verdicts(turn, [verdict], RoutineOutcome.NO_ANSWER)
    else:
        tier = hold_tier(verdict)
        if tier is not None:
            holds.enter_hold(turn, tier)
    text = render_verdicts([verdict], turn.texts, zone=turn.patient.time_zone)
    turn.response.add(text, hold_keyboard(turn.texts, verdict.tier))


def apply_verdicts(turn: Turn, verdicts: list[Verdict], routine: RoutineOutcome) -> None:
    """Fold the verdicts into the program; a hold puts the program on hold for its tier."""
    state = turn.state
    primary, *others = verdicts
    state = record_day(state, DayOutcome(routine, primary.action))
    for other in others:
        action = other.action
        if action.exclude is not None and (
            action.exclude not in state.excluded_ids
            or action.reason is ExclusionReason.STOPPED_DURING
        ):
            exclusion = ProgramAction(ActionKind.EXCLUDE, action.exclude, action.reason)
            state = record_day(state, DayOutcome(RoutineOutcome.NO_ANSWER, exclusion))
    turn.save_state(state)
    tiers = [t for t in (hold_tier(v) for v in verdicts) if t is not None]
    if tiers:
        holds.enter_hold(turn, max(tiers))


def duration_known(turn: Turn) -> SymptomDuration | None:
    try:
        return SymptomDuration(turn.patient.symptom_duration or "")
    except ValueError:
        return None
