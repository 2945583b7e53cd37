"""The callback-data codec: what a button carries, in at most 64 bytes.

A payload is ``action|ref|value``. ``ref`` ties the button to what it belongs to: a daily
session id for routine buttons, a report id for a next-morning follow-up, an exercise id for
"Show me how", a command name for a button that acts like a command, or the nonce of the flow
(onboarding, check-in, confirmation) that drew it. A press whose ref no longer matches is
stale, foreign or forged, and is refused. Everything is validated here, at the edge: an id is
1 to 9 ASCII digits (it always fits the database's integers), a nonce is URL-safe base64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from telegram.constants import InlineKeyboardButtonLimit

MAX_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
SEPARATOR = "|"

_ID = re.compile(r"[1-9][0-9]{0,8}")  # no leading zero, below 10**9: fits a 32-bit integer
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_NAME = re.compile(r"[a-z_]{1,32}")
_VALUE = re.compile(r"[A-Za-z0-9_:.-]{0,40}")


class Action(StrEnum):
    ROUTINE = "r"  # Done / Not today / Had to stop under a routine: ref = session id
    FLOW = "f"  # an answer inside a flow: ref = flow nonce
    FOLLOW_UP = "u"  # "is it still there this morning?": ref = the stop report's id
    HOWTO = "h"  # "Show me how": ref = exercise id
    COMMAND = "c"  # a button that does what a command does: ref = command name
    ACK = "a"  # "I am getting help now": acknowledged, changes nothing
    SILENCE = "s"  # after silent mornings: ref = carry / pause / stop (bot.domain.silence)
    FUNCTION = "p"  # the weekly rating of an everyday activity (PSFS): ref = activity id


_NUMERIC = frozenset({Action.ROUTINE, Action.FOLLOW_UP, Action.HOWTO, Action.FUNCTION})


@dataclass(frozen=True, slots=True)
class Payload:
    action: Action
    ref: str
    value: str = ""

    @property
    def number(self) -> int:
        """The ref as an id (only for the numeric actions, whose ref decode() checked)."""
        return int(self.ref)

    def encode(self) -> str:
        for part in (self.action, self.ref, self.value):
            if SEPARATOR in part:
                raise ValueError(f"callback part {part!r} contains {SEPARATOR!r}")
        data = SEPARATOR.join((self.action, self.ref, self.value))
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        if decode(data) != self:
            raise ValueError(f"callback data would not decode: {data!r}")
        return data


def routine_button(session_id: int, value: str) -> str:
    return Payload(Action.ROUTINE, str(session_id), value).encode()


def flow_button(nonce: str, value: str) -> str:
    return Payload(Action.FLOW, nonce, value).encode()


def follow_up_button(report_id: int, value: str) -> str:
    return Payload(Action.FOLLOW_UP, str(report_id), value).encode()


def howto_button(exercise_id: int) -> str:
    return Payload(Action.HOWTO, str(exercise_id)).encode()


def function_button(activity_id: int, value: str) -> str:
    return Payload(Action.FUNCTION, str(activity_id), value).encode()


def command_button(command: str) -> str:
    return Payload(Action.COMMAND, command).encode()


def silence_button(choice: str) -> str:
    return Payload(Action.SILENCE, choice).encode()


def ack_button(what: str) -> str:
    return Payload(Action.ACK, what).encode()


def decode(data: str | None) -> Payload | None:
    """The payload, or None for anything malformed or out of range (never raises)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 3:
        return None
    action_text, ref, value = parts
    try:
        action = Action(action_text)
    except ValueError:
        return None
    if not _VALUE.fullmatch(value):
        return None
    if action in _NUMERIC:
        valid = _ID.fullmatch(ref) is not None
    elif action is Action.FLOW:
        valid = _NONCE.fullmatch(ref) is not None
    else:
        valid = _NAME.fullmatch(ref) is not None
    return Payload(action, ref, value) if valid else None
