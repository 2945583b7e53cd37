"""The one entry point for an update: read it once, route it once (by the project's one table,
``bot.usecases.conversation.COMMANDS`` and its flows), call one use case, return its Response.

The runtime (``bot.runtime.pipeline``) calls ``handle`` with each stored update and delivers
what it returns; nothing here calls Telegram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.context import Services
from bot.rendering.replies import Response
from bot.usecases import conversation
from bot.usecases.conversation import COMMANDS_BY_NAME, AlreadyApplied
from bot.usecases.turn import Event

# The update types the bot handles; anything else (channel posts, polls...) is dropped early.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")

# What the routing reads of the message a button sits on.
_PRESSED_MESSAGE_KEYS = ("message_id", "date", "chat")


@dataclass(frozen=True)
class Answer:
    """What an update produced: the Response, and where it goes (``Event.route``)."""

    response: Response
    route: dict[str, Any]


@dataclass(frozen=True)
class Address:
    """Whom a raw update comes from and where an answer goes, read from the JSON itself (it
    may be anything, even an update PTB cannot parse): the person's key for the inbox (their
    user id, else the chat's, else 0: ours, but with no sender we can read, handled and refused
    in order), the chat, and the button press to answer."""

    person_key: int
    chat_id: int | None
    query_id: str | None


def address(raw: Mapping[str, Any]) -> Address | None:
    """The update's Address, or None if it is not an update the bot handles."""
    for kind in ALLOWED_UPDATES:
        body = raw.get(kind)
        if not isinstance(body, dict):
            continue
        message = body.get("message") if kind == "callback_query" else body
        chat = message.get("chat") if isinstance(message, dict) else None
        chat_id = _int(chat.get("id")) if isinstance(chat, dict) else None
        query_id = body.get("id") if kind == "callback_query" else None
        if kind == "my_chat_member":
            chat_id = None  # a membership change is answered (if at all) by the use case
        sender = body.get("from")
        key = _int(sender.get("id")) if isinstance(sender, dict) else None
        if key is None:
            own = body.get("chat")
            key = _int(own.get("id")) if isinstance(own, dict) else None
        if key is None:
            key = _int(chat.get("id")) if isinstance(chat, dict) else None
        return Address(
            key if key is not None else 0,
            chat_id,
            query_id if isinstance(query_id, str) else None,
        )
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read(raw: dict[str, Any]) -> Update:
    """The one reading of a raw update into PTB's objects (they raise on what is not an
    update). A button press carries the whole message it sits on (the check-in card's text and
    keyboard); only what the routing reads of it is parsed: the rest cost more than the update
    itself (bench/interactive.py)."""
    query = raw.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        message = query["message"]
        kept = {key: message[key] for key in _PRESSED_MESSAGE_KEYS if key in message}
        raw = {**raw, "callback_query": {**query, "message": kept}}
    return Update.de_json(raw, None)


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


async def handle(services: Services, update: Update, bot_username: str) -> Answer | None:
    """Route the update to its use case; None when there is nothing to deliver (it was applied
    before, or it is nothing the bot answers)."""
    event = event_of(update)
    query = update.callback_query
    if event is None and query is not None:
        # A press Telegram tied to no one we can read: just answer it.
        return Answer(Response(), {"chat_id": 0, "query_id": query.id, "private": False})
    try:
        response = await _route(services, update, event, bot_username)
    except AlreadyApplied:
        return None
    if response is None or event is None:
        return None
    return Answer(response, event.route())


async def _route(
    services: Services, update: Update, event: Event | None, bot_username: str
) -> Response | None:
    if update.my_chat_member is not None:
        change = update.my_chat_member
        if event is None or change.chat.type != ChatType.PRIVATE:
            return None
        status = change.new_chat_member.status
        blocked = status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        response = await conversation.on_member(services, event, blocked)
        return response if response.replies else None
    if update.callback_query is not None:
        return await _button(services, update, event)
    message = update.message or update.edited_message
    if message is None:
        return None
    if message.chat.type != ChatType.PRIVATE:
        if update.edited_message is not None:
            return None
        return await _group(services, message, event, bot_username)
    if event is None:
        return None
    if update.edited_message is not None:
        return await conversation.on_stateless(services, event, "edited")
    if message.forward_origin is not None:
        return await conversation.on_stateless(services, event, "forwarded")
    command = _command(message)
    if command is not None:
        name, addressee, args = command
        known = COMMANDS_BY_NAME.get(name.casefold())
        if known is None or (addressee and addressee.casefold() != bot_username.casefold()):
            return await conversation.on_stateless(services, event, "unknown_command")
        return await conversation.on_command(services, event, known.name, args)
    if message.text:
        return await conversation.on_text(services, event, message.text)
    if message.location is not None:
        location = message.location
        return await conversation.on_location(
            services, event, location.latitude, location.longitude
        )
    # Stickers, photos, voice, files and other things the bot does not read.
    return await conversation.on_stateless(services, event, "unsupported")


def _command(message: Message) -> tuple[str, str, str | None] | None:
    """A message that starts with a command: (its name, the bot it names or "", its args)."""
    entities, text = message.entities, message.text
    if not text or not entities:
        return None
    first = entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    name, _, addressee = text[1 : first.length].partition("@")
    args = " ".join(text.split()[1:]) or None
    return name, addressee, args


async def _button(services: Services, update: Update, event: Event | None) -> Response:
    query = update.callback_query
    assert query is not None
    if event is None or query.message is None or not event.private:
        # A press Telegram could not tie to a private chat of ours: just answer it.
        return Response()
    return await conversation.on_button(
        services,
        event,
        query.message.message_id,
        query.data,
        # Telegram's InaccessibleMessage (date 0): too old, or deleted; it cannot be edited.
        accessible=query.message.is_accessible,
    )


async def _group(
    services: Services, message: Message, event: Event | None, bot_username: str
) -> Response | None:
    """The bot is personal: in groups it stores nothing, never edits, and answers a command
    once; ordinary group chatter gets no answer."""
    text = message.text or ""
    if event is None or not text.startswith("/"):
        return None
    _, at, addressee = text.split(maxsplit=1)[0].partition("@")
    if at and addressee.casefold() != bot_username.casefold():
        return None  # a command for another bot in the group
    return await conversation.on_stateless(services, event, "private_only")
