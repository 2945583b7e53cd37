"""A local fake of the Telegram Bot API for tests and benchmarks.

`BotApiServer` is a real HTTP server on 127.0.0.1 that python-telegram-bot's `Bot` and
`Application` talk to via ``base_url``/``base_file_url``. It enforces the Telegram rules the bot
is most likely to break (text length, HTML parsing, keyboards, callback answers, edits), records
breaches in ``violations``, lets tests inject updates as a user would, and can inject failures.

It can also park requests to force an ordering (`BotApiServer.hold`), fail one chat
(`fail_chat`), check photos and albums as Telegram does, and deliver updates to a webhook.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

JSON = dict[str, Any]

__all__ = [
    "CHAT_NOT_FOUND",
    "USER_DEACTIVATED",
    "BotApiServer",
    "EntityParseError",
    "Hold",
    "Request",
    "SentMessage",
    "UploadedFile",
    "image_size",
    "parse_html",
]

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
MAX_INLINE_BUTTONS: Final = 100
MAX_PHOTO_BYTES: Final = 10 * 1024 * 1024
MAX_PHOTO_SIDES: Final = 10_000  # width + height
MAX_PHOTO_RATIO: Final = 20
MIN_ALBUM: Final = 2
MAX_ALBUM: Final = 10
DEFAULT_WEBHOOK_CONNECTIONS: Final = 40
WEBHOOK_TIMEOUT: Final = 10.0  # seconds a webhook may take to answer one delivery
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"

METHODS: Final = (
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "sendPhoto",
    "sendDocument",
    "sendMediaGroup",
    "sendChatAction",
    "deleteMessage",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "deleteWebhook",
    "setWebhook",
    "getWebhookInfo",
    "getFile",
    "close",
    "logOut",
)
_CANONICAL: Final = {m.lower(): m for m in METHODS}

# Parameters whose form-encoded value is JSON (PTB json.dumps every non-str value).
_JSON_FIELDS: Final = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
_INT_FIELDS: Final = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "user_id",
        "max_connections",
    }
)
_FLOAT_FIELDS: Final = frozenset({"timeout"})
_BOOL_FIELDS: Final = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "allow_paid_broadcast",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    }
)
_INLINE_ACTIONS: Final = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_INCOMING_COMMAND_RE: Final = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
BLOCKED: Final = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND: Final = "Bad Request: chat not found"
USER_DEACTIVATED: Final = "Forbidden: user is deactivated"
EDIT_NOT_FOUND: Final = "Bad Request: message to edit not found"
DELETE_NOT_FOUND: Final = "Bad Request: message to delete not found"
PHOTO_INVALID_DIMENSIONS: Final = "Bad Request: PHOTO_INVALID_DIMENSIONS"
WRONG_FILE_ID: Final = "Bad Request: wrong file identifier/HTTP URL specified"
WRONG_MEDIA_COUNT: Final = "Bad Request: wrong number of media items"

# Update types Telegram sends only when allowed_updates names them explicitly.
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (C4, C8 and CC are DHT, JPG and DAC, which carry no size).
_JPEG_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Methods that post into or edit a chat, so `fail_chat` applies to them.
_CHAT_METHODS: Final = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "sendmediagroup",
        "senddocument",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "editmessagemedia",
        "deletemessage",
        "sendchataction",
    }
)


# --------------------------------------------------------------------------- HTML parsing


class EntityParseError(ValueError):
    """Raised by `parse_html` with a Telegram-style reason."""


_SPECIAL_RE: Final = re.compile(r"[<&]")
_ENTITY_RE: Final = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|(lt|gt|amp|quot));")
_END_TAG_RE: Final = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_START_TAG_RE: Final = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z][a-zA-Z0-9_-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTR_RE: Final = re.compile(
    r"([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_OTHER_TAGS: Final = frozenset({"span", "a", "blockquote", "tg-emoji"})
_TRIM: Final = " \t\r\n"


def utf16_len(s: str) -> int:
    """Length of `s` in UTF-16 code units (Telegram's entity offset unit)."""
    return len(s) if s.isascii() else len(s.encode("utf-16-le")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode())


def _decode_entities(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _entity_char(m) or m.group(0)

    return _ENTITY_RE.sub(repl, value) if "&" in value else value


def _entity_char(m: re.Match[str]) -> str | None:
    if m.group(3):
        return _NAMED[m.group(3)]
    code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


@dataclass(slots=True)
class _OpenTag:
    name: str
    etype: str | None
    start: int
    extra: JSON


def parse_html(src: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML into (plain text, entities with UTF-16 offsets)."""
    if "<" not in src and "&" not in src:
        return src, []
    parts: list[str] = []
    pos = 0
    i = 0
    n = len(src)
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    while True:
        m = _SPECIAL_RE.search(src, i)
        j = m.start() if m else n
        if j > i:
            chunk = src[i:j]
            parts.append(chunk)
            pos += utf16_len(chunk)
        if m is None:
            break
        if src[j] == "&":
            em = _ENTITY_RE.match(src, j)
            ch = _entity_char(em) if em else None
            if em is None or ch is None:
                raise EntityParseError(
                    f"Unsupported HTML entity or unescaped '&' at byte offset "
                    f"{_byte_offset(src, j)}"
                )
            parts.append(ch)
            pos += utf16_len(ch)
            i = em.end()
            continue
        if src.startswith("</", j):
            em = _END_TAG_RE.match(src, j)
            if em is None:
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(src, j)}")
            name = em.group(1).lower()
            if not stack:
                raise EntityParseError(
                    f'Unexpected end tag "</{name}>" at byte offset {_byte_offset(src, j)}'
                )
            top = stack.pop()
            if top.name != name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(src, j)}, expected "
                    f'"</{top.name}>", found "</{name}>"'
                )
            if top.etype is not None and pos > top.start:
                entities.append(
                    {"type": top.etype, "offset": top.start, "length": pos - top.start} | top.extra
                )
            i = em.end()
            continue
        sm = _START_TAG_RE.match(src, j)
        if sm is None:
            bad = re.match(r"<([^\s>]*)", src[j:])
            name = bad.group(1) if bad else ""
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, j)}'
            )
        name = sm.group(1).lower()
        attrs: dict[str, str] = {}
        for am in _ATTR_RE.finditer(sm.group(2)):
            raw = am.group(2) if am.group(2) is not None else am.group(3)
            if raw is None:
                raw = am.group(4) or ""
            attrs[am.group(1).lower()] = _decode_entities(raw)
        stack.append(_open_tag(name, attrs, pos, stack, src, j))
        i = sm.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(parts), entities


def _open_tag(
    name: str, attrs: dict[str, str], pos: int, stack: list[_OpenTag], src: str, j: int
) -> _OpenTag:
    if name in _SIMPLE_TAGS:
        etype: str | None = _SIMPLE_TAGS[name]
        if name == "code" and stack and stack[-1].name == "pre":
            lang = attrs.get("class", "")
            if lang.startswith("language-") and len(lang) > 9:
                stack[-1].extra["language"] = lang[9:]
            etype = None  # folded into the enclosing pre entity
        return _OpenTag(name, etype, pos, {})
    if name not in _OTHER_TAGS:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, j)}'
        )
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        return _OpenTag(name, "spoiler", pos, {})
    if name == "a":
        href = attrs.get("href", "").strip()
        return _OpenTag(name, "text_link" if href else None, pos, {"url": href} if href else {})
    if name == "blockquote":
        etype = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return _OpenTag(name, etype, pos, {})
    emoji_id = attrs.get("emoji-id", "")
    if not emoji_id.isdigit():
        raise EntityParseError("Custom emoji entity must contain a valid custom emoji identifier")
    return _OpenTag(name, "custom_emoji", pos, {"custom_emoji_id": emoji_id})


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip surrounding whitespace like Telegram does, shifting/clipping entities."""
    stripped = text.strip(_TRIM)
    if len(stripped) == len(text):
        return text, entities
    lead16 = utf16_len(text[: len(text) - len(text.lstrip(_TRIM))])
    end16 = utf16_len(stripped)
    out: list[JSON] = []
    for e in entities:
        start = max(e["offset"] - lead16, 0)
        stop = min(e["offset"] + e["length"] - lead16, end16)
        if stop > start:
            out.append(e | {"offset": start, "length": stop - start})
    return stripped, out


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class UploadedFile:
    """A file received in a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"<UploadedFile {self.field}={self.filename!r} {len(self.data)} bytes>"


@dataclass(slots=True)
class Request:
    """One Bot API call as received (``params`` decoded) and how it was answered."""

    method: str
    params: JSON
    status: int
    description: str | None = None
    at: float = 0.0
    """time.time() when the answer was ready."""
    monotonic: float = 0.0
    """time.monotonic() when the request arrived (before any hold), for rate-limit checks."""

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "reply_markup"}
        text = json.dumps(shown, ensure_ascii=False, default=repr)
        if len(text) > 160:
            text = text[:157] + "..."
        tail = f" -> {self.description}" if self.description else ""
        return f"{self.method} [{self.status}] {text}{tail}"


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, reflecting later edits and deletion."""

    message_id: int
    chat_id: int
    text: str
    """Visible text (caption for media) after entity parsing."""
    html: str
    """The raw text/caption as sent (HTML source when parse_mode is HTML)."""
    parse_mode: str | None
    reply_markup: JSON | None
    entities: list[JSON]
    date: int
    kind: str = "text"
    """"text", "photo" or "document"."""
    file_id: str | None = None
    history: list[str] = field(default_factory=list)
    edited: bool = False
    deleted: bool = False
    deleted_by_user: bool = False
    """Deleted by the person (`BotApiServer.user_deletes`), which the bot cannot know."""
    media_group_id: str | None = None
    """Shared by the photos of one sendMediaGroup album."""

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """The inline keyboard rows, or [] when there is none."""
        rm = self.reply_markup
        if rm is None:
            return []
        rows: list[list[JSON]] = rm.get("inline_keyboard", [])
        return rows

    @property
    def buttons(self) -> list[str]:
        """Texts of all inline buttons, row by row."""
        return [b["text"] for row in self.inline_keyboard for b in row]

    @property
    def callback_data(self) -> list[str]:
        """callback_data of all inline buttons that have one."""
        return [
            b["callback_data"] for row in self.inline_keyboard for b in row if "callback_data" in b
        ]

    def button(self, text: str) -> JSON:
        """The inline button whose text is `text` (LookupError listing the buttons if none)."""
        for row in self.inline_keyboard:
            for b in row:
                if b["text"] == text:
                    return b
        raise LookupError(
            f"no inline button {text!r} in message {self.message_id} of chat {self.chat_id}; "
            f"buttons: {self.buttons!r}; text: {self.text[:200]!r}"
        )


class ApiError(Exception):
    """A Telegram error answer; ``violation`` marks a breach of the Bot API rules."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        violation: bool = True,
        parameters: JSON | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.violation = violation
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(slots=True)
class _Failure:
    status: int
    description: str
    parameters: JSON | None


@dataclass(slots=True)
class _ChatFailure:
    status: int
    description: str
    parameters: JSON | None
    remaining: int | None  # None: until clear_chat_failures


class _Redelivery(dict[str, Any]):
    """A copy of an update put back by `BotApiServer.redeliver`.

    It may sit behind newer updates in the queue, so an offset that already confirmed its
    update_id must not drop it before it was handed out once more.
    """

    delivered: bool = False


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG IHDR or JPEG SOF header; None when neither can be read."""
    if data.startswith(_PNG_SIGNATURE):
        if len(data) >= 24 and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return int(width), int(height)
        return None
    if not data.startswith(b"\xff\xd8"):
        return None
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            if i + 9 > n:
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


def _photo_dimensions_ok(width: int, height: int) -> bool:
    if width <= 0 or height <= 0:
        return False
    ratio_ok = max(width, height) <= MAX_PHOTO_RATIO * min(width, height)
    return width + height <= MAX_PHOTO_SIDES and ratio_ok


def _update_type(update: JSON) -> str | None:
    return next((k for k in update if k != "update_id"), None)


def _update_chat(update: JSON) -> tuple[str, int] | None:
    """The chat an update belongs to (a button press: the chat of its message, else its
    sender), or None."""
    for kind, body in update.items():
        if not isinstance(body, dict):
            continue
        holder = body.get("message") if kind == "callback_query" else body
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return ("chat", chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return ("chat", sender["id"])
    return None


def _retry_after(status: int, description: str) -> JSON | None:
    """The retry_after parameter PTB needs to raise RetryAfter for a 429 description."""
    m = re.search(r"retry after (\d+)", description) if status == 429 else None
    return {"retry_after": int(m.group(1))} if m else None


class Hold:
    """Requests parked by `BotApiServer.hold` until `release()`, to force an ordering."""

    def __init__(self, server: BotApiServer, method: str, chat_id: int | None) -> None:
        self.method = _CANONICAL.get(method.lower(), method)
        self.chat_id = chat_id
        self._key = method.lower()
        self._server = server
        self._parked: list[asyncio.Future[None]] = []
        self._arrived = asyncio.Event()
        self.released = False

    def __repr__(self) -> str:
        chat = "" if self.chat_id is None else f" chat {self.chat_id}"
        state = "released" if self.released else f"{self.held} held"
        return f"<Hold {self.method}{chat}: {state}>"

    @property
    def held(self) -> int:
        """How many requests are parked now."""
        return len(self._parked)

    def matches(self, key: str, params: JSON) -> bool:
        """Whether a request of lower-cased method `key` with `params` is parked by this."""
        if self.released or key != self._key:
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id

    async def park(self) -> None:
        """Wait until released (called by the server for each matching request)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._parked.append(fut)
        self._arrived.set()
        try:
            await fut
        finally:
            if fut in self._parked:  # cancelled while parked
                self._parked.remove(fut)

    def release(self) -> None:
        """Stop parking and answer the parked requests normally, in arrival order."""
        self.released = True
        if self in self._server._holds:
            self._server._holds.remove(self)
        parked, self._parked = self._parked, []
        # Futures resolve in this order and each request then runs to its answer without
        # awaiting, so the answers follow arrival order.
        for fut in parked:
            if not fut.done():
                fut.set_result(None)

    async def wait_held(
        self,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - documented test API
    ) -> None:
        """Wait until at least `n` requests are parked; TimeoutError with a dump otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self._parked) < n:
            remaining = deadline - loop.time()
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(remaining, 0.0))
            except TimeoutError:
                raise TimeoutError(
                    f"{self!r}: {n} requests not parked within {timeout}s\n{self._server.dump()}"
                ) from None


# --------------------------------------------------------------------------- server


FIRST_UPDATE_ID = 101  # the update_id of the first injected update


class BotApiServer:
    """Fake Telegram Bot API server. Use ``async with BotApiServer() as server:``."""

    def __init__(
        self,
        *,
        bot_id: int = 5_000_000,
        bot_username: str = "sciatica_test_bot",
        bot_first_name: str = "Sciatica Test Bot",
        record_requests: bool = True,
        host: str = "127.0.0.1",
        webhook_retry_delay: float = 0.05,
        webhook_chat_order: bool = False,
        strict_photos: bool = False,
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.record_requests = record_requests
        """When False only failed requests are kept in ``requests``; counts are always kept."""
        self.host = host
        self.port = 0
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.callback_answers: dict[str, JSON] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_max_connections = DEFAULT_WEBHOOK_CONNECTIONS
        self.webhook_retry_delay = webhook_retry_delay
        """Seconds between webhook delivery rounds after a failed delivery."""
        self.webhook_deliveries: list[tuple[int, int]] = []
        """(update_id, HTTP status or 0 for a connection error) for every webhook attempt."""
        self.webhook_chat_order = webhook_chat_order
        """Deliver each chat's updates one at a time, the next only once the previous one was
        confirmed, as Telegram's server does (one queue per chat). Off by default, which is
        harsher: a chat's updates may then arrive together and in any order."""
        self.strict_photos = strict_photos
        """Also reject uploaded photos whose PNG/JPEG header cannot be read (Telegram does);
        off by default because older tests upload placeholder bytes."""
        self.uploads: dict[str, int] = {}
        """Files that arrived in multipart requests, by method (e.g. {"sendPhoto": 2})."""
        self.file_id_reuses: dict[str, int] = {}
        """Photos sent as a file_id string instead of an upload, by method."""
        self._counts: dict[str, int] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._chat_failures: dict[int, _ChatFailure] = {}
        self._holds: list[Hold] = []
        self._forbidden: set[int] = set()
        self._chats: dict[int, JSON] = {}
        self._next_mid: dict[int, int] = {}
        self._sent: dict[int, dict[int, SentMessage]] = {}
        self._incoming: dict[tuple[int, int], JSON] = {}
        self._reply_keyboards: dict[int, JSON] = {}
        self._issued_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._files: dict[str, UploadedFile] = {}
        self._file_ids = itertools.count(1)
        self._issued_files: set[str] = set()
        self._forgotten_files: set[str] = set()
        self._media_groups = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._pending: deque[JSON] = deque()
        self._injected: dict[int, JSON] = {}
        self._allowed: frozenset[str] | None = None  # None: Telegram's default set
        self._filter_dirty = False  # an update or allowed_updates changed since last filter
        self._webhook_event: asyncio.Event | None = None
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self._webhook_error: tuple[int, str] | None = None  # (unix date, message)
        self._update_id = FIRST_UPDATE_ID - 1
        self._last_injected = 0
        self._delivered = 0
        self._waiters: set[asyncio.Future[str]] = set()
        self._inflight = 0
        self._last_activity = 0.0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._handlers: dict[str, Callable[[JSON], Any]] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendmediagroup": self._send_media_group,
            "sendchataction": self._send_chat_action,
            "deletemessage": self._delete_message,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getfile": self._get_file,
            "close": lambda _p: True,
            "logout": lambda _p: True,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url(...)``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start serving."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._closing = False
        self._webhook_event = asyncio.Event()
        if self.webhook_url:
            self._restart_webhook()

    async def stop(self) -> None:
        """Release held requests and pending long polls, stop webhook delivery, shut down."""
        self._closing = True
        self._wake("close")
        for hold in list(self._holds):
            hold.release()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test controls

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with `status` (429 carries retry_after)."""
        parameters: JSON | None = None
        if status == 429:
            description = f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif status == 400:
            description = "Bad Request: injected failure"
        elif status == 403:
            description = BLOCKED
        else:
            try:
                description = HTTPStatus(status).phrase
            except ValueError:
                description = f"Error {status}"
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend(_Failure(status, description, parameters) for _ in range(times))

    def forbid_chat(self, chat_id: int) -> None:
        """Make every send/edit to `chat_id` fail with 403 (bot blocked)."""
        self._forbidden.add(chat_id)

    def allow_chat(self, chat_id: int) -> None:
        """Undo `forbid_chat`."""
        self._forbidden.discard(chat_id)

    def fail_chat(
        self, chat_id: int, status: int, description: str, *, times: int | None = None
    ) -> None:
        """Fail every send, edit, delete or chat action in `chat_id` with `status`.

        Use `CHAT_NOT_FOUND` (400) or `USER_DEACTIVATED` (403) for Telegram's texts. `times`
        limits it to the next n such requests; None lasts until `clear_chat_failures`. These
        are Telegram's answers, not the bot's mistakes, so they are not violations.
        """
        if times is not None and times <= 0:
            self._chat_failures.pop(chat_id, None)
            return
        self._chat_failures[chat_id] = _ChatFailure(
            status, description, _retry_after(status, description), times
        )

    def clear_chat_failures(self, chat_id: int) -> None:
        """Undo `fail_chat` for `chat_id`."""
        self._chat_failures.pop(chat_id, None)

    def hold(self, method: str, *, chat_id: int | None = None) -> Hold:
        """Park requests of `method` (to `chat_id` if given) until the returned Hold's release().

        Parked requests count as in flight, so `settle()` waits for them; `stop()` releases
        every hold.
        """
        hold = Hold(self, method, chat_id)
        self._holds.append(hold)
        return hold

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """The person deletes a bot message from their chat; later edits get "not found".

        Telegram sends no update for this, so the bot cannot know: its failing edits and
        deletes of such a message are not recorded as violations.
        """
        msg = self.message(chat_id, message_id)
        msg.deleted = True
        msg.deleted_by_user = True

    def file_name(self, file_id: str | None) -> str | None:
        """The name of the file first uploaded under ``file_id`` (a photo sent again by its
        file_id keeps it): which picture a photo shows."""
        upload = self._files.get(file_id or "")
        return upload.filename if isinstance(upload, UploadedFile) else None

    def forget_file_ids(self) -> None:
        """Make every file_id issued so far unknown, like a stored id Telegram now rejects."""
        self._forgotten_files |= self._issued_files
        self._issued_files = set()

    def reset_recording(self) -> None:
        """Clear requests, counts, violations and callback answers (chat state is kept)."""
        self.requests.clear()
        self._counts.clear()
        self.violations.clear()
        self.callback_answers.clear()
        self.uploads.clear()
        self.file_id_reuses.clear()
        self.webhook_deliveries.clear()

    # ------------------------------------------------------------------ reading

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to `chat_id`, in send order, in their current state."""
        msgs = self._sent.get(chat_id, {}).values()
        return [m for m in msgs if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> SentMessage:
        """The bot's latest non-deleted message in `chat_id` (LookupError if none)."""
        for m in reversed(self._sent.get(chat_id, {}).values()):
            if not m.deleted:
                return m
        raise LookupError(f"the bot sent nothing to chat {chat_id}\n{self.dump()}")

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """One bot message by id (LookupError if unknown)."""
        try:
            return self._sent[chat_id][message_id]
        except KeyError:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}") from None

    def reply_keyboard(self, chat_id: int) -> JSON | None:
        """The last ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply sent to the chat."""
        return self._reply_keyboards.get(chat_id)

    def calls(self, method: str) -> list[Request]:
        """Recorded requests of `method` (case-insensitive)."""
        name = _CANONICAL.get(method.lower(), method)
        return [r for r in self.requests if r.method == name]

    def count(self, method: str) -> int:
        """How many calls of `method` arrived (kept even when recording is off)."""
        return self._counts.get(_CANONICAL.get(method.lower(), method), 0)

    @property
    def commands(self) -> list[JSON]:
        """Commands last set by setMyCommands for the default scope and no language."""
        return self.commands_for()

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands set for a given scope / language."""
        return list(self._commands.get(_commands_key(scope, language_code), []))

    @property
    def pending_updates(self) -> int:
        """Injected updates not yet confirmed (by a getUpdates offset or a webhook's 2xx)."""
        return len(self._pending)

    def dump(self, last: int = 25) -> str:
        """Readable summary of recent requests and violations."""
        lines = [f"--- last {last} of {len(self.requests)} recorded requests:"]
        lines += [f"  {r}" for r in self.requests[-last:]]
        lines.append(
            f"--- pending updates: {len(self._pending)}, injected up to {self._last_injected}, "
            f"delivered up to {self._delivered}"
        )
        if self.webhook_url:
            error = self._webhook_error[1] if self._webhook_error else None
            lines.append(
                f"--- webhook {self.webhook_url}: {len(self.webhook_deliveries)} deliveries, "
                f"last {self.webhook_deliveries[-3:]}, last error: {error}"
            )
        held = [h for h in self._holds if h.held]
        if held:
            lines.append(f"--- held: {held}")
        if self.violations:
            lines.append("--- violations:")
            lines += [f"  {v}" for v in self.violations]
        return "\n".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[], object],
        timeout: float = 5.0,  # noqa: ASYNC109 - documented test API
        interval: float = 0.01,
    ) -> None:
        """Poll until predicate() is truthy; TimeoutError with a dump otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s\n{self.dump()}")
            await asyncio.sleep(interval)

    async def settle(
        self,
        quiet: float = 0.15,
        timeout: float = 5.0,  # noqa: ASYNC109 - documented test API
    ) -> None:
        """Wait until all injected updates were fetched and the bot has been quiet `quiet` s.

        With a webhook, an update counts as fetched once the webhook confirmed it (2xx).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            if self._all_delivered() and self._inflight == 0 and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(f"bot did not settle within {timeout}s\n{self.dump()}")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ injecting updates

    def _user(self, user_id: int, first_name: str, language_code: str | None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    def _chat(self, chat_id: int, chat_type: str = "private", first_name: str = "Test") -> JSON:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_type == "private":
                chat = {"id": chat_id, "type": "private", "first_name": first_name}
            else:
                chat = {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}
            self._chats[chat_id] = chat
        return chat

    def _alloc_mid(self, chat_id: int) -> int:
        mid = self._next_mid.get(chat_id, 0) + 1
        self._next_mid[chat_id] = mid
        return mid

    @property
    def last_update_id(self) -> int:
        """The update_id of the most recently injected update (0 before any)."""
        return self._last_injected

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        return self._push({kind: payload})

    def _push(self, payload: JSON) -> JSON:
        self._update_id += 1
        update = {"update_id": self._update_id, **payload}
        self._pending.append(update)
        self._injected[self._update_id] = update
        self._last_injected = self._update_id
        self._filter_dirty = True
        self._wake("update")
        return update

    def inject_raw(self, payload: JSON) -> JSON:
        """Enqueue ``{"update_id": <next>, **payload}`` unchecked, e.g. one PTB cannot parse.

        The server numbers updates itself, so `payload` must not carry an update_id (use
        `redeliver` to send an update_id again).
        """
        if "update_id" in payload:
            raise ValueError("inject_raw assigns update_id itself; use redeliver() to repeat one")
        return self._push(payload)

    def redeliver(self, update_id: int) -> None:
        """Queue an injected update again (same update_id and content) at the end.

        Telegram does this when the bot crashed before confirming an update. The copy is
        handed out once even if the bot's offset already confirmed that update_id.
        """
        original = self._injected.get(update_id)
        if original is None:
            raise LookupError(f"no injected update {update_id}")
        self._pending.append(_Redelivery(original))
        self._filter_dirty = True
        self._wake("update")

    def channel_post(self, chat_id: int, text: str) -> JSON:
        """Inject a channel_post from channel `chat_id` (negative, like Telegram's)."""
        if chat_id >= 0:
            raise ValueError(f"channel ids are negative, got {chat_id}")
        chat = self._chat(chat_id, "channel")
        post: JSON = {
            "message_id": self._alloc_mid(chat_id),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        m = _INCOMING_COMMAND_RE.match(text)
        if m:
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": m.end()}]
        self._incoming[(chat_id, post["message_id"])] = post
        return self._enqueue("channel_post", post)

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str,
        first_name: str,
        language_code: str | None,
        content: JSON,
    ) -> JSON:
        cid = user_id if chat_id is None else chat_id
        mid = self._alloc_mid(cid)
        msg: JSON = {
            "message_id": mid,
            "from": self._user(user_id, first_name, language_code),
            "chat": self._chat(cid, chat_type, first_name),
            "date": int(time.time()),
            **content,
        }
        self._incoming[(cid, mid)] = msg
        return msg

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        language_code: str | None = None,
    ) -> JSON:
        """Inject a text message (a leading /command gets its bot_command entity)."""
        content: JSON = {"text": text}
        m = _INCOMING_COMMAND_RE.match(text)
        if m:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": m.end()}]
        msg = self._user_message(user_id, chat_id, chat_type, first_name, language_code, content)
        return self._enqueue("message", msg)

    def share_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
    ) -> JSON:
        """Inject a shared location (as from a request_location keyboard button)."""
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        msg = self._user_message(user_id, chat_id, "private", first_name, None, content)
        return self._enqueue("message", msg)

    def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> JSON:
        """Inject a sticker message."""
        fid = f"sticker-{next(self._file_ids)}"
        self._issued_files.add(fid)
        sticker = {
            "file_id": fid,
            "file_unique_id": f"u{fid}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        msg = self._user_message(user_id, chat_id, "private", "Test", None, {"sticker": sticker})
        return self._enqueue("message", msg)

    def send_photo(
        self, user_id: int, *, caption: str | None = None, chat_id: int | None = None
    ) -> JSON:
        """Inject a photo message."""
        fid = f"photo-{next(self._file_ids)}"
        self._issued_files.update((fid, f"{fid}-s"))
        content: JSON = {"photo": _photo_sizes(fid, 1234)}
        if caption is not None:
            content["caption"] = caption
        msg = self._user_message(user_id, chat_id, "private", "Test", None, content)
        return self._enqueue("message", msg)

    def send_voice(self, user_id: int, *, chat_id: int | None = None) -> JSON:
        """Inject a voice message."""
        fid = f"voice-{next(self._file_ids)}"
        self._issued_files.add(fid)
        voice = {
            "file_id": fid,
            "file_unique_id": f"u{fid}",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": 4321,
        }
        msg = self._user_message(user_id, chat_id, "private", "Test", None, {"voice": voice})
        return self._enqueue("message", msg)

    def forward_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> JSON:
        """Inject a text forwarded from another user."""
        origin = {
            "type": "user",
            "date": int(time.time()) - 3600,
            "sender_user": {"id": 42, "is_bot": False, "first_name": "Someone"},
        }
        content = {"text": text, "forward_origin": origin}
        msg = self._user_message(user_id, chat_id, "private", "Test", None, content)
        return self._enqueue("message", msg)

    def edit_text(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> JSON:
        """Inject an edited_message update for a message the user sent earlier."""
        cid = user_id if chat_id is None else chat_id
        original = self._incoming.get((cid, message_id))
        if original is None:
            raise LookupError(f"user never sent message {message_id} in chat {cid}")
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited["text"] = new_text
        edited["edit_date"] = int(time.time())
        self._incoming[(cid, message_id)] = edited
        return self._enqueue("edited_message", edited)

    def press_button(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> str:
        """Inject a callback_query with any `data` on a bot message; returns the query id."""
        cid = user_id if chat_id is None else chat_id
        sent = self._sent.get(cid, {}).get(message_id)
        if sent is not None and not sent.deleted:
            message = self._message_json(sent)
        else:  # Telegram sends an InaccessibleMessage
            message = {"chat": self._chat(cid), "message_id": message_id, "date": 0}
        qid = f"cq{next(self._query_ids)}"
        self._issued_queries.add(qid)
        query = {
            "id": qid,
            "from": self._user(user_id, self._chat(cid).get("first_name", "Test"), None),
            "message": message,
            "chat_instance": f"ci{cid}",
            "data": data,
        }
        self._enqueue("callback_query", query)
        return qid

    def press(self, user_id: int, message: SentMessage | int, button_text: str) -> str:
        """Press the inline button labelled `button_text` on a bot message; returns query id."""
        if isinstance(message, SentMessage):
            current = self.message(message.chat_id, message.message_id)
        else:
            current = self.message(user_id, message)
        button = current.button(button_text)
        if "callback_data" not in button:
            raise LookupError(f"button {button_text!r} has no callback_data: {button!r}")
        return self.press_button(
            user_id, current.message_id, button["callback_data"], chat_id=current.chat_id
        )

    def _member_update(self, user_id: int, old: str, new: str) -> JSON:
        bot = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        new_member: JSON = {"user": bot, "status": new}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: JSON = {"user": bot, "status": old}
        if old == "kicked":
            old_member["until_date"] = 0
        payload = {
            "chat": self._chat(user_id),
            "from": self._user(user_id, self._chat(user_id).get("first_name", "Test"), None),
            "date": int(time.time()),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }
        return self._enqueue("my_chat_member", payload)

    def kick(self, user_id: int) -> JSON:
        """The user blocks the bot: my_chat_member "kicked", and sends now get 403."""
        self._forbidden.add(user_id)
        return self._member_update(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> JSON:
        """The user unblocks the bot: my_chat_member "member", sends work again."""
        self._forbidden.discard(user_id)
        return self._member_update(user_id, "kicked", "member")

    # ------------------------------------------------------------------ HTTP plumbing

    def _wake(self, reason: str) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(reason)
        if self._webhook_event is not None:
            self._webhook_event.set()

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query) if request.query_string else {}
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise _bad("JSON request body must be an object")
                params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        params[key] = value
        for key, value in params.items():
            if isinstance(value, str):
                params[key] = _coerce(key, value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        raw_method = request.match_info["method"]
        key = raw_method.lower()
        name = _CANONICAL.get(key, raw_method)
        self._counts[name] = self._counts.get(name, 0) + 1
        polling = key == "getupdates"
        if not polling:
            self._inflight += 1
        params: JSON = {}
        try:
            params = await self._read_params(request)
            if request.content_type.startswith("multipart/"):
                self._count_uploads(name, params)
            if self._holds:
                try:
                    await self._wait_holds(key, params)
                except asyncio.CancelledError:
                    self._finish(polling)
                    raise
            handler = self._handlers.get(key)
            if handler is None and not polling:
                raise ApiError(404, "Not Found")
            failures = self._failures.get(key)
            if failures:
                f = failures.popleft()
                raise ApiError(f.status, f.description, violation=False, parameters=f.parameters)
            if self._chat_failures and key in _CHAT_METHODS:
                self._check_chat_failure(params)
            if polling:
                result = await self._get_updates(params, request)
            else:
                assert handler is not None
                result = handler(params)
        except ApiError as err:
            self._finish(polling)
            self.requests.append(
                Request(name, params, err.status, err.description, time.time(), arrived)
            )
            if err.violation:
                self.violations.append(f"{name}: {err.description} | {_short(params)}")
            body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            return web.Response(
                status=err.status, body=json.dumps(body), content_type="application/json"
            )
        self._finish(polling)
        if self.record_requests:
            self.requests.append(Request(name, params, 200, None, time.time(), arrived))
        return web.Response(
            body=json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode(),
            content_type="application/json",
        )

    def _finish(self, polling: bool) -> None:
        if not polling:
            self._inflight -= 1
            self._last_activity = asyncio.get_running_loop().time()

    def _count_uploads(self, name: str, params: JSON) -> None:
        files = sum(1 for v in params.values() if isinstance(v, UploadedFile))
        if files:
            self.uploads[name] = self.uploads.get(name, 0) + files

    async def _wait_holds(self, key: str, params: JSON) -> None:
        # A request stays parked while any matching hold is active, one hold after another.
        while True:
            hold = next((h for h in self._holds if h.matches(key, params)), None)
            if hold is None:
                return
            await hold.park()

    def _check_chat_failure(self, params: JSON) -> None:
        cid = params.get("chat_id")
        if not isinstance(cid, int):
            return
        f = self._chat_failures.get(cid)
        if f is None:
            return
        if f.remaining is not None:
            f.remaining -= 1
            if f.remaining <= 0:
                del self._chat_failures[cid]
        raise ApiError(f.status, f.description, violation=False, parameters=f.parameters)

    async def _handle_file(self, request: web.Request) -> web.Response:
        upload = self._files.get(request.match_info["path"])
        if upload is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=upload.data, content_type=upload.content_type)

    # ------------------------------------------------------------------ webhook delivery

    def _restart_webhook(self) -> None:
        self._cancel_webhook()
        if self.webhook_url is None or self._runner is None or self._closing:
            return  # start() resumes delivery
        task = asyncio.get_running_loop().create_task(self._webhook_loop(self.webhook_url))
        self._webhook_tasks.add(task)
        task.add_done_callback(self._webhook_tasks.discard)

    def _cancel_webhook(self) -> None:
        for task in self._webhook_tasks:
            task.cancel()

    async def _stop_webhook(self) -> None:
        tasks = list(self._webhook_tasks)
        self._cancel_webhook()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _webhook_loop(self, url: str) -> None:
        """Deliver pending updates to `url` in rounds until the webhook is removed or changed."""
        event = self._webhook_event
        assert event is not None, "start() creates the event"
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                self._drop_disallowed()
                if not self._pending:
                    event.clear()
                    await event.wait()
                    continue
                # Each round tries every pending update in update_id order; updates that
                # failed are retried in the next round, after the delay.
                attempt = sorted(self._pending, key=lambda u: int(u["update_id"]))
                if not await self._webhook_round(session, url, attempt):
                    await asyncio.sleep(self.webhook_retry_delay)

    async def _webhook_round(
        self, session: aiohttp.ClientSession, url: str, updates: list[JSON]
    ) -> bool:
        """Deliver `updates` over at most max_connections connections; True if all confirmed."""
        lanes = self._webhook_lanes(updates)
        queue = iter(lanes)
        all_ok = True

        async def connection() -> None:
            nonlocal all_ok
            # Connections take the next lane when free, so attempts start in update_id order.
            for lane in queue:
                for update in lane:
                    if not await self._deliver(session, url, update):
                        all_ok = False
                        break  # the rest of its lane waits for it (next round)

        count = min(self.webhook_max_connections, len(lanes))
        await asyncio.gather(*(connection() for _ in range(count)))
        return all_ok

    def _webhook_lanes(self, updates: list[JSON]) -> list[list[JSON]]:
        """Updates delivered one after another: each chat's (webhook_chat_order), else each
        update alone."""
        if not self.webhook_chat_order:
            return [[update] for update in updates]
        lanes: dict[object, list[JSON]] = {}
        for update in updates:
            chat = _update_chat(update)
            lanes.setdefault(update["update_id"] if chat is None else chat, []).append(update)
        return list(lanes.values())

    async def _deliver(self, session: aiohttp.ClientSession, url: str, update: JSON) -> bool:
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers[SECRET_HEADER] = self.webhook_secret
        status, reason = 0, ""
        error: str | None = None
        if urlsplit(url).hostname not in _LOOPBACK_HOSTS:
            # Tests never reach the internet: anything but loopback counts as unreachable.
            error = "Failed to resolve host: this fake delivers only to 127.0.0.1"
        else:
            body = json.dumps(update, ensure_ascii=False).encode()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    status = resp.status
                    reason = resp.reason or ""
                    await resp.read()
            except aiohttp.ClientConnectorError:
                error = "Connection refused"
            except TimeoutError:
                error = "Connection timed out"
            except aiohttp.ClientError as exc:
                error = f"Connection error: {exc.__class__.__name__}"
        self.webhook_deliveries.append((int(update["update_id"]), status))
        if 200 <= status < 300:
            self._webhook_confirm(update)
            return True
        if error is None:
            error = f"Wrong response from the webhook: {status} {reason}"
        self._webhook_error = (int(time.time()), error)
        return False

    def _webhook_confirm(self, update: JSON) -> None:
        pending = self._pending
        for i, queued in enumerate(pending):
            if queued is update:
                del pending[i]
                break
        self._delivered = max(self._delivered, int(update["update_id"]))
        self._last_activity = asyncio.get_running_loop().time()

    # ------------------------------------------------------------------ validation helpers

    def _chat_id(self, params: JSON, *, send: bool = True) -> int:
        cid = params.get("chat_id")
        if cid is None or cid == "":
            raise _bad("chat_id is empty")
        if not isinstance(cid, int):
            raise _bad("chat not found")
        if send and cid in self._forbidden:
            raise ApiError(403, BLOCKED, violation=False)
        return cid

    def _format(
        self, params: JSON, key: str, mode_key: str, entities_key: str, *, caption: bool
    ) -> tuple[str, str, list[JSON]]:
        raw = params.get(key)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise _bad(f"field {key} must be a string")
        mode = params.get(mode_key) or None
        if mode is None:
            text = raw
            given = params.get(entities_key) or []
            entities = _check_entities(given, utf16_len(raw))
        elif str(mode).lower() == "html":
            try:
                text, entities = parse_html(raw)
            except EntityParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        elif str(mode).lower() in ("markdownv2", "markdown"):
            raise _bad(f"parse_mode {mode} is not supported by this fake (use HTML)")
        else:
            raise _bad(f"unsupported parse_mode {mode!r}")
        text, entities = _trim(text, entities)
        if caption:
            if len(text) > MAX_CAPTION_LENGTH:
                raise _bad("message caption is too long")
        elif not text:
            raise _bad("message text is empty")
        elif len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return raw, text, entities

    def _sent_message(self, params: JSON, *, for_edit: bool = True) -> SentMessage:
        cid = self._chat_id(params)
        if "inline_message_id" in params:
            raise _bad("inline_message_id is not supported by this fake")
        mid = params.get("message_id")
        msg = self._sent.get(cid, {}).get(mid) if isinstance(mid, int) else None
        if msg is None or msg.deleted:
            description = EDIT_NOT_FOUND if for_edit else "Bad Request: message not found"
            # The bot cannot know the person deleted it; anything else is the bot's mistake.
            violation = msg is None or not msg.deleted_by_user
            raise ApiError(400, description, violation=violation)
        return msg

    def _store(
        self,
        cid: int,
        raw: str,
        text: str,
        entities: list[JSON],
        params: JSON,
        mode_key: str,
        kind: str = "text",
        file_id: str | None = None,
    ) -> SentMessage:
        markup = params.get("reply_markup")
        if markup is not None:
            _validate_markup(markup, allow_reply=True)
            if "inline_keyboard" not in markup:
                self._reply_keyboards[cid] = markup
        msg = SentMessage(
            message_id=self._alloc_mid(cid),
            chat_id=cid,
            text=text,
            html=raw,
            parse_mode=params.get(mode_key) or None,
            reply_markup=markup,
            entities=entities,
            date=int(time.time()),
            kind=kind,
            file_id=file_id,
        )
        chat_msgs = self._sent.get(cid)
        if chat_msgs is None:
            chat_msgs = self._sent[cid] = {}
        chat_msgs[msg.message_id] = msg
        if kind == "photo" and file_id is not None:
            # Photo ids were checked before; the sizes in the answer can be sent again too.
            self._issued_files.update((file_id, f"{file_id}-s"))
        return msg

    def _message_json(self, msg: SentMessage) -> JSON:
        out: JSON = {
            "message_id": msg.message_id,
            "date": msg.date,
            "chat": self._chat(msg.chat_id),
            "from": self._bot_user,
        }
        if msg.kind == "text":
            out["text"] = msg.text
            if msg.entities:
                out["entities"] = msg.entities
        else:
            if msg.kind == "photo":
                out["photo"] = _photo_sizes(msg.file_id or "", 1000)
            else:
                upload = self._files.get(msg.file_id or "")
                out["document"] = {
                    "file_id": msg.file_id,
                    "file_unique_id": f"u{msg.file_id}",
                    "file_name": upload.filename if upload else "file",
                    "mime_type": upload.content_type if upload else "application/octet-stream",
                    "file_size": len(upload.data) if upload else 1000,
                }
            if msg.text:
                out["caption"] = msg.text
                if msg.entities:
                    out["caption_entities"] = msg.entities
        if msg.media_group_id is not None:
            out["media_group_id"] = msg.media_group_id
        if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
            out["reply_markup"] = msg.reply_markup
        if msg.edited:
            out["edit_date"] = int(time.time())
        return out

    # ------------------------------------------------------------------ methods

    def _get_me(self, _params: JSON) -> JSON:
        return self._bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON, request: web.Request) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int) and offset != 0:
            self._confirm(offset)
        if "allowed_updates" in params:
            self._set_allowed(params["allowed_updates"])
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        self._wake("conflict")  # an older long poll is terminated by this one
        self._drop_disallowed()
        if not self._pending and timeout > 0 and not self._closing:
            fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait({fut}, timeout=timeout)
            finally:
                self._waiters.discard(fut)
            if fut.done() and fut.result() == "conflict":
                transport = request.transport
                if transport is None or transport.is_closing():
                    return []  # the client already went away; nobody reads this
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        self._drop_disallowed()
        batch: list[JSON] = []
        for update in self._pending:
            # update_ids only grow within one answer, as from Telegram; a redelivered update
            # behind newer ones waits for the next call.
            if len(batch) == limit or (batch and update["update_id"] <= batch[-1]["update_id"]):
                break
            batch.append(update)
            if isinstance(update, _Redelivery):
                update.delivered = True
        if batch:
            self._delivered = max(self._delivered, batch[-1]["update_id"])
            self._last_activity = asyncio.get_running_loop().time()
        return batch

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset < 0:
            while len(pending) > -offset:
                self._delivered = max(self._delivered, pending.popleft()["update_id"])
            return
        while pending and pending[0]["update_id"] < offset:
            front = pending[0]
            if isinstance(front, _Redelivery) and not front.delivered:
                break  # put back after this offset was sent: hand it out first
            pending.popleft()
        self._delivered = max(self._delivered, min(offset - 1, self._update_id))

    def _all_delivered(self) -> bool:
        """Every injected update was handed out (polling) or confirmed (webhook), or dropped."""
        if self.webhook_url is not None:
            return not self._pending
        if not self._pending:
            return True
        upto = self._delivered
        return all(
            u["update_id"] <= upto and not (isinstance(u, _Redelivery) and not u.delivered)
            for u in self._pending
        )

    def _set_allowed(self, value: object) -> None:
        if value is None:
            return  # not given: Telegram keeps the previous setting
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad("can't parse allowed updates: an array of strings expected")
        self._allowed = frozenset(value) if value else None
        self._filter_dirty = True

    def _drop_disallowed(self) -> None:
        """Drop pending updates of types allowed_updates excludes, as Telegram never sends them."""
        if not self._filter_dirty:
            return
        self._filter_dirty = False
        allowed = self._allowed

        def wanted(update: JSON) -> bool:
            kind = _update_type(update)
            if kind is None:
                return True
            return kind in allowed if allowed is not None else kind not in _OPT_IN_UPDATES

        if all(wanted(u) for u in self._pending):
            return
        kept = [u for u in self._pending if wanted(u)]
        self._pending.clear()
        self._pending.extend(kept)

    def _send_message(self, params: JSON) -> JSON:
        cid = self._chat_id(params)
        raw, text, entities = self._format(params, "text", "parse_mode", "entities", caption=False)
        return self._message_json(self._store(cid, raw, text, entities, params, "parse_mode"))

    def _send_media(self, params: JSON, kind: str) -> JSON:
        cid = self._chat_id(params)
        media = params.get(kind)
        if isinstance(media, str) and media.startswith("attach://"):
            media = params.get(media.removeprefix("attach://"), media)
        if not isinstance(media, UploadedFile) and not (isinstance(media, str) and media):
            raise _bad(f"there is no {kind} in the request")
        raw, text, entities = self._format(
            params, "caption", "parse_mode", "caption_entities", caption=True
        )
        if kind == "photo":
            self._check_photo(media, "sendPhoto")
        fid = self._issue_file(media, kind)
        msg = self._store(cid, raw, text, entities, params, "parse_mode", kind, fid)
        return self._message_json(msg)

    def _check_photo(self, media: UploadedFile | str, method: str) -> None:
        """Telegram's checks of one photo: size and dimensions of uploads, known file_ids."""
        if isinstance(media, UploadedFile):
            if len(media.data) > MAX_PHOTO_BYTES:
                raise ApiError(400, PHOTO_INVALID_DIMENSIONS)
            size = image_size(media.data)
            if size is None:
                if self.strict_photos:
                    raise ApiError(400, PHOTO_INVALID_DIMENSIONS)
            elif not _photo_dimensions_ok(*size):
                raise ApiError(400, PHOTO_INVALID_DIMENSIONS)
            return
        self.file_id_reuses[method] = self.file_id_reuses.get(method, 0) + 1
        if media in self._issued_files:
            return
        # A forgotten id stands for one Telegram stopped accepting: not the bot's mistake.
        raise ApiError(400, WRONG_FILE_ID, violation=media not in self._forgotten_files)

    def _issue_file(self, media: UploadedFile | str, kind: str) -> str:
        if isinstance(media, str):
            return media
        fid = f"{kind}-{next(self._file_ids)}"
        self._files[fid] = media
        self._issued_files.add(fid)
        return fid

    def _send_photo(self, params: JSON) -> JSON:
        return self._send_media(params, "photo")

    def _send_document(self, params: JSON) -> JSON:
        return self._send_media(params, "document")

    def _send_media_group(self, params: JSON) -> list[JSON]:
        cid = self._chat_id(params)
        items = params.get("media")
        if not isinstance(items, list):
            raise _bad("can't parse media JSON object: an array expected")
        if not MIN_ALBUM <= len(items) <= MAX_ALBUM:
            raise ApiError(400, WRONG_MEDIA_COUNT)
        # Check every item before storing any, so a rejected album leaves no messages.
        checked: list[tuple[JSON, UploadedFile | str, str, str, list[JSON]]] = []
        for item in items:
            if not isinstance(item, dict):
                raise _bad("can't parse InputMedia: an object expected")
            if item.get("type") != "photo":
                raise _bad(f"media type {item.get('type')!r} is not supported by this fake")
            media = item.get("media")
            if isinstance(media, str) and media.startswith("attach://"):
                upload = params.get(media.removeprefix("attach://"))
                if not isinstance(upload, UploadedFile):
                    raise ApiError(400, WRONG_FILE_ID)
                media = upload
            if not isinstance(media, UploadedFile) and not (isinstance(media, str) and media):
                raise ApiError(400, WRONG_FILE_ID)
            raw, text, entities = self._format(
                item, "caption", "parse_mode", "caption_entities", caption=True
            )
            self._check_photo(media, "sendMediaGroup")
            checked.append((item, media, raw, text, entities))
        group = str(next(self._media_groups))
        out: list[JSON] = []
        for item, media, raw, text, entities in checked:
            fid = self._issue_file(media, "photo")
            msg = self._store(cid, raw, text, entities, item, "parse_mode", "photo", fid)
            msg.media_group_id = group
            out.append(self._message_json(msg))
        return out

    def _edit_message_text(self, params: JSON) -> JSON:
        msg = self._sent_message(params)
        if msg.kind != "text":
            raise _bad("there is no text in the message to edit")
        raw, text, entities = self._format(params, "text", "parse_mode", "entities", caption=False)
        markup = params.get("reply_markup")
        if markup is not None:
            _validate_markup(markup, allow_reply=False)
        if text == msg.text and entities == msg.entities and markup == _inline(msg.reply_markup):
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        msg.history.append(msg.text)
        msg.text, msg.html, msg.entities = text, raw, entities
        msg.parse_mode = params.get("parse_mode") or None
        msg.reply_markup = markup
        msg.edited = True
        return self._message_json(msg)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        msg = self._sent_message(params)
        markup = params.get("reply_markup")
        if markup is not None:
            _validate_markup(markup, allow_reply=False)
            if not markup.get("inline_keyboard"):
                markup = None
        if markup == _inline(msg.reply_markup):
            raise _bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        msg.reply_markup = markup
        msg.edited = True
        return self._message_json(msg)

    def _answer_callback_query(self, params: JSON) -> bool:
        qid = params.get("callback_query_id")
        if not isinstance(qid, str) or qid not in self._issued_queries:
            raise _bad(QUERY_INVALID.removeprefix("Bad Request: "))
        if qid in self.callback_answers:
            raise _bad(QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG: callback query answer text is longer than 200")
        self.callback_answers[qid] = params
        return True

    def _send_chat_action(self, params: JSON) -> bool:
        self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _delete_message(self, params: JSON) -> bool:
        cid = self._chat_id(params)
        mid = params.get("message_id")
        sent = self._sent.get(cid, {}).get(mid) if isinstance(mid, int) else None
        if sent is not None and not sent.deleted:
            sent.deleted = True
            return True
        if isinstance(mid, int) and self._incoming.pop((cid, mid), None) is not None:
            return True
        # The bot cannot know the person already deleted it.
        violation = sent is None or not sent.deleted_by_user
        raise ApiError(400, DELETE_NOT_FOUND, violation=violation)

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("commands must be an array")
        if len(commands) > 100:
            raise _bad("too many commands")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND_RE.fullmatch(str(cmd.get("command"))):
                raise _bad(f"BOT_COMMAND_INVALID: {cmd!r}")
            desc = cmd.get("description")
            if not isinstance(desc, str) or not 1 <= len(desc.strip()) <= 256:
                raise _bad(f"BOT_COMMAND_DESCRIPTION_INVALID: {cmd!r}")
        key = _commands_key(params.get("scope"), params.get("language_code") or "")
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands_for(params.get("scope"), params.get("language_code") or "")

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(
            _commands_key(params.get("scope"), params.get("language_code") or ""), None
        )
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self._remove_webhook()
        if params.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _remove_webhook(self) -> None:
        if self.webhook_url is None:
            return
        self.webhook_url = None
        self.webhook_secret = None
        self.webhook_max_connections = DEFAULT_WEBHOOK_CONNECTIONS
        self._cancel_webhook()
        if self._pending:
            # Unconfirmed updates go to getUpdates; none of them was handed out there yet.
            self._delivered = min(u["update_id"] for u in self._pending) - 1

    def _drop_pending(self) -> None:
        while self._pending:
            self._delivered = max(self._delivered, self._pending.popleft()["update_id"])

    def _set_webhook(self, params: JSON) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            self._remove_webhook()  # an empty url removes the webhook, as in Telegram
            return True
        secret = params.get("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        connections = params.get("max_connections")
        if not isinstance(connections, int):
            connections = DEFAULT_WEBHOOK_CONNECTIONS
        self._set_allowed(params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_max_connections = min(max(connections, 1), 100)
        self._restart_webhook()
        return True

    def _get_webhook_info(self, _params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self._allowed is not None:
                info["allowed_updates"] = sorted(self._allowed)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _get_file(self, params: JSON) -> JSON:
        fid = params.get("file_id")
        upload = self._files.get(fid) if isinstance(fid, str) else None
        if upload is None or not isinstance(fid, str):
            raise _bad("invalid file_id")
        if fid in self._forgotten_files:
            raise ApiError(400, "Bad Request: invalid file_id", violation=False)
        return {
            "file_id": fid,
            "file_unique_id": f"u{fid}",
            "file_size": len(upload.data),
            "file_path": fid,
        }


# --------------------------------------------------------------------------- helpers


def _coerce(key: str, value: str) -> Any:
    try:
        if key in _JSON_FIELDS:
            return json.loads(value)
        if key == "chat_id":
            return int(value) if value.lstrip("-").isdigit() else value
        if key in _INT_FIELDS:
            return int(float(value))
        if key in _FLOAT_FIELDS:
            return float(value)
    except ValueError:
        raise _bad(f"can't parse parameter {key}") from None
    if key in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def _short(params: JSON) -> str:
    text = json.dumps(params, ensure_ascii=False, default=repr)
    return text if len(text) <= 300 else text[:297] + "..."


def _inline(markup: JSON | None) -> JSON | None:
    return markup if markup is not None and "inline_keyboard" in markup else None


def _commands_key(scope: object, language_code: str) -> tuple[str, str]:
    if not isinstance(scope, dict) or scope.get("type", "default") == "default":
        return ("default", language_code)
    return (json.dumps(scope, sort_keys=True), language_code)


def _photo_sizes(file_id: str, size: int) -> list[JSON]:
    return [
        {
            "file_id": f"{file_id}-s",
            "file_unique_id": f"u{file_id}-s",
            "width": 90,
            "height": 90,
            "file_size": size // 10,
        },
        {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "width": 800,
            "height": 800,
            "file_size": size,
        },
    ]


def _check_entities(given: object, length16: int) -> list[JSON]:
    if not isinstance(given, list):
        raise _bad("can't parse entities: entities must be an array")
    out: list[JSON] = []
    for e in given:
        if not isinstance(e, dict) or not isinstance(e.get("type"), str):
            raise _bad(f"can't parse entities: bad entity {e!r}")
        offset, length = e.get("offset"), e.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0:
            raise _bad(f"can't parse entities: bad entity {e!r}")
        if length > 0 and offset + length <= length16:
            out.append(e)
    return out


def _validate_markup(markup: object, *, allow_reply: bool) -> None:
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
        return
    if not allow_reply:
        raise _bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not isinstance(label, str) or not label:
                    raise _bad(f"keyboard button text must be non-empty: {button!r}")
        return
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return
    raise _bad("can't parse reply keyboard markup JSON object")


def _validate_inline_keyboard(rows: object) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise _bad('can\'t parse inline keyboard markup: field "inline_keyboard" must be an Array')
    if sum(len(r) for r in rows) > MAX_INLINE_BUTTONS:
        raise _bad("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise _bad("can't parse inline keyboard button: button must be an Object")
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                raise _bad("can't parse inline keyboard button: Text must be non-empty")
            actions = [a for a in _INLINE_ACTIONS if a in button]
            if not actions:
                raise _bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if len(actions) > 1:
                raise _bad(f"can't parse inline keyboard button: exactly one of {actions} expected")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not (
                    1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad(f"BUTTON_DATA_INVALID: {data!r}")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url or any(c.isspace() for c in url):
                    raise _bad(f"inline keyboard button URL {url!r} is invalid: Wrong HTTP URL")
