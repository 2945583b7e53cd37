"""Function (PSFS, clinical.md §3) offline: naming and rating at onboarding (chosen, typed,
skipped), /activities, the weekly tap, /progress, /export, and never a safety verdict."""

from __future__ import annotations

import csv
import io
import json

from bot.context import Services
from bot.domain.program import PatientStatus
from bot.rendering.buttons import function_button
from bot.rendering.i18n import texts_for
from bot.rendering.replies import Response
from bot.usecases import activities
from db import repo
from db.models import FunctionActivity, FunctionRating
from tests.support.harness import FakeClock
from tests.support.offline import Person

SOCKS = "Putting on socks and shoes"
SITTING = "Sitting for half an hour"
FR = texts_for("fr")


async def to_function_step(person: Person) -> None:
    await person.send("/start")
    await person.press("Yes, store my answers")
    await person.press("2 to 6 weeks")
    await person.press("None of these")
    await person.press("Right leg")
    for value in ("5", "2", "3"):
        await person.press(value)
    await person.press("Thigh, above the knee")


async def function_rows(
    services: Services, person: Person
) -> tuple[list[FunctionActivity], list[FunctionRating]]:
    patient = await person.stored()
    async with services.sessions() as db:
        return (
            await repo.activities_of(db, patient.id),
            await repo.function_ratings_of(db, patient.id),
        )


async def finish_onboarding(person: Person) -> None:
    await person.press("08:00")
    await person.send("Europe/Paris")
    await person.press("Yes, that is right")
    await person.press("Tomorrow morning")


async def test_after_the_baseline_activities_are_chosen_typed_and_rated_on_one_card(
    services: Services, person: Person
) -> None:
    await to_function_step(person)
    intro, card = person.messages[-2:]
    assert intro.text.startswith("One more question, and you may skip it.")
    assert "It never changes the exercise advice." in intro.text
    assert card.text == "Tap an activity, or type your own in a few words."
    assert card.labels == [
        SITTING,
        "Walking for 15 minutes",
        SOCKS,
        "Sleeping through the night",
        "Lifting a bag",
        "Working at a desk",
        "Skip",
    ]
    await person.press(SOCKS)
    assert person.last.id == card.id  # edited in place
    assert SOCKS not in person.last.labels and "Done" in person.last.labels
    assert person.last_text.startswith(f"Your activities:\n• {SOCKS}")
    await person.send("  climbing   stairs ")  # typed: the same card moves on
    assert person.last.id == card.id
    assert "• Climbing stairs" in person.last_text
    await person.press("Done")
    assert person.last.id == card.id
    assert f"How well can you do this now?\n<b>{SOCKS}</b>" in person.last_text
    assert person.last.labels == [*(str(i) for i in range(11)), "Skip"]
    await person.press("3")
    assert "<b>Climbing stairs</b>" in person.last_text
    await person.send("6/10")  # typed, as on the check-in card
    done = person.message(card.id)
    assert done.labels == []
    assert done.text == (
        f"Your activities:\n• {SOCKS}: <b>3</b>/10\n• Climbing stairs: <b>6</b>/10"
    )
    assert "At what time should I send your routine" in person.last_text
    activities, ratings = await function_rows(services, person)
    assert [(a.position, a.label, a.retired_at) for a in activities] == [
        (1, SOCKS, None),
        (2, "Climbing stairs", None),
    ]
    assert [(r.rating, r.kind) for r in ratings] == [(3, "start"), (6, "start")]
    assert (await person.stored()).function_asked_at is not None


async def test_three_activities_go_straight_to_the_ratings(person: Person) -> None:
    await to_function_step(person)
    await person.press(SOCKS)
    await person.press(SITTING)
    await person.send("Gardening")
    assert "How well can you do this now?" in person.last_text
    assert "<b>Putting on socks and shoes</b>" in person.last_text


async def test_skip_stores_nothing_and_onboarding_goes_on(
    services: Services, person: Person
) -> None:
    await to_function_step(person)
    await person.press(SOCKS)
    await person.press("Done")
    await person.press("Skip")
    assert person.messages[-2].text.startswith("Skipped.")
    assert "At what time should I send your routine" in person.last_text
    assert await function_rows(services, person) == ([], [])
    await finish_onboarding(person)
    patient = await person.stored()
    assert patient.status is PatientStatus.ACTIVE and patient.function_asked_at is not None


async def test_bad_input_gets_a_short_answer_and_changes_nothing(person: Person) -> None:
    await to_function_step(person)
    before = (await person.stored()).flow_data
    await person.send("6")
    assert person.last_text == (
        "Please tap an activity, or type one in a few words (up to 60 characters)."
    )
    assert (await person.stored()).flow_data == before
    await person.press(SOCKS)
    await person.press("Done")
    before = (await person.stored()).flow_data
    await person.send("eleven")
    assert person.last_text == "Please tap a number, or type one from 0 to 10."
    await person.send("11")
    assert (await person.stored()).flow_data == before


async def onboard_with_socks(person: Person, rating: str = "3") -> None:
    await to_function_step(person)
    await person.press(SOCKS)
    await person.press("Done")
    await person.press(rating)
    await finish_onboarding(person)


async def test_activities_shows_them_and_replaces_them_keeping_the_old_ratings(
    services: Services, person: Person, clock: FakeClock
) -> None:
    await onboard_with_socks(person)
    clock.advance(days=1)
    await person.send("/activities")
    listing, intro, card = person.messages[-3:]
    assert card.labels[-1] == "Skip"
    assert listing.text == (
        f"<b>Your everyday activities</b> (0 = unable, 10 = as before):\n• {SOCKS}: 3/10 (2 Mar)"
    )
    assert intro.text.startswith("Choose or type up to three")
    await person.press("Skip")
    assert person.last_text == "Nothing changed: your activities stay as they were."
    activities, _ = await function_rows(services, person)
    assert [(a.label, a.retired_at) for a in activities] == [(SOCKS, None)]
    await person.send("/activites")  # the French name works too
    await person.press(SITTING)
    await person.press("Done")
    await person.press("7")
    assert person.last_text.startswith("Saved.")
    activities, ratings = await function_rows(services, person)
    assert [(a.label, a.retired_at is None) for a in activities] == [
        (SOCKS, False),
        (SITTING, True),
    ]
    assert [r.rating for r in ratings] == [3, 7]
    assert (await person.stored()).status is PatientStatus.ACTIVE


async def test_the_weekly_tap_records_each_activity_then_thanks(
    services: Services, person: Person, clock: FakeClock
) -> None:
    await to_function_step(person)
    await person.press(SOCKS)
    await person.press(SITTING)
    await person.press("Done")
    await person.press("3")
    await person.press("4")
    await finish_onboarding(person)
    patient = await person.stored()
    clock.advance(days=7)
    # The card the dispatcher sends after the weekly look back (tests/e2e/test_function.py).
    async with services.sessions() as db:
        reply = await activities.weekly_card(db, patient.id, texts_for("en"), clock.now)
    assert reply is not None
    assert f"<b>{SOCKS}</b>" in reply.text
    await person._deliver(Response([reply]))
    card = person.last
    await person.press("6")
    assert person.last.id == card.id
    assert person.last_text.startswith(f"Your everyday activities this week:\n• {SOCKS}: <b>6</b>")
    assert f"<b>{SITTING}</b>" in person.last_text
    await person.press("4")
    assert person.message(card.id).labels == []
    assert person.message(card.id).text.endswith(
        "Thank you, saved. This never changes the exercise advice."
    )
    _, ratings = await function_rows(services, person)
    assert [(r.rating, r.kind) for r in ratings] == [
        (3, "start"),
        (4, "start"),
        (6, "weekly"),
        (4, "weekly"),
    ]


async def test_a_weekly_tap_on_someone_elses_or_a_retired_activity_is_stale(
    services: Services, person: Person, clock: FakeClock
) -> None:
    await onboard_with_socks(person)
    activities, _ = await function_rows(services, person)
    other = Person(services, user_id=person.user_id + 1)
    await other.send("/start")
    await other.press_data(function_button(activities[0].id, "5"))
    assert other.last_answer == "That button is no longer active."
    await person.send("/activities")
    await person.press(SITTING)
    await person.press("Done")
    await person.press("7")
    await person.press_data(function_button(activities[0].id, "5"))
    assert person.last_answer == "That button is no longer active."
    _, ratings = await function_rows(services, person)
    assert [r.kind for r in ratings] == ["start", "start"]


async def test_a_drop_in_function_never_gives_a_safety_verdict(
    services: Services, person: Person, clock: FakeClock
) -> None:
    """clinical.md §3: it informs, it never triggers a verdict."""
    await onboard_with_socks(person, rating="9")
    activities, _ = await function_rows(services, person)
    clock.advance(days=7)
    await person.press_data(function_button(activities[0].id, "1"))
    patient = await person.stored()
    assert patient.status is PatientStatus.ACTIVE and patient.hold_tier is None
    async with services.sessions() as db:
        assert await repo.events_of(db, patient.id) == []
    assert "doctor" not in person.last_text and "Stop" not in person.last_text


async def test_progress_shows_each_activity_and_the_average(
    services: Services, person: Person, clock: FakeClock
) -> None:
    await onboard_with_socks(person)
    activities, _ = await function_rows(services, person)
    clock.advance(days=7)
    await person.press_data(function_button(activities[0].id, "7"))
    await person.send("/progress")
    assert person.last_text == (
        "<b>Everyday activities</b> (0 = unable, 10 = as before):\n"
        f"{SOCKS}: 3 → 7\n"
        "Average: 3 → 7\n"
        "That change is larger than the usual variation from one rating to the next."
    )


async def test_export_has_the_ratings_csv_and_both_tables(
    services: Services, person: Person, clock: FakeClock
) -> None:
    await onboard_with_socks(person)
    activities, _ = await function_rows(services, person)
    clock.advance(days=7)
    await person.press_data(function_button(activities[0].id, "5"))
    response = await person.send("/export")
    uploads = {r.upload.filename: r.upload.data for r in response.replies if r.upload}
    rows = list(
        csv.reader(io.StringIO(uploads["sciatica-activities-2026-03-09.csv"].decode("utf-8-sig")))
    )
    assert rows == [
        ["local_date", "activity", "rating", "kind"],
        ["2026-03-02", SOCKS, "3", "start"],
        ["2026-03-09", SOCKS, "5", "weekly"],
    ]
    exported = json.loads(uploads["sciatica-data-2026-03-09.json"])
    assert [a["label"] for a in exported["function_activities"]] == [SOCKS]
    assert [(r["rating"], r["kind"]) for r in exported["function_ratings"]] == [
        (3, "start"),
        (5, "weekly"),
    ]
    assert exported["person"]["function_asked_at"] is not None


async def test_in_french(services: Services, clock: FakeClock) -> None:
    person = Person(services, language_code="fr")
    await person.send("/start")
    await person.press(FR.t("onboarding.consent_yes"))
    await person.press(FR.t("duration.2to6w"))
    await person.press(FR.t("stop_signals.none"))
    await person.press(FR.t("side.right"))
    for value in ("5", "2", "3"):
        await person.press(value)
    await person.press(FR.t("measures.extent.3"))
    assert person.messages[-2].text.startswith("Encore une question, que vous pouvez passer.")
    assert "Mettre ses chaussettes et ses chaussures" in person.last.labels
    await person.send("monter l’escalier")
    await person.press("Terminé")
    assert "Où en êtes-vous aujourd’hui ?\n<b>Monter l’escalier</b>" in person.last_text
    await person.send("4")
    card, saved = person.messages[-3:-1]
    assert card.text == "Vos activités :\n• Monter l’escalier : <b>4</b>/10"
    assert saved.text.startswith("C’est noté. Je vous les redemanderai une fois par semaine")
    await person.press("8 h 00")
    await person.send("Europe/Paris")
    await person.press(FR.t("onboarding.zone_yes"))
    await person.press(FR.t("onboarding.start_tomorrow"))
    response = await person.send("/exporter")
    uploads = {r.upload.filename: r.upload.data for r in response.replies if r.upload}
    data = uploads["activites-sciatique-2026-03-02.csv"].decode("utf-8-sig")
    assert data.splitlines() == ["date,activite,note,type", "2026-03-02,Monter l’escalier,4,start"]
