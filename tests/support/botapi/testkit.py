"""What the fake Bot API's own tests share: the token and people, a keyboard, a raw call, and
images with a chosen size."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import aiohttp
from PIL import Image
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tests.support.botapi import JSON, BotApiServer

TOKEN = "123456:TEST-token-xxxxxxxxxxxxxxxxxxxxxxxx"
USER = 111
OTHER = 222


async def raw_call(server: BotApiServer, method: str, **params: Any) -> tuple[int, JSON]:
    """One Bot API call with a JSON body, bypassing PTB's parsing of the answer."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{TOKEN}/{method}", json=params) as resp,
    ):
        return resp.status, await resp.json()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk: all the server reads of a PNG."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, an APP0 segment, fill bytes and a progressive SOF2 frame header."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof2 = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + b"\xff\xff" + sof2 + b"\xff\xd9"


def image(width: int, height: int, fmt: str = "PNG") -> bytes:
    """A real image file, as matplotlib or Pillow would write it."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buf, fmt)
    return buf.getvalue()
