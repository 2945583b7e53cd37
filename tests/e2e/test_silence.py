"""End to end: silence is noticed (issue 20, point 8; bot/domain/silence.py). The real bot
through the local Bot API, the dispatcher run as each morning comes, the clock moved forward."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

from sqlalchemy import select

from bot.domain.program import PatientStatus
from bot.rendering.i18n import texts_for
from bot.usecases.morning import DispatchReport, Skip, dispatch_once
from db.models import Patient
from tests.e2e.test_onboarding import USER, onboard, patient
from tests.support.botapi import SentMessage
from tests.support.dispatch import local
from tests.support.harness import BotHarness, running_bot

EN = texts_for("en")
PARIS = "Europe/Paris"
FIRST = date(2026, 3, 3)  # onboarding on 2 March, "Tomorrow morning"
QUESTION = EN.t("silence.question")
CHOICES = [EN.t("silence.carry"), EN.t("silence.pause"), EN.t("silence.stop")]


async def morning(bot: BotHarness, day: date) -> tuple[DispatchReport, list[SentMessage]]:
    """The dispatcher's pass at 08:00 in Paris on ``day``, and the messages it sent."""
    at = local(day, time(8, 0), PARIS).astimezone(UTC)
    bot.clock.set(at)
    before = len(bot.server.messages(USER))
    report = await dispatch_once(bot.services, at)
    return report, bot.server.messages(USER)[before:]


def sent_text(sent: list[SentMessage]) -> str:
    """What a morning's messages say, together (the day's heading comes first)."""
    return "\n".join(m.text for m in sent)


def photos(messages: list[SentMessage]) -> list[SentMessage]:
    return [m for m in messages if m.kind == "photo"]


def assert_chosen(bot: BotHarness, question: SentMessage, choice: str) -> None:
    """The question keeps the choice made, without its buttons."""
    now = bot.server.message(USER, question.message_id)
    assert (now.text, now.buttons) == (f"{QUESTION}\n{choice} ✓", [])


async def silent_until_the_question(bot: BotHarness) -> SentMessage:
    """Onboarding, then three mornings without any answer; the fourth brings the question."""
    await onboard(bot, start="Tomorrow morning")
    for n in range(3):
        report, sent = await morning(bot, FIRST + timedelta(days=n))
        assert report.routines == 1
    report, sent = await morning(bot, FIRST + timedelta(days=3))
    assert (report.routines, report.silence_questions) == (0, 1)
    (question,) = sent
    return question


async def test_three_silent_mornings_then_the_question_then_a_week_then_nothing(
    database_url: str,
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot, start="Tomorrow morning")
        report, sent = await morning(bot, FIRST)
        assert report.routines == 1
        assert len(photos(sent)) == 4  # exercise 1 is new: its pictures, once
        assert "Day 1" in sent_text(sent) and "Done" in sent[-1].buttons
        for n in (1, 2):
            # Exercise 1 offered again (never marked): its text, not its album again.
            report, sent = await morning(bot, FIRST + timedelta(days=n))
            assert report.routines == 1
            assert photos(sent) == []
            assert "Day 1" in sent_text(sent) and "Done" in sent[-1].buttons
            assert "Lie face down" in "\n".join(m.text for m in sent)
        # The fourth silent morning: one short message instead of the routine.
        report, sent = await morning(bot, FIRST + timedelta(days=3))
        assert (report.routines, report.silence_questions, report.messages) == (0, 1, 1)
        (question,) = sent
        assert question.text == QUESTION
        assert question.buttons == CHOICES
        assert len(question.text) < 200
        # Not answered either: the routine as usual (asked once), until a week has passed.
        for n in (4, 5, 6):
            report, sent = await morning(bot, FIRST + timedelta(days=n))
            assert (report.routines, report.silence_questions) == (1, 0)
            assert photos(sent) == []
            assert QUESTION not in [m.text for m in sent]
        # Seven days without an answer: nothing goes out, morning after morning.
        for n in (7, 8, 9):
            report, sent = await morning(bot, FIRST + timedelta(days=n))
            assert sent == []
            assert dict(report.skipped) == {Skip.SILENT.value: 1}
        assert len(photos(bot.server.messages(USER))) == 4  # the album went out once in all
        # Any message restarts the mornings at the next send time.
        bot.clock.advance(hours=3)
        reply = await bot.say(USER, "hello")
        texts = [m.text for m in bot.server.messages(USER)[-2:]]
        assert any(EN.t("welcome.came_back") in t for t in texts), texts
        assert reply.text  # the free text itself is answered too
        report, sent = await morning(bot, FIRST + timedelta(days=10))
        assert report.routines == 1
        assert "Day 1" in sent_text(sent) and "Done" in sent[-1].buttons
        assert photos(sent) == []


async def test_an_answer_starts_the_count_again(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot, start="Tomorrow morning")
        for n in (0, 1):
            await morning(bot, FIRST + timedelta(days=n))
        bot.clock.advance(hours=1)
        await bot.say(USER, "/status")  # any command is an answer
        for n in (2, 3, 4):
            report, _ = await morning(bot, FIRST + timedelta(days=n))
            assert (report.routines, report.silence_questions) == (1, 0)
        report, _ = await morning(bot, FIRST + timedelta(days=5))
        assert (report.routines, report.silence_questions) == (0, 1)


async def test_carry_on(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        question = await silent_until_the_question(bot)
        bot.clock.advance(hours=1)
        await bot.tap(USER, EN.t("silence.carry"), message=question)
        assert_chosen(bot, question, EN.t("silence.carry"))
        reply = bot.last(USER)
        assert reply.text == EN.t("silence.carry_reply", time="08:00")
        assert reply.buttons == [EN.t("silence.carry_now")]
        # Now, if the person wants it: today's routine, without the album already sent.
        before = len(bot.server.messages(USER))
        await bot.tap(USER, EN.t("silence.carry_now"), message=reply)
        sent = bot.server.messages(USER)[before:]
        assert "Day 1" in sent_text(sent) and "Done" in sent[-1].buttons
        # Or the next morning as usual, and the count starts again.
        for n in (4, 5, 6):
            report, sent = await morning(bot, FIRST + timedelta(days=n))
            assert (report.routines, report.silence_questions) == (1, 0)
            assert photos(sent) == []


async def test_pause_a_week(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        question = await silent_until_the_question(bot)
        bot.clock.advance(hours=1)
        await bot.tap(USER, EN.t("silence.pause"), message=question)
        assert_chosen(bot, question, EN.t("silence.pause"))
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.PAUSED
        assert row.paused_until == FIRST + timedelta(days=3 + 7)  # as /pause 7 does
        assert "13 March" in bot.last(USER).text
        for n in range(4, 10):
            report, sent = await morning(bot, FIRST + timedelta(days=n))
            assert (sent, report.routines) == ([], 0)  # not even claimed: due on the 13th
        report, sent = await morning(bot, FIRST + timedelta(days=10))
        assert (report.routines, report.welcome_backs) == (1, 1)
        assert EN.t("dispatch.welcome_back") in [m.text for m in sent]


async def test_stop_the_morning_messages_until_the_person_writes(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        question = await silent_until_the_question(bot)
        bot.clock.advance(hours=1)
        await bot.tap(USER, EN.t("silence.stop"), message=question)
        assert_chosen(bot, question, EN.t("silence.stop"))
        stopped = bot.last(USER)
        assert stopped.text == EN.t("silence.stopped")
        assert "/today" in stopped.text  # how to restart
        for n in range(4, 8):
            report, sent = await morning(bot, FIRST + timedelta(days=n))
            assert sent == []
            assert dict(report.skipped) == {Skip.SILENT.value: 1}
        row = await patient(bot)
        assert row is not None
        assert row.status == PatientStatus.ACTIVE  # not a pause: nothing to /resume
        # A press on anything restarts them too: here /status.
        bot.clock.advance(hours=2)
        await bot.say(USER, "/status")
        texts = "\n".join(m.text for m in bot.server.messages(USER)[-2:])
        assert EN.t("welcome.came_back") in texts
        report, sent = await morning(bot, FIRST + timedelta(days=8))
        assert report.routines == 1
        async with bot.services.sessions() as db:
            state = (await db.execute(select(Patient.program_state))).scalar_one()
        assert state["silence"]["mornings"] == 1


async def test_help_or_a_sticker_ends_the_silence_too(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot, start="Tomorrow morning")
        for n in range(7):
            await morning(bot, FIRST + timedelta(days=n))
        report, sent = await morning(bot, FIRST + timedelta(days=7))
        assert dict(report.skipped) == {Skip.SILENT.value: 1}
        bot.clock.advance(hours=1)
        help_text = await bot.say(USER, "/help")
        assert "/today" in help_text.text
        report, sent = await morning(bot, FIRST + timedelta(days=8))
        assert report.routines == 1
        assert "Day 1" in sent_text(sent)
        # Silent again for a week, then a sticker.
        for n in range(9, 16):
            await morning(bot, FIRST + timedelta(days=n))
        report, sent = await morning(bot, FIRST + timedelta(days=16))
        assert (sent, dict(report.skipped)) == ([], {Skip.SILENT.value: 1})
        bot.clock.advance(hours=1)
        await bot.after(lambda: bot.server.send_sticker(USER))
        report, sent = await morning(bot, FIRST + timedelta(days=17))
        assert report.routines == 1
