"""The update queue through a webhook: secret, retries, connections, per-chat order,
switching back to getUpdates."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.support.botapi import FIRST_UPDATE_ID, JSON, SECRET_HEADER, BotApiServer
from tests.support.botapi.testkit import OTHER, TOKEN, USER, keyboard

# --------------------------------------------------------------------------- the bot's side


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


# --------------------------------------------------------------------------- delivery


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


# ---------------------------------------------------------- removing it, filtering, an Application


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
