"""The start-up check (bot/rendering/validation.py) renders every routine shape and every verdict
with each of its variants (each text, each branch); the combinations of those variants differ
only by their length, a property of the shipped files, checked here in every language."""

from __future__ import annotations

import pytest

from bot.rendering.i18n import available_languages, texts_for
from bot.rendering.validation import (
    ZONES,
    all_plans,
    next_plans,
    validate_rendering,
    verdict_cases,
)
from bot.usecases.conversation import MENU


def test_start_up_renders_each_zone_and_each_next_plan() -> None:
    cases = list(verdict_cases())
    assert {zone for zone, _plan in cases} == set(ZONES)
    assert {plan for _zone, plan in cases} == set(next_plans())
    assert set(verdict_cases(every_combination=True)) == {
        (zone, plan) for zone in ZONES for plan in next_plans()
    }


def test_start_up_renders_each_routine_shape() -> None:
    every = list(all_plans(every_combination=True))
    start_up = list(all_plans())
    assert set(start_up) <= set(every)
    shape = {(p.exercises, p.new, p.excluded, p.complete) for p in every}
    assert {(p.exercises, p.new, p.excluded, p.complete) for p in start_up} == shape
    assert {p.holding for p in start_up} == {False, True}
    assert {p.day for p in start_up} == {p.day for p in every}


@pytest.mark.parametrize("language", available_languages())
def test_every_combination_of_verdict_zone_and_next_plan_fits(language: str) -> None:
    validate_rendering(texts_for(language), MENU, every_combination=True)
