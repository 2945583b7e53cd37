"""The media folder (``MEDIA_DIR``): each exercise picture and animation kept under its version,
so it is drawn once per version, by any process, and read back by the bot itself."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bot.rendering.motion import animation_path, is_animation_key
from bot.rendering.poses import picture_version


def media_path(key: str, folder: Path) -> Path:
    """Where the current version of a picture or an animation is kept in ``folder``:
    ``e3s2-left-<hash>.png``, ``a3-left-en-<hash>.mp4`` (the hash of its poses, texts and
    drawing code; computed without drawing)."""
    if is_animation_key(key):
        return animation_path(key, folder)
    return folder / (picture_version(key).replace(":", "-") + ".png")


def kept(path: Path, key: str, draw: Callable[[str], bytes]) -> bytes:
    """The file at ``path`` (a version of ``key``), or ``draw(key)`` written there first; an
    earlier version of ``key`` in the same folder is removed (it is never sent again)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = draw(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a worker that dies mid-write leaves no half file behind.
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)
    for old in path.parent.glob(f"{key}-{'[0-9a-f]' * _HASH_LENGTH}{path.suffix}"):
        if old != path:
            old.unlink(missing_ok=True)
    return data


_HASH_LENGTH = 12
