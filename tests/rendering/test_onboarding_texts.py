"""bot.rendering.onboarding_texts: the time-zone choices as the person reads them, countries and
cities in their language (Babel's CLDR names)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.domain.zones import ZoneMatch, find_zones, zones_for_local_time
from bot.rendering.i18n import texts_for
from bot.rendering.onboarding_texts import zone_label, zone_pick

EN, FR = texts_for("en"), texts_for("fr")


@pytest.mark.parametrize(
    ("match", "english", "french"),
    [
        (
            ZoneMatch("Europe/Berlin", "Berlin", "", "DE"),
            "Berlin, Germany (Europe/Berlin)",
            "Berlin, Allemagne (Europe/Berlin)",
        ),
        (
            ZoneMatch("Europe/Madrid", "Madrid", "", "ES"),
            "Madrid, Spain (Europe/Madrid)",
            "Madrid, Espagne (Europe/Madrid)",
        ),
        # The zone's own city, named by CLDR in each language.
        (
            ZoneMatch("Europe/Brussels", "Brussels", "", "BE"),
            "Brussels, Belgium (Europe/Brussels)",
            "Bruxelles, Belgique (Europe/Brussels)",
        ),
        (
            ZoneMatch("Europe/London", "London", "", "GB"),
            "London, United Kingdom (Europe/London)",
            "Londres, Royaume-Uni (Europe/London)",
        ),
        # Another city of that name keeps its own: London, Ontario is not "Londres".
        (
            ZoneMatch("America/Toronto", "London", "", "CA"),
            "London, Canada (America/Toronto)",
            "London, Canada (America/Toronto)",
        ),
        (
            ZoneMatch("America/Chicago", "Paris", "TX", "US"),
            "Paris, TX, United States (America/Chicago)",
            "Paris, TX, États-Unis (America/Chicago)",
        ),
        # A typed zone name: no country; a city CLDR names; UTC alone.
        (
            ZoneMatch("Europe/Vienna", "Vienna"),
            "Vienna (Europe/Vienna)",
            "Vienne (Europe/Vienna)",
        ),
        (ZoneMatch("Etc/UTC"), "Etc/UTC", "Etc/UTC"),
        (ZoneMatch("UTC"), "UTC", "UTC"),
        # A name the person typed stays theirs.
        (
            ZoneMatch("Europe/Zurich", "Genève", "", "CH"),
            "Genève, Switzerland (Europe/Zurich)",
            "Genève, Suisse (Europe/Zurich)",
        ),
    ],
)
def test_zone_labels_in_each_language(match: ZoneMatch, english: str, french: str) -> None:
    assert zone_label(match, EN) == english
    assert zone_label(match, FR) == french


def test_the_french_choices_for_a_typed_time() -> None:
    """ "il est 7 h 00" at 06:00 UTC in January, as a French person sees the buttons."""
    now = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    matches = zones_for_local_time(time(7, 0), now, limit=6, language="fr")
    text, keyboard = zone_pick("n0nce", matches, FR)
    assert text == FR.t("onboarding.zone_pick")
    assert [b.label for row in keyboard for b in row] == [
        "Paris, France (Europe/Paris)",
        "Bruxelles, Belgique (Europe/Brussels)",
        "Zurich, Suisse (Europe/Zurich)",
        "Luxembourg, Luxembourg (Europe/Luxembourg)",
        "Lagos, Nigeria (Africa/Lagos)",
        "Berlin, Allemagne (Europe/Berlin)",
    ]


def test_typed_places_in_each_language() -> None:
    assert zone_label(find_zones("londres")[0], FR) == "Londres, Royaume-Uni (Europe/London)"
    assert zone_label(find_zones("london")[0], EN) == "London, United Kingdom (Europe/London)"
    assert zone_label(find_zones("Allemagne")[0], FR) == "Berlin, Allemagne (Europe/Berlin)"
    assert zone_label(find_zones("Germany")[0], EN) == "Berlin, Germany (Europe/Berlin)"
