"""Free text that names a warning sign goes straight to the stop-signal question, in any state
(clinical.md §2); other free text gets the kind answer (issue 20 point 7)."""

from __future__ import annotations

from sqlalchemy import select

from bot.context import Services
from bot.domain.program import PatientStatus
from db.models import SafetyEvent, SymptomReport
from tests.support.offline import Person

BLADDER_FULL = "New trouble starting to pee, you cannot pee, the flow feels weaker"
BOTH_LEGS_FULL = "Sciatica in both legs, or leg pain that has spread from one leg to both."
EMERGENCY = "<b>Stop all exercise now and get emergency help.</b>"


async def _reports(services: Services) -> list[SymptomReport]:
    async with services.sessions() as db:
        return list((await db.scalars(select(SymptomReport))).all())


async def _events(services: Services) -> list[SafetyEvent]:
    async with services.sessions() as db:
        return list((await db.scalars(select(SafetyEvent))).all())


async def test_words_in_the_middle_of_a_rating_lead_to_the_confirm_and_the_verdict(
    services: Services, person: Person
) -> None:
    await person.onboard()
    await person.send("/checkin")
    assert "pain" in person.last_text.lower()
    await person.send("I can't pee since this morning")
    text = person.last_text
    assert text.startswith("What you wrote may describe a warning sign:")
    assert BLADDER_FULL in text and text.endswith("Is that right?")
    assert person.last.labels == ["Yes, that is right", "No, change"]
    await person.press("Yes, that is right")
    advice = person.last_text
    assert advice.startswith(EMERGENCY)
    assert "Call <b>15</b> (SAMU) or <b>112</b> now" in advice  # Europe/Paris
    assert person.last.labels == ["I am getting help now"]
    row = await person.stored()
    assert row.status is PatientStatus.SAFETY_HOLD and row.hold_tier == "emergency"
    assert [r.stop_signals for r in await _reports(services) if r.stop_signals] == [["bladder"]]
    assert [e.tier for e in await _events(services)] == ["emergency"]


async def test_no_change_shows_the_list_with_the_signs_ticked_and_none_changes_nothing(
    services: Services, person: Person
) -> None:
    await person.onboard()
    await person.send("the pain went to both legs yesterday")
    assert BOTH_LEGS_FULL in person.last_text
    await person.press("No, change")
    assert "✓ Symptoms in both legs" in person.last.labels
    await person.press("✓ Symptoms in both legs")  # untick: the slip is undone
    await person.press("None of these")
    assert person.last_text.startswith("Thank you for checking. Nothing changes.")
    assert (await person.stored()).status is PatientStatus.ACTIVE
    assert await _events(services) == []


async def test_words_during_onboarding_use_the_screening_confirm(
    services: Services, person: Person
) -> None:
    await person.send("/start")
    await person.press("Yes, store my answers")
    await person.press("2 to 6 weeks")
    await person.send("les deux jambes me font mal")
    assert BOTH_LEGS_FULL in person.last_text
    await person.press("Yes, that is right")
    assert person.last_text.startswith(EMERGENCY)
    # No time zone yet: the English list, never the French one.
    assert "999 in the UK, 911 in the US and Canada, 112 in Europe" in person.last_text
    row = await person.stored()
    assert row.status is PatientStatus.SAFETY_HOLD
    assert [r.stop_signals for r in await _reports(services)] == [["both_legs"]]


async def test_before_consent_the_numbers_in_the_persons_language_and_nothing_stored(
    services: Services,
) -> None:
    french = Person(services, language_code="fr")
    await french.send("je n'arrive pas à uriner")
    text = french.last_text
    assert "15 ou 112 en France, 112 en Belgique, 144 en Suisse, 911 au Canada" in text
    assert "nouvelles fuites urinaires" in text
    assert await french.row() is None
    english = Person(services, user_id=french.user_id + 1, language_code="en")
    await english.send("/start")
    await english.send("I wet myself")
    assert "999 in the UK, 911 in the US and Canada, 112 in Europe" in english.last_text
    assert (await english.stored()).consent_at is None
    assert await _reports(services) == []


async def test_words_on_hold_give_the_advice_again(services: Services, person: Person) -> None:
    await person.onboard()
    await person.send("I have a fever")
    await person.press("Yes, that is right")
    assert person.last_text.startswith("<b>Stop the program and get medical advice today.</b>")
    assert "<b>116 117</b>" in person.last_text
    await person.send("and now my legs are weak")
    assert "Weakness or numbness in both legs" in person.last_text
    await person.press("Yes, that is right")
    assert person.last_text.startswith(EMERGENCY)
    assert (await person.stored()).hold_tier == "emergency"
    assert [e.tier for e in await _events(services)] == ["urgent", "emergency"]


async def test_a_question_where_a_number_is_expected_gets_the_range_and_the_kind_line(
    services: Services, person: Person
) -> None:
    await person.onboard()
    await person.send("/checkin")
    response = await person.send("what should I do if it hurts?")
    texts = [r.text for r in response.replies]
    assert texts[0] == "Please send a whole number from 0 to 10, or tap one of the buttons."
    assert texts[1].startswith("I cannot answer questions.")
    assert "stop any exercise that hurts" in texts[1] and "<b>15 / 112</b>" in texts[1]
    response = await person.send("77")
    assert [r.text for r in response.replies] == [
        "Please send a whole number from 0 to 10, or tap one of the buttons."
    ]


async def test_free_text_in_french_is_answered_kindly(services: Services) -> None:
    person = Person(services, language_code="fr")
    await person.send("/start")
    await person.press("Oui, enregistrez mes réponses")
    await person.send("j'ai mal au dos ce matin, que faire ?")
    text = person.last_text
    assert text.startswith("Je ne peux pas répondre aux questions ici")
    assert "arrêtez tout exercice qui fait mal" in text and "/questionnaire" in text
    assert "15 ou 112" in text and "pas compris" not in text
