"""The callback-data codec round-trips, stays within 64 bytes and refuses junk."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.rendering.buttons import Action, Payload, decode, flow_button, routine_button


def test_round_trip() -> None:
    assert decode(routine_button(123, "done")) == Payload(Action.ROUTINE, "123", "done")
    assert decode(flow_button("k3Xa9q", "pain:6")) == Payload(Action.FLOW, "k3Xa9q", "pain:6")


@pytest.mark.parametrize(
    "data",
    [None, "", "x", "r|1", "r|1|done|x", "z|1|done", "r|abc|done", "f||v", "r|1|" + "x" * 70],
)
def test_malformed_is_none(data: str | None) -> None:
    assert decode(data) is None


def test_encode_refuses_oversize_and_separator() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        flow_button("n", "é" * 40)
    with pytest.raises(ValueError, match="contains"):
        flow_button("n", "a|b")


@given(st.text(max_size=80))
def test_decode_never_raises(data: str) -> None:
    result = decode(data)
    if result is not None:
        assert len(result.encode().encode()) <= 64
