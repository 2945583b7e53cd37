"""Everything stored about each person, to prove that what one person did changed nobody else
(and, for bad input, not them either)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import repo
from db.models import DailySession, Patient, SafetyEvent, SymptomReport

PersonRows = tuple[Any, ...]


def _values(row: object) -> tuple[Any, ...]:
    table = row.__table__  # type: ignore[attr-defined]
    return tuple(getattr(row, column.key) for column in table.columns)


async def person_rows(db: AsyncSession, patient: Patient) -> PersonRows:
    """The person's row and every row that belongs to them, column by column, in id order."""
    children = []
    for model in (DailySession, SymptomReport, SafetyEvent):
        found = await db.execute(
            select(model).where(model.patient_id == patient.id).order_by(model.id)
        )
        children.append(tuple(_values(row) for row in found.scalars()))
    return (_values(patient), *children)


async def everyone(sessions: async_sessionmaker[AsyncSession]) -> dict[int, PersonRows]:
    """Each stored person's rows, by Telegram user id."""
    async with sessions() as db:
        people = (await db.execute(select(Patient).order_by(Patient.id))).scalars().all()
        return {p.telegram_user_id: await person_rows(db, p) for p in people}


def changed_people(before: dict[int, PersonRows], after: dict[int, PersonRows]) -> set[int]:
    """The user ids whose rows differ (appeared, disappeared or changed)."""
    return {user for user in before.keys() | after.keys() if before.get(user) != after.get(user)}


CREATED = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


async def add_person(
    sessions: async_sessionmaker[AsyncSession], user_id: int, **fields: object
) -> int:
    """Store a person (chat id user_id + 1, with ``fields`` set on the row); return their id."""
    async with sessions() as db:
        patient = repo.new_patient(db, user_id, user_id + 1, CREATED, "en")
        for name, value in fields.items():
            setattr(patient, name, value)
        await db.commit()
        return patient.id
