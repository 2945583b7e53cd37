"""The callback-data codec: what a button carries, in at most 64 bytes.

A payload is ``action|ref|value``. ``ref`` ties the button to what it belongs to: a daily
session id for routine buttons, or the nonce of the flow (onboarding, check-in, confirmation)
that drew it. A press whose ref no longer matches is stale, foreign or forged, and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64
SEPARATOR = "|"


class Action:
    ROUTINE = "r"  # a button under a daily routine: ref = session id
    FLOW = "f"  # an answer inside a flow: ref = flow nonce
    ALL = frozenset({ROUTINE, FLOW})


@dataclass(frozen=True, slots=True)
class Payload:
    action: str
    ref: str
    value: str = ""

    def encode(self) -> str:
        for part in (self.action, self.ref, self.value):
            if SEPARATOR in part:
                raise ValueError(f"callback part {part!r} contains {SEPARATOR!r}")
        data = SEPARATOR.join((self.action, self.ref, self.value))
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data


def routine_button(session_id: int, value: str) -> str:
    return Payload(Action.ROUTINE, str(session_id), value).encode()


def flow_button(nonce: str, value: str) -> str:
    return Payload(Action.FLOW, nonce, value).encode()


def decode(data: str | None) -> Payload | None:
    """The payload, or None for anything malformed (never raises)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 3:
        return None
    action, ref, value = parts
    if action not in Action.ALL or not ref:
        return None
    if action == Action.ROUTINE and not ref.isdigit():
        return None
    return Payload(action, ref, value)
