"""Dispatcher test helpers: a bot without polling, and people written straight to the db."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import build_application
from bot.context import BotApplication, Services
from bot.domain.program import PatientStatus, start_program
from bot.domain.silence import without_silence
from bot.domain.timing import first_send_at
from bot.rendering.i18n import texts_for
from bot.telegram.ratelimit import RateLimiter
from bot.usecases.morning import DispatchReport, dispatch_once
from db import repo
from db.migrate import upgrade
from db.models import DailySession, Patient
from tests.support.botapi import BotApiServer, SentMessage
from tests.support.harness import FakeClock, make_settings


@dataclass
class Env:
    server: BotApiServer
    app: BotApplication
    services: Services
    clock: FakeClock
    sleeps: list[float] = field(default_factory=list)

    async def dispatch(self, now: datetime | None = None) -> DispatchReport:
        if now is not None:
            self.clock.set(now)
        return await dispatch_once(self.services, self.clock())

    def text(self, key: str, **params: object) -> str:
        return texts_for("en").t(key, **params)

    def routines(self, chat_id: int) -> list[SentMessage]:
        """The routine messages a chat received (the ones carrying Done / Not today / Stop)."""
        nudge = self.text("dispatch.nudge")
        return [m for m in self.server.messages(chat_id) if "Done" in m.buttons and m.html != nudge]

    def nudges(self, chat_id: int) -> list[SentMessage]:
        nudge = self.text("dispatch.nudge")
        return [m for m in self.server.messages(chat_id) if m.html == nudge]

    async def answer(self, chat_id: int) -> None:
        """The person wrote or tapped something: as any event does, it ends a silence (the
        dispatcher otherwise asks after three silent mornings and stops after a week)."""
        async with self.services.sessions() as db, db.begin():
            person = await repo.get_patient(db, chat_id)
            assert person is not None
            person.program_state = without_silence(person.program_state or {})

    async def patient(self, patient_id: int) -> Patient:
        async with self.services.sessions() as db:
            found = await db.get(Patient, patient_id)
            assert found is not None
            return found

    async def sessions(self, patient_id: int) -> list[DailySession]:
        async with self.services.sessions() as db:
            return await repo.sessions_of(db, patient_id, 1)

    async def add_person(
        self,
        user_id: int,
        *,
        zone: str = "Europe/Paris",
        at: time = time(8, 0),
        status: PatientStatus = PatientStatus.ACTIVE,
        **fields: Any,
    ) -> int:
        """An active person set up now, as onboarding would leave them."""
        now = self.clock()
        async with self.services.sessions() as db, db.begin():
            person = repo.new_patient(db, user_id, user_id, now, "en")
            person.status = status
            person.time_zone = zone
            person.reminder_time = at
            person.consent_at = now
            person.program_state = start_program().to_json()
            person.program_started_on = now.date()
            person.next_send_at = first_send_at(at, ZoneInfo(zone), now, start_today=True)
            for name, value in fields.items():
                setattr(person, name, value)
        return person.id


@asynccontextmanager
async def dispatch_env(
    database_url: str, clock: FakeClock | None = None, **settings: Any
) -> AsyncIterator[Env]:
    """The real Application (rate limiter, defaults, content) with no polling and no job."""
    clock = clock or FakeClock()
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        # Record the wait instead of sleeping through it (no timed tests).
        sleeps.append(seconds)

    limiter = RateLimiter(enabled=False, sleep=fake_sleep, jitter=lambda: 0.0)
    async with BotApiServer(record_requests=False) as server:
        app, services = build_application(
            make_settings(database_url, server.base_url, **settings),
            clock=clock,
            rate_limiter=limiter,
        )
        await upgrade(services.engine)
        try:
            async with app:
                yield Env(server, app, services, clock, sleeps)
            assert server.violations == [], server.violations
        finally:
            await services.engine.dispose()


def local(day: date, at: time, zone: str) -> datetime:
    """An existing local wall time as an aware datetime (test oracle, not the code under test)."""
    value = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    assert value.astimezone(ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).time() == at
    return value
