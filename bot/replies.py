"""What a use case answers with: texts and buttons as plain data, no Telegram types."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # encoded with bot.callbacks


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send, or (with ``edit``) an edit of one the bot sent before."""

    text: str
    buttons: Keyboard = ()
    edit: int | None = None  # the message id to edit in place
    ask_location: str | None = None  # label of a one-time "share my location" keyboard button
    remove_keyboard: bool = False  # take away a reply keyboard shown earlier
    markup_only: bool = False  # with ``edit``: change only the buttons, keep the text
    # A tag when the use case wants this message's id back: "card" (the flow's message) or
    # "session:<id>" (a routine message, stored on that daily session).
    track: str | None = None


@dataclass(slots=True)
class Outcome:
    """Everything one event produces: replies in order, and the answer to a button press."""

    replies: list[Reply] = field(default_factory=list)
    answer: str | None = None  # the toast for a callback query (None: answered silently)

    def add(self, text: str, buttons: Keyboard = (), **kwargs: object) -> Outcome:
        self.replies.append(Reply(text, buttons, **kwargs))  # type: ignore[arg-type]
        return self


def rows(*buttons: Button, width: int = 1) -> Keyboard:
    """Lay buttons out ``width`` to a row."""
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))
