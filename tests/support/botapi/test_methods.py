"""The Bot API methods on chats, driven by the real python-telegram-bot client."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.support.botapi import BotApiServer
from tests.support.botapi.testkit import TOKEN, USER, image, keyboard

# --------------------------------------------------------------------------- messages


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


# --------------------------------------------- callback answers, keyboards, commands, chat actions


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


# ------------------------------------------------------------------------ files, photos and albums


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


async def test_send_photo_attach_uri(server: BotApiServer) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("photo", "attach://pic")
    form.add_field("pic", image(30, 10), filename="pic.png", content_type="image/png")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{TOKEN}/sendPhoto", data=form) as resp,
    ):
        assert resp.status == 200
    assert server.last_message(USER).kind == "photo"
    assert server.uploads == {"sendPhoto": 1}


MP4: bytes = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 64


async def test_send_animation_uploads_once_and_reuses_the_file_id(
    server: BotApiServer, bot: Bot
) -> None:
    first = await bot.send_animation(
        USER, MP4, filename="a3-left-en.mp4", caption="<b>One</b> lift", parse_mode=ParseMode.HTML
    )
    assert first.animation is not None and first.animation.file_id.startswith("animation-")
    assert first.caption == "One lift"
    assert first.animation.file_name == "a3-left-en.mp4"
    assert server.uploads == {"sendAnimation": 1}
    again = await bot.send_animation(USER, first.animation.file_id, caption="again")
    assert again.animation is not None and again.animation.file_id == first.animation.file_id
    assert server.last_message(USER).kind == "animation"
    assert server.file_name(again.animation.file_id) == "a3-left-en.mp4"
    assert server.file_id_reuses == {"sendAnimation": 1}
    assert server.uploads == {"sendAnimation": 1}
    assert server.violations == []


async def test_send_animation_refuses_what_telegram_refuses(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)wrong type"):
        await bot.send_animation(USER, image(30, 10), filename="still.png")
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_animation(USER, MP4, filename="a.mp4", caption="x" * 1025)
    photo = await bot.send_photo(USER, image(30, 10))
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_animation(USER, photo.photo[-1].file_id)  # a photo is no animation
    assert [m.kind for m in server.messages(USER)] == ["photo"]


async def test_user_photo_file_id_can_be_sent(server: BotApiServer, bot: Bot) -> None:
    server.send_photo(USER)
    (update,) = await bot.get_updates()
    assert update.message is not None
    await bot.send_photo(USER, update.message.photo[-1].file_id)
    assert server.violations == []


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_send_media_group(server: BotApiServer, transport: str) -> None:
    # The bot's own transport sends multipart bodies differently from PTB's default (httpx).
    from bot.telegram.transport import AiohttpRequest

    request = AiohttpRequest() if transport == "aiohttp" else None
    async with Bot(TOKEN, base_url=server.base_url, request=request) as bot:
        album = [
            InputMediaPhoto(image(40, 30), caption="<b>Step 1</b>", parse_mode=ParseMode.HTML),
            InputMediaPhoto(image(30, 40, "JPEG"), caption="Step 2"),
            InputMediaPhoto(image(20, 20)),
        ]
        messages = await bot.send_media_group(USER, album)
        assert len(messages) == 3
        group = messages[0].media_group_id
        assert group is not None and all(m.media_group_id == group for m in messages)
        assert all(m.photo for m in messages)
        assert messages[0].caption == "Step 1"
        assert messages[0].caption_entities[0].type == "bold"
        stored = server.messages(USER)
        assert [m.kind for m in stored] == ["photo"] * 3
        assert [m.text for m in stored] == ["Step 1", "Step 2", ""]
        assert [m.message_id for m in stored] == [m.message_id for m in messages]
        assert all(m.media_group_id == group for m in stored)
        assert server.uploads == {"sendMediaGroup": 3}

        again = await bot.send_media_group(
            USER, [InputMediaPhoto(m.photo[-1].file_id) for m in messages]
        )
        assert again[0].media_group_id != group
        assert server.uploads == {"sendMediaGroup": 3}  # reused, not uploaded again
        assert server.file_id_reuses == {"sendMediaGroup": 3}
        assert len(server.messages(USER)) == 6
        assert server.violations == []
