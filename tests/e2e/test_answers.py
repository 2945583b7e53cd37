"""End to end: answers behave the same typed or tapped, and a choice stays visible once made
(issue 20, point 12); the advice on long-lasting symptoms comes at the right moment (point 9,
clinical.md §5)."""

from __future__ import annotations

import pytest

from bot.rendering.i18n import texts_for
from tests.e2e.test_course import check_in
from tests.e2e.test_onboarding import USER, onboard
from tests.support.harness import BotHarness, running_bot

EN = texts_for("en")
FR = texts_for("fr")
PAIN = "How strong is your pain"
NUMBNESS = "How strong is any numbness"
TINGLING = "How strong is any tingling"


async def test_a_typed_rating_moves_the_same_card_on(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        card = bot.last(USER)
        assert PAIN in card.text
        count = len(bot.server.messages(USER))
        sends = len(bot.server.calls("sendMessage"))
        await bot.say(USER, "6/10")
        # No second card: no new message, the card itself now asks the next question.
        assert len(bot.server.messages(USER)) == count
        assert len(bot.server.calls("sendMessage")) == sends
        now = bot.server.message(USER, card.message_id)
        assert now.edited
        assert NUMBNESS in now.text
        assert "Pain: 6/10" in now.text
        assert now.buttons[:2] == ["0", "1"]
        # Typed and tapped answers mix on the same card.
        await bot.tap(USER, "2", message=now)
        await bot.say(USER, "3")
        now = bot.server.message(USER, card.message_id)
        assert "How far down" in now.text
        assert "Tingling: 3/10" in now.text
        assert len(bot.server.messages(USER)) == count
        # Only one message ever carried rating buttons.
        cards = [m for m in bot.server.messages(USER) if "10" in m.buttons]
        assert [m.message_id for m in cards] == []  # the card has moved on to the furthest point
        assert [m.message_id for m in bot.server.messages(USER) if "Foot or toes" in m.buttons] == [
            card.message_id
        ]


async def test_a_typed_rating_at_a_button_only_step_changes_nothing(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        refused = await bot.say(USER, "11")
        assert "0 to 10" in refused.text
        card = bot.last_with(USER, "0")
        assert PAIN in card.text  # still the first question, on the same card


async def test_choices_stay_visible_once_made(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await bot.say(USER, "/start")
        await bot.tap(USER, "Yes, store my answers")
        question = bot.last(USER)
        await bot.tap(USER, "2 to 6 weeks")
        answered = bot.server.message(USER, question.message_id)
        assert answered.text == "How long have you had these symptoms? 2 to 6 weeks ✓"
        assert answered.buttons == []
        await bot.tap(USER, "None of these")
        await bot.tap(USER, "Right leg")
        for value in ("5", "2", "3"):
            await bot.tap(USER, value)
        await bot.tap(USER, "Thigh, above the knee")
        await bot.tap(USER, "Skip")
        await bot.tap(USER, "08:00")
        # 07:00 UTC is 08:00 in every UTC+1 zone: a list to pick from.
        pick = await bot.say(USER, "my local time is 08:00")
        assert EN.t("onboarding.zone_pick") in pick.text
        chosen = pick.buttons[0]
        await bot.tap(USER, chosen, message=pick)
        picked = bot.server.message(USER, pick.message_id)
        assert picked.buttons == []
        assert picked.text.startswith("Which of these is yours? ")
        assert picked.text.endswith(" ✓")
        assert "Is that right?" in bot.last(USER).text
        zone = picked.text.removeprefix("Which of these is yours? ").removesuffix(" ✓")
        assert zone in bot.last(USER).text  # the zone confirmed is the one shown as chosen


async def onboard_with(bot: BotHarness, duration: str, *, language: str = "en") -> None:
    """Onboarding as ``onboard`` does, with this symptom duration (a key of [duration])."""
    texts = texts_for(language)
    await bot.say(USER, "/start", language_code=language)
    await bot.tap(USER, texts.t("onboarding.consent_yes"))
    await bot.tap(USER, texts.t(f"duration.{duration}"))
    await bot.tap(USER, texts.t("stop_signals.none"))
    await bot.tap(USER, texts.t("side.right"))
    for value in ("5", "2", "3"):
        await bot.tap(USER, value)
    await bot.tap(USER, texts.t("measures.extent.3"))
    await bot.tap(USER, texts.t("function.skip"))
    await bot.tap(USER, "08:00" if language == "en" else "8 h 00")
    await bot.say(USER, "Europe/Paris")
    if texts.t("onboarding.zone_pick") in bot.last(USER).text:
        await bot.tap(USER, next(b for b in bot.last(USER).buttons if "Paris" in b))
    await bot.tap(USER, texts.t("onboarding.zone_yes"))
    await bot.tap(USER, texts.t("onboarding.start_now"))


ADVICE_TITLE = EN.t("verdict.symptoms_6_weeks.title")


@pytest.mark.parametrize("duration", ["6to12w", "gt3m"])
async def test_long_symptoms_are_advised_once_at_the_end_of_onboarding(
    database_url: str, duration: str
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard_with(bot, duration)
        texts = bot.texts(USER)
        advice = EN.t("onboarding.duration_advice")
        assert texts.count(advice) == 1
        # At the end: after the program has started, before the day's routine.
        started = next(i for i, t in enumerate(texts) if t.startswith("Your program has started"))
        assert texts.index(advice) == started + 1
        assert any("Day 1" in text for text in texts[started:])
        # The first session, no better than the baseline: the advice is not given again.
        await bot.tap(USER, "Done")
        verdict = await check_in(bot, 5, 2, 3, 3)
        assert ADVICE_TITLE not in "\n".join(bot.texts(USER))
        assert "about six weeks" not in verdict
        # Nor at any later check-in of the program.
        bot.clock.advance(days=15)
        await bot.say(USER, "/checkin")
        await check_in(bot, 5, 2, 3, 3)
        assert ADVICE_TITLE not in "\n".join(bot.texts(USER))
        # /status says when it was given.
        status = await bot.say(USER, "/status")
        assert "I advised you to have your symptoms assessed" in status.text


async def test_long_symptoms_advice_in_french(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard_with(bot, "gt3m", language="fr")
        assert bot.texts(USER).count(FR.t("onboarding.duration_advice")) == 1
        assert "médecin ou un kinésithérapeute" in FR.t("onboarding.duration_advice")


async def test_shorter_symptoms_are_advised_when_the_total_reaches_six_weeks(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)  # "2 to 6 weeks": about four weeks so far
        assert EN.t("onboarding.duration_advice") not in bot.texts(USER)
        await bot.tap(USER, "Done")
        await check_in(bot, 5, 2, 3, 3)
        assert ADVICE_TITLE not in "\n".join(bot.texts(USER))
        bot.clock.advance(days=13)
        await bot.say(USER, "/checkin")
        await check_in(bot, 5, 2, 3, 3)
        assert ADVICE_TITLE not in "\n".join(bot.texts(USER))
        bot.clock.advance(days=1)  # about six weeks in total, no clear improvement
        await bot.say(USER, "/checkin")
        verdict = await check_in(bot, 5, 2, 3, 3)
        assert ADVICE_TITLE in verdict
        assert "\n".join(bot.texts(USER)).count(ADVICE_TITLE) == 1


async def test_the_next_morning_question_keeps_the_answer_given(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Had to stop")
        await bot.tap(USER, bot.last(USER).buttons[0])  # exercise 1
        await bot.tap(USER, "Symptoms spreading down the leg")
        await bot.tap(USER, "Not yet, or too soon to say")
        await check_in(bot, 5, 2, 3, 3)
        bot.clock.advance(days=1)
        question = await bot.say(USER, "/today")
        asked = question.text
        assert "Is it still there this morning?" in asked
        await bot.tap(USER, "No, it has gone", message=question)
        answered = bot.server.message(USER, question.message_id)
        assert answered.buttons == []
        assert answered.text == asked + "\nNo, it has gone ✓"
