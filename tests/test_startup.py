"""The bot's main process never loads the drawing stack: matplotlib, fpdf, Pillow, NumPy and
fontTools are for the render workers (bot/rendering/offload.py), started on first need. Nor,
polling on a database at the head revision, what it does not need to serve: Alembic (only to
migrate) and aiohttp's server side (only for the webhook and ops servers).

The real process (`bot.cli run`) is started against the local Bot API server, with an audit
hook that names every such module imported and who imported it; it answers a person, then
stops on SIGTERM and lists those modules in its ``sys.modules`` at exit."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.cli import EXIT_CONFIG, main
from bot.rendering import poses
from db.engine import create_engine
from db.migrate import upgrade
from tests.support.botapi import BotApiServer

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "424242:startup-test-token-xxxxxxxxxxxxxxxx"
DRAWING = ("matplotlib", "fpdf", "PIL", "numpy", "fontTools")
NOT_NEEDED = ("alembic", "mako", "pygments", "aiohttp.web", "bot.runtime.webhook")

SCRIPT = f"""
import atexit, json, sys, traceback

UNWANTED = {DRAWING + NOT_NEEDED!r}

def unwanted(name):
    return any(name == m or name.startswith(m + ".") for m in UNWANTED)

def hook(event, args):
    if event == "import" and unwanted(str(args[0])):
        where = [f"{{f.filename}}:{{f.lineno}}" for f in traceback.extract_stack()
                 if "/bot/" in f.filename or "/db/" in f.filename]
        print("UNWANTED-IMPORT", args[0], where[-1:] , file=sys.stderr, flush=True)

def report():
    loaded = sorted(m for m in sys.modules if unwanted(m))
    print("LOADED", json.dumps(loaded), flush=True)

sys.addaudithook(hook)
atexit.register(report)
from bot.cli import main
sys.exit(main(["run"]))
"""


async def test_the_running_bot_imports_no_drawing_library(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    engine = create_engine(database)
    try:
        await upgrade(engine)  # at the head revision: nothing to migrate
    finally:
        await engine.dispose()
    async with BotApiServer() as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATABASE_URL": database,
            "RATE_LIMIT": "false",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SCRIPT,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            # Started up and polling: the menus are set before the first getUpdates.
            await server.wait_for(
                lambda: server.count("getUpdates") > 0 or process.returncode is not None,
                timeout=60,
            )
            assert process.returncode is None, (await process.communicate())[1].decode()
            assert server.count("setMyCommands") >= 2
            server.send_text(7, "/start")
            await server.wait_for(lambda: len(server.messages(7)) >= 2, timeout=30)
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    out, err = stdout.decode(), stderr.decode()
    assert process.returncode == 0, out + err
    assert "not a doctor" in server.messages(7)[0].text
    assert "UNWANTED-IMPORT" not in err, err
    loaded = [line for line in out.splitlines() if line.startswith("LOADED ")]
    assert loaded, out + err
    assert json.loads(loaded[-1].removeprefix("LOADED ")) == []


def test_a_wrong_pose_stops_start_up_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The poses are loaded and checked at start, without drawing: a wrong body or pose (here a
    shin half as long as the thigh) stops the bot before it serves anyone, with one line."""
    broken = tmp_path / "pictures.toml"
    broken.write_text(
        poses.PICTURES_FILE.read_text(encoding="utf-8").replace("shin = 43.0", "shin = 20.0", 1),
        encoding="utf-8",
    )
    monkeypatch.setattr(poses, "PICTURES_FILE", broken)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")  # never reached
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    poses.load_pictures.cache_clear()
    try:
        assert main(["run"]) == EXIT_CONFIG
    finally:
        poses.load_pictures.cache_clear()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Content error: ContentError: ")
    assert "pictures.toml: body.shin" in lines[0]
