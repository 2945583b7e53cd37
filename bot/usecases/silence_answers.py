"""The answers to the question sent after silent mornings (bot.domain.silence): carry on, pause
a week (as ``/pause 7``), or stop the morning messages until the person writes again.

Any press already ended the silence (``conversation``); these only add what was chosen."""

from __future__ import annotations

from bot.domain.program import PatientStatus
from bot.domain.silence import stopped, with_silence
from bot.rendering import silence_texts as texts
from bot.rendering.replies import Reply
from bot.usecases import account
from bot.usecases.turn import Turn

PAUSE_DAYS = "7"


async def on_button(turn: Turn, choice: str, message_id: int | None = None) -> None:
    patient = turn.patient
    if choice not in texts.CHOICES or patient.status is not PatientStatus.ACTIVE:
        # Paused, on hold or starting again since: the question no longer applies.
        turn.response.answer = turn.t("errors.stale_button")
        return
    if message_id is not None:
        # The question keeps the choice made, without its buttons.
        turn.response.replies.append(Reply(texts.chosen(choice, turn.texts), (), edit=message_id))
    if choice == "pause":
        await account.pause(turn, PAUSE_DAYS)
        return
    if choice == "stop":
        patient.program_state = with_silence(patient.program_state or {}, stopped())
        patient.nudge_at = None
        turn.response.add(turn.t("silence.stopped"))
        return
    reminder = patient.reminder_time or turn.settings.default_reminder_time
    turn.response.add(*texts.carry_on(reminder, turn.texts))
