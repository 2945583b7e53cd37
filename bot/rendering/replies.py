"""What a use case answers with: texts, buttons, pictures and files as plain data, no Telegram
types. ``bot.telegram.delivery`` turns a Response into Bot API calls."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # encoded with bot.rendering.buttons


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Picture:
    """An exercise picture: its key (``e1s2``: exercise 1, stage 2) and its caption."""

    key: str
    caption: str


@dataclass(frozen=True, slots=True)
class Animation:
    """An exercise animation: its key (``a3-left-en``: exercise 3, the left leg, in English;
    ``bot.rendering.motion``) and its caption. Sent with sendAnimation, uploaded once."""

    key: str
    caption: str


@dataclass(frozen=True, slots=True)
class Upload:
    """A file made for this person (a chart, a PDF, an export): sent once, never stored."""

    filename: str
    data: bytes
    caption: str = ""
    photo: bool = False  # a picture to show (the chart) rather than a document to keep


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send, or (with ``edit``) an edit of one the bot sent before."""

    text: str
    buttons: Keyboard = ()
    edit: int | None = None  # the message id to edit in place
    ask_location: str | None = None  # label of a one-time "share my location" keyboard button
    remove_keyboard: bool = False  # take away a reply keyboard shown earlier
    markup_only: bool = False  # with ``edit``: change only the buttons, keep the text
    # With ``edit``: it only tidies an old message; skipped if that message is gone (otherwise a
    # failed edit sends its content as a new message).
    cleanup: bool = False
    # A tag when the use case wants this message's id back: "card" (the flow's message) or
    # "session:<id>" (a routine message, stored on that daily session).
    track: str | None = None
    # Exercise pictures sent before the text: one photo, or an album of 2 to 10.
    pictures: tuple[Picture, ...] = ()
    # An exercise animation sent before the pictures and the text (an empty text: none).
    animation: Animation | None = None
    upload: Upload | None = None  # a file sent instead of a text message (text: its caption)

    @property
    def messages(self) -> int:
        """How many Telegram messages this reply costs (an album counts each picture)."""
        media = len(self.pictures) + (1 if self.animation is not None else 0)
        return media + (0 if self.edit is not None or self.media_only else 1)

    @property
    def media_only(self) -> bool:
        """An animation or pictures with no text: no text message follows them."""
        return not self.text and (self.animation is not None or bool(self.pictures))

    def to_json(self) -> dict[str, Any]:
        if self.upload is not None:
            raise ValueError("a reply with a file is made afresh, never stored")
        return {
            "text": self.text,
            "buttons": [[[b.label, b.data] for b in row] for row in self.buttons],
            "edit": self.edit,
            "ask_location": self.ask_location,
            "remove_keyboard": self.remove_keyboard,
            "markup_only": self.markup_only,
            "cleanup": self.cleanup,
            "track": self.track,
            "pictures": [[p.key, p.caption] for p in self.pictures],
            "animation": (
                None if self.animation is None else [self.animation.key, self.animation.caption]
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=str(data["text"]),
            buttons=tuple(
                tuple(Button(str(label), str(value)) for label, value in row)
                for row in data.get("buttons", [])
            ),
            edit=data.get("edit"),
            ask_location=data.get("ask_location"),
            remove_keyboard=bool(data.get("remove_keyboard")),
            markup_only=bool(data.get("markup_only")),
            cleanup=bool(data.get("cleanup")),
            track=data.get("track"),
            pictures=tuple(Picture(str(k), str(c)) for k, c in data.get("pictures", [])),
            animation=_animation(data.get("animation")),
        )


def _animation(value: Any) -> Animation | None:
    if not value:
        return None
    key, caption = value
    return Animation(str(key), str(caption))


@dataclass(slots=True)
class Response:
    """Everything one event produces: replies in order, and the answer to a button press."""

    replies: list[Reply] = field(default_factory=list)
    answer: str | None = None  # the toast for a callback query (None: answered silently)

    def add(self, text: str, buttons: Keyboard = (), **kwargs: Any) -> Response:
        self.replies.append(Reply(text, buttons, **kwargs))
        return self

    def extend(self, other: Response) -> Response:
        self.replies.extend(other.replies)
        if other.answer is not None:
            self.answer = other.answer
        return self

    def without_edits_of(self, message_id: int) -> None:
        """The message ``message_id`` can no longer be edited (Telegram marks it inaccessible:
        too old, or deleted): what would have replaced it goes out as a new message, and what
        would only have tidied it (its buttons, a cleanup) is dropped."""
        kept = []
        for reply in self.replies:
            if reply.edit != message_id:
                kept.append(reply)
            elif not (reply.cleanup or reply.markup_only):
                kept.append(dataclasses.replace(reply, edit=None))
        self.replies = kept

    @property
    def storable(self) -> bool:
        return all(reply.upload is None for reply in self.replies)

    def to_json(self) -> dict[str, Any]:
        return {"replies": [r.to_json() for r in self.replies], "answer": self.answer}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Response:
        return cls([Reply.from_json(r) for r in data.get("replies", [])], data.get("answer"))


def rows(*buttons: Button, width: int = 1) -> Keyboard:
    """Lay buttons out ``width`` to a row."""
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


@dataclass
class Delivered:
    """What a delivery produced: the message ids the use case asked to track, how many
    messages went out, and the id of the last one sent or edited."""

    tracked: list[tuple[str, int]] = field(default_factory=list)
    messages: int = 0
    last_message_id: int | None = None


class ChatGone(Exception):
    """The chat cannot receive messages any more (blocked, deactivated, not found)."""
