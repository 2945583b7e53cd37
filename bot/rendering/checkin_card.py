"""The check-in card and the stop-signal list (check-in, screening, release) as messages."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.flows import RATING_STEPS, CheckinData, CheckinStep
from bot.domain.safety import CHECK_IN_SIGNALS, EXTENT_MAX, RATING_MAX, SIGNALS, StopCause
from bot.rendering.buttons import flow_button
from bot.rendering.i18n import Texts
from bot.rendering.replies import Button, Keyboard, rows

SETTLED_VALUES = ("yes", "no", "unsure")
EXPLAIN = "explain"  # the value of "What do these mean?" on the check-in card
# clinical.md §6: the check-in card, in its longest state, fits a phone screen.
CARD_MAX_LENGTH = 900


def _button(nonce: str, label: str, step: str, value: object) -> Button:
    return Button(label, flow_button(nonce, f"{step}:{value}"))


# --- The stop-signal list ------------------------------------------------------------------------


def signal_list(question: str, signals: Sequence[str], texts: Texts) -> str:
    """The question, then every sign in full words (the buttons carry the short names)."""
    items = [
        texts.t(
            "stop_signals.item",
            short=texts.t(f"stop_signals.{s}.short"),
            full=texts.t(f"stop_signals.{s}.full"),
        )
        for s in signals
    ]
    return "\n".join([question, *items])


def signal_descriptions(signals: Sequence[str], texts: Texts, *, ticked: bool = False) -> str:
    """Every sign of ``signals`` with its short label and its full words: shown at the first
    check-in, behind "What do these mean?", and above "Is that right?" (``ticked``)."""
    if ticked:
        ordered = sorted(signals, key=lambda s: -SIGNALS[s].tier)
        return signal_list(texts.t("stop_signals.confirm_intro"), ordered, texts)
    return signal_list(f"<b>{texts.t('stop_signals.meaning_intro')}</b>", signals, texts)


def signal_keyboard(
    nonce: str,
    step: str,
    signals: Sequence[str],
    selected: Sequence[str],
    texts: Texts,
    *,
    explain: bool = False,
) -> Keyboard:
    """One toggle per sign (ticked when chosen), then "What do these mean?" (``explain``), then
    "None of these" or "Continue"."""
    tick = texts.t("checkin.tick")
    toggles = [
        _button(
            nonce,
            f"{tick} {texts.t(f'stop_signals.{s}.short')}"
            if s in selected
            else texts.t(f"stop_signals.{s}.short"),
            step,
            s,
        )
        for s in signals
    ]
    finish = (
        _button(nonce, texts.t("checkin.signals_done"), step, "done")
        if selected
        else _button(nonce, texts.t("stop_signals.none"), step, "none")
    )
    meaning = (
        ((_button(nonce, texts.t("stop_signals.meaning_button"), step, EXPLAIN),),)
        if explain
        else ()
    )
    return (*rows(*toggles, width=2), *meaning, (finish,))


def confirm_signals(selected: Sequence[str], texts: Texts) -> str:
    """Before emergency or urgent advice: the ticked signs in full words, and "Is that right?"."""
    ordered = sorted(selected, key=lambda s: -SIGNALS[s].tier)
    items = [f"• {texts.t(f'stop_signals.{s}.full')}" for s in ordered]
    question = texts.t("stop_signals.confirm_question")
    return "\n".join([texts.t("stop_signals.confirm_intro"), *items, "", question])


def confirm_keyboard(nonce: str, step: str, texts: Texts) -> Keyboard:
    return rows(
        _button(nonce, texts.t("stop_signals.confirm_yes"), step, "yes"),
        _button(nonce, texts.t("stop_signals.confirm_mistake"), step, "no"),
    )


# --- The card ------------------------------------------------------------------------------------


def answered_lines(data: CheckinData, texts: Texts) -> list[str]:
    lines: list[str] = []
    if data.stop_exercise:
        name = texts.exercise(data.stop_exercise).name
        lines.append(texts.t("checkin.answered.stop_exercise", name=name))
    if data.stop_cause:
        lines.append(
            texts.t("checkin.answered.stop_cause", text=texts.t(f"stop_causes.{data.stop_cause}"))
        )
    if data.settled:
        lines.append(
            texts.t("checkin.answered.settled", text=texts.t(f"checkin.settled.{data.settled}"))
        )
    for step in RATING_STEPS:
        if step in data.answers:
            lines.append(
                texts.t(
                    "checkin.answered.rating",
                    name=texts.t(f"measures.{step}.name").capitalize(),
                    value=data.answers[step],
                )
            )
    if CheckinStep.EXTENT in data.answers:
        lines.append(
            texts.t(
                "checkin.answered.extent",
                text=texts.t(f"measures.extent.{data.answers[CheckinStep.EXTENT]}"),
            )
        )
    return lines


def card_progress(data: CheckinData, texts: Texts) -> str:
    """The card without a question: what has been answered so far."""
    return "\n".join([texts.t(f"checkin.title.{data.kind}"), *answered_lines(data, texts)])


def card(data: CheckinData, texts: Texts) -> tuple[str, Keyboard]:
    """The card at its current step: the answers so far, then the question and its buttons."""
    step = CheckinStep(data.step)
    if step is CheckinStep.CONFIRM:
        # The ticked signs in full words are in the message just above (signal_descriptions).
        ordered = sorted(data.signals, key=lambda s: -SIGNALS[s].tier)
        question = "\n".join(
            [
                texts.t("stop_signals.confirm_intro"),
                *(f"• {texts.t(f'stop_signals.{s}.short')}" for s in ordered),
                "",
                texts.t("stop_signals.confirm_question"),
            ]
        )
        keyboard = confirm_keyboard(data.nonce, step, texts)
    elif step is CheckinStep.SIGNALS:
        # Short labels, one tap each: the full words are one tap away ("What do these mean?").
        question = texts.t("stop_signals.question_check_in")
        keyboard = signal_keyboard(
            data.nonce, step, CHECK_IN_SIGNALS, data.signals, texts, explain=True
        )
    else:
        question, keyboard = _question(data, step, texts)
    return "\n".join([card_progress(data, texts), "", question]), keyboard


def _question(data: CheckinData, step: CheckinStep, texts: Texts) -> tuple[str, Keyboard]:
    nonce = data.nonce
    if step in RATING_STEPS:
        buttons = [_button(nonce, str(i), step, i) for i in range(RATING_MAX + 1)]
        return texts.t(f"measures.{step}.question"), (tuple(buttons[:6]), tuple(buttons[6:]))
    if step is CheckinStep.EXTENT:
        return texts.t("measures.extent.question"), rows(
            *(
                _button(nonce, texts.t(f"measures.extent.{i}"), step, i)
                for i in range(EXTENT_MAX + 1)
            )
        )
    if step is CheckinStep.STOP_EXERCISE:
        return texts.t("stop_causes.question_exercise"), rows(
            *(_button(nonce, f"{x}. {texts.exercise(x).name}", step, x) for x in data.exercises)
        )
    if step is CheckinStep.STOP_CAUSE:
        return texts.t("stop_causes.question_what"), rows(
            *(_button(nonce, texts.t(f"stop_causes.{c.value}"), step, c.value) for c in StopCause)
        )
    return texts.t("stop_causes.question_settled"), rows(
        *(_button(nonce, texts.t(f"checkin.settled.{v}"), step, v) for v in SETTLED_VALUES)
    )
