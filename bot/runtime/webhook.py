"""Webhook mode and the operators' endpoints.

``WebhookServer`` receives Telegram's POSTs: a request without the right
``X-Telegram-Bot-Api-Secret-Token`` is refused (403) and counted; an update is answered 200 only
once it is stored in the inbox (if storing fails, Telegram is told to try again). Updates are
then handled by the same pipeline as long polling. python-telegram-bot's own webhook server
answers before the update is stored, so a crash could lose it; this one stores first. Several
processes behind a load balancer each run one; the inbox's per-person leases keep each person's
updates in order across them.

``OpsServer`` serves ``/healthz`` (process, database, Bot API, age of the last dispatcher pass)
and Prometheus ``/metrics`` on their own port: counts only, nothing about a person.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import TelegramError

from bot.handlers.updates import ALLOWED_UPDATES
from bot.runtime.jobs import refresh_gauges

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CONNECTIONS = 40  # Telegram's default; each process stores updates as fast as they come
BOT_API_CHECK_EVERY = 15.0  # seconds: /healthz asks getMe at most this often
BOT_API_TIMEOUT = 3.0  # seconds /healthz waits for getMe


class ListenError(Exception):
    """A server cannot listen on its address; the message is one line naming the settings."""


async def _serve(app: web.Application, host: str, port: int, settings: str) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        # Said as such: the start-up error handler would otherwise blame the database.
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise ListenError(f"cannot listen on {host}:{port} ({reason}); check {settings}") from None
    return runner


class WebhookServer:
    """Telegram posts updates here; they go into the inbox."""

    def __init__(self, runtime: Runtime, path: str, secret: str) -> None:
        self.runtime = runtime
        self.path = path
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None

    @classmethod
    async def start(cls, runtime: Runtime) -> Self:
        settings = runtime.services.settings
        url, secret = settings.require_webhook()
        path = urlsplit(url).path or "/"
        server = cls(runtime, path, secret)
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(path, server.on_update)
        server._runner = await _serve(
            app, settings.webhook_listen, settings.webhook_port, "WEBHOOK_LISTEN and WEBHOOK_PORT"
        )
        await runtime.app.bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=MAX_CONNECTIONS,
            drop_pending_updates=False,
        )
        log.info("Webhook server on %s:%d%s", settings.webhook_listen, settings.webhook_port, path)
        return server

    async def on_update(self, request: web.Request) -> web.Response:
        # Header bytes that are not UTF-8 arrive as surrogates: they must be refused, not crash.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            metrics = self.runtime.services.metrics
            if metrics is not None:
                metrics.webhook_rejected.inc()
            return web.Response(status=403)
        try:
            update = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not isinstance(update, dict):
            return web.Response(status=400)
        try:
            await self.runtime.pipeline.accept([update])
        except (SQLAlchemyError, OSError) as exc:
            # OSError too: a refused or reset database connection is not always wrapped.
            log.warning(
                "Could not store an update (%s); Telegram will send it again", type(exc).__name__
            )
            return web.Response(status=503)
        return web.Response(status=200)

    async def stop(self) -> None:
        # The webhook stays set: other processes may still serve it, and a restart goes on.
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class OpsServer:
    """/healthz and /metrics for operators."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._runner: web.AppRunner | None = None
        self._bot_api: tuple[float, bool] | None = None

    @classmethod
    async def start(cls, runtime: Runtime) -> Self:
        settings = runtime.services.settings
        server = cls(runtime)
        app = web.Application()
        app.router.add_get("/healthz", server.health)
        app.router.add_get("/metrics", server.metrics)
        server._runner = await _serve(
            app, settings.metrics_listen, settings.metrics_port, "METRICS_LISTEN and METRICS_PORT"
        )
        return server

    async def health(self, _request: web.Request) -> web.Response:
        report = await self.check()
        healthy = report["database"] == "ok" and report["bot_api"] == "ok"
        return web.json_response(report, status=200 if healthy else 503)

    async def check(self) -> dict[str, Any]:
        services = self.runtime.services
        database = "ok"
        try:
            async with services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            database = f"error: {type(exc).__name__}"
        now = time.monotonic()
        if self._bot_api is None or now - self._bot_api[0] > BOT_API_CHECK_EVERY:
            try:
                # Bounded: the rate limiter retries a failing getMe for about 15 s, longer than
                # a load balancer waits for a health check.
                await asyncio.wait_for(self.runtime.app.bot.get_me(), BOT_API_TIMEOUT)
                self._bot_api = (now, True)
            except (TelegramError, TimeoutError):
                self._bot_api = (now, False)
        jobs = self.runtime.jobs
        last = jobs.last_pass if jobs is not None else None
        return {
            "process": "ok",
            "database": database,
            "bot_api": "ok" if self._bot_api[1] else "unreachable",
            "dispatcher_last_pass_seconds_ago": None if last is None else round(now - last, 1),
            "updates_waiting_in_this_process": self.runtime.pipeline.busy,
        }

    async def metrics(self, _request: web.Request) -> web.Response:
        services = self.runtime.services
        metrics = services.metrics
        if metrics is None:
            return web.Response(status=404)
        jobs = self.runtime.jobs
        try:
            await refresh_gauges(services, jobs.last_pass if jobs is not None else None)
        except (SQLAlchemyError, OSError) as exc:
            # The counters still tell something; /healthz reports the database.
            log.warning("Could not read the gauges from the database (%s)", type(exc).__name__)
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
