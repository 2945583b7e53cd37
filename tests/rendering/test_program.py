"""bot.rendering.program: the routine, the exercises and the program guidance as messages."""

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
from bot.rendering.program import (
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
        assert all(MAY_STOP in m for m in messages)
        state = record_day(state, DayOutcome(RoutineOutcome.DONE, ProgramAction()))
    full = render_routine(plan_day(state), content)
    joined = "\n".join(full)
    for exercise in content.content.exercises:
        assert exercise.name in joined
        assert exercise.dose in joined


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
    long_cat["routine.closing"] = "x" * 3000
    content = Texts(replace(base, catalogue=Catalogue("en", long_cat)))
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 4)
    messages = render_routine(plan_day(state), content)
    assert len(messages) > 1
    assert all(message_length(m) <= MAX_MESSAGE_LENGTH for m in messages)
    assert all(MAY_STOP in m for m in messages)


def test_a_new_exercise_comes_with_its_pictures_and_every_routine_with_show_me_how(
    content: Texts,
) -> None:
    day_one = routine_replies(plan_day(start_program()), 7, content)
    assert [p.key for p in day_one[0].pictures] == ["e1s1", "e1s2", "e1s3", "e1s4"]
    assert "Lie face down" in day_one[0].pictures[0].caption
    labels = [b.label for row in day_one[-1].buttons for b in row]
    assert labels == ["Done", "Not today", "Had to stop", "Show me how: 1"]
    assert day_one[-1].track == "session:7"
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 5)
    plan = plan_day(state)
    assert plan.new is None
    later = routine_replies(plan, 8, content)
    assert all(not reply.pictures for reply in later)
    labels = [b.label for row in later[-1].buttons for b in row]
    assert labels[3:] == [f"Show me how: {n}" for n in (1, 2, 3, 4, 5)]
