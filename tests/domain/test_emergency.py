"""Tests for emergency numbers by IANA time zone (bot/domain/emergency.py)."""

from __future__ import annotations

from importlib import resources

import pytest

from bot.domain.emergency import (
    EMERGENCY_NUMBERS,
    FALLBACK_NUMBERS,
    NON_EMERGENCY_NUMBERS,
    emergency_contact,
    zone_countries,
)

EU = {
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
}


@pytest.mark.parametrize(
    ("zone", "country", "number", "non_emergency"),
    [
        ("Europe/London", "GB", "999", "111"),
        ("Europe/Paris", "FR", "15", "116 117"),
        ("Europe/Brussels", "BE", "112", "1733"),
        ("Europe/Zurich", "CH", "144", None),
        ("Europe/Berlin", "DE", "112", "116117"),
        ("Europe/Dublin", "IE", "112", None),
        ("America/New_York", "US", "911", None),
        ("America/Los_Angeles", "US", "911", None),
        ("America/Toronto", "CA", "911", "811"),
        ("Australia/Sydney", "AU", "000", "1800 022 222"),
        ("Pacific/Auckland", "NZ", "111", None),
        ("Asia/Kolkata", "IN", "112", None),
        ("Europe/Oslo", "NO", "113", "116117"),
    ],
)
def test_known_zones(zone: str, country: str, number: str, non_emergency: str | None) -> None:
    contact = emergency_contact(zone)
    assert (contact.country, contact.emergency, contact.non_emergency) == (
        country,
        number,
        non_emergency,
    )
    assert contact.numbers("en")[0] == number


@pytest.mark.parametrize(
    ("zone", "numbers"),
    [
        ("Europe/Paris", ("15", "112")),
        ("Europe/London", ("999", "112")),
        ("Europe/Zurich", ("144", "112")),
        ("Europe/Dublin", ("112", "999")),
        ("Europe/Brussels", ("112",)),
        ("America/Chicago", ("911",)),
    ],
)
def test_second_numbers(zone: str, numbers: tuple[str, ...]) -> None:
    assert emergency_contact(zone).numbers("fr") == numbers


@pytest.mark.parametrize(
    "zone", [None, "", "UTC", "Etc/GMT+1", "US/Eastern", "Europe/Belfast", "Nowhere/Place"]
)
def test_links_aliases_and_unknown_zones_fall_back_to_the_common_numbers(zone: str | None) -> None:
    contact = emergency_contact(zone)
    assert contact.country is None and contact.emergency is None
    assert contact.numbers("en") == FALLBACK_NUMBERS["en"] == ("999", "911", "112")
    assert contact.numbers("fr") == FALLBACK_NUMBERS["fr"] == ("15", "112", "144", "911")


def test_a_country_not_in_the_table_falls_back_to_the_common_numbers() -> None:
    contact = emergency_contact("Africa/Lagos")  # NG: not in our table on purpose
    assert contact.country == "NG"
    assert contact.numbers("fr") == FALLBACK_NUMBERS["fr"]


def test_every_eu_zone_gives_112() -> None:
    eu_zones = [z for z, c in zone_countries().items() if c in EU]
    assert len(eu_zones) > 27
    numbers = {z: emergency_contact(z).emergency for z in eu_zones}
    assert numbers.pop("Europe/Paris") == "15"  # SAMU; 112 is named too
    assert set(numbers.values()) == {"112"}


def test_table_uses_real_country_codes() -> None:
    text = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text("utf-8")
    codes = {line.split("\t")[0] for line in text.splitlines() if line and line[0] != "#"}
    assert set(EMERGENCY_NUMBERS) <= codes
    assert set(NON_EMERGENCY_NUMBERS) <= set(EMERGENCY_NUMBERS)
