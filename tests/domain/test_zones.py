"""Finding a person's zone offline: coordinates, typed names and their wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.zones import (
    ZoneMatch,
    canonical_zone,
    describe_local_time,
    find_zones,
    is_valid_zone,
    zone_at,
    zones_for_local_time,
)

# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("  EUROPE/PARIS ", "Europe/Paris"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("utc", "UTC"),
        ("etc/gmt+3", "Etc/GMT+3"),
        ("Asia/Calcutta", "Asia/Calcutta"),  # a link, still loadable
        ("Europe/Pariss", None),
        ("Paris", None),
        ("", None),
        ("localtime", None),
        ("Factory", None),
        ("posix/Europe/Paris", None),
    ],
)
def test_canonical_zone(name: str, expected: str | None) -> None:
    assert canonical_zone(name) == expected


def test_is_valid_zone_is_exact() -> None:
    assert is_valid_zone("Europe/Paris")
    assert is_valid_zone("Australia/Lord_Howe")
    assert is_valid_zone("UTC")
    assert not is_valid_zone("europe/paris")
    assert not is_valid_zone("Europe/Paris ")
    assert not is_valid_zone("Mars/Olympus_Mons")
    assert not is_valid_zone("")
    assert not is_valid_zone("localtime")


# --------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        (48.8566, 2.3522, "Europe/Paris"),
        (40.7128, -74.0060, "America/New_York"),
        (22.5726, 88.3639, "Asia/Kolkata"),
        (-23.5505, -46.6333, "America/Sao_Paulo"),
        (-31.5553, 159.0821, "Australia/Lord_Howe"),
        (-13.8333, -171.7667, "Pacific/Apia"),
        (51.5074, -0.1278, "Europe/London"),
        # The open sea: timezonefinder says "Etc/GMT+10"; that is an offset, not a home.
        (0.0, -150.0, None),
        (-40.0, -30.0, None),
        # Invalid coordinates.
        (91.0, 0.0, None),
        (-90.5, 0.0, None),
        (0.0, 180.5, None),
        (0.0, -181.0, None),
        (float("nan"), 0.0, None),
        (0.0, float("inf"), None),
    ],
)
def test_zone_at(latitude: float, longitude: float, expected: str | None) -> None:
    assert zone_at(latitude, longitude) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-90, max_value=90),
    st.floats(min_value=-180, max_value=180),
)
def test_zone_at_answers_a_loadable_land_zone_or_none(latitude: float, longitude: float) -> None:
    zone = zone_at(latitude, longitude)
    if zone is not None:
        assert is_valid_zone(zone)
        assert not zone.startswith("Etc/")
        ZoneInfo(zone)


# --------------------------------------------------------------------------- find_zones


def zones_of(matches: list[ZoneMatch]) -> list[str]:
    return [match.zone for match in matches]


@pytest.mark.parametrize(
    ("query", "first_zone"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("America/New York", "America/New_York"),
        ("america / new york", "America/New_York"),
        ("AMERICA/NEW_YORK", "America/New_York"),
        ("paris", "Europe/Paris"),
        ("Paris", "Europe/Paris"),
        ("New York", "America/New_York"),
        ("new york city", "America/New_York"),
        ("NYC", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("SAO PAULO", "America/Sao_Paulo"),
        ("Kolkata", "Asia/Kolkata"),
        ("Calcutta", "Asia/Kolkata"),
        ("Bombay", "Asia/Kolkata"),
        ("Mumbai", "Asia/Kolkata"),
        ("München", "Europe/Berlin"),
        ("munchen", "Europe/Berlin"),
        ("Munich", "Europe/Berlin"),
        ("Москва", "Europe/Moscow"),
        ("Paris, France", "Europe/Paris"),
        ("Paris FR", "Europe/Paris"),
        ("paris france", "Europe/Paris"),
        ("Paris, TX", "America/Chicago"),
        ("Paris Texas", "America/Chicago"),
        ("Portland, OR", "America/Los_Angeles"),
        ("Portland, Maine", "America/New_York"),
        ("London, UK", "Europe/London"),
        ("London, Canada", "America/Toronto"),
        ("St. Petersburg", "Europe/Moscow"),
        ("lord howe", "Australia/Lord_Howe"),
        ("Apia", "Pacific/Apia"),
        ("Japan", "Asia/Tokyo"),
        ("India", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Etc/UTC", "Etc/UTC"),
        ("GMT", "GMT"),
        ("Etc/GMT+3", "Etc/GMT+3"),  # typed literally: the person asked for it
        ("EST", "America/New_York"),  # not the fixed-offset "EST" zone
        ("CET", "Europe/Berlin"),
        ("IST", "Asia/Kolkata"),
    ],
)
def test_find_zones_first_choice(query: str, first_zone: str) -> None:
    matches = find_zones(query)
    assert matches, query
    assert matches[0].zone == first_zone


@pytest.mark.parametrize(
    "query",
    ["", "   ", "asdfghjkl", "Europe/Atlantis", "12345", "!!!", "x" * 500, "UTC+3", "GMT+3"],
)
def test_find_zones_nonsense(query: str) -> None:
    assert find_zones(query) == []


def test_find_zones_places() -> None:
    assert find_zones("Paris, France") == [ZoneMatch("Europe/Paris", "Paris", "", "FR")]
    assert find_zones("europe/paris") == [ZoneMatch("Europe/Paris", "Paris")]
    assert find_zones("etc/utc") == [ZoneMatch("Etc/UTC")]
    assert find_zones("sao paulo")[0] == ZoneMatch("America/Sao_Paulo", "São Paulo", "", "BR")
    assert find_zones("Paris, TX")[0] == ZoneMatch("America/Chicago", "Paris", "TX", "US")
    assert find_zones("EST") == [ZoneMatch("America/New_York", "New York City", "NY", "US")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Another name of the city, written with capitals or accents: shown as typed.
        ("Genève", ZoneMatch("Europe/Zurich", "Genève", "", "CH")),
        ("genève", ZoneMatch("Europe/Zurich", "Genève", "", "CH")),
        ("Londres", ZoneMatch("Europe/London", "Londres", "", "GB")),
        ("Bruxelles, Belgique", ZoneMatch("Europe/Brussels", "Bruxelles", "", "BE")),
        # Lower-case ASCII: the data's name (the rendering puts it in the person's language).
        ("geneve", ZoneMatch("Europe/Zurich", "Geneva", "", "CH")),
        ("nyc", ZoneMatch("America/New_York", "New York City", "NY", "US")),
        # A country by its name in the bot's languages.
        ("Allemagne", ZoneMatch("Europe/Berlin", "Berlin", "", "DE")),
        ("suisse", ZoneMatch("Europe/Zurich", "Zürich", "", "CH")),
        ("Royaume-Uni", ZoneMatch("Europe/London", "London", "", "GB")),
    ],
)
def test_find_zones_other_names(query: str, expected: ZoneMatch) -> None:
    assert find_zones(query)[0] == expected


def test_find_zones_ranks_by_population_and_deduplicates_zones() -> None:
    matches = find_zones("London")
    assert zones_of(matches)[:2] == ["Europe/London", "America/Toronto"]
    assert len(set(zones_of(matches))) == len(matches)
    united_states = find_zones("United States", limit=4)
    assert zones_of(united_states) == [
        "America/New_York",
        "America/Los_Angeles",
        "America/Chicago",
        "America/Phoenix",
    ]
    assert united_states[0] == ZoneMatch("America/New_York", "New York City", "NY", "US")
    assert len(find_zones("United States", limit=2)) == 2
    assert find_zones("paris", limit=0) == []


@given(st.text(max_size=40))
@settings(deadline=None)
def test_find_zones_answers_only_loadable_zones(query: str) -> None:
    for match in find_zones(query):
        assert is_valid_zone(match.zone)
        assert match.place or match.zone.startswith("Etc/") or "/" not in match.zone
        # A bare "Etc/GMT+3" only ever comes back when it was typed.
        if match.zone.startswith("Etc/GMT") and match.zone != "Etc/GMT":
            assert match.zone.casefold() in query.casefold().replace(" ", "")


# --------------------------------------------------------------------------- local time

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "now", "first_zone", "also"),
    [
        (time(17, 30), WINTER, "Asia/Kolkata", {"Asia/Colombo"}),
        (time(17, 32), SUMMER, "Asia/Kolkata", set()),  # typed two minutes late
        (time(17, 45), WINTER, "Asia/Kathmandu", set()),
        (time(13, 0), WINTER, None, {"Africa/Lagos", "Europe/Paris", "Europe/Berlin"}),
        (time(14, 0), SUMMER, None, {"Europe/Paris", "Europe/Berlin"}),
        (time(7, 0), WINTER, "America/New_York", {"America/Toronto"}),
        (time(8, 0), SUMMER, "America/New_York", set()),
        (time(12, 0), WINTER, None, {"Europe/London"}),
        (time(20, 0), SUMMER, None, {"Asia/Shanghai"}),
    ],
)
def test_zones_for_local_time(
    local: time, now: datetime, first_zone: str | None, also: set[str]
) -> None:
    matches = zones_for_local_time(local, now, limit=20)
    zones = zones_of(matches)
    if first_zone is not None:
        assert zones[0] == first_zone
    assert also <= set(zones)
    assert len(zones) == len(set(zones))
    for zone in zones:
        shown = now.astimezone(ZoneInfo(zone))
        typed = shown.replace(hour=local.hour, minute=local.minute)
        assert abs(shown - typed) <= timedelta(minutes=7, seconds=30)


def test_zones_for_local_time_near_the_date_line_offers_both_sides() -> None:
    # 12:00 UTC shows 01:00 (next day) at +13 and 01:00 (same day) at -11.
    zones = zones_of(zones_for_local_time(time(1, 0), WINTER, limit=50))
    assert "Pacific/Tongatapu" in zones or "Pacific/Apia" in zones or "Pacific/Auckland" in zones
    assert "Pacific/Pago_Pago" in zones or "Pacific/Niue" in zones


def test_zones_for_local_time_half_hour_dst_of_lord_howe() -> None:
    # Lord Howe is +11:00 in January and +10:30 in July.
    january = zones_of(zones_for_local_time(time(23, 0), WINTER, limit=50))
    july = zones_of(zones_for_local_time(time(22, 30), SUMMER, limit=50))
    assert "Australia/Lord_Howe" in january
    assert "Australia/Lord_Howe" in july
    assert "Australia/Sydney" in january
    assert "Australia/Sydney" not in july


def test_zones_for_local_time_limits_and_refuses_naive() -> None:
    assert len(zones_for_local_time(time(13, 0), WINTER)) == 6
    assert len(zones_for_local_time(time(13, 0), WINTER, limit=2)) == 2
    assert zones_for_local_time(time(17, 15), WINTER) == []  # no zone is at +05:15
    with pytest.raises(ValueError, match="aware"):
        zones_for_local_time(time(13, 0), datetime(2026, 1, 1, 12))  # noqa: DTZ001


# 06:00 UTC in January is 07:00 in Paris, Lagos, Berlin...; in July, 08:00 there.
MORNING_WINTER = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
MORNING_SUMMER = datetime(2026, 7, 15, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "now", "language", "expected"),
    [
        # French: France first, then the other French-speaking countries, then the rest.
        (
            time(7, 0),
            MORNING_WINTER,
            "fr",
            [
                "Europe/Paris",
                "Europe/Brussels",
                "Europe/Zurich",
                "Europe/Luxembourg",
                "Africa/Lagos",
                "Europe/Berlin",
            ],
        ),
        (
            time(8, 0),
            MORNING_SUMMER,
            "fr",
            [
                "Europe/Paris",
                "Europe/Brussels",
                "Europe/Zurich",
                "Europe/Luxembourg",
                "Europe/Berlin",
                "Africa/Johannesburg",
            ],
        ),
        # UTC-5: Canada (Montréal, Québec are on Toronto's time) before the United States.
        (
            time(1, 0),
            MORNING_WINTER,
            "fr",
            ["America/Toronto", "America/New_York", "America/Bogota", "America/Lima"],
        ),
        # English: the UK and Ireland first at UTC+0, the US and Canada at UTC-5...
        (
            time(6, 0),
            MORNING_WINTER,
            "en",
            ["Europe/London", "Europe/Dublin", "Africa/Abidjan", "Africa/Accra"],
        ),
        (
            time(1, 0),
            MORNING_WINTER,
            "en",
            [
                "America/New_York",
                "America/Toronto",
                "America/Detroit",
                "America/Indiana/Indianapolis",
                "America/Bogota",
                "America/Lima",
            ],
        ),
        # ...and where no English-speaking country matches, the most populous as before (English
        # is also the language of everyone whose Telegram speaks neither).
        (
            time(7, 0),
            MORNING_WINTER,
            "en",
            ["Africa/Lagos", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Paris"],
        ),
        (time(7, 0), MORNING_WINTER, None, ["Africa/Lagos", "Europe/Berlin", "Europe/Madrid"]),
        (time(7, 0), MORNING_WINTER, "de", ["Africa/Lagos", "Europe/Berlin", "Europe/Madrid"]),
        (time(11, 30), MORNING_WINTER, "fr", ["Asia/Kolkata", "Asia/Colombo"]),
    ],
)
def test_zones_for_local_time_offers_the_countries_of_the_language_first(
    local: time, now: datetime, language: str | None, expected: list[str]
) -> None:
    zones = zones_of(zones_for_local_time(local, now, limit=6, language=language))
    assert zones[: len(expected)] == expected
    assert len(zones) <= 6


def test_home_countries_leave_room_for_the_rest() -> None:
    # Many US and Canadian zones show 01:00 at 06:00 UTC: at most limit - 2 of them go first.
    for limit in (3, 4, 6):
        zones = zones_of(zones_for_local_time(time(1, 0), MORNING_WINTER, limit, "en"))
        assert len(zones) == limit
        assert "America/Bogota" in zones
    assert zones_of(zones_for_local_time(time(7, 0), MORNING_WINTER, 1, "fr")) == ["Europe/Paris"]
    assert zones_for_local_time(time(7, 0), MORNING_WINTER, 0, "fr") == []


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2040, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.sampled_from(["Europe/Paris", "Asia/Kolkata", "America/New_York", "Australia/Sydney"]),
)
def test_the_clock_of_a_big_zone_finds_that_zone(now: datetime, zone: str) -> None:
    shown = now.astimezone(ZoneInfo(zone)).time()
    assert zone in zones_of(zones_for_local_time(shown, now, limit=60))


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        ("Europe/Paris", datetime(2026, 6, 1, 12, 5, tzinfo=UTC), "14:05 (Monday)"),
        ("europe/paris", datetime(2026, 1, 5, 12, 5, tzinfo=UTC), "13:05 (Monday)"),
        ("Asia/Kolkata", datetime(2026, 6, 1, 20, 0, tzinfo=UTC), "01:30 (Tuesday)"),
        ("America/New_York", datetime(2026, 6, 1, 2, 0, tzinfo=UTC), "22:00 (Sunday)"),
    ],
)
def test_describe_local_time(zone: str, now: datetime, expected: str) -> None:
    assert describe_local_time(zone, now) == expected


def test_describe_local_time_refuses_unknown_zones_and_naive_times() -> None:
    with pytest.raises(ValueError, match="unknown"):
        describe_local_time("Mars/Base", WINTER)
    with pytest.raises(ValueError, match="aware"):
        describe_local_time("Europe/Paris", datetime(2026, 1, 1))  # noqa: DTZ001
