"""The faults a test injects: failed calls, blocked and failing chats, forgotten file_ids,
holds."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import pytest
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from tests.support.botapi import CHAT_NOT_FOUND, USER_DEACTIVATED, BotApiServer
from tests.support.botapi.testkit import OTHER, TOKEN, USER, image, keyboard

# --------------------------------------------------------------------------- failed calls


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after(server: BotApiServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "hi")
    assert info.value.retry_after in (3, dtm.timedelta(seconds=3))
    await bot.send_message(USER, "hi")
    assert [r.status for r in server.calls("sendMessage")] == [429, 200]
    assert server.violations == []


async def test_forbidden_chat(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "hello")
    server.forbid_chat(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("x", chat_id=USER, message_id=msg.message_id)
    await bot.send_message(USER + 1, "others still work")
    assert server.violations == []
    assert server.calls("sendMessage")[1].status == 403


async def test_server_errors(server: BotApiServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=502, times=3)
    for _ in range(3):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(USER, "hi")
    await bot.send_message(USER, "hi")
    assert [r.status for r in server.calls("sendMessage")] == [502, 502, 502, 200]
    assert server.count("sendMessage") == 4
    assert server.violations == []


# --------------------------------------------------------------------------- holds


async def test_hold_parks_until_release_in_arrival_order(server: BotApiServer, bot: Bot) -> None:
    hold = server.hold("sendMessage")
    first = asyncio.create_task(bot.send_message(USER, "first"))
    await hold.wait_held(1)
    second = asyncio.create_task(bot.send_message(USER, "second"))
    await hold.wait_held(2)
    assert hold.held == 2
    assert server.messages(USER) == []
    with pytest.raises(TimeoutError):  # parked requests are in flight: not settled
        await server.settle(quiet=0.01, timeout=0.1)

    hold.release()
    a, b = await asyncio.gather(first, second)
    assert a.message_id < b.message_id
    assert [m.text for m in server.messages(USER)] == ["first", "second"]
    assert hold.held == 0 and hold.released
    await server.settle(quiet=0.01)
    await bot.send_message(USER, "not held any more")


async def test_hold_by_chat_lets_other_chats_through(server: BotApiServer, bot: Bot) -> None:
    hold = server.hold("sendmessage", chat_id=USER)
    parked = asyncio.create_task(bot.send_message(USER, "parked"))
    await hold.wait_held()
    await bot.send_message(OTHER, "through")
    await bot.send_chat_action(USER, "typing")  # another method to the held chat
    assert [m.text for m in server.messages(OTHER)] == ["through"]
    assert server.messages(USER) == []
    hold.release()
    await parked
    assert server.last_message(USER).text == "parked"


async def test_hold_after_lets_the_first_requests_through(server: BotApiServer, bot: Bot) -> None:
    hold = server.hold("sendMessage", chat_id=USER, after=1)
    await bot.send_message(OTHER, "another chat: not counted")
    await bot.send_message(USER, "let through")
    parked = asyncio.create_task(bot.send_message(USER, "parked"))
    await hold.wait_held()
    assert [m.text for m in server.messages(USER)] == ["let through"]
    hold.release()
    await parked
    assert [m.text for m in server.messages(USER)] == ["let through", "parked"]


async def test_released_requests_meet_failures_in_arrival_order(
    server: BotApiServer, bot: Bot
) -> None:
    hold = server.hold("sendMessage")
    first = asyncio.create_task(bot.send_message(USER, "first"))
    await hold.wait_held(1)
    second = asyncio.create_task(bot.send_message(USER, "second"))
    await hold.wait_held(2)
    server.fail_next("sendMessage", status=502)
    hold.release()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], Exception)
    assert [m.text for m in server.messages(USER)] == ["second"]


async def test_overlapping_holds_need_every_release(server: BotApiServer, bot: Bot) -> None:
    broad = server.hold("sendMessage")
    narrow = server.hold("sendMessage", chat_id=USER)
    task = asyncio.create_task(bot.send_message(USER, "x"))
    await broad.wait_held()
    broad.release()
    await narrow.wait_held()  # moved on to the next matching hold
    assert not task.done()
    narrow.release()
    await task
    assert server.last_message(USER).text == "x"


async def test_wait_held_times_out_readably(server: BotApiServer) -> None:
    hold = server.hold("sendMessage")
    with pytest.raises(TimeoutError, match=r"Hold sendMessage"):
        await hold.wait_held(1, timeout=0.05)


async def test_stop_releases_holds() -> None:
    async with BotApiServer() as server, Bot(TOKEN, base_url=server.base_url) as bot:
        hold = server.hold("sendMessage")
        task = asyncio.create_task(bot.send_message(USER, "late"))
        await hold.wait_held()
        started = time.monotonic()
        await server.stop()
        await asyncio.gather(task, return_exceptions=True)
        assert time.monotonic() - started < 2
        assert hold.released and hold.held == 0


# --------------------------------------------------------------------------- per-chat failures


async def test_fail_chat_until_cleared(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "before")
    server.fail_chat(USER, 400, CHAT_NOT_FOUND)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(USER, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.edit_message_text("y", chat_id=USER, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=keyboard(("A", "a")))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.delete_message(USER, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_photo(USER, image(10, 10))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_document(USER, b"x", filename="x.txt")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_media_group(USER, [InputMediaPhoto(image(10, 10))] * 2)
    await bot.send_message(OTHER, "other chats work")
    assert server.violations == []
    assert [m.text for m in server.messages(USER)] == ["before"]

    server.clear_chat_failures(USER)
    await bot.send_message(USER, "after")
    assert server.last_message(USER).text == "after"


async def test_fail_chat_times_and_deactivated(server: BotApiServer, bot: Bot) -> None:
    server.fail_chat(USER, 403, USER_DEACTIVATED, times=2)
    for _ in range(2):
        with pytest.raises(Forbidden, match="user is deactivated"):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "third works")
    assert [r.status for r in server.calls("sendMessage")] == [403, 403, 200]
    assert server.violations == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_chat_429_carries_retry_after(server: BotApiServer, bot: Bot) -> None:
    server.fail_chat(USER, 429, "Too Many Requests: retry after 7", times=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "x")


# --------------------------------------------------------------------------- forgotten file_ids


async def test_photo_file_ids_reuse_and_forget(server: BotApiServer, bot: Bot) -> None:
    sent = await bot.send_photo(USER, image(20, 20))
    assert server.uploads == {"sendPhoto": 1}
    largest, smallest = sent.photo[-1].file_id, sent.photo[0].file_id
    await bot.send_photo(USER, largest)
    await bot.send_photo(USER, smallest)
    assert server.uploads == {"sendPhoto": 1}  # no second upload
    assert server.file_id_reuses == {"sendPhoto": 2}
    assert server.last_message(USER).kind == "photo"
    assert server.violations == []

    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier/http url specified"):
        await bot.send_photo(USER, "made-up-id")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(USER, "https://example.org/a.png")
    assert len(server.violations) == 2  # ids the server never issued

    server.forget_file_ids()
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(USER, largest)
    assert len(server.violations) == 2  # a rejected stored id is Telegram's doing
    fresh = await bot.send_photo(USER, image(20, 20))
    await bot.send_photo(USER, fresh.photo[-1].file_id)
    assert server.uploads == {"sendPhoto": 2}
