"""Turns a Response into Bot API calls: the one place that builds Telegram markup.

Edits fall back gracefully: "message is not modified" is success; an edit Telegram refuses
(the message was deleted, is too old, or cannot be edited) sends the content as a new message,
or is skipped when it only tidied an old message (``Reply.cleanup``). Exercise pictures are
uploaded once: Telegram's file_id is kept (per bot, in the database) and reused; a file_id that
Telegram rejects is uploaded again. A chat that is gone (blocked, deleted account, "chat not
found") raises ChatGone so the caller can stop writing to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from io import BytesIO
from typing import Any, Protocol

from telegram import InputFile, InputMediaPhoto
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.rendering.replies import (
    Animation,
    ChatGone,
    Delivered,
    Keyboard,
    Picture,
    Reply,
    Response,
)
from bot.telegram.ratelimit import Priority, TelegramBot

log = logging.getLogger(__name__)

JSON = dict[str, Any]

# Telegram's words for a chat the bot can no longer write to (400 or 403).
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")
_EDIT_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
_BAD_FILE = ("wrong file identifier", "file reference", "wrong remote file")


def is_gone(exc: Exception) -> bool:
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and any(g in str(exc).lower() for g in _GONE)


def inline_json(buttons: Keyboard) -> JSON | None:
    """The inline keyboard as the Bot API's JSON."""
    if not buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.data} for b in row] for row in buttons
        ]
    }


def _markup_json(reply: Reply) -> JSON | None:
    if reply.ask_location:
        return {
            "keyboard": [[{"text": reply.ask_location, "request_location": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    if reply.remove_keyboard and not reply.buttons:
        return {"remove_keyboard": True}
    return inline_json(reply.buttons)


async def _call(bot: TelegramBot, method: str, priority: Priority | None, **params: Any) -> Any:
    """One Bot API call with plain JSON in and out, for the calls every answer makes (a
    message, an edit, a button answer): PTB's objects for the markup and the returned Message
    cost more CPU than the request itself (bench/interactive.py). The errors, the rate limiter
    and the transport are PTB's, as for every other call. ``method`` is capitalised
    ("SendMessage"), which Telegram treats as "sendMessage", so PTB does not warn that it has
    a method of that name."""
    kwargs = {key: value for key, value in params.items() if value is not None}
    return await bot.do_api_request(method, api_kwargs=kwargs, rate_limit_args=priority)


class FileIds(Protocol):
    """Where Telegram's file_ids of the exercise pictures are kept (bot.runtime.picture_ids), and
    how a picture is drawn when Telegram does not hold it yet."""

    async def png(self, key: str) -> bytes: ...

    async def file_id(self, bot_id: int, key: str) -> str | None: ...

    async def remember(self, bot_id: int, key: str, file_id: str) -> None: ...

    async def mp4(self, key: str) -> bytes: ...

    async def forget(self, bot_id: int, key: str) -> None: ...


async def answer_callback(bot: TelegramBot, query_id: str, text: str | None) -> None:
    """Answer a button press (exactly once; a press Telegram no longer knows is ignored)."""
    try:
        await _call(bot, "AnswerCallbackQuery", None, callback_query_id=query_id, text=text)
    except BadRequest as exc:
        log.info("Callback answer refused by Telegram (%s)", type(exc).__name__)


async def deliver(
    bot: TelegramBot,
    chat_id: int,
    response: Response,
    *,
    media_cache: FileIds | None = None,
    private: bool = True,
    priority: Priority = Priority.INTERACTIVE,
    skip: int = 0,
    on_sent: Callable[[int], Awaitable[object]] | None = None,
) -> Delivered:
    """Send (or edit) each reply in order, from the ``skip``-th on, awaiting ``on_sent`` with
    the number delivered so far after each one; raises ChatGone."""
    done = Delivered()
    for index, reply in enumerate(response.replies):
        if index < skip:
            continue
        try:
            message_id = await _deliver_one(
                bot,
                chat_id,
                reply,
                media_cache,
                private=private,
                priority=_follow_up(priority) if index > skip else priority,
                done=done,
            )
        except (Forbidden, BadRequest) as exc:
            if is_gone(exc):
                raise ChatGone(str(exc)) from exc
            raise
        if message_id is not None:
            done.last_message_id = message_id
            if reply.track:
                done.tracked.append((reply.track, message_id))
        if on_sent is not None:
            await on_sent(index + 1)
    return done


def _follow_up(priority: Priority) -> Priority:
    """The priority of a reply's later messages: an answer's rest waits behind first answers."""
    return Priority.FOLLOW_UP if priority == Priority.INTERACTIVE else priority


async def _deliver_one(
    bot: TelegramBot,
    chat_id: int,
    reply: Reply,
    media_cache: FileIds | None,
    *,
    private: bool,
    priority: Priority,
    done: Delivered,
) -> int | None:
    if reply.animation is not None and media_cache is not None:
        await send_animation(bot, chat_id, reply.animation, media_cache, priority=priority)
        done.messages += 1
    if reply.pictures and media_cache is not None:
        await send_pictures(bot, chat_id, reply.pictures, media_cache, priority=priority)
        done.messages += len(reply.pictures)
    if reply.upload is not None:
        done.messages += 1
        return await _send_upload(bot, chat_id, reply, priority)
    if reply.media_only and reply.edit is None and media_cache is not None:
        return None  # the animation or pictures carry their captions; no text follows
    if reply.edit is not None and private:
        edited = await _edit(bot, chat_id, reply, priority)
        if edited is not None or reply.cleanup:
            return edited
        if reply.markup_only:
            return None
    elif reply.edit is not None and reply.cleanup:
        return None  # never edit in a group: an untidy old message is fine
    message = await _call(
        bot,
        "SendMessage",
        priority,
        chat_id=chat_id,
        text=reply.text,
        parse_mode=ParseMode.HTML.value,
        reply_markup=_markup_json(reply),
    )
    done.messages += 1
    return _message_id(message)


def _message_id(result: Any) -> int | None:
    """The id of the message a call returned (edits of inline messages return True)."""
    if isinstance(result, dict) and isinstance(result.get("message_id"), int):
        return int(result["message_id"])
    return None


async def _edit(bot: TelegramBot, chat_id: int, reply: Reply, priority: Priority) -> int | None:
    """Edit in place; None when the message is gone (the caller decides what then)."""
    assert reply.edit is not None
    try:
        if reply.markup_only:
            await _call(
                bot,
                "EditMessageReplyMarkup",
                priority,
                chat_id=chat_id,
                message_id=reply.edit,
                reply_markup=inline_json(reply.buttons),
            )
            return reply.edit
        result = await _call(
            bot,
            "EditMessageText",
            priority,
            chat_id=chat_id,
            message_id=reply.edit,
            text=reply.text,
            parse_mode=ParseMode.HTML.value,
            reply_markup=inline_json(reply.buttons),
        )
    except BadRequest as exc:
        text = str(exc).lower()
        if "not modified" in text:
            return reply.edit  # the same content again (a repeated press): nothing to do
        if is_gone(exc):
            raise
        if not any(g in text for g in _EDIT_GONE):
            # Refused for another reason (too old, not editable...): a card must never get
            # stuck, so the caller sends its content as a new message instead.
            log.info("An edit was refused (%s); sending a new message", type(exc).__name__)
        return None
    return _message_id(result) or reply.edit


async def _send_upload(
    bot: TelegramBot, chat_id: int, reply: Reply, priority: Priority
) -> int | None:
    upload = reply.upload
    assert upload is not None
    method, field = ("SendPhoto", "photo") if upload.photo else ("SendDocument", "document")
    message = await _call(
        bot,
        method,
        priority,
        chat_id=chat_id,
        caption=reply.text or None,
        parse_mode=ParseMode.HTML.value,
        reply_markup=inline_json(reply.buttons),
        **{field: InputFile(BytesIO(upload.data), filename=upload.filename)},
    )
    return _message_id(message)


async def _known_or_drawn(cache: FileIds, picture: Picture, file_id: str | None) -> str | bytes:
    return file_id or await cache.png(picture.key)


async def send_pictures(
    bot: TelegramBot,
    chat_id: int,
    pictures: Sequence[Picture],
    cache: FileIds,
    *,
    priority: Priority = Priority.INTERACTIVE,
) -> None:
    """One photo, or an album, each picture by its stored file_id or uploaded once."""
    for attempt in range(2):
        ids = [await cache.file_id(bot.id, p.key) for p in pictures]
        try:
            if len(pictures) == 1:
                picture = pictures[0]
                upload = ids[0] or InputFile(
                    BytesIO(await cache.png(picture.key)), filename=f"{picture.key}.png"
                )
                message = await bot.send_photo(
                    chat_id,
                    upload,
                    caption=picture.caption,
                    parse_mode=ParseMode.HTML,
                    rate_limit_args=priority,
                )
                sent = [message]
            else:
                # Only the pictures Telegram does not hold yet are drawn (in the workers).
                pairs = zip(pictures, ids, strict=True)
                items = await asyncio.gather(*(_known_or_drawn(cache, p, f) for p, f in pairs))
                sent = list(
                    await bot.send_media_group(
                        chat_id,
                        [
                            InputMediaPhoto(
                                # Bytes (not an InputFile) so PTB attaches them to the album.
                                media=item,
                                filename=f"{p.key}.png",
                                caption=p.caption,
                                parse_mode=ParseMode.HTML,
                            )
                            for p, item in zip(pictures, items, strict=True)
                        ],
                        rate_limit_args=priority,
                    )
                )
        except BadRequest as exc:
            if attempt == 0 and any(b in str(exc).lower() for b in _BAD_FILE):
                # A stored file_id Telegram no longer accepts: upload these pictures again.
                for picture in pictures:
                    await cache.forget(bot.id, picture.key)
                log.warning("A stored picture file_id was refused; uploading again")
                continue
            raise
        for picture, message, known in zip(pictures, sent, ids, strict=False):
            if known is None and message.photo:
                await cache.remember(bot.id, picture.key, message.photo[-1].file_id)
        return


async def send_animation(
    bot: TelegramBot,
    chat_id: int,
    animation: Animation,
    cache: FileIds,
    *,
    priority: Priority = Priority.INTERACTIVE,
) -> None:
    """An exercise animation by its stored file_id, or uploaded once (its MP4 comes from the
    render workers' files on disk) and its file_id remembered."""
    for attempt in range(2):
        known = await cache.file_id(bot.id, animation.key)
        media = known or InputFile(
            BytesIO(await cache.mp4(animation.key)), filename=f"{animation.key}.mp4"
        )
        try:
            message = await bot.send_animation(
                chat_id,
                media,
                caption=animation.caption,
                parse_mode=ParseMode.HTML,
                rate_limit_args=priority,
            )
        except BadRequest as exc:
            if attempt == 0 and known and any(b in str(exc).lower() for b in _BAD_FILE):
                await cache.forget(bot.id, animation.key)
                log.warning("A stored animation file_id was refused; uploading again")
                continue
            raise
        if known is None and message.animation is not None:
            await cache.remember(bot.id, animation.key, message.animation.file_id)
        return
