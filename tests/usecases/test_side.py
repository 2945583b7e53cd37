"""Which leg has the symptoms (clinical.md §3): asked at onboarding, "Both legs" is stop signal 4
(the screening's confirm step and verdict), stored, shown by /status, changed by /side, and asked
once of people who started before the question existed."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Services
from bot.domain.flows import Flow
from bot.domain.program import PatientStatus
from db import repo
from db.models import ReportKind, SafetyEvent, SymptomReport
from tests.support.offline import Person

QUESTION = "Which leg has the symptoms"
SIDES = ["Left leg", "Right leg", "Both legs"]
BOTH_FULL = "Sciatica in both legs, or leg pain that has spread from one leg to both."


async def to_side_question(person: Person) -> None:
    await person.send("/start")
    await person.press("Yes, store my answers")
    await person.press("2 to 6 weeks")
    await person.press("None of these")
    assert QUESTION in person.last_text
    assert person.last.labels == SIDES


async def test_the_question_comes_after_the_screening_and_before_the_baseline(
    person: Person,
) -> None:
    await to_side_question(person)
    assert (await person.stored()).flow == Flow.SIDE.value
    await person.press("Left leg")
    answered = person.texts[-3]  # the question, edited; then the baseline's intro and card
    assert answered.startswith("Symptoms in: <b>your left leg</b>.")
    assert "How strong is your pain" in person.last_text
    assert (await person.stored()).symptom_side == "left"


async def test_a_typed_side_works_and_bad_input_changes_nothing(person: Person) -> None:
    await to_side_question(person)
    before = await person.stored()
    await person.send("my knee")
    assert person.last_text == (
        "Please tap Left leg, Right leg or Both legs, or type left, right or both."
    )
    after = await person.stored()
    assert (after.flow, after.flow_data, after.symptom_side) == (
        before.flow,
        before.flow_data,
        None,
    )
    await person.send("My right leg.")
    assert (await person.stored()).symptom_side == "right"
    assert "How strong is your pain" in person.last_text


async def test_a_typed_side_in_french(services: Services) -> None:
    person = Person(services, language_code="fr-FR")
    await person.send("/start")
    await person.press("Oui, enregistrez mes réponses")
    await person.press("2 à 6 semaines")
    await person.press("Aucun de ces signes")
    assert "Dans quelle jambe" in person.last_text
    await person.send("à gauche")
    assert (await person.stored()).symptom_side == "left"
    assert "Symptômes dans <b>votre jambe gauche</b>" in "\n".join(person.texts[-3:])


async def test_both_legs_is_stop_signal_4_confirmed_like_at_screening(
    services: Services, person: Person
) -> None:
    await to_side_question(person)
    question_id = person.last.id
    await person.press("Both legs")
    # The same "Is that right?" step as the screening, with the sign's full words.
    assert person.last.id == question_id  # the question, edited in place
    assert person.last_text == f"You ticked:\n• {BOTH_FULL}\n\nIs that right?"
    assert person.last.labels == ["Yes, that is right", "I tapped one by mistake"]
    # A slip of the finger: the question again, nothing stored.
    await person.press("I tapped one by mistake")
    assert QUESTION in person.last_text and person.last.labels == SIDES
    assert (await person.stored()).status is PatientStatus.ONBOARDING
    await person.press("Both legs")
    await person.press("Yes, that is right")
    advice = person.last_text
    assert "emergency" in advice.lower()
    assert person.last.labels == ["I am getting help now"]  # nothing restarts exercise
    patient = await person.stored()
    assert (patient.status, patient.hold_tier, patient.symptom_side, patient.flow) == (
        PatientStatus.SAFETY_HOLD,
        "emergency",
        None,
        None,
    )
    async with services.sessions() as db:
        events = (await db.execute(select(SafetyEvent))).scalars().all()
        reports = (await db.execute(select(SymptomReport))).scalars().all()
    assert [e.tier for e in events] == ["emergency"]
    assert [(r.kind, r.stop_signals) for r in reports] == [
        (ReportKind.SCREENING, []),
        (ReportKind.SCREENING, ["both_legs"]),
    ]


async def test_status_shows_the_side_and_side_changes_it(person: Person) -> None:
    await person.onboard(side="Left leg")
    status = await person.send("/status")
    assert "Symptoms in: your left leg (/side to change it)." in status.replies[0].text
    await person.send("/side")
    assert QUESTION in person.last_text
    await person.press("Right leg")
    assert person.last_text.startswith("Symptoms in: <b>your right leg</b>.")
    assert (await person.stored()).symptom_side == "right"
    status = await person.send("/status")
    assert "Symptoms in: your right leg" in status.replies[0].text


async def test_side_command_and_help_list_it(person: Person) -> None:
    help_text = (await person.send("/help")).replies[0].text
    assert "/side: change which leg has the symptoms" in help_text


async def forget_side(services: Services, person: Person) -> None:
    """A person who onboarded before the question existed."""
    async with services.sessions() as db:
        patient = await repo.get_patient(db, person.user_id)
        assert patient is not None
        patient.symptom_side = None
        await db.commit()


async def test_someone_from_before_is_asked_once_at_today(
    services: Services, person: Person
) -> None:
    await person.onboard(start="Tomorrow morning")
    await forget_side(services, person)
    status = await person.send("/status")
    assert "you have not told me which leg yet (/side)" in status.replies[0].text
    await person.send("/today")
    assert QUESTION in person.last_text  # first, so that today's pictures show that leg
    assert (await person.stored()).symptom_side == "asked"
    await person.press("Left leg")
    assert (await person.stored()).symptom_side == "left"
    assert "Day 1" in "\n".join(person.texts[-2:])  # then today's routine
    assert "Done" in person.last.labels


async def test_someone_from_before_who_does_not_answer_is_not_asked_again(
    services: Services, person: Person
) -> None:
    await person.onboard(start="Tomorrow morning")
    await forget_side(services, person)
    await person.send("/today")
    assert QUESTION in person.last_text
    before = len(person.texts)
    await person.send("/today")
    assert any("Day 1" in text for text in person.texts[before:])
    assert (await person.stored()).symptom_side == "asked"


async def test_someone_from_before_is_asked_once_after_a_check_in(
    services: Services, person: Person
) -> None:
    await person.onboard()
    await forget_side(services, person)
    await person.press("Done")
    await person.check_in(4, 2, 3, "Thigh, above the knee")
    assert QUESTION in person.last_text  # after the verdict
    await person.press("Right leg")
    assert (await person.stored()).symptom_side == "right"
    await person.send("/checkin")
    await person.check_in(4, 2, 3, "Thigh, above the knee")
    assert QUESTION not in person.last_text
