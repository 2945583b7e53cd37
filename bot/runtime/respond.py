"""Delivery composed for the bot, on the one send path (``bot.telegram.delivery.deliver``):
``respond_to`` for an update's answer (a reply, a redelivered stored reply, or the "nothing was
lost" apology): the callback answer first, then the replies in order; the message ids the use
case asked to track are stored, and a chat that is gone marks the person inactive (the pipeline
records each reply as it goes out, the last by marking the update done).
``broadcaster`` for what is sent unasked: the morning, follow-ups, nudges and the weekly look
back."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.context import BotApplication, Broadcast, Services
from bot.rendering.replies import ChatGone, Delivered, Response
from bot.telegram.delivery import FileIds, answer_callback, deliver
from bot.telegram.ratelimit import Priority, TelegramBot
from bot.usecases import conversation
from db.inbox import Item

log = logging.getLogger(__name__)


async def respond_to(
    services: Services,
    app: BotApplication,
    item: Item | None,
    response: Response,
    route: Mapping[str, Any],
    *,
    record: Callable[[Item, bool], Awaitable[None]] | None = None,
) -> None:
    """Deliver a response to the chat in ``route``; ``item`` is its update (None outside the
    inbox), whose progress (``record``ed after each reply, with whether it was the last) lets a
    retry, or a restart after a crash, skip what was already delivered."""
    chat_id = int(route["chat_id"])
    query_id = route.get("query_id")
    if isinstance(query_id, str) and not (item is not None and item.query_answered):
        await answer_callback(app.bot, query_id, response.answer)
        if item is not None:
            item.query_answered = True
    skip = item.delivered if item is not None else 0

    async def progress(count: int) -> None:
        if item is not None:
            item.delivered = count
            if record is not None:
                await record(item, count == len(response.replies))

    try:
        delivered = await deliver(
            app.bot,
            chat_id,
            response,
            media_cache=services.media,
            private=bool(route.get("private", True)),
            skip=skip,
            on_sent=progress,
        )
    except ChatGone:
        user_id = route.get("user_id")
        if isinstance(user_id, int):
            await conversation.on_blocked(services, user_id)
        log.info("A chat is gone; the person is marked inactive")
        delivered = None
    if delivered is not None:
        for tag, message_id in delivered.tracked:
            await conversation.remember(
                services, int(route.get("user_id") or chat_id), tag, message_id
            )


def broadcaster(bot: TelegramBot, media: FileIds | None) -> Broadcast:
    """How the morning, follow-ups, nudges and the weekly look back go out: the same delivery
    as replies, at the broadcast priority (behind every reply to someone waiting)."""

    async def broadcast(chat_id: int, response: Response) -> Delivered:
        return await deliver(bot, chat_id, response, media_cache=media, priority=Priority.BROADCAST)

    return broadcast
