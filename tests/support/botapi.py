"""A local fake of the Telegram Bot API for tests and benchmarks.

`BotApiServer` is a real HTTP server on 127.0.0.1 that python-telegram-bot's `Bot` and
`Application` talk to via ``base_url``/``base_file_url``. It enforces the Telegram rules the bot
is most likely to break (text length, HTML parsing, keyboards, callback answers, edits), records
breaches in ``violations``, lets tests inject updates as a user would, and can inject failures.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import web

JSON = dict[str, Any]

__all__ = [
    "BotApiServer",
    "EntityParseError",
    "Request",
    "SentMessage",
    "UploadedFile",
    "parse_html",
]

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
MAX_INLINE_BUTTONS: Final = 100

METHODS: Final = (
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "sendPhoto",
    "sendDocument",
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
        self._counts: dict[str, int] = {}
        self._failures: dict[str, deque[_Failure]] = {}
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
        self._query_ids = itertools.count(1)
        self._pending: deque[JSON] = deque()
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

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        self._closing = True
        self._wake("close")
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

    def reset_recording(self) -> None:
        """Clear requests, counts, violations and callback answers (chat state is kept)."""
        self.requests.clear()
        self._counts.clear()
        self.violations.clear()
        self.callback_answers.clear()

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
        """Injected updates not yet confirmed by getUpdates."""
        return len(self._pending)

    def dump(self, last: int = 25) -> str:
        """Readable summary of recent requests and violations."""
        lines = [f"--- last {last} of {len(self.requests)} recorded requests:"]
        lines += [f"  {r}" for r in self.requests[-last:]]
        lines.append(
            f"--- pending updates: {len(self._pending)}, injected up to {self._last_injected}, "
            f"delivered up to {self._delivered}"
        )
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
        """Wait until all injected updates were fetched and the bot has been quiet `quiet` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            if (
                self._delivered >= self._last_injected
                and self._inflight == 0
                and now - self._last_activity >= quiet
            ):
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
        self._update_id += 1
        update = {"update_id": self._update_id, kind: payload}
        self._pending.append(update)
        self._last_injected = self._update_id
        self._wake("update")
        return update

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
        content: JSON = {"photo": _photo_sizes(fid, 1234)}
        if caption is not None:
            content["caption"] = caption
        msg = self._user_message(user_id, chat_id, "private", "Test", None, content)
        return self._enqueue("message", msg)

    def send_voice(self, user_id: int, *, chat_id: int | None = None) -> JSON:
        """Inject a voice message."""
        fid = f"voice-{next(self._file_ids)}"
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
            handler = self._handlers.get(key)
            if handler is None and not polling:
                raise ApiError(404, "Not Found")
            failures = self._failures.get(key)
            if failures:
                f = failures.popleft()
                raise ApiError(f.status, f.description, violation=False, parameters=f.parameters)
            if polling:
                result = await self._get_updates(params, request)
            else:
                assert handler is not None
                result = handler(params)
        except ApiError as err:
            self._finish(polling)
            self.requests.append(Request(name, params, err.status, err.description, time.time()))
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
            self.requests.append(Request(name, params, 200, None, time.time()))
        return web.Response(
            body=json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode(),
            content_type="application/json",
        )

    def _finish(self, polling: bool) -> None:
        if not polling:
            self._inflight -= 1
            self._last_activity = asyncio.get_running_loop().time()

    async def _handle_file(self, request: web.Request) -> web.Response:
        upload = self._files.get(request.match_info["path"])
        if upload is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=upload.data, content_type=upload.content_type)

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
            raise _bad("message to edit not found" if for_edit else "message not found")
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
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        self._wake("conflict")  # an older long poll is terminated by this one
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
        batch = list(itertools.islice(self._pending, limit))
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
            pending.popleft()
        self._delivered = max(self._delivered, min(offset - 1, self._update_id))

    def _send_message(self, params: JSON) -> JSON:
        cid = self._chat_id(params)
        raw, text, entities = self._format(params, "text", "parse_mode", "entities", caption=False)
        return self._message_json(self._store(cid, raw, text, entities, params, "parse_mode"))

    def _send_media(self, params: JSON, kind: str) -> JSON:
        cid = self._chat_id(params)
        media = params.get(kind)
        if isinstance(media, UploadedFile):
            fid = f"{kind}-{next(self._file_ids)}"
            self._files[fid] = media
        elif isinstance(media, str) and media:
            fid = media
        else:
            raise _bad(f"there is no {kind} in the request")
        raw, text, entities = self._format(
            params, "caption", "parse_mode", "caption_entities", caption=True
        )
        msg = self._store(cid, raw, text, entities, params, "parse_mode", kind, fid)
        return self._message_json(msg)

    def _send_photo(self, params: JSON) -> JSON:
        return self._send_media(params, "photo")

    def _send_document(self, params: JSON) -> JSON:
        return self._send_media(params, "document")

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
        raise _bad("message to delete not found")

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
        self.webhook_url = None
        if params.get("drop_pending_updates"):
            while self._pending:
                self._delivered = max(self._delivered, self._pending.popleft()["update_id"])
        return True

    def _set_webhook(self, params: JSON) -> bool:
        url = params.get("url")
        self.webhook_url = url if isinstance(url, str) and url else None
        return True

    def _get_webhook_info(self, _params: JSON) -> JSON:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    def _get_file(self, params: JSON) -> JSON:
        fid = params.get("file_id")
        upload = self._files.get(fid) if isinstance(fid, str) else None
        if upload is None or not isinstance(fid, str):
            raise _bad("invalid file_id")
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
