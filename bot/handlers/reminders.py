"""/reminders off|on: the person turns the follow-up nudge off or on (no argument: show it)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.content import Catalogue
from bot.services import Services, services
from db import dispatch as q

_ON = frozenset({"on", "yes", "enable"})
_OFF = frozenset({"off", "no", "disable", "stop"})


async def reminders_text(svc: Services, telegram_user_id: int, args: list[str]) -> str:
    """The answer to ``/reminders [args]``, changing the setting when asked to."""
    cat: Catalogue = svc.content.catalogue
    latest = svc.settings.nudge_latest.strftime("%H:%M")
    choice = args[0].lower() if len(args) == 1 else None
    async with svc.sessions() as db, db.begin():
        current = await q.nudges_enabled(db, telegram_user_id)
        if current is None:
            return cat.text("dispatch.reminders_not_set_up")
        if choice in _ON or choice in _OFF:
            enabled = choice in _ON
            await q.set_nudges_enabled(db, telegram_user_id, enabled, svc.clock())
            if enabled:
                return cat.text("dispatch.reminders_on", latest=latest)
            return cat.text("dispatch.reminders_off")
    status = "dispatch.reminders_status_on" if current else "dispatch.reminders_status_off"
    return f"{cat.text(status)}\n\n{cat.text('dispatch.reminders_usage')}"


async def on_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    text = await reminders_text(services(context), user.id, list(context.args or []))
    await message.reply_text(text)
