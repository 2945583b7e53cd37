"""The reminder time and the time zone: asked at onboarding, changed with /time and /timezone,
and what the person is told about their next routine."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

from bot.domain.flows import Next, ReminderData, ZoneData, ZoneStep
from bot.domain.parsing import find_clock_in_text, parse_clock
from bot.domain.program import PatientStatus
from bot.domain.zones import ZoneMatch, find_zones, zone_at, zones_for_local_time
from bot.rendering import onboarding_texts as texts_onboarding
from bot.rendering import status as status_texts
from bot.rendering.replies import Reply
from bot.usecases.turn import Turn
from db import repo

MAX_ZONE_CHOICES = 6


def tell_next(turn: Turn) -> None:
    """When the next routine comes, as it really will (nothing when none will be sent)."""
    turn.response.add(
        status_texts.next_routine(turn.patient.next_send_at, turn.zone, turn.now, turn.texts)
    )


async def tell_next_after_release(turn: Turn) -> None:
    """After a hold ends: the next routine, and how to do today's now if it is still to do."""
    tell_next(turn)
    if turn.patient.status is PatientStatus.ACTIVE:
        session = await repo.session_on(
            turn.db, turn.patient.id, turn.patient.program_epoch, turn.today
        )
        if session is None:
            turn.response.add(turn.t("status.today_now"))


# --- Reminder time -------------------------------------------------------------------------------


def ask_reminder(turn: Turn, then: Next) -> None:
    data = turn.open(ReminderData(then=then.value))
    turn.response.add(
        *texts_onboarding.reminder_question(
            data.nonce, turn.settings.default_reminder_time, turn.texts
        )
    )


async def on_reminder_button(turn: Turn, data: ReminderData, value: str, message_id: int) -> None:
    chosen = parse_clock(value)
    if chosen is None:
        turn.response.answer = turn.t("errors.stale_button")
        return
    turn.response.replies.append(
        Reply(texts_onboarding.reminder_chosen(chosen, turn.texts), edit=message_id)
    )
    _set_reminder(turn, data, chosen)


async def on_reminder_text(turn: Turn, data: ReminderData, text: str) -> None:
    chosen = parse_clock(text)
    if chosen is None:
        turn.response.add(turn.t("onboarding.reminder_invalid"))
        return
    turn.response.add(texts_onboarding.reminder_chosen(chosen, turn.texts))
    _set_reminder(turn, data, chosen)


def _set_reminder(turn: Turn, data: ReminderData, chosen: time) -> None:
    turn.patient.reminder_time = chosen
    turn.close()
    if data.then == Next.SCHEDULE:
        turn.schedule_next()
        turn.schedule_weekly()
    turn.then(Next(data.then))


# --- Time zone -----------------------------------------------------------------------------------


def ask_zone(turn: Turn, then: Next) -> None:
    turn.open(ZoneData(then=then.value))
    turn.response.add(
        turn.t("onboarding.zone_question"), ask_location=turn.t("onboarding.share_location")
    )


async def on_zone_location(turn: Turn, data: ZoneData, latitude: float, longitude: float) -> None:
    zone = zone_at(latitude, longitude)
    if zone is None:
        turn.response.add(turn.t("onboarding.zone_not_found_location"))
        return
    _confirm(turn, data, zone)


async def on_zone_text(turn: Turn, data: ZoneData, text: str) -> None:
    clock = find_clock_in_text(text) or parse_clock(text)
    matches: list[ZoneMatch]
    if clock is not None:
        matches = zones_for_local_time(
            clock, turn.now, limit=MAX_ZONE_CHOICES, language=turn.texts.language
        )
    else:
        matches = find_zones(text, limit=MAX_ZONE_CHOICES)
    if not matches:
        turn.response.add(turn.t("onboarding.zone_not_found"))
        return
    if len(matches) == 1:
        _confirm(turn, data, matches[0].zone)
        return
    data = turn.save(replace(data, step=ZoneStep.PICK, candidates=tuple(m.zone for m in matches)))
    turn.response.add(*texts_onboarding.zone_pick(data.nonce, matches, turn.texts))


async def on_zone_pick(turn: Turn, data: ZoneData, value: str, message_id: int) -> None:
    index = int(value) if value.isascii() and value.isdigit() and len(value) < 3 else None
    if index is None or index >= len(data.candidates):
        turn.response.answer = turn.t("errors.stale_button")
        return
    zone = data.candidates[index]
    # The choice stays visible on the question once its buttons are gone.
    turn.response.replies.append(
        Reply(texts_onboarding.zone_picked(zone, turn.texts), (), edit=message_id)
    )
    _confirm(turn, data, zone)


def _confirm(turn: Turn, data: ZoneData, zone: str) -> None:
    data = turn.save(replace(data, zone=zone, step=ZoneStep.CONFIRM))
    turn.response.add(*texts_onboarding.zone_confirm(data.nonce, zone, turn.now, turn.texts))


async def on_zone_confirm(turn: Turn, data: ZoneData, value: str, message_id: int) -> None:
    if data.zone is None or data.step != ZoneStep.CONFIRM or value not in ("yes", "no"):
        turn.response.answer = turn.t("errors.stale_button")
        return
    if value == "no":
        turn.response.replies.append(Reply(turn.t("onboarding.zone_try_again"), edit=message_id))
        ask_zone(turn, Next(data.then))
        return
    turn.patient.time_zone = data.zone
    turn.response.replies.append(Reply("", (), edit=message_id, markup_only=True, cleanup=True))
    turn.response.add(
        texts_onboarding.zone_set(data.zone, turn.now, turn.texts), remove_keyboard=True
    )
    turn.close()
    if data.then == Next.SCHEDULE:
        turn.schedule_next()
        turn.schedule_weekly()
    turn.then(Next(data.then))
