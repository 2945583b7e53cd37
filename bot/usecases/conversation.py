"""The conversation's entry points: one database transaction per event, routed by the flow.

Handlers call these with plain values and render the Outcome. Nothing here imports Telegram.
Bad input (stale, foreign or forged buttons, text where a number is expected, commands in the
wrong state) gets a short answer and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.orm.exc import StaleDataError

from bot.callbacks import Action, decode
from bot.replies import Outcome, Reply
from bot.services import Services
from bot.usecases import checkin, commands, onboarding
from bot.usecases.flows import Turn
from bot.usecases.routine import ROUTINE_VALUES
from db import repo
from db.models import PatientStatus

log = logging.getLogger(__name__)

Handler = Callable[[Turn], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Sender:
    user_id: int
    chat_id: int


class _Deleted(Exception):
    """The person's rows were erased during this event."""


async def _run(
    services: Services, who: Sender, handler: Handler, *, create: bool = False
) -> Outcome:
    now = services.clock()
    cat = services.content.catalogue
    async with services.sessions() as db:
        patient = await repo.get_patient(db, who.user_id)
        if patient is None:
            if not create:
                return Outcome(answer=cat.text("errors.not_started")).add(
                    cat.text("errors.not_started")
                )
            patient = repo.new_patient(db, who.user_id, who.chat_id, now)
            await db.flush()
        turn = Turn(db, patient, now, services.content, services.settings)
        try:
            await handler(turn)
        except _Deleted:
            await db.commit()
            return turn.outcome
        try:
            await db.commit()
        except StaleDataError:
            # Another event changed this person first (two racing presses): keep theirs.
            await db.rollback()
            return Outcome(answer=cat.text("errors.already_recorded"))
        return turn.outcome


async def _erase(turn: Turn) -> None:
    patient_id = turn.patient.id
    turn.db.expunge(turn.patient)
    await repo.delete_patient(turn.db, patient_id)
    raise _Deleted


# Commands

ONBOARDED_COMMANDS = frozenset(
    {"today", "checkin", "status", "pause", "resume", "reset", "time", "timezone", "delete"}
)


async def on_command(
    services: Services, who: Sender, command: str, argument: str | None
) -> Outcome:
    cat = services.content.catalogue
    if command == "help":
        return Outcome().add(cat.text("help.text"))
    if command == "start":
        return await _run(services, who, _start, create=True)
    if command not in ONBOARDED_COMMANDS:
        return Outcome().add(cat.text("errors.unknown_command"))

    async def handle(turn: Turn) -> None:
        if command == "delete":
            commands.ask_delete(turn)
        elif turn.patient.status == PatientStatus.ONBOARDING and command != "delete":
            turn.outcome.add(turn.t("errors.finish_onboarding"))
        elif command == "today":
            await commands.today(turn)
        elif command == "checkin":
            commands.start_checkin(turn)
        elif command == "status":
            await commands.status(turn)
        elif command == "pause":
            commands.pause(turn, argument)
        elif command == "resume":
            commands.resume_program(turn)
        elif command == "reset":
            commands.ask_reset(turn)
        elif command == "time":
            onboarding.ask_reminder(turn, then="settings")
        elif command == "timezone":
            onboarding.ask_zone(turn, then="settings")

    return await _run(services, who, handle)


async def _start(turn: Turn) -> None:
    patient = turn.patient
    if patient.blocked_at is not None:
        patient.blocked_at = None  # they came back: messages may flow again
    if patient.status == PatientStatus.SAFETY_HOLD:
        commands.show_hold(turn)
        return
    if patient.status in (PatientStatus.ACTIVE, PatientStatus.PAUSED):
        turn.outcome.add(turn.t("welcome.back"))
        await commands.status(turn)
        return
    # Still onboarding: pick up where they left off.
    flow = turn.flow
    if patient.consent_at is None or flow in (None, "consent"):
        onboarding.welcome(turn)
    elif flow == "screening":
        onboarding.ask_screening(turn)
    elif flow == "soon_wait":
        onboarding.remind_soon(turn)
    elif flow == checkin.FLOW:
        onboarding.ask_baseline(turn)
    elif flow == "reminder" or patient.reminder_time is None:
        onboarding.ask_reminder(turn, then="onboarding")
    elif flow == "zone" or patient.time_zone is None:
        onboarding.ask_zone(turn, then="onboarding")
    else:
        onboarding.ask_start(turn)


# Text and locations


async def on_text(services: Services, who: Sender, text: str) -> Outcome:
    async def handle(turn: Turn) -> None:
        flow = turn.flow
        if flow == checkin.FLOW:
            await checkin.on_text(turn, text)
        elif flow == "reminder":
            onboarding.on_reminder_text(turn, text)
        elif flow == "zone":
            onboarding.on_zone_text(turn, text)
        else:
            turn.outcome.add(turn.t("errors.free_text"))

    return await _run(services, who, handle)


async def on_location(
    services: Services, who: Sender, latitude: float, longitude: float
) -> Outcome:
    async def handle(turn: Turn) -> None:
        if turn.flow == "zone":
            onboarding.on_zone_location(turn, latitude, longitude)
        else:
            turn.outcome.add(turn.t("errors.location_unexpected"))

    return await _run(services, who, handle)


# Buttons


async def on_button(services: Services, who: Sender, message_id: int, data: str | None) -> Outcome:
    cat = services.content.catalogue
    payload = decode(data)
    if payload is None:
        return Outcome(answer=cat.text("errors.stale_button"))

    async def handle(turn: Turn) -> None:
        if payload.action == Action.ROUTINE:
            await _routine_button(turn, int(payload.ref), payload.value, message_id)
            return
        if payload.ref != turn.nonce or ":" not in payload.value:
            turn.outcome.answer = turn.t("errors.stale_button")
            return
        step, value = payload.value.split(":", 1)
        await _flow_button(turn, step, value, message_id)

    return await _run(services, who, handle)


async def _routine_button(turn: Turn, session_id: int, value: str, message_id: int) -> None:
    session = await repo.get_session(turn.db, session_id)
    if session is None or value not in ROUTINE_VALUES:
        turn.outcome.answer = turn.t("errors.stale_button")
        return
    if session.patient_id != turn.patient.id:
        turn.outcome.answer = turn.t("errors.not_yours")
        return
    if session.outcome is not None:
        turn.outcome.answer = turn.t("errors.already_recorded")
        return
    if session.program_epoch != turn.patient.program_epoch or session.local_date != turn.today:
        turn.outcome.answer = turn.t("errors.old_routine")
        return
    if turn.patient.status != PatientStatus.ACTIVE:
        turn.outcome.answer = turn.t("errors.not_now")
        commands.refuse_if_not_active(turn)
        return
    await commands.on_routine_button(turn, session, value, message_id)


async def _flow_button(turn: Turn, step: str, value: str, message_id: int) -> None:
    flow = turn.flow
    if flow == "consent" and step == "consent":
        if not await onboarding.on_consent(turn, value, message_id):
            await _erase(turn)
    elif flow == "screening" and step == "screen":
        onboarding.on_screening(turn, value, message_id)
    elif flow == "soon_wait" and step == "soon":
        onboarding.on_soon(turn, value, message_id)
    elif flow == checkin.FLOW and step == turn.data.get("step"):
        await checkin.on_button(turn, step, value, message_id)
    elif flow == "reminder" and step == "time":
        onboarding.on_reminder_button(turn, value, message_id)
    elif flow == "zone" and step == "pick":
        onboarding.on_zone_pick(turn, value, message_id)
    elif flow == "zone" and step == "zone_ok":
        onboarding.on_zone_confirm(turn, value, message_id)
    elif flow == "start_when" and step == "start":
        await onboarding.on_start_when(turn, value, message_id)
    elif flow == "hold" and step == "hold" and value == "seen":
        await commands.on_hold_confirmed(turn, message_id)
    elif flow == "confirm_reset" and step == "reset":
        commands.on_reset(turn, value, message_id)
    elif flow == "confirm_delete" and step == "delete":
        await _on_delete(turn, value, message_id)
    else:
        turn.outcome.answer = turn.t("errors.already_recorded")


async def _on_delete(turn: Turn, value: str, message_id: int) -> None:
    if value != "yes":
        turn.end_flow()
        turn.outcome.replies.append(Reply(turn.t("delete.cancelled"), edit=message_id))
        return
    turn.outcome.replies.append(Reply(turn.t("delete.done"), edit=message_id))
    await _erase(turn)


# Bookkeeping after sending


async def remember(services: Services, user_id: int, tag: str, message_id: int) -> None:
    """Store the id of a message the use case asked to track (see Reply.track)."""
    async with services.sessions() as db:
        patient = await repo.get_patient(db, user_id)
        if patient is None:
            return
        if tag == "card":
            patient.flow_data = {**(patient.flow_data or {}), "mid": message_id}
        elif tag.startswith("session:"):
            await repo.set_session_message(db, int(tag.split(":", 1)[1]), patient.id, message_id)
        try:
            await db.commit()
        except StaleDataError:
            await db.rollback()


async def on_blocked(services: Services, user_id: int) -> None:
    """The person blocked the bot (or a send was Forbidden): no more messages to them."""
    async with services.sessions() as db:
        await repo.mark_blocked(db, user_id, services.clock())
        await db.commit()
