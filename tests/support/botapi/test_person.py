"""What the person does: the updates the fake injects for the bot, button presses, messages
the person deleted, blocking the bot."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden

from tests.support.botapi import BotApiServer
from tests.support.botapi.testkit import USER, keyboard

# --------------------------------------------------------------------------- updates


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


async def test_channel_post(server: BotApiServer, bot: Bot) -> None:
    server.channel_post(-100123, "/start news")
    (update,) = await bot.get_updates()
    post = update.channel_post
    assert post is not None and post.text == "/start news"
    assert post.chat.id == -100123 and post.chat.type == "channel"
    assert post.sender_chat is not None and post.sender_chat.id == -100123
    assert post.entities[0].type == "bot_command"
    with pytest.raises(ValueError, match="negative"):
        server.channel_post(5, "x")


# --------------------------------------------------------------------------- buttons


async def test_press_unknown_button_lists_buttons(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "Pick", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    with pytest.raises(LookupError, match=r"'Yes', 'No'"):
        server.press(USER, server.last_message(USER), "Maybe")


async def test_press_deleted_message_gives_inaccessible(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "x", reply_markup=keyboard(("A", "a")))
    await bot.delete_message(USER, msg.message_id)
    server.press_button(USER, msg.message_id, "forged")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "forged"
    assert update.callback_query.message is not None
    assert update.callback_query.message.date.timestamp() == 0


# ------------------------------------------------------------------- deleted messages and blocking


async def test_edits_of_message_the_user_deleted(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "hello", reply_markup=keyboard(("A", "a")))
    server.user_deletes(USER, msg.message_id)
    assert server.messages(USER) == []
    assert server.message(USER, msg.message_id).deleted_by_user
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("new", chat_id=USER, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(USER, msg.message_id)
    assert server.violations == []  # the bot could not know
    assert server.calls("editMessageText")[0].description == (
        "Bad Request: message to edit not found"
    )
    with pytest.raises(LookupError):
        server.user_deletes(USER, 999)


async def test_edits_of_missing_or_bot_deleted_messages_are_violations(
    server: BotApiServer, bot: Bot
) -> None:
    msg = await bot.send_message(USER, "hello")
    await bot.delete_message(USER, msg.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("new", chat_id=USER, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(USER, 999, reply_markup=None)
    assert len(server.violations) == 2


async def test_kick_forbids_until_unblock(server: BotApiServer, bot: Bot) -> None:
    server.kick(USER)
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "hi")
    server.unblock(USER)
    await bot.send_message(USER, "hi")
