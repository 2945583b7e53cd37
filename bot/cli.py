"""Command line: `python -m bot [run|migrate|dispatch]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import datetime

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging

log = logging.getLogger("bot")

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Telegram bot for a safe daily sciatica exercise program.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "run",
        help="apply migrations and run the bot with long polling (the default)",
        description="Apply database migrations, then run the bot with long polling until "
        "Ctrl-C or SIGTERM. Settings come from the environment and .env.",
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
        "print how many were sent and how many people were skipped and why. Safe to run while "
        "the bot runs: claims are shared through the database.",
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
        from bot.services import utc_now

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
        configure_logging(settings.log_level, _secrets(settings))
        if command == "migrate":
            return asyncio.run(_migrate(settings, args.revision, args.downgrade))
        if command == "dispatch":
            try:
                now = _parse_now(args.now)
            except ValueError as exc:
                print(f"Error: {exc}.", file=sys.stderr)
                return EXIT_CONFIG
            return asyncio.run(_dispatch(settings, now))
        return _run(settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        return _startup_error(exc, settings if "settings" in locals() else None)


def _startup_error(exc: Exception, settings: Settings | None) -> int:
    """One line for the operator (never the token); config-like failures exit 2."""
    from sqlalchemy.exc import SQLAlchemyError
    from telegram.error import InvalidToken, NetworkError

    from bot.content import ContentError

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
    if isinstance(exc, NetworkError):
        print(f"Start-up error: cannot reach the Bot API ({text}).", file=sys.stderr)
    elif isinstance(exc, OSError | SQLAlchemyError):
        print(f"Start-up error: cannot use the database ({text}).", file=sys.stderr)
    else:
        logging.getLogger("bot").exception("Unexpected error")
        print(f"Unexpected error: {text}", file=sys.stderr)
    return 1


def _secrets(settings: Settings) -> list[str]:
    token = settings.telegram_bot_token
    return [token.get_secret_value()] if token else []


async def _migrate(settings: Settings, revision: str, down: bool) -> int:
    from db.engine import create_engine
    from db.migrate import current_revision, downgrade, upgrade

    engine = create_engine(settings.database_url)
    try:
        await (downgrade(engine, revision) if down else upgrade(engine, revision))
        print(f"Database at revision {await current_revision(engine) or 'base'}.")
    finally:
        await engine.dispose()
    return 0


async def _dispatch(settings: Settings, now: datetime) -> int:
    from bot.app import build_application
    from bot.dispatcher import dispatch_once
    from bot.services import SERVICES_KEY, Services
    from db.migrate import upgrade

    app = build_application(settings, start_dispatcher=False)
    svc: Services = app.bot_data[SERVICES_KEY]
    try:
        await upgrade(svc.engine)
        async with app:
            report = await dispatch_once(app.bot, svc, now)
    except Exception:
        await app.bot.shutdown()  # see _run: a failed start leaves the transport open
        raise
    finally:
        await svc.engine.dispose()
    print(f"Dispatch pass as of {now.isoformat()}")
    for line in report.lines():
        print(line)
    return 0


def _run(settings: Settings) -> int:
    from telegram import Update

    from bot.app import build_application

    app = build_application(settings)
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES, close_loop=False)
    except Exception:
        # A failed start leaves the Bot API transport open (PTB's Application.shutdown skips
        # an application that never initialised); close it on the same loop.
        asyncio.get_event_loop().run_until_complete(app.bot.shutdown())
        raise
    finally:
        asyncio.get_event_loop().close()
    return 0
