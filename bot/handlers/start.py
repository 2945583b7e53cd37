"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services import services


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is None:
        return
    catalogue = services(context).content.catalogue
    await update.effective_message.reply_text(catalogue.text("welcome.text"))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is None:
        return
    catalogue = services(context).content.catalogue
    await update.effective_message.reply_text(catalogue.text("help.text"))
