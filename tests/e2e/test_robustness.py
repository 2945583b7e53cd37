"""Regression tests for "Robust against anything a chat can send and anything a morning can
throw", each on SQLite and PostgreSQL: forged and huge buttons, superscript digits, edits of
deleted or uneditable messages, group chats, repeated presses, block and unblock, chats gone on
a morning send, a time zone or a program state that can no longer be read, settings that make
no sense, personal data kept out of the logs, and a dispatcher killed mid-pass."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.app import Runtime, build_application
from bot.config import ConfigError, load_settings
from bot.context import BotApplication, Services
from bot.domain.program import ProgramState
from bot.logs import _ECHOING, configure_logging
from bot.rendering.buttons import decode
from bot.rendering.i18n import texts_for
from bot.runtime.pipeline import SWEEP_EVERY
from bot.usecases import morning
from bot.usecases import turn as turn_module
from bot.usecases.conversation import MENU
from bot.usecases.morning import LEASE, RECORD_EVERY, Skip, dispatch_once
from db.migrate import upgrade
from db.models import Patient
from tests.e2e.test_onboarding import USER, onboard, patient
from tests.support.botapi import (
    CHAT_NOT_FOUND,
    FIRST_UPDATE_ID,
    USER_DEACTIVATED,
    BotApiServer,
    SentMessage,
)
from tests.support.dispatch import Env, dispatch_env, local
from tests.support.harness import (
    TOKEN,
    WAIT,
    BotHarness,
    FakeClock,
    make_settings,
    running_bot,
)
from tests.support.rows import PersonRows, everyone

EN = texts_for("en")
SORRY = EN.t("errors.unexpected")
STALE = EN.t("errors.stale_button")
ALREADY = EN.t("errors.already_recorded")
PRIVATE_ONLY = EN.t("errors.private_only")
PAIN = "How strong is your pain"
NUMBNESS = "How strong is any numbness"
TINGLING = "How strong is any tingling"
OTHER = 2002
THIRD = 3003
PARIS = "Europe/Paris"
BOT_NAME = "sciatica_test_bot"  # the fake server's bot


# --------------------------------------------------------------------------- helpers


async def until_processed_with_sweep(self: BotHarness) -> None:
    """``BotHarness.until_processed``, plus the inbox sweep that production runs every
    SWEEP_EVERY seconds on PostgreSQL (``bot.runtime.jobs.sweep_job``; the harness runs no
    jobs). The sweep picks up an update that ``Pipeline._enqueue`` / ``_merge_stored`` left
    without a task when it arrived just as the person's previous update finished: a race in
    bot/runtime/pipeline.py, reported with these tests. Without the sweep (SQLite) it waits."""
    wanted = range(FIRST_UPDATE_ID, self.server.last_update_id + 1)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    sweep_at = loop.time() + SWEEP_EVERY
    while not all(update_id in self.handled for update_id in wanted):
        if loop.time() >= deadline:
            raise TimeoutError(f"updates not handled within {WAIT}s\n{self.server.dump()}")
        if loop.time() >= sweep_at:
            await self.runtime.pipeline.sweep()
            sweep_at = loop.time() + SWEEP_EVERY
        await asyncio.sleep(0.01)
    await self.server.settle(quiet=0.02)


@pytest.fixture(autouse=True)
def _sweeping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BotHarness, "until_processed", until_processed_with_sweep)


async def rows_of(bot: BotHarness, user: int) -> PersonRows | None:
    return (await everyone(bot.services.sessions)).get(user)


async def store(bot: BotHarness, user: int, **values: Any) -> None:
    """Write columns straight to the person's row (what a bad migration or a typo might do)."""
    async with bot.services.sessions() as db:
        await db.execute(update(Patient).where(Patient.telegram_user_id == user).values(**values))
        await db.commit()


def assert_no_failure(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing reached the pipeline's failure path, and nobody was told "something went wrong"."""
    assert bot.runtime.pipeline.failed == 0
    failures = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name in ("bot.runtime.pipeline", "bot.runtime.jobs")
    ]
    assert failures == []
    assert [r for r in bot.server.calls("sendMessage") if r.params.get("text") == SORRY] == []
    assert bot.server.violations == []


def card_of(bot: BotHarness, message: SentMessage) -> SentMessage:
    """A message as it is now (after edits)."""
    return bot.server.message(message.chat_id, message.message_id)


async def flow_data(bot: BotHarness, user: int = USER) -> dict[str, Any]:
    row = await patient(bot, user)
    assert row is not None
    return dict(row.flow_data or {})


# --------------------------------------------------------------------------- buttons


HUGE = (
    "r|99999999999999999999|done",  # OverflowError on SQLite before
    "r|2147483648|done",  # one over PostgreSQL's int32
    "r|9223372036854775808|stopped",
    "u|99999999999999999999|yes",
    "h|99999999999999999999|",
    "r|-1|done",
    "r|0|done",
    "r|0000000007|done",
    "r|١٢٣|done",  # other scripts' digits
    "r|³|done",
    "f|" + "A" * 17 + "|pain:3",  # a nonce longer than any the bot makes
)


async def test_forged_buttons_with_huge_numbers_are_refused(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot)
        await onboard(bot, OTHER)
        routine = bot.last(USER)
        before = await everyone(bot.services.sessions)
        queries = [bot.server.press_button(USER, routine.message_id, data) for data in HUGE]
        # The largest id a button may carry fits every backend: looked up, and nobody's.
        largest = bot.server.press_button(USER, routine.message_id, "r|999999999|done")
        await bot.until_processed()
        answers = bot.server.callback_answers
        assert [answers[q].get("text") for q in queries] == [STALE] * len(HUGE)
        assert answers[largest].get("text") == STALE
        assert (await bot.say(USER, "/howto 99999999999999999999")).text == EN.t("howto.usage")
        assert (await bot.say(USER, "/pause 99999999999")).text == EN.t(
            "pause.invalid", minimum=1, maximum=90
        )
        assert await everyone(bot.services.sessions) == before
        # The real buttons still work.
        await bot.tap(USER, "Done", message=routine)
        assert PAIN in bot.last(USER).text
        assert_no_failure(bot, caplog)


# --------------------------------------------------------------------------- typed numbers


async def test_superscript_digits_where_a_number_is_expected(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        card = bot.last(USER)
        before = await rows_of(bot, USER)
        for typed in ("³", "²/10", "⁶", "½"):
            reply = await bot.say(USER, typed)
            assert reply.text == EN.t("checkin.invalid_number", maximum=10)
        assert (await bot.say(USER, "/howto ³")).text == EN.t("howto.usage")
        assert (await bot.say(USER, "/pause ³")).text == EN.t(
            "pause.invalid", minimum=1, maximum=90
        )
        assert await rows_of(bot, USER) == before
        await bot.tap(USER, "5", message=card)  # the card still takes a real answer
        assert NUMBNESS in card_of(bot, card).text

        # The zone list: 07:00 UTC is 08:00 in every UTC+1 zone, so a list to pick from.
        await bot.say(USER, "/timezone")
        pick = await bot.say(USER, "my local time is 08:00")
        assert EN.t("onboarding.zone_pick") in pick.text
        assert len(pick.buttons) > 1
        before = await rows_of(bot, USER)
        assert (await bot.say(USER, "³")).text == EN.t("onboarding.zone_not_found")
        payload = decode(pick.callback_data[0])
        assert payload is not None
        forged = [
            bot.server.press_button(USER, pick.message_id, f"f|{payload.ref}|pick:{value}")
            for value in ("³", "٣", "99", "-1", "1.5")
        ]
        await bot.until_processed()
        assert [bot.server.callback_answers[q].get("text") for q in forged] == [STALE] * 5
        assert await rows_of(bot, USER) == before
        await bot.tap(USER, pick.buttons[0], message=pick)
        assert "Yes, that is right" in bot.last(USER).buttons
        assert_no_failure(bot, caplog)


# --------------------------------------------------------------------------- edits


async def test_an_edit_of_a_deleted_message_comes_as_a_fresh_message(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot)
        routine = bot.last(USER)
        bot.server.user_deletes(USER, routine.message_id)
        await bot.tap(USER, "Done", message=routine)  # its buttons cannot be taken away: fine
        card = bot.last(USER)
        assert PAIN in card.text
        bot.server.user_deletes(USER, card.message_id)
        await bot.tap(USER, "5", message=card)
        fresh = bot.last(USER)
        assert fresh.message_id != card.message_id
        assert NUMBNESS in fresh.text
        assert "Pain: 5/10" in fresh.text
        # The fresh card is the one edited from now on.
        count = len(bot.server.messages(USER))
        await bot.tap(USER, "2", message=fresh)
        assert len(bot.server.messages(USER)) == count
        assert TINGLING in card_of(bot, fresh).text
        assert (await flow_data(bot))["answers"] == {"pain": 5, "numbness": 2}
        assert_no_failure(bot, caplog)


async def test_a_deleted_card_then_a_typed_answer_is_stored(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        card = bot.last(USER)
        bot.server.user_deletes(USER, card.message_id)
        reply = await bot.say(USER, "6")
        assert NUMBNESS in reply.text
        assert "Pain: 6/10" in reply.text
        assert reply.buttons[:2] == ["0", "1"]
        assert (await flow_data(bot))["answers"] == {"pain": 6}
        assert (await flow_data(bot))["card"] == reply.message_id
        assert_no_failure(bot, caplog)


async def test_a_check_in_card_whose_edit_fails_comes_as_a_new_card(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        card = bot.last(USER)
        bot.server.fail_next("editMessageText", 400)  # Telegram refuses to edit it
        await bot.tap(USER, "5", message=card)
        new = bot.last(USER)
        assert new.message_id != card.message_id
        assert NUMBNESS in new.text
        assert "Pain: 5/10" in new.text
        assert PAIN in card_of(bot, card).text  # the old card as it was
        count = len(bot.server.messages(USER))
        await bot.tap(USER, "2", message=new)
        assert len(bot.server.messages(USER)) == count
        assert TINGLING in card_of(bot, new).text
        assert_no_failure(bot, caplog)


async def test_a_repeated_press_shows_the_current_question_again(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot)
        routine = bot.last(USER)
        done = routine.button("Done")["callback_data"]
        await bot.tap(USER, "Done", message=routine)
        card = bot.last(USER)
        pain_seven = card.button("7")["callback_data"]
        await bot.tap(USER, "5", message=card)
        # A second tap on an answered question (a double tap): the card already shows the
        # current question, so it stays as it is.
        count = len(bot.server.messages(USER))
        query = bot.server.press_button(USER, card.message_id, pain_seven)
        await bot.until_processed()
        assert bot.server.callback_answers[query].get("text") == ALREADY
        assert NUMBNESS in card_of(bot, card).text
        assert len(bot.server.messages(USER)) == count
        # An older card left with its buttons (its edit was refused, a new card came): a tap
        # on an answered question there shows the current question on it.
        numbness_three = card_of(bot, card).button("3")["callback_data"]
        bot.server.fail_next("editMessageText", 400)
        await bot.tap(USER, "2", message=card)
        assert TINGLING in bot.last(USER).text
        assert NUMBNESS in card_of(bot, card).text
        query = bot.server.press_button(USER, card.message_id, numbness_three)
        await bot.until_processed()
        assert bot.server.callback_answers[query].get("text") == ALREADY
        assert TINGLING in card_of(bot, card).text
        assert (await flow_data(bot))["answers"] == {"pain": 5, "numbness": 2}
        # The routine's Done again (its buttons are gone, a second tap is not): recorded.
        query = bot.server.press_button(USER, routine.message_id, done)
        await bot.until_processed()
        assert bot.server.callback_answers[query].get("text") == ALREADY
        assert_no_failure(bot, caplog)


# --------------------------------------------------------------------------- groups


async def test_group_chats_get_one_short_answer_and_never_an_edit(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot)
        routine = bot.last(USER)
        before = await everyone(bot.services.sessions)
        commands = (
            "/today",
            "/checkin",
            "/start",
            "/delete",
            "/pause 3",
            "/today@sciatica_test_bot",
        )
        chats = {-100200: "group", -100300: "supergroup"}
        for chat, kind in chats.items():
            for text in (*commands, "6", "hello"):
                bot.server.send_text(USER, text, chat_id=chat, chat_type=kind)
        await bot.until_processed()
        for chat in chats:
            assert [m.text for m in bot.server.messages(chat)] == [PRIVATE_ONLY] * len(commands)
        # A routine's button pressed in a group (the message forwarded there): answered only.
        group_message = bot.server.messages(-100200)[0]
        query = bot.server.press_button(
            USER, group_message.message_id, routine.callback_data[0], chat_id=-100200
        )
        await bot.until_processed()
        assert query in bot.server.callback_answers
        edits = [
            r
            for r in bot.server.requests
            if r.method.startswith("editMessage") and r.params.get("chat_id") in chats
        ]
        assert edits == []
        assert len(bot.server.messages(-100200)) == len(commands)
        assert await everyone(bot.services.sessions) == before
        assert_no_failure(bot, caplog)


async def test_a_command_for_another_bot_in_a_group_gets_no_answer(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        for text in ("/start@otherbot", "/today@otherbot hello"):
            bot.server.send_text(USER, text, chat_id=-100200, chat_type="group")
        bot.server.send_text(USER, f"/help@{BOT_NAME}", chat_id=-100200, chat_type="group")
        await bot.until_processed()
        assert [m.text for m in bot.server.messages(-100200)] == [PRIVATE_ONLY]


# --------------------------------------------------------------------------- block and unblock


async def test_block_then_unblock_without_start(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot, start="Tomorrow morning")
        await bot.after(lambda: bot.server.kick(USER))
        row = await patient(bot)
        assert row is not None
        assert row.blocked_at is not None
        # Tomorrow morning comes while blocked: nothing is sent, the time moves on.
        morning_at = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # 08:00 in Paris
        bot.clock.set(morning_at)
        report = await dispatch_once(bot.services, morning_at)
        assert (report.routines, dict(report.skipped)) == (0, {Skip.BLOCKED.value: 1})
        bot.clock.advance(hours=2)
        sent = len(bot.server.messages(USER))
        await bot.after(lambda: bot.server.unblock(USER))
        (welcome,) = bot.server.messages(USER)[sent:]
        assert welcome.text == "\n".join(
            [
                EN.t("welcome.came_back"),
                EN.t("status.next", when="tomorrow at 08:00", zone=PARIS),
            ]
        )
        row = await patient(bot)
        assert row is not None
        assert row.blocked_at is None
        assert row.next_send_at == datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
        report = await dispatch_once(bot.services, row.next_send_at)
        assert report.routines == 1
        assert "Day 1" in "\n".join(m.text for m in bot.server.messages(USER)[sent + 1 :])
        assert_no_failure(bot, caplog)


async def test_chats_gone_on_a_morning_send_are_marked_inactive_once(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    day = date(2026, 3, 10)
    at = local(day, time(8, 0), PARIS)
    async with dispatch_env(database_url, FakeClock(local(day, time(7, 0), PARIS))) as env:
        ids = {chat: await env.add_person(chat) for chat in (1, 2, 3)}
        env.server.fail_chat(1, 400, CHAT_NOT_FOUND)
        env.server.fail_chat(2, 403, USER_DEACTIVATED)
        for minutes in range(0, 65, 5):  # a pass every 5 minutes for an hour, then tomorrow
            await env.dispatch(at + timedelta(minutes=minutes))
        await env.dispatch(at + timedelta(days=1))
        for chat in (1, 2):
            person = await env.patient(ids[chat])
            assert person.blocked_at == at
            tried = [r for r in env.server.requests if r.params.get("chat_id") == chat]
            assert len(tried) == 1, tried  # not retried every 5 minutes, nor the next day
            said = [r.getMessage() for r in caplog.records if f"Patient {ids[chat]}:" in r.message]
            assert said == [f"Patient {ids[chat]}: the chat is gone; marked inactive"]
        assert len(env.routines(3)) == 2
        assert (await env.patient(ids[3])).blocked_at is None


# --------------------------------------------------------------------------- unreadable data


async def test_a_time_zone_that_no_longer_exists(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(database_url) as bot:
        await onboard(bot, start="Tomorrow morning")
        await store(bot, USER, time_zone="Mars/Olympus_Mons")
        sent = len(bot.server.messages(USER))
        await bot.say(USER, "/status")
        notice, status = bot.server.messages(USER)[sent:]
        assert notice.text == EN.t("errors.zone_unknown")
        assert notice.buttons == [EN.t("errors.zone_unknown_button")]
        assert "(UTC)" in status.text
        warned = [r.getMessage() for r in caplog.records if "time zone" in r.getMessage()]
        row = await patient(bot)
        assert row is not None
        assert warned == [f"Patient {row.id}: unknown time zone; using UTC"]
        # Every command still works, and the request is not made again.
        for name in (*MENU, "start"):
            sent = len(bot.server.messages(USER))
            bot.server.send_text(USER, f"/{name}")
            await bot.until_processed()
            answers = bot.server.messages(USER)[sent:]
            assert answers, name
            assert all(EN.t("errors.zone_unknown") not in m.text for m in answers), name
        # The dispatcher too, while the name is still unreadable: the routine goes out in UTC.
        await store(bot, USER, time_zone="Mars/Olympus_Mons", status="active", paused_until=None)
        tomorrow = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
        await store(bot, USER, next_send_at=tomorrow)
        report = await dispatch_once(bot.services, tomorrow)
        assert report.routines == 1
        assert any("unknown time zone" in r.getMessage() for r in caplog.records[-20:])
        # The button in the request sets the zone again.
        await bot.tap(USER, EN.t("errors.zone_unknown_button"), message=notice)
        await bot.say(USER, "Europe/Paris")
        await bot.tap(USER, "Yes, that is right")
        row = await patient(bot)
        assert row is not None
        assert row.time_zone == PARIS
        assert_no_failure(bot, caplog)


async def test_a_corrupt_program_state(
    database_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reported once per person and process: start from a clean slate (ids repeat across tests).
    monkeypatch.setattr(turn_module, "_REPORTED_STATES", set())
    async with running_bot(database_url) as bot:
        for user in (USER, OTHER, THIRD):
            await onboard(bot, user, start="Tomorrow morning")
        await store(bot, USER, program_state={"v": 1, "day": "seven", "unlocked": [1]})
        await store(bot, OTHER, program_state=[1, 2, 3])  # not even an object
        offer = EN.t("errors.state_unreadable")
        for user in (USER, OTHER):
            for command in ("/status", "/today"):
                reply = await bot.say(user, command)
                assert reply.text == offer, command
                assert reply.buttons == [EN.t("errors.state_unreadable_button")]
            # What does not need the program still works.
            assert "/today" in (await bot.say(user, "/help")).text
            assert "1." in (await bot.say(user, "/howto 1")).text
            assert "reminders" in (await bot.say(user, "/reminders")).text.lower()
        # The dispatcher skips them, and everyone else gets their routine.
        morning_at = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
        report = await dispatch_once(bot.services, morning_at)
        assert report.routines == 1
        assert dict(report.skipped) == {Skip.INVALID.value: 2}
        for user in (USER, OTHER):
            row = await patient(bot, user)
            assert row is not None
            said = [r.getMessage() for r in caplog.records if f"Patient {row.id}:" in r.message]
            assert said == [f"Patient {row.id}: the stored program state cannot be read"]
        # /reset starts again at day 1.
        for user in (USER, OTHER):
            await bot.tap(user, EN.t("errors.state_unreadable_button"))
            await bot.tap(user, "Yes, start again")
            assert EN.t("reset.done") in "\n".join(bot.texts(user)[-3:])
            await bot.say(user, "/today")
            # The heading, the animation, the four pictures, then the steps with the buttons.
            assert bot.texts(user)[-7].startswith("Day 1")
        assert_no_failure(bot, caplog)


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DISPATCH_INTERVAL_SECONDS", "0.5"),
        ("DISPATCH_INTERVAL_SECONDS", "nan"),
        ("DISPATCH_INTERVAL_SECONDS", "120"),
        ("DATABASE_URL", "sqlite+aiosqlite:///:memory:"),
        ("DATABASE_URL", "sqlite://"),
        ("DATABASE_URL", "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true"),
        ("DATABASE_URL", "sqlite+aiosqlite:///file:bot?mode=memory&uri=true"),
        ("RATE_LIMIT_OVERALL_PER_SECOND", "inf"),
        ("NUDGE_AFTER_HOURS", "0"),
        ("CATCH_UP_CUTOFF", "25:61"),
    ],
)
def test_settings_that_make_no_sense_are_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    message = str(info.value)
    assert message.startswith(f"Configuration error: {name} is invalid")
    assert "\n" not in message


def test_a_nonsense_setting_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DISPATCH_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={
            **env,
            "PYTHONPATH": str(root),
            "TELEGRAM_BOT_TOKEN": "123:not-echoed-aaaaaaaaaaaaaaaaaaaaaaaa",
            "DISPATCH_INTERVAL_SECONDS": "0.5",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISPATCH_INTERVAL_SECONDS" in lines[0]
    assert "not-echoed" not in result.stderr + result.stdout


# --------------------------------------------------------------------------- logs


@contextmanager
def captured_logging(level: str, *, personal: bool) -> Iterator[io.StringIO]:
    """The production logging set-up, writing to a stream; put back as it was afterwards."""
    root = logging.getLogger()
    handlers, root_level = root.handlers[:], root.level
    names = (*_ECHOING, "alembic")
    levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    stderr = sys.stderr
    sys.stderr = stream  # the handler writes to whatever sys.stderr is at the time
    try:
        configure_logging(level, [TOKEN], personal=personal)
        yield stream
    finally:
        sys.stderr = stderr
        root.handlers[:] = handlers
        root.setLevel(root_level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)


CITY = "Reykjavik"
FREE_TEXT = "my calf burns like zebra stripes"


async def _short_conversation(bot: BotHarness) -> None:
    """Onboarding with a typed city, typed ratings, then a free text."""
    await bot.say(USER, "/start")
    await bot.tap(USER, "Yes, store my answers")
    await bot.tap(USER, "2 to 6 weeks")
    await bot.tap(USER, "None of these")
    await bot.say(USER, "my right leg")
    await bot.say(USER, "7/10")
    await bot.say(USER, "3 out of 10")
    await bot.tap(USER, "4")
    await bot.tap(USER, "Thigh, above the knee")
    await bot.say(USER, "skip")  # no everyday activities (PSFS), typed
    await bot.say(USER, "07:45")
    await bot.say(USER, CITY)
    await bot.tap(USER, "Yes, that is right")
    await bot.tap(USER, "Start now")
    await bot.say(USER, FREE_TEXT)
    row = await patient(bot)
    assert row is not None
    assert row.time_zone == "Atlantic/Reykjavik"


@pytest.mark.parametrize("personal", [False, True], ids=["private", "personal"])
async def test_personal_data_stays_out_of_the_logs(database_url: str, personal: bool) -> None:
    with captured_logging("DEBUG", personal=personal) as stream:
        async with running_bot(database_url) as bot:
            await _short_conversation(bot)
            sent = "\n".join(bot.texts(USER))
    log = stream.getvalue()
    assert "Pain: 7/10" in sent  # what the person typed, as the bot showed it back
    assert log  # DEBUG really logged
    assert "TEST-token-never-real" not in log  # never, not even with personal data
    personal_data = (CITY, FREE_TEXT, "zebra", "7/10", "3 out of 10", "Pain: 7/10", "07:45")
    found = [text for text in personal_data if text in log]
    if personal:
        assert CITY in found and "zebra" in found
    else:
        assert found == []


# --------------------------------------------------------------------------- dispatcher crash


@dataclass
class Process:
    """One bot process of the crash test, with its own view of Telegram."""

    server: BotApiServer
    app: BotApplication
    services: Services

    async def dispatch(self, at: datetime) -> morning.DispatchReport:
        return await dispatch_once(self.services, at, owner="restarted")


def _process(database_url: str, server: BotApiServer, now: datetime) -> Process:
    app, services = build_application(
        make_settings(database_url, server.base_url, dispatch_batch_size=100), clock=FakeClock(now)
    )
    return Process(server, app, services)


def _routines(server: BotApiServer, chat: int) -> int:
    """Routines a chat received (the message carrying Done / Not today / Had to stop)."""
    return sum(1 for m in server.messages(chat) if "Done" in m.buttons)


def _senders() -> int:
    """The dispatcher's send workers still running in this event loop."""
    names = [getattr(task.get_coro(), "__qualname__", "") for task in asyncio.all_tasks()]
    return sum(1 for name in names if name.endswith("_send_all.<locals>.worker"))


@pytest.mark.parametrize("kill", ["cancel", "crash"])
async def test_a_dispatcher_killed_mid_pass(
    database_url: str, kill: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 people due; 10 sends are in flight when the pass dies, the others went out. "cancel":
    the pass task is cancelled (as a stop that runs out of time does); "crash": the process is
    gone and nothing of it runs again. The sends in flight are counted as delivered (the worst
    case). After a restart everyone has exactly one routine, but for the sends in flight (and,
    after a crash, the group of sends not recorded yet), and the rest go out in the first pass
    that may claim them: at once on SQLite (a restart takes its leases back), once the dead
    process's leases run out on PostgreSQL."""
    monkeypatch.setattr(morning, "HEARTBEAT_EVERY", 3600.0)  # a dead process beats no more
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    people = range(1, 41)
    in_flight = set(range(11, 21))
    async with BotApiServer() as before, BotApiServer() as after:
        first = _process(database_url, before, now)
        await upgrade(first.services.engine)
        setup = Env(before, first.app, first.services, FakeClock(now))
        # Day 2 with nothing new: no pictures, whose file ids each fake Telegram keeps to itself.
        state = ProgramState(day=2, new=None).to_json()
        for chat in people:
            await setup.add_person(chat, zone="UTC", program_state=state)
        holds = [before.hold("sendMessage", chat_id=chat) for chat in in_flight]
        async with first.app:
            task = asyncio.create_task(dispatch_once(first.services, now, owner="first"))
            try:
                for hold in holds:
                    await hold.wait_held(1, timeout=60)
                # Everyone else was sent to, and only the senders in flight are left.
                await before.wait_for(lambda: _senders() == len(in_flight), timeout=60)
                assert all(_routines(before, c) == 1 for c in people if c not in in_flight)
                if kill == "cancel":
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)

                second = _process(database_url, after, now + timedelta(minutes=1))
                runtime = Runtime.create(second.app, second.services, owner="restarted")
                await runtime.start(poll=False, jobs=False)
                try:
                    if kill == "crash" and not second.services.settings.is_sqlite:
                        # The dead process's leases still hold; they run out after LEASE.
                        early = await second.dispatch(now + timedelta(minutes=1))
                        assert early.claimed == 0
                        first_pass = await second.dispatch(now + LEASE + timedelta(seconds=1))
                    else:
                        first_pass = await second.dispatch(now + timedelta(minutes=1))
                    # Nothing left for a later pass: the rest went out at once.
                    later = await second.dispatch(now + LEASE + timedelta(minutes=5))
                    assert later.routines == 0
                finally:
                    await runtime.stop()
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await first.services.engine.dispose()
        sure = {chat: _routines(before, chat) + _routines(after, chat) for chat in people}
        assert before.violations == after.violations == []
    # Nobody misses their routine, even if the sends in flight never reached Telegram.
    assert all(count >= 1 for count in sure.values()), sure
    # If they did reach it after all, those are the only ones sent twice (after a crash, with
    # the group of sends not recorded yet).
    at_most = {chat: sure[chat] + (chat in in_flight) for chat in people}
    assert all(count <= 2 for count in at_most.values()), at_most
    duplicates = {chat for chat, count in at_most.items() if count == 2}
    assert in_flight <= duplicates
    if kill == "cancel":
        assert duplicates == in_flight  # the pass handed back what it had not finished
    else:
        assert len(duplicates - in_flight) < RECORD_EVERY
    assert first_pass.routines == len(duplicates)
