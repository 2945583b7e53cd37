"""End to end: /pause, /resume, /reset, /delete, /status, /time, /timezone, and bad input of
every kind getting a short, kind answer that changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from bot.domain.program import PatientStatus
from db.models import DailySession, Patient, SafetyEvent, SymptomReport
from tests.e2e.test_course import check_in, exercises_in, routine_text
from tests.e2e.test_onboarding import USER, onboard, patient
from tests.support.harness import BotHarness, running_bot

OTHER = 2002


async def snapshot(bot: BotHarness) -> tuple[object, ...]:
    """Everything stored, to prove that bad input changed nothing."""
    async with bot.services.sessions() as db:
        rows = (await db.execute(select(Patient).order_by(Patient.id))).scalars().all()
        people = tuple((p.status, p.flow, p.program_state, p.next_send_at, p.version) for p in rows)
        counts = [
            (await db.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (DailySession, SymptomReport, SafetyEvent)
        ]
        outcomes = tuple((await db.execute(select(DailySession.outcome))).scalars())
    return people, tuple(counts), outcomes


async def eventually(bot: BotHarness, check: Callable[[Patient], bool], limit: float = 20) -> None:
    """Poll the stored person until ``check`` holds (for updates that get no reply)."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        row = await patient(bot)
        if row is not None and check(row):
            return
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def test_pause_for_days_then_resume(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        reply = await bot.say(USER, "/pause 3")
        assert "paused for 3 days, until Thursday 5 March" in reply.text
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.PAUSED
        assert row.paused_until == date(2026, 3, 5)
        assert row.next_send_at == datetime(2026, 3, 5, 7, 0, tzinfo=UTC)  # 08:00 Paris
        refused = await bot.say(USER, "/today")
        assert "paused" in refused.text
        bad = await bot.say(USER, "/pause soon")
        assert "1 to 90" in bad.text
        await bot.say(USER, "/resume")
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.ACTIVE
        assert row.paused_until is None
        assert row.next_send_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
        assert "not paused" in (await bot.say(USER, "/resume")).text


async def test_reset_asks_first_and_keeps_history(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        await check_in(bot, 4, 2, 3, 3)
        bot.clock.advance(days=1)
        await bot.say(USER, "/today")
        assert exercises_in(routine_text(bot)) == [1, 2]
        await bot.say(USER, "/reset")
        await bot.tap(USER, "Cancel")
        assert (await patient(bot)).program_epoch == 1  # type: ignore[union-attr]
        await bot.say(USER, "/reset")
        await bot.tap(USER, "Yes, start again")
        row = await patient(bot)
        assert row is not None
        assert row.program_epoch == 2
        await bot.say(USER, "/today")
        text = routine_text(bot)
        assert "Day 1" in text
        assert exercises_in(text) == [1]
        async with bot.services.sessions() as db:
            epochs = sorted((await db.execute(select(DailySession.program_epoch))).scalars())
        assert epochs == [1, 1, 2]  # earlier sessions kept, marked by their epoch


async def test_delete_erases_every_row_and_starts_fresh(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await onboard(bot, OTHER)
        await bot.tap(USER, "Done")
        await check_in(bot, 4, 2, 3, 3)
        await bot.say(USER, "/delete")
        await bot.tap(USER, "Cancel")
        assert await patient(bot) is not None
        await bot.say(USER, "/delete")
        await bot.tap(USER, "Yes, erase everything")
        assert "erased" in bot.last(USER).text
        assert await patient(bot) is None
        async with bot.services.sessions() as db:
            for model in (DailySession, SymptomReport, SafetyEvent):
                left = (await db.execute(select(model.patient_id))).scalars().all()
                assert set(left) <= {(await patient(bot, OTHER)).id}  # type: ignore[union-attr]
        reply = await bot.say(USER, "/status")
        assert "/start" in reply.text
        await bot.say(USER, "/start")
        assert "May I store your answers?" in bot.last(USER).text


async def test_status_shows_program_and_ratings(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        await check_in(bot, 4, 2, 3, 3)
        reply = await bot.say(USER, "/status")
        # Day 1 is behind the person, and tomorrow brings exercises 1 and 2 (issue 20).
        assert reply.text.startswith("Your program: day 1 is done.")
        assert "Coming next: exercises 1 and 2 (2 is new)." in reply.text
        assert "At the start: pain 5/10" in reply.text
        assert "Last check-in: pain 4/10" in reply.text
        assert "tomorrow at 08:00" in reply.text
        assert "Europe/Paris" in reply.text


async def test_change_time_and_zone(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.say(USER, "/time")
        await bot.say(USER, "6:45 pm")
        row = await patient(bot)
        assert row is not None
        assert row.reminder_time == time(18, 45)
        assert row.next_send_at == datetime(2026, 3, 2, 17, 45, tzinfo=UTC)  # today 18:45 Paris
        assert "today at 18:45" in bot.last(USER).text
        await bot.say(USER, "/timezone")
        await bot.say(USER, "Europe/London")
        await bot.tap(USER, "Yes, that is right")
        row = await patient(bot)
        assert row is not None
        assert row.time_zone == "Europe/London"
        assert row.next_send_at == datetime(2026, 3, 2, 18, 45, tzinfo=UTC)


async def test_bad_input_changes_nothing(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await onboard(bot, OTHER)
        mine = bot.server.last_message(USER)
        theirs = bot.server.last_message(OTHER)
        before = await snapshot(bot)
        server = bot.server

        kind = (await bot.say(USER, "hello there")).text
        assert kind.startswith("I cannot answer questions here") and "/checkin" in kind
        assert "do not know that command" in (await bot.say(USER, "/dance")).text
        for inject in (server.send_sticker, server.send_photo, server.send_voice):
            await bot.after(lambda inject=inject: inject(USER))  # type: ignore[misc]
            assert "only read text" in bot.last(USER).text
        await bot.after(lambda: server.edit_text(USER, 1, "edited"))
        assert "edited" in bot.last(USER).text
        await bot.after(lambda: server.forward_text(USER, "7"))
        assert "forwarded" in bot.last(USER).text
        await bot.after(
            lambda: server.send_text(USER, "/today", chat_id=-100123, chat_type="group")
        )
        assert "private chat" in server.last_message(-100123).text
        await bot.after(lambda: server.share_location(USER, 48.85, 2.35))
        assert "time zone" in bot.last(USER).text

        # Another person's routine, a forged payload, a malformed one, a stale flow button.
        foreign = server.press_button(USER, theirs.message_id, theirs.callback_data[0])
        forged = server.press_button(USER, mine.message_id, "r|999999|done")
        junk = server.press_button(USER, mine.message_id, "not-a-payload")
        stale = server.press_button(USER, mine.message_id, "f|oldnonce|pain:3")
        await bot.until_processed()
        answers = server.callback_answers
        assert "someone else" in answers[foreign]["text"]
        for query in (forged, junk, stale):
            assert "no longer active" in answers[query]["text"]
        assert await snapshot(bot) == before


async def test_second_press_and_yesterdays_routine(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        routine = bot.last(USER)
        first = bot.server.press(USER, routine, "Not today")
        second = bot.server.press_button(USER, routine.message_id, routine.callback_data[0])
        await bot.until_processed()
        assert "already recorded" in bot.server.callback_answers[second]["text"].lower()
        assert first in bot.server.callback_answers
        bot.clock.advance(days=1)
        await bot.say(USER, "/today")
        today = bot.last(USER)
        bot.clock.advance(days=1)
        query = bot.server.press(USER, today, "Done")
        await bot.until_processed()
        assert "another day" in bot.server.callback_answers[query]["text"]
        async with bot.services.sessions() as db:
            outcomes = list((await db.execute(select(DailySession.outcome))).scalars())
        assert outcomes == ["skipped", None]


async def test_blocked_then_back_with_start(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        bot.server.kick(USER)
        await eventually(bot, lambda row: row.blocked_at is not None)
        bot.server.unblock(USER)
        await bot.say(USER, "/start")
        row = await patient(bot)
        assert row is not None
        assert row.blocked_at is None


async def test_forbidden_on_send_marks_inactive(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        bot.server.forbid_chat(USER)
        bot.server.send_text(USER, "/status")
        await eventually(bot, lambda row: row.blocked_at is not None)


async def test_a_french_command_name_does_what_the_english_one_does(database_url: str) -> None:
    """An English speaker's /aujourdhui is /today: the same routine, the same buttons."""
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        today = await bot.say(USER, "/today")
        assert "Day 1" in routine_text(bot)
        again = await bot.say(USER, "/aujourdhui")
        assert (again.text, again.buttons) == (today.text, today.buttons)
        status = await bot.say(USER, "/etat")
        assert status.text == (await bot.say(USER, "/status")).text
        paused = await bot.say(USER, "/pause 3")
        assert "paused for 3 days" in paused.text
        await bot.say(USER, "/reprendre")
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.ACTIVE
