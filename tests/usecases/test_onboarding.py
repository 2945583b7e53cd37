"""Onboarding offline: the declared order of its steps (onboarding.STEPS), and /start resuming
at the first unfinished step whatever the person's state."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.context import Services
from bot.domain.flows import Flow
from bot.domain.program import PatientStatus
from bot.usecases import onboarding
from db import repo
from db.models import ReportKind
from tests.support.harness import FakeClock
from tests.support.offline import Person, stored_rows

# What each step asks, as the person reads it.
QUESTIONS = {
    Flow.CONSENT: "May I store your answers?",
    Flow.DURATION: "How long have you had these symptoms",
    Flow.SCREENING: "Do you have any of these right now",
    Flow.SIDE: "Which leg has the symptoms",
    Flow.CHECKIN: "How strong is your pain",
    Flow.FUNCTION: "Tap an activity, or type your own",
    Flow.REMINDER: "At what time should I send your routine",
    Flow.ZONE: "Which time zone are you in?",
    Flow.START: "Would you like to start with today's routine now",
}
ORDER = tuple(QUESTIONS)


def test_the_steps_are_declared_in_this_order() -> None:
    assert tuple(step.flow for step in onboarding.STEPS) == ORDER


async def mark_done(services: Services, person: Person, steps: set[Flow], stray: bool) -> None:
    """Store the person with ``steps`` done (in any combination), and, if ``stray``, another
    flow left open (a /language question never answered)."""
    await person.send("/start")
    now = services.clock()
    async with services.sessions() as db:
        patient = await repo.get_patient(db, person.user_id)
        assert patient is not None
        if Flow.CONSENT in steps:
            patient.consent_at = now
        if Flow.DURATION in steps:
            patient.symptom_duration = "2to6w"
        if Flow.SCREENING in steps:
            patient.screened_at = now
        if Flow.SIDE in steps:
            patient.symptom_side = "left"
        if Flow.CHECKIN in steps:
            repo.add_report(db, patient, ReportKind.BASELINE, now, ratings=repo.Ratings(5, 2, 3, 3))
        if Flow.FUNCTION in steps:
            patient.function_asked_at = now
        if Flow.REMINDER in steps:
            patient.reminder_time = time(8, 0)
        if Flow.ZONE in steps:
            patient.time_zone = "Europe/Paris"
        if stray:
            patient.flow, patient.flow_data = Flow.LANGUAGE.value, {"nonce": "strayNonce"}
        else:
            patient.flow, patient.flow_data = None, {}
        await db.commit()


# Every prefix of the order, and steps done out of order (a person from before a step existed).
STATES: list[tuple[set[Flow], Flow]] = [
    (set(ORDER[:done]), ORDER[done]) for done in range(len(ORDER))
] + [
    (
        {
            Flow.CONSENT,
            Flow.SCREENING,
            Flow.SIDE,
            Flow.CHECKIN,
            Flow.FUNCTION,
            Flow.REMINDER,
            Flow.ZONE,
        },
        Flow.DURATION,
    ),
    (
        {
            Flow.CONSENT,
            Flow.DURATION,
            Flow.SCREENING,
            Flow.SIDE,
            Flow.FUNCTION,
            Flow.REMINDER,
            Flow.ZONE,
        },
        Flow.CHECKIN,
    ),
    (
        {
            Flow.CONSENT,
            Flow.DURATION,
            Flow.SCREENING,
            Flow.SIDE,
            Flow.CHECKIN,
            Flow.FUNCTION,
            Flow.ZONE,
        },
        Flow.REMINDER,
    ),
    (
        {
            Flow.DURATION,
            Flow.SCREENING,
            Flow.SIDE,
            Flow.CHECKIN,
            Flow.FUNCTION,
            Flow.REMINDER,
            Flow.ZONE,
        },
        Flow.CONSENT,
    ),
    # Someone mid-way through onboarding before the side question existed.
    (
        {Flow.CONSENT, Flow.DURATION, Flow.SCREENING, Flow.CHECKIN, Flow.FUNCTION, Flow.REMINDER},
        Flow.SIDE,
    ),
]


@pytest.mark.parametrize("stray", [False, True], ids=["no-flow", "stray-flow"])
@pytest.mark.parametrize(
    ("done", "expected"),
    STATES,
    ids=[f"{'+'.join(sorted(d)) or 'nothing'}->{e}" for d, e in STATES],
)
async def test_start_resumes_at_the_first_unfinished_step(
    services: Services, person: Person, done: set[Flow], expected: Flow, stray: bool
) -> None:
    await mark_done(services, person, done, stray)
    await person.send("/start")
    patient = await person.stored()
    assert patient.flow == expected.value
    assert QUESTIONS[expected] in person.last_text
    assert patient.status is PatientStatus.ONBOARDING
    # Again: the same step, asked afresh (the earlier question's buttons become stale).
    nonce = patient.flow_data["nonce"]
    await person.send("/start")
    again = await person.stored()
    assert again.flow == expected.value
    assert again.flow_data["nonce"] != nonce


async def test_a_person_who_is_not_stored_starts_with_consent(
    person: Person, services: Services
) -> None:
    assert await person.row() is None
    await person.send("/start")
    patient = await person.stored()
    assert patient.flow == Flow.CONSENT.value
    assert person.texts[-2].startswith("<b>Hello.")  # what the bot does, before consent
    assert QUESTIONS[Flow.CONSENT] in person.last_text
    assert person.last.labels == ["Yes, store my answers", "No, thank you"]


async def test_each_answer_leads_to_the_next_declared_step(person: Person) -> None:
    seen: list[str | None] = []

    async def step() -> None:
        seen.append((await person.stored()).flow)

    await person.send("/start")
    await step()
    await person.press("Yes, store my answers")
    await step()
    await person.press("Less than 2 weeks")
    await step()
    await person.press("None of these")
    await step()
    await person.press("Left leg")
    await step()
    for value in ("5", "2", "3"):
        await person.press(value)
    await person.press("Lower back only")
    await step()
    await person.press("Skip")
    await step()
    await person.press("07:00")
    await step()
    await person.send("Europe/Paris")
    await person.press("Yes, that is right")
    await step()
    assert seen == [flow.value for flow in ORDER]
    await person.press("Tomorrow morning")
    patient = await person.stored()
    assert (patient.flow, patient.status) == (None, PatientStatus.ACTIVE)


@pytest.mark.parametrize(("start", "routines"), [("Start now", 1), ("Tomorrow morning", 0)])
async def test_start_now_or_tomorrow(
    services: Services, person: Person, clock: FakeClock, start: str, routines: int
) -> None:
    await person.onboard(start=start)
    patient = await person.stored()
    assert patient.status is PatientStatus.ACTIVE
    assert patient.program_started_on == date(2026, 3, 2)
    assert patient.reminder_time == time(8, 0)
    # 07:00 UTC is 08:00 in Paris: today's time has come, so the next send is tomorrow's.
    assert patient.next_send_at == datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
    assert patient.next_weekly_at is not None and patient.next_weekly_at > clock.now
    assert patient.program_state["day"] == 1
    rows = await stored_rows(services)
    assert len(rows["daily_sessions"]) == routines
    # The routine: its heading, then the exercise under its pictures, with the buttons.
    assert ("<b>Day 1</b>" in "".join(person.texts[-2:])) == (routines == 1)
    assert ("Done" in person.last.labels) == (routines == 1)
    assert [r["kind"] for r in rows["symptom_reports"]] == [
        ReportKind.SCREENING,
        ReportKind.BASELINE,
    ]


async def test_declining_consent_keeps_nothing(services: Services, person: Person) -> None:
    await person.send("/start")
    await person.press("No, thank you")
    assert "I have not kept anything about you" in person.last_text
    assert await stored_rows(services) == {
        "patients": [],
        "daily_sessions": [],
        "symptom_reports": [],
        "safety_events": [],
    }
    await person.send("/today")
    assert person.last_text == "Please send /start to begin."
    assert await person.row() is None


async def test_typed_reminder_time_and_an_unreadable_one(person: Person) -> None:
    await mark_done(person.services, person, set(ORDER[:6]), stray=False)
    await person.send("/start")
    await person.send("later, please")
    assert person.last_text.startswith("I could not read that time.")
    assert (await person.stored()).flow == Flow.REMINDER.value
    await person.send("7:30")
    patient = await person.stored()
    assert patient.reminder_time == time(7, 30)
    assert patient.flow == Flow.ZONE.value


async def test_zone_by_location_can_be_refused_and_chosen_again(person: Person) -> None:
    await mark_done(person.services, person, set(ORDER[:7]), stray=False)
    await person.send("/start")
    await person.send("Qwxzv Nowhere")
    assert person.last_text.startswith("I could not find that place.")
    await person.share_location(40.7128, -74.0060)
    assert "America/New_York" in person.last_text
    await person.press("No, choose again")
    assert (await person.stored()).time_zone is None
    await person.share_location(48.8566, 2.3522)
    await person.press("Yes, that is right")
    patient = await person.stored()
    assert (patient.time_zone, patient.flow) == ("Europe/Paris", Flow.START.value)
