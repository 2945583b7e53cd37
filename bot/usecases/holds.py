"""Safety holds that hold (clinical.md §1): entering one, showing its advice again unchanged, and
the one deliberate way out — a professional has seen the person since the verdict and agreed,
not sooner than HOLD_MIN_HOURS after emergency or urgent advice, and a re-screen of the stop
signals finds none of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.flows import Next, ReleaseData, ReleaseStep
from bot.domain.program import ActionKind, PatientStatus, ProgramAction, resume
from bot.domain.safety import (
    CHECK_IN_SIGNALS,
    SIGNALS,
    Tier,
    Verdict,
    choose_signal,
    keeps_hold,
    release_not_before,
    screen,
)
from bot.domain.timing import local_date
from bot.rendering import checkin_card as card_texts
from bot.rendering import status as status_texts
from bot.rendering.replies import Reply
from bot.rendering.verdict_texts import hold_keyboard, render_screening, render_verdict
from bot.usecases.turn import Turn
from db import repo
from db.models import ReportKind


def current_tier(turn: Turn) -> Tier | None:
    """The tier of the hold the person is on now (bot.domain.safety.hold_tier: a verdict's)."""
    if turn.patient.status is not PatientStatus.SAFETY_HOLD:
        return None
    try:
        return Tier[(turn.patient.hold_tier or "emergency").upper()]
    except KeyError:
        return Tier.EMERGENCY  # unreadable: the strictest


def release_from(turn: Turn) -> datetime | None:
    tier = current_tier(turn)
    since = turn.patient.hold_since
    if tier is None or since is None:
        return None
    return release_not_before(tier, since, timedelta(hours=turn.settings.hold_min_hours))


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


def _stored_tier(turn: Turn) -> Tier | None:
    try:
        return Tier[turn.patient.hold_tier.upper()] if turn.patient.hold_tier else None
    except KeyError:
        return None


def enter_hold(turn: Turn, tier: Tier) -> None:
    """Put the program on hold for ``tier`` (the strictest tier of the hold stays); emergency or
    urgent advice, or a stricter tier, restarts the wait."""
    current = _stored_tier(turn)
    if current is None or tier >= current or tier >= Tier.URGENT:
        turn.patient.hold_tier = max(tier, current or tier).label
        turn.patient.hold_since = turn.now
    state = turn.state
    turn.save_state(replace(state, status=PatientStatus.SAFETY_HOLD, holding=True))
    turn.patient.paused_until = None
    turn.patient.follow_up_report_id = None


async def advice(turn: Turn) -> str:
    """The advice that put the person on hold, rendered again from its stored verdict (the same
    words as when it was given)."""
    tier = current_tier(turn)
    if tier is None:
        return turn.t("hold.generic")
    found = await repo.open_hold_event(turn.db, turn.patient.id, tier.label)
    if found is None:
        return turn.t("hold.generic")
    event, report = found
    signals = tuple(
        s
        for s in sorted(SIGNALS, key=lambda s: -SIGNALS[s].tier)
        if report is not None and s in report.stop_signals
    )
    verdict = Verdict(
        tier=tier,
        reasons=tuple(event.reasons) or ("emergency_signal",),
        action=ProgramAction(ActionKind.SAFETY_HOLD),
        signals=signals,
    )
    if turn.patient.program_started_on is None:
        return render_screening(verdict, turn.texts, zone=turn.patient.time_zone)
    return render_verdict(verdict, turn.texts, zone=turn.patient.time_zone)


async def show(turn: Turn) -> None:
    """The hold's advice again, unchanged; and, once a release may be asked for, how to."""
    tier = current_tier(turn) or Tier.EMERGENCY
    turn.response.add(await advice(turn), hold_keyboard(turn.texts, tier))
    start = release_from(turn)
    if start is None or start <= turn.now:
        turn.response.add(*status_texts.come_back(turn.texts))


async def on_resume(turn: Turn) -> None:
    """/resume (or "I have been seen") while on hold: refused kindly before the wait is over,
    else the release step begins."""
    tier = current_tier(turn) or Tier.EMERGENCY
    start = release_from(turn)
    if start is not None and start > turn.now:
        turn.response.add(await advice(turn), hold_keyboard(turn.texts, tier))
        turn.response.add(status_texts.too_soon(start, turn.zone, turn.now, turn.texts))
        return
    data = turn.open(ReleaseData())
    since = local_date(turn.patient.hold_since or turn.now, turn.zone)
    text, keyboard = status_texts.seen_question(
        data.nonce, tier, since, turn.patient.program_started_on is None, turn.texts
    )
    turn.response.add(text, keyboard)


async def on_seen(turn: Turn, data: ReleaseData, value: str, message_id: int) -> None:
    if data.step != ReleaseStep.SEEN or value not in ("yes", "no"):
        turn.response.answer = turn.t("errors.stale_button")
        return
    question = turn.response
    question.replies.append(
        Reply(status_texts.seen_answer(value == "yes", turn.texts), edit=message_id)
    )
    if value == "no":
        turn.close()
        turn.response.add(turn.t("hold.not_yet"))
        return
    data = turn.save(replace(data, step=ReleaseStep.SIGNALS, selected=()))
    _ask_signals(turn, data, edit=None)


def _ask_signals(turn: Turn, data: ReleaseData, *, edit: int | None) -> None:
    text = card_texts.signal_list(turn.t("hold.rescreen_question"), CHECK_IN_SIGNALS, turn.texts)
    keyboard = card_texts.signal_keyboard(
        data.nonce, "signals", CHECK_IN_SIGNALS, data.selected, turn.texts
    )
    turn.response.replies.append(Reply(text, keyboard, edit=edit))


async def on_signals(turn: Turn, data: ReleaseData, value: str, message_id: int) -> None:
    if data.step != ReleaseStep.SIGNALS:
        turn.response.answer = turn.t("errors.stale_button")
        return
    choice = choose_signal(data.selected, value, CHECK_IN_SIGNALS)
    if choice is None:
        turn.response.answer = turn.t("errors.stale_button")
        return
    if not choice.done:
        _ask_signals(turn, turn.save(replace(data, selected=choice.selected)), edit=message_id)
        return
    selected = list(choice.selected)
    text = card_texts.signal_list(turn.t("hold.rescreen_question"), CHECK_IN_SIGNALS, turn.texts)
    turn.response.replies.append(Reply(text, (), edit=message_id))
    turn.close()
    report = repo.add_report(
        turn.db, turn.patient, ReportKind.RESCREEN, turn.now, stop_signals=sorted(selected)
    )
    await turn.db.flush()
    if keeps_hold(selected):
        # A sign is still there: the hold stays, with its advice, and a new wait begins.
        verdict = screen(selected)
        store_verdict(turn, verdict, report_id=report.id)
        enter_hold(turn, verdict.tier)
        text = render_verdict(verdict, turn.texts, zone=turn.patient.time_zone)
        turn.response.add(text, hold_keyboard(turn.texts, verdict.tier))
        turn.response.add(turn.t("hold.sign_still_present"))
        return
    await release(turn)


async def release(turn: Turn) -> None:
    """Lift the hold: the events get their release time; the program continues as the rules
    say (what was left out stays out, nothing new the first day), or onboarding does."""
    await repo.acknowledge_events(turn.db, turn.patient.id, turn.now)
    turn.patient.hold_tier = None
    turn.patient.hold_since = None
    if turn.patient.program_started_on is None:
        # The hold came at screening: the rest of onboarding follows.
        turn.patient.status = PatientStatus.ONBOARDING
        turn.patient.program_state = {}
        turn.response.add(turn.t("hold.released_onboarding"))
        turn.then(Next.ONBOARDING)
        return
    turn.save_state(resume(turn.state))
    turn.patient.paused_until = None
    turn.schedule_next()
    turn.response.add(turn.t("hold.released"))
    turn.then(Next.SCHEDULE)
