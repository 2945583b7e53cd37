"""The short question a person who has not answered for a few mornings gets instead of the
routine (bot.domain.silence), and the answers to its buttons."""

from __future__ import annotations

from datetime import time

from bot.rendering.buttons import command_button, silence_button
from bot.rendering.i18n import Texts
from bot.rendering.replies import Button, Keyboard, Reply, rows

CHOICES = ("carry", "pause", "stop")


def silence_question(texts: Texts) -> Reply:
    """Carry on, pause a week, or stop the morning messages: one button each."""
    return Reply(
        texts.t("silence.question"),
        rows(*(Button(texts.t(f"silence.{c}"), silence_button(c)) for c in CHOICES)),
    )


def chosen(choice: str, texts: Texts) -> str:
    """The question once answered: the choice made stays visible."""
    return texts.t(
        "silence.chosen", question=texts.t("silence.question"), answer=texts.t(f"silence.{choice}")
    )


def carry_on(reminder: time, texts: Texts) -> tuple[str, Keyboard]:
    """The routine comes as usual the next morning; today's now if the person wants it."""
    return texts.t("silence.carry_reply", time=texts.time(reminder)), rows(
        Button(texts.t("silence.carry_now"), command_button("today"))
    )
