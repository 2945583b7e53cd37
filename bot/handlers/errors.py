"""The one error handler: log without personal data, tell the person calmly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.services import services

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # The update may hold ratings: log only its id and the exception, never its content.
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("Unhandled error for update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(context.error, Forbidden):
        return
    text = services(context).content.catalogue.text("errors.unexpected")
    # Button presses were already answered by their handler (exactly once, in a finally).
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:
        log.warning("Could not tell chat about the error for update %s", update_id)
