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
            "WARM_MEDIA": "false",  # nothing drawn in the background: not what this test is about
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


def _children() -> dict[int, list[int]]:
    """Each process's children, from /proc (Linux)."""
    found: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (name) state ppid ...": the name may hold spaces and brackets.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        found.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return found


def _descendants(pid: int) -> set[int]:
    children, found, todo = _children(), set[int](), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie, or a pid gone, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
async def test_render_workers_end_with_a_killed_bot(tmp_path: Path) -> None:
    """kill -9 of a bot whose render workers are drawing (WARM_MEDIA, an empty media folder):
    the workers and the forkserver end too, and the bot's stderr closes."""
    async with BotApiServer() as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
            "RATE_LIMIT": "false",
            "WARM_MEDIA": "true",
            "MEDIA_DIR": str(tmp_path / "media"),
            "RENDER_WORKERS": "2",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
        )
        try:
            # Drawing: the forkserver (the bot's child) has forked the workers.
            await server.wait_for(
                lambda: len(_descendants(process.pid) - set(_children().get(process.pid, []))) >= 2,
                timeout=90,
            )
            started = _descendants(process.pid)
            process.kill()
            await process.wait()
            # Every holder of the stderr pipe is gone: it reads to its end.
            assert process.stderr is not None
            await asyncio.wait_for(process.stderr.read(), timeout=30)
            await server.wait_for(lambda: not any(map(_alive, started)), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
