"""End to end: everyday activities (PSFS, clinical.md §3) through the real bot and a local Bot
API, in both languages: named by choosing and by typing, rated one tap (or one typed number)
at a time on one card edited in place, skipped, rated again after the weekly look back, and
changed with /activities; never a safety verdict."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

from bot.domain.program import PatientStatus
from bot.rendering.i18n import Texts, texts_for
from bot.usecases.morning import dispatch_once
from db import repo
from tests.e2e.test_onboarding import USER, patient
from tests.support.botapi import SentMessage
from tests.support.dispatch import local
from tests.support.harness import BotHarness, running_bot

EN = texts_for("en")
FR = texts_for("fr")
PARIS = "Europe/Paris"
SOCKS = EN.t("function.common.socks")


async def to_activities(bot: BotHarness, texts: Texts) -> SentMessage:
    """Onboarding up to the activities card (after the baseline); returns the card."""
    await bot.say(USER, "/start", language_code=texts.language)
    await bot.tap(USER, texts.t("onboarding.consent_yes"))
    await bot.tap(USER, texts.t("duration.2to6w"))
    await bot.tap(USER, texts.t("stop_signals.none"))
    await bot.tap(USER, texts.t("side.right"))
    for value in ("5", "2", "3"):
        await bot.tap(USER, value)
    await bot.tap(USER, texts.t("measures.extent.3"))
    return bot.last(USER)


async def to_the_end(bot: BotHarness, texts: Texts) -> None:
    await bot.tap(USER, texts.time(time(8, 0)))
    await bot.say(USER, PARIS)
    await bot.tap(USER, texts.t("onboarding.zone_yes"))
    await bot.tap(USER, texts.t("onboarding.start_tomorrow"))


async def ratings(bot: BotHarness) -> list[tuple[str, int, str]]:
    row = await patient(bot)
    assert row is not None
    async with bot.services.sessions() as db:
        labels = {a.id: a.label for a in await repo.activities_of(db, row.id)}
        return [
            (labels[r.activity_id], r.rating, r.kind)
            for r in await repo.function_ratings_of(db, row.id)
        ]


async def test_named_rated_then_rated_again_after_the_weekly_look_back(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        card = await to_activities(bot, EN)
        intro = bot.server.messages(USER)[-2]
        assert intro.text.startswith("One more question, and you may skip it.")
        assert card.text == "Tap an activity, or type your own in a few words."
        assert SOCKS in card.buttons and "Skip" in card.buttons
        await bot.tap(USER, SOCKS)
        await bot.say(USER, "climbing stairs")
        await bot.tap(USER, "Done")
        await bot.tap(USER, "3")
        await bot.say(USER, "5/10")
        done = bot.server.message(USER, card.message_id)  # the same card, edited in place
        assert done.text == f"Your activities:\n• {SOCKS}: 3/10\n• Climbing stairs: 5/10"
        assert done.buttons == []
        assert await ratings(bot) == [(SOCKS, 3, "start"), ("Climbing stairs", 5, "start")]
        await to_the_end(bot, EN)
        # Every morning answered; the seventh day (Sunday 8 March) brings the look back.
        for offset in range(1, 7):
            at = local(date(2026, 3, 2) + timedelta(days=offset), time(8, 0), PARIS)
            bot.clock.set(at.astimezone(UTC))
            before = len(bot.server.messages(USER))
            await dispatch_once(bot.services, at)
            sent = bot.server.messages(USER)[before:]
            if offset < 6:
                assert not any("Your week" in m.text for m in sent)
                assert not any("this week" in m.text for m in sent)
                await bot.tap(USER, "Done")
                await bot.tap(USER, "4")
                await bot.tap(USER, "2")
                await bot.tap(USER, "3")
                await bot.tap(USER, EN.t("measures.extent.3"))
                await bot.tap(USER, "None of these")
        look_back = next(i for i, m in enumerate(sent) if "Your week" in m.text)
        weekly = sent[look_back + 1]  # right after the look back, before the day's routine
        assert weekly.text == (
            "Your everyday activities this week. How well can you do this now?\n"
            f"{SOCKS}\n0 = unable, 10 = as well as before the problem."
        )
        assert weekly.buttons == [str(i) for i in range(11)]
        assert "Done" in sent[-1].buttons  # the routine's buttons stay last
        await bot.tap(USER, "6", message=weekly)
        moved = bot.server.message(USER, weekly.message_id)
        assert moved.text.startswith(f"Your everyday activities this week:\n• {SOCKS}: 6/10")
        assert "Climbing stairs" in moved.text.splitlines()[-2]
        await bot.tap(USER, "7", message=moved)
        thanks = bot.server.message(USER, weekly.message_id)
        assert thanks.buttons == []
        assert thanks.text.endswith("Thank you, saved. This never changes the exercise advice.")
        assert await ratings(bot) == [
            (SOCKS, 3, "start"),
            ("Climbing stairs", 5, "start"),
            (SOCKS, 6, "weekly"),
            ("Climbing stairs", 7, "weekly"),
        ]
        progress = await bot.say(USER, "/progress")
        assert f"{SOCKS}: 3 → 6" in progress.text
        assert "Climbing stairs: 5 → 7" in progress.text
        assert "Average: 4 → 6.5" in progress.text


async def test_skipped_then_changed_with_activites_in_french(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        card = await to_activities(bot, FR)
        assert bot.server.messages(USER)[-2].text.startswith("Encore une question")
        await bot.tap(USER, FR.t("function.skip"))
        assert bot.server.message(USER, card.message_id).text.startswith("C’est passé.")
        assert bot.server.message(USER, card.message_id).buttons == []
        await to_the_end(bot, FR)
        row = await patient(bot)
        assert row is not None and row.status == PatientStatus.ACTIVE
        assert await ratings(bot) == []
        bot.clock.advance(days=1)
        await bot.say(USER, "/activites")
        texts = bot.texts(USER)
        assert texts[-3] == FR.t("function.current.none")
        assert texts[-2].startswith("Choisissez ou écrivez jusqu’à trois activités")
        await bot.tap(USER, FR.t("function.common.sitting"))
        await bot.say(USER, "monter l’escalier")
        await bot.tap(USER, "Terminé")
        await bot.tap(USER, "2")
        await bot.tap(USER, "4")
        assert bot.last(USER).text.startswith("C’est noté.")
        assert await ratings(bot) == [
            ("Rester assis une demi-heure", 2, "start"),
            ("Monter l’escalier", 4, "start"),
        ]
        # Changed again: the old ones are retired, their ratings kept.
        await bot.say(USER, "/activities")
        assert "Rester assis une demi-heure : 2/10" in bot.texts(USER)[-3]
        await bot.tap(USER, FR.t("function.common.lifting"))
        await bot.tap(USER, "Terminé")
        await bot.tap(USER, "1")  # much worse than before: informs, never a verdict
        assert len(await ratings(bot)) == 3
        row = await patient(bot)
        assert row is not None and row.status == PatientStatus.ACTIVE
        async with bot.services.sessions() as db:
            assert await repo.events_of(db, row.id) == []
            current = await repo.current_activities(db, row.id)
        assert [a.label for a in current] == ["Porter un sac"]
        progress = await bot.say(USER, "/progres")
        assert progress.text.endswith(
            "Activités du quotidien (0 = impossible, 10 = comme avant) :\n"
            "Porter un sac : 1 → 1\nMoyenne : 1 → 1"
        )
