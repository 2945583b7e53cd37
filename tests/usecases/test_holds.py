"""Safety holds offline: the release step's rules with the clock moved (clinical.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.context import Services
from bot.domain.flows import Flow
from bot.domain.program import PatientStatus
from bot.rendering.buttons import ack_button
from db import repo
from db.models import ReportKind, SafetyEvent
from tests.support.harness import FakeClock
from tests.support.offline import Person, offline_services, stored_rows

SEEN = "Yes, I was seen and they agreed"
HELP_NOW = "I am getting help now"
SEEN_QUESTION = "seen you since"
TOO_SOON = "It is too soon to go on"
RESCREEN = "Right now, do you have any of these?"


async def emergency_hold(person: Person) -> str:
    """An onboarded person ticks an emergency sign at /checkin; returns the advice given."""
    await person.onboard()
    await person.send("/checkin")
    await person.check_in(4, 2, 3, "Thigh, above the knee", "Bladder changes")
    patient = await person.stored()
    assert (patient.status, patient.hold_tier) == (PatientStatus.SAFETY_HOLD, "emergency")
    return person.last_text


async def events(services: Services, person: Person) -> list[SafetyEvent]:
    async with services.sessions() as db:
        return await repo.events_of(db, (await person.stored()).id)


async def test_release_is_refused_before_the_wait_then_asks_seen_then_rescreens(
    services_each_backend: Services, clock: FakeClock
) -> None:
    services = services_each_backend
    person = Person(services)
    advice = await emergency_hold(person)
    held_at = clock.now
    assert person.last.labels == [HELP_NOW]  # nothing on the advice restarts exercise

    clock.set(held_at + timedelta(hours=3) - timedelta(minutes=1))
    before = await stored_rows(services)
    await person.send("/resume")
    assert person.texts[-2] == advice  # the same advice, unchanged
    assert person.last_text.startswith(TOO_SOON)
    assert "today at 11:00" in person.last_text  # 08:00 in Paris, plus HOLD_MIN_HOURS (3)
    assert await stored_rows(services) == before  # refused: no release step opened

    clock.set(held_at + timedelta(hours=3))
    await person.send("/resume")
    assert SEEN_QUESTION in person.last_text
    assert person.last.labels == [SEEN, "No, not yet"]
    await person.press(SEEN)
    assert RESCREEN in person.last_text
    await person.press("None of these")

    patient = await person.stored()
    assert patient.status is PatientStatus.ACTIVE
    assert (patient.hold_tier, patient.hold_since, patient.flow) == (None, None, None)
    assert patient.next_send_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)  # tomorrow 08:00
    assert [(e.tier, e.acknowledged_at) for e in await events(services, person)] == [
        ("emergency", clock.now)
    ]
    async with services.sessions() as db:
        reports = await repo.reports_of(db, patient.id)
    assert (reports[-1].kind, reports[-1].stop_signals) == (ReportKind.RESCREEN, [])
    assert any("Your program continues, with nothing new at first" in t for t in person.texts)


async def test_the_wait_is_the_hold_min_hours_setting(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    async with offline_services(url, clock, hold_min_hours=6) as services:
        person = Person(services)
        await emergency_hold(person)
        held_at = clock.now
        clock.set(held_at + timedelta(hours=5, minutes=59))
        await person.send("/resume")
        assert person.last_text.startswith(TOO_SOON)
        clock.set(held_at + timedelta(hours=6))
        await person.send("/resume")
        assert SEEN_QUESTION in person.last_text


async def test_not_seen_yet_keeps_the_hold(
    services: Services, person: Person, clock: FakeClock
) -> None:
    await emergency_hold(person)
    clock.advance(hours=3)
    await person.send("/resume")
    await person.press("No, not yet")
    assert "stays paused" in person.last_text
    patient = await person.stored()
    assert (patient.status, patient.hold_tier, patient.flow) == (
        PatientStatus.SAFETY_HOLD,
        "emergency",
        None,
    )
    assert [e.acknowledged_at for e in await events(services, person)] == [None]


async def test_a_sign_still_present_keeps_the_hold_and_restarts_the_wait(
    services_each_backend: Services, clock: FakeClock
) -> None:
    services = services_each_backend
    person = Person(services)
    await emergency_hold(person)
    clock.advance(hours=3)
    rescreened_at = clock.now
    await person.send("/resume")
    await person.press(SEEN)
    await person.press("Numb between the legs")
    await person.press("Continue")
    assert "cannot guide your exercises while this sign is present" in person.last_text
    patient = await person.stored()
    assert patient.status is PatientStatus.SAFETY_HOLD
    assert (patient.hold_tier, patient.hold_since) == ("emergency", rescreened_at)
    found = await events(services, person)
    assert [(e.tier, e.acknowledged_at) for e in found] == [("emergency", None)] * 2
    async with services.sessions() as db:
        report = await repo.get_report(db, found[-1].report_id or 0)
    assert report is not None
    assert (report.kind, report.stop_signals) == (ReportKind.RESCREEN, ["saddle"])

    clock.advance(hours=2, minutes=59)
    await person.send("/resume")
    assert person.last_text.startswith(TOO_SOON)  # a new wait began at the re-screen
    clock.advance(minutes=1)
    await person.send("/resume")
    await person.press(SEEN)
    await person.press("None of these")
    assert (await person.stored()).status is PatientStatus.ACTIVE
    assert [e.acknowledged_at for e in await events(services, person)] == [clock.now] * 2


async def test_a_lesser_sign_still_present_also_restarts_the_wait(
    person: Person, clock: FakeClock
) -> None:
    await emergency_hold(person)
    clock.advance(hours=3)
    await person.send("/resume")
    await person.press(SEEN)
    await person.press("Fever or feeling unwell")
    await person.press("Continue")
    assert "get medical advice today" in person.texts[-2]  # urgent advice, given just now
    await person.send("/resume")
    # Not sooner than HOLD_MIN_HOURS after emergency or urgent advice (holds.py docstring).
    assert person.last_text.startswith(TOO_SOON)


async def soon_hold_at_screening(person: Person) -> None:
    await person.send("/start")
    await person.press("Yes, store my answers")
    await person.press("Less than 2 weeks")
    await person.press("Constant or night pain")
    await person.press("Continue")
    patient = await person.stored()
    assert (patient.status, patient.hold_tier) == (PatientStatus.SAFETY_HOLD, "soon")
    assert patient.program_started_on is None


async def test_soon_has_no_wait(person: Person) -> None:
    await soon_hold_at_screening(person)
    assert person.last.labels == []  # SOON advice has no "getting help" button
    await person.send("/resume")  # at once: no minimum wait for SOON
    assert "agreed that you may start these exercises" in person.last_text
    assert (await person.stored()).flow == Flow.RELEASE.value


async def test_a_hold_that_began_at_screening_continues_onboarding_after_release(
    services: Services, person: Person, clock: FakeClock
) -> None:
    await soon_hold_at_screening(person)
    screened_at = (await person.stored()).screened_at
    clock.advance(days=2)
    await person.send("/resume")
    await person.press(SEEN)
    await person.press("None of these")
    assert "Let us set up your program" in "\n".join(person.texts[-3:])
    assert "Which leg has the symptoms" in person.last_text  # the next step: screening is done
    patient = await person.stored()
    assert patient.status is PatientStatus.ONBOARDING
    assert (patient.program_state, patient.hold_tier, patient.flow) == ({}, None, "side")
    assert patient.screened_at == screened_at
    assert [(e.tier, e.acknowledged_at) for e in await events(services, person)] == [
        ("soon", clock.now)
    ]
    # The rest of onboarding follows as usual.
    await person.press("Right leg")
    for value in ("5", "2", "3"):
        await person.press(value)
    await person.press("Lower back only")
    await person.press("Skip")
    await person.press("08:00")
    await person.send("Europe/Paris")
    await person.press("Yes, that is right")
    await person.press("Tomorrow morning")
    assert (await person.stored()).status is PatientStatus.ACTIVE


async def test_getting_help_is_acknowledged_and_changes_nothing(
    services: Services, person: Person
) -> None:
    await emergency_hold(person)
    before = await stored_rows(services)
    response = await person.press(HELP_NOW)
    assert response.answer == "Thank you. Take care."
    assert [r.text for r in response.replies] == [
        "Thank you. I hope you get help quickly. Your program stays on hold until a health "
        "professional has seen you. When they have, send /resume."
    ]
    assert await stored_rows(services) == before


async def test_getting_help_under_soon_advice_or_without_a_hold_changes_nothing(
    services: Services, person: Person
) -> None:
    await soon_hold_at_screening(person)
    active = Person(services, user_id=2002)
    await active.onboard()
    for someone in (person, active):
        before = await stored_rows(services)
        response = await someone.press_data(ack_button("help"))
        assert response.answer == "Thank you. Take care."
        assert response.replies == []  # no "hope you get help quickly" below emergency/urgent
        assert await stored_rows(services) == before


@pytest.mark.parametrize("command", ["/today", "/checkin", "/pause", "/reset", "/start"])
async def test_commands_during_a_hold_show_the_advice_again_and_change_nothing(
    services: Services, person: Person, clock: FakeClock, command: str
) -> None:
    advice = await emergency_hold(person)
    clock.advance(hours=1)
    before = await stored_rows(services)
    response = await person.send(command)
    assert response.replies[0].text == advice
    assert await stored_rows(services) == before
