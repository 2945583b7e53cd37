"""bot.rendering.verdict_texts: verdict texts — next step first, the right numbers, never "keep
exercising" after a stop signal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.program import (
    DayOutcome,
    ProgramAction,
    RoutineOutcome,
    plan_day,
    record_day,
    replay,
    start_program,
)
from bot.domain.safety import (
    RULES,
    CheckIn,
    History,
    Ratings,
    StopCause,
    StoppedEarly,
    assess,
    screen,
)
from bot.rendering.i18n import Texts, texts_for
from bot.rendering.verdict_texts import render_screening, render_verdict, render_verdicts


@pytest.fixture(scope="module")
def content() -> Texts:
    return texts_for("en")


@pytest.mark.parametrize(
    ("zone", "expected", "absent"),
    [
        ("Europe/London", ["<b>999</b>"], ["<b>911</b>"]),
        ("America/Chicago", ["<b>911</b>"], ["<b>999</b>"]),
        ("Europe/Madrid", ["<b>112</b>"], ["<b>911</b>"]),
        (None, ["<b>999 in the UK, 911 in the US and Canada, 112 in Europe</b>"], ["15"]),
        ("US/Eastern", ["<b>999 in the UK, 911 in the US and Canada, 112 in Europe</b>"], []),
    ],
)
def test_emergency_text_names_the_number(
    content: Texts, zone: str | None, expected: list[str], absent: list[str]
) -> None:
    text = render_screening(screen({"bowel"}), content, zone=zone)
    first, second = text.splitlines()[:2]
    assert first == "<b>Stop all exercise now and get emergency help.</b>"
    assert second.startswith("Call ")
    assert "do not drive yourself" in text
    for number in expected:
        assert number in text
    for number in absent:
        assert number not in text


# clinical.md §1: who to call, per country, in both languages (emergency line, then urgent advice).
COUNTRY_ADVICE = [
    ("en", "Europe/Paris", "Call <b>15</b> (SAMU) or <b>112</b> now", "Call <b>116 117</b> today"),
    ("fr", "Europe/Paris", "Appelez le <b>15</b> (SAMU) ou le <b>112</b>", "le <b>116 117</b>"),
    ("en", "Europe/Brussels", "Call <b>112</b> now", "Call <b>1733</b> today"),
    (
        "fr",
        "Europe/Brussels",
        "Appelez le <b>112</b> maintenant",
        "le <b>1733</b> (médecin de garde)",
    ),
    ("en", "Europe/Zurich", "Call <b>144</b> (or <b>112</b>) now", "canton's on-call doctor"),
    (
        "fr",
        "Europe/Zurich",
        "Appelez le <b>144</b> (ou le <b>112</b>)",
        "médecin de garde de votre canton",
    ),
    ("en", "America/Toronto", "Call <b>911</b> now", "<b>811</b> (Info-Santé / HealthLink)"),
    (
        "fr",
        "America/Toronto",
        "Appelez le <b>911</b> maintenant",
        "<b>811</b> (Info-Santé / HealthLink)",
    ),
    ("en", "Europe/London", "Call <b>999</b> (or <b>112</b>) now", "Call <b>111</b> today"),
    ("fr", "Europe/London", "Appelez le <b>999</b> (ou le <b>112</b>)", "le <b>111</b>"),
    (
        "en",
        "Europe/Dublin",
        "Call <b>112</b> (or <b>999</b>) now",
        "GP today, or the out-of-hours GP",
    ),
    ("fr", "Europe/Dublin", "Appelez le <b>112</b> (ou le <b>999</b>)", "service de garde"),
    (
        "en",
        "America/New_York",
        "Call <b>911</b> now",
        "doctor's office today, or go to an urgent care",
    ),
    ("fr", "America/New_York", "Appelez le <b>911</b> maintenant", "clinique de soins urgents"),
    ("en", "Europe/Rome", "Call <b>112</b> now", "urgent appointment with your doctor today."),
    (
        "fr",
        "Europe/Rome",
        "Appelez le <b>112</b> maintenant",
        "rendez-vous en urgence chez votre médecin.",
    ),
    ("en", None, "(<b>999 in the UK, 911 in the US and Canada, 112 in Europe</b>)", "health line"),
    (
        "fr",
        None,
        "(<b>15 ou 112 en France, 112 en Belgique, 144 en Suisse, 911 au Canada</b>)",
        "(médecin de garde)",
    ),
]


@pytest.mark.parametrize(("language", "zone", "emergency", "advice"), COUNTRY_ADVICE)
def test_urgent_advice_names_each_countrys_numbers(
    language: str, zone: str | None, emergency: str, advice: str
) -> None:
    texts = texts_for(language)
    urgent = render_verdict(screen({"fever"}), texts, zone=zone).splitlines()
    assert advice in urgent[1]  # right under the title: where to get advice today
    assert any(emergency in line for line in urgent[2:])  # if it gets worse
    first_aid = render_verdict(screen({"bladder"}), texts, zone=zone).splitlines()
    assert emergency in first_aid[1]


def test_without_a_country_each_language_gets_its_own_list() -> None:
    english = render_verdict(screen({"saddle"}), texts_for("en"), zone=None)
    french = render_verdict(screen({"saddle"}), texts_for("fr"), zone=None)
    assert "Suisse" not in english and "15" not in english
    assert "UK" not in french and "999" not in french


def test_urgent_text_names_the_non_emergency_line(content: Texts) -> None:
    text = render_screening(screen({"injury"}), content, zone="Europe/London")
    assert text.startswith("<b>Stop the program and get medical advice today.</b>")
    assert "<b>111</b>" in text and "<b>999</b> (or <b>112</b>)" in text
    assert "on hold" in text


def test_no_stop_signal_text_tells_the_person_to_keep_exercising(content: Texts) -> None:
    for rule in RULES:
        if rule.tier.label in ("emergency", "urgent", "soon"):
            body = content.content.catalogue.texts[f"verdict.{rule.id}.body"]
            title = content.content.catalogue.texts[f"verdict.{rule.id}.title"]
            for text in (title, body):
                assert "keep exercising" not in text.lower()
                assert "carry on as planned" not in text.lower()


def test_steady_verdict_says_what_tomorrow_brings(content: Texts) -> None:
    now = datetime(2025, 1, 2, 19, tzinfo=UTC)
    base = Ratings(5, 1, 1, 3)
    verdict = assess(History(base, now, ()), CheckIn(now, base, new_exercise=1), now)
    state = record_day(start_program(), DayOutcome(RoutineOutcome.DONE, verdict.action))
    text = render_verdict(verdict, content, next_plan=plan_day(state))
    assert "Tomorrow your routine adds exercise 2" in text


@pytest.mark.parametrize(("routine", "others"), [((1,), False), ((1, 2, 3), True)])
def test_a_stop_says_the_other_exercises_continue_only_when_there_are_others(
    content: Texts, routine: tuple[int, ...], others: bool
) -> None:
    """clinical.md §6: no sentence that does not apply, and each piece of advice once."""
    now = datetime(2025, 1, 2, 19, tzinfo=UTC)
    base = Ratings(5, 1, 1, 3)
    history = History(base, now, ())
    worse = assess(history, CheckIn(now, Ratings(8, 1, 1, 3), new_exercise=1), now)
    stop = assess(history, StoppedEarly(now, 1, StopCause.SPREADING, settled=True), now)
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * (len(routine) - 1))
    for verdict in (worse, stop):
        state = record_day(state, DayOutcome(RoutineOutcome.NO_ANSWER, verdict.action))
    plan = plan_day(state)
    assert plan.exercises == routine[1:]
    text = render_verdicts([worse, stop], content, next_plan=plan)
    assert "went well" not in text
    assert text.count("Your other exercises may continue.") == (1 if others else 0)
    assert text.count("Leave out exercise 1") == 1
    if not others:
        assert text.endswith("Tomorrow is a rest day from the exercises while things settle.")
    lines = [line for line in text.split("\n") if line.strip()]
    assert len(lines) == len(set(lines))
