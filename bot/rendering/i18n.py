"""The person's language: catalogue texts, plural rules, dates and times as the locale writes them.

Plurals and dates are never assembled by hand: Babel gives the CLDR plural category of a number
(a plural text is a small table in the catalogue, ``[pause.days] one = ... other = ...``) and
formats dates and times with the patterns the catalogue names (``format.date_long``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import cache, cached_property

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from bot.content import (
    DEFAULT_LANGUAGE,
    LOCALES_DIR,
    Content,
    Exercise,
    load_content,
)

PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@dataclass(frozen=True)
class Texts:
    """Everything needed to write to one person in their language."""

    content: Content

    @property
    def language(self) -> str:
        return self.content.language

    @cached_property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def t(self, key: str, /, **params: object) -> str:
        return self.content.catalogue.text(key, **params)

    def has(self, key: str) -> bool:
        return self.content.catalogue.has(key)

    def plural(self, key: str, count: int, /, **params: object) -> str:
        """The text of ``key`` for ``count`` (placeholder ``{count}``), by the locale's rules."""
        category = self.locale.plural_form(count)
        chosen = f"{key}.{category}"
        if not self.has(chosen):
            chosen = f"{key}.other"
        return self.t(chosen, count=self.number(count), **params)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def date(self, day: date, style: str = "long") -> str:
        """ "Friday 27 November" / "vendredi 27 novembre" (``style`` names a catalogue pattern)."""
        return format_date(
            day, format=self.content.catalogue.texts[f"format.date_{style}"], locale=self.locale
        )

    def time(self, moment: time) -> str:
        """ "08:00" / "8 h 00"."""
        return format_time(
            moment, format=self.content.catalogue.texts["format.time"], locale=self.locale
        )

    def weekday(self, weekday: int) -> str:
        """The name of a weekday, 0 = Monday."""
        return str(self.locale.days["format"]["wide"][weekday])

    def exercise(self, exercise_id: int) -> Exercise:
        return self.content.exercise(exercise_id)

    def join(self, items: list[str]) -> str:
        """'a', 'a and b', 'a, b and c' in the locale's words."""
        if len(items) <= 1:
            return "".join(items)
        return (
            self.t("format.list_separator").join(items[:-1])
            + self.t("format.list_last_separator")
            + items[-1]
        )


@cache
def available_languages() -> tuple[str, ...]:
    """The languages with a folder of texts, the default first."""
    found = sorted(p.name for p in LOCALES_DIR.iterdir() if (p / "exercises.toml").is_file())
    return (DEFAULT_LANGUAGE, *(lang for lang in found if lang != DEFAULT_LANGUAGE))


def pick_language(telegram_code: str | None) -> str:
    """The person's language from Telegram's ``language_code`` ("fr-CA" -> "fr"), else English."""
    if telegram_code:
        primary = telegram_code.replace("_", "-").split("-", 1)[0].lower()
        if primary in available_languages():
            return primary
    return DEFAULT_LANGUAGE


@cache
def texts_for(language: str | None) -> Texts:
    """The Texts of a language (an unknown one falls back to English), loaded once."""
    chosen = language if language in available_languages() else DEFAULT_LANGUAGE
    return Texts(load_content(chosen))
