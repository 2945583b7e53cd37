"""bot/domain/flows.py: every flow's data goes to JSON and back unchanged, as asdict gives it,
and the stored dict never shares a mutable value with the data."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bot.domain.flows import FLOW_DATA, CheckinData, FlowData

FLOW_DATA_CLASSES: list[type[FlowData]] = sorted(FLOW_DATA.values(), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", FLOW_DATA_CLASSES)
def test_flow_data_round_trips_through_json(cls: type[FlowData]) -> None:
    data = cls()
    stored = data.to_json()
    assert stored == dataclasses.asdict(data)
    assert cls.from_json(json.loads(json.dumps(stored))) == data


def test_a_filled_card_round_trips_and_shares_nothing() -> None:
    card = CheckinData(
        kind="session",
        step="tingling",
        answers={"pain": 5, "numbness": 2},
        signals=("bladder",),
        exercises=(1, 2),
        stopped=True,
        card=12,
    )
    stored = card.to_json()
    assert stored == dataclasses.asdict(card)
    assert CheckinData.from_json(json.loads(json.dumps(stored))) == card
    stored["answers"]["pain"] = 9
    assert card.answers == {"pain": 5, "numbness": 2}
