"""The use cases offline: Services on a real (migrated) database, no HTTP and no Application.

A ``Person`` calls the conversation's entry points with plain values and keeps the chat as a
list of messages, applying edits and handing tracked message ids back, as the real delivery
does (bot/telegram/delivery.py, bot/runtime/respond.py), so flows behave as they do live.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from bot.config import Settings
from bot.context import Services
from bot.rendering.replies import Keyboard, Reply, Response
from bot.usecases import conversation
from bot.usecases.turn import Event
from db import repo
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.models import Base, Patient
from tests.support.harness import FakeClock

USER = 1001
# Every table that holds something about a person (what /delete erases, what /export shows).
PERSON_TABLES = ("patients", "daily_sessions", "symptom_reports", "safety_events")


def offline_settings(database_url: str, **extra: Any) -> Settings:
    """Settings from code only (no .env from the developer's machine)."""
    return Settings(
        database_url=database_url,
        rate_limit=False,
        _env_file=None,
        **extra,
    )


@asynccontextmanager
async def offline_services(
    database_url: str, clock: FakeClock, *, migrate: bool = True, **settings: Any
) -> AsyncIterator[Services]:
    """Services on a migrated database (``migrate=False``: it already is), with the fake clock
    and no offloading (drawing, if any, runs inline)."""
    engine = create_engine(database_url)
    if migrate:
        await upgrade(engine)
    try:
        yield Services(
            settings=offline_settings(database_url, **settings),
            engine=engine,
            sessions=create_session_factory(engine),
            clock=clock,
        )
    finally:
        await engine.dispose()


def migrated_sqlite(path: Path) -> Path:
    """Create and migrate an SQLite file once (tests copy it instead of migrating each time)."""

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()  # the last connection folds the WAL back into the file

    asyncio.run(build())
    return path


async def stored_rows(services: Services) -> dict[str, list[dict[str, Any]]]:
    """Every row of the person tables, as plain dicts in primary-key order (to compare)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with services.sessions() as db:
        for name in PERSON_TABLES:
            table: Table = Base.metadata.tables[name]
            result = await db.execute(select(table).order_by(*table.primary_key.columns))
            rows[name] = [dict(row._mapping) for row in result]
    return rows


@dataclass
class Message:
    """One message in the chat as the person sees it now (after any edits)."""

    id: int
    text: str
    buttons: Keyboard = ()

    @property
    def labels(self) -> list[str]:
        return [button.label for row in self.buttons for button in row]

    def data_of(self, label: str) -> str:
        for row in self.buttons:
            for button in row:
                if button.label == label:
                    return button.data
        raise KeyError(label)


@dataclass
class Person:
    """One person talking to the bot through the use cases."""

    services: Services
    user_id: int = USER
    chat_id: int | None = None
    language_code: str | None = "en"
    messages: list[Message] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    _next_id: int = 1

    @property
    def event(self) -> Event:
        chat = self.chat_id if self.chat_id is not None else self.user_id
        return Event(self.user_id, chat, language_code=self.language_code)

    # --- What the person does --------------------------------------------------------------

    async def send(self, text: str) -> Response:
        """A command (``/pause 3``) or a typed text."""
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            response = await conversation.on_command(
                self.services, self.event, name, args.strip() or None
            )
        else:
            response = await conversation.on_text(self.services, self.event, text)
        return await self._deliver(response)

    async def press(self, label: str) -> Response:
        """Press the button with this label on the latest message that shows one."""
        for message in reversed(self.messages):
            if label in message.labels:
                return await self.press_data(message.data_of(label), message.id)
        shown = [m.labels for m in self.messages if m.labels]
        raise AssertionError(f"no button {label!r} in the chat; buttons shown: {shown}")

    async def press_data(self, data: str | None, message_id: int | None = None) -> Response:
        """Press a button carrying ``data`` (forged or stale data too) on ``message_id``."""
        target = message_id if message_id is not None else (self.last.id if self.messages else 1)
        response = await conversation.on_button(self.services, self.event, target, data)
        return await self._deliver(response)

    async def share_location(self, latitude: float, longitude: float) -> Response:
        response = await conversation.on_location(self.services, self.event, latitude, longitude)
        return await self._deliver(response)

    # --- What the person sees --------------------------------------------------------------

    @property
    def last(self) -> Message:
        assert self.messages, "the bot has sent nothing"
        return self.messages[-1]

    @property
    def last_text(self) -> str:
        return self.last.text

    def message(self, message_id: int) -> Message:
        """A message by its id, as it shows now."""
        return next(m for m in self.messages if m.id == message_id)

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]

    @property
    def last_answer(self) -> str | None:
        """The toast that answered the latest button press (None: answered silently)."""
        return self.responses[-1].answer if self.responses else None

    def button_data(self, label: str) -> tuple[str, int]:
        """The callback data of the newest button with this label, and its message id."""
        for message in reversed(self.messages):
            if label in message.labels:
                return message.data_of(label), message.id
        raise AssertionError(f"no button {label!r} in the chat")

    async def row(self) -> Patient | None:
        """The person's stored row, read afresh."""
        async with self.services.sessions() as db:
            return await repo.get_patient(db, self.user_id)

    async def stored(self) -> Patient:
        patient = await self.row()
        assert patient is not None, "the person is not stored"
        return patient

    # --- Common walks ----------------------------------------------------------------------

    async def onboard(
        self,
        *,
        duration: str = "2 to 6 weeks",
        side: str = "Right leg",
        baseline: tuple[int, int, int] = (5, 2, 3),
        extent: str = "Thigh, above the knee",
        start: str = "Start now",
    ) -> None:
        """Onboarding with no warning sign, a routine at 08:00 in Paris."""
        await self.send("/start")
        await self.press("Yes, store my answers")
        await self.press(duration)
        await self.press("None of these")
        await self.press(side)
        for value in baseline:
            await self.press(str(value))
        await self.press(extent)
        await self.press("Skip")  # no everyday activities (PSFS)
        await self.press("08:00")
        await self.send("Europe/Paris")
        await self.press("Yes, that is right")
        await self.press(start)

    async def check_in(
        self, pain: int, numbness: int, tingling: int, extent: str, *signals: str
    ) -> None:
        """Answer an open check-in card (its ratings, then the signs, confirmed if asked)."""
        for value in (pain, numbness, tingling):
            await self.press(str(value))
        await self.press(extent)
        for signal in signals:
            await self.press(signal)
        await self.press("Continue" if signals else "None of these")
        if "Is that right?" in self.last_text:
            await self.press("Yes, that is right")

    # --- Delivery, as the real one does it in a private chat -------------------------------

    async def _deliver(self, response: Response) -> Response:
        self.responses.append(response)
        for reply in response.replies:
            message_id = self._show(reply)
            if reply.track and message_id is not None:
                await conversation.remember(self.services, self.user_id, reply.track, message_id)
        return response

    def _show(self, reply: Reply) -> int | None:
        if reply.upload is None and reply.edit is not None:
            shown = next((m for m in self.messages if m.id == reply.edit), None)
            if shown is not None:
                shown.buttons = reply.buttons
                if not reply.markup_only:
                    shown.text = reply.text
                return shown.id
            if reply.cleanup or reply.markup_only:
                return None  # the message to tidy is gone: nothing to send
        message = Message(self._next_id, reply.text, reply.buttons)
        self._next_id += 1
        self.messages.append(message)
        return message.id
