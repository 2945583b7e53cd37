"""Parsing typed ratings, clock times and pause lengths."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.parsing import (
    InvalidNumber,
    find_clock_in_text,
    parse_clock,
    parse_pause_days,
    parse_rating,
)

# --------------------------------------------------------------------------- ratings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6", 6),
        (" 6 ", 6),
        ("0", 0),
        ("10", 10),
        ("06", 6),
        ("010", 10),
        ("6/10", 6),
        ("6 / 10", 6),
        ("6 out of 10", 6),
        ("6 OUT OF 10", 6),
        ("6out of10", 6),
        ("٦", 6),  # Arabic-Indic
        ("۶", 6),  # Persian
        ("६", 6),  # Devanagari
        ("６", 6),  # fullwidth, as Japanese keyboards type it
        ("١٠", 10),
    ],
)
def test_parse_rating_accepts(text: str, expected: int) -> None:
    assert parse_rating(text, 10) == expected


@pytest.mark.parametrize(
    "text",
    [
        "11",
        "-1",
        "+6",
        "7.5",
        "7,5",
        "a lot",
        "",
        "   ",
        "6/5",
        "6/",
        "/10",
        "6 of 10",
        "6 10",
        "six",
        "²",  # a digit, but not a decimal one
        "⑥",
        "½",
        "6\u200b",  # zero-width space
        "1" * 100,
    ],
)
def test_parse_rating_refuses(text: str) -> None:
    with pytest.raises(InvalidNumber) as raised:
        parse_rating(text, 10)
    assert (raised.value.minimum, raised.value.maximum) == (0, 10)
    assert raised.value.text == text
    assert isinstance(raised.value, ValueError)
    assert "from 0 to 10" in str(raised.value)


def test_parse_rating_other_scales() -> None:
    assert parse_rating("3/4", 4) == 3
    assert parse_rating("4", 4) == 4
    with pytest.raises(InvalidNumber):
        parse_rating("5", 4)
    with pytest.raises(InvalidNumber):
        parse_rating("3/10", 4)
    assert parse_rating("1", 5, minimum=1) == 1
    with pytest.raises(InvalidNumber) as raised:
        parse_rating("0", 5, minimum=1)
    assert (raised.value.minimum, raised.value.maximum) == (1, 5)


@given(st.integers(min_value=-1000, max_value=1000))
def test_parse_rating_range_property(value: int) -> None:
    if 0 <= value <= 10:
        assert parse_rating(str(value), 10) == value
        assert parse_rating(f"{value}/10", 10) == value
    else:
        with pytest.raises(InvalidNumber):
            parse_rating(str(value), 10)


@given(st.text(max_size=20))
def test_parse_rating_never_crashes(text: str) -> None:
    try:
        value = parse_rating(text, 10)
    except InvalidNumber:
        return
    assert 0 <= value <= 10


# --------------------------------------------------------------------------- clock


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8", time(8)),
        ("08", time(8)),
        ("0", time(0)),
        ("23", time(23)),
        ("08:00", time(8)),
        ("8:30", time(8, 30)),
        ("8.30", time(8, 30)),
        ("0830", time(8, 30)),
        ("830", time(8, 30)),
        ("2015", time(20, 15)),
        ("8am", time(8)),
        ("8 am", time(8)),
        ("8 AM", time(8)),
        ("8 a.m.", time(8)),
        ("8:30 pm", time(20, 30)),
        ("8:30pm", time(20, 30)),
        ("830pm", time(20, 30)),
        ("12am", time(0)),
        ("12:15 am", time(0, 15)),
        ("12pm", time(12)),
        ("12:45 p.m.", time(12, 45)),
        ("20h", time(20)),
        ("20 h", time(20)),
        ("20h15", time(20, 15)),
        ("20 h 15", time(20, 15)),
        ("14:05:33", time(14, 5)),  # seconds dropped
        ("  7:05  ", time(7, 5)),
        ("٠٨:٣٠", time(8, 30)),
        ("０８：００".replace("：", ":"), time(8)),
        ("noon", time(12)),
        ("Midnight", time(0)),
    ],
)
def test_parse_clock_accepts(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "25:00",
        "24:00",
        "24",
        "8:61",
        "8:5",
        "8.5",
        "7,30",
        "noonish",
        "",
        "  ",
        "13pm",
        "0am",
        "0:30 am",
        "12345",
        "8:30:60",
        "-8",
        "eight",
        "8 o'clock",
        "at 8",
        "8:30 in the morning",
        "８" * 80,
    ],
)
def test_parse_clock_refuses(text: str) -> None:
    assert parse_clock(text) is None


@given(st.integers(0, 23), st.integers(0, 59))
def test_parse_clock_round_trips(hour: int, minute: int) -> None:
    expected = time(hour, minute)
    assert parse_clock(f"{hour:02d}:{minute:02d}") == expected
    assert parse_clock(f"{hour}:{minute:02d}") == expected
    assert parse_clock(f"{hour}h{minute:02d}") == expected
    assert parse_clock(f"{hour:02d}{minute:02d}") == expected
    twelve = hour % 12 or 12
    meridiem = "pm" if hour >= 12 else "am"
    assert parse_clock(f"{twelve}:{minute:02d} {meridiem}") == expected


@given(st.text(max_size=20))
def test_parse_clock_never_crashes(text: str) -> None:
    parse_clock(text)
    find_clock_in_text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my local time is 14:05", time(14, 5)),
        ("My local time is 14:05.", time(14, 5)),
        ("It's 2:30 pm here", time(14, 30)),
        ("it is 9am now", time(9)),
        ("it is 9 a.m. now", time(9)),
        ("il est 20h15", time(20, 15)),
        ("il est 20h", time(20)),
        ("Es ist 14.05 Uhr", time(14, 5)),
        ("time: 25:00, I mean 23:00", time(23)),
        ("(07:45)", time(7, 45)),
        ("сейчас ١٤:٠٥", time(14, 5)),
        ("14:05:59", time(14, 5)),
    ],
)
def test_find_clock_in_text(text: str, expected: time) -> None:
    assert find_clock_in_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I have 3 kids",
        "pain is 7 today",
        "today is 12.05.2024",
        "it weighs 2.5 kg",
        "about 8 hours ago",
        "I feel 8 amazing",
        "25:00",
        "version 1.2.30",
    ],
)
def test_find_clock_in_text_finds_nothing(text: str) -> None:
    assert find_clock_in_text(text) is None


# --------------------------------------------------------------------------- pause days


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("1", 1),
        ("7", 7),
        (" 14 ", 14),
        ("07", 7),
        ("90", 90),
        ("7d", 7),
        ("7 days", 7),
        ("1 day", 1),
        ("٧", 7),
    ],
)
def test_parse_pause_days(arg: str | None, expected: int | None) -> None:
    assert parse_pause_days(arg) == expected


@pytest.mark.parametrize(
    "arg", ["0", "-1", "-7", "91", "1000", "seven", "a week", "1.5", "7 weeks"]
)
def test_parse_pause_days_refuses(arg: str) -> None:
    with pytest.raises(InvalidNumber) as raised:
        parse_pause_days(arg)
    assert (raised.value.minimum, raised.value.maximum) == (1, 90)
