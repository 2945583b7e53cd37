"""The aiohttp transport: real requests to the local Bot API server, PTB's error mapping, and
the rate limiter's retries through it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.rendering.replies import Button, Reply, Response
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.transport import AiohttpRequest, ConnectTimedOut, NotSent
from tests.support.botapi import BotApiServer


def _bot(base_url: str, rate_limiter: RateLimiter | None = None) -> ExtBot[Any]:
    return ExtBot(
        token="1:x", base_url=base_url, request=AiohttpRequest(), rate_limiter=rate_limiter
    )


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


async def test_connection_refused_was_not_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NotSent):
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
    finally:
        await request.shutdown()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """A local TCP server that misbehaves as ``handler`` says; yields a sendMessage URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/bot1:x/sendMessage"
    finally:
        server.close()
        await server.wait_closed()


async def _never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)
    await reader.read()  # silent until the client gives up and closes the connection
    writer.close()


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(65536)  # the request arrived; then the connection drops
    writer.close()


async def test_pool_timeout_was_not_sent() -> None:
    request = AiohttpRequest(
        connection_pool_size=1, read_timeout=5.0, connect_timeout=0.05, pool_timeout=0.05
    )
    async with raw_server(_never_answer) as url:
        await request.initialize()
        try:
            busy = asyncio.create_task(request.post(url))  # holds the only connection
            await asyncio.sleep(0.05)
            with pytest.raises(ConnectTimedOut) as caught:
                await request.post(url)
            busy.cancel()
            await asyncio.gather(busy, return_exceptions=True)
        finally:
            await request.shutdown()
    # Still a TimedOut for code that catches that, and a NotSent for the rate limiter.
    assert isinstance(caught.value, TimedOut)
    assert isinstance(caught.value, NotSent)


@pytest.mark.parametrize(
    ("handler", "error"),
    [(_never_answer, TimedOut), (_hang_up, NetworkError)],
    ids=["read-timeout", "hang-up"],
)
async def test_failure_after_sending_may_have_been_delivered(
    handler: Handler, error: type[NetworkError]
) -> None:
    request = AiohttpRequest(read_timeout=0.05)
    async with raw_server(handler) as url:
        await request.initialize()
        try:
            with pytest.raises(error) as caught:
                await request.post(url)
        finally:
            await request.shutdown()
    assert not isinstance(caught.value, NotSent)


async def test_broadcast_send_and_rate_limiter_retries() -> None:
    from bot.telegram.delivery import deliver
    from bot.telegram.ratelimit import Priority

    async with BotApiServer() as server:
        limiter = RateLimiter(enabled=False, sleep=_no_sleep)
        async with _bot(server.base_url, rate_limiter=limiter) as bot:
            server.fail_next("sendMessage", status=429, retry_after=1)
            server.fail_next("sendMessage", status=502, times=2)
            reply = Reply("<b>Day 2</b>", ((Button("Done", "r|5|done"),),))
            delivered = await deliver(bot, 42, Response([reply]), priority=Priority.BROADCAST)
            message_id = delivered.last_message_id
            assert message_id is not None
        assert server.count("sendMessage") == 4  # a 429, two 502s, then the send
        sent = server.message(42, message_id)
        assert sent.text == "Day 2"
        assert sent.callback_data == ["r|5|done"]
        assert server.violations == []


async def _no_sleep(_seconds: float) -> None:
    return None
