"""Thin Telegram adapters: read the update, call one use case, render its Outcome."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from bot.outbox import deliver
from bot.replies import Outcome
from bot.services import services
from bot.usecases import conversation
from bot.usecases.conversation import Sender

log = logging.getLogger(__name__)


def _sender(update: Update) -> Sender | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    return Sender(user.id, chat.id)


async def _render(context: ContextTypes.DEFAULT_TYPE, who: Sender, outcome: Outcome) -> None:
    svc = services(context)
    try:
        for reply in outcome.replies:
            message_id = await deliver(context.bot, who.chat_id, reply)
            if reply.track and message_id is not None:
                await conversation.remember(svc, who.user_id, reply.track, message_id)
    except Forbidden:
        await conversation.on_blocked(svc, who.user_id)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, who = update.effective_message, _sender(update)
    if message is None or who is None or not message.text:
        return
    head, _, rest = message.text.partition(" ")
    command = head[1:].split("@", 1)[0].lower()
    outcome = await conversation.on_command(services(context), who, command, rest.strip() or None)
    await _render(context, who, outcome)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, who = update.effective_message, _sender(update)
    if message is None or who is None or message.text is None:
        return
    outcome = await conversation.on_text(services(context), who, message.text)
    await _render(context, who, outcome)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, who = update.effective_message, _sender(update)
    if message is None or who is None or message.location is None:
        return
    location = message.location
    outcome = await conversation.on_location(
        services(context), who, location.latitude, location.longitude
    )
    await _render(context, who, outcome)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, who = update.callback_query, _sender(update)
    if query is None:
        return
    outcome = Outcome()
    try:
        if who is not None and query.message is not None:
            outcome = await conversation.on_button(
                services(context), who, query.message.message_id, query.data
            )
        else:
            outcome.answer = services(context).content.catalogue.text("errors.stale_button")
    finally:
        # Every callback query is answered exactly once, even when something failed.
        await query.answer(outcome.answer)
    if who is not None:
        await _render(context, who, outcome)


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files and other things the bot does not read."""
    await _reply_key(update, context, "errors.unsupported")


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply_key(update, context, "errors.edited")


async def on_forward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _reply_key(update, context, "errors.forwarded")


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot is personal: in groups it stores nothing and says so once per message."""
    message = update.effective_message
    if message is None or not (message.text or "").startswith("/"):
        return  # stay quiet on ordinary group chatter
    await _reply_key(update, context, "errors.private_only")


async def _reply_key(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    text = services(context).content.catalogue.text(key)
    try:
        await context.bot.send_message(chat.id, text)
    except Forbidden:
        if update.effective_user is not None:
            await conversation.on_blocked(services(context), update.effective_user.id)


async def on_member_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await conversation.on_blocked(services(context), change.from_user.id)
