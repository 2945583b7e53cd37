"""bot.handlers.updates.address: the one reading of a raw update's sender, chat and press."""

from __future__ import annotations

from typing import Any

import pytest

from bot.handlers.updates import Address, address

PRESS = {"id": "q1", "from": {"id": 7}, "message": {"message_id": 3, "chat": {"id": 70}}}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"message": {"from": {"id": 7}, "chat": {"id": 7}}}, Address(7, 7, None)),
        ({"edited_message": {"from": {"id": 7}, "chat": {"id": -5}}}, Address(7, -5, None)),
        ({"callback_query": PRESS}, Address(7, 70, "q1")),
        # No sender: the chat is the key; nothing readable: ours, key 0, handled in order.
        ({"message": {"chat": {"id": -9}}}, Address(-9, -9, None)),
        ({"callback_query": {"id": "q2", "message": {"chat": {"id": 8}}}}, Address(8, 8, "q2")),
        ({"message": {"text": "hi"}}, Address(0, None, None)),
        ({"my_chat_member": {"from": {"id": 7}, "chat": {"id": 7}}}, Address(7, None, None)),
        # Not for this bot's features, or not an object at all: dropped early.
        ({"channel_post": {"chat": {"id": -1}}}, None),
        ({"message": "garbage"}, None),
        ({"callback_query": {"id": 5, "from": {"id": "x"}}}, Address(0, None, None)),
    ],
)
def test_address(raw: dict[str, Any], expected: Address | None) -> None:
    assert address(raw) == expected
