"""The update queue through getUpdates: long polls, offsets, raw and repeated updates,
allowed_updates."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import pytest
from telegram import Bot, Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

from tests.support.botapi import FIRST_UPDATE_ID, BotApiServer
from tests.support.botapi.testkit import TOKEN, USER, raw_call

# --------------------------------------------------------------------------- long polling


async def test_long_poll_returns_on_inject(server: BotApiServer, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    sent = server.send_text(USER, "/pause 3")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.update_id for u in updates] == [sent["update_id"]]
    message = updates[0].message
    assert message is not None and message.text == "/pause 3"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]

    # Unconfirmed updates are returned again; offset confirms them.
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=sent["update_id"] + 1, timeout=0) == ()
    assert server.pending_updates == 0


async def test_get_updates_limit_and_timeout(server: BotApiServer, bot: Bot) -> None:
    for i in range(5):
        server.send_text(USER, f"m{i}")
    assert len(await bot.get_updates(limit=2)) == 2
    got = await bot.get_updates(offset=-1)
    assert len(got) == 1 and got[0].message is not None and got[0].message.text == "m4"
    started = time.monotonic()
    short = dtm.timedelta(seconds=0.3)
    assert await bot.get_updates(offset=got[0].update_id + 1, timeout=short) == ()
    assert 0.25 < time.monotonic() - started < 2


async def test_get_updates_allowed_updates(server: BotApiServer, bot: Bot) -> None:
    server.inject_raw({"chat_member": {"bogus": True}})  # opt-in type: dropped by default
    wanted = server.send_text(USER, "hi")
    _, body = await raw_call(server, "getUpdates")
    assert body["result"] == [wanted]

    server.send_text(USER, "not wanted")
    member = server.inject_raw({"chat_member": {"bogus": True}})
    _, body = await raw_call(
        server, "getUpdates", offset=wanted["update_id"] + 1, allowed_updates=["chat_member"]
    )
    assert body["result"] == [member]
    # The setting persists when a later call does not name it.
    server.send_text(USER, "still not wanted")
    _, body = await raw_call(server, "getUpdates", offset=member["update_id"] + 1)
    assert body["result"] == []
    assert server.pending_updates == 0
    await server.settle(quiet=0.01)


# --------------------------------------------------------------------------- raw and repeated


async def test_inject_raw_enqueues_anything(server: BotApiServer) -> None:
    update = server.inject_raw({"message": {"bogus": 1}})
    assert update == {"update_id": FIRST_UPDATE_ID, "message": {"bogus": 1}}
    assert server.last_update_id == FIRST_UPDATE_ID
    status, body = await raw_call(server, "getUpdates")
    assert status == 200
    assert body["result"] == [{"update_id": FIRST_UPDATE_ID, "message": {"bogus": 1}}]
    with pytest.raises(ValueError, match="update_id"):
        server.inject_raw({"update_id": 5, "message": {}})


async def test_redeliver_after_confirmation(server: BotApiServer) -> None:
    first = server.send_text(USER, "one")
    uid = first["update_id"]
    _, body = await raw_call(server, "getUpdates", offset=uid + 1)
    assert body["result"] == [] and server.pending_updates == 0  # confirmed

    server.redeliver(uid)
    newer = server.send_text(USER, "two")
    # The bot's offset is already past uid; the repeat must still come back once.
    _, body = await raw_call(server, "getUpdates", offset=uid + 1)
    assert body["result"] == [first, newer]
    _, body = await raw_call(server, "getUpdates", offset=newer["update_id"] + 1)
    assert body["result"] == []
    assert server.pending_updates == 0
    with pytest.raises(LookupError):
        server.redeliver(999)


async def test_redelivered_update_behind_newer_comes_in_its_own_batch(
    server: BotApiServer,
) -> None:
    first = server.send_text(USER, "one")
    newer = server.send_text(USER, "two")
    server.redeliver(first["update_id"])
    # Telegram never answers with a decreasing update_id, so the repeat waits.
    _, body = await raw_call(server, "getUpdates")
    assert [u["update_id"] for u in body["result"]] == [first["update_id"], newer["update_id"]]
    _, body = await raw_call(server, "getUpdates", offset=newer["update_id"] + 1)
    assert body["result"] == [first]
    _, body = await raw_call(server, "getUpdates", offset=first["update_id"] + 1)
    assert body["result"] == []
    assert server.pending_updates == 0


async def test_redelivery_reaches_the_application_and_settle_waits(server: BotApiServer) -> None:
    seen: list[int] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    app = ApplicationBuilder().token(TOKEN).base_url(server.base_url).build()
    app.add_handler(TypeHandler(Update, record))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            uid = server.send_text(USER, "hello")["update_id"]
            await server.settle()
            server.redeliver(uid)
            await server.settle()
            assert seen == [uid, uid]
            later = server.send_text(USER, "again")["update_id"]
            await server.settle()
            assert seen == [uid, uid, later]
        finally:
            await app.updater.stop()
            await app.stop()
    assert server.pending_updates == 0
