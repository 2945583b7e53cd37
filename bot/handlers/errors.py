"""The one error handler: note the failure for the update pipeline (which retries, then
quarantines and tells the person), and log it without personal data."""

from __future__ import annotations

import logging

from telegram import Update

from bot.botapi.inbox import CURRENT
from bot.context import BotContext
from bot.logs import describe_error

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    run = CURRENT.get()
    if run is not None and context.error is not None:
        # The pipeline logs, retries and, in the end, tells the person.
        run.error = context.error
        return
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    log.error(
        "Unhandled error outside an update (update %s): %s",
        update_id,
        describe_error(error) if error else "unknown",
        exc_info=error,
    )
