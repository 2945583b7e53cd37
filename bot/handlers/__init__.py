"""Every handler, registered in one place from the one list of commands."""

from __future__ import annotations

from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotApplication
from bot.handlers import conversation, errors
from bot.usecases.conversation import COMMANDS

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE


def register_handlers(app: BotApplication) -> None:
    app.add_handler(ChatMemberHandler(conversation.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(~PRIVATE & ~filters.UpdateType.EDITED, conversation.on_group))
    app.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED, conversation.on_edited))
    app.add_handler(
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.FORWARDED, conversation.on_forward)
    )
    for command in COMMANDS:
        app.add_handler(
            CommandHandler(
                command.names,  # every language's name works for everyone
                conversation.on_command(command.name),
                filters=PRIVATE & NEW_MESSAGE,
            )
        )
    app.add_handler(
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, conversation.on_unknown_command)
    )
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.TEXT, conversation.on_text))
    app.add_handler(
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.LOCATION, conversation.on_location)
    )
    app.add_handler(CallbackQueryHandler(conversation.on_button))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE, conversation.on_unsupported))
    app.add_error_handler(errors.on_error)
