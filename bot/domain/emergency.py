"""The emergency (and urgent non-emergency) phone numbers for a person, from their IANA time zone.

The zone is mapped to a country through the tz database's own zone table (``zone.tab`` in the
installed ``tzdata`` package, one country per zone). Anything not listed there (links such as
"US/Eastern" or "Europe/Belfast", "UTC", typos) is treated as unknown rather than guessed, and the
texts then list the common numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

# Listed when the country is unknown (clinical.md §1): the numbers of the countries where the
# person's language is spoken, never another language's list (the words are in the locale files,
# ``verdict.call_emergency.unknown``).
FALLBACK_NUMBERS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {"en": ("999", "911", "112"), "fr": ("15", "112", "144", "911")}
)

# 112 is the single emergency number across the European Union (Universal Service Directive,
# now the European Electronic Communications Code, art. 109) and is routed by GSM mobile phones
# in many other countries as well. Only numbers we are sure of are listed: a country not in this
# table falls back to the common numbers rather than to a guess.
_EU_112 = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
        *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
        *("IS", "LI"),  # EEA countries that answer 112 as well
    }
)

EMERGENCY_NUMBERS: MappingProxyType[str, str] = MappingProxyType(
    {
        **{country: "112" for country in _EU_112},
        "FR": "15",  # SAMU; 112 also works
        "GB": "999",  # 112 also works
        "NO": "113",  # medical emergencies
        "CH": "144",  # ambulance; 112 also works
        "TR": "112",
        "US": "911",
        "CA": "911",
        "MX": "911",
        "AU": "000",  # 112 also works from mobiles
        "NZ": "111",
        "IN": "112",
        "JP": "119",
        "KR": "119",
        "CN": "120",
        "HK": "999",
        "SG": "995",
        "IL": "101",
        "BR": "192",
        "ZA": "10177",  # 112 from mobiles
        "PH": "911",
    }
)

# The second number named with the first (clinical.md §1: "15 (SAMU), or 112").
ALSO_NUMBERS: MappingProxyType[str, str] = MappingProxyType(
    {"FR": "112", "GB": "112", "CH": "112", "IE": "999"}
)

# Well-known non-emergency health lines for "get medical advice today". Where clinical.md §1
# names a service rather than a number (Switzerland, Ireland, the United States, elsewhere in the
# EU), the words are in the locale files (``verdict.call_advice.<country>`` and ``.eu``).
NON_EMERGENCY_NUMBERS: MappingProxyType[str, str] = MappingProxyType(
    {
        "FR": "116 117",  # médecin de garde, where the region has it
        "BE": "1733",  # médecin de garde
        "CA": "811",  # Info-Santé / HealthLink
        "GB": "111",
        "DE": "116117",
        "AT": "1450",
        "NO": "116117",
        "SE": "1177",
        "AU": "1800 022 222",  # healthdirect
    }
)


@dataclass(frozen=True)
class EmergencyContact:
    country: str | None  # ISO 3166 alpha-2, None when the zone does not tell
    emergency: str | None  # the number for that country, None when unknown
    non_emergency: str | None  # an urgent non-emergency health line, where a well-known one exists
    also: str | None = None  # a second emergency number named with the first
    eu: bool = False  # in the EU/EEA (112; "the doctor" for urgent advice where nothing else)

    def numbers(self, language: str) -> tuple[str, ...]:
        """The emergency numbers to show: the country's, or the list of the person's language."""
        if self.emergency:
            return (self.emergency, self.also) if self.also else (self.emergency,)
        return FALLBACK_NUMBERS.get(language, FALLBACK_NUMBERS["en"])


@cache
def zone_countries() -> MappingProxyType[str, str]:
    """Zone name -> country code, read once from the tz database's zone.tab."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            table[fields[2]] = fields[0]
    return MappingProxyType(table)


def country_for_zone(zone: str | None) -> str | None:
    if not zone:
        return None
    return zone_countries().get(zone)


def emergency_contact(zone: str | None) -> EmergencyContact:
    country = country_for_zone(zone)
    if country is None:
        return EmergencyContact(None, None, None)
    return EmergencyContact(
        country,
        EMERGENCY_NUMBERS.get(country),
        NON_EMERGENCY_NUMBERS.get(country),
        also=ALSO_NUMBERS.get(country),
        eu=country in _EU_112,
    )
