"""Command line: `python -m bot [run|migrate|dispatch]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
        if command == "run":
            settings.require_token()
        configure_logging(settings.log_level, _secrets(settings))
        if command == "migrate":
            return asyncio.run(_migrate(settings, args.revision, args.downgrade))
        return _run(settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


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


def _run(settings: Settings) -> int:
    from telegram import Update
    from telegram.error import InvalidToken

    from bot.app import build_application
    from bot.content import ContentError

    try:
        app = build_application(settings)
        app.run_polling(allowed_updates=Update.ALL_TYPES)
    except ContentError as exc:
        print(f"Content error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except InvalidToken:
        print(
            "Configuration error: TELEGRAM_BOT_TOKEN was rejected by the Bot API; "
            "check it with @BotFather.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except OSError as exc:
        print(f"Start-up error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
