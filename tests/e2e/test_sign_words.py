"""End to end: the numbers each language and country gets (clinical.md §1), and free text that
names a warning sign leading straight to the stop-signal question (clinical.md §2)."""

from __future__ import annotations

import pytest

from bot.domain.program import PatientStatus
from bot.rendering.i18n import texts_for
from db.models import ReportKind
from db.repo import reports_of
from tests.e2e.test_day_cards import onboard as onboard_in
from tests.e2e.test_onboarding import USER as CARD_USER
from tests.e2e.test_onboarding import patient
from tests.support.harness import BotHarness, running_bot

USER = 3003
FR = texts_for("fr")
EN = texts_for("en")
EN_LIST = "(999 in the UK, 911 in the US and Canada, 112 in Europe)"
FR_LIST = "(15 ou 112 en France, 112 en Belgique, 144 en Suisse, 911 au Canada)"


async def _screen_bladder(bot: BotHarness, language_code: str) -> str:
    texts = texts_for(language_code[:2])
    await bot.say(USER, "/start", language_code=language_code)
    await bot.tap(USER, texts.t("onboarding.consent_yes"))
    await bot.tap(USER, texts.t("duration.lt2w"))
    await bot.tap(USER, texts.t("stop_signals.bladder.short"))
    await bot.tap(USER, texts.t("checkin.signals_done"))
    await bot.tap(USER, texts.t("stop_signals.confirm_yes"))
    return bot.last(USER).text


async def test_a_sign_at_screening_before_the_zone_gives_the_english_list(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        advice = await _screen_bladder(bot, "en")
        assert EN_LIST in advice
        assert "Suisse" not in advice and " 15 " not in advice


async def test_a_sign_at_screening_before_the_zone_gives_the_french_list(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        advice = await _screen_bladder(bot, "fr-FR")
        assert advice.startswith(FR.t("verdict.emergency_signal.title"))
        assert FR_LIST in advice
        assert "999" not in advice and "UK" not in advice


async def _onboard_in_paris(bot: BotHarness) -> None:
    await bot.say(USER, "/start", language_code="fr-FR")
    await bot.tap(USER, FR.t("onboarding.consent_yes"))
    await bot.tap(USER, FR.t("duration.2to6w"))
    await bot.tap(USER, FR.t("stop_signals.none"))
    await bot.tap(USER, FR.t("side.right"))
    for value in ("5", "2", "3"):
        await bot.tap(USER, value)
    await bot.tap(USER, FR.t("measures.extent.3"))
    await bot.tap(USER, FR.t("function.skip"))
    await bot.tap(USER, "8 h 00")
    await bot.say(USER, "Europe/Paris")
    await bot.tap(USER, FR.t("onboarding.zone_yes"))
    await bot.tap(USER, FR.t("onboarding.start_now"))


async def test_a_french_person_in_paris_typing_a_sign_gets_15_and_116_117(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await _onboard_in_paris(bot)
        confirm = await bot.say(USER, "J’ai de la FIÈVRE et des frissons depuis hier")
        assert confirm.text.startswith(FR.t("verdict.words.intro"))
        assert FR.t("stop_signals.fever.full") in confirm.text
        assert confirm.text.endswith(FR.t("stop_signals.confirm_question"))
        assert confirm.buttons == [FR.t("stop_signals.confirm_yes"), FR.t("verdict.words.change")]
        await bot.tap(USER, FR.t("stop_signals.confirm_yes"))
        advice = bot.last(USER)
        assert advice.text.startswith(FR.t("verdict.urgent_signal.title"))
        assert "Appelez aujourd’hui le 116 117 (médecin de garde" in advice.text
        assert "Appelez le 15 (SAMU) ou le 112 maintenant" in advice.text
        assert advice.buttons == [FR.t("hold.getting_help")]
        row = await patient(bot, USER)
        assert row is not None and row.status == PatientStatus.SAFETY_HOLD
        assert row.hold_tier == "urgent"


async def test_a_sign_typed_where_a_time_is_expected_goes_to_the_screening_confirm(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await bot.say(USER, "/start")
        await bot.tap(USER, "Yes, store my answers")
        await bot.tap(USER, "2 to 6 weeks")
        await bot.tap(USER, "None of these")
        await bot.tap(USER, "Right leg")
        for value in ("5", "2", "3"):
            await bot.tap(USER, value)
        await bot.tap(USER, EN.t("measures.extent.3"))
        await bot.tap(USER, EN.t("function.skip"))
        # The reminder time is asked; the person writes about a sign instead.
        confirm = await bot.say(USER, "sorry, I wet myself this morning")
        assert EN.t("stop_signals.bladder.full") in confirm.text
        await bot.tap(USER, "No, change")
        assert "✓ Bladder changes" in bot.last(USER).buttons
        await bot.tap(USER, "Continue")
        await bot.tap(USER, "Yes, that is right")
        advice = bot.last(USER)
        assert advice.text.startswith("Stop all exercise now and get emergency help.")
        assert EN_LIST in advice.text
        row = await patient(bot, USER)
        assert row is not None and row.status == PatientStatus.SAFETY_HOLD


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_half_answered_card_keeps_its_answers_when_the_signs_were_a_slip(
    database_url: str, language: str
) -> None:
    """Pain is in when the person writes words that may name a sign; they say no after all:
    the card goes on at the next question with the pain kept, and the report has it."""
    texts = texts_for(language)
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard_in(bot, texts)
        await bot.tap(CARD_USER, texts.t("buttons.done"))
        await bot.tap(CARD_USER, "7")
        words = "I wet myself" if language == "en" else "j’ai eu des fuites urinaires"
        confirm = await bot.say(CARD_USER, words)
        assert texts.t("stop_signals.bladder.full") in confirm.text
        await bot.tap(CARD_USER, texts.t("verdict.words.change"))
        await bot.tap(CARD_USER, "✓ " + texts.t("stop_signals.bladder.short"))
        await bot.tap(CARD_USER, texts.t("stop_signals.none"))
        resumed = bot.server.messages(CARD_USER)[-2:]
        assert resumed[0].text == texts.t("verdict.words.resume")
        assert resumed[1].text.endswith(texts.t("measures.numbness.question"))
        assert "7/10" in resumed[1].text
        assert resumed[1].buttons == [str(n) for n in range(11)]
        for value in ("2", "3"):
            await bot.tap(CARD_USER, value)
        await bot.tap(CARD_USER, texts.t("measures.extent.3"))
        await bot.tap(CARD_USER, texts.t("stop_signals.none"))
        row = await patient(bot, CARD_USER)
        assert row is not None and row.status == PatientStatus.ACTIVE
        async with bot.services.sessions() as db:
            reports = await reports_of(db, row.id)
        assert [(r.kind, r.pain, r.stop_signals) for r in reports][-1] == (
            ReportKind.SESSION,
            7,
            [],
        )
