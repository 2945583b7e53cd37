"""One event for one person: the database session, the person, the clock, their texts, the
response being built, and the bookkeeping of flows, program state and schedule."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.flows import FLOW_DATA, Flow, FlowData, Next
from bot.domain.morning import next_morning, parse_zone, stored_state
from bot.domain.program import PatientStatus, ProgramState
from bot.domain.timing import local_date, weekly_send_at, weekly_weekday
from bot.rendering.buttons import flow_button
from bot.rendering.i18n import Texts
from bot.rendering.replies import Button, Response
from db import inbox, repo
from db.models import Patient

log = logging.getLogger(__name__)

D = TypeVar("D", bound=FlowData)
T = TypeVar("T")

# One-time notices shown before the next reply (patients.notice).
NOTICE_ZONE = "zone_unknown"


@dataclass(frozen=True, slots=True)
class Event:
    """Who an event comes from, and which update carried it (None outside the inbox)."""

    user_id: int
    chat_id: int
    update_id: int | None = None
    language_code: str | None = None  # Telegram's, used when a person is created
    query_id: str | None = None  # the button press to answer
    private: bool = True

    def route(self) -> dict[str, Any]:
        """Where the response goes, stored with it so a replay can deliver it."""
        return {
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "query_id": self.query_id,
            "private": self.private,
        }


class Erased(Exception):
    """The person's rows were erased during this event (/delete, or consent declined)."""


class UnreadableState(Exception):
    """The stored program state cannot be read (reported once, the person is offered /reset)."""


_REPORTED_STATES: set[int] = set()


def program_state(patient: Patient) -> ProgramState:
    """The stored program with the person's status (a person who never started gets day 1)."""
    try:
        return stored_state(patient.program_state, PatientStatus(patient.status))
    except ValueError:
        report_unreadable_state(patient.id)
        raise UnreadableState from None


def report_unreadable_state(patient_id: int) -> None:
    """Log an unreadable program state once per person (the internal id, never the state)."""
    if patient_id not in _REPORTED_STATES:
        _REPORTED_STATES.add(patient_id)
        log.warning("Patient %d: the stored program state cannot be read", patient_id)


class Zoned(Protocol):
    """A person with a stored time zone (a Patient row, or the dispatcher's claimed row)."""

    @property
    def id(self) -> int: ...
    @property
    def time_zone(self) -> str | None: ...


def zone_of(person: Zoned, default: str) -> ZoneInfo:
    """The person's zone; an unknown stored name falls back to ``default`` (and is logged)."""
    zone, known = parse_zone(person.time_zone, default)
    if not known:
        log.warning("Patient %d: unknown time zone; using %s", person.id, default)
    return zone


@dataclass
class Turn:
    """Everything one event needs, and what it answers."""

    db: AsyncSession
    patient: Patient
    now: datetime
    settings: Settings
    texts: Texts
    response: Response = field(default_factory=Response)
    # Continuations to run after the current handler (see conversation.CONTINUATIONS).
    pending: list[Next] = field(default_factory=list)
    # Work that adds replies once the transaction is committed (drawing a chart, a PDF).
    deferred: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    offloader: Callable[..., Awaitable[Any]] | None = None

    def t(self, key: str, /, **params: object) -> str:
        return self.texts.t(key, **params)

    # --- Flows -----------------------------------------------------------------------------

    @property
    def flow(self) -> Flow | None:
        try:
            return Flow(self.patient.flow) if self.patient.flow else None
        except ValueError:
            return None

    def data(self, cls: type[D]) -> D | None:
        """The open flow's data if the open flow is ``cls``'s (None if unreadable)."""
        if self.patient.flow != cls.flow:
            return None
        try:
            return cls.from_json(dict(self.patient.flow_data or {}))
        except (TypeError, ValueError):
            return None

    def any_data(self) -> FlowData | None:
        flow = self.flow
        if flow is None:
            return None
        return self.data(FLOW_DATA[flow])

    def open(self, data: D) -> D:
        """Open a flow (older buttons become stale: the data carries a fresh nonce)."""
        self.patient.flow = data.flow.value
        self.patient.flow_data = data.to_json()
        self.touch()
        return data

    def save(self, data: D) -> D:
        """Store the open flow's changed data (same nonce)."""
        return self.open(data)

    def close(self) -> None:
        self.patient.flow = None
        self.patient.flow_data = {}
        self.touch()

    def then(self, step: Next | str) -> None:
        """Run a continuation once the current handler is done."""
        self.pending.append(Next(step))

    def later(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` after the transaction (it may add replies; it must not touch the db)."""
        self.deferred.append(job)

    async def offload(self, function: Callable[..., T], *args: Any) -> T:
        """Run CPU-heavy ``function`` off the event loop (a worker process)."""
        if self.offloader is None:
            return function(*args)
        result: T = await self.offloader(function, *args)
        return result

    def button(self, data: FlowData, label: str, value: str) -> Button:
        return Button(label, flow_button(data.nonce, value))

    def touch(self) -> None:
        self.patient.updated_at = self.now

    # --- Time ------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        zone = zone_of(self.patient, self.settings.default_time_zone)
        if self.patient.time_zone and zone.key != self.patient.time_zone:
            # Forget the unreadable name and ask the person once to set their zone again.
            self.patient.time_zone = None
            self.patient.notice = NOTICE_ZONE
        return zone

    @property
    def zone_name(self) -> str:
        return self.zone.key

    @property
    def today(self) -> date:
        return local_date(self.now, self.zone)

    # --- Program and schedule --------------------------------------------------------------

    @property
    def state(self) -> ProgramState:
        return program_state(self.patient)

    def save_state(self, state: ProgramState) -> None:
        """Store the program and its status (the status column is the one source of truth);
        a program that is not active has no nudge, and no send unless a pause has an end."""
        self.patient.program_state = state.to_json()
        self.patient.status = state.status
        if state.status is not PatientStatus.ACTIVE:
            self.patient.nudge_at = None
            if state.status is PatientStatus.SAFETY_HOLD or self.patient.paused_until is None:
                self.patient.next_send_at = None
        self.touch()

    def schedule_next(self) -> None:
        """The next morning's send, strictly after now (today's was sent, or is not wanted);
        during a pause with an end, the morning it ends."""
        patient = self.patient
        reminder = patient.reminder_time
        patient.next_send_at = (
            None
            if reminder is None
            else next_morning(
                reminder, self.zone, self.now, PatientStatus(patient.status), patient.paused_until
            )
        )

    @property
    def onboarded(self) -> bool:
        return self.patient.status in (PatientStatus.ACTIVE, PatientStatus.PAUSED) or (
            self.patient.status is PatientStatus.SAFETY_HOLD
            and self.patient.program_started_on is not None
        )

    def schedule_weekly(self) -> None:
        """The next weekly look back, at the routine time on the chosen (or default) day."""
        patient = self.patient
        if not patient.weekly_enabled or patient.reminder_time is None:
            patient.next_weekly_at = None
            return
        weekday = weekly_weekday(patient.weekly_weekday, patient.program_started_on, self.today)
        patient.next_weekly_at = weekly_send_at(weekday, patient.reminder_time, self.zone, self.now)

    async def erase(self) -> None:
        """Erase every row about the person, then end the event."""
        patient_id, person_key = self.patient.id, self.patient.telegram_user_id
        self.db.expunge(self.patient)
        await repo.delete_patient(self.db, patient_id)
        await inbox.erase_person(self.db, person_key)
        raise Erased
