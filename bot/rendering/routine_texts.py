"""The daily routine, the exercises, their pictures and the program's guidance, as messages."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from functools import lru_cache

from telegram.constants import MessageLimit

from bot.content import Exercise
from bot.domain.flows import GUIDE, GuidedData
from bot.domain.program import (
    EXERCISE_ORDER,
    DayPlan,
    Exclusion,
    PatientStatus,
    RoutineOutcome,
)
from bot.rendering.buttons import flow_button, howto_button, routine_button
from bot.rendering.i18n import Texts, texts_for
from bot.rendering.motion import animation_key
from bot.rendering.poses import one_leg, picture_key, stages
from bot.rendering.replies import Animation, Button, Keyboard, Picture, Reply, rows

MAX_MESSAGE_LENGTH = MessageLimit.MAX_TEXT_LENGTH
MAX_CAPTION_LENGTH = MessageLimit.CAPTION_LENGTH
BLOCK_SEPARATOR = "\n\n"

# The seed article's advice on how to use the program, one paragraph each, in this order.
GUIDANCE = (
    "one_a_day",
    "why_one_a_day",
    "keep_moving",
    "see_professional",
    "not_a_replacement",
    "may_stop",
)


def message_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), measured on the HTML source.

    The source is never shorter than the text left after entity parsing, so this errs safe.
    """
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, limit: int = MAX_MESSAGE_LENGTH) -> bool:
    return message_length(text) <= limit


def render_guidance(texts: Texts) -> str:
    """The article's program guidance, sent when the program starts."""
    paragraphs = [f"• {texts.t(f'program.guidance.{k}')}" for k in GUIDANCE]
    return "\n".join([f"<b>{texts.t('program.guidance.title')}</b>", *paragraphs])


def render_exercise(exercise: Exercise, texts: Texts, *, new: bool = False) -> str:
    title_key = "routine.exercise_title_new" if new else "routine.exercise_title"
    lines = [
        texts.t(title_key, number=exercise.id, name=exercise.name),
        f"<i>{html.escape(exercise.purpose, quote=False)}</i>",
        texts.t("routine.position", text=exercise.position),
        *(texts.t("routine.step", number=n, text=s) for n, s in enumerate(exercise.steps, 1)),
        texts.t("routine.dose", text=exercise.dose),
        texts.t("routine.cautions"),
        *(texts.t("routine.caution", text=c) for c in exercise.cautions),
    ]
    return "\n".join(lines)


def exercise_line(exercise_id: int, texts: Texts) -> str:
    """One exercise on one line with its dose: the ordinary day names each exercise this way."""
    exercise = texts.exercise(exercise_id)
    return texts.t("routine.line", number=exercise.id, name=exercise.name, dose=exercise.short_dose)


def _left_out(excluded: Sequence[Exclusion], texts: Texts) -> str:
    lines = [texts.plural("routine.left_out", len(excluded))]
    for exclusion in excluded:
        lines.append(
            texts.t(
                "routine.left_out_item",
                number=exclusion.exercise,
                name=texts.exercise(exclusion.exercise).name,
                reason=texts.t(f"program.excluded.{exclusion.reason.value}"),
            )
        )
    return "\n".join(lines)


def render_heading(plan: DayPlan, texts: Texts) -> str:
    """ "Day N", and what is special about today (the first day, a new exercise, a hold)."""
    intro = [texts.t("routine.header", day=plan.day)]
    if plan.day == 1 and plan.new == EXERCISE_ORDER[0]:
        intro.append(texts.t("routine.first_day"))
    if plan.new is not None:
        intro.append(texts.t("routine.new_today", name=texts.exercise(plan.new).name))
    elif plan.holding:
        intro.append(texts.t("routine.holding"))
    return "\n".join(intro)


def render_rest_day(plan: DayPlan, texts: Texts) -> str:
    """A day with nothing left to do: it says so and why, and that the program goes on."""
    lines = [
        texts.t("routine.rest_header", day=plan.day),
        texts.plural("routine.rest_why", len(plan.excluded)),
    ]
    blocks = ["\n".join(lines)]
    if plan.excluded:
        blocks.append(_left_out(plan.excluded, texts))
    blocks.append(texts.t("routine.rest_next"))
    return BLOCK_SEPARATOR.join(blocks)


def render_routine(plan: DayPlan, texts: Texts) -> list[str]:
    """The day's routine as messages: the heading, then (on a day with a new exercise, after
    its pictures) the body that carries the buttons.

    An ordinary day is one short message: each exercise on one line with its dose. A day with
    a new exercise gives that exercise's full instructions and the others on one line each.
    The body always ends with the reminder that the person may stop any exercise that hurts.
    A rest day (nothing left to do) and a day with nothing left at all are one message.
    """
    if plan.status is not PatientStatus.ACTIVE:
        raise ValueError(f"no routine is sent while the program is {plan.status.value}")
    if plan.nothing_left:
        return [texts.t("routine.nothing_left")]
    if plan.rest_day:
        return [render_rest_day(plan, texts)]

    heading = render_heading(plan, texts)
    blocks: list[str] = []
    if plan.new is not None:
        blocks.append(render_exercise(texts.exercise(plan.new), texts, new=True))
        others = [exercise_line(x, texts) for x in plan.exercises if x != plan.new]
        if others:
            blocks.append("\n".join([texts.t("routine.as_before"), *others]))
    else:
        blocks.append("\n".join(exercise_line(x, texts) for x in plan.exercises))
    if plan.excluded:
        blocks.append(_left_out(plan.excluded, texts))
    may_stop = texts.t("routine.may_stop")
    closing = texts.t("routine.closing")
    ending = f"{may_stop}\n{closing}"

    if plan.new is None:
        whole = BLOCK_SEPARATOR.join([heading, *blocks, ending])
        if fits(whole):
            return [whole]
        messages: list[str] = []
        current = [heading]
    else:
        body = BLOCK_SEPARATOR.join([*blocks, ending])
        if fits(body):
            return [heading, body]
        messages = [heading]
        current = []

    # Too long for one message: pack blocks greedily, each message with the may-stop reminder.
    continued = texts.t("routine.header_continued", day=plan.day)
    for block in blocks:
        candidate = BLOCK_SEPARATOR.join([*current, block, may_stop])
        if fits(candidate) or not current:
            current.append(block)
            continue
        messages.append(BLOCK_SEPARATOR.join([*current, may_stop]))
        current = [continued, block]
    last = BLOCK_SEPARATOR.join([*current, ending])
    if not fits(last) and len(current) > 1:
        # The closing line does not fit under the last block: that block gets a message of its
        # own, with the closing line.
        messages.append(BLOCK_SEPARATOR.join([*current[:-1], may_stop]))
        last = BLOCK_SEPARATOR.join([continued, current[-1], ending])
    messages.append(last)
    for message in messages:
        if not fits(message):
            raise ValueError(
                f"a routine message for day {plan.day} has {message_length(message)} characters,"
                f" over Telegram's {MAX_MESSAGE_LENGTH}"
            )
    return messages


@lru_cache(maxsize=1024)
def routine_texts(language: str, plan: DayPlan) -> tuple[str, ...]:
    """render_routine, cached: a morning sends the same few plans to everyone."""
    return tuple(render_routine(plan, texts_for(language)))


def answer_buttons(session_id: int, texts: Texts) -> Keyboard:
    """Done / Not today / Had to stop (under the routine, and under its nudge)."""
    return (
        (
            Button(texts.t("buttons.done"), routine_button(session_id, RoutineOutcome.DONE)),
            Button(
                texts.t("buttons.not_today"), routine_button(session_id, RoutineOutcome.SKIPPED)
            ),
            Button(
                texts.t("buttons.had_to_stop"),
                routine_button(session_id, RoutineOutcome.STOPPED),
            ),
        ),
    )


def start_button(session_id: int, texts: Texts, *, resume_at: int | None = None) -> Button:
    """ "Start" the guided session, or "Resume" it at exercise ``resume_at`` (from 0)."""
    if resume_at is not None:
        value = f"{GUIDE}:{resume_at + 1}"
        return Button(texts.t("buttons.resume"), routine_button(session_id, value))
    return Button(texts.t("buttons.start"), routine_button(session_id, GUIDE))


def routine_buttons(session_id: int, plan: DayPlan, texts: Texts) -> Keyboard:
    """The answers, "Start" (the guided session), then "Show me how" for each exercise."""
    howto = [Button(texts.t("buttons.show_how", number=x), howto_button(x)) for x in plan.exercises]
    return (
        *answer_buttons(session_id, texts),
        (start_button(session_id, texts),),
        *rows(*howto, width=3),
    )


def exercise_pictures(
    exercise_id: int, texts: Texts, side: str | None = None
) -> tuple[Picture, ...]:
    """The pictures of one exercise with their captions (the first names the exercise), drawn
    with ``side`` ("left", "right"; the right one until the person has said) the leg with
    symptoms. The legend names the orange leg only where there is one (not exercise 1)."""
    exercise = texts.exercise(exercise_id)
    pictures = []
    for stage in range(1, stages(exercise_id) + 1):
        caption = texts.t(f"pictures.e{exercise_id}.s{stage}")
        if stage == 1:
            title = texts.t("routine.exercise_title", number=exercise.id, name=exercise.name)
            lines = [title, caption]
            if one_leg(exercise_id):
                lines.append(f"<i>{texts.t('pictures.legend')}</i>")
            caption = "\n".join(lines)
        pictures.append(Picture(picture_key(exercise_id, stage, side), caption))
    return tuple(pictures)


def exercise_animation(exercise_id: int, texts: Texts, side: str | None = None) -> Animation:
    """The exercise's animation (one repetition, or the hold with its timer, drawn for the leg
    ``side`` and in the person's language) with its caption: the exercise's name, one line on
    the movement and its dose, and (one-leg exercises only) which leg is orange."""
    exercise = texts.exercise(exercise_id)
    lines = [
        texts.t("routine.exercise_title", number=exercise.id, name=exercise.name),
        texts.t(f"pictures.animation.e{exercise_id}"),
    ]
    if one_leg(exercise_id):
        lines.append(f"<i>{texts.t('pictures.legend')}</i>")
    return Animation(animation_key(exercise_id, side, texts.language), "\n".join(lines))


def exercise_demo(exercise_id: int, side: str | None, texts: Texts) -> Reply:
    """How an exercise is done, for a step of the guided session: its animation (for the
    person's leg and language, captioned with the exercise's name, the movement and dose in
    one line, and which leg is orange), as one message. The reply has no text: give it one
    (``dataclasses.replace``) to send a message with buttons after the animation."""
    return Reply("", animation=exercise_animation(exercise_id, texts, side))


def guided_step(data: GuidedData, texts: Texts, side: str | None) -> Reply:
    """One step of the guided session: the exercise's demonstration, then where it stands,
    the three short lines (position, movement, how many) and Next (Finished on the last) /
    Had to stop / Leave. The day's new exercise is marked as new and gets its cautions."""
    exercise_id = data.exercises[data.index]
    exercise = texts.exercise(exercise_id)
    demo = exercise_demo(exercise_id, side, texts)
    new = exercise_id == data.new
    title_key = "routine.exercise_title_new" if new else "routine.exercise_title"
    title = texts.t(title_key, number=exercise.id, name=exercise.name)
    lines = [
        texts.t("guided.progress", index=data.index + 1, total=len(data.exercises)),
        title,
        texts.t("guided.position", text=exercise.guide_position),
        texts.t("guided.movement", text=exercise.guide_movement),
        texts.t("guided.dose", text=exercise.guide_dose),
    ]
    if new:
        lines.append(texts.t("routine.cautions"))
        lines.extend(texts.t("routine.caution", text=c) for c in exercise.cautions)
    lines.append(texts.t("guided.may_stop"))
    last = data.index == len(data.exercises) - 1
    onward = texts.t("buttons.finish") if last else texts.t("buttons.next")
    buttons = (
        (Button(onward, flow_button(data.nonce, "next")),),
        (Button(texts.t("buttons.had_to_stop"), flow_button(data.nonce, "stop")),),
        (Button(texts.t("guided.leave_button"), flow_button(data.nonce, "leave")),),
    )
    return dataclasses.replace(
        demo, text="\n".join(lines), buttons=buttons, track=f"card:{data.nonce}"
    )


def guided_offer(session_id: int, index: int, total: int, texts: Texts, *, left: bool) -> Reply:
    """A guided session left half-way (``left``: just now, by "Leave"; else found at the next
    message): "Resume" at exercise ``index`` (from 0), or mark the routine."""
    key = "guided.left" if left else "guided.offer"
    return Reply(
        texts.t(key, index=index + 1, total=total),
        ((start_button(session_id, texts, resume_at=index),), *answer_buttons(session_id, texts)),
        track=f"session:{session_id}",
    )


def routine_replies(
    plan: DayPlan,
    session_id: int,
    texts: Texts,
    *,
    pictures: bool = True,
    side: str | None = None,
) -> list[Reply]:
    """The routine as messages in the order the person reads them: the day's heading, the new
    exercise's animation and pictures, then its instructions; the last message carries the
    buttons and is tracked (its id is stored on the session). A rest day has no buttons:
    nothing to mark."""
    body = routine_texts(texts.language, plan)
    if plan.nothing_left or plan.rest_day:
        return [Reply(text) for text in body]
    new_pictures = exercise_pictures(plan.new, texts, side) if pictures and plan.new else ()
    new_animation = exercise_animation(plan.new, texts, side) if pictures and plan.new else None
    buttons = routine_buttons(session_id, plan, texts)
    # The pictures of a Reply go out before its text: they ride on the first message after the
    # heading, so they come after it.
    with_pictures = 1 if plan.new is not None and len(body) > 1 else 0
    last = len(body) - 1
    return [
        Reply(
            text,
            buttons if i == last else (),
            track=f"session:{session_id}" if i == last else None,
            pictures=new_pictures if i == with_pictures else (),
            animation=new_animation if i == with_pictures else None,
        )
        for i, text in enumerate(body)
    ]


def howto_buttons_reply(session_id: int, texts: Texts) -> Reply:
    """After "Show me how": the marking buttons and "Start" again, so they are the last thing
    on screen."""
    return Reply(
        texts.t("routine.howto_after"),
        (*answer_buttons(session_id, texts), (start_button(session_id, texts),)),
        track=f"session:{session_id}",
    )


def howto_reply(exercise_id: int, texts: Texts, *, side: str | None = None) -> Reply:
    """ "Show me how": the exercise's animation and pictures (the leg with symptoms
    ``side``), then its steps."""
    exercise = texts.exercise(exercise_id)
    return Reply(
        render_exercise(exercise, texts),
        pictures=exercise_pictures(exercise_id, texts, side),
        animation=exercise_animation(exercise_id, texts, side),
    )
