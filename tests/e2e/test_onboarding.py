"""End to end: the real Application through the local Bot API server — welcome, consent,
screening, baseline, reminder time, time zone, start."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from bot.domain.program import PatientStatus
from db.models import Patient, SafetyEvent, SymptomReport
from tests.support.harness import BotHarness, running_bot

USER = 1001


async def onboard(
    bot: BotHarness,
    user: int = USER,
    *,
    start: str = "Start now",
    side: str = "Right leg",
) -> None:
    """Walk one person through onboarding with mild symptoms in one leg, in Paris, at 08:00."""
    await bot.say(user, "/start")
    await bot.tap(user, "Yes, store my answers")
    await bot.tap(user, "2 to 6 weeks")
    await bot.tap(user, "None of these")
    await bot.tap(user, side)
    for value in ("5", "2", "3"):
        await bot.tap(user, value)
    await bot.tap(user, "Thigh, above the knee")
    await bot.tap(user, "Skip")  # no everyday activities (PSFS)
    await bot.tap(user, "08:00")
    await bot.say(user, "Paris")
    if "Which of these" in bot.last(user).text:
        await bot.tap(user, bot.last(user).buttons[0])
    await bot.tap(user, "Yes, that is right")
    await bot.tap(user, start)


async def patient(bot: BotHarness, user: int = USER) -> Patient | None:
    async with bot.services.sessions() as db:
        return (
            await db.execute(select(Patient).where(Patient.telegram_user_id == user))
        ).scalar_one_or_none()


async def test_start_and_help_and_commands_menu(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        welcome = await bot.say(USER, "/help")
        assert "/today" in welcome.text
        assert "/delete" in welcome.text
        assert "not a doctor" in welcome.text
        names = [c["command"] for c in bot.server.commands]
        assert {"today", "checkin", "status", "pause", "resume", "reset", "help", "delete"} <= set(
            names
        )
        await bot.say(USER, "/start")
        texts = bot.texts(USER)
        assert any("not a doctor" in t and "diagnosis" in t for t in texts)
        assert "May I store your answers?" in bot.last(USER).text


async def test_full_onboarding_then_day_one(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        routine = bot.last(USER)
        assert any(t.startswith("Day 1") for t in bot.texts(USER))  # the heading, first
        assert "Lumbar extension" in routine.text or "1." in routine.text
        assert "You may stop any exercise that hurts." in routine.text
        assert routine.buttons == ["Done", "Not today", "Had to stop", "Start", "Show me how: 1"]
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.ACTIVE
        assert row.time_zone == "Europe/Paris"
        assert row.reminder_time == time(8, 0)
        # 07:00 UTC on 2 March 2026 is 08:00 in Paris: the next send is tomorrow 08:00 local.
        assert row.next_send_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
        assert bot.server.reply_keyboard(USER) == {"remove_keyboard": True}


async def test_declining_consent_stores_nothing(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await bot.say(USER, "/start")
        await bot.tap(USER, "No, thank you")
        assert "not kept anything" in bot.last(USER).text
        assert await patient(bot) is None
        reply = await bot.say(USER, "/today")
        assert "/start" in reply.text


async def _to_screening(bot: BotHarness) -> None:
    await bot.say(USER, "/start")
    await bot.tap(USER, "Yes, store my answers")
    await bot.tap(USER, "Less than 2 weeks")


async def test_emergency_at_screening_is_confirmed_then_holds(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _to_screening(bot)
        await bot.tap(USER, "Bladder changes")
        await bot.tap(USER, "Continue")
        confirm = bot.last(USER)
        # The ticked sign in full words, and "Is that right?" before any advice.
        assert "You cannot pee" in confirm.text or "cannot pee" in confirm.text
        assert "Is that right?" in confirm.text
        assert confirm.buttons == ["Yes, that is right", "I tapped one by mistake"]
        await bot.tap(USER, "Yes, that is right")
        advice = bot.last(USER)
        assert "emergency" in advice.text.lower()
        assert "112" in advice.text  # the default zone is UTC: unknown country, common numbers
        # Nothing on the advice restarts exercise.
        assert advice.buttons == ["I am getting help now"]
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.SAFETY_HOLD
        assert row.hold_tier == "emergency"
        assert row.next_send_at is None
        refused = await bot.say(USER, "/today")
        assert refused.text == advice.text  # the same advice, unchanged
        async with bot.services.sessions() as db:
            events = (await db.execute(select(SafetyEvent))).scalars().all()
        assert [e.tier for e in events] == ["emergency"]


async def test_a_slip_of_the_finger_goes_back_to_the_list(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _to_screening(bot)
        await bot.tap(USER, "Bowel changes")
        await bot.tap(USER, "Continue")
        await bot.tap(USER, "I tapped one by mistake")
        listing = bot.last(USER)
        assert "✓ Bowel changes" in listing.buttons
        await bot.tap(USER, "✓ Bowel changes")
        await bot.tap(USER, "None of these")
        assert "none of the warning signs" in "\n".join(bot.texts(USER)).lower()
        assert "Which leg has the symptoms" in bot.last(USER).text
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.ONBOARDING
        async with bot.services.sessions() as db:
            assert (await db.execute(select(SafetyEvent))).scalars().all() == []


async def test_soon_item_at_screening_is_released_by_the_checked_step(database_url: str) -> None:
    """A SOON sign at screening: no program until a professional agreed; /resume asks that and
    the stop signals again, then onboarding goes on (the hold that began at screening)."""
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _to_screening(bot)
        await bot.tap(USER, "Constant or night pain")
        await bot.tap(USER, "Continue")
        advice = bot.last(USER)
        assert "before doing the exercises" in advice.text
        assert "send /resume" in advice.text
        assert advice.buttons == []
        status = await bot.say(USER, "/status")
        assert "finish setting up" in status.text or "/resume" in status.text
        question = await bot.say(USER, "/resume")
        assert "agreed that you may start these exercises" in question.text
        await bot.tap(USER, "Yes, I was seen and they agreed")
        assert "Right now, do you have any of these?" in bot.last(USER).text
        await bot.tap(USER, "None of these")
        texts = "\n".join(bot.texts(USER))
        assert "Let us set up your program" in texts
        assert "Which leg has the symptoms" in bot.last(USER).text
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.ONBOARDING
        assert row.hold_tier is None
        async with bot.services.sessions() as db:
            events = (await db.execute(select(SafetyEvent))).scalars().all()
            reports = (await db.execute(select(SymptomReport))).scalars().all()
        assert [(e.tier, e.acknowledged_at is not None) for e in events] == [("soon", True)]
        assert [r.kind for r in reports] == ["screening", "rescreen"]


async def test_time_zone_by_location_and_by_local_time(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await bot.say(USER, "/start")
        await bot.tap(USER, "Yes, store my answers")
        await bot.tap(USER, "Less than 2 weeks")
        await bot.tap(USER, "None of these")
        await bot.say(USER, "left")
        for value in ("5", "2", "3"):
            await bot.tap(USER, value)
        await bot.tap(USER, "Lower back only")
        await bot.tap(USER, "Skip")
        await bot.say(USER, "7:30")
        assert bot.server.reply_keyboard(USER) is not None
        await bot.after(lambda: bot.server.share_location(USER, 40.7128, -74.0060))
        assert "America/New_York" in bot.last(USER).text
        await bot.tap(USER, "No, choose again")
        # 07:00 UTC is 12:30 in Kolkata.
        await bot.say(USER, "my local time is 12:30")
        if "Which of these" in bot.last(USER).text:
            assert "Asia/Kolkata" in bot.last(USER).buttons[0]
            await bot.tap(USER, bot.last(USER).buttons[0])
        assert "Asia/Kolkata" in bot.last(USER).text
        assert "12:30" in bot.last(USER).text
        await bot.tap(USER, "Yes, that is right")
        await bot.tap(USER, "Tomorrow morning")
        row = await patient(bot)
        assert row is not None
        assert row.time_zone == "Asia/Kolkata"
        assert row.reminder_time == time(7, 30)
        assert row.next_send_at == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 07:30 IST


async def test_start_again_shows_status_not_onboarding(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot, start="Tomorrow morning")
        reply = await bot.say(USER, "/start")
        assert "day 1" in reply.text.lower()
        assert "Next routine" in reply.text
