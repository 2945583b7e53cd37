"""The fake Bot API's records: what it received, what the bot sent, how it answered."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


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
    """"text", "photo", "animation" or "document"."""
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


def bad(description: str) -> ApiError:
    """A 400 "Bad Request: ..." answer that the bot caused (a violation)."""
    return ApiError(400, f"Bad Request: {description}")


class Redelivery(dict[str, Any]):
    """A copy of an update put back by `BotApiServer.redeliver`.

    It may sit behind newer updates in the queue, so an offset that already confirmed its
    update_id must not drop it before it was handed out once more.
    """

    delivered: bool = False
