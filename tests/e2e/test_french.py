"""End to end in French: a person whose Telegram is in French goes through onboarding, a
routine and its check-in, a verdict, /status, /pause 3 and /resume without meeting a word of
the English catalogue, then switches to English with /language."""

from __future__ import annotations

import re

from bot.rendering.i18n import texts_for
from tests.e2e.test_onboarding import patient
from tests.support.harness import BotHarness, running_bot

USER = 3003
FR = texts_for("fr")
EN = texts_for("en")


def english_fragments() -> set[str]:
    """Every piece of the English catalogue long enough to be recognised in a transcript: the
    texts with their tags removed, cut at the placeholders."""
    french = {re.sub(r"<[^>]+>", "", t) for t in FR.content.catalogue.texts.values()}
    fragments: set[str] = set()
    for text in EN.content.catalogue.texts.values():
        plain = re.sub(r"<[^>]+>", "", text)
        if plain in french:
            continue  # the same in both languages (a number pattern, a tick)
        for piece in re.split(r"\{[a-z_]+\}", plain):
            piece = piece.strip(" .,:;\n")
            if len(piece) >= 14 and "/" not in piece:
                fragments.add(piece)
    for exercise in EN.content.exercises:
        fragments.add(exercise.name)
    return fragments


async def tap(bot: BotHarness, key: str, **params: object) -> None:
    await bot.tap(USER, FR.t(key, **params))


async def test_a_french_person_never_meets_english(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await bot.say(USER, "/start", language_code="fr-FR")
        assert "pas médecin" in bot.texts(USER)[0]
        await tap(bot, "onboarding.consent_yes")
        await tap(bot, "duration.2to6w")
        await tap(bot, "stop_signals.none")
        await tap(bot, "side.left")
        for value in ("5", "2", "3"):
            await bot.tap(USER, value)
        await tap(bot, "measures.extent.3")
        await tap(bot, "function.skip")
        await bot.tap(USER, "8 h 00")
        await bot.say(USER, "il est 8 h 00")  # 07:00 UTC: Paris, Lagos, Berlin...
        # France first, then the French-speaking countries, the places named in French.
        assert bot.last(USER).text == FR.t("onboarding.zone_pick")
        assert bot.last(USER).buttons[:3] == [
            "Paris, France (Europe/Paris)",
            "Bruxelles, Belgique (Europe/Brussels)",
            "Zurich, Suisse (Europe/Zurich)",
        ]
        assert "Berlin, Allemagne (Europe/Berlin)" in bot.last(USER).buttons
        await bot.tap(USER, "Paris, France (Europe/Paris)")
        await tap(bot, "onboarding.zone_yes")
        await tap(bot, "onboarding.start_now")
        routine = bot.last(USER)
        assert any(t.startswith("Jour 1") for t in bot.texts(USER))  # the heading, first
        assert FR.t("buttons.done") in routine.buttons
        await tap(bot, "buttons.done")
        for value in ("7", "2", "3"):  # pain 5 -> 7: worse on the day exercise 1 was added
            await bot.tap(USER, value)
        await tap(bot, "measures.extent.3")
        await tap(bot, "stop_signals.none")
        verdict = bot.last(USER).text
        assert "exercice 1" in verdict
        status = await bot.say(USER, "/status")
        assert "Votre programme" in status.text
        paused = await bot.say(USER, "/pause 3")
        assert "pour 3 jours, jusqu’au jeudi 5 mars" in paused.text
        await bot.say(USER, "/resume")
        assert FR.t("pause.resumed") in bot.texts(USER)[-2:]
        assert "demain à 8 h 00" in bot.last(USER).text

        transcript = "\n".join(
            [*bot.texts(USER), *(b for m in bot.server.messages(USER) for b in m.buttons)]
        )
        leaked = sorted(f for f in english_fragments() if f in transcript)
        assert leaked == []
        row = await patient(bot, USER)
        assert row is not None
        assert row.language == "fr"

        await bot.say(USER, "/language")
        await bot.tap(USER, "English")
        assert bot.last(USER).text == EN.t("language.chosen")
        help_text = await bot.say(USER, "/help")
        assert "What I can do" in help_text.text
        assert (await patient(bot, USER)).language == "en"  # type: ignore[union-attr]


async def test_the_command_menu_is_set_in_each_language(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        french = {c["command"]: c["description"] for c in bot.server.commands_for(None, "fr")}
        english = {c["command"]: c["description"] for c in bot.server.commands_for(None, "en")}
        assert list(french) == [
            "aujourdhui",
            "questionnaire",
            "etat",
            "progres",
            "rapport",
            "exporter",
            "exercice",
            "pause",
            "reprendre",
            "recommencer",
            "heure",
            "fuseau",
            "jambe",
            "activites",
            "rappels",
            "hebdo",
            "langue",
            "aide",
            "confidentialite",
            "supprimer",
        ]
        assert french["aujourdhui"] == FR.t("commands.today")
        assert french["aide"] == FR.t("commands.help")
        assert french["reprendre"] == FR.t("commands.resume")
        assert french["activites"] == "Vos activités du quotidien"
        assert list(english)[:3] == ["today", "checkin", "status"]
        assert len(english) == len(french)
        assert english["today"] == EN.t("commands.today")
        assert english["help"] == EN.t("commands.help")
        assert bot.server.commands == bot.server.commands_for(None, "en")


async def test_french_command_names_work_for_everyone(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        french = await bot.say(USER, "/aide", language_code="fr-FR")
        assert french.text.startswith(FR.t("help.title"))
        assert "/aujourdhui" in french.text and "/reprendre" in french.text
        assert "/today" not in french.text
        english = await bot.say(USER + 1, "/aide", language_code="en-GB")
        assert english.text.startswith(EN.t("help.title"))
        assert "/today" in english.text and "/aujourdhui" not in english.text
        also = await bot.say(USER, "/help", language_code="fr-FR")  # English names work too
        assert also.text == french.text
