"""The update pipeline end to end: no update lost in a crash, each applied once, one person's
updates in order, one person's slow reply never delaying anyone else, poison quarantined, and a
429 during a morning pass holding every send for its retry_after."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_application
from bot.context import BotContext
from bot.domain.program import PatientStatus, start_program
from bot.domain.timing import first_send_at
from bot.runtime.jobs import prune_job
from bot.telegram.ratelimit import RETRY_AFTER_MARGIN, Priority, RateLimiter
from db import inbox, repo
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.models import InboxState, InboxUpdate, Patient, SymptomReport
from tests.support.botapi import FIRST_UPDATE_ID, BotApiServer
from tests.support.dispatch import Env
from tests.support.harness import BotHarness, FakeClock, make_settings, running_bot

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:pipeline-test-token-xxxxxxxxxxxxxxx"
WAIT = 30.0  # generous: CI runs on two shared cores, and a bot process takes a while to start

USER, OTHER, THIRD = 1001, 1002, 1003
PAIN = "How strong is your pain"
NUMBNESS = "How strong is any numbness"
TINGLING = "How strong is any tingling"

Sessions = async_sessionmaker[AsyncSession]


# --------------------------------------------------------------------------- helpers


async def add_active(sessions: Sessions, user_id: int, now: datetime) -> None:
    """A person who finished onboarding (as the dispatcher tests write them)."""
    zone = "Europe/Paris"
    async with sessions() as db, db.begin():
        person = repo.new_patient(db, user_id, user_id, now, "en")
        person.status = PatientStatus.ACTIVE
        person.time_zone = zone
        person.reminder_time = dtime(8, 0)
        person.consent_at = now
        person.program_state = start_program().to_json()
        person.program_started_on = now.date()
        person.next_send_at = first_send_at(dtime(8, 0), ZoneInfo(zone), now, start_today=False)


async def inbox_rows(sessions: Sessions) -> dict[int, InboxUpdate]:
    async with sessions() as db:
        rows = (await db.execute(select(InboxUpdate).order_by(InboxUpdate.update_id))).scalars()
        return {row.update_id: row for row in rows}


async def card_of(sessions: Sessions, user_id: int) -> dict[str, Any]:
    """The person's open check-in card as stored (answers so far, current step)."""
    async with sessions() as db:
        person = (
            await db.execute(select(Patient).where(Patient.telegram_user_id == user_id))
        ).scalar_one()
    assert person.flow == "checkin", person.flow
    return dict(person.flow_data)


async def people(sessions: Sessions) -> list[int]:
    async with sessions() as db:
        found = await db.execute(select(Patient.telegram_user_id).order_by(Patient.id))
        return list(found.scalars())


async def reports(sessions: Sessions) -> list[SymptomReport]:
    async with sessions() as db:
        return list((await db.execute(select(SymptomReport))).scalars())


async def until(check: Callable[[], Awaitable[bool]], timeout: float = WAIT) -> None:  # noqa: ASYNC109
    """Wait for a condition on the database (the server's wait_for, for async checks)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() >= deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


def texts(server: BotApiServer, chat_id: int) -> list[str]:
    return [m.text for m in server.messages(chat_id)]


async def fetched(bot: BotHarness) -> None:
    """Wait until the bot has stored what it was sent: it confirms a batch (by asking for the
    next one) only once the batch is stored."""
    await bot.server.wait_for(lambda: bot.server.pending_updates == 0, timeout=WAIT)


def last_text(server: BotApiServer, chat_id: int) -> str:
    found = server.messages(chat_id)
    return found[-1].text if found else ""


# --------------------------------------------------------------------------- a crash


@asynccontextmanager
async def bot_process(
    server: BotApiServer, database_url: str, folder: Path, **settings: str
) -> AsyncIterator[Any]:
    """`python -m bot` against the local server (``settings``: more environment), started and
    waited for; killed if left."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT": "false",
        # Nothing drawn in the background (18 animations: CPU this test does not need)
        "WARM_MEDIA": "false",
        **settings,
    }
    commands = server.count("setMyCommands")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        # Started: it set its command menu (after migrations) and polls.
        await server.wait_for(lambda: server.count("setMyCommands") > commands, timeout=90)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_crash_mid_processing_loses_nothing_and_applies_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    """kill -9 while several people's updates are stored and their replies are on the way: a
    new process on the same database applies every update once and answers everyone."""
    checkers, newcomers = (201, 202, 203), (301, 302, 303)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        await upgrade(engine)
        for user in checkers:
            await add_active(sessions, user, datetime.now(UTC))
        async with BotApiServer() as server:
            async with bot_process(server, database_url, tmp_path) as first:
                for user in checkers:
                    server.send_text(user, "/checkin")
                await server.wait_for(
                    lambda: all(PAIN in last_text(server, u) for u in checkers),
                    timeout=WAIT,
                )
                # A typed rating edits the card (as a tap does); /start sends messages.
                held = server.hold("sendMessage")
                held_edits = server.hold("editMessageText")
                injected = []
                for user in checkers:
                    injected.append(server.send_text(user, "7")["update_id"])
                    injected.append(server.send_text(user, "2")["update_id"])
                for user in newcomers:
                    injected.append(server.send_text(user, "/start")["update_id"])
                    injected.append(server.send_text(user, "/help")["update_id"])
                # Each person's first update is applied and its reply on the way (parked);
                # the second waits behind it.
                await held.wait_held(len(newcomers), timeout=WAIT)
                await held_edits.wait_held(len(checkers), timeout=WAIT)
                rows = await inbox_rows(sessions)
                states = [rows[i].state for i in injected]
                assert states == [InboxState.APPLIED, InboxState.RECEIVED] * 6, states
                first.kill()  # SIGKILL: no clean stop, nothing flushed
                await first.wait()
            held.release()
            held_edits.release()
            async with bot_process(server, database_url, tmp_path) as second:
                await server.wait_for(
                    lambda: (
                        all(TINGLING in last_text(server, u) for u in checkers)
                        and all("/today" in last_text(server, u) for u in newcomers)
                    ),
                    timeout=WAIT,
                )
                second.send_signal(signal.SIGTERM)
                _out, err = await asyncio.wait_for(second.communicate(), timeout=WAIT)
                assert second.returncode == 0, err.decode()
        rows = await inbox_rows(sessions)
        assert {rows[i].state for i in injected} == {InboxState.DONE}
        # Applied once: one row per person who sent /start, each rating stored once and the
        # cards one question further per rating, not two.
        assert sorted(await people(sessions)) == sorted(checkers + newcomers)
        for user in checkers:
            card = await card_of(sessions, user)
            assert card["answers"] == {"pain": 7, "numbness": 2}
            assert card["step"] == "tingling"
        assert await reports(sessions) == []  # no card was finished early
        for user in newcomers:
            said = texts(server, user)
            assert sum("May I store your answers?" in t for t in said) == 1
            assert sum("/today" in t for t in said) == 1
        for user in checkers:
            said = texts(server, user)
            assert sum(TINGLING in t for t in said) == 1
    finally:
        await engine.dispose()


async def test_a_reply_that_went_out_before_a_crash_is_not_sent_again(
    database_url: str, tmp_path: Path
) -> None:
    """kill -9 after the first of /start's two messages went out, while the second is on its
    way: each reply is recorded as it goes out, so the new process sends only the second."""
    newcomer = 401
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        await upgrade(engine)
        async with BotApiServer() as server:
            async with bot_process(server, database_url, tmp_path) as first:
                second_message = server.hold("sendMessage", chat_id=newcomer, after=1)
                start = server.send_text(newcomer, "/start")["update_id"]
                await second_message.wait_held(timeout=WAIT)
                # Recorded before the second reply was sent (the restart reads it).
                row = (await inbox_rows(sessions))[start]
                assert (row.state, row.delivered) == (InboxState.APPLIED, 1)
                said = texts(server, newcomer)
                assert len(said) == 1, said
                first.kill()  # SIGKILL
                await first.wait()
            # Answered to a dead process: its outcome unknown to the bot, it may go out twice.
            second_message.release()
            async with bot_process(server, database_url, tmp_path) as second:
                await until(lambda: _state_is(sessions, start, InboxState.DONE))
                second.send_signal(signal.SIGTERM)
                _out, err = await asyncio.wait_for(second.communicate(), timeout=WAIT)
                assert second.returncode == 0, err.decode()
        again = texts(server, newcomer)
        assert again.count(said[0]) == 1, again  # the first reply went out once
        assert "May I store your answers?" in again[-1]
    finally:
        await engine.dispose()


async def _state_is(sessions: Sessions, update_id: int, state: InboxState) -> bool:
    return (await inbox_rows(sessions))[update_id].state == state


# --------------------------------------------------------------------------- applied once


async def test_a_redelivered_update_is_applied_once(database_url: str) -> None:
    """Telegram sends an update again when it did not get the confirmation (a crash, a lost
    answer): stored once, applied once, whether it was done or still being answered."""
    async with running_bot(database_url) as bot:
        sessions = bot.services.sessions
        await add_active(sessions, USER, bot.clock())
        await bot.say(USER, "/checkin")
        rating = bot.server.send_text(USER, "7")
        await bot.until_processed()
        card_message = bot.last(USER)
        assert NUMBNESS in card_message.text  # the same card, moved on in place
        sent = len(bot.server.messages(USER))

        bot.server.redeliver(rating["update_id"])
        await fetched(bot)
        card = await card_of(sessions, USER)
        assert (card["answers"], card["step"]) == ({"pain": 7}, "numbness")  # not two steps
        assert len(bot.server.messages(USER)) == sent  # and no second answer

        # Again while the first delivery is still being answered (its reply held).
        held = bot.server.hold("editMessageText", chat_id=USER)
        second = bot.server.send_text(USER, "2")
        await held.wait_held()
        bot.server.redeliver(second["update_id"])
        await fetched(bot)
        held.release()
        await bot.until_processed()
        card = await card_of(sessions, USER)
        assert (card["answers"], card["step"]) == ({"pain": 7, "numbness": 2}, "tingling")
        assert sum(TINGLING in t for t in bot.texts(USER)) == 1
        assert TINGLING in card_message.text and len(bot.server.messages(USER)) == sent
        rows = await inbox_rows(sessions)
        for update_id in (rating["update_id"], second["update_id"]):
            assert (rows[update_id].state, rows[update_id].attempts) == (InboxState.DONE, 0)


async def test_one_persons_quick_presses_are_applied_in_order(database_url: str) -> None:
    """Two taps that arrive in one batch (pain, then numbness on the card it leads to): applied
    one after the other, in order, so both ratings are kept."""
    async with running_bot(database_url) as bot:
        sessions = bot.services.sessions
        await add_active(sessions, USER, bot.clock())
        card = await bot.say(USER, "/checkin")
        nonce = (await card_of(sessions, USER))["nonce"]
        pain = bot.server.press(USER, card, "5")
        # The numbness button the edited card will show, pressed before the bot has polled.
        numbness = bot.server.press_button(USER, card.message_id, f"f|{nonce}|numbness:3")
        await bot.until_processed()
        # Both presses came in one getUpdates answer: no poll confirmed the first one alone.
        offsets = {r.params.get("offset") for r in bot.server.calls("getUpdates")}
        assert bot.server.last_update_id not in offsets
        stored = await card_of(sessions, USER)
        assert (stored["answers"], stored["step"]) == ({"pain": 5, "numbness": 3}, "tingling")
        shown = bot.server.message(USER, card.message_id)
        assert TINGLING in shown.text
        assert "Pain: 5/10" in shown.text and "Numbness: 3/10" in shown.text
        for query in (pain, numbness):
            assert bot.server.callback_answers[query].get("text") in (None, "")


# --------------------------------------------------------------------------- poison


async def test_poison_updates_are_quarantined_and_the_others_answered(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update that cannot be read is quarantined at once; one whose handling keeps failing
    is tried again with backoff, then quarantined and the person told; meanwhile, and after,
    everyone else is answered."""
    async with running_bot(database_url) as bot:
        pauses: list[float] = []
        retry = asyncio.Event()

        async def backoff(seconds: float) -> None:
            pauses.append(seconds)
            await retry.wait()  # the test says when the next try may start

        bot.runtime.pipeline._sleep = backoff  # the pipeline's injectable sleep

        def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("boom")

        bogus = bot.server.inject_raw({"message": {"bogus": 1}})
        monkeypatch.setattr(repo, "new_patient", broken)
        failing = bot.server.send_text(USER, "/start")
        await bot.server.wait_for(lambda: pauses == [0.2], timeout=WAIT)
        # While that update waits for its next try, someone else is answered.
        bot.server.send_text(OTHER, "/help")
        await bot.server.wait_for(lambda: "/today" in last_text(bot.server, OTHER), timeout=WAIT)
        retry.set()
        await bot.until_processed()
        assert pauses == [0.2, 1.0]
        assert "Nothing you told me was lost" in bot.last(USER).text
        rows = await inbox_rows(bot.services.sessions)
        unreadable, failed = rows[bogus["update_id"]], rows[failing["update_id"]]
        assert unreadable.state == InboxState.FAILED
        assert unreadable.error and unreadable.error.endswith("Error")  # its class, not text
        assert (failed.state, failed.error, failed.attempts) == (
            InboxState.FAILED,
            "RuntimeError",
            3,
        )
        assert await people(bot.services.sessions) == []
        # The next person is answered as usual after the quarantine too.
        monkeypatch.undo()
        assert "/today" in (await bot.say(THIRD, "/help")).text
        welcome = await bot.say(USER, "/start")
        assert "May I store your answers?" in welcome.text
        assert await people(bot.services.sessions) == [USER]


# --------------------------------------------------------------------------- at once


async def test_a_held_reply_delays_no_one_else(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        held = bot.server.hold("sendMessage", chat_id=USER)
        bot.server.send_text(USER, "/help")
        await held.wait_held()
        bot.server.send_text(OTHER, "/help")
        await bot.server.wait_for(lambda: "/today" in last_text(bot.server, OTHER), timeout=WAIT)
        assert bot.server.messages(USER) == []  # still on its way
        held.release()
        await bot.until_processed()
        assert "/today" in bot.last(USER).text


async def test_a_person_another_process_holds_is_left_to_it_then_swept_up(
    database_url: str,
) -> None:
    """Several processes on PostgreSQL: an update for a person whose lease another live
    process holds is stored and left alone (that process handles the person's updates in
    order); once it lets go, this process's sweep picks the update up."""
    if not database_url.startswith("postgresql"):
        pytest.skip("per-person leases across processes are a PostgreSQL deployment")
    async with running_bot(database_url) as bot:
        pipeline = bot.runtime.pipeline
        now = bot.clock()
        async with bot.services.sessions() as db:
            later = now + timedelta(minutes=1)
            assert await inbox.take_leases(db, [USER], "elsewhere:1", later, now) == {USER}
            await db.commit()
        bot.server.send_text(USER, "/help")
        await bot.server.wait_for(lambda: pipeline.received == 1 and pipeline.busy == 0)
        assert bot.server.messages(USER) == []
        async with bot.services.sessions() as db:
            assert [i.update_id for i in await inbox.open_items(db, person_key=USER)] == [
                FIRST_UPDATE_ID
            ]
            await inbox.drop_lease(db, [USER], "elsewhere:1")
            await db.commit()
        await pipeline.sweep()
        await bot.until_processed()
        assert "/today" in bot.last(USER).text


class WatchingLimiter(RateLimiter):
    """The production limiter, counting the posting requests inside it for each chat."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.inside: dict[Any, int] = {}

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> Any:
        chat = data.get("chat_id")
        self.inside[chat] = self.inside.get(chat, 0) + 1
        try:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        finally:
            self.inside[chat] -= 1


async def test_a_reply_waiting_on_its_chat_limit_delays_no_one_else(database_url: str) -> None:
    """The production limiter (a burst of 3 per chat, then a slow per-chat rate): the person's
    4th quick reply waits for their chat's limit, and someone else is answered meanwhile. The
    wait is ten minutes: the bot stops with the 4th still waiting, which stays stored and is
    answered at the next start."""
    limiter = WatchingLimiter(per_chat_per_second=1 / 600, per_chat_burst=3)
    async with BotApiServer() as server:
        async with running_bot(database_url, server=server, rate_limiter=limiter) as bot:
            for _ in range(4):
                server.send_text(USER, "/help")
            await server.wait_for(
                lambda: len(server.messages(USER)) == 3 and limiter.inside.get(USER) == 1,
                timeout=WAIT,
            )
            server.send_text(OTHER, "/help")
            await server.wait_for(lambda: "/today" in last_text(server, OTHER), timeout=WAIT)
            assert len(server.messages(USER)) == 3  # the 4th still waits for its chat
            assert limiter.inside.get(USER) == 1
            await bot.runtime.stop(grace=0.1)  # not ten minutes; running_bot's stop is a no-op
        async with running_bot(database_url, server=server) as bot:
            await server.wait_for(lambda: len(server.messages(USER)) == 4, timeout=WAIT)
            assert ["/today" in t for t in bot.texts(USER)] == [True] * 4


# --------------------------------------------------------------------------- 429 mid-pass


class RecordingLimiter(RateLimiter):
    """The production limiter (default rates), noting when each sendMessage attempt leaves."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[float] = []

    async def process_request(
        self,
        callback: Callable[..., Awaitable[Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> Any:
        async def timed(*a: Any, **k: Any) -> Any:
            if endpoint.lower() == "sendmessage":  # Telegram ignores the case
                self.starts.append(time.monotonic())  # the limiter's own clock
            return await callback(*a, **k)

        return await super().process_request(timed, args, kwargs, endpoint, data, rate_limit_args)


@asynccontextmanager
async def morning(database_url: str, limiter: RateLimiter) -> AsyncIterator[Env]:
    """The dispatcher's environment (tests.support.dispatch) with a given, real limiter."""
    async with BotApiServer() as server:
        app, services = build_application(
            make_settings(database_url, server.base_url, rate_limit=True),
            clock=FakeClock(),
            rate_limiter=limiter,
        )
        await upgrade(services.engine)
        try:
            async with app:
                yield Env(server, app, services, FakeClock())
            assert server.violations == [], server.violations
        finally:
            await services.engine.dispose()


async def test_a_429_mid_pass_holds_every_send_then_the_pass_completes(
    database_url: str,
) -> None:
    count, retry_after = 24, 1
    limiter = RecordingLimiter()
    async with morning(database_url, limiter) as env:
        env.clock.set(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
        for chat in range(1, count + 1):
            await env.add_person(chat, zone="UTC")
        # A 429 for a send in the middle of the pass: park the 10th person's routine, arm
        # the 429, let it go.
        parked = env.server.hold("sendMessage", chat_id=10)
        task = asyncio.create_task(env.dispatch(datetime(2026, 3, 2, 8, 0, tzinfo=UTC)))
        await parked.wait_held(timeout=WAIT)
        env.server.fail_next("sendMessage", 429, retry_after=retry_after)
        parked.release()
        report = await asyncio.wait_for(task, timeout=WAIT)

        assert report.routines == count
        assert report.skipped == {}
        assert all(len(env.routines(chat)) == 1 for chat in range(1, count + 1))
        refused = [r for r in env.server.calls("sendMessage") if r.status == 429]
        assert len(refused) == 1
        # The hold began when the limiter read the 429 and lasted retry_after (+ its margin).
        until_ = limiter.paused_until
        heard = until_ - retry_after - RETRY_AFTER_MARGIN
        assert refused[0].monotonic <= heard
        assert [t for t in limiter.starts if heard <= t < until_] == []  # none left meanwhile
        # What reached the server before the hold ended is exactly what had left before the
        # 429 was read; everything else (the refused routine again too) arrived after it.
        arrivals = sorted(r.monotonic for r in env.server.calls("sendMessage"))
        assert len([a for a in arrivals if a < until_]) == len(
            [t for t in limiter.starts if t < heard]
        )
        # Every routine once (day 1: its heading, then the steps under the pictures), plus the
        # refused attempt.
        assert len(arrivals) == 2 * count + 1


# --------------------------------------------------------------------------- housekeeping


async def test_unhandled_update_types_are_dropped_early(database_url: str) -> None:
    """Only the update types the bot handles are asked for; any other that still arrives (as
    Telegram may send for a while after allowed_updates changed) is never stored."""
    async with running_bot(database_url) as bot:
        pipeline = bot.runtime.pipeline
        bot.server.channel_post(-1001234, "news")  # not asked for: the server keeps it back
        bot.handled.add(bot.server.last_update_id)
        await bot.say(USER, "/help")
        asked = bot.server.calls("getUpdates")[-1].params["allowed_updates"]
        assert sorted(asked) == ["callback_query", "edited_message", "message", "my_chat_member"]
        chat = {"id": -1001234, "type": "channel", "title": "News"}
        await pipeline.accept(
            [
                {"update_id": 9001, "channel_post": {"message_id": 1, "date": 0, "chat": chat}},
                {"update_id": 9002, "poll": {"id": "7", "question": "?", "options": []}},
                {"update_id": 9003, "message_reaction": {"chat": chat, "message_id": 1}},
                {"no_update_id": True},
            ]
        )
        assert {9001, 9002, 9003} <= bot.handled  # reported handled: dropped
        rows = await inbox_rows(bot.services.sessions)
        assert list(rows) == [bot.server.last_update_id]  # only the /help
        assert pipeline.received == 1


async def test_handled_updates_are_pruned_after_the_retention(database_url: str) -> None:
    async with running_bot(database_url, inbox_retention_hours=48) as bot:
        sessions = bot.services.sessions
        done = bot.server.send_text(USER, "/help")["update_id"]
        failed = bot.server.inject_raw({"message": {"bogus": 1}})["update_id"]
        await bot.until_processed()
        held = bot.server.hold("sendMessage", chat_id=OTHER)
        waiting = bot.server.send_text(OTHER, "/help")["update_id"]
        await held.wait_held()
        job = cast(BotContext, SimpleNamespace(services=bot.services))

        bot.clock.advance(hours=47)
        await prune_job(job)
        assert set(await inbox_rows(sessions)) == {done, failed, waiting}
        bot.clock.advance(hours=2)
        await prune_job(job)
        rows = await inbox_rows(sessions)
        assert list(rows) == [waiting]  # handled ones forgotten; the open one kept
        held.release()
        await bot.until_processed()
        assert (await inbox_rows(sessions))[waiting].state == InboxState.DONE
        assert "/today" in bot.last(OTHER).text
