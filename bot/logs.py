"""Logging that never writes the bot token, and keeps people's words out of the logs.

Exception messages can quote what a person typed (``invalid literal for int(): '³'``), and
library debug logs echo whole requests (texts, ratings, cities). So, unless the operator turns
on ``LOG_PERSONAL_DATA`` for local debugging: tracebacks keep their frames but not the
exception's message, and the libraries that echo requests are held at WARNING.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

# Loggers that echo request bodies or updates (people's texts) at DEBUG/INFO.
_ECHOING = (
    "httpx",
    "httpcore",
    "telegram",
    "aiohttp",
    "apscheduler",
    "sqlalchemy.engine",
    "aiosqlite",
    "asyncpg",
    "matplotlib",
    "PIL",
)


def describe_error(error: BaseException) -> str:
    """An error for the log without its message: its class (and its cause's)."""
    name = type(error).__name__
    cause = error.__cause__ or error.__context__
    return f"{name} from {type(cause).__name__}" if cause is not None else name


class RedactFilter(logging.Filter):
    """Replace secrets in every formatted record (request URLs hold the token)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "<token>")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class _NoBootstrapTraceback(logging.Filter):
    """PTB logs a failed start (Bot API unreachable) with a traceback; the CLI already prints
    one clear line for it, so keep PTB's line and drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("telegram.ext") and "Bootstrap" in record.getMessage():
            record.exc_info = None
            record.exc_text = None
        return True


class PrivateFormatter(logging.Formatter):
    """Formats tracebacks without exception messages (unless personal data may be logged)."""

    def __init__(self, fmt: str, *, personal: bool, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.personal = personal
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached the full traceback (message included) on the record.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:
        if self.personal or ei[0] is None or ei[1] is None:
            text = super().formatException(ei)
        else:
            frames = "".join(traceback.format_tb(ei[2]))
            text = f"Traceback (most recent call last):\n{frames}{describe_error(ei[1])}"
        for secret in self._secrets:
            text = text.replace(secret, "<token>")
        return text


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (it may be replaced, e.g. under pytest)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str, secrets: list[str], *, personal: bool = False) -> None:
    handler = _StderrHandler()
    handler.setFormatter(
        PrivateFormatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s", personal=personal, secrets=secrets
        )
    )
    handler.addFilter(RedactFilter(secrets))
    handler.addFilter(_NoBootstrapTraceback())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = logging.DEBUG if personal else logging.WARNING
    for name in _ECHOING:
        logging.getLogger(name).setLevel(max(quiet, root.level) if personal else quiet)
    logging.getLogger("alembic").setLevel(logging.WARNING)
