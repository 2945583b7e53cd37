"""Turns Replies into Bot API calls (the one place that builds Telegram markup)."""

from __future__ import annotations

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.replies import Keyboard, Reply

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def inline_markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    )


def _markup(reply: Reply) -> ReplyMarkup | None:
    if reply.ask_location:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(reply.ask_location, request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if reply.remove_keyboard and not reply.buttons:
        return ReplyKeyboardRemove()
    return inline_markup(reply.buttons)


async def deliver(bot: Bot, chat_id: int, reply: Reply) -> int | None:
    """Send or edit one message; returns the message id (None when an edit changed nothing)."""
    if reply.edit is not None and reply.markup_only:
        try:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=reply.edit, reply_markup=inline_markup(reply.buttons)
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        return reply.edit
    if reply.edit is not None:
        try:
            result = await bot.edit_message_text(
                reply.text,
                chat_id=chat_id,
                message_id=reply.edit,
                reply_markup=inline_markup(reply.buttons),
            )
        except BadRequest as exc:
            # Editing to identical content is harmless (a repeated press); anything else is not.
            if "not modified" in str(exc).lower():
                return reply.edit
            raise
        return result.message_id if isinstance(result, Message) else reply.edit
    message = await bot.send_message(chat_id, reply.text, reply_markup=_markup(reply))
    return message.message_id


async def send_lean(bot: Bot, chat_id: int, reply: Reply) -> int:
    """Send a new message without building a telegram.Message from the answer.

    For the morning dispatcher, which needs only the message id: parsing Telegram's echo of a
    3 KB routine (every entity included) costs more CPU than sending it. The request still goes
    through the bot's rate limiter and error mapping. Telegram's method names are
    case-insensitive; "SendMessage" keeps do_api_request from suggesting Bot.send_message.
    """
    result = await bot.do_api_request(
        "SendMessage",
        api_kwargs={
            "chat_id": chat_id,
            "text": reply.text,
            "parse_mode": ParseMode.HTML,
            # Plain JSON rather than InlineKeyboardMarkup objects: nothing to build or serialise.
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": b.label, "callback_data": b.data} for b in row]
                    for row in reply.buttons
                ]
            }
            if reply.buttons
            else None,
        },
    )
    return int(result["message_id"])
