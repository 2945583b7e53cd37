"""Telegram's rules as the fake Bot API applies them: method names, limits, error texts, the
decoding of parameters, Telegram-flavoured HTML, entities, keyboards, callback data and
photos."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from typing import Any, Final

from tests.support.botapi.models import JSON, bad

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
MAX_INLINE_BUTTONS: Final = 100
MAX_PHOTO_BYTES: Final = 10 * 1024 * 1024
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024  # any other file a bot uploads (an animation...)
ANIMATION_WRONG_TYPE: Final = "Bad Request: wrong type of the web page content"
MAX_PHOTO_SIDES: Final = 10_000  # width + height
MAX_PHOTO_RATIO: Final = 20
MIN_ALBUM: Final = 2
MAX_ALBUM: Final = 10
DEFAULT_WEBHOOK_CONNECTIONS: Final = 40
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
# Update types Telegram sends only when allowed_updates names them explicitly.
OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

METHODS: Final = (
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "sendPhoto",
    "sendAnimation",
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
CHAT_ACTIONS: Final = frozenset(
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
COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")  # a command the bot declares
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


def canonical(method: str) -> str:
    """The Bot API's spelling of a method name given in any case."""
    return _CANONICAL.get(method.lower(), method)


def command_entities(text: str) -> list[JSON]:
    """The bot_command entity Telegram gives a text that starts with a /command, else []."""
    m = _INCOMING_COMMAND_RE.match(text)
    return [{"type": "bot_command", "offset": 0, "length": m.end()}] if m else []


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


def trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
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


# --------------------------------------------------------------------------- photos


_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (C4, C8 and CC are DHT, JPG and DAC, which carry no size).
_JPEG_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


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


def animation_kind(data: bytes) -> str | None:
    """ "mp4" (an ISO media file: ``ftyp`` box first) or "gif", which Telegram plays as an
    animation; None for anything else."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "mp4"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def photo_dimensions_ok(width: int, height: int) -> bool:
    """Telegram's bounds for a photo: at most 10,000 px both sides together, ratio 20."""
    if width <= 0 or height <= 0:
        return False
    ratio_ok = max(width, height) <= MAX_PHOTO_RATIO * min(width, height)
    return width + height <= MAX_PHOTO_SIDES and ratio_ok


# --------------------------------------------------------------------------- parameters and markup


def coerce(key: str, value: str) -> Any:
    """A form-encoded parameter decoded to the type the Bot API gives it."""
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
        raise bad(f"can't parse parameter {key}") from None
    if key in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def inline_only(markup: JSON | None) -> JSON | None:
    """The markup if it is an inline keyboard (the only kind a message keeps), else None."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def commands_key(scope: object, language_code: str) -> tuple[str, str]:
    """Where setMyCommands keeps a command list: its scope and language."""
    if not isinstance(scope, dict) or scope.get("type", "default") == "default":
        return ("default", language_code)
    return (json.dumps(scope, sort_keys=True), language_code)


def check_entities(given: object, length16: int) -> list[JSON]:
    """Entities given with a text without parse_mode, those outside the text dropped."""
    if not isinstance(given, list):
        raise bad("can't parse entities: entities must be an array")
    out: list[JSON] = []
    for e in given:
        if not isinstance(e, dict) or not isinstance(e.get("type"), str):
            raise bad(f"can't parse entities: bad entity {e!r}")
        offset, length = e.get("offset"), e.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0:
            raise bad(f"can't parse entities: bad entity {e!r}")
        if length > 0 and offset + length <= length16:
            out.append(e)
    return out


def validate_markup(markup: object, *, allow_reply: bool) -> None:
    """Reject a reply_markup Telegram would refuse (reply keyboards only when sending)."""
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        validate_inline_keyboard(markup["inline_keyboard"])
        return
    if not allow_reply:
        raise bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not isinstance(label, str) or not label:
                    raise bad(f"keyboard button text must be non-empty: {button!r}")
        return
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return
    raise bad("can't parse reply keyboard markup JSON object")


def validate_inline_keyboard(rows: object) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad('can\'t parse inline keyboard markup: field "inline_keyboard" must be an Array')
    if sum(len(r) for r in rows) > MAX_INLINE_BUTTONS:
        raise bad("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad("can't parse inline keyboard button: button must be an Object")
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                raise bad("can't parse inline keyboard button: Text must be non-empty")
            actions = [a for a in _INLINE_ACTIONS if a in button]
            if not actions:
                raise bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if len(actions) > 1:
                raise bad(f"can't parse inline keyboard button: exactly one of {actions} expected")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not (
                    1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise bad(f"BUTTON_DATA_INVALID: {data!r}")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url or any(c.isspace() for c in url):
                    raise bad(f"inline keyboard button URL {url!r} is invalid: Wrong HTTP URL")
