"""Silence is noticed (issue 20): what the morning sends to a person who has stopped answering.

A person who never answers must not get the same routine every morning forever. The mornings
sent since the person last wrote or tapped anything are counted (any message, press or command
ends the silence); from that count and the first silent morning's date:

- the first ``ASK_AFTER`` silent mornings: the routine, as usual;
- the next morning: instead of the routine, one short question (carry on, pause a week, stop
  the morning messages), asked once per silence;
- the mornings after it: the routine again (carrying on is what a person who does not answer
  gets), until ``QUIET_AFTER`` days have passed since the first silent morning;
- from then on, and after "stop the morning messages": nothing, until the person writes or taps
  (the mornings then start again at the next send time).

Kept in the person's program-state JSON under ``KEY`` (no column of its own): the dispatcher
writes it, and any event from the person removes it. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final

KEY: Final = "silence"
ASK_AFTER: Final = 3  # unanswered mornings in a row before asking
QUIET_AFTER: Final = timedelta(days=7)  # no routine after this long without an answer


class Morning(StrEnum):
    """What a due morning sends."""

    ROUTINE = "routine"  # as usual (or the follow-up question that comes first)
    ASK = "ask"  # the short question instead of the routine
    QUIET = "quiet"  # nothing, until the person writes or taps


@dataclass(frozen=True, slots=True)
class Silence:
    mornings: int = 0  # mornings sent since the person last wrote or tapped
    since: date | None = None  # the local date of the first of them
    asked: bool = False  # the question went out during this silence
    stopped: bool = False  # the person chose "stop the morning messages"
    quiet: bool = False  # a morning was held back: the person is told it restarts

    @property
    def holds_mornings(self) -> bool:
        """Mornings are held back now (the person is welcomed back when they write)."""
        return self.stopped or self.quiet

    def to_json(self) -> dict[str, Any]:
        return {
            "mornings": self.mornings,
            "since": self.since.isoformat() if self.since else None,
            "asked": self.asked,
            "stopped": self.stopped,
            "quiet": self.quiet,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> Silence:
        """Read from the program-state JSON; anything missing or malformed reads as no silence
        (the cautious reading here is the ordinary routine, never a held-back morning)."""
        data = (state or {}).get(KEY)
        if not isinstance(data, Mapping):
            return cls()
        try:
            mornings = data.get("mornings", 0)
            since = data.get("since")
            flags = [data.get(k, False) for k in ("asked", "stopped", "quiet")]
            if isinstance(mornings, bool) or not isinstance(mornings, int) or mornings < 0:
                return cls()
            if not all(isinstance(f, bool) for f in flags):
                return cls()
            return cls(mornings, date.fromisoformat(since) if since is not None else None, *flags)
        except (TypeError, ValueError):
            return cls()


def decide(silence: Silence, today: date) -> Morning:
    """What this morning sends (``today``: the person's local date)."""
    if silence.stopped:
        return Morning.QUIET
    if silence.since is not None and today - silence.since >= QUIET_AFTER:
        return Morning.QUIET
    if silence.mornings >= ASK_AFTER and not silence.asked:
        return Morning.ASK
    return Morning.ROUTINE


def after(silence: Silence, today: date, morning: Morning) -> Silence:
    """The silence once this morning's decision went out (or was held back)."""
    if morning is Morning.QUIET:
        return replace(silence, quiet=True)
    return replace(
        silence,
        mornings=silence.mornings + 1,
        since=silence.since or today,
        asked=silence.asked or morning is Morning.ASK,
    )


def stopped() -> Silence:
    """The person chose "stop the morning messages": none until they write or tap again."""
    return Silence(stopped=True)


def with_silence(state: Mapping[str, Any], silence: Silence) -> dict[str, Any]:
    """The program-state JSON with this silence stored in it."""
    return {**state, KEY: silence.to_json()}


def without_silence(state: Mapping[str, Any]) -> dict[str, Any]:
    """The program-state JSON once the person wrote or tapped: the silence is over."""
    return {k: v for k, v in state.items() if k != KEY}
