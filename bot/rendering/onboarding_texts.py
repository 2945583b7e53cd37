"""Onboarding and settings messages: welcome, consent, symptom duration, reminder time, time
zone, starting, and the language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location

from bot.domain.safety import SymptomDuration
from bot.domain.timing import local_now
from bot.domain.zones import ZoneMatch, place_key
from bot.rendering.buttons import flow_button
from bot.rendering.i18n import Texts, available_languages, texts_for
from bot.rendering.replies import Button, Keyboard, rows

REMINDER_CHOICES = (time(7, 0), time(8, 0), time(9, 0), time(12, 0), time(18, 0), time(20, 0))


def _button(nonce: str, label: str, step: str, value: object) -> Button:
    return Button(label, flow_button(nonce, f"{step}:{value}"))


def consent(nonce: str, texts: Texts) -> tuple[str, Keyboard]:
    return texts.t("onboarding.consent"), rows(
        _button(nonce, texts.t("onboarding.consent_yes"), "consent", "yes"),
        _button(nonce, texts.t("onboarding.consent_no"), "consent", "no"),
    )


def consent_given(texts: Texts) -> str:
    return texts.t("onboarding.consent") + "\n\n" + texts.t("onboarding.consent_given")


def duration_question(nonce: str, texts: Texts) -> tuple[str, Keyboard]:
    return texts.t("duration.question"), rows(
        *(
            _button(nonce, texts.t(f"duration.{d.value}"), "duration", d.value)
            for d in SymptomDuration
        )
    )


def duration_answered(duration: SymptomDuration, texts: Texts) -> str:
    return texts.t("duration.answered", text=texts.t(f"duration.{duration.value}"))


def reminder_question(nonce: str, default: time, texts: Texts) -> tuple[str, Keyboard]:
    choices = sorted({*REMINDER_CHOICES, default})
    buttons = [_button(nonce, texts.time(c), "time", f"{c:%H%M}") for c in choices]
    return texts.t("onboarding.reminder_question"), rows(*buttons, width=3)


def reminder_chosen(chosen: time, texts: Texts) -> str:
    return texts.t("onboarding.reminder_chosen", time=texts.time(chosen))


def local_time(zone: str, now: datetime, texts: Texts) -> str:
    """ "14:05 (Monday)" in the person's language, to confirm a zone."""
    local = local_now(now, ZoneInfo(zone))
    return texts.t(
        "format.local_time", time=texts.time(local.time()), day=texts.weekday(local.weekday())
    )


def zone_label(match: ZoneMatch, texts: Texts) -> str:
    """ "Bruxelles, Belgique (Europe/Brussels)": the place and its country in the person's
    language (Babel's CLDR names), the zone's name after it; just the name for "UTC"."""
    if not match.place:
        return match.zone
    city = _city_name(match, texts)
    country = texts.locale.territories.get(match.country, match.country) if match.country else ""
    return f"{', '.join(part for part in (city, match.region, country) if part)} ({match.zone})"


def _city_name(match: ZoneMatch, texts: Texts) -> str:
    """The city in the person's language when it is the zone's own city, the one CLDR names in
    every language ("London" -> "Londres" for Europe/London, not for London, Ontario)."""
    try:
        english = get_timezone_location(match.zone, locale="en", return_city=True)
        if place_key(english) != place_key(match.place):
            return match.place
        return str(get_timezone_location(match.zone, locale=texts.locale, return_city=True))
    except (LookupError, ValueError):  # a zone CLDR does not know
        return match.place


def zone_pick(nonce: str, matches: Sequence[ZoneMatch], texts: Texts) -> tuple[str, Keyboard]:
    return texts.t("onboarding.zone_pick"), rows(
        *(_button(nonce, zone_label(m, texts), "pick", i) for i, m in enumerate(matches))
    )


def zone_picked(zone: str, texts: Texts) -> str:
    """The pick question once answered: the question with the choice made."""
    return texts.t("onboarding.zone_picked", zone=zone)


def zone_confirm(nonce: str, zone: str, now: datetime, texts: Texts) -> tuple[str, Keyboard]:
    text = texts.t("onboarding.zone_confirm", zone=zone, local=local_time(zone, now, texts))
    return text, rows(
        _button(nonce, texts.t("onboarding.zone_yes"), "zone_ok", "yes"),
        _button(nonce, texts.t("onboarding.zone_no"), "zone_ok", "no"),
    )


def zone_set(zone: str, now: datetime, texts: Texts) -> str:
    return texts.t("onboarding.zone_set", zone=zone, local=local_time(zone, now, texts))


def start_question(nonce: str, reminder: time, texts: Texts) -> tuple[str, Keyboard]:
    return texts.t("onboarding.start_question", time=texts.time(reminder)), rows(
        _button(nonce, texts.t("onboarding.start_now"), "start", "now"),
        _button(nonce, texts.t("onboarding.start_tomorrow"), "start", "tomorrow"),
    )


def language_question(nonce: str, texts: Texts) -> tuple[str, Keyboard]:
    """Each language offered in its own words ("English", "Français")."""
    return texts.t("language.question"), rows(
        *(
            _button(nonce, texts_for(lang).t("language.name"), "lang", lang)
            for lang in available_languages()
        )
    )


def side_question(nonce: str, texts: Texts) -> tuple[str, Keyboard]:
    """Which leg has the symptoms: left, right, or both (stop signal 4)."""
    return texts.t("side.question"), rows(
        _button(nonce, texts.t("side.left"), "side", "left"),
        _button(nonce, texts.t("side.right"), "side", "right"),
        _button(nonce, texts.t("side.both"), "side", "both"),
        width=2,
    )


def side_leg(side: str, texts: Texts) -> str:
    """ "your left leg" / "votre jambe gauche"."""
    return texts.t(f"side.leg_{side}")


def side_answered(side: str, texts: Texts) -> str:
    return texts.t("side.answered", leg=side_leg(side, texts))
