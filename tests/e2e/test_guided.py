"""End to end: the guided session, one exercise at a time (issue 22, point 5).

"Start" on the day card walks through today's routine: each exercise's demonstration, three
short lines and Next / Had to stop / Leave; after the last one the check-in opens by itself.
Leaving half-way is offered again once at the next message; Had to stop in the middle opens the
"had to stop" check-in with that exercise chosen; a Next pressed twice, or delivered twice, is
applied once; a rest day has no Start. In English and French, on what is really sent.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.flows import Flow
from bot.domain.program import PatientStatus, ProgramState
from bot.domain.timing import first_send_at
from bot.rendering.i18n import Texts, texts_for
from bot.rendering.verdict_texts import free_text
from db import repo
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from tests.e2e.test_day_cards import MORNING_2, check_in, onboard, since, tap
from tests.e2e.test_onboarding import USER
from tests.e2e.test_pipeline import PAIN, WAIT, bot_process, until
from tests.support.botapi import BotApiServer, SentMessage
from tests.support.harness import TEST_MEDIA_DIR, BotHarness, running_bot

EN = texts_for("en")


async def day_two(bot: BotHarness, texts: Texts) -> SentMessage:
    """Onboarded, day 1 done and checked in; day 2's card (exercises 1 and 2, 2 new)."""
    await onboard(bot, texts)
    await tap(bot, texts, "buttons.done")
    await check_in(bot, texts)
    bot.clock.advance(days=1)
    await bot.say(USER, "/today")
    card = bot.last(USER)
    assert card.html.startswith(
        texts.t("routine.exercise_title_new", number=2, name=texts.exercise(2).name)
    )
    return card


def step_buttons(texts: Texts, *, last: bool) -> list[str]:
    onward = texts.t("buttons.finish") if last else texts.t("buttons.next")
    return [onward, texts.t("buttons.had_to_stop"), texts.t("guided.leave_button")]


def assert_step(
    messages: list[SentMessage], texts: Texts, exercise: int, index: int, total: int, *, new: bool
) -> SentMessage:
    """The exercise's animation, then one message: where it stands, the three lines, buttons."""
    *shown, step = messages
    assert [m.kind for m in shown] == ["animation"]
    assert texts.exercise(exercise).name in shown[0].text
    assert step.kind == "text"
    lines = step.html.split("\n")
    assert lines[0] == texts.t("guided.progress", index=index, total=total)
    ex = texts.exercise(exercise)
    title = "routine.exercise_title_new" if new else "routine.exercise_title"
    assert lines[1] == texts.t(title, number=exercise, name=ex.name)
    assert lines[2:5] == [
        texts.t("guided.position", text=ex.guide_position),
        texts.t("guided.movement", text=ex.guide_movement),
        texts.t("guided.dose", text=ex.guide_dose),
    ]
    cautions = [c for c in ex.cautions if c in step.text]
    assert cautions == (list(ex.cautions) if new else [])
    assert lines[-1] == texts.t("guided.may_stop")
    assert step.buttons == step_buttons(texts, last=index == total)
    return step


async def flow_of(bot: BotHarness) -> tuple[str | None, dict[str, object]]:
    async with bot.services.sessions() as db:
        patient = await repo.get_patient(db, USER)
        assert patient is not None
        return patient.flow, dict(patient.flow_data or {})


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_start_walks_through_each_exercise_then_the_check_in(
    database_url: str, language: str
) -> None:
    texts = texts_for(language)
    async with running_bot(database_url, start_dispatcher=False) as bot:
        card = await day_two(bot, texts)
        assert card.buttons[:4] == [
            texts.t("buttons.done"),
            texts.t("buttons.not_today"),
            texts.t("buttons.had_to_stop"),
            texts.t("buttons.start"),
        ]
        count = len(bot.server.messages(USER))
        await tap(bot, texts, "buttons.start")
        first = assert_step(since(bot, count), texts, 1, 1, 2, new=False)
        # The day card keeps its buttons: the routine can still be marked from there.
        assert texts.t("buttons.done") in bot.server.message(USER, card.message_id).buttons

        count = len(bot.server.messages(USER))
        await bot.tap(USER, texts.t("buttons.next"), first)
        second = assert_step(since(bot, count), texts, 2, 2, 2, new=True)
        assert bot.server.message(USER, first.message_id).buttons == []  # no stale Next

        count = len(bot.server.messages(USER))
        await bot.tap(USER, texts.t("buttons.finish"), second)
        (checkin_card,) = since(bot, count)
        assert checkin_card.text.startswith(
            texts.t("checkin.title.session").replace("<b>", "").replace("</b>", "")
        )
        assert bot.server.message(USER, second.message_id).buttons == []
        assert bot.server.message(USER, card.message_id).buttons == []  # marked: nothing to tap
        await check_in(bot, texts)
        status = await bot.say(USER, "/status")
        assert status.html.startswith(texts.t("status.title_done", day=2))
        # The check-in took over: the guided session is closed.
        assert (await flow_of(bot))[0] is None


async def test_leaving_half_way_is_offered_again_once(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        card = await day_two(bot, EN)
        await bot.tap(USER, "Start", card)
        step = bot.last(USER)
        old_next = step.button("Next")["callback_data"]
        await bot.tap(USER, "Next", step)
        second = bot.last(USER)
        await bot.tap(USER, "Leave the guided session", second)
        left = bot.last(USER)
        assert left.text == EN.t("guided.left", index=2, total=2)
        assert left.buttons == ["Resume", "Done", "Not today", "Had to stop"]
        assert bot.server.message(USER, second.message_id).buttons == []
        # Its Next is gone, and a press of the old one changes nothing.
        query = bot.server.press_button(USER, step.message_id, old_next)
        await bot.until_processed()
        assert bot.server.callback_answers[query]["text"] == EN.t("errors.stale_button")

        # The next message: the kind answer to text, then the offer, once.
        count = len(bot.server.messages(USER))
        await bot.say(USER, "I am back")
        kind, offer = since(bot, count)
        assert kind.html == free_text(EN, "Europe/Paris")
        assert offer.text == EN.t("guided.offer", index=2, total=2)
        assert offer.buttons == ["Resume", "Done", "Not today", "Had to stop"]
        count = len(bot.server.messages(USER))
        await bot.say(USER, "/status")
        assert not any(EN.t("guided.offer", index=2, total=2) == m.text for m in since(bot, count))

        # Resume goes back to the exercise where it stopped.
        count = len(bot.server.messages(USER))
        await bot.tap(USER, "Resume", offer)
        again = assert_step(since(bot, count), EN, 2, 2, 2, new=True)
        assert bot.server.message(USER, offer.message_id).buttons == []

        # A command while a step is on screen: the offer first, then the command's answer.
        count = len(bot.server.messages(USER))
        await bot.say(USER, "/status")
        offer, status = since(bot, count)
        assert offer.text == EN.t("guided.offer", index=2, total=2)
        assert status.html.startswith(EN.t("status.title", day=2))
        assert bot.server.message(USER, again.message_id).buttons == []

        # Mark the routine from the offer: the check-in opens.
        await bot.tap(USER, "Done", offer)
        assert "How strong is your pain" in bot.last(USER).text


async def test_had_to_stop_in_the_middle_chooses_that_exercise(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        card = await day_two(bot, EN)
        await bot.tap(USER, "Start", card)
        await bot.tap(USER, "Next")
        count = len(bot.server.messages(USER))
        await bot.tap(USER, "Had to stop")
        (stop_card,) = since(bot, count)
        name = EN.exercise(2).name
        assert EN.t("checkin.answered.stop_exercise", name=name) in stop_card.html
        assert f"1. {EN.exercise(1).name}" not in stop_card.buttons  # not asked again
        assert "Symptoms spreading down the leg" in stop_card.buttons
        assert bot.server.message(USER, card.message_id).buttons == []
        await bot.tap(USER, "Symptoms spreading down the leg")
        await bot.tap(USER, "Yes, it has settled")
        await check_in(bot, EN)
        status = await bot.say(USER, "/status")
        assert status.html.startswith(EN.t("status.title_done", day=2))


@pytest.mark.parametrize("how", ["redelivered", "pressed twice"])
async def test_a_next_press_is_applied_once(database_url: str, how: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        card = await day_two(bot, EN)
        await bot.tap(USER, "Start", card)
        step = bot.last(USER)
        data = step.button("Next")["callback_data"]
        bot.server.press_button(USER, step.message_id, data)
        update_id = bot.server.last_update_id
        await bot.until_processed()
        flow, flow_data = await flow_of(bot)
        assert (flow, flow_data["index"]) == (Flow.GUIDED.value, 1)
        sent = len(bot.server.messages(USER))

        if how == "redelivered":
            bot.server.redeliver(update_id)
            await bot.server.wait_for(lambda: bot.server.pending_updates == 0, timeout=30.0)
            await bot.until_processed()
        else:
            query = bot.server.press_button(USER, step.message_id, data)
            await bot.until_processed()
            assert bot.server.callback_answers[query]["text"] == EN.t("errors.stale_button")
        assert len(bot.server.messages(USER)) == sent  # nothing sent twice
        assert (await flow_of(bot))[1]["index"] == 1  # and one step further, not two
        assert (
            sum(
                m.text.startswith(
                    EN.t("guided.progress", index=2, total=2).replace("<b>", "").replace("</b>", "")
                )
                for m in bot.server.messages(USER)
            )
            == 1
        )


async def test_a_rest_day_has_no_start(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot, EN)
        assert "Start" in bot.last(USER).buttons
        await bot.tap(USER, "Had to stop")
        await bot.tap(USER, "1. Lying back bend (press-up)")
        await bot.tap(USER, "Symptoms spreading down the leg")
        await bot.tap(USER, "Yes, it has settled")
        await check_in(bot, EN, pain=7)
        bot.clock.set(MORNING_2)
        count = len(bot.server.messages(USER))
        await bot.say(USER, "/today")
        (rest,) = since(bot, count)
        assert rest.text.startswith("Day 2: a rest day.")
        assert rest.buttons == []


async def test_no_start_while_warning_signs_wait_for_is_that_right(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        card = await day_two(bot, EN)
        await bot.say(USER, "I can't pee")
        question = bot.last(USER)
        assert "Is that right?" in question.text
        count = len(bot.server.messages(USER))
        assert await bot.tap(USER, "Start", card) == EN.t("guided.answer_first")
        assert since(bot, count) == []
        flow, _data = await flow_of(bot)
        assert flow == Flow.CHECKIN.value


# --------------------------------------------------------------------------- a crash


CRASH_USER = 4242


async def day_three(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Someone on day 3 (exercises 1 to 3, the third new), right leg, who has not had today's
    routine yet (the next one is due tomorrow morning)."""
    now = datetime.now(UTC)
    async with sessions() as db, db.begin():
        person = repo.new_patient(db, CRASH_USER, CRASH_USER, now, "en")
        person.status = PatientStatus.ACTIVE
        person.time_zone = "Europe/Paris"
        person.reminder_time = dtime(8, 0)
        person.consent_at = now
        person.symptom_side = "right"
        person.program_state = ProgramState(day=3, unlocked=(1, 2, 3), new=3).to_json()
        person.program_started_on = now.date()
        person.next_send_at = first_send_at(
            dtime(8, 0), ZoneInfo("Europe/Paris"), now, start_today=False
        )


def last_buttons(server: BotApiServer) -> list[str]:
    sent = server.messages(CRASH_USER)
    return sent[-1].buttons if sent else []


def progress(index: int) -> str:
    return EN.t("guided.progress", index=index, total=3).replace("<b>", "").replace("</b>", "")


def step_shown(server: BotApiServer, index: int) -> SentMessage | None:
    """The step message of exercise ``index`` of 3 (its animation came just before), if sent."""
    found = [m for m in server.messages(CRASH_USER) if m.text.startswith(progress(index))]
    return found[-1] if found else None


async def shown(server: BotApiServer, index: int) -> SentMessage:
    await server.wait_for(lambda: step_shown(server, index) is not None, timeout=WAIT)
    step = step_shown(server, index)
    assert step is not None
    return step


async def step_stored(sessions: async_sessionmaker[AsyncSession], step: SentMessage) -> bool:
    """Whether the bot stored ``step`` as the step on screen (once it is delivered)."""
    async with sessions() as db:
        patient = await repo.get_patient(db, CRASH_USER)
        assert patient is not None and patient.flow == Flow.GUIDED.value
        return (patient.flow_data or {}).get("card") == step.message_id


async def test_a_crash_mid_session_loses_nothing_and_sends_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    """The real bot killed with SIGKILL twice in a guided session: right after a Next was
    handled (the step on screen, its id stored), then while the next Next's answer is on its
    way (applied, its animation in flight). Each new process carries on where it was: the
    next press works, each step is shown once, and Finished opens the check-in."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    media = {"MEDIA_DIR": str(TEST_MEDIA_DIR)}  # the animations drawn (tests/conftest.py)
    try:
        await upgrade(engine)
        await day_three(sessions)
        async with BotApiServer() as server:
            async with bot_process(server, database_url, tmp_path, **media) as first:
                server.send_text(CRASH_USER, "/today")
                await server.wait_for(lambda: "Start" in last_buttons(server), timeout=WAIT)
                server.press(CRASH_USER, server.messages(CRASH_USER)[-1], "Start")
                step = await shown(server, 1)
                server.press(CRASH_USER, step, "Next")
                step = await shown(server, 2)
                await until(lambda: step_stored(sessions, step))
                first.kill()  # right after a press was handled
                await first.wait()

            async with bot_process(server, database_url, tmp_path, **media) as second:
                held = server.hold("sendAnimation", chat_id=CRASH_USER)
                server.press(CRASH_USER, step, "Next")
                await held.wait_held(timeout=WAIT)  # applied, its answer on its way
                second.kill()
                await second.wait()
            held.release()

            async with bot_process(server, database_url, tmp_path, **media) as third:
                step = await shown(server, 3)
                assert step.buttons == step_buttons(EN, last=True)
                await until(lambda: step_stored(sessions, step))
                count = len(server.messages(CRASH_USER))
                server.press(CRASH_USER, step, "Finished")
                await server.wait_for(
                    lambda: any(PAIN in m.text for m in server.messages(CRASH_USER)[count:]),
                    timeout=WAIT,
                )
                third.send_signal(signal.SIGTERM)
                await asyncio.wait_for(third.wait(), timeout=WAIT)

        sent = server.messages(CRASH_USER)
        # Each step's message once, after its animation; the check-in card once.
        for index in (1, 2, 3):
            (message,) = [m for m in sent if m.text.startswith(progress(index))]
            before = sent[sent.index(message) - 1]
            assert before.kind == "animation" and EN.exercise(index).name in before.text
        # Exercise 3 is new: its animation on the day card, then in its step, where the one in
        # flight at the kill had reached the server (which answered no one) and came again:
        # replies are delivered at least once (README, "The update pipeline").
        animations = [m for m in sent if m.kind == "animation"]
        assert [m.text.split(".")[0] for m in animations] == ["3", "1", "2", "3", "3"]
        assert [m.kind for m in sent[sent.index(animations[-2]) :][:3]] == ["animation"] * 2 + [
            "text"
        ]
        assert sum(PAIN in m.text for m in sent) == 1
        assert sent[-1].buttons and PAIN in sent[-1].text
        assert all(m.buttons == [] for m in sent[:-1])  # no step, nor the day card, to tap
        # The new process answers the press again and takes step 2's buttons away again (it
        # cannot know the dead one did): Telegram refuses both, harmlessly; nothing else.
        again = ("query is too old", "message is not modified")
        assert len(server.violations) <= 2, server.violations
        assert all(any(a in v for a in again) for v in server.violations), server.violations
    finally:
        await engine.dispose()
