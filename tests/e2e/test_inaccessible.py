"""End to end: a button pressed on a message Telegram says can no longer be edited (an
InaccessibleMessage: deleted, or too old) is answered with a new message, never an edit."""

from __future__ import annotations

from tests.e2e.test_onboarding import USER, onboard
from tests.support.harness import running_bot


async def test_a_press_on_a_deleted_card_is_answered_with_a_new_message(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        card = bot.last_with(USER, "4")
        assert "pain" in card.text.lower()
        bot.server.user_deletes(USER, card.message_id)
        edits_before = bot.server.count("editMessageText")
        sent_before = len(bot.server.messages(USER))

        answer = await bot.tap(USER, "4", card)

        assert "not found" not in answer
        assert bot.server.count("editMessageText") == edits_before  # no edit was even tried
        new = bot.server.messages(USER)[sent_before:]
        assert len(new) == 1
        assert "numbness" in new[0].text.lower()  # the card's next step, as a new message
        await bot.tap(USER, "2", new[0])  # and the new card goes on as usual
        assert "tingling" in bot.last(USER).text.lower()
