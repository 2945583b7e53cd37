"""Parsing what people type: ratings, clock times and pause lengths.

Digits: any Unicode decimal digit (category Nd: Arabic-Indic "٦", Persian "۶", Devanagari
"६", fullwidth "６", ...) counts as the ASCII digit of the same value, in every parser here,
because that is what a phone keyboard in those languages types. Other digit-like characters
(superscripts "²", circled "⑥", fractions "½") are not decimal digits and are refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import time

__all__ = [
    "PAUSE_DAYS_MAX",
    "PAUSE_DAYS_MIN",
    "InvalidNumber",
    "find_clock_in_text",
    "parse_clock",
    "parse_pause_days",
    "parse_rating",
    "parse_yes_no",
]

PAUSE_DAYS_MIN = 1
PAUSE_DAYS_MAX = 90

# Longer input is never a number or a time a person meant; this also keeps int() cheap.
_MAX_INPUT_LENGTH = 64


class InvalidNumber(ValueError):
    """The text is not a whole number in the allowed range; carries the range for the reply."""

    def __init__(self, text: str, minimum: int, maximum: int) -> None:
        super().__init__(f"expected a whole number from {minimum} to {maximum}, got {text!r}")
        self.text = text
        self.minimum = minimum
        self.maximum = maximum


def _ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit with its ASCII digit; leave the rest alone."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(char)) if unicodedata.decimal(char, None) is not None else char
        for char in text
    )


def _prepare(text: str) -> str | None:
    text = _ascii_digits(text).strip()
    if not text or len(text) > _MAX_INPUT_LENGTH:
        return None
    return " ".join(text.casefold().split())


_RATING = re.compile(r"(?P<value>[0-9]+)(?:\s*(?:/|out\s+of)\s*(?P<scale>[0-9]+))?", re.ASCII)


def parse_rating(text: str, maximum: int, *, minimum: int = 0) -> int:
    """A rating from ``minimum`` to ``maximum`` typed as "6", "6/10", "6 / 10" or "6 out of 10".

    Leading zeros are fine ("06"). A denominator, when given, must equal ``maximum``.
    Decimals ("7.5", "7,5"), signs, words and out-of-range values raise ``InvalidNumber``.
    """
    prepared = _prepare(text)
    match = _RATING.fullmatch(prepared) if prepared is not None else None
    if match is None:
        raise InvalidNumber(text, minimum, maximum)
    value = int(match["value"])
    scale = match["scale"]
    if scale is not None and int(scale) != maximum:
        raise InvalidNumber(text, minimum, maximum)
    if not minimum <= value <= maximum:
        raise InvalidNumber(text, minimum, maximum)
    return value


# "8 am", "8:30 p.m.", "8pm": the meridiem marker, with or without dots and a space.
_MERIDIEM = r"(?P<meridiem>[ap])\.?\s?m\.?"
_BARE_MERIDIEM = r"(?P<bare_meridiem>[ap])\.?\s?m\.?"

# A time written the way people write one: "8", "08:00", "8.30", "20h", "20h15", "8:30 pm",
# "14:05:33" (seconds are dropped), or a compact "830" / "0830".
_CLOCK = re.compile(
    rf"""
    (?:
        (?P<hour>[0-9]{{1,2}})
        (?:
            (?:[:.]|\s?h\s?) (?P<minute>[0-9]{{2}}) (?::(?P<second>[0-9]{{2}}))?
          | \s?h
        )?
      | (?P<compact_hour>[0-9]{{1,2}})(?P<compact_minute>[0-9]{{2}})
    )
    (?:\s?{_MERIDIEM})?
    """,
    re.ASCII | re.VERBOSE,
)

# Inside a sentence, only unmistakable times: a separator, an "h" or a meridiem is required,
# so "I have 3 kids" or "pain 7" is not a time. Lookarounds keep dates ("12.05.2024") and
# decimals from matching part-way.
_CLOCK_IN_TEXT = re.compile(
    rf"""
    (?<![0-9:.,])
    (?P<hour>[0-9]{{1,2}})
    (?:
        (?:[:.]|\s?h\s?) (?P<minute>[0-9]{{2}}) (?::(?P<second>[0-9]{{2}}))? (?:\s?{_MERIDIEM})?
      | \s?h
      | \s?{_BARE_MERIDIEM}
    )
    (?![0-9]|[:.,][0-9]|[a-z])
    """,
    re.ASCII | re.VERBOSE,
)

_WORDS = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}


def _to_time(
    hour_text: str, minute_text: str | None, second_text: str | None, meridiem: str | None
) -> time | None:
    hour = int(hour_text)
    minute = int(minute_text) if minute_text is not None else 0
    second = int(second_text) if second_text is not None else 0
    if minute > 59 or second > 59:
        return None
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if hour > 23:
        return None
    return time(hour, minute)


def parse_clock(text: str) -> time | None:
    """A time of day from a whole message, or None when it is not one.

    Accepts "8", "08:00", "8:30", "8.30", "0830", "830", "8am", "8:30 pm", "8 p.m.",
    "20h", "20h15", "noon", "midnight". Seconds ("14:05:33") are accepted and dropped:
    the bot works to the minute. Refuses "25:00", "8:61", "24:00", "13pm", "noonish".
    """
    prepared = _prepare(text)
    if prepared is None:
        return None
    if prepared in _WORDS:
        return _WORDS[prepared]
    match = _CLOCK.fullmatch(prepared)
    if match is None:
        return None
    if match["compact_hour"] is not None:
        return _to_time(match["compact_hour"], match["compact_minute"], None, match["meridiem"])
    return _to_time(match["hour"], match["minute"], match["second"], match["meridiem"])


def find_clock_in_text(text: str) -> time | None:
    """The first valid clock time inside a sentence such as "my local time is 14:05".

    Needs a separator ("14:05", "14.05", "14h05", "14h") or a meridiem ("2 pm") so that
    plain numbers in the sentence are not taken for times; invalid ones ("25:00") are skipped.
    """
    prepared = _ascii_digits(text).casefold()
    for match in _CLOCK_IN_TEXT.finditer(prepared):
        meridiem = match["meridiem"] or match["bare_meridiem"]
        found = _to_time(match["hour"], match["minute"], match["second"], meridiem)
        if found is not None:
            return found
    return None


_PAUSE = re.compile(r"(?P<days>[0-9]+)\s?(?:d|days?|j|jours?)?", re.ASCII)


def parse_pause_days(arg: str | None) -> int | None:
    """The number of days in "/pause [days]": None when absent, else 1 to 90.

    Accepts "7", "7d", "7 days" (and the French "7 j", "7 jours"). Raises ``InvalidNumber``
    for 0, negatives, more than 90, decimals and words.
    """
    if arg is None or not arg.strip():
        return None
    prepared = _prepare(arg)
    match = _PAUSE.fullmatch(prepared) if prepared is not None else None
    if match is None:
        raise InvalidNumber(arg, PAUSE_DAYS_MIN, PAUSE_DAYS_MAX)
    days = int(match["days"])
    if not PAUSE_DAYS_MIN <= days <= PAUSE_DAYS_MAX:
        raise InvalidNumber(arg, PAUSE_DAYS_MIN, PAUSE_DAYS_MAX)
    return days


def _words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation ("Toujours là !" -> toujours, la)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", " ", plain).split()


def _starts_with_any(words: list[str], phrases: str) -> bool:
    for phrase in phrases.split("|"):
        wanted = _words(phrase)
        if wanted and words[: len(wanted)] == wanted:
            return True
    return False


def parse_yes_no(text: str, yes: str, no: str) -> bool | None:
    """True or False when ``text`` begins with one of the ``|``-separated ``yes`` or ``no``
    phrases (in any case, accents and punctuation ignored); None when it is neither, or both.

    The phrases come from the person's language ("still there|yes|y", "toujours la|oui").
    """
    if len(text) > _MAX_INPUT_LENGTH * 4:
        return None
    words = _words(text)
    is_yes = _starts_with_any(words, yes)
    is_no = _starts_with_any(words, no)
    if is_yes == is_no:
        return None
    return is_yes


def parse_choice(text: str, choices: Mapping[str, str]) -> str | None:
    """The one choice whose ``|``-separated phrases ``text`` begins with (in any case, accents
    and punctuation ignored), or None when it is none of them, or more than one.

    The phrases come from the person's language ({"left": "left|left leg", ...})."""
    if len(text) > _MAX_INPUT_LENGTH * 4:
        return None
    words = _words(text)
    found = [choice for choice, phrases in choices.items() if _starts_with_any(words, phrases)]
    return found[0] if len(found) == 1 else None
