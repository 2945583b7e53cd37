"""Command line: `python -m bot [run|migrate|dispatch]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from telegram.error import InvalidToken, NetworkError

from bot.app import Runtime, SingleProcessLock, build_application, migrate, process_name
from bot.config import ConfigError, Settings, load_settings
from bot.content import ContentError
from bot.context import utc_now
from bot.logs import configure_logging
from bot.loop import run as run_loop
from bot.usecases.morning import dispatch_once
from db.engine import create_engine
from db.migrate import current_revision

if TYPE_CHECKING:
    from bot.runtime.webhook import OpsServer, WebhookServer

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Telegram bot for a safe daily sciatica exercise program.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="apply migrations and run the bot (long polling by default)",
        description="Apply database migrations, then run the bot until Ctrl-C or SIGTERM: "
        "long polling, or with --webhook a webhook server (WEBHOOK_URL, WEBHOOK_SECRET, "
        "WEBHOOK_LISTEN, WEBHOOK_PORT). Settings come from the environment and .env.",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates by webhook instead of long polling (several processes can run "
        "behind a load balancer on PostgreSQL)",
    )
    migrate = sub.add_parser(
        "migrate",
        help="apply database migrations and exit",
        description="Upgrade the database to a revision (default: head), or downgrade it.",
    )
    migrate.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    migrate.add_argument(
        "--downgrade", action="store_true", help="downgrade to REVISION (e.g. base) instead"
    )
    dispatch = sub.add_parser(
        "dispatch",
        help="run one dispatcher pass and exit (cron, a manual resend, tests)",
        description="Run exactly one pass of the morning dispatcher as if it were --now, against "
        "the configured database and Bot API: send the routines and nudges that are due, then "
        "print how many were sent and how many people were skipped and why. On PostgreSQL it "
        "is safe to run while bots run (claims are shared through the database); SQLite serves "
        "one process, so stop the bot first.",
    )
    dispatch.add_argument(
        "--now",
        metavar="ISO-8601",
        help="the instant to act as, with an offset, e.g. 2026-03-29T06:00:00+00:00 "
        "(default: the current time)",
    )
    return parser


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return utc_now()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--now {value!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"--now {value!r} has no UTC offset; add one, e.g. +00:00 or Z")
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
        if command in ("run", "dispatch"):
            settings.require_token()
        configure_logging(
            settings.log_level, _secrets(settings), personal=settings.log_personal_data
        )
        if command == "migrate":
            return asyncio.run(_migrate(settings, args.revision, args.downgrade))
        if command == "dispatch":
            try:
                now = _parse_now(args.now)
            except ValueError as exc:
                print(f"Error: {exc}.", file=sys.stderr)
                return EXIT_CONFIG
            return run_loop(_dispatch(settings, now))
        return run_loop(_serve(settings, webhook=getattr(args, "webhook", False)))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        return _startup_error(exc, settings if "settings" in locals() else None)


def _startup_error(exc: Exception, settings: Settings | None) -> int:
    """One line for the operator (never the token); config-like failures exit 2."""
    text = (
        f"{exc.__class__.__name__}: {exc}".splitlines()[0] if str(exc) else exc.__class__.__name__
    )
    for secret in _secrets(settings) if settings else []:
        text = text.replace(secret, "<token>")
    if isinstance(exc, InvalidToken):
        print(
            "Configuration error: TELEGRAM_BOT_TOKEN was rejected by the Bot API; "
            "check it with @BotFather.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if isinstance(exc, ContentError):
        print(f"Content error: {text}", file=sys.stderr)
        return EXIT_CONFIG
    from bot.runtime.webhook import ListenError  # aiohttp's server side: not loaded to poll

    if isinstance(exc, ListenError):
        print(f"Start-up error: {exc}.", file=sys.stderr)
    elif isinstance(exc, NetworkError):
        print(f"Start-up error: cannot reach the Bot API ({text}).", file=sys.stderr)
    elif isinstance(exc, OSError | SQLAlchemyError):
        print(f"Start-up error: cannot use the database ({text}).", file=sys.stderr)
    else:
        logging.getLogger("bot").exception("Unexpected error")
        print(f"Unexpected error: {text}", file=sys.stderr)
    return 1


def _secrets(settings: Settings) -> list[str]:
    found = [settings.telegram_bot_token, settings.webhook_secret]
    return [secret.get_secret_value() for secret in found if secret]


async def _migrate(settings: Settings, revision: str, down: bool) -> int:
    engine = create_engine(settings.database_url)
    try:
        await migrate(engine, revision, down=down)
        print(f"Database at revision {await current_revision(engine) or 'base'}.")
    finally:
        await engine.dispose()
    return 0


async def _dispatch(settings: Settings, now: datetime) -> int:
    with SingleProcessLock(settings):
        app, services = build_application(settings)
        try:
            await migrate(services.engine)
            async with app:
                report = await dispatch_once(services, now, owner=process_name())
        except Exception:
            await app.bot.shutdown()  # a failed start leaves the transport open
            raise
        finally:
            await services.engine.dispose()
    print(f"Dispatch pass as of {now.isoformat()}")
    for line in report.lines():
        print(line)
    return 0


async def _serve(settings: Settings, *, webhook: bool) -> int:
    """Run until SIGINT or SIGTERM, then stop quickly and cleanly."""
    if webhook:
        settings.require_webhook()
    if webhook or settings.metrics_port:
        # aiohttp's server side, only for the processes that serve HTTP.
        from bot.runtime.webhook import OpsServer, WebhookServer
    with SingleProcessLock(settings):
        app, services = build_application(settings)
        runtime = Runtime.create(app, services)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        log.debug("Event loop: %s", type(loop).__module__)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        servers: list[WebhookServer | OpsServer] = []
        started = False
        try:
            await runtime.start(poll=not webhook)
            started = True
            if webhook:
                servers.append(await WebhookServer.start(runtime))
            if settings.metrics_port:
                servers.append(await OpsServer.start(runtime))
            log.info("Running; Ctrl-C or SIGTERM stops the bot")
            await stop.wait()
            log.info("Stopping")
        finally:
            for server in servers:
                await server.stop()
            if started:
                await runtime.stop(grace=5.0)
            else:
                await app.bot.shutdown()  # a failed start leaves the transport open
                await services.engine.dispose()
    return 0
