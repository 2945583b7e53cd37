"""The real process: `python -m bot` against the local Bot API server, stopped by a signal."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.support.botapi import BotApiServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "424242:process-test-token-SECRET-xxxxxxxxx"


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM])
async def test_process_answers_and_stops_cleanly(tmp_path: Path, stop_with: signal.Signals) -> None:
    async with BotApiServer() as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
            "LOG_LEVEL": "DEBUG",
            "RATE_LIMIT": "false",
            "WARM_MEDIA": "false",  # no render workers outliving a killed bot
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await server.wait_for(lambda: server.count("setMyCommands") > 0, timeout=60)
            server.send_text(7, "/start")
            await server.wait_for(lambda: len(server.messages(7)) >= 2, timeout=30)
            server.send_text(7, "/help")
            await server.wait_for(lambda: "/today" in server.last_message(7).text, timeout=30)
            process.send_signal(stop_with)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        log = (stdout + stderr).decode()
        assert process.returncode == 0, log
        assert "not a doctor" in server.messages(7)[0].text
        assert "Traceback" not in log
        assert "process-test-token-SECRET" not in log
        assert server.violations == []
