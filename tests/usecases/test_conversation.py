"""The conversation's router offline: bad input (stale, forged or foreign buttons, commands in
the wrong state) gets a short answer and changes nothing; /help without a person."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.context import Services
from bot.domain.flows import Flow
from bot.rendering.buttons import command_button, flow_button, follow_up_button, routine_button
from bot.rendering.replies import Response
from bot.usecases import conversation
from bot.usecases.conversation import (
    COMMANDS,
    COMMANDS_BY_NAME,
    MENU,
    AlreadyApplied,
)
from bot.usecases.turn import Event, Turn
from db import inbox, repo
from db.inbox import Item
from db.models import InboxState
from tests.support.harness import FakeClock
from tests.support.offline import Person, stored_rows

STALE = "That button is no longer active."
FINISH_ONBOARDING = "Let us finish setting up first. Send /start to continue where you left off."
NOT_STARTED = "Please send /start to begin."


async def test_a_button_of_a_replaced_flow_is_stale(services: Services, person: Person) -> None:
    await person.send("/start")
    old_yes = person.button_data("Yes, store my answers")
    await person.send("/start")  # the question again, with a fresh nonce
    before = await stored_rows(services)
    response = await person.press_data(*old_yes)
    assert response.answer == STALE
    assert response.replies == []
    assert await stored_rows(services) == before
    assert (await person.stored()).consent_at is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "garbage",
        "r|1|done|extra",
        "f|bad nonce|consent:yes",
        "r|01|done",  # ids have no leading zero
        "r|1234567890|done",  # too large for the database's integers
        "z|start|",  # no such action
        "r|" + "9" * 70,  # over Telegram's 64 bytes
    ],
)
async def test_malformed_button_data_is_stale(
    services: Services, person: Person, data: str | None
) -> None:
    await person.onboard()
    before = await stored_rows(services)
    response = await person.press_data(data)
    assert response.answer == STALE
    assert response.replies == []
    assert await stored_rows(services) == before


async def test_forged_buttons_that_decode_are_refused(services: Services, person: Person) -> None:
    await person.onboard()
    session_id = int(person.button_data("Done")[0].split("|")[1])
    await person.send("/reset")  # a flow is open: its nonce is known
    nonce = (await person.stored()).flow_data["nonce"]
    forged = [
        routine_button(session_id + 1, "done"),  # no such session
        routine_button(session_id, "no_answer"),  # not a button's value
        routine_button(session_id, "bogus"),
        follow_up_button(session_id, "yes"),  # no follow-up pending
        command_button("start"),  # creates a person: never from a button
        command_button("help"),  # answered without a person: not a turn
        command_button("nosuch"),
        flow_button("AAAAAAAA", "reset:yes"),  # another nonce
        flow_button(nonce, "consent:yes"),  # a step of another flow
        flow_button(nonce, ""),
    ]
    before = await stored_rows(services)
    for data in forged:
        response = await person.press_data(data)
        assert response.answer == STALE, data
        assert response.replies == [], data
    assert await stored_rows(services) == before


async def test_someone_elses_buttons_change_nothing(services: Services, person: Person) -> None:
    other = Person(services, user_id=2002)
    await person.onboard()
    await other.onboard()
    done = person.button_data("Done")[0]
    await person.send("/reset")
    reset_yes = person.button_data("Yes, start again")[0]
    before = await stored_rows(services)
    response = await other.press_data(done)
    assert response.answer == "That button belongs to someone else."
    response = await other.press_data(reset_yes)  # another person's flow: its nonce is not theirs
    assert response.answer == STALE
    stranger = Person(services, user_id=3003)  # never started
    response = await stranger.press_data(done)
    assert response.answer == NOT_STARTED
    assert await stranger.row() is None
    assert await stored_rows(services) == before


async def test_a_routine_answered_or_of_another_day_changes_nothing(
    services_each_backend: Services, clock: FakeClock
) -> None:
    services = services_each_backend
    person = Person(services)
    await person.onboard()
    done, routine = person.button_data("Done")
    not_today = person.button_data("Not today")
    await person.press("Not today")
    before = await stored_rows(services)
    response = await person.press_data(done, routine)  # a second answer to the same routine
    assert response.answer == "Already recorded. Thank you."
    assert await stored_rows(services) == before

    clock.advance(days=1)
    await person.send("/today")
    yesterday = person.button_data("Done")
    clock.advance(days=1)
    before = await stored_rows(services)
    response = await person.press_data(*yesterday)
    assert response.answer == "That routine is from another day. Send /today for today's routine."
    response = await person.press_data(*not_today)
    assert response.answer == "Already recorded. Thank you."
    assert await stored_rows(services) == before


async def test_a_routine_button_while_paused_changes_nothing(
    services: Services, person: Person
) -> None:
    await person.onboard()
    await person.send("/pause")
    before = await stored_rows(services)
    response = await person.press("Done")
    assert response.answer == "That is not possible right now."
    assert await stored_rows(services) == before


@pytest.mark.parametrize(
    "command",
    [
        "/today",
        "/checkin",
        "/status",
        "/pause 3",
        "/resume",
        "/reset",
        "/time",
        "/timezone",
        "/reminders off",
        "/weekly off",
    ],
)
async def test_program_commands_during_onboarding_change_nothing(
    services: Services, person: Person, command: str
) -> None:
    await person.send("/start")
    await person.press("Yes, store my answers")
    before = await stored_rows(services)
    response = await person.send(command)
    assert [r.text for r in response.replies] == [FINISH_ONBOARDING]
    assert await stored_rows(services) == before
    assert (await person.stored()).flow == Flow.DURATION.value  # the open step stays open


@pytest.mark.parametrize("command", ["/today", "/status", "/checkin", "/pause", "/delete"])
async def test_commands_before_start_create_nobody(services: Services, command: str) -> None:
    person = Person(services)
    response = await person.send(command)
    assert [r.text for r in response.replies] == [NOT_STARTED]
    assert await person.row() is None


async def test_out_of_place_text_location_and_commands_change_nothing(
    services: Services, person: Person
) -> None:
    await person.onboard()
    before = await stored_rows(services)
    await person.send("hello there")
    assert person.last_text.startswith("I cannot answer questions here")
    assert "stop any exercise that hurts" in person.last_text
    assert "/checkin" in person.last_text and "/today" in person.last_text
    assert "/help" in person.last_text and "did not understand" not in person.last_text
    await person.share_location(48.8566, 2.3522)
    assert person.last_text.startswith("Thank you, but I only use a location")
    await person.send("/resume")
    assert person.last_text == "Your program is not paused."
    await person.send("/nosuch")
    assert person.last_text.startswith("I do not know that command.")
    await person.send("/howto 9")
    assert "/howto" in person.last_text
    await person.send("/pause 0")
    assert person.last_text.startswith("Please give a number of days from 1 to 90")
    assert await stored_rows(services) == before


@pytest.mark.parametrize(
    ("language_code", "title"),
    [
        ("fr", "Ce que je peux faire"),
        ("fr-CA", "Ce que je peux faire"),
        ("en", "What I can do"),
        ("de", "What I can do"),  # not offered: English
        (None, "What I can do"),
    ],
)
async def test_help_without_a_person_is_in_the_telegram_language(
    services: Services, language_code: str | None, title: str
) -> None:
    person = Person(services, language_code=language_code)
    response = await person.send("/help")
    (reply,) = response.replies
    assert reply.text.startswith(f"<b>{title}</b>")
    french = title == "Ce que je peux faire"
    lines = reply.text.splitlines()
    for command in COMMANDS:
        shown, other = (command.fr, command.name) if french else (command.name, command.fr)
        listed = any(re.match(rf"/{shown}\W", line) for line in lines)
        assert listed == command.menu, shown
        if other != shown:  # the other language's name is never shown
            assert not re.search(rf"/{other}(?![a-z0-9_])", reply.text), other
    assert await person.row() is None


@pytest.mark.parametrize(
    ("language_code", "typed", "title"),
    [
        ("en", "/aide", "What I can do"),  # the French name works for an English speaker
        ("fr", "/help", "Ce que je peux faire"),  # and the English one for a French speaker
        ("fr", "/aide", "Ce que je peux faire"),
        (None, "/aide", "What I can do"),
    ],
)
async def test_both_names_of_a_command_work_for_everyone(
    services: Services, language_code: str | None, typed: str, title: str
) -> None:
    person = Person(services, language_code=language_code)
    (reply,) = (await person.send(typed)).replies
    assert reply.text.startswith(f"<b>{title}</b>")


def test_every_command_has_valid_distinct_names() -> None:
    names = [name for command in COMMANDS for name in command.names]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", name) for name in names)
    assert COMMANDS_BY_NAME["aujourdhui"] is COMMANDS_BY_NAME["today"]
    assert [c.name_in("fr") for c in COMMANDS if c.menu][:3] == [
        "aujourdhui",
        "questionnaire",
        "etat",
    ]
    assert MENU == tuple(c.name_in("en") for c in COMMANDS if c.menu)


async def test_help_for_a_stored_person_is_in_their_own_language(
    services: Services, person: Person
) -> None:
    await person.onboard()
    await person.send("/language")
    await person.press("Français")
    person.language_code = "en"  # Telegram's setting no longer decides
    await person.send("/help")
    assert person.last_text.startswith("<b>Ce que je peux faire</b>")


async def test_a_forged_weekly_day_changes_nothing(services: Services, person: Person) -> None:
    await person.onboard()
    await person.send("/weekly")
    nonce = (await person.stored()).flow_data["nonce"]
    before = await stored_rows(services)
    response = await person.press_data(flow_button(nonce, "weekly:9"))
    assert response.answer == STALE
    assert await stored_rows(services) == before


# --- People's events that arrive together: each in its own transaction -------------------------


async def _pressing_together(
    services: Services, count: int
) -> tuple[Services, list[Person], list[Event]]:
    """``count`` people with a check-in card open on pain, each about to press "5" (an update
    stored in the inbox)."""
    people, events, items = [], [], []
    for n in range(count):
        person = Person(services, user_id=2001 + n)
        await person.onboard()
        await person.send("/checkin")
        people.append(person)
        events.append(Event(person.user_id, person.user_id, update_id=900 + n, query_id=f"q{n}"))
        items.append(Item(900 + n, person.user_id, {"update_id": 900 + n}))
    async with services.sessions() as db:
        await inbox.accept(db, items, services.clock())
        await db.commit()
    return services, people, events


async def _press_five(services: Services, person: Person, event: Event) -> Response:
    data, message_id = person.button_data("5")
    return await conversation.on_button(services, event, message_id, data)


async def test_presses_that_arrive_together_are_each_applied_once(
    services_each_backend: Services,
) -> None:
    grouped, people, events = await _pressing_together(services_each_backend, 3)
    responses = await asyncio.gather(
        *(_press_five(grouped, p, e) for p, e in zip(people, events, strict=True))
    )
    for person, response in zip(people, responses, strict=True):
        (reply,) = response.replies
        assert reply.edit == person.button_data("5")[1]  # the card, edited in place
        assert "How strong is any numbness" in reply.text
        data = (await person.stored()).flow_data
        assert (data["answers"], data["step"]) == ({"pain": 5}, "numbness")
    async with grouped.sessions() as db:
        rows = {i.update_id: i for i in await inbox.items(db, [e.update_id or 0 for e in events])}
    assert {rows[e.update_id or 0].state for e in events} == {InboxState.APPLIED}


async def test_a_press_applied_before_leaves_the_others_of_its_group_applied_once(
    services_each_backend: Services,
) -> None:
    """One update of the group was applied already (another process got there first): it is
    not applied again, and the others are applied once each."""
    grouped, people, events = await _pressing_together(services_each_backend, 3)
    async with grouped.sessions() as db:
        assert await inbox.mark_applied(db, 901, {"replies": []})
        await db.commit()
    results = await asyncio.gather(
        *(_press_five(grouped, p, e) for p, e in zip(people, events, strict=True)),
        return_exceptions=True,
    )
    assert isinstance(results[1], AlreadyApplied)
    answers = [(await p.stored()).flow_data["answers"] for p in people]
    assert answers == [{"pain": 5}, {}, {"pain": 5}]


async def test_a_change_committed_first_by_another_event_is_kept(
    services_each_backend: Services,
) -> None:
    """Optimistic locking: another event (the dispatcher, a racing press) changed the person
    while this one ran; this one is dropped with a short answer and theirs is kept."""
    services = services_each_backend
    if services.engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer at a time: this race needs PostgreSQL")
    person = Person(services)
    await person.onboard()

    async def racing(turn: Turn) -> None:
        async with services.sessions() as other:
            patient = await repo.get_patient(other, person.user_id)
            assert patient is not None
            patient.nudges_enabled = False  # theirs, committed first
            await other.commit()
        turn.patient.weekly_weekday = 3  # ours, on the version read before theirs
        turn.response.add("changed")

    response = await conversation.run(services, person.event, racing)
    assert response.answer == "Already recorded. Thank you."
    assert response.replies == []
    stored = await person.stored()
    assert (stored.nudges_enabled, stored.weekly_weekday) == (False, None)
