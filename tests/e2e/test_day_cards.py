"""End to end: a morning a patient can read lying down (issue 20, points 1 to 5).

Short day cards (heading, then pictures, then the buttons last), "Show me how" that keeps the
buttons last, a rest day that says so and counts by itself, one verdict per check-in, and one
day count in /status. Lengths are asserted on the text really sent, in English and French.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.rendering.i18n import Texts, texts_for
from bot.usecases.morning import dispatch_once
from tests.e2e.test_onboarding import USER
from tests.support.botapi import SentMessage
from tests.support.harness import BotHarness, running_bot

EN = texts_for("en")
# 08:00 in Paris on the mornings after the onboarding (2 March 2026, 08:00 Paris).
MORNING_2 = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
MORNING_3 = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)


async def tap(bot: BotHarness, texts: Texts, key: str) -> None:
    await bot.tap(USER, texts.t(key))


async def onboard(bot: BotHarness, texts: Texts) -> None:
    """Onboarding in the person's language, mild symptoms, Paris, 08:00, start now."""
    await bot.say(USER, "/start", language_code=texts.language)
    await tap(bot, texts, "onboarding.consent_yes")
    await tap(bot, texts, "duration.2to6w")
    await tap(bot, texts, "stop_signals.none")
    await tap(bot, texts, "side.right")
    for value in ("5", "2", "3"):
        await bot.tap(USER, value)
    await tap(bot, texts, "measures.extent.3")
    await tap(bot, texts, "function.skip")
    await bot.tap(USER, texts.time(time(8, 0)))
    await bot.say(USER, "Paris")
    if texts.t("onboarding.zone_pick") in bot.last(USER).html:
        await bot.tap(USER, next(b for b in bot.last(USER).buttons if "Paris" in b))
    await tap(bot, texts, "onboarding.zone_yes")
    await tap(bot, texts, "onboarding.start_now")


async def check_in(bot: BotHarness, texts: Texts, pain: int = 5) -> None:
    """Ratings as at the start (pain aside), no warning sign."""
    for value in (pain, 2, 3):
        await bot.tap(USER, str(value))
    await tap(bot, texts, "measures.extent.3")
    await tap(bot, texts, "stop_signals.none")


def since(bot: BotHarness, count: int) -> list[SentMessage]:
    return bot.server.messages(USER)[count:]


def heading_index(messages: list[SentMessage], texts: Texts, day: int) -> int:
    heading = texts.t("routine.header", day=day)
    return next(i for i, m in enumerate(messages) if m.html.startswith(heading))


def assert_new_exercise_day(
    messages: list[SentMessage], texts: Texts, day: int, exercise: int
) -> None:
    """Heading, then the exercise's animation and pictures, then its instructions with the
    buttons, last; at most 2,200 characters of text (the media's captions aside)."""
    first = heading_index(messages, texts, day)
    heading, animation, *pictures, body = messages[first:]
    assert heading.kind == "text" and heading.buttons == []
    assert texts.exercise(exercise).name in heading.text
    assert animation.kind == "animation" and texts.exercise(exercise).name in animation.text
    assert pictures and all(p.kind == "photo" for p in pictures)
    assert texts.exercise(exercise).name in pictures[0].text
    assert body.kind == "text" and texts.t("buttons.done") in body.buttons
    assert all(step in body.text for step in texts.exercise(exercise).steps)
    assert len(heading.text) + len(body.text) <= 2200


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_week_of_day_cards_fits_a_phone(database_url: str, language: str) -> None:
    texts = texts_for(language)
    async with running_bot(database_url, start_dispatcher=False) as bot:
        count = len(bot.server.messages(USER))
        await onboard(bot, texts)
        assert_new_exercise_day(since(bot, count), texts, 1, 1)
        await tap(bot, texts, "buttons.done")
        await check_in(bot, texts)

        # /status right after day 1's check-in: day 1 is done, and what tomorrow brings.
        status = await bot.say(USER, "/status")
        assert status.html.startswith(texts.t("status.title_done", day=1))
        assert texts.t("status.plan_adding", exercises=texts.join(["1", "2"]), new=2) in (
            status.html
        )
        expected = {
            "en": "Coming next: exercises 1 and 2 (2 is new).",
            "fr": "À venir\u00a0: les exercices 1 et 2 (le 2 est nouveau).",
        }
        assert expected[language] in status.text

        for day in range(2, 6):
            bot.clock.advance(days=1)
            count = len(bot.server.messages(USER))
            await bot.say(USER, "/today")
            assert_new_exercise_day(since(bot, count), texts, day, day)
            # The same morning, /status counts the same day as the heading.
            status = await bot.say(USER, "/status")
            assert status.html.startswith(texts.t("status.title", day=day))
            await tap(bot, texts, "buttons.done")
            await check_in(bot, texts)

        bot.clock.advance(days=1)
        count = len(bot.server.messages(USER))
        await bot.say(USER, "/today")
        (card,) = since(bot, count)  # one message
        assert card.html.startswith(texts.t("routine.header", day=6))
        assert len(card.text) <= 900
        for number in range(1, 6):
            exercise = texts.exercise(number)
            assert f"{number}. {exercise.name}" in card.text
            assert exercise.short_dose in card.text
            assert exercise.steps[0] not in card.text  # the instructions came on their day
        assert texts.t("routine.may_stop").replace("<i>", "").replace("</i>", "") in card.text
        assert card.buttons[:3] == [
            texts.t("buttons.done"),
            texts.t("buttons.not_today"),
            texts.t("buttons.had_to_stop"),
        ]


async def test_show_me_how_keeps_the_buttons_last(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot, EN)
        await bot.tap(USER, "Done")
        await check_in(bot, EN)
        bot.clock.advance(days=1)
        await bot.say(USER, "/today")
        routine = bot.last(USER)
        count = len(bot.server.messages(USER))
        await bot.tap(USER, "Show me how: 1", routine)
        animation, *pictures, instructions, buttons = since(bot, count)
        assert animation.kind == "animation" and animation.buttons == []
        assert [p.kind for p in pictures] == ["photo"] * 4
        assert "Lying back bend (press-up)" in pictures[0].text
        assert "Lie face down" in instructions.text and instructions.buttons == []
        assert buttons.text == EN.t("routine.howto_after")
        assert buttons.buttons == ["Done", "Not today", "Had to stop", "Start"]
        # The routine above keeps its "Show me how" buttons only.
        assert bot.server.messages(USER)[count - 1].buttons == ["Show me how: 1", "Show me how: 2"]
        await bot.tap(USER, "Done", buttons)
        assert "How strong is your pain" in bot.last(USER).text


async def test_had_to_stop_on_day_one_then_a_rest_day_that_counts(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot, EN)
        await bot.tap(USER, "Had to stop")
        await bot.tap(USER, "1. Lying back bend (press-up)")
        await bot.tap(USER, "Symptoms spreading down the leg")
        await bot.tap(USER, "Yes, it has settled")
        await check_in(bot, EN, pain=7)  # worse too, on the day exercise 1 was added
        verdict = bot.last(USER).text
        # One verdict: each piece of advice once, nothing that does not apply.
        assert verdict.count("Leave out exercise 1") == 1
        assert "went well" not in verdict and "other exercises" not in verdict
        assert verdict.count("Tomorrow is a rest day") == 1
        lines = [line for line in verdict.split("\n") if line.strip()]
        assert len(lines) == len(set(lines))
        status = await bot.say(USER, "/status")
        assert "Left out: 1. Lying back bend (press-up) (you had to stop during it)" in (
            status.text
        )
        assert status.html.startswith(EN.t("status.title_done", day=1))

        # The next morning: one short message, no buttons, nothing to mark.
        bot.clock.set(MORNING_2)
        count = len(bot.server.messages(USER))
        report = await dispatch_once(bot.services, MORNING_2)
        assert report.routines == 1
        (rest,) = since(bot, count)
        assert rest.text.startswith("Day 2: a rest day.")
        assert "The exercise you had so far is left out" in rest.text
        assert "When you have finished" not in rest.text
        assert rest.buttons == []
        await bot.say(USER, "/today")
        assert bot.texts(USER)[-2] == EN.t("routine_status.rest_today")
        status = await bot.say(USER, "/status")
        assert status.html.startswith(EN.t("status.title_done", day=2))
        # /checkin still works that day.
        await bot.say(USER, "/checkin")
        assert "How strong is your pain" in bot.last(USER).text
        await check_in(bot, EN)

        # The morning after, the program goes on by itself: day 3 adds exercise 2.
        bot.clock.set(MORNING_3)
        count = len(bot.server.messages(USER))
        report = await dispatch_once(bot.services, MORNING_3)
        assert report.routines == 1
        messages = since(bot, count)
        assert_new_exercise_day(messages, EN, 3, 2)
        assert "1. Lying back bend (press-up): you had to stop during it" in messages[-1].text
