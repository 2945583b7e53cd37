"""`python -m bot dispatch --now ...`: one pass against the configured database and Bot API."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, time

from bot.cli import main
from tests.support.dispatch import dispatch_env
from tests.support.harness import TOKEN, FakeClock


def test_naive_now_is_an_error_line(capsys: object, monkeypatch: object) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)  # type: ignore[attr-defined]
    assert main(["dispatch", "--now", "2026-03-02T08:00"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.count("\n") == 1
    assert "offset" in err


def test_missing_token_is_a_config_error(capsys: object, monkeypatch: object) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")  # type: ignore[attr-defined]
    monkeypatch.chdir("/")  # type: ignore[attr-defined]  # no .env
    assert main(["dispatch", "--now", "2026-03-02T08:00+00:00"]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err  # type: ignore[attr-defined]


async def test_one_pass_prints_the_report(database_url: str, tmp_path: object) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    async with dispatch_env(database_url, FakeClock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))) as env:
        await env.add_person(1, zone="UTC", at=time(8, 0))
        await env.add_person(2, zone="UTC", at=time(8, 0), blocked_at=now)
        environment = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DATABASE_URL": database_url,
            "TELEGRAM_API_BASE_URL": env.server.base_url,
            "RATE_LIMIT": "false",
            "WARM_MEDIA": "false",  # no render workers outliving a killed bot
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "dispatch", "--now", "2026-03-02T09:00:00+01:00",
            env=environment, cwd=str(tmp_path),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        lines = out.decode().splitlines()
        assert "Routines sent: 1 (0 after a pause)" in lines
        assert "Nudges sent: 0" in lines
        assert "Skipped: 1" in lines
        assert "  blocked: 1" in lines
        assert len(env.routines(1)) == 1
        assert env.server.messages(2) == []
