"""End to end: safety holds that really hold (clinical.md §1, §5) — the confirm step, advice
without a lifting button, a checked release, SOON pauses, the next-morning follow-up, the symptom
duration feeding the 6-to-8-week advice, and the program guidance a person reads."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.domain.program import PatientStatus
from bot.telegram.ratelimit import RateLimiter
from db.models import Patient, ReportKind, SafetyEvent, SymptomReport
from tests.e2e.test_course import NAMES, check_in, exercises_in, next_day, routine_text
from tests.e2e.test_onboarding import USER, onboard, patient
from tests.support.harness import BotHarness, running_bot

HELP_NOW = "I am getting help now"
SEEN = "Yes, I was seen and they agreed"


async def events(bot: BotHarness) -> list[SafetyEvent]:
    async with bot.services.sessions() as db:
        return list((await db.execute(select(SafetyEvent).order_by(SafetyEvent.id))).scalars())


async def reports(bot: BotHarness) -> list[SymptomReport]:
    async with bot.services.sessions() as db:
        found = await db.execute(select(SymptomReport).order_by(SymptomReport.id))
        return list(found.scalars())


async def test_emergency_at_check_in_holds_until_a_checked_release(database_url: str) -> None:
    """With the production rate limiter on: the confirm step, advice with nothing that lifts the
    hold, a release refused before HOLD_MIN_HOURS, a re-screen that still finds the sign, and
    finally a release that lets the program continue with nothing new."""
    async with running_bot(
        database_url,
        start_dispatcher=False,
        rate_limit=True,
        rate_limiter=RateLimiter(per_chat_per_second=50, per_chat_burst=5),
    ) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        for value in ("4", "2", "3"):
            await bot.tap(USER, value)
        await bot.tap(USER, "Thigh, above the knee")
        await bot.tap(USER, "Numb between the legs")
        await bot.tap(USER, "Continue")
        confirm = bot.last(USER)
        assert "Is that right?" in confirm.text
        # The sign in full words, just above "Is that right?".
        assert "Numb between the legs" in confirm.text
        assert "between your legs" in bot.texts(USER)[-2]
        await bot.tap(USER, "Yes, that is right")
        advice = bot.last(USER)
        assert "Stop all exercise now" in advice.text
        assert "112" in advice.text  # Europe/Paris: France's number
        assert advice.buttons == [HELP_NOW]  # nothing here restarts exercise
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.SAFETY_HOLD
        assert row.hold_tier == "emergency"
        assert row.next_send_at is None

        answer = await bot.tap(USER, HELP_NOW, message=advice)
        assert "Take care" in answer
        assert (await patient(bot)).status == PatientStatus.SAFETY_HOLD  # type: ignore[union-attr]

        bot.clock.advance(hours=1)
        today = await bot.say(USER, "/today")
        assert today.text == advice.text  # shown again, unchanged
        await bot.say(USER, "/resume")
        texts = bot.texts(USER)
        assert texts[-2] == advice.text
        assert "too soon" in texts[-1]
        assert "today at 11:00" in texts[-1]  # 08:00 Paris + 3 hours

        bot.clock.advance(hours=2)
        question = await bot.say(USER, "/resume")
        assert "seen you since" in question.text
        await bot.tap(USER, SEEN)
        assert "Right now, do you have any of these?" in bot.last(USER).text
        await bot.tap(USER, "Numb between the legs")
        await bot.tap(USER, "Continue")
        assert "cannot guide your exercises while this sign is present" in bot.last(USER).text
        assert (await patient(bot)).status == PatientStatus.SAFETY_HOLD  # type: ignore[union-attr]
        assert "too soon" in (await bot.say(USER, "/resume")).text  # a new wait began

        bot.clock.advance(hours=3)
        await bot.say(USER, "/resume")
        await bot.tap(USER, SEEN)
        await bot.tap(USER, "None of these")
        released = "\n".join(bot.texts(USER)[-3:])
        assert "Your program continues, with nothing new at first" in released
        assert "Next routine: tomorrow at 08:00" in released
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.ACTIVE
        assert row.hold_tier is None
        found = await events(bot)
        assert [e.tier for e in found] == ["emergency", "emergency"]
        assert all(e.acknowledged_at == bot.clock.now for e in found)
        kinds = [r.kind for r in await reports(bot)]
        assert kinds.count(ReportKind.RESCREEN) == 2
        await next_day(bot)
        text = routine_text(bot)
        assert "Nothing new today" in text
        assert exercises_in(text) == [1]


async def test_release_keeps_the_suspect_exercise_out(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        for pain in (5, 4):
            await bot.tap(USER, "Done")
            await check_in(bot, pain, 2, 3, 3)
            await next_day(bot)
        await bot.tap(USER, "Done")
        verdict = await check_in(bot, 7, 2, 3, 3)  # worse on the day exercise 3 was added
        assert "Leave out exercise 3" in verdict
        await bot.say(USER, "/checkin")
        for value in ("4", "2", "3"):
            await bot.tap(USER, value)
        await bot.tap(USER, "Thigh, above the knee")
        await bot.tap(USER, "Fever or feeling unwell")
        await bot.tap(USER, "Continue")
        await bot.tap(USER, "Yes, that is right")
        assert "medical advice today" in bot.last(USER).text
        bot.clock.advance(hours=4)
        await bot.say(USER, "/resume")
        await bot.tap(USER, SEEN)
        await bot.tap(USER, "None of these")
        await next_day(bot)
        text = routine_text(bot)
        assert exercises_in(text.split("Left out")[0]) == [1, 2]
        assert NAMES[3] in text.split("Left out")[1]


async def test_soon_pause_needs_the_seen_step_without_a_wait(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        await check_in(bot, 7, 2, 3, 3)  # worse than the baseline (5): exercise 1 left out
        await next_day(bot)
        assert bot.last(USER).text.startswith("Day 2: a rest day.")  # nothing to mark
        await bot.say(USER, "/checkin")  # the rest day's check-in still works
        verdict = await check_in(bot, 8, 2, 3, 3)  # worse twice in a row: SOON
        assert "see a doctor or physiotherapist within the next few days" in verdict
        assert "send /resume" in verdict
        status = await bot.say(USER, "/status")
        assert "paused until a doctor or physiotherapist has seen you" in status.text
        question = await bot.say(USER, "/resume")  # no minimum wait for SOON
        assert "agreed that you may do these exercises" in question.text
        await bot.tap(USER, "No, not yet")
        assert "stays paused" in bot.last(USER).text
        assert (await patient(bot)).status == PatientStatus.SAFETY_HOLD  # type: ignore[union-attr]
        await bot.say(USER, "/resume")
        await bot.tap(USER, SEEN)
        await bot.tap(USER, "None of these")
        assert (await patient(bot)).status == PatientStatus.ACTIVE  # type: ignore[union-attr]
        assert [e.acknowledged_at is not None for e in await events(bot)][-1]


async def _stop_on_exercise_one(bot: BotHarness, settled: str) -> None:
    await onboard(bot)
    await bot.tap(USER, "Had to stop")
    await bot.tap(USER, f"1. {NAMES[1]}")
    await bot.tap(USER, "Symptoms spreading down the leg")
    await bot.tap(USER, settled)
    await check_in(bot, 5, 2, 3, 3)


async def test_follow_up_still_there_next_morning_means_soon(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _stop_on_exercise_one(bot, "Not yet, or too soon to say")
        bot.clock.advance(days=1)
        question = await bot.say(USER, "/today")
        assert "Is it still there this morning?" in question.text
        assert "symptoms spreading down your leg" in question.text
        await bot.tap(USER, "Yes, it is still there")
        assert "see a doctor or physiotherapist within the next few days" in bot.last(USER).text
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.SAFETY_HOLD
        assert row.hold_tier == "soon"
        follow_ups = [r for r in await reports(bot) if r.kind == ReportKind.FOLLOW_UP]
        assert [(r.stopped_exercise, r.settled) for r in follow_ups] == [(1, False)]


async def test_follow_up_typed_gone_sends_the_routine_without_the_exercise(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _stop_on_exercise_one(bot, "Not yet, or too soon to say")
        bot.clock.advance(days=1)
        await bot.say(USER, "/today")
        await bot.say(USER, "No, it's gone!")
        texts = "\n".join(bot.texts(USER)[-3:])
        assert "that exercise stays left out" in texts
        text = routine_text(bot)
        assert NAMES[1] not in text.split("Left out")[0]
        assert (await patient(bot)).follow_up_report_id is None  # type: ignore[union-attr]


async def test_follow_up_typed_still_there(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _stop_on_exercise_one(bot, "Not yet, or too soon to say")
        bot.clock.advance(days=1)
        await bot.say(USER, "/today")
        await bot.say(USER, "still there")
        assert (await patient(bot)).hold_tier == "soon"  # type: ignore[union-attr]


async def test_not_settled_within_30_minutes_is_soon_at_once(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _stop_on_exercise_one(bot, "No, still there after 30 minutes")
        row = await patient(bot)
        assert row is not None
        assert row.hold_tier == "soon"
        assert row.follow_up_report_id is None


async def test_symptom_duration_feeds_the_assessment_advice_once(database_url: str) -> None:
    """ "2 to 6 weeks" counts as about 4 weeks: at 6 weeks without a meaningful improvement the
    person is advised an assessment, once, and /status says so."""
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)  # answers "2 to 6 weeks"
        await bot.tap(USER, "Done")
        first = await check_in(bot, 5, 2, 3, 3)
        assert "assessed" not in first
        bot.clock.advance(days=13)
        await bot.say(USER, "/checkin")
        too_early = await check_in(bot, 5, 2, 3, 3)
        assert "assessed" not in too_early
        bot.clock.advance(days=2)  # four weeks before the start + 15 days: over six weeks
        await bot.say(USER, "/checkin")
        advice = await check_in(bot, 5, 2, 3, 3)
        assert "Please have your symptoms assessed by a doctor or physiotherapist." in advice
        bot.clock.advance(days=1)
        await bot.say(USER, "/checkin")
        again = await check_in(bot, 5, 2, 3, 3)
        assert "assessed" not in again  # once
        status = await bot.say(USER, "/status")
        assert "I advised you to have your symptoms assessed" in status.text


async def test_people_who_never_said_are_asked_the_duration_once(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        async with bot.services.sessions() as db, db.begin():
            await db.execute(update(Patient).values(symptom_duration=None, symptoms_since=None))
        await bot.tap(USER, "Done")
        await check_in(bot, 5, 2, 3, 3)
        assert "How long have you had these symptoms" in bot.last(USER).text
        await bot.tap(USER, "6 to 12 weeks")
        row = await patient(bot)
        assert row is not None
        assert row.symptom_duration == "6to12w"
        assert row.symptoms_since == bot.clock.now - timedelta(weeks=9)
        await bot.say(USER, "/checkin")
        await check_in(bot, 5, 2, 3, 3)
        assert "How long have you had" not in bot.last(USER).text


async def test_the_guidance_sent_at_the_start_carries_the_seed_advice(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        guidance = next(t for t in bot.texts(USER) if "How the program works" in t)
        for words in (
            "one new exercise a day",
            "Why not all at once?",
            "you could not tell which exercise caused it",
            "Keep moving",
            "see a doctor or physiotherapist",
            "do not replace a consultation",
            "You may stop any exercise that hurts.",
        ):
            assert words in guidance, words


async def test_a_combined_verdict_never_repeats_a_line(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        for pain in (5, 4, 4):
            await bot.tap(USER, "Done")
            await check_in(bot, pain, 2, 3, 3)
            await next_day(bot)
        assert exercises_in(routine_text(bot)) == [1, 2, 3, 4]
        await bot.tap(USER, "Had to stop")
        await bot.tap(USER, f"4. {NAMES[4]}")
        await bot.tap(USER, "Sharp, shooting or electric pain")
        await bot.tap(USER, "Yes, it has settled")
        verdict = await check_in(bot, 7, 2, 3, 3)  # also worse on the day 4 was added
        lines = [line for line in verdict.split("\n") if line.strip()]
        assert len(lines) == len(set(lines)), verdict
        assert verdict.count("Leave out exercise 4") == 1


async def test_status_names_what_comes_next_and_when(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        waiting = await bot.say(USER, "/status")
        assert "Today's routine (exercise 1) is waiting for your answer" in waiting.text
        await bot.tap(USER, "Done")
        await check_in(bot, 4, 2, 3, 3)
        status = await bot.say(USER, "/status")
        assert status.text.startswith("Your program: day 1 is done.")
        assert "Coming next: exercises 1 and 2 (2 is new)." in status.text
        assert "Next routine: tomorrow at 08:00 (Europe/Paris)." in status.text
        assert "Today's" not in status.text
