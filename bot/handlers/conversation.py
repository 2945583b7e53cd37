"""Thin Telegram adapters: read the update, call one use case, deliver its Response."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.botapi.inbox import CURRENT
from bot.context import BotContext
from bot.handlers.respond import respond_to
from bot.rendering.replies import Response
from bot.usecases import conversation
from bot.usecases.conversation import AlreadyApplied
from bot.usecases.turn import Event


def event_of(update: Update) -> Event | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    query = update.callback_query
    return Event(
        user_id=user.id,
        chat_id=chat.id,
        update_id=update.update_id,
        language_code=user.language_code,
        query_id=query.id if query is not None else None,
        private=chat.type == ChatType.PRIVATE,
    )


async def reply(context: BotContext, event: Event, response: Response) -> None:
    """Deliver a response (bot.handlers.respond); the update pipeline then marks it done."""
    run = CURRENT.get()
    item = run.item if run is not None and run.item.update_id == event.update_id else None
    if run is not None:
        run.delivering()  # waiting on Telegram holds no processing place
    await respond_to(context.services, context.application, item, response, event.route())  # type: ignore[arg-type]


Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def on_command(name: str) -> Callback:
    """The callback of one command's CommandHandler."""

    async def callback(update: Update, context: BotContext) -> None:
        event = event_of(update)
        if event is None:
            return
        args = " ".join(context.args or []) or None
        try:
            response = await conversation.on_command(context.services, event, name, args)
        except AlreadyApplied:
            return
        await reply(context, event, response)

    callback.__name__ = f"on_{name}"
    return callback


async def on_unknown_command(update: Update, context: BotContext) -> None:
    await _stateless(update, context, "unknown_command")


async def on_text(update: Update, context: BotContext) -> None:
    message, event = update.effective_message, event_of(update)
    if message is None or event is None or message.text is None:
        return
    try:
        response = await conversation.on_text(context.services, event, message.text)
    except AlreadyApplied:
        return
    await reply(context, event, response)


async def on_location(update: Update, context: BotContext) -> None:
    message, event = update.effective_message, event_of(update)
    if message is None or event is None or message.location is None:
        return
    location = message.location
    try:
        response = await conversation.on_location(
            context.services, event, location.latitude, location.longitude
        )
    except AlreadyApplied:
        return
    await reply(context, event, response)


async def on_button(update: Update, context: BotContext) -> None:
    query, event = update.callback_query, event_of(update)
    if query is None:
        return
    if event is None or query.message is None or not event.private:
        # A press Telegram could not tie to a private chat of ours: just answer it.
        await query.answer()
        return
    try:
        response = await conversation.on_button(
            context.services,
            event,
            query.message.message_id,
            query.data,
            # Telegram's InaccessibleMessage (date 0): too old, or deleted; it cannot be edited.
            accessible=query.message.is_accessible,
        )
    except AlreadyApplied:
        return
    await reply(context, event, response)


async def on_member(update: Update, context: BotContext) -> None:
    change, event = update.my_chat_member, event_of(update)
    if change is None or event is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    blocked = status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    try:
        response = await conversation.on_member(context.services, event, blocked)
    except AlreadyApplied:
        return
    if response.replies:
        await reply(context, event, response)


async def on_unsupported(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice, files and other things the bot does not read."""
    await _stateless(update, context, "unsupported")


async def on_edited(update: Update, context: BotContext) -> None:
    await _stateless(update, context, "edited")


async def on_forward(update: Update, context: BotContext) -> None:
    await _stateless(update, context, "forwarded")


async def on_group(update: Update, context: BotContext) -> None:
    """The bot is personal: in groups it stores nothing, never edits, and answers a command
    once; ordinary group chatter gets no answer."""
    message = update.effective_message
    if message is None or not (message.text or "").startswith("/"):
        return
    command = (message.text or "").split(maxsplit=1)[0]
    _, at, addressee = command.partition("@")
    if at and addressee.casefold() != context.bot.username.casefold():
        return  # a command for another bot in the group
    await _stateless(update, context, "private_only")


async def _stateless(update: Update, context: BotContext, key: str) -> None:
    event = event_of(update)
    if event is None:
        return
    response = await conversation.on_stateless(context.services, event, key)
    await reply(context, event, response)
