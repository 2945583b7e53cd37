"""The fake Bot API's HTTP server: routing, recording, waits, and a PTB Application on it."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.botapi import BotApiServer
from tests.support.botapi.testkit import TOKEN, USER, keyboard

# --------------------------------------------------------------------------- basics


async def test_base_urls_are_local(server: BotApiServer) -> None:
    assert server.base_url == f"http://127.0.0.1:{server.port}/bot"
    assert server.base_file_url.startswith("http://127.0.0.1:")


async def test_get_me(server: BotApiServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == server.bot_id
    assert me.is_bot
    assert me.username == "sciatica_test_bot"
    assert server.count("getMe") >= 1
    assert server.violations == []


async def test_json_body_and_case_insensitive_method(server: BotApiServer) -> None:
    url = f"{server.base_url}{TOKEN}/SENDMESSAGE"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url,
            json={
                "chat_id": USER,
                "text": "<i>x</i>",
                "parse_mode": "HTML",
                "reply_markup": markup,
            },
        ) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert body["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 1}]
    assert server.last_message(USER).buttons == ["A"]
    assert server.count("sendMessage") == 1


async def test_unknown_method(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHoroscope", api_kwargs={"chat_id": USER})
    assert server.calls("sendHoroscope")[0].status == 404
    assert server.violations and "sendHoroscope" in server.violations[0]


# --------------------------------------------------------------------------- recording and waiting


async def test_wait_for_and_settle_time_out_readably(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "hello")
    with pytest.raises(TimeoutError, match="sendMessage"):
        await server.wait_for(lambda: False, timeout=0.05)
    server.send_text(USER, "nobody polls")
    with pytest.raises(TimeoutError, match="pending updates: 1"):
        await server.settle(timeout=0.1)


async def test_reset_recording(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "")
    server.reset_recording()
    assert server.requests == [] and server.violations == [] and server.count("sendMessage") == 0


async def test_bulk_without_recording() -> None:
    async with BotApiServer(record_requests=False) as server:
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            for i in range(300):
                await bot.send_message(10_000 + i, f"msg {i}")
            with pytest.raises(BadRequest):
                await bot.send_message(1, "")
        assert server.count("sendMessage") == 301
        assert [r.status for r in server.requests] == [400]  # only failures are kept
        assert server.last_message(10_299).text == "msg 299"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_requests_record_monotonic_arrival(server: BotApiServer, bot: Bot) -> None:
    before = time.monotonic()
    server.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "y")
    after = time.monotonic()
    first, second = server.calls("sendMessage")
    assert before <= first.monotonic <= second.monotonic <= after
    assert first.status == 429 and second.status == 200


# --------------------------------------------------------------------------- Application


async def test_application_end_to_end(server: BotApiServer) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>Welcome!</b> Ready for today's exercises?",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(("Let's go", "go")),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Great")
        await query.edit_message_text(f"Started ({query.data})")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("I only understand buttons")

    app: Application = (  # type: ignore[type-arg]
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    before = asyncio.all_tasks()
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        server.send_text(USER, "/start")
        await server.settle()
        welcome = server.last_message(USER)
        assert welcome.text == "Welcome! Ready for today's exercises?"
        assert welcome.buttons == ["Let's go"]

        qid = server.press(USER, welcome, "Let's go")
        await server.settle()
        assert server.callback_answers[qid]["text"] == "Great"
        assert len(server.calls("answerCallbackQuery")) == 1
        assert server.last_message(USER).text == "Started (go)"
        assert server.last_message(USER).history == ["Welcome! Ready for today's exercises?"]

        server.send_text(USER, "hello?")
        await server.settle()
        assert server.last_message(USER).text == "I only understand buttons"
    finally:
        stopping = time.monotonic()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        assert time.monotonic() - stopping < 2
    await asyncio.sleep(0.05)
    leftover = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()]
    assert leftover == []
    assert server.violations == []
    assert server.pending_updates == 0
