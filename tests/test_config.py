"""Settings: defaults, validation, and the one-line errors that stop start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SETTING_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "DATABASE_URL",
    "TELEGRAM_API_BASE_URL",
    "DEFAULT_REMINDER_TIME",
    "DEFAULT_TIME_ZONE",
    "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the developer's shell or .env."""
    for name in os.environ:
        if name.startswith(("TELEGRAM_", "DATABASE_", "DEFAULT_", "LOG_", "DISPATCH_", "NUDGE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.database_url == "sqlite+aiosqlite:///./data/bot.db"
    assert settings.default_reminder_time == time(8, 0)
    assert settings.telegram_api_base_url is None
    assert settings.sqlite_path == Path("data/bot.db")


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "TELEGRAM_BOT_TOKEN=123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAabc12\nDEFAULT_REMINDER_TIME=07:30\n"
    )
    settings = load_settings()
    assert settings.require_token() == "123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAabc12"
    assert settings.default_reminder_time == time(7, 30)


def test_token_is_secret_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:very-secret-aaaaaaaaaaaaaaaaaaaaaaa")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())


def test_missing_token_is_one_clear_line() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings().require_token()
    message = str(info.value)
    assert "TELEGRAM_BOT_TOKEN" in message and "@BotFather" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db:5432/bot", "postgresql+asyncpg://u:p@db:5432/bot"),
        ("postgresql+asyncpg://u@db/bot", "postgresql+asyncpg://u@db/bot"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
    ],
)
def test_database_url_normalised(monkeypatch: pytest.MonkeyPatch, url: str, expected: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert load_settings().database_url == expected


def test_api_base_url_gets_bot_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/")
    assert load_settings().telegram_api_base_url == "http://127.0.0.1:8081/bot"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/bot"),
        ("DATABASE_URL", "not a url"),
        ("DEFAULT_REMINDER_TIME", "25:99"),
        ("DEFAULT_TIME_ZONE", "Mars/Olympus"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_BASE_URL", "ftp://example"),
    ],
)
def test_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"Configuration error: {name} ")
    assert "\n" not in message


def _run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_NAMES)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = _run_cli([], {}, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "token",
    ["abc", "123:short", "x" * 46, "123456:" + "A" * 34 + "!", " 123:" + "A" * 36],
)
def test_a_token_without_telegrams_shape_is_one_clear_line(token: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(telegram_bot_token=token).require_token()
    message = str(info.value)
    assert "TELEGRAM_BOT_TOKEN" in message and "does not look like a token" in message
    assert token.strip() not in message and "\n" not in message


def test_a_malformed_token_stops_run_before_any_bot_api_call(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens: a call would fail with exit 1
    result = _run_cli(
        ["run"],
        {"TELEGRAM_BOT_TOKEN": "abc", "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot"},
        tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "does not look like a token" in lines[0]


def test_bad_time_zone_exits_2_without_echoing_the_token(tmp_path: Path) -> None:
    result = _run_cli(
        ["run"],
        {
            "TELEGRAM_BOT_TOKEN": "123:super-secret-aaaaaaaaaaaaaaaaaaaaaa",
            "DEFAULT_TIME_ZONE": "Nowhere/City",
        },
        tmp_path,
    )
    assert result.returncode == 2
    assert "DEFAULT_TIME_ZONE" in result.stderr
    assert "super-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_help_for_each_command(tmp_path: Path) -> None:
    for args in (["--help"], ["run", "--help"], ["migrate", "--help"]):
        result = _run_cli(args, {}, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage:" in result.stdout


def test_migrate_creates_the_sqlite_file(tmp_path: Path) -> None:
    result = _run_cli(["migrate"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "bot.db").exists()
    assert "revision" in result.stdout


def test_unreachable_bot_api_is_one_line_without_traceback(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the block ends
    result = _run_cli(
        ["run"],
        {
            "TELEGRAM_BOT_TOKEN": "123:super-secret-aaaaaaaaaaaaaaaaaaaaaa",
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
            "LOG_LEVEL": "WARNING",
        },
        tmp_path,
    )
    assert result.returncode == 1
    assert "cannot reach the Bot API" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Unclosed" not in result.stderr
    assert "super-secret" not in result.stderr + result.stdout


def test_every_setting_is_documented_in_env_example_and_readme() -> None:
    """.env.example documents each setting, and the README's settings table lists each."""
    example = (ROOT / ".env.example").read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    names = [name.upper() for name in Settings.model_fields]
    assert [n for n in names if f"\n{n}=" not in example] == []
    assert [n for n in names if f"`{n}`" not in readme] == []
