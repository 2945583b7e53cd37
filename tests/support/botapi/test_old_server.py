"""Tests for the fake Telegram Bot API server, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.botapi import BotApiServer, EntityParseError, parse_html

TOKEN = "123456:TEST-token-xxxxxxxxxxxxxxxxxxxxxxxx"
USER = 111


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as srv:
        yield srv


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as b:
        yield b


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


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


async def test_send_message_html_with_keyboard(server: BotApiServer, bot: Bot) -> None:
    markup = keyboard(("Start ✅", "start:1"), ("Later", "later"))
    msg = await bot.send_message(
        USER,
        "<b>Hi</b> &amp; welcome 👋 <i>today</i>",
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )
    assert msg.text == "Hi & welcome 👋 today"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [
        ("bold", 0, 2),
        ("italic", 16, 5),  # the emoji counts as two UTF-16 code units
    ]
    assert msg.reply_markup == markup
    assert msg.from_user is not None and msg.from_user.id == server.bot_id
    assert msg.chat.id == USER

    second = await bot.send_message(USER, "plain")
    assert second.message_id == msg.message_id + 1

    sent = server.messages(USER)
    assert [m.text for m in sent] == ["Hi & welcome 👋 today", "plain"]
    first = sent[0]
    assert first.html == "<b>Hi</b> &amp; welcome 👋 <i>today</i>"
    assert first.parse_mode == "HTML"
    assert first.buttons == ["Start ✅", "Later"]
    assert first.callback_data == ["start:1", "later"]
    assert server.last_message(USER).text == "plain"
    req = server.calls("sendmessage")[0]
    assert req.params["chat_id"] == USER
    assert req.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "start:1"
    assert server.violations == []


async def test_text_is_trimmed_like_telegram(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "\n  <b>hello</b>  \n", parse_mode=ParseMode.HTML)
    assert msg.text == "hello"
    assert [(e.offset, e.length) for e in msg.entities] == [(0, 5)]


async def test_edit_message_text_and_not_modified(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "one", reply_markup=keyboard(("A", "a")))
    edited = await bot.edit_message_text(
        "<b>two</b>",
        chat_id=USER,
        message_id=msg.message_id,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(("B", "b")),
    )
    assert isinstance(edited, type(msg))
    assert edited.text == "two"
    stored = server.message(USER, msg.message_id)
    assert stored.edited
    assert stored.history == ["one"]
    assert stored.buttons == ["B"]
    assert server.violations == []

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>two</b>",
            chat_id=USER,
            message_id=msg.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(("B", "b")),
        )
    assert len(server.violations) == 1
    assert "not modified" in server.violations[0]

    # Same text without reply_markup removes the keyboard: a real change.
    await bot.edit_message_text("two", chat_id=USER, message_id=msg.message_id)
    assert server.message(USER, msg.message_id).buttons == []


async def test_edit_reply_markup_and_missing_message(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "text", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=None)
    assert server.message(USER, msg.message_id).reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER + 1, message_id=msg.message_id)
    assert len(server.violations) == 3


async def test_delete_message(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "bye")
    assert await bot.delete_message(USER, msg.message_id)
    assert server.messages(USER) == []
    assert server.messages(USER, include_deleted=True)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, msg.message_id)


async def test_answer_callback_query_twice(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "Ready?", reply_markup=keyboard(("Go", "go")))
    qid = server.press(USER, server.last_message(USER), "Go")
    update = server._pending[-1]  # the injected update carries the bot's current message
    assert update["callback_query"]["message"]["message_id"] == msg.message_id
    assert update["callback_query"]["data"] == "go"

    assert await bot.answer_callback_query(qid, text="Done")
    assert server.callback_answers[qid]["text"] == "Done"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(qid)
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query("never-issued")
    assert len(server.violations) == 2


async def test_callback_answer_text_limit(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "Ready?", reply_markup=keyboard(("Go", "go")))
    qid = server.press(USER, server.last_message(USER).message_id, "Go")
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(qid, text="x" * 201)
    assert await bot.answer_callback_query(qid, text="x" * 200)


async def test_press_unknown_button_lists_buttons(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "Pick", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    with pytest.raises(LookupError, match=r"'Yes', 'No'"):
        server.press(USER, server.last_message(USER), "Maybe")


# --------------------------------------------------------------------------- enforced rules


async def test_too_long_text(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "x" * 4096)
    # Length counts after entity parsing: 4096 visible characters from a longer source.
    await bot.send_message(USER, "&lt;" * 4096, parse_mode=ParseMode.HTML)
    assert server.violations == []
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    assert len(server.violations) == 1
    assert server.violations[0].startswith("sendMessage: Bad Request: message is too long")
    assert server.calls("sendMessage")[-1].status == 400


async def test_empty_text(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(server.violations) == 1


@pytest.mark.parametrize(
    "html",
    [
        "<b>unclosed",
        "a < b",
        "AT&T",
        "&nbsp;",
        "<div>x</div>",
        "<b><i>x</b></i>",
        "<span>x</span>",
        "x</b>",
        "<br>",
    ],
)
async def test_bad_html_is_rejected(server: BotApiServer, bot: Bot, html: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, html, parse_mode=ParseMode.HTML)
    assert len(server.violations) == 1


async def test_markdown_is_not_supported(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="not supported"):
        await bot.send_message(USER, "*x*", parse_mode=ParseMode.MARKDOWN_V2)
    assert server.violations


async def test_callback_data_byte_limit(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard(("A", "é" * 32)))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "bad", reply_markup=keyboard(("A", "x" * 65)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "bad", reply_markup=keyboard(("A", "é" * 33)))
    assert len(server.violations) == 2
    assert len(server.messages(USER)) == 1


async def test_inline_button_needs_one_action(server: BotApiServer) -> None:
    url = f"{server.base_url}{TOKEN}/sendMessage"
    markups = [
        {"inline_keyboard": [[{"text": "no action"}]]},
        {"inline_keyboard": [[{"text": "two", "callback_data": "a", "url": "https://x.org"}]]},
        {"inline_keyboard": [[{"text": "", "callback_data": "a"}]]},
    ]
    async with aiohttp.ClientSession() as session:
        for markup in markups:
            async with session.post(
                url, json={"chat_id": USER, "text": "t", "reply_markup": markup}
            ) as resp:
                body = await resp.json()
                assert resp.status == 400
                assert body["ok"] is False
                assert body["error_code"] == 400
    assert len(server.violations) == 3


async def test_reply_keyboard_is_recorded(server: BotApiServer, bot: Bot) -> None:
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("📍 Share location", request_location=True)]], resize_keyboard=True
    )
    msg = await bot.send_message(USER, "Where are you?", reply_markup=markup)
    assert msg.reply_markup is None  # Telegram echoes only inline keyboards
    kb = server.reply_keyboard(USER)
    assert kb is not None
    assert kb["keyboard"][0][0]["request_location"] is True
    assert server.last_message(USER).buttons == []
    await bot.send_message(USER, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert server.reply_keyboard(USER) == {"remove_keyboard": True}
    assert server.violations == []


async def test_commands(server: BotApiServer, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("pause", "Pause")])
    assert [c["command"] for c in server.commands] == ["start", "pause"]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "pause"]
    await bot.set_my_commands([BotCommand("start", "Beginnen")], language_code="de")
    assert server.commands_for(language_code="de")[0]["description"] == "Beginnen"
    await bot.delete_my_commands()
    assert server.commands == []
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])


async def test_chat_action_webhook_close(server: BotApiServer, bot: Bot) -> None:
    assert await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest):
        await bot.send_chat_action(USER, "dancing")
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.close()
    assert await bot.log_out()


async def test_photo_and_document_upload(server: BotApiServer, bot: Bot) -> None:
    photo = await bot.send_photo(
        USER, b"\x89PNG fake", caption="<b>Pose</b>", parse_mode=ParseMode.HTML
    )
    assert photo.caption == "Pose"
    assert photo.photo
    req = server.calls("sendPhoto")[0]
    assert req.params["photo"].data == b"\x89PNG fake"  # arrived as multipart
    assert req.params["chat_id"] == USER  # ints are coerced in multipart too
    stored = server.last_message(USER)
    assert stored.kind == "photo"
    assert stored.file_id is not None

    file = await bot.get_file(stored.file_id)
    assert await file.download_as_bytearray() == bytearray(b"\x89PNG fake")

    doc = await bot.send_document(USER, b"a,b\n1,2\n", filename="log.csv")
    assert doc.document is not None and doc.document.file_name == "log.csv"
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(USER, "some-file-id", caption="x" * 1025)
    with pytest.raises(BadRequest, match="no text in the message"):
        await bot.edit_message_text("x", chat_id=USER, message_id=doc.message_id)


# --------------------------------------------------------------------------- failure injection


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


async def test_unknown_method(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHoroscope", api_kwargs={"chat_id": USER})
    assert server.calls("sendHoroscope")[0].status == 404
    assert server.violations and "sendHoroscope" in server.violations[0]


async def test_server_errors(server: BotApiServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=502, times=3)
    for _ in range(3):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(USER, "hi")
    await bot.send_message(USER, "hi")
    assert [r.status for r in server.calls("sendMessage")] == [502, 502, 502, 200]
    assert server.count("sendMessage") == 4
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


# --------------------------------------------------------------------------- updates


async def test_long_poll_returns_on_inject(server: BotApiServer, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    sent = server.send_text(USER, "/pause 3")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.update_id for u in updates] == [sent["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/pause 3"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]

    # Unconfirmed updates are returned again; offset confirms them.
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=sent["update_id"] + 1, timeout=0) == ()
    assert server.pending_updates == 0


async def test_get_updates_limit_and_timeout(server: BotApiServer, bot: Bot) -> None:
    for i in range(5):
        server.send_text(USER, f"m{i}")
    assert len(await bot.get_updates(limit=2)) == 2
    got = await bot.get_updates(offset=-1)
    assert len(got) == 1 and got[0].message is not None and got[0].message.text == "m4"
    started = time.monotonic()
    short = dtm.timedelta(seconds=0.3)
    assert await bot.get_updates(offset=got[0].update_id + 1, timeout=short) == ()
    assert 0.25 < time.monotonic() - started < 2


async def test_injected_updates_parse(server: BotApiServer, bot: Bot) -> None:
    ids = [
        server.send_text(USER, "/start@sciatica_test_bot", first_name="Ann")["update_id"],
        server.share_location(USER, 52.5, 13.4)["update_id"],
        server.send_sticker(USER)["update_id"],
        server.send_photo(USER)["update_id"],
        server.send_voice(USER)["update_id"],
        server.forward_text(USER, "fwd")["update_id"],
    ]
    first_mid = server._pending[0]["message"]["message_id"]
    ids.append(server.edit_text(USER, first_mid, "/start again")["update_id"])
    ids.append(server.kick(USER)["update_id"])
    ids.append(server.unblock(USER)["update_id"])
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == ids
    msgs = [u.message for u in updates[:6]]
    assert all(m is not None for m in msgs)
    assert msgs[0] is not None and msgs[0].entities[0].length == 24
    assert msgs[1] is not None and msgs[1].location is not None
    assert msgs[1].location.latitude == 52.5
    assert msgs[2] is not None and msgs[2].sticker is not None
    assert msgs[3] is not None and msgs[3].photo
    assert msgs[4] is not None and msgs[4].voice is not None
    assert msgs[5] is not None and msgs[5].forward_origin is not None
    assert updates[6].edited_message is not None
    assert updates[6].edited_message.text == "/start again"
    kicked, unblocked = updates[7].my_chat_member, updates[8].my_chat_member
    assert kicked is not None and kicked.new_chat_member.status == "kicked"
    assert unblocked is not None and unblocked.new_chat_member.status == "member"


async def test_kick_forbids_until_unblock(server: BotApiServer, bot: Bot) -> None:
    server.kick(USER)
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "hi")
    server.unblock(USER)
    await bot.send_message(USER, "hi")


async def test_press_deleted_message_gives_inaccessible(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "x", reply_markup=keyboard(("A", "a")))
    await bot.delete_message(USER, msg.message_id)
    server.press_button(USER, msg.message_id, "forged")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "forged"
    assert update.callback_query.message is not None
    assert update.callback_query.message.date.timestamp() == 0


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


# --------------------------------------------------------------------------- parse_html


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("plain", "plain", []),
        ("a &lt;b&gt; &amp; &quot;c&quot; &#33; &#x41;", 'a <b> & "c" ! A', []),
        ("<B>x</B>", "x", [{"type": "bold", "offset": 0, "length": 1}]),
        (
            "<b>a<i>b</i></b>",
            "ab",
            [
                {"type": "bold", "offset": 0, "length": 2},
                {"type": "italic", "offset": 1, "length": 1},
            ],
        ),
        (
            '<a href="https://x.org/?a=1&amp;b=2">link</a>',
            "link",
            [{"type": "text_link", "offset": 0, "length": 4, "url": "https://x.org/?a=1&b=2"}],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ("😀<u>x</u>", "😀x", [{"type": "underline", "offset": 2, "length": 1}]),
        ("<b></b>x", "x", []),
    ],
)
def test_parse_html(html: str, text: str, entities: list[dict[str, object]]) -> None:
    assert parse_html(html) == (text, entities)


def test_parse_html_error_mentions_tag() -> None:
    with pytest.raises(EntityParseError, match=r'expected "</i>", found "</b>"'):
        parse_html("<b><i>x</b></i>")


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
