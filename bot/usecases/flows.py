"""The per-person turn: database session, person, clock and texts, plus flow bookkeeping.

A *flow* is a multi-step exchange (onboarding, a check-in, a confirmation). Its name and
answers live on the patient row (``flow``, ``flow_data``) so a restart loses nothing, and each
flow has a nonce that its buttons carry: a press from an older flow is recognised as stale.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import flow_button
from bot.config import Settings
from bot.content import Catalogue, Content
from bot.domain.program import ProgramState, ProgramStatus
from bot.domain.timing import local_date, next_send_at
from bot.replies import Button, Outcome
from bot.usecases.routine import program_state
from db.models import Patient, PatientStatus

# flow_data keys that outlive any one flow.
HOLD_TEXT = "hold_text"  # the emergency/urgent advice, shown again unchanged until confirmed
KEEP_KEYS = (HOLD_TEXT,)

_PROGRAM_TO_PATIENT = {
    ProgramStatus.ACTIVE: PatientStatus.ACTIVE,
    ProgramStatus.PAUSED: PatientStatus.PAUSED,
    ProgramStatus.SAFETY_HOLD: PatientStatus.SAFETY_HOLD,
}


@dataclass
class Turn:
    """Everything one event needs."""

    db: AsyncSession
    patient: Patient
    now: datetime
    content: Content
    settings: Settings
    outcome: Outcome = field(default_factory=Outcome)

    @property
    def cat(self) -> Catalogue:
        return self.content.catalogue

    def t(self, key: str, /, **params: object) -> str:
        return self.cat.text(key, **params)

    # Flows

    @property
    def flow(self) -> str | None:
        return self.patient.flow

    @property
    def data(self) -> dict[str, Any]:
        return self.patient.flow_data or {}

    def start_flow(self, name: str | None, **data: Any) -> str:
        """Begin a flow with a fresh nonce (older buttons become stale); returns the nonce."""
        kept = {k: v for k, v in self.data.items() if k in KEEP_KEYS}
        nonce = secrets.token_urlsafe(6)
        self.patient.flow = name
        self.patient.flow_data = {**kept, **data, "nonce": nonce} if name else kept
        self.touch()
        return nonce

    def end_flow(self) -> None:
        self.start_flow(None)

    def update_flow(self, **changes: Any) -> None:
        # Assign a new dict: SQLAlchemy does not see in-place changes to a JSON column.
        self.patient.flow_data = {**self.data, **changes}
        self.touch()

    def set_kept(self, key: str, value: Any) -> None:
        data = {**self.data}
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
        self.patient.flow_data = data
        self.touch()

    @property
    def nonce(self) -> str:
        return str(self.data.get("nonce", ""))

    def button(self, label: str, value: str) -> Button:
        return Button(label, flow_button(self.nonce, value))

    def touch(self) -> None:
        self.patient.updated_at = self.now

    # Program and schedule

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.patient.time_zone or self.settings.default_time_zone)

    @property
    def today(self) -> date:
        return local_date(self.now, self.zone)

    @property
    def state(self) -> ProgramState:
        return program_state(self.patient)

    def save_state(self, state: ProgramState) -> None:
        """Store the program state; keep the patient status (what the dispatcher reads) in step."""
        self.patient.program_state = state.to_json()
        status = _PROGRAM_TO_PATIENT[state.status]
        self.patient.status = status
        if status is not PatientStatus.ACTIVE:
            self.patient.nudge_at = None
            if status == PatientStatus.SAFETY_HOLD or self.patient.paused_until is None:
                self.patient.next_send_at = None
        self.touch()

    def schedule_next(self) -> None:
        """The next morning's send, from now (today's has been sent or is not wanted)."""
        if self.patient.reminder_time is None or self.patient.status != PatientStatus.ACTIVE:
            self.patient.next_send_at = None
            return
        self.patient.next_send_at = next_send_at(self.patient.reminder_time, self.zone, self.now)

    def set_status(self, state: ProgramState, status: ProgramStatus) -> ProgramState:
        new_state = replace(state, status=status)
        self.save_state(new_state)
        return new_state
