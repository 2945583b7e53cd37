"""bot.rendering.i18n: plurals, dates and times as each language writes them (Babel), and the
person's language picked from Telegram's language_code."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.domain.parsing import find_clock_in_text, parse_pause_days, parse_yes_no
from bot.rendering.i18n import available_languages, pick_language, texts_for

FRIDAY = date(2026, 11, 27)


def test_both_languages_are_available_english_first() -> None:
    assert available_languages() == ("en", "fr")


@pytest.mark.parametrize(
    ("code", "language"),
    [("fr", "fr"), ("fr-CA", "fr"), ("fr_BE", "fr"), ("FR", "fr"), ("en-GB", "en"), ("de", "en"),
     (None, "en"), ("", "en")],
)  # fmt: skip
def test_language_from_telegram(code: str | None, language: str) -> None:
    assert pick_language(code) == language


def test_dates_and_times_as_each_language_writes_them() -> None:
    en, fr = texts_for("en"), texts_for("fr")
    assert en.date(FRIDAY) == "Friday 27 November"
    assert fr.date(FRIDAY) == "vendredi 27 novembre"
    assert en.time(time(8, 0)) == "08:00"
    assert fr.time(time(8, 0)) == "8 h 00"
    assert fr.time(time(18, 45)) == "18 h 45"
    assert (en.weekday(0), fr.weekday(0)) == ("Monday", "lundi")
    assert en.join(["1", "2", "3"]) == "1, 2 and 3"
    assert fr.join(["1", "2", "3"]) == "1, 2 et 3"


@pytest.mark.parametrize(
    ("language", "count", "words"),
    [
        ("en", 1, "for 1 day,"),
        ("en", 3, "for 3 days,"),
        ("en", 0, "for 0 days,"),
        ("fr", 0, "0 jour,"),  # French "one" covers 0 and 1
        ("fr", 1, "1 jour,"),
        ("fr", 3, "3 jours,"),
        ("fr", 1_000_000, "1\u202f000\u202f000 jours,"),  # CLDR "many", and the French grouping
    ],
)
def test_plurals_follow_each_language_rules(language: str, count: int, words: str) -> None:
    texts = texts_for(language)
    assert words in texts.plural("pause.paused_for", count, date="x")


def test_typed_french_answers_are_understood() -> None:
    fr = texts_for("fr")
    yes, no = fr.t("answers.yes"), fr.t("answers.no")
    assert parse_yes_no("Toujours là", yes, no) is True
    assert parse_yes_no("oui, encore un peu", yes, no) is True
    assert parse_yes_no("Non, c'est parti !", yes, no) is False
    assert parse_yes_no("still there", yes, no) is True  # people mix languages
    assert parse_yes_no("bonjour", yes, no) is None
    assert find_clock_in_text("il est 14 h 05") == time(14, 5)
    assert find_clock_in_text("Il est 9h30 ici") == time(9, 30)
    assert parse_pause_days("3 jours") == 3
    assert parse_pause_days("7 j") == 7
