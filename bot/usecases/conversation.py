"""The conversation's one router: which handler answers which flow step, command, text, location
or button; what comes after a flow; and the runner that gives each event one database
transaction.

Handlers call the entry points below with plain values and deliver the Response. Nothing here
imports Telegram. Bad input (stale, foreign or forged buttons, text where a number is expected,
commands in the wrong state) gets a short answer and changes nothing. When the event came from
the update inbox, the update is marked applied, with the response, in the same transaction as
its effects: a redelivered update is never applied twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot.context import Services
from bot.domain.flows import CheckinData, Flow, Next
from bot.domain.program import PatientStatus
from bot.domain.signwords import may_be_question, signs_named
from bot.domain.silence import KEY as SILENCE_KEY
from bot.domain.silence import Silence, without_silence
from bot.rendering import status as status_texts
from bot.rendering.buttons import Action, command_button, decode
from bot.rendering.i18n import Texts, pick_language, texts_for
from bot.rendering.replies import Button, Reply, Response, rows
from bot.rendering.verdict_texts import free_text, words_before_start
from bot.usecases import (
    account,
    activities,
    checkin,
    followup,
    guided,
    holds,
    onboarding,
    progress_reports,
    routine,
    schedule,
    screening,
    silence_answers,
)
from bot.usecases.turn import NOTICE_ZONE, Erased, Event, Turn, UnreadableState
from db import inbox, repo

log = logging.getLogger(__name__)


ButtonHandler = Callable[[Turn, Any, str, int], Awaitable[None]]
TextHandler = Callable[[Turn, Any, str], Awaitable[None]]
LocationHandler = Callable[[Turn, Any, float, float], Awaitable[None]]
TurnCommand = Callable[[Turn, str | None], Awaitable[None]]


# --- What answers what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowSpec:
    """A flow's handlers: one per step its buttons name, and its typed-text and location ones."""

    buttons: Mapping[str, ButtonHandler]
    text: TextHandler | None = None
    location: LocationHandler | None = None


def _checkin_step(step: str) -> ButtonHandler:
    async def handle(turn: Turn, data: Any, value: str, message_id: int) -> None:
        await checkin.on_button(turn, data, step, value, message_id)

    return handle


FLOWS: Mapping[Flow, FlowSpec] = {
    Flow.CONSENT: FlowSpec({"consent": onboarding.on_consent}),
    Flow.DURATION: FlowSpec({"duration": onboarding.on_duration}),
    Flow.SCREENING: FlowSpec({"screen": screening.on_toggle, "confirm": screening.on_confirm}),
    Flow.SIDE: FlowSpec(
        {"side": onboarding.on_side, "side_confirm": onboarding.on_side_confirm},
        text=onboarding.on_side_text,
    ),
    Flow.CHECKIN: FlowSpec(
        {step: _checkin_step(step) for step in checkin.STEP_NAMES}, text=checkin.on_text
    ),
    Flow.REMINDER: FlowSpec({"time": schedule.on_reminder_button}, text=schedule.on_reminder_text),
    Flow.ZONE: FlowSpec(
        {"pick": schedule.on_zone_pick, "zone_ok": schedule.on_zone_confirm},
        text=schedule.on_zone_text,
        location=schedule.on_zone_location,
    ),
    Flow.START: FlowSpec({"start": onboarding.on_start_when}),
    Flow.RELEASE: FlowSpec({"seen": holds.on_seen, "signals": holds.on_signals}),
    Flow.RESET: FlowSpec({"reset": account.on_reset}),
    Flow.DELETE: FlowSpec({"delete": account.on_delete}),
    Flow.LANGUAGE: FlowSpec({"lang": account.on_language}),
    Flow.WEEKLY: FlowSpec({"weekly": account.on_weekly_day}),
    Flow.FUNCTION: FlowSpec(
        {"name": activities.on_name, "rate": activities.on_rate}, text=activities.on_text
    ),
    Flow.GUIDED: FlowSpec(
        {"next": guided.on_next, "stop": guided.on_stop, "leave": guided.on_leave},
        text=guided.on_text,
    ),
}


async def _nothing(_turn: Turn) -> None:
    return None


async def _ask_duration(turn: Turn) -> None:
    onboarding.ask_duration(turn, Next.NOTHING)


async def _ask_side(turn: Turn) -> None:
    onboarding.ask_side(turn, Next.NOTHING)


async def _today(turn: Turn) -> None:
    await account.today(turn, None)


# What runs after a flow says "then ...".
CONTINUATIONS: Mapping[Next, Callable[[Turn], Awaitable[None]]] = {
    Next.ONBOARDING: onboarding.resume,
    Next.SCHEDULE: schedule.tell_next_after_release,
    Next.DURATION: _ask_duration,
    Next.SIDE: _ask_side,
    Next.TODAY: _today,
    Next.NOTHING: _nothing,
}


@dataclass(frozen=True)
class Command:
    """One command: its name in each language, what it does, and where it shows.

    Both names work for everyone, whatever their language (an English speaker's /aide gets
    help in English); the menu (setMyCommands per language) and /help show the person's.
    Telegram's rule for a name: 1 to 32 characters among a-z, 0-9 and _.
    """

    name: str  # the English name, also the command's key (texts, buttons)
    fr: str  # the French name
    run: TurnCommand | None  # None: answered without a person (/help, /privacy)
    menu: bool = True  # in Telegram's command menu and in /help
    creates: bool = False  # /start creates the person

    @property
    def names(self) -> tuple[str, ...]:
        """Every name that runs it."""
        return tuple(dict.fromkeys((self.name, self.fr)))

    def name_in(self, language: str) -> str:
        """The name a person speaking ``language`` sees (English for any other language)."""
        return self.fr if language == "fr" else self.name


COMMANDS: tuple[Command, ...] = (
    Command("start", "start", account.start, menu=False, creates=True),  # Telegram's button
    Command("today", "aujourdhui", account.today),
    Command("checkin", "questionnaire", account.checkin_command),
    Command("status", "etat", account.status_command),
    Command("progress", "progres", progress_reports.progress_command),
    Command("report", "rapport", progress_reports.report_command),
    Command("export", "exporter", progress_reports.export_command),
    Command("howto", "exercice", account.howto),
    Command("pause", "pause", account.pause),
    Command("resume", "reprendre", account.resume_command),
    Command("reset", "recommencer", account.reset),
    Command("time", "heure", account.time_command),
    Command("timezone", "fuseau", account.timezone_command),
    Command("side", "jambe", onboarding.side_command),  # the leg with the symptoms
    Command("activities", "activites", activities.activities_command),  # function (PSFS)
    Command("reminders", "rappels", account.reminders),
    Command("weekly", "hebdo", account.weekly),
    Command("language", "langue", account.language),
    Command("help", "aide", None),
    Command("privacy", "confidentialite", None),  # Telegram opens it from the bot's profile
    Command("delete", "supprimer", account.delete),
)
COMMANDS_BY_NAME: Mapping[str, Command] = {name: c for c in COMMANDS for name in c.names}
MENU: tuple[str, ...] = tuple(c.name for c in COMMANDS if c.menu)


def menu_in(language: str) -> list[tuple[str, str]]:
    """The menu for a language: (key, the name shown) of each command, in the menu's order."""
    return [(c.name, c.name_in(language)) for c in COMMANDS if c.menu]


# --- The runner ----------------------------------------------------------------------------------


class AlreadyApplied(Exception):
    """The update was applied before (a redelivery, or another process got there first)."""


async def run(
    services: Services,
    event: Event,
    handler: Callable[[Turn], Awaitable[None]],
    *,
    create: bool = False,
) -> Response:
    """One event for one person, in one transaction, with the update marked applied in it."""
    async with services.sessions() as db:
        outcome = await _apply(services, db, event, handler, create)
        if not outcome.committed:
            try:
                await db.commit()
            except StaleDataError:
                # Another event changed this person first (the dispatcher, a racing press):
                # keep theirs; the person can simply press again.
                await db.rollback()
                return Response(answer=outcome.texts.t("errors.already_recorded"))
    for job in outcome.deferred:
        await job()
    return outcome.response


@dataclass
class _Outcome:
    response: Response
    texts: Texts
    deferred: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    committed: bool = False  # the event ended in a way that committed its own transaction


async def _apply(
    services: Services,
    db: AsyncSession,
    event: Event,
    handler: Callable[[Turn], Awaitable[None]],
    create: bool,
) -> _Outcome:
    """The event's work in ``db``, marked applied; not committed unless the event ended in a
    way that needs its own commit (then ``committed``)."""
    now = services.clock()
    patient = await repo.get_patient(db, event.user_id)
    if patient is None:
        texts = texts_for(pick_language(event.language_code))
        if not create:
            response = Response(answer=texts.t("errors.not_started"))
            response.add(texts.t("errors.not_started"))
            await _mark(db, event, response)
            return _Outcome(response, texts)
        language = pick_language(event.language_code)
        patient = repo.new_patient(db, event.user_id, event.chat_id, now, language)
        await db.flush()
    turn = Turn(db, patient, now, services.settings, texts_for(patient.language))
    turn.offloader = services.offload
    came_back = patient.blocked_at is not None
    if came_back:
        patient.blocked_at = None  # any sign of life: messages may flow again
    if patient.program_state and SILENCE_KEY in patient.program_state:
        # Any sign of life ends a silence (bot.domain.silence): mornings held back restart.
        came_back = came_back or Silence.from_state(patient.program_state).holds_mornings
        patient.program_state = without_silence(patient.program_state)
    try:
        await handler(turn)
        while turn.pending:
            await CONTINUATIONS[turn.pending.pop(0)](turn)
    except Erased:
        await _mark(db, event, turn.response)
        await db.commit()
        return _Outcome(turn.response, turn.texts, committed=True)
    except UnreadableState:
        await db.rollback()
        response = Response().add(
            turn.t("errors.state_unreadable"),
            rows(Button(turn.t("errors.state_unreadable_button"), command_button("reset"))),
        )
        await _mark(db, event, response)
        await db.commit()
        return _Outcome(response, turn.texts, committed=True)
    _notices(turn, came_back)
    await _mark(db, event, turn.response)
    return _Outcome(turn.response, turn.texts, turn.deferred)


async def _mark(db: AsyncSession, event: Event, response: Response) -> None:
    """Mark the event's update applied, with its response (the transaction is left to the
    caller: a redelivered update raises and nothing of it is committed)."""
    if event.update_id is not None and response.storable:
        stored = {**response.to_json(), "route": event.route()}
        if not await inbox.mark_applied(db, event.update_id, stored):
            raise AlreadyApplied


def _notices(turn: Turn, came_back: bool) -> None:
    """One-time notices, before everything else the event answers."""
    patient = turn.patient
    first = []
    if came_back:
        first.append(status_texts.welcome_back(turn.texts))
        if patient.status is PatientStatus.ACTIVE:
            if patient.next_send_at is None or patient.next_send_at <= turn.now:
                turn.schedule_next()
            first.append(
                status_texts.next_routine(patient.next_send_at, turn.zone, turn.now, turn.texts)
            )
    notice = patient.notice
    if notice == NOTICE_ZONE or turn.patient.notice == NOTICE_ZONE:
        patient.notice = None
        turn.response.replies.insert(
            0,
            Response()
            .add(
                turn.t("errors.zone_unknown"),
                rows(Button(turn.t("errors.zone_unknown_button"), command_button("timezone"))),
            )
            .replies[0],
        )
    if first:
        turn.response.replies.insert(0, Response().add("\n".join(first)).replies[0])


# --- Entry points --------------------------------------------------------------------------------


async def on_command(services: Services, event: Event, name: str, args: str | None) -> Response:
    command = COMMANDS_BY_NAME.get(name)
    if command is None or command.run is None:
        return await on_stateless(services, event, command.name if command else "unknown_command")
    run_command = command.run

    async def handle(turn: Turn) -> None:
        # A guided session left half-way is offered once more, before the command's answer.
        await guided.interrupted(turn)
        await run_command(turn, args)

    return await run(services, event, handle, create=command.creates)


async def on_text(services: Services, event: Event, text: str) -> Response:
    """Typed text: words that name a warning sign go straight to the stop-signal question, in
    any state (clinical.md §2); else the open flow's answer, a follow-up's "still there", or
    the kind answer to text the bot cannot use (never "I did not understand" alone)."""
    signs = signs_named(text)
    if signs:
        before_start = await _signs_before_start(services, event, signs)
        if before_start is not None:
            return before_start

    async def handle(turn: Turn) -> None:
        if signs:
            _signs_named(turn, signs)
            return
        data = turn.any_data()
        spec = FLOWS.get(turn.flow) if turn.flow and data is not None else None
        if spec is not None and spec.text is not None:
            sent = len(turn.response.replies)
            await spec.text(turn, data, text)
            if _unchanged(data, turn.any_data()) and may_be_question(text):
                # Not what the step asks for, and perhaps a question: the kind line too.
                kind = free_text(turn.texts, turn.patient.time_zone, short=True)
                turn.response.replies.insert(sent + 1, Reply(kind))
        elif await followup.on_text(turn, text):
            return
        else:
            turn.response.add(free_text(turn.texts, turn.patient.time_zone))

    return await run(services, event, handle)


def _unchanged(before: Any, after: Any) -> bool:
    """The flow did not move (a card sent again as a new message still counts as unmoved)."""
    if isinstance(before, CheckinData) and isinstance(after, CheckinData):
        return replace(before, card=None) == replace(after, card=None)
    return bool(before == after)


async def _signs_before_start(
    services: Services, event: Event, signs: tuple[str, ...]
) -> Response | None:
    """Warning signs named by someone who has not agreed to anything yet (no row, or consent
    not given): nothing is stored, they get the signs and the numbers in their language."""
    async with services.sessions() as db:
        patient = await repo.get_patient(db, event.user_id)
        if patient is not None and patient.consent_at is not None:
            return None
        texts = texts_for(patient.language if patient else pick_language(event.language_code))
        zone = patient.time_zone if patient else None
    return Response().add(words_before_start(signs, texts, zone))


def _signs_named(turn: Turn, signs: tuple[str, ...]) -> None:
    """Before the program exists, the screening's "Is that right?"; after (also paused or on
    hold), the check-in's: confirming gives the verdict a tap on those signs gives."""
    if turn.patient.status is PatientStatus.ONBOARDING:
        screening.ask_words(turn, signs)
    else:
        checkin.confirm_words(turn, signs)


async def on_location(
    services: Services, event: Event, latitude: float, longitude: float
) -> Response:
    async def handle(turn: Turn) -> None:
        data = turn.any_data()
        spec = FLOWS.get(turn.flow) if turn.flow and data is not None else None
        if spec is not None and spec.location is not None:
            await spec.location(turn, data, latitude, longitude)
        else:
            turn.response.add(turn.t("errors.location_unexpected"))

    return await run(services, event, handle)


async def on_button(
    services: Services,
    event: Event,
    message_id: int,
    data: str | None,
    *,
    accessible: bool = True,
) -> Response:
    """A button press on the bot's message ``message_id``; ``accessible`` is False when Telegram
    says that message can no longer be edited (then every answer comes as a new message)."""
    payload = decode(data)
    if payload is None:
        return await on_stateless(services, event, "stale_button", answer_only=True)

    async def handle(turn: Turn) -> None:
        if payload.action is Action.ROUTINE and guided.is_guide(payload.value):
            await guided.start(turn, payload.number, payload.value, message_id)
        elif payload.action is Action.ROUTINE:
            await routine.on_button(turn, payload.number, payload.value, message_id)
        elif payload.action is Action.FOLLOW_UP:
            await followup.on_button(turn, payload.number, payload.value, message_id)
        elif payload.action is Action.HOWTO:
            await routine.howto(turn, payload.number)
        elif payload.action is Action.ACK:
            await account.ack_help(turn)
        elif payload.action is Action.FUNCTION:
            await activities.on_weekly(turn, payload.number, payload.value, message_id)
        elif payload.action is Action.SILENCE:
            await silence_answers.on_button(turn, payload.ref, message_id)
        elif payload.action is Action.COMMAND:
            command = COMMANDS_BY_NAME.get(payload.ref)
            if command is None or command.run is None or command.creates:
                turn.response.answer = turn.t("errors.stale_button")
            else:
                await command.run(turn, None)
        else:
            await _flow_button(turn, payload.ref, payload.value, message_id)
        if not accessible:
            turn.response.without_edits_of(message_id)

    return await run(services, event, handle)


async def _flow_button(turn: Turn, nonce: str, value: str, message_id: int) -> None:
    data = turn.any_data()
    flow = turn.flow
    step, _, answer = value.partition(":")
    spec = FLOWS.get(flow) if flow is not None else None
    if data is None or spec is None or data.nonce != nonce or step not in spec.buttons:
        turn.response.answer = turn.t("errors.stale_button")
        return
    await spec.buttons[step](turn, data, answer, message_id)


async def on_member(services: Services, event: Event, blocked: bool) -> Response:
    """The person blocked the bot, or came back (Telegram's my_chat_member update)."""
    if blocked:
        await on_blocked(services, event.user_id)
        return Response()

    async def handle(turn: Turn) -> None:
        return None  # the runner says welcome back to a person who was blocked

    async with services.sessions() as db:
        if await repo.get_patient(db, event.user_id) is None:
            return Response()
    return await run(services, event, handle)


async def on_blocked(services: Services, user_id: int) -> None:
    """The person blocked the bot (or a send found the chat gone): no more messages to them."""
    async with services.sessions() as db:
        await repo.mark_blocked(db, user_id, services.clock())
        await db.commit()


async def on_stateless(
    services: Services, event: Event, key: str, *, answer_only: bool = False
) -> Response:
    """A short fixed answer in the person's language (help, stickers, edits, groups...)."""
    texts = await language_of(services, event)
    if key == "help":
        return Response().add(status_texts.help_text(menu_in(texts.language), texts))
    if key == "privacy":
        settings = services.settings
        return Response().add(
            status_texts.privacy_text(
                settings.inbox_retention_hours, settings.privacy_contact, texts
            )
        )
    text = texts.t(f"errors.{key}")
    if answer_only:
        return Response(answer=text)
    return Response(answer=text).add(text)


async def language_of(services: Services, event: Event) -> Texts:
    """The person's language; and, since this is a sign of life too (/help, a sticker, an
    edit...), the end of a silence (bot.domain.silence): mornings held back restart."""
    async with services.sessions() as db:
        patient = await repo.get_patient(db, event.user_id)
        if patient is not None and patient.program_state and SILENCE_KEY in patient.program_state:
            patient.program_state = without_silence(patient.program_state)
            try:
                await db.commit()
            except StaleDataError:
                await db.rollback()  # another event changed them first: it ended it too
    return texts_for(patient.language if patient else pick_language(event.language_code))


async def remember(services: Services, user_id: int, tag: str, message_id: int) -> None:
    """Store the id of a message the use case asked to track (see Reply.track)."""
    kind, _, ref = tag.partition(":")
    async with services.sessions() as db:
        if kind == "card":
            await repo.set_card(db, user_id, ref, message_id)
        elif kind == "session" and ref.isascii() and ref.isdigit():
            patient = await repo.get_patient(db, user_id)
            if patient is not None:
                await repo.set_session_message(db, int(ref), patient.id, message_id)
        try:
            await db.commit()
        except StaleDataError:
            await db.rollback()
