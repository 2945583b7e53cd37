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
