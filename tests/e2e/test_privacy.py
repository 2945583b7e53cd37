"""End to end: /privacy (and /confidentialite), in the menu and in /help; /delete erases the
person's handled messages from the inbox too."""

from __future__ import annotations

from sqlalchemy import select

from db.models import InboxUpdate
from tests.e2e.test_onboarding import USER, onboard
from tests.support.harness import running_bot


async def test_privacy_says_what_is_stored_and_who_to_contact(database_url: str) -> None:
    async with running_bot(
        database_url, start_dispatcher=False, privacy_contact="privacy@example.org"
    ) as bot:
        text = (await bot.say(USER, "/privacy")).text  # before /start: no person needed
        assert text.startswith("Your data and privacy")
        assert "No name, username or phone number" in text
        assert "up to 48 hours after they are handled" in text
        assert "the person who runs this bot" in text
        assert "/export" in text and "/delete" in text
        assert "Contact: privacy@example.org" in text
        menu = {c["command"] for c in bot.server.commands_for(language_code="en")}
        assert "privacy" in menu
        assert "/privacy" in (await bot.say(USER, "/help")).text


async def test_privacy_in_french_without_a_contact(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False, inbox_retention_hours=1) as bot:
        text = (await bot.say(USER, "/confidentialite", language_code="fr")).text
        assert text.startswith("Vos données et leur confidentialité")
        assert "jusqu’à 1 heure après leur traitement" in text
        assert "/exporter" in text and "/supprimer" in text
        assert "l’exploitant de ce bot n’a indiqué aucun contact" in text
        menu = {c["command"] for c in bot.server.commands_for(language_code="fr")}
        assert "confidentialite" in menu


async def test_delete_erases_the_persons_messages_from_the_inbox(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.say(USER, "I can feel it in my calf")
        await bot.say(USER, "/delete")
        await bot.tap(USER, "Yes, erase everything")
        async with bot.services.sessions() as db:
            kept = (
                await db.execute(select(InboxUpdate.state).where(InboxUpdate.person_key == USER))
            ).scalars()
            # Only the press that asked for the erasure is left (it is marked once answered).
            assert len(list(kept)) <= 1
