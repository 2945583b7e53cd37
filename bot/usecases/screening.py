"""The stop-signal screening at onboarding (clinical.md §2: "right now, or new in the last two
weeks"), confirmed once before emergency or urgent advice."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.flows import Next, ScreeningData, ScreeningStep
from bot.domain.safety import (
    SCREENING_SIGNALS,
    Tier,
    choose_signal,
    needs_confirmation,
    screen,
)
from bot.rendering import checkin_card as card_texts
from bot.rendering.replies import Keyboard, Reply
from bot.rendering.verdict_texts import (
    hold_keyboard,
    render_screening,
    words_confirm,
    words_keyboard,
)
from bot.usecases import holds
from bot.usecases.turn import Turn
from db import repo
from db.models import ReportKind

STEP = "screen"


def ask(turn: Turn) -> None:
    data = turn.open(ScreeningData())
    turn.response.add(*_list(turn, data))


def _list(turn: Turn, data: ScreeningData) -> tuple[str, Keyboard]:
    text = card_texts.signal_list(
        turn.t("stop_signals.question_screening"), SCREENING_SIGNALS, turn.texts
    )
    keyboard = card_texts.signal_keyboard(
        data.nonce, STEP, SCREENING_SIGNALS, data.selected, turn.texts
    )
    return text, keyboard


def ask_words(turn: Turn, signals: tuple[str, ...]) -> None:
    """Free text named warning signs during onboarding: the screening list's "Is that right?"
    with those signs ticked (a correction goes back to the list, as at screening)."""
    data = turn.open(ScreeningData(selected=signals, step=ScreeningStep.CONFIRM))
    turn.response.add(
        words_confirm(signals, turn.texts), words_keyboard(data.nonce, "confirm", turn.texts)
    )


async def on_toggle(turn: Turn, data: ScreeningData, value: str, message_id: int) -> None:
    if data.step != ScreeningStep.LIST:
        turn.response.answer = turn.t("errors.stale_button")
        return
    choice = choose_signal(data.selected, value, SCREENING_SIGNALS)
    if choice is None:
        turn.response.answer = turn.t("errors.stale_button")
        return
    data = turn.save(replace(data, selected=choice.selected))
    if not choice.done:
        turn.response.replies.append(Reply(*_list(turn, data), edit=message_id))
        return
    selected = list(choice.selected)
    if needs_confirmation(selected):
        data = turn.save(replace(data, step=ScreeningStep.CONFIRM))
        text = card_texts.confirm_signals(selected, turn.texts)
        keyboard = card_texts.confirm_keyboard(data.nonce, "confirm", turn.texts)
        turn.response.replies.append(Reply(text, keyboard, edit=message_id))
        return
    turn.response.replies.append(Reply(_list(turn, data)[0], (), edit=message_id))
    await finish(turn, data)


async def on_confirm(turn: Turn, data: ScreeningData, value: str, message_id: int) -> None:
    """ "Is that right?": yes gives the advice; a slip of the finger goes back to the list."""
    if data.step != ScreeningStep.CONFIRM or value not in ("yes", "no"):
        turn.response.answer = turn.t("errors.stale_button")
        return
    if value == "no":
        data = turn.save(replace(data, step=ScreeningStep.LIST))
        turn.response.replies.append(Reply(*_list(turn, data), edit=message_id))
        return
    text = card_texts.confirm_signals(data.selected, turn.texts)
    turn.response.replies.append(Reply(text, (), edit=message_id))
    await finish(turn, data)


async def finish(turn: Turn, data: ScreeningData) -> None:
    """The confirmed signs: stored, then the verdict (and its hold), or onboarding goes on.
    Also the end of "Both legs" at the side question (stop signal 4)."""
    turn.close()
    turn.patient.screened_at = turn.now
    report = repo.add_report(
        turn.db, turn.patient, ReportKind.SCREENING, turn.now, stop_signals=sorted(data.selected)
    )
    await turn.db.flush()
    verdict = screen(data.selected)
    if verdict.tier is not Tier.NONE:
        holds.store_verdict(turn, verdict, report_id=report.id)
    text = render_screening(verdict, turn.texts, zone=turn.patient.time_zone)
    if verdict.tier >= Tier.SOON:
        # No program: the advice, and a hold that only the release step lifts.
        holds.enter_hold(turn, verdict.tier)
        turn.response.add(text, hold_keyboard(turn.texts, verdict.tier))
        return
    turn.response.add(text)
    turn.then(Next.ONBOARDING)
