"""End to end: the exercise animations — sent with sendAnimation before the new exercise's
pictures and with "Show me how" / /howto, drawn for the person's leg and in their language,
uploaded once per bot (the MP4 from the render workers' files on disk) and reused by file_id."""

from __future__ import annotations

from bot.rendering.i18n import texts_for
from bot.rendering.offload import Renderer
from tests.e2e.test_onboarding import USER, onboard
from tests.support.botapi import SentMessage
from tests.support.harness import BotHarness, running_bot

OTHER = 2002
FR = texts_for("fr")


def animations(bot: BotHarness, user: int = USER) -> list[SentMessage]:
    return [m for m in bot.server.messages(user) if m.kind == "animation"]


def names(bot: BotHarness, shown: list[SentMessage]) -> list[str | None]:
    return [bot.server.file_name(m.file_id) for m in shown]


async def test_day_one_sends_the_animation_once_then_its_file_id(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        (shown,) = animations(bot)
        assert names(bot, [shown]) == ["a1-en.mp4"]
        assert shown.text.startswith("1. Lying back bend (press-up)")
        assert "About 10 times." in shown.text
        assert "orange" not in shown.text  # the back exercise has no leg with symptoms
        # The heading first, then the animation, the album, and the steps with the buttons.
        messages = bot.server.messages(USER)
        heading = next(i for i, m in enumerate(messages) if m.text.startswith("Day 1"))
        first_photo = next(i for i, m in enumerate(messages) if m.kind == "photo")
        assert heading < messages.index(shown) < first_photo
        assert "Done" in messages[-1].buttons
        assert bot.server.uploads.get("sendAnimation") == 1

        await onboard(bot, OTHER)
        (again,) = animations(bot, OTHER)
        # The second person gets the same animation by its cached file_id: no upload.
        assert again.file_id == shown.file_id
        assert bot.server.uploads.get("sendAnimation") == 1
        assert bot.server.file_id_reuses.get("sendAnimation") == 1
        assert bot.server.violations == []
        # The pictures and the animation were read from MEDIA_DIR (drawn before the tests, as
        # after a first run): no render worker was started for them.
        assert isinstance(bot.services.offload, Renderer) and not bot.services.offload.started


async def test_howto_shows_the_persons_leg_and_each_side_is_uploaded_once(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot, USER, side="Left leg")
        await onboard(bot, OTHER, side="Right leg")
        await bot.say(USER, "/howto 3")
        await bot.say(OTHER, "/howto 3")
        await bot.say(USER, "/howto 3")
        left, left_again = animations(bot, USER)[1:]
        (right,) = animations(bot, OTHER)[1:]
        assert names(bot, [left, right]) == ["a3-left-en.mp4", "a3-right-en.mp4"]
        assert left_again.file_id == left.file_id
        assert left.text.split("\n") == [
            "3. Nerve glide with knee straightening (sore leg)",
            "Straighten the knee only as far as you can tolerate, then back. About 20 times.",
            "The leg with symptoms is shown in orange.",
        ]
        # /howto: the animation, then the pictures, then the steps.
        messages = bot.server.messages(USER)
        at = messages.index(left_again)
        assert [m.kind for m in messages[at : at + 4]] == ["animation", "photo", "photo", "text"]
        assert "3. Nerve glide with knee straightening" in messages[at + 3].text
        assert bot.server.uploads.get("sendAnimation") == 1 + 2  # a1-en, a3-left, a3-right


async def test_a_french_person_gets_the_french_animation(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await bot.say(USER, "/start", language_code="fr-FR")
        await bot.tap(USER, FR.t("onboarding.consent_yes"))
        await bot.tap(USER, FR.t("duration.2to6w"))
        await bot.tap(USER, FR.t("stop_signals.none"))
        await bot.tap(USER, FR.t("side.left"))
        for value in ("5", "2", "3"):
            await bot.tap(USER, value)
        await bot.tap(USER, FR.t("measures.extent.3"))
        await bot.tap(USER, FR.t("function.skip"))
        await bot.tap(USER, "8 h 00")
        await bot.say(USER, "Paris")
        if bot.last(USER).text == FR.t("onboarding.zone_pick"):
            await bot.tap(USER, bot.last(USER).buttons[0])
        await bot.tap(USER, FR.t("onboarding.zone_yes"))
        await bot.tap(USER, FR.t("onboarding.start_now"))
        await bot.say(USER, "/howto 5")
        first, piriformis = animations(bot)
        assert names(bot, [first, piriformis]) == ["a1-fr.mp4", "a5-left-fr.mp4"]
        assert "tenez 30 secondes, puis relâchez et reposez-vous. 3 fois" in piriformis.text
        assert FR.t("pictures.legend") in piriformis.text
