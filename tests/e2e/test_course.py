"""End to end: daily routines and check-ins over several days, with their verdicts."""

from __future__ import annotations

import re

from sqlalchemy import select

from db.models import DailySession, Patient
from tests.e2e.test_onboarding import USER, onboard
from tests.support.harness import BotHarness, running_bot

EXTENT = {
    0: "No symptoms",
    1: "Lower back only",
    2: "Buttock or hip",
    3: "Thigh, above the knee",
    4: "Below the knee (calf or shin)",
    5: "Foot or toes",
}
NAMES = {
    1: "Lying back bend (press-up)",
    2: "Nerve glide with ankle pumps (both legs)",
    3: "Nerve glide with knee straightening (sore leg)",
    4: "Straight-leg lift with a belt (sore leg)",
    5: "Buttock stretch (piriformis)",
}


def routine_text(bot: BotHarness, user: int = USER) -> str:
    """Today's routine, from its "Day N" heading to the message with the buttons (the last)."""
    messages = bot.server.messages(user)
    first = max(i for i, m in enumerate(messages) if re.search(r"Day \d+:", m.text))
    last = next((i for i, m in enumerate(messages) if i >= first and "Done" in m.buttons), first)
    return "\n".join(m.text for m in messages[first : last + 1])


def exercises_in(text: str) -> list[int]:
    return [n for n, name in NAMES.items() if name in text]


async def check_in(
    bot: BotHarness,
    pain: int,
    numbness: int,
    tingling: int,
    extent: int,
    signals: tuple[str, ...] = (),
) -> str:
    for value in (pain, numbness, tingling):
        await bot.tap(USER, str(value))
    await bot.tap(USER, EXTENT[extent])
    for signal in signals:
        await bot.tap(USER, signal)
    await bot.tap(USER, "Continue" if signals else "None of these")
    if "Is that right?" in bot.last(USER).text:
        await bot.tap(USER, "Yes, that is right")
    return verdict_text(bot)


def verdict_text(bot: BotHarness, user: int = USER) -> str:
    """The verdict: the first message after the recorded check-in card."""
    messages = bot.server.messages(user)
    recorded = max(i for i, m in enumerate(messages) if "Thank you, recorded." in m.text)
    return messages[recorded + 1].text


async def next_day(bot: BotHarness) -> None:
    bot.clock.advance(days=1)
    await bot.say(USER, "/today")


async def test_five_improving_days_add_one_exercise_each(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        seen = []
        for day, pain in enumerate((5, 4, 4, 3, 3), start=1):
            if day > 1:
                await next_day(bot)
            text = routine_text(bot)
            assert f"Day {day}" in text
            seen.append(exercises_in(text))
            await bot.tap(USER, "Done")
            await check_in(bot, pain, 2, 3 if day < 3 else 2, 3)
        assert seen == [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5]]
        await next_day(bot)
        assert exercises_in(routine_text(bot)) == [1, 2, 3, 4, 5]


async def test_worse_on_the_day_exercise_3_is_added(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        for pain in (5, 4):
            await bot.tap(USER, "Done")
            await check_in(bot, pain, 2, 3, 3)
            await next_day(bot)
        assert exercises_in(routine_text(bot)) == [1, 2, 3]
        await bot.tap(USER, "Done")
        verdict = await check_in(bot, 7, 2, 3, 3)  # pain 4 -> 7: worse
        assert "exercise 3" in verdict.lower() or NAMES[3] in verdict
        await next_day(bot)
        day4 = routine_text(bot)
        assert 3 not in exercises_in(day4.split("Left out")[0])
        assert exercises_in(day4.split("Left out")[0]) == [1, 2]


async def test_had_to_stop_with_sharp_pain_in_a_nerve_exercise(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        for pain in (5, 4, 4, 3):
            await bot.tap(USER, "Done")
            await check_in(bot, pain, 2, 3, 3)
            await next_day(bot)
        assert exercises_in(routine_text(bot)) == [1, 2, 3, 4, 5]
        await bot.tap(USER, "Had to stop")
        await bot.tap(USER, f"4. {NAMES[4]}")
        await bot.tap(USER, "Sharp, shooting or electric pain")
        await bot.tap(USER, "Yes, it has settled")
        verdict = await check_in(bot, 3, 2, 3, 3)
        assert NAMES[4] in verdict or "exercise 4" in verdict.lower()
        await next_day(bot)
        assert exercises_in(routine_text(bot).split("Left out")[0]) == [1, 2, 3, 5]


async def test_not_today_repeats_the_routine(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Not today")
        assert "same routine" in bot.last(USER).text
        await next_day(bot)
        text = routine_text(bot)
        assert "Day 1" in text
        assert exercises_in(text) == [1]
        async with bot.services.sessions() as db:
            outcomes = [s.outcome for s in (await db.execute(select(DailySession))).scalars()]
        assert outcomes[0] == "skipped"


async def test_typed_ratings_are_accepted_and_bad_ones_refused(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        card = bot.last(USER)
        for bad in ("11", "-1", "7.5", "a lot"):
            reply = await bot.say(USER, bad)
            assert "0 to 10" in reply.text
        await bot.say(USER, "4/10")
        # A typed answer moves the card on in place, as a tap does.
        assert "numbness" in bot.server.message(USER, card.message_id).text.lower()
        await bot.say(USER, "2")
        await bot.say(USER, "3")
        assert "How far down" in bot.server.message(USER, card.message_id).text
        refused = await bot.say(USER, "6")
        assert "0 to 5" in refused.text
        await bot.say(USER, "3")
        await bot.tap(USER, "None of these")
        async with bot.services.sessions() as db:
            row = (await db.execute(select(Patient))).scalar_one()
            assert row.flow is None
        from db.repo import reports_of

        async with bot.services.sessions() as db:
            reports = await reports_of(db, row.id)
        assert [(r.kind, r.pain, r.numbness, r.tingling, r.extent) for r in reports][-1] == (
            "session",
            4,
            2,
            3,
            3,
        )
