"""The aiohttp transport: real requests to the local Bot API server, PTB's error mapping, and
the rate limiter's retries through it."""

from __future__ import annotations

import socket

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.outbox import send_lean
from bot.ratelimit import RateLimiter
from bot.replies import Button, Reply
from bot.transport import AiohttpRequest
from tests.support.botapi import BotApiServer


def _bot(base_url: str, **kwargs: object) -> ExtBot:  # type: ignore[type-arg]
    return ExtBot(token="1:x", base_url=base_url, request=AiohttpRequest(), **kwargs)  # type: ignore[arg-type]


async def test_send_edit_and_answer_through_aiohttp() -> None:
    async with BotApiServer() as server, _bot(server.base_url) as bot:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="r|1|done")]])
        message = await bot.send_message(
            7, "<b>Day 1</b> — é ✓", parse_mode="HTML", reply_markup=markup
        )
        assert server.last_message(7).text == "Day 1 — é ✓"
        assert server.last_message(7).buttons == ["Done"]
        await bot.edit_message_text("Day 1, edited", chat_id=7, message_id=message.message_id)
        assert server.last_message(7).text == "Day 1, edited"
        assert server.violations == []


# PTB builds RetryAfter with an int and warns about it; not our code.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_errors_map_like_httpx() -> None:
    async with BotApiServer() as server, _bot(server.base_url) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(7, "x" * 5000)
        server.fail_next("sendMessage", status=429, retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(7, "hi")
        server.fail_next("sendMessage", status=502)
        with pytest.raises(NetworkError):
            await bot.send_message(7, "hi")
        server.forbid_chat(8)
        with pytest.raises(Forbidden):
            await bot.send_message(8, "hi")
        server.violations.clear()  # the too-long text was recorded on purpose


async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
    finally:
        await request.shutdown()


async def test_lean_send_and_rate_limiter_retries() -> None:
    async with BotApiServer() as server:
        limiter = RateLimiter(enabled=False, sleep=_no_sleep)
        async with _bot(server.base_url, rate_limiter=limiter) as bot:
            server.fail_next("sendMessage", status=429, retry_after=1)
            server.fail_next("sendMessage", status=502, times=2)
            reply = Reply("<b>Day 2</b>", ((Button("Done", "r|5|done"),),))
            message_id = await send_lean(bot, 42, reply)
        assert server.count("sendMessage") == 4  # a 429, two 502s, then the send
        sent = server.message(42, message_id)
        assert sent.text == "Day 2"
        assert sent.callback_data == ["r|5|done"]
        assert server.violations == []


async def _no_sleep(_seconds: float) -> None:
    return None
