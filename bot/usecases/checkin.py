"""The check-in card: ratings, furthest point, stop signals (and "had to stop" details), then
the safety engine's verdict and what it does to the program.

One message, edited in place as each answer comes in; a typed answer gets a fresh card.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from bot.domain.parsing import InvalidNumber, parse_rating
from bot.domain.program import (
    ActionKind,
    DayOutcome,
    ProgramAction,
    RoutineOutcome,
    plan_day,
    record_day,
)
from bot.domain.safety import (
    CHECK_IN_SIGNALS,
    EXTENT_MAX,
    RATING_MAX,
    SIGNALS,
    CheckIn,
    History,
    Ratings,
    StopCause,
    StoppedEarly,
    Tier,
    Verdict,
    assess,
)
from bot.rendering import render_verdict
from bot.replies import Button, Keyboard, Reply, rows
from bot.usecases.flows import HOLD_TEXT, Turn
from db import repo
from db.models import DailySession, ReportKind, SymptomReport

FLOW = "checkin"
RATINGS = ("pain", "numbness", "tingling")
MEASURE_STEPS = (*RATINGS, "extent")
STOP_STEPS = ("stop_exercise", "stop_cause", "settled")
SIGNALS_STEP = "signals"
SETTLED_VALUES = {"yes": True, "no": False, "unsure": None}


def steps_for(data: dict[str, Any]) -> list[str]:
    """The questions of this card, in order."""
    steps: list[str] = []
    if data.get("stopped"):
        steps += ["stop_exercise", "stop_cause"]
        if data.get("stop_cause") not in (None, StopCause.OTHER.value):
            steps.append("settled")
    steps += MEASURE_STEPS
    if data["kind"] != ReportKind.BASELINE:
        steps.append(SIGNALS_STEP)
    return steps


def begin(
    turn: Turn,
    kind: str,
    *,
    session_id: int | None = None,
    stopped: bool = False,
    exercises: list[int] | None = None,
) -> None:
    """Start a card and send its first question as a new, tracked message."""
    turn.start_flow(
        FLOW,
        kind=kind,
        session_id=session_id,
        stopped=stopped,
        exercises=exercises or [],
        answers={},
        signals=[],
    )
    turn.update_flow(step=steps_for(turn.data)[0])
    turn.outcome.replies.append(card(turn, edit=None))


def card(turn: Turn, *, edit: int | None) -> Reply:
    data = turn.data
    lines = [turn.t(f"checkin.title.{data['kind']}")]
    lines += _answered_lines(turn)
    step = data["step"]
    lines.append("")
    lines.append(_question(turn, step))
    return Reply(
        "\n".join(lines), _keyboard(turn, step), edit=edit, track="card" if edit is None else None
    )


def _answered_lines(turn: Turn) -> list[str]:
    data = turn.data
    lines: list[str] = []
    if data.get("stop_exercise"):
        name = turn.content.exercise(int(data["stop_exercise"])).name
        lines.append(turn.t("checkin.answered.stop_exercise", name=name))
    if data.get("stop_cause"):
        lines.append(
            turn.t("checkin.answered.stop_cause", text=turn.t(f"stop_causes.{data['stop_cause']}"))
        )
    answers = data.get("answers", {})
    for measure in RATINGS:
        if measure in answers:
            lines.append(
                turn.t(
                    "checkin.answered.rating",
                    name=turn.t(f"measures.{measure}.name").capitalize(),
                    value=answers[measure],
                )
            )
    if "extent" in answers:
        lines.append(
            turn.t("checkin.answered.extent", text=turn.t(f"measures.extent.{answers['extent']}"))
        )
    return lines


def _question(turn: Turn, step: str) -> str:
    if step in MEASURE_STEPS:
        return turn.t(f"measures.{step}.question")
    if step == "stop_exercise":
        return turn.t("stop_causes.question_exercise")
    if step == "stop_cause":
        return turn.t("stop_causes.question_what")
    if step == "settled":
        return turn.t("stop_causes.question_settled")
    # The stop-signal list: full descriptions in the text, short labels on the buttons.
    items = [
        f"• <b>{turn.t(f'stop_signals.{s}.short')}</b>: {turn.t(f'stop_signals.{s}.full')}"
        for s in CHECK_IN_SIGNALS
    ]
    return "\n".join([turn.t("stop_signals.question_check_in"), *items])


def _keyboard(turn: Turn, step: str) -> Keyboard:
    data = turn.data
    if step in RATINGS:
        return rating_keyboard(turn, step, RATING_MAX)
    if step == "extent":
        return rows(
            *(
                turn.button(turn.t(f"measures.extent.{i}"), f"extent:{i}")
                for i in range(EXTENT_MAX + 1)
            )
        )
    if step == "stop_exercise":
        return rows(
            *(
                turn.button(f"{x}. {turn.content.exercise(x).name}", f"stop_exercise:{x}")
                for x in data.get("exercises", [])
            )
        )
    if step == "stop_cause":
        return rows(
            *(
                turn.button(turn.t(f"stop_causes.{c.value}"), f"stop_cause:{c.value}")
                for c in StopCause
            )
        )
    if step == "settled":
        return rows(
            *(turn.button(turn.t(f"checkin.settled.{v}"), f"settled:{v}") for v in SETTLED_VALUES)
        )
    return signal_keyboard(turn, CHECK_IN_SIGNALS, data.get("signals", []), SIGNALS_STEP)


def rating_keyboard(turn: Turn, step: str, maximum: int) -> Keyboard:
    buttons = [turn.button(str(i), f"{step}:{i}") for i in range(maximum + 1)]
    return (tuple(buttons[:6]), tuple(buttons[6:]))


def signal_keyboard(
    turn: Turn, signals: tuple[str, ...], selected: list[str], step: str
) -> Keyboard:
    """One toggle per signal (ticked when chosen), then "None of these" or "Continue"."""
    tick = turn.t("checkin.tick")
    toggles = [
        turn.button(
            f"{tick} {turn.t(f'stop_signals.{s}.short')}"
            if s in selected
            else turn.t(f"stop_signals.{s}.short"),
            f"{step}:{s}",
        )
        for s in signals
    ]
    finish: Button = (
        turn.button(turn.t("checkin.signals_done"), f"{step}:done")
        if selected
        else turn.button(turn.t("stop_signals.none"), f"{step}:none")
    )
    return (*rows(*toggles, width=2), (finish,))


# Answers


async def on_button(turn: Turn, step: str, value: str, message_id: int) -> None:
    """A tap on the card."""
    if step == SIGNALS_STEP:
        await _on_signal(turn, value, message_id)
        return
    try:
        parsed = _parse(turn, step, value)
    except ValueError:
        turn.outcome.answer = turn.t("errors.stale_button")
        return
    _record(turn, step, parsed)
    await _advance(turn, edit=message_id)


async def on_text(turn: Turn, text: str) -> None:
    """A typed answer: a number while a rating is pending; anything else gets the range."""
    step = turn.data["step"]
    if step not in MEASURE_STEPS:
        turn.outcome.add(turn.t("checkin.use_buttons"))
        return
    maximum = EXTENT_MAX if step == "extent" else RATING_MAX
    try:
        value = parse_rating(text, maximum)
    except InvalidNumber:
        turn.outcome.add(turn.t("checkin.invalid_number", maximum=maximum))
        return
    old = turn.data.get("mid")
    if isinstance(old, int):
        # The old card keeps its text but loses its buttons; the next question comes fresh.
        turn.outcome.replies.append(Reply(_progress_text(turn), (), edit=old))
    _record(turn, step, value)
    await _advance(turn, edit=None)


def _progress_text(turn: Turn) -> str:
    return "\n".join([turn.t(f"checkin.title.{turn.data['kind']}"), *_answered_lines(turn)])


def _parse(turn: Turn, step: str, value: str) -> Any:
    if step in RATINGS:
        return parse_rating(value, RATING_MAX)
    if step == "extent":
        return parse_rating(value, EXTENT_MAX)
    if step == "stop_exercise":
        exercise = int(value)
        if exercise not in turn.data.get("exercises", []):
            raise ValueError(value)
        return exercise
    if step == "stop_cause":
        return StopCause(value).value
    if step == "settled":
        if value not in SETTLED_VALUES:
            raise ValueError(value)
        return value
    raise ValueError(step)


def _record(turn: Turn, step: str, value: Any) -> None:
    if step in MEASURE_STEPS:
        turn.update_flow(answers={**turn.data.get("answers", {}), step: value})
    else:
        turn.update_flow(**{step: value})


async def _advance(turn: Turn, *, edit: int | None) -> None:
    data = turn.data
    remaining = [
        s
        for s in steps_for(data)
        if not (s in MEASURE_STEPS and s in data.get("answers", {}))
        and not (s in STOP_STEPS and data.get(s) is not None)
    ]
    if remaining:
        turn.update_flow(step=remaining[0])
        turn.outcome.replies.append(card(turn, edit=edit))
        return
    await _finish(turn, edit=edit)


async def _on_signal(turn: Turn, value: str, message_id: int) -> None:
    selected: list[str] = list(turn.data.get("signals", []))
    if value in ("none", "done"):
        if value == "none":
            selected = []
        turn.update_flow(signals=selected)
        await _finish(turn, edit=message_id)
        return
    if value not in CHECK_IN_SIGNALS:
        turn.outcome.answer = turn.t("errors.stale_button")
        return
    if value in selected:
        selected.remove(value)
    else:
        selected.append(value)
    turn.update_flow(signals=selected)
    turn.outcome.replies.append(card(turn, edit=message_id))


# The end of a card


async def _finish(turn: Turn, *, edit: int | None) -> None:
    data = turn.data
    kind = data["kind"]
    done_text = "\n".join([_progress_text(turn), turn.t("checkin.recorded")])
    turn.outcome.replies.append(Reply(done_text, (), edit=edit))
    if kind == ReportKind.BASELINE:
        from bot.usecases import onboarding

        repo.add_report(turn.db, turn.patient, kind, data["answers"], turn.now)
        turn.end_flow()
        onboarding.after_baseline(turn)
        return
    await _conclude(turn)


async def history_of(turn: Turn) -> History | None:
    """The safety engine's view of this person: baseline and this program's earlier check-ins."""
    reports = await repo.reports_of(turn.db, turn.patient.id)
    baselines = [r for r in reports if r.kind == ReportKind.BASELINE]
    if not baselines:
        return None
    baseline = baselines[-1]
    epoch = turn.patient.program_epoch
    sessions = {s.id: s for s in await repo.sessions_of(turn.db, turn.patient.id, epoch)}
    check_ins = tuple(
        _as_check_in(r, sessions.get(r.session_id) if r.session_id else None)
        for r in reports
        if r.kind != ReportKind.BASELINE
        and r.program_epoch == epoch
        and r.created_at >= baseline.created_at
    )
    started = turn.patient.program_started_on
    return History(
        baseline=_ratings(baseline),
        baseline_at=baseline.created_at,
        check_ins=check_ins,
        program_start=datetime.combine(started, time(0), UTC) if started else None,
        excluded=turn.state.excluded_ids,
    )


def _ratings(report: SymptomReport) -> Ratings:
    return Ratings(report.pain, report.numbness, report.tingling, report.extent)


def _as_check_in(report: SymptomReport, session: DailySession | None) -> CheckIn:
    return CheckIn(
        at=report.created_at,
        ratings=_ratings(report),
        signals=frozenset(s for s in report.stop_signals if s in SIGNALS),
        day=session.day_number if session else None,
        new_exercise=session.new_exercise if session else None,
    )


async def _conclude(turn: Turn) -> None:
    """Store the report, ask the safety engine, apply its verdict, and say what happens next."""
    data = turn.data
    kind = data["kind"]
    session = (
        await repo.get_session(turn.db, data["session_id"]) if data.get("session_id") else None
    )
    history = await history_of(turn)
    ratings = Ratings(*(int(data["answers"][m]) for m in MEASURE_STEPS))
    signals = frozenset(data.get("signals", []))
    check_in = CheckIn(
        at=turn.now,
        ratings=ratings,
        signals=signals,
        day=session.day_number if session else None,
        new_exercise=session.new_exercise if session else None,
    )
    report = repo.add_report(
        turn.db,
        turn.patient,
        kind,
        dict(
            zip(
                MEASURE_STEPS,
                (ratings.pain, ratings.numbness, ratings.tingling, ratings.extent),
                strict=True,
            )
        ),
        turn.now,
        stop_signals=sorted(signals),
        session_id=session.id if session else None,
        stopped_exercise=int(data["stop_exercise"]) if data.get("stop_exercise") else None,
        stopped_reason=data.get("stop_cause"),
    )
    await turn.db.flush()

    verdicts: list[Verdict] = []
    if history is None:
        # No baseline (should not happen after onboarding): judge the signals alone, cautiously.
        from bot.domain.safety import screen

        verdicts.append(screen(signals))
    else:
        verdicts.append(assess(history, check_in, turn.now))
        if data.get("stopped") and data.get("stop_exercise"):
            stop = StoppedEarly(
                at=turn.now,
                exercise=int(data["stop_exercise"]),
                what=StopCause(data["stop_cause"]),
                settled=SETTLED_VALUES.get(str(data.get("settled"))),
            )
            verdicts.append(assess(history, stop, turn.now))
    verdicts.sort(key=lambda v: v.tier, reverse=True)
    for verdict in verdicts:
        store_verdict(turn, verdict, report_id=report.id)

    routine = RoutineOutcome.NO_ANSWER
    if session is not None:
        routine = RoutineOutcome.STOPPED_EARLY if data.get("stopped") else RoutineOutcome.DONE
    state = turn.state
    primary = verdicts[0]
    state = record_day(state, DayOutcome(routine, primary.action))
    for other in verdicts[1:]:
        if other.action.exclude is not None and other.action.exclude not in state.excluded_ids:
            state = record_day(state, DayOutcome(RoutineOutcome.NO_ANSWER, _exclusion_only(other)))
    turn.end_flow()
    turn.save_state(state)

    texts = [
        render_verdict(
            primary, turn.content, zone=turn.patient.time_zone, next_plan=plan_day(state)
        )
    ]
    for other in verdicts[1:]:
        if other.tier >= Tier.STOP_EXERCISE and other.lead_rule != primary.lead_rule:
            texts.append(render_verdict(other, turn.content, zone=turn.patient.time_zone))
    text = "\n\n".join(texts)
    if primary.tier >= Tier.URGENT:
        turn.set_kept(HOLD_TEXT, text)
        turn.outcome.add(text, hold_keyboard(turn))
    else:
        turn.outcome.add(text)


def store_verdict(turn: Turn, verdict: Verdict, *, report_id: int | None = None) -> None:
    """Every verdict is kept as a safety event (clinical.md §1)."""
    repo.add_event(
        turn.db,
        turn.patient,
        verdict.tier.label,
        verdict.action.kind.label,
        verdict.reasons,
        turn.now,
        report_id=report_id,
        suspected_exercise=verdict.suspect,
    )


def _exclusion_only(verdict: Verdict) -> ProgramAction:
    action = verdict.action
    return ProgramAction(ActionKind.EXCLUDE, action.exclude, action.reason)


def hold_keyboard(turn: Turn) -> Keyboard:
    """The one way out of a safety hold: a professional has seen the person and agreed."""
    turn.start_flow("hold")
    return rows(turn.button(turn.t("hold.confirm_button"), "hold:seen"))
