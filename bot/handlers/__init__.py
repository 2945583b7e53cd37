"""Every handler, registered in one place (the composition root calls register_handlers)."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from bot.handlers import errors, start


def register_handlers(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start.on_start))
    app.add_handler(CommandHandler("help", start.on_help))
    app.add_error_handler(errors.on_error)
