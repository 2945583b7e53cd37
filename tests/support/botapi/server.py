"""The fake Bot API's HTTP server: an aiohttp server on 127.0.0.1 that python-telegram-bot's
`Bot` and `Application` talk to via ``base_url``/``base_file_url``, routing each method to its
handler, recording every call and breach, and the waits tests use."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.support.botapi.faults import FaultsMixin
from tests.support.botapi.methods import MethodsMixin
from tests.support.botapi.models import JSON, ApiError, Request, UploadedFile, bad
from tests.support.botapi.person import PersonMixin
from tests.support.botapi.rules import canonical, coerce


class BotApiServer(PersonMixin, FaultsMixin, MethodsMixin):
    """Fake Telegram Bot API server. Use ``async with BotApiServer() as server:``.

    Its options are `ServerState`'s; the person's actions come from `PersonMixin`, the update
    queue from `UpdatesMixin`, the injected faults from `FaultsMixin`, the Bot API methods from
    `MethodsMixin`, and what a test reads from `ServerState`.
    """

    @cached_property
    def _handlers(self) -> dict[str, Callable[[JSON], Any]]:
        """Lower-cased Bot API method -> its handler (getUpdates waits, so it is served apart)."""
        return {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "sendphoto": self._send_photo,
            "sendanimation": self._send_animation,
            "senddocument": self._send_document,
            "sendmediagroup": self._send_media_group,
            "sendchataction": self._send_chat_action,
            "deletemessage": self._delete_message,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getfile": self._get_file,
            "close": lambda _p: True,
            "logout": lambda _p: True,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url(...)``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._closing = False
        self._webhook_event = asyncio.Event()
        if self.webhook_url:
            self._restart_webhook()

    async def stop(self) -> None:
        """Release held requests and pending long polls, stop webhook delivery, shut down."""
        self._closing = True
        self._wake("close")
        for hold in list(self._holds):
            hold.release()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[], object],
        timeout: float = 30.0,  # noqa: ASYNC109 - generous: only a failing wait takes it
        interval: float = 0.01,
    ) -> None:
        """Poll until predicate() is truthy; TimeoutError with a dump otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s\n{self.dump()}")
            await asyncio.sleep(interval)

    async def settle(
        self,
        quiet: float = 0.15,
        timeout: float = 30.0,  # noqa: ASYNC109 - generous: only a failing wait takes it
    ) -> None:
        """Wait until all injected updates were fetched and the bot has been quiet `quiet` s.

        With a webhook, an update counts as fetched once the webhook confirmed it (2xx).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            if self._all_delivered() and self._inflight == 0 and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(f"bot did not settle within {timeout}s\n{self.dump()}")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query) if request.query_string else {}
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad("JSON request body must be an object")
                params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        params[key] = value
        for key, value in params.items():
            if isinstance(value, str):
                params[key] = coerce(key, value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        raw_method = request.match_info["method"]
        key = raw_method.lower()
        name = canonical(raw_method)
        self._counts[name] = self._counts.get(name, 0) + 1
        polling = key == "getupdates"
        if not polling:
            self._inflight += 1
        params: JSON = {}
        try:
            params = await self._read_params(request)
            if request.content_type.startswith("multipart/"):
                self._count_uploads(name, params)
            if self._holds:
                try:
                    await self._wait_holds(key, params)
                except asyncio.CancelledError:
                    self._finish(polling)
                    raise
            handler = self._handlers.get(key)
            if handler is None and not polling:
                raise ApiError(404, "Not Found")
            self._raise_injected(key, params)
            if polling:
                result = await self._get_updates(params, request)
            else:
                assert handler is not None
                result = handler(params)
        except ApiError as err:
            self._finish(polling)
            self.requests.append(
                Request(name, params, err.status, err.description, time.time(), arrived)
            )
            if err.violation:
                self.violations.append(f"{name}: {err.description} | {_short(params)}")
            body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            return web.Response(
                status=err.status, body=json.dumps(body), content_type="application/json"
            )
        self._finish(polling)
        if self.record_requests:
            self.requests.append(Request(name, params, 200, None, time.time(), arrived))
        return web.Response(
            body=json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode(),
            content_type="application/json",
        )

    def _finish(self, polling: bool) -> None:
        if not polling:
            self._inflight -= 1
            self._last_activity = asyncio.get_running_loop().time()

    def _count_uploads(self, name: str, params: JSON) -> None:
        files = sum(1 for v in params.values() if isinstance(v, UploadedFile))
        if files:
            self.uploads[name] = self.uploads.get(name, 0) + files

    async def _handle_file(self, request: web.Request) -> web.Response:
        upload = self._files.get(request.match_info["path"])
        if upload is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=upload.data, content_type=upload.content_type)


def _short(params: JSON) -> str:
    """The parameters of a call, cut to fit one line of a violation."""
    text = json.dumps(params, ensure_ascii=False, default=repr)
    return text if len(text) <= 300 else text[:297] + "..."
