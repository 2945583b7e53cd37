"""What the fake Bot API remembers (chats, the bot's messages, files, pending updates, what it
received) and what a test can read of it."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from typing import TYPE_CHECKING

from aiohttp import web

from tests.support.botapi.models import JSON, Request, SentMessage, UploadedFile
from tests.support.botapi.rules import DEFAULT_WEBHOOK_CONNECTIONS, canonical, commands_key

if TYPE_CHECKING:
    from tests.support.botapi.faults import ChatFailure, Failure, Hold

FIRST_UPDATE_ID = 101  # the update_id of the first injected update


class ServerState:
    """The fake server's memory; the mixins in this package act on it, `BotApiServer` serves it."""

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
        self._failures: dict[str, deque[Failure]] = {}
        self._chat_failures: dict[int, ChatFailure] = {}
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
        name = canonical(method)
        return [r for r in self.requests if r.method == name]

    def count(self, method: str) -> int:
        """How many calls of `method` arrived (kept even when recording is off)."""
        return self._counts.get(canonical(method), 0)

    @property
    def commands(self) -> list[JSON]:
        """Commands last set by setMyCommands for the default scope and no language."""
        return self.commands_for()

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands set for a given scope / language."""
        return list(self._commands.get(commands_key(scope, language_code), []))

    def file_name(self, file_id: str | None) -> str | None:
        """The name of the file first uploaded under ``file_id`` (a photo sent again by its
        file_id keeps it): which picture a photo shows."""
        upload = self._files.get(file_id or "")
        return upload.filename if isinstance(upload, UploadedFile) else None

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

    @property
    def last_update_id(self) -> int:
        """The update_id of the most recently injected update (0 before any)."""
        return self._last_injected

    # ------------------------------------------------------------------ chats and messages

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
                out["photo"] = photo_sizes(msg.file_id or "", 1000)
            elif msg.kind == "animation":
                upload = self._files.get(msg.file_id or "")
                out["animation"] = {
                    "file_id": msg.file_id,
                    "file_unique_id": f"u{msg.file_id}",
                    "width": 640,
                    "height": 400,
                    "duration": 6,
                    "file_name": upload.filename if upload else "animation.mp4",
                    "mime_type": "video/mp4",
                    "file_size": len(upload.data) if upload else 1000,
                }
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


def photo_sizes(file_id: str, size: int) -> list[JSON]:
    """A photo as Telegram describes it: a thumbnail and the full size, each with a file_id."""
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
