"""bot.rendering.routine_texts: the routine, the exercises and the program guidance as messages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.content import Catalogue
from bot.domain.program import (
    ActionKind,
    DayOutcome,
    ExclusionReason,
    ProgramAction,
    RoutineOutcome,
    plan_day,
    record_day,
    replay,
    start_program,
)
from bot.rendering.i18n import Texts, texts_for
from bot.rendering.routine_texts import (
    MAX_MESSAGE_LENGTH,
    message_length,
    render_guidance,
    render_routine,
    routine_replies,
)

MAY_STOP = "You may stop any exercise that hurts."


@pytest.fixture(scope="module")
def content() -> Texts:
    return texts_for("en")


def test_guidance_covers_the_article(content: Texts) -> None:
    text = render_guidance(content)
    for words in (
        "one new exercise a day",
        "Why not all at once",
        "Keep moving",
        "doctor or physiotherapist",
        "do not replace a consultation",
        MAY_STOP,
    ):
        assert words in text


def test_every_routine_message_fits_and_reminds_may_stop(content: Texts) -> None:
    state = start_program()
    for _ in range(7):
        messages = render_routine(plan_day(state), content)
        assert all(message_length(m) <= MAX_MESSAGE_LENGTH for m in messages)
        # The last message (the one under the buttons) reminds the person.
        assert MAY_STOP in messages[-1]
        state = record_day(state, DayOutcome(RoutineOutcome.DONE, ProgramAction()))
    full = render_routine(plan_day(state), content)
    assert len(full) == 1
    for exercise in content.content.exercises:
        assert f"{exercise.id}. {exercise.name}: {exercise.short_dose}" in full[0]
        # Other days name each exercise and its dose on one line: no steps, no cautions.
        assert exercise.steps[0] not in full[0]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_day_cards_fit_a_phone(language: str) -> None:
    """clinical.md §6: an ordinary day is one message of at most 900 characters; a day with a
    new exercise at most 2,200 (plus its pictures), its full instructions included."""
    texts = texts_for(language)
    state = start_program()
    for _ in range(5):
        plan = plan_day(state)
        assert plan.new is not None
        messages = render_routine(plan, texts)
        assert sum(message_length(m) for m in messages) <= 2200
        exercise = texts.exercise(plan.new)
        assert all(step in messages[-1] for step in exercise.steps)
        state = record_day(state, DayOutcome(RoutineOutcome.DONE, ProgramAction()))
    messages = render_routine(plan_day(state), texts)
    assert len(messages) == 1 and message_length(messages[0]) <= 900


def test_a_rest_day_says_so_with_nothing_to_mark(content: Texts) -> None:
    state = record_day(
        start_program(),
        DayOutcome(
            RoutineOutcome.STOPPED,
            ProgramAction(ActionKind.EXCLUDE, 1, ExclusionReason.STOPPED_DURING),
        ),
    )
    plan = plan_day(state)
    assert plan.rest_day and plan.day == 2
    replies = routine_replies(plan, 5, content)
    assert len(replies) == 1
    text = replies[0].text
    assert text.startswith("<b>Day 2: a rest day.</b>")
    assert "The exercise you had so far is left out" in text
    assert "1. Lying back bend (press-up): you had to stop during it" in text
    assert "When you have finished" not in text
    assert replies[0].buttons == () and replies[0].track is None


def test_routine_marks_the_new_exercise_and_the_day(content: Texts) -> None:
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 2)
    text = "\n".join(render_routine(plan_day(state), content))
    assert text.startswith("<b>Day 3</b>")
    assert "<b>3. Nerve glide with knee straightening (sore leg)</b> <i>(new today)</i>" in text


def test_routine_lists_what_is_left_out(content: Texts) -> None:
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 2)
    state = record_day(
        state,
        DayOutcome(
            RoutineOutcome.DONE,
            ProgramAction(ActionKind.EXCLUDE, 3, ExclusionReason.WORSE_AFTER_ADDING),
        ),
    )
    text = "\n".join(render_routine(plan_day(state), content))
    assert "Left out for now" in text
    assert "worse after it was added" in text and "builds on exercises 2 and 3" in text
    assert "Nothing new today" in text


def test_routine_is_split_when_too_long() -> None:
    base = texts_for("en").content
    long_cat = dict(base.catalogue.texts)
    long_cat["routine.closing"] = "x" * 3500
    content = Texts(replace(base, catalogue=Catalogue("en", long_cat)))
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 4)
    messages = render_routine(plan_day(state), content)
    assert len(messages) > 2
    assert all(message_length(m) <= MAX_MESSAGE_LENGTH for m in messages)
    # The heading first, then every part of the body with the reminder.
    assert messages[0].startswith("<b>Day 5</b>")
    assert all(MAY_STOP in m for m in messages[1:])


def test_a_new_exercise_comes_with_its_pictures_and_every_routine_with_show_me_how(
    content: Texts,
) -> None:
    day_one = routine_replies(plan_day(start_program()), 7, content)
    # The heading first (no pictures), then the pictures, then the instructions and buttons.
    assert day_one[0].text.startswith("<b>Day 1</b>") and not day_one[0].pictures
    assert not day_one[0].buttons
    assert [p.key for p in day_one[1].pictures] == ["e1s1", "e1s2", "e1s3", "e1s4"]
    assert "Lie face down" in day_one[1].pictures[0].caption
    assert len(day_one) == 2
    labels = [b.label for row in day_one[-1].buttons for b in row]
    assert labels == ["Done", "Not today", "Had to stop", "Start", "Show me how: 1"]
    assert day_one[-1].track == "session:7"
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 5)
    plan = plan_day(state)
    assert plan.new is None
    later = routine_replies(plan, 8, content)
    assert all(not reply.pictures for reply in later)
    labels = [b.label for row in later[-1].buttons for b in row]
    assert labels[4:] == [f"Show me how: {n}" for n in (1, 2, 3, 4, 5)]


def test_exercise_demo_is_the_animation_for_the_side_and_language() -> None:
    from bot.rendering.replies import Reply
    from bot.rendering.routine_texts import exercise_demo

    demo = exercise_demo(4, "left", texts_for("fr"))
    assert demo.animation is not None and demo.animation.key == "a4-left-fr"
    assert demo.pictures == () and demo.text == ""
    assert demo.messages == 1  # the animation alone, its caption saying what it shows
    caption = demo.animation.caption.split("\n")
    assert caption[0].startswith("<b>4.")
    assert caption[1:] == [
        texts_for("fr").t("pictures.animation.e4"),
        f"<i>{texts_for('fr').t('pictures.legend')}</i>",
    ]
    assert replace(demo, text="Suivant").messages == 2
    back = exercise_demo(1, "left", texts_for("en"))
    assert back.animation is not None and back.animation.key == "a1-en"
    assert "orange" not in back.animation.caption  # the back exercise has no leg with symptoms
    assert Reply.from_json(demo.to_json()) == demo  # stored and resent unchanged
