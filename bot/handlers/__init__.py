"""Every handler, registered in one place (the composition root calls register_handlers)."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.handlers import conversation, errors, reminders

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE


def register_handlers(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(
        ChatMemberHandler(conversation.on_member_change, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    app.add_handler(MessageHandler(~PRIVATE & ~filters.UpdateType.EDITED, conversation.on_group))
    app.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED, conversation.on_edited))
    app.add_handler(
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.FORWARDED, conversation.on_forward)
    )
    app.add_handler(
        CommandHandler("reminders", reminders.on_reminders, filters=PRIVATE & NEW_MESSAGE)
    )
    app.add_handler(
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.COMMAND, conversation.on_command)
    )
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.TEXT, conversation.on_text))
    app.add_handler(
        MessageHandler(PRIVATE & NEW_MESSAGE & filters.LOCATION, conversation.on_location)
    )
    app.add_handler(CallbackQueryHandler(conversation.on_button))
    app.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE, conversation.on_unsupported))
    app.add_error_handler(errors.on_error)
