"""Settings read from the environment and .env, validated once at start-up."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/bot.db"
# Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and -; we ask for at least 32 of them.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{32,256}")
# A Bot API token as @BotFather issues it: the bot's numeric id, a colon, 35 characters.
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{35}")

# How each setting is fixed, shown when it is invalid. Keys are the environment names.
HINTS: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "get a token from @BotFather and put TELEGRAM_BOT_TOKEN=... in .env",
    "DATABASE_URL": (
        "use sqlite+aiosqlite:///./data/bot.db or "
        "postgresql+asyncpg://user:password@host:5432/dbname"
    ),
    "TELEGRAM_API_BASE_URL": "use a URL such as http://127.0.0.1:8081/bot, or leave it empty",
    "DEFAULT_REMINDER_TIME": "use a 24-hour time such as 08:00",
    "DEFAULT_TIME_ZONE": "use an IANA time zone name such as Europe/London or UTC",
    "LOG_LEVEL": "use one of DEBUG, INFO, WARNING, ERROR",
    "DISPATCH_INTERVAL_SECONDS": "use a number of seconds from 1 to 30",
    "WEBHOOK_URL": "use the public https:// address Telegram should post updates to",
    "WEBHOOK_SECRET": (
        "set WEBHOOK_SECRET to a random string of 32 to 256 letters, digits, _ or - "
        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
    ),
}


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line meant for the operator."""


def _database_url(value: str) -> str:
    """Accept the async drivers we support; map plain postgresql:// to asyncpg."""
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError("not a database URL") from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+asyncpg"):
        url = url.set(drivername="postgresql+asyncpg")
    elif url.drivername in ("sqlite", "sqlite+aiosqlite"):
        mode = url.query.get("mode")
        modes = mode if isinstance(mode, tuple) else (mode,)
        if not url.database or ":memory:" in url.database or "memory" in modes:
            # An in-memory database forgets everyone at every restart (":memory:", and SQLite's
            # URI forms "file::memory:" and "file:name?mode=memory").
            raise ValueError("an in-memory SQLite database would lose everything on restart")
        url = url.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"unsupported database driver {url.drivername!r}")
    return url.render_as_string(hide_password=False)


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _webhook_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("https://", "http://")):
        raise ValueError("must start with https://")
    return value


def _api_base_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    # PTB appends the token directly: the URL must end in /bot.
    value = value.rstrip("/")
    return value if value.endswith("/bot") else value + "/bot"


class Settings(BaseSettings):
    """Every setting of the bot; .env.example documents each one."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        # "inf" or "nan" is never a sensible interval, rate or number of hours.
        allow_inf_nan=False,
    )

    telegram_bot_token: SecretStr | None = None
    database_url: Annotated[str, AfterValidator(_database_url)] = DEFAULT_DATABASE_URL
    telegram_api_base_url: Annotated[str | None, AfterValidator(_api_base_url)] = None
    default_reminder_time: time = time(8, 0)
    default_time_zone: Annotated[str, AfterValidator(_time_zone)] = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Safety holds: an emergency or urgent hold is not lifted sooner than this after the advice.
    hold_min_hours: float = Field(default=3.0, ge=0, le=72)

    # Worker processes that draw charts and PDFs (off the event loop).
    render_workers: int = Field(default=1, ge=1, le=16)
    # Where the render workers keep the exercise animations they drew (MP4s named by version:
    # drawn once, then read from here until the poses, texts or drawing code change).
    media_dir: Path = Path("data/media")
    # Draw the missing animations at start-up, in the background (else on first need).
    warm_media: bool = True

    # The update pipeline.
    concurrent_updates: int = Field(default=64, ge=1, le=1024)
    inbox_retention_hours: float = Field(default=48.0, ge=1, le=24 * 30)
    # Shown by /privacy: how people reach the operator (an e-mail address, a @username, a URL).
    privacy_contact: str | None = Field(default=None, max_length=200)

    # The morning dispatcher (below 1 s a pass would spin and burn a core).
    dispatch_interval_seconds: float = Field(default=20.0, ge=1, le=30)
    dispatch_batch_size: int = Field(default=200, ge=1, le=5000)
    catch_up_cutoff: time = time(20, 0)
    nudge_after_hours: float = Field(default=3.0, gt=0, le=12)
    nudge_latest: time = time(21, 0)

    # Telegram's limits; set RATE_LIMIT=false only against a local Bot API server.
    rate_limit: bool = True
    rate_limit_overall_per_second: float = Field(default=30.0, gt=0)
    rate_limit_per_chat_per_second: float = Field(default=1.0, gt=0)
    rate_limit_per_chat_burst: int = Field(default=3, ge=1, le=20)

    # Webhook mode (several processes behind a load balancer, on PostgreSQL).
    webhook_url: Annotated[str | None, AfterValidator(_webhook_url)] = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None

    # Operators: /healthz and Prometheus /metrics on their own port (0: off).
    metrics_listen: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)

    # For local debugging only: let logs contain what people typed, their ratings and places.
    log_personal_data: bool = False

    @field_validator("telegram_bot_token", "webhook_secret", "privacy_contact", mode="before")
    @classmethod
    def _empty_is_missing(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, when the database is SQLite on disk."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    def require_webhook(self) -> tuple[str, str]:
        """The webhook URL and secret, or a ConfigError naming what is missing or weak."""
        if not self.webhook_url:
            raise ConfigError(_line("WEBHOOK_URL", "is missing for webhook mode"))
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not secret:
            raise ConfigError(_line("WEBHOOK_SECRET", "is missing for webhook mode"))
        if not _SECRET_RE.fullmatch(secret):
            raise ConfigError(_line("WEBHOOK_SECRET", "is too weak"))
        return self.webhook_url, secret

    def require_token(self) -> str:
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ConfigError(_line("TELEGRAM_BOT_TOKEN", "is missing"))
        token = self.telegram_bot_token.get_secret_value().strip()
        if not _TOKEN_RE.fullmatch(token):
            # Refused at once: the Bot API would only answer 401/404 after retries.
            raise ConfigError(
                _line("TELEGRAM_BOT_TOKEN", "does not look like a token (digits:35 characters)")
            )
        return token


def _line(env_name: str, problem: str) -> str:
    hint = HINTS.get(env_name, "see .env.example")
    return f"Configuration error: {env_name} {problem}; {hint}."


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning any invalid value into a one-line ConfigError.

    The message never contains the submitted value, so a mistyped token is not echoed.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        env_name = field.upper()
        reason = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        raise ConfigError(_line(env_name, f"is invalid ({reason})")) from None
