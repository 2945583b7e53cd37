"""Tests for the fake Bot API server's extensions: raw and repeated updates, holds, per-chat
failures, messages the person deleted, photo and album checks, webhook delivery, timings."""

from __future__ import annotations

import asyncio
import io
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from tests.support.botapi import (
    CHAT_NOT_FOUND,
    FIRST_UPDATE_ID,
    SECRET_HEADER,
    USER_DEACTIVATED,
    BotApiServer,
    image_size,
)

TOKEN = "123456:TEST-token-xxxxxxxxxxxxxxxxxxxxxxxx"
USER = 111
OTHER = 222
JSON = dict[str, Any]


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as srv:
        yield srv


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as b:
        yield b


async def raw_call(server: BotApiServer, method: str, **params: Any) -> tuple[int, JSON]:
    """One Bot API call with a JSON body, bypassing PTB's parsing of the answer."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{TOKEN}/{method}", json=params) as resp,
    ):
        return resp.status, await resp.json()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk: all the server reads of a PNG."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, an APP0 segment, fill bytes and a progressive SOF2 frame header."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof2 = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + b"\xff\xff" + sof2 + b"\xff\xd9"


def image(width: int, height: int, fmt: str = "PNG") -> bytes:
    """A real image file, as matplotlib or Pillow would write it."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buf, fmt)
    return buf.getvalue()


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


async def test_channel_post(server: BotApiServer, bot: Bot) -> None:
    server.channel_post(-100123, "/start news")
    (update,) = await bot.get_updates()
    post = update.channel_post
    assert post is not None and post.text == "/start news"
    assert post.chat.id == -100123 and post.chat.type == "channel"
    assert post.sender_chat is not None and post.sender_chat.id == -100123
    assert post.entities[0].type == "bot_command"
    with pytest.raises(ValueError, match="negative"):
        server.channel_post(5, "x")


# --------------------------------------------------------------------------- holds


async def test_hold_parks_until_release_in_arrival_order(server: BotApiServer, bot: Bot) -> None:
    hold = server.hold("sendMessage")
    first = asyncio.create_task(bot.send_message(USER, "first"))
    await hold.wait_held(1)
    second = asyncio.create_task(bot.send_message(USER, "second"))
    await hold.wait_held(2)
    assert hold.held == 2
    assert server.messages(USER) == []
    with pytest.raises(TimeoutError):  # parked requests are in flight: not settled
        await server.settle(quiet=0.01, timeout=0.1)

    hold.release()
    a, b = await asyncio.gather(first, second)
    assert a.message_id < b.message_id
    assert [m.text for m in server.messages(USER)] == ["first", "second"]
    assert hold.held == 0 and hold.released
    await server.settle(quiet=0.01)
    await bot.send_message(USER, "not held any more")


async def test_hold_by_chat_lets_other_chats_through(server: BotApiServer, bot: Bot) -> None:
    hold = server.hold("sendmessage", chat_id=USER)
    parked = asyncio.create_task(bot.send_message(USER, "parked"))
    await hold.wait_held()
    await bot.send_message(OTHER, "through")
    await bot.send_chat_action(USER, "typing")  # another method to the held chat
    assert [m.text for m in server.messages(OTHER)] == ["through"]
    assert server.messages(USER) == []
    hold.release()
    await parked
    assert server.last_message(USER).text == "parked"


async def test_released_requests_meet_failures_in_arrival_order(
    server: BotApiServer, bot: Bot
) -> None:
    hold = server.hold("sendMessage")
    first = asyncio.create_task(bot.send_message(USER, "first"))
    await hold.wait_held(1)
    second = asyncio.create_task(bot.send_message(USER, "second"))
    await hold.wait_held(2)
    server.fail_next("sendMessage", status=502)
    hold.release()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], Exception)
    assert [m.text for m in server.messages(USER)] == ["second"]


async def test_overlapping_holds_need_every_release(server: BotApiServer, bot: Bot) -> None:
    broad = server.hold("sendMessage")
    narrow = server.hold("sendMessage", chat_id=USER)
    task = asyncio.create_task(bot.send_message(USER, "x"))
    await broad.wait_held()
    broad.release()
    await narrow.wait_held()  # moved on to the next matching hold
    assert not task.done()
    narrow.release()
    await task
    assert server.last_message(USER).text == "x"


async def test_wait_held_times_out_readably(server: BotApiServer) -> None:
    hold = server.hold("sendMessage")
    with pytest.raises(TimeoutError, match=r"Hold sendMessage"):
        await hold.wait_held(1, timeout=0.05)


async def test_stop_releases_holds() -> None:
    async with BotApiServer() as server, Bot(TOKEN, base_url=server.base_url) as bot:
        hold = server.hold("sendMessage")
        task = asyncio.create_task(bot.send_message(USER, "late"))
        await hold.wait_held()
        started = time.monotonic()
        await server.stop()
        await asyncio.gather(task, return_exceptions=True)
        assert time.monotonic() - started < 2
        assert hold.released and hold.held == 0


# --------------------------------------------------------------------------- per-chat failures


async def test_fail_chat_until_cleared(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "before")
    server.fail_chat(USER, 400, CHAT_NOT_FOUND)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(USER, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.edit_message_text("y", chat_id=USER, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=keyboard(("A", "a")))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.delete_message(USER, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_photo(USER, image(10, 10))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_document(USER, b"x", filename="x.txt")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_media_group(USER, [InputMediaPhoto(image(10, 10))] * 2)
    await bot.send_message(OTHER, "other chats work")
    assert server.violations == []
    assert [m.text for m in server.messages(USER)] == ["before"]

    server.clear_chat_failures(USER)
    await bot.send_message(USER, "after")
    assert server.last_message(USER).text == "after"


async def test_fail_chat_times_and_deactivated(server: BotApiServer, bot: Bot) -> None:
    server.fail_chat(USER, 403, USER_DEACTIVATED, times=2)
    for _ in range(2):
        with pytest.raises(Forbidden, match="user is deactivated"):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "third works")
    assert [r.status for r in server.calls("sendMessage")] == [403, 403, 200]
    assert server.violations == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_chat_429_carries_retry_after(server: BotApiServer, bot: Bot) -> None:
    server.fail_chat(USER, 429, "Too Many Requests: retry after 7", times=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "x")


# --------------------------------------------------------------------------- deleted messages


async def test_edits_of_message_the_user_deleted(server: BotApiServer, bot: Bot) -> None:
    msg = await bot.send_message(USER, "hello", reply_markup=keyboard(("A", "a")))
    server.user_deletes(USER, msg.message_id)
    assert server.messages(USER) == []
    assert server.message(USER, msg.message_id).deleted_by_user
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("new", chat_id=USER, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(USER, msg.message_id)
    assert server.violations == []  # the bot could not know
    assert server.calls("editMessageText")[0].description == (
        "Bad Request: message to edit not found"
    )
    with pytest.raises(LookupError):
        server.user_deletes(USER, 999)


async def test_edits_of_missing_or_bot_deleted_messages_are_violations(
    server: BotApiServer, bot: Bot
) -> None:
    msg = await bot.send_message(USER, "hello")
    await bot.delete_message(USER, msg.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("new", chat_id=USER, message_id=msg.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(USER, 999, reply_markup=None)
    assert len(server.violations) == 2


# --------------------------------------------------------------------------- photos


def test_image_size_reads_headers() -> None:
    assert image_size(png_header(640, 480)) == (640, 480)
    assert image_size(jpeg_header(300, 200)) == (300, 200)
    assert image_size(image(33, 21)) == (33, 21)
    assert image_size(image(47, 19, "JPEG")) == (47, 19)
    assert image_size(b"\x89PNG fake") is None
    assert image_size(b"\xff\xd8\xff\xd9") is None
    assert image_size(b"GIF89a") is None


async def test_send_photo_checks_dimensions(server: BotApiServer, bot: Bot) -> None:
    for ok in (image(64, 48), image(64, 48, "JPEG"), png_header(5000, 5000), png_header(2000, 100)):
        await bot.send_photo(USER, ok)
    assert server.uploads == {"sendPhoto": 4}
    assert server.violations == []
    bad = (
        png_header(9000, 1001),  # width + height > 10000
        png_header(2100, 100),  # aspect ratio 21
        jpeg_header(100, 2001),
        png_header(0, 10),
        png_header(100, 100) + bytes(10 * 1024 * 1024),  # over 10 MB
    )
    for photo in bad:
        with pytest.raises(BadRequest, match=r"^Photo_invalid_dimensions$"):
            await bot.send_photo(USER, photo)
    assert len(server.violations) == len(bad)
    assert len(server.messages(USER)) == 4


async def test_unreadable_photo_rejected_only_when_strict(server: BotApiServer, bot: Bot) -> None:
    await bot.send_photo(USER, b"not an image")  # placeholder bytes, as older tests send
    server.strict_photos = True
    with pytest.raises(BadRequest, match=r"^Photo_invalid_dimensions$"):
        await bot.send_photo(USER, b"not an image")


async def test_photo_caption_length_after_parsing(server: BotApiServer, bot: Bot) -> None:
    await bot.send_photo(USER, image(8, 8), caption="&lt;" * 1024, parse_mode=ParseMode.HTML)
    assert server.last_message(USER).text == "<" * 1024
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(USER, image(8, 8), caption="<b>x</b>" + "y" * 1024, parse_mode="HTML")


async def test_photo_file_ids_reuse_and_forget(server: BotApiServer, bot: Bot) -> None:
    sent = await bot.send_photo(USER, image(20, 20))
    assert server.uploads == {"sendPhoto": 1}
    largest, smallest = sent.photo[-1].file_id, sent.photo[0].file_id
    await bot.send_photo(USER, largest)
    await bot.send_photo(USER, smallest)
    assert server.uploads == {"sendPhoto": 1}  # no second upload
    assert server.file_id_reuses == {"sendPhoto": 2}
    assert server.last_message(USER).kind == "photo"
    assert server.violations == []

    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier/http url specified"):
        await bot.send_photo(USER, "made-up-id")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(USER, "https://example.org/a.png")
    assert len(server.violations) == 2  # ids the server never issued

    server.forget_file_ids()
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(USER, largest)
    assert len(server.violations) == 2  # a rejected stored id is Telegram's doing
    fresh = await bot.send_photo(USER, image(20, 20))
    await bot.send_photo(USER, fresh.photo[-1].file_id)
    assert server.uploads == {"sendPhoto": 2}


async def test_user_photo_file_id_can_be_sent(server: BotApiServer, bot: Bot) -> None:
    server.send_photo(USER)
    (update,) = await bot.get_updates()
    assert update.message is not None
    await bot.send_photo(USER, update.message.photo[-1].file_id)
    assert server.violations == []


async def test_send_photo_attach_uri(server: BotApiServer) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("photo", "attach://pic")
    form.add_field("pic", image(30, 10), filename="pic.png", content_type="image/png")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{TOKEN}/sendPhoto", data=form) as resp,
    ):
        assert resp.status == 200
    assert server.last_message(USER).kind == "photo"
    assert server.uploads == {"sendPhoto": 1}


# --------------------------------------------------------------------------- albums


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_send_media_group(server: BotApiServer, transport: str) -> None:
    # The bot's own transport sends multipart bodies differently from PTB's default (httpx).
    from bot.botapi.transport import AiohttpRequest

    request = AiohttpRequest() if transport == "aiohttp" else None
    async with Bot(TOKEN, base_url=server.base_url, request=request) as bot:
        album = [
            InputMediaPhoto(image(40, 30), caption="<b>Step 1</b>", parse_mode=ParseMode.HTML),
            InputMediaPhoto(image(30, 40, "JPEG"), caption="Step 2"),
            InputMediaPhoto(image(20, 20)),
        ]
        messages = await bot.send_media_group(USER, album)
        assert len(messages) == 3
        group = messages[0].media_group_id
        assert group is not None and all(m.media_group_id == group for m in messages)
        assert all(m.photo for m in messages)
        assert messages[0].caption == "Step 1"
        assert messages[0].caption_entities[0].type == "bold"
        stored = server.messages(USER)
        assert [m.kind for m in stored] == ["photo"] * 3
        assert [m.text for m in stored] == ["Step 1", "Step 2", ""]
        assert [m.message_id for m in stored] == [m.message_id for m in messages]
        assert all(m.media_group_id == group for m in stored)
        assert server.uploads == {"sendMediaGroup": 3}

        again = await bot.send_media_group(
            USER, [InputMediaPhoto(m.photo[-1].file_id) for m in messages]
        )
        assert again[0].media_group_id != group
        assert server.uploads == {"sendMediaGroup": 3}  # reused, not uploaded again
        assert server.file_id_reuses == {"sendMediaGroup": 3}
        assert len(server.messages(USER)) == 6
        assert server.violations == []


async def test_media_group_rejections(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)wrong number of media items"):
        await bot.send_media_group(USER, [InputMediaPhoto(image(8, 8))])
    with pytest.raises(BadRequest, match=r"(?i)wrong number of media items"):
        await bot.send_media_group(USER, [InputMediaPhoto(image(8, 8)) for _ in range(11)])
    with pytest.raises(BadRequest, match=r"^Photo_invalid_dimensions$"):
        await bot.send_media_group(
            USER, [InputMediaPhoto(image(8, 8)), InputMediaPhoto(png_header(3000, 100))]
        )
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_media_group(
            USER, [InputMediaPhoto(image(8, 8)), InputMediaPhoto(image(8, 8), caption="x" * 1025)]
        )
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_media_group(USER, [InputMediaPhoto("nope"), InputMediaPhoto("nope2")])
    assert server.messages(USER) == []  # a rejected album sends nothing
    assert len(server.violations) == 5
    assert server.violations[0].startswith(
        "sendMediaGroup: Bad Request: wrong number of media items"
    )
    status, body = await raw_call(
        server,
        "sendMediaGroup",
        chat_id=USER,
        media=[{"type": "video", "media": "v1"}, {"type": "video", "media": "v2"}],
    )
    assert status == 400 and "not supported" in body["description"]


# --------------------------------------------------------------------------- webhook


class Receiver:
    """The bot's side of a webhook: records deliveries and answers as scripted."""

    def __init__(self) -> None:
        self.url = ""
        self.got: list[JSON] = []
        self.secrets: list[str | None] = []
        self.script: dict[int, list[int]] = {}  # update_id -> statuses for its next attempts
        self.gate: asyncio.Event | None = None  # while set to an unset event, answers wait
        self.active = 0
        self.peak = 0
        self.on_update: Callable[[JSON], Awaitable[None]] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.got.append(body)
        self.secrets.append(request.headers.get(SECRET_HEADER))
        statuses = self.script.get(body["update_id"])
        status = statuses.pop(0) if statuses else 200
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.on_update is not None and status < 300:  # refused updates come again
                await self.on_update(body)
        finally:
            self.active -= 1
        return web.Response(status=status)

    @property
    def ids(self) -> list[int]:
        return [u["update_id"] for u in self.got]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield rec
    finally:
        if rec.gate is not None:
            rec.gate.set()
        await runner.cleanup()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_delivers_with_secret(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token="s3cret-_", max_connections=1)
    first = server.send_text(USER, "/start")
    second = server.send_text(USER, "hello")
    await server.settle(quiet=0.01)
    assert receiver.got == [first, second]
    assert receiver.secrets == ["s3cret-_", "s3cret-_"]
    assert server.webhook_deliveries == [(first["update_id"], 200), (second["update_id"], 200)]
    assert server.pending_updates == 0
    info = await bot.get_webhook_info()
    assert info.url == receiver.url and info.pending_update_count == 0
    assert info.max_connections == 1 and info.last_error_message is None
    with pytest.raises(Conflict):
        await bot.get_updates()
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook(receiver.url, secret_token="no spaces")


async def test_webhook_without_secret_sends_no_header(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    server.send_text(USER, "hi")
    await server.settle(quiet=0.01)
    assert receiver.secrets == [None]


async def test_webhook_retries_and_reports_the_last_error(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, max_connections=1)
    ids = [server.send_text(USER, f"m{i}")["update_id"] for i in range(3)]
    receiver.script[ids[1]] = [500]
    await server.settle(quiet=0.01)
    # The first round may start before every update was injected; all attempts keep order.
    assert server.webhook_deliveries[-1] == (ids[1], 200)
    assert (ids[1], 500) in server.webhook_deliveries
    assert sorted(set(receiver.ids)) == ids
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None


async def test_webhook_round_order_is_deterministic(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    ids = [server.send_text(USER, f"m{i}")["update_id"] for i in range(3)]
    receiver.script[ids[1]] = [502]
    await bot.set_webhook(receiver.url, max_connections=1)  # all three pending already
    await server.settle(quiet=0.01)
    assert server.webhook_deliveries == [
        (ids[0], 200),
        (ids[1], 502),
        (ids[2], 200),
        (ids[1], 200),
    ]


async def test_webhook_connection_errors_then_recovery(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(f"http://127.0.0.1:{closed_port()}/hook")
    uid = server.send_text(USER, "hi")["update_id"]
    await server.wait_for(lambda: len(server.webhook_deliveries) >= 2)
    assert set(server.webhook_deliveries) == {(uid, 0)}
    assert (await bot.get_webhook_info()).last_error_message == "Connection refused"
    with pytest.raises(TimeoutError):
        await server.settle(quiet=0.01, timeout=0.1)  # not confirmed yet
    await bot.set_webhook(receiver.url)
    await server.settle(quiet=0.01)
    assert receiver.ids == [uid]
    assert server.webhook_deliveries[-1] == (uid, 200)


async def test_webhook_to_a_remote_host_never_leaves_the_machine(
    server: BotApiServer, bot: Bot
) -> None:
    await bot.set_webhook("https://example.org/hook")
    uid = server.send_text(USER, "hi")["update_id"]
    await server.wait_for(lambda: server.webhook_deliveries)
    assert server.webhook_deliveries[0] == (uid, 0)
    info = await bot.get_webhook_info()
    assert info.last_error_message is not None and "127.0.0.1" in info.last_error_message
    await bot.delete_webhook()


@pytest.mark.parametrize(("limit", "peak"), [(2, 2), (None, 5)])
async def test_webhook_max_connections(
    server: BotApiServer, bot: Bot, receiver: Receiver, limit: int | None, peak: int
) -> None:
    receiver.gate = asyncio.Event()
    for i in range(5):
        server.send_text(USER, f"m{i}")
    await bot.set_webhook(receiver.url, max_connections=limit)
    await server.wait_for(lambda: receiver.active == peak)
    await asyncio.sleep(0.05)  # give a third connection the chance to (wrongly) open
    assert receiver.peak == peak
    receiver.gate.set()
    await server.settle(quiet=0.01)
    assert sorted(receiver.ids) == list(range(FIRST_UPDATE_ID, FIRST_UPDATE_ID + 5))


async def test_webhook_chat_order_sends_a_chat_one_update_at_a_time(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    server.webhook_chat_order = True
    receiver.gate = asyncio.Event()
    mine = [server.send_text(USER, f"m{i}")["update_id"] for i in range(3)]
    other = server.send_text(OTHER, "hi")["update_id"]
    receiver.script[mine[0]] = [500]
    await bot.set_webhook(receiver.url, max_connections=10)  # all four pending already
    # One update per chat in flight: the first of each chat.
    await server.wait_for(lambda: receiver.active == 2)
    assert sorted(receiver.ids) == sorted([mine[0], other])
    receiver.gate.set()
    await server.settle(quiet=0.01)
    # The refused update held the rest of its chat back: the chat's order never changed.
    assert [u for u in receiver.ids if u in mine] == [mine[0], *mine]
    assert receiver.peak == 2


async def test_delete_webhook_leaves_unconfirmed_for_get_updates(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    uid = server.send_text(USER, "hi")["update_id"]
    receiver.script[uid] = [500] * 1000
    await server.wait_for(lambda: server.webhook_deliveries)
    await bot.delete_webhook()
    assert server.webhook_url is None
    attempts = len(server.webhook_deliveries)
    with pytest.raises(TimeoutError):  # nobody has it now: not settled
        await server.settle(quiet=0.01, timeout=0.1)
    assert len(server.webhook_deliveries) == attempts  # two retry delays passed: stopped
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [uid]
    await bot.get_updates(offset=uid + 1)
    assert server.pending_updates == 0
    await server.settle(quiet=0.01)


async def test_delete_webhook_drop_pending(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    uid = server.send_text(USER, "hi")["update_id"]
    receiver.script[uid] = [500] * 1000
    await server.wait_for(lambda: server.webhook_deliveries)
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert server.pending_updates == 0
    await server.settle(quiet=0.01)


async def test_webhook_allowed_updates(server: BotApiServer, bot: Bot, receiver: Receiver) -> None:
    await bot.send_message(USER, "pick", reply_markup=keyboard(("A", "a")))
    await bot.set_webhook(receiver.url, allowed_updates=["callback_query"])
    server.send_text(USER, "dropped")
    server.press(USER, server.last_message(USER), "A")
    await server.settle(quiet=0.01)
    assert [next(k for k in u if k != "update_id") for u in receiver.got] == ["callback_query"]
    assert server.pending_updates == 0
    assert (await bot.get_webhook_info()).allowed_updates == ("callback_query",)


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


async def test_settle_and_wait_for_with_an_application_on_a_webhook(
    server: BotApiServer, receiver: Receiver
) -> None:
    async def reply(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo {update.effective_message.text}")

    app: Application = (  # type: ignore[type-arg]
        ApplicationBuilder().token(TOKEN).base_url(server.base_url).updater(None).build()
    )
    app.add_handler(MessageHandler(filters.TEXT, reply))

    async def enqueue(body: JSON) -> None:
        # What PTB's own webhook server does: parse, queue, answer 200 at once.
        await app.update_queue.put(Update.de_json(body, app.bot))

    receiver.on_update = enqueue
    async with app:
        await app.start()
        try:
            await app.bot.set_webhook(receiver.url, secret_token="tok")
            ids = [server.send_text(USER, "one")["update_id"]]
            ids.append(server.send_text(USER, "two")["update_id"])
            receiver.script[ids[1]] = [503, 503]
            await server.settle()
            assert sorted(t.text for t in server.messages(USER)) == ["echo one", "echo two"]
            assert [s for _, s in server.webhook_deliveries].count(503) == 2
            server.send_text(USER, "three")
            await server.wait_for(lambda: server.last_message(USER).text == "echo three")
        finally:
            await app.stop()
    assert server.violations == []


# --------------------------------------------------------------------------- timing records


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_requests_record_monotonic_arrival(server: BotApiServer, bot: Bot) -> None:
    before = time.monotonic()
    server.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "y")
    after = time.monotonic()
    first, second = server.calls("sendMessage")
    assert before <= first.monotonic <= second.monotonic <= after
    assert first.status == 429 and second.status == 200
