"""End to end: the exercise pictures — with the routine on the day an exercise is new, on demand
with "Show me how" and /howto, uploaded once per bot and reused (after a restart too), and
uploaded again when Telegram refuses a stored file_id."""

from __future__ import annotations

from bot.rendering.poses import picture_version
from bot.runtime.picture_ids import MediaCache
from db import media as media_queries
from tests.e2e.test_course import check_in, next_day
from tests.e2e.test_onboarding import USER, onboard
from tests.support.botapi import BotApiServer, SentMessage
from tests.support.harness import BotHarness, running_bot

OTHER = 2002


def photos(bot: BotHarness, user: int = USER) -> list[SentMessage]:
    return [m for m in bot.server.messages(user) if m.kind == "photo"]


def picture_names(bot: BotHarness, shown: list[SentMessage]) -> list[str | None]:
    """Which picture each photo shows (the name it was first uploaded under)."""
    return [bot.server.file_name(m.file_id) for m in shown]


def count_drawings(bot: BotHarness) -> list[str]:
    """The keys of the still pictures the bot draws (in its render workers) from now on."""
    media = bot.services.media
    assert isinstance(media, MediaCache)
    drawn: list[str] = []
    draw = media.render

    async def counted(key: str) -> bytes:
        if not key.startswith("a"):  # the pictures; animations are drawn to disk apart
            drawn.append(key)
        return await draw(key)

    media.render = counted
    return drawn


async def test_day_one_comes_with_exercise_one_pictures_uploaded_once(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        drawn = count_drawings(bot)
        await onboard(bot)
        album = photos(bot)
        assert len(album) == 4  # lying down, on elbows, elbows closer, pressing up
        assert len({m.media_group_id for m in album}) == 1
        assert album[0].text.startswith("1. Lying back bend (press-up)")
        assert "Lie face down" in album[0].text
        # Exercise 1, the back exercise, has no leg with symptoms: no orange leg to explain.
        assert "orange" not in album[0].text
        assert picture_names(bot, album) == ["e1s1.png", "e1s2.png", "e1s3.png", "e1s4.png"]
        assert all(m.text for m in album)  # every picture says the position in words
        # The day's heading comes first, then the pictures, then the steps with the buttons.
        messages = bot.server.messages(USER)
        heading = next(i for i, m in enumerate(messages) if m.text.startswith("Day 1"))
        assert heading < messages.index(album[0]) and messages[-1] is bot.last(USER)
        assert "Lie face down" in bot.last(USER).text and "Done" in bot.last(USER).buttons
        assert bot.server.uploads.get("sendMediaGroup") == 4

        # Drawn (in the render workers) only to be uploaded; kept under each picture's version.
        assert drawn == ["e1s1", "e1s2", "e1s3", "e1s4"]
        async with bot.services.sessions() as db:
            stored = await media_queries.file_ids(db, bot.app.bot.id)
        pictures = sorted(key for key in stored if key.startswith("e"))  # (and the animation)
        assert pictures == [picture_version(f"e1s{stage}") for stage in range(1, 5)]

        await onboard(bot, OTHER)
        assert len(photos(bot, OTHER)) == 4
        assert bot.server.uploads.get("sendMediaGroup") == 4  # no second upload
        assert bot.server.file_id_reuses.get("sendMediaGroup") == 4
        assert len(drawn) == 4  # nor a second drawing


async def test_show_me_how_and_howto_send_the_right_exercise(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        await bot.tap(USER, "Done")
        await check_in(bot, 4, 2, 3, 3)
        await next_day(bot)
        routine = bot.last(USER)
        assert routine.buttons[-2:] == ["Show me how: 1", "Show me how: 2"]
        before = len(photos(bot))
        await bot.tap(USER, "Show me how: 2", message=routine)
        shown = photos(bot)[before:]
        assert [m.text.split("\n")[0] for m in shown[:1]] == [
            "2. Nerve glide with ankle pumps (both legs)"
        ]
        assert len(shown) == 2
        steps, buttons = bot.server.messages(USER)[-2:]
        assert "2. Nerve glide with ankle pumps (both legs)" in steps.text
        assert buttons.buttons == [
            "Done",
            "Not today",
            "Had to stop",
            "Start",
        ]  # still last on screen

        before = len(photos(bot))
        await bot.say(USER, "/howto 5")
        assert photos(bot)[before].text.startswith("5. Buttock stretch (piriformis)")
        usage = await bot.say(USER, "/howto 9")
        assert "from 1 to 5" in usage.text


async def test_a_refused_file_id_is_uploaded_again_and_ids_survive_a_restart(
    database_url: str,
) -> None:
    async with BotApiServer() as server:
        async with running_bot(database_url, server=server) as bot:
            await onboard(bot)
            assert server.uploads.get("sendMediaGroup") == 4
        async with running_bot(database_url, server=server) as bot:
            drawn = count_drawings(bot)
            await bot.say(USER, "/howto 1")  # the stored file_ids, after a restart
            assert server.uploads.get("sendMediaGroup") == 4
            assert drawn == []  # nothing drawn to send a picture Telegram holds
            server.forget_file_ids()  # Telegram no longer knows them
            await bot.say(USER, "/howto 1")
            assert server.uploads.get("sendMediaGroup") == 8
            assert drawn == ["e1s1", "e1s2", "e1s3", "e1s4"]
            assert len([m for m in server.messages(USER) if m.kind == "photo"]) == 12


async def test_each_person_sees_their_own_leg_and_each_side_is_uploaded_once(
    database_url: str,
) -> None:
    """A left-leg and a right-leg person: the new exercise's album, "Show me how" and /howto
    show their leg (mirrored drawings, cached per side); a third person's file_ids are reused."""
    third = 3003
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot, USER, side="Left leg")
        await onboard(bot, OTHER, side="Right leg")
        await onboard(bot, third, side="Left leg")
        for user in (USER, OTHER, third):
            await bot.tap(user, "Done")
            for value in ("4", "2", "3"):
                await bot.tap(user, value)
            await bot.tap(user, "Thigh, above the knee")
            await bot.tap(user, "None of these")
        bot.clock.advance(days=1)
        for user in (USER, OTHER, third):
            await bot.say(user, "/today")
        expected = {USER: "left", OTHER: "right", third: "left"}
        for user, side in expected.items():
            album = photos(bot, user)[4:]  # after day 1's exercise 1
            assert picture_names(bot, album) == [f"e2s1-{side}.png", f"e2s2-{side}.png"]
            assert album[0].text.startswith("2. Nerve glide with ankle pumps (both legs)")
            assert "The leg with symptoms is shown in orange." in album[0].text
        # Uploaded once per side; the third person got the left-leg file_ids again.
        assert bot.server.uploads.get("sendMediaGroup") == 4 + 2 + 2

        before = len(photos(bot, USER))
        await bot.say(USER, "/howto 5")
        shown = photos(bot, USER)[before:]
        assert picture_names(bot, shown) == ["e5s1-left.png", "e5s2-left.png"]
        before = len(photos(bot, OTHER))
        await bot.say(OTHER, "/howto 4")
        assert picture_names(bot, photos(bot, OTHER)[before:]) == [
            "e4s1-right.png",
            "e4s2-right.png",
        ]

        # /side changes the leg: the next pictures show the other one.
        await bot.say(OTHER, "/side")
        await bot.tap(OTHER, "Left leg")
        status = await bot.say(OTHER, "/status")
        assert "Symptoms in: your left leg" in status.text
        before = len(photos(bot, OTHER))
        await bot.say(OTHER, "/howto 4")
        assert picture_names(bot, photos(bot, OTHER)[before:]) == [
            "e4s1-left.png",
            "e4s2-left.png",
        ]
