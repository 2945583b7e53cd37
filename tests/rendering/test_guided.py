"""The guided session's messages: every step of every exercise, in both languages, fits one
message with its buttons; the demonstration names the exercise in one line; the offer after
leaving resumes at the right exercise."""

from __future__ import annotations

import pytest

from bot.domain.flows import GUIDE, GuidedData
from bot.domain.program import EXERCISE_ORDER
from bot.rendering.buttons import decode
from bot.rendering.i18n import texts_for
from bot.rendering.routine_texts import (
    MAX_CAPTION_LENGTH,
    exercise_demo,
    fits,
    guided_offer,
    guided_step,
)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_step_fits_and_ends_with_its_buttons(language: str) -> None:
    texts = texts_for(language)
    exercises = tuple(EXERCISE_ORDER)
    for index, exercise_id in enumerate(exercises):
        for new in (None, exercise_id):
            data = GuidedData(session_id=7, exercises=exercises, new=new, index=index)
            step = guided_step(data, texts, "left")
            assert fits(step.text) and len(step.text) < 1200
            labels = [b.label for row in step.buttons for b in row]
            last = index == len(exercises) - 1
            assert labels == [
                texts.t("buttons.finish" if last else "buttons.next"),
                texts.t("buttons.had_to_stop"),
                texts.t("guided.leave_button"),
            ]
            payloads = [decode(b.data) for row in step.buttons for b in row]
            assert {p.ref for p in payloads if p} == {data.nonce}
            cautions = texts.exercise(exercise_id).cautions
            assert all((c in step.text) == (new is not None) for c in cautions)
            assert step.track == f"card:{data.nonce}"


def test_the_demonstration_is_the_animation_for_the_leg_and_language() -> None:
    texts = texts_for("en")
    demo = exercise_demo(4, "left", texts)
    assert demo.animation is not None and demo.animation.key == "a4-left-en"
    assert demo.animation.caption.startswith("<b>4. Straight-leg lift with a belt (sore leg)</b>")
    assert len(demo.animation.caption) <= MAX_CAPTION_LENGTH
    assert demo.pictures == ()


def test_a_step_names_the_exercise_under_its_animation() -> None:
    texts = texts_for("en")
    step = guided_step(GuidedData(session_id=9, exercises=(1, 4), new=4, index=0), texts, "left")
    assert step.animation is not None and step.animation.key == "a1-en"
    assert "<b>1. Lying back bend (press-up)</b>" in step.text


def test_the_offer_resumes_at_the_exercise_left() -> None:
    texts = texts_for("en")
    offer = guided_offer(9, 2, 4, texts, left=False)
    assert offer.text == texts.t("guided.offer", index=3, total=4)
    resume = offer.buttons[0][0]
    assert resume.label == "Resume"
    payload = decode(resume.data)
    assert payload is not None and payload.value == f"{GUIDE}:3"
    assert [b.label for b in offer.buttons[1]] == ["Done", "Not today", "Had to stop"]
    assert offer.track == "session:9"
