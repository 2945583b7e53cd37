"""The question after silent mornings and its answers, in both languages."""

from __future__ import annotations

from datetime import time

import pytest

from bot.rendering.buttons import Action, decode
from bot.rendering.i18n import texts_for
from bot.rendering.silence_texts import CHOICES, carry_on, chosen, silence_question


@pytest.mark.parametrize(
    ("language", "question", "labels"),
    [
        (
            "en",
            "I have not heard from you for a few mornings, and that is fine.",
            ["Carry on", "Pause for a week", "Stop the morning messages"],
        ),
        (
            "fr",
            "Je n’ai pas eu de vos nouvelles depuis quelques matins, et ce n’est pas grave.",
            ["Continuer", "Faire une pause d’une semaine", "Arrêter les messages du matin"],
        ),
    ],
)
def test_the_question_has_one_button_per_choice(
    language: str, question: str, labels: list[str]
) -> None:
    texts = texts_for(language)
    reply = silence_question(texts)
    assert reply.text.startswith(question)
    assert len(reply.text) < 200  # short: read lying down
    assert [[b.label for b in row] for row in reply.buttons] == [[label] for label in labels]
    payloads = [decode(row[0].data) for row in reply.buttons]
    assert [(p.action, p.ref) for p in payloads if p] == [(Action.SILENCE, c) for c in CHOICES]
    assert chosen("pause", texts) == f"{texts.t('silence.question')}\n<b>{labels[1]}</b> ✓"


def test_carry_on_names_the_time_in_each_language() -> None:
    text, keyboard = carry_on(time(7, 30), texts_for("en"))
    assert "tomorrow at 07:30" in text
    assert [b.label for row in keyboard for b in row] == ["Today's routine now"]
    text, keyboard = carry_on(time(7, 30), texts_for("fr"))
    assert "demain à 7 h 30" in text
    (payload,) = [decode(b.data) for row in keyboard for b in row]
    assert payload is not None
    assert (payload.action, payload.ref) == (Action.COMMAND, "today")
