"""Tests for the content (bot/content/) and its rendering (bot/rendering.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.content import (
    CONTENT_DIR,
    Catalogue,
    ContentError,
    load_content,
    load_content_from,
)
from bot.domain.program import (
    EXERCISE_ORDER,
    ActionKind,
    DayOutcome,
    ProgramAction,
    RoutineOutcome,
    plan_day,
    record_day,
    replay,
    start_program,
)
from bot.domain.safety import RULES, CheckIn, History, Ratings, assess, screen
from bot.rendering import (
    MAX_MESSAGE_LENGTH,
    message_length,
    render_guidance,
    render_routine,
    render_screening,
    render_verdict,
)

MAY_STOP = "You may stop any exercise that hurts."


@pytest.fixture(scope="module")
def content():  # type: ignore[no-untyped-def]
    return load_content()


# --- The seed's facts ----------------------------------------------------------------------------

SEED_FACTS = {
    # id: (kind, repetitions, hold seconds, words the dose must contain, words the cautions must)
    1: (
        "extension",
        10,
        0,
        ["About 10", "rest", "gradually"],
        ["comfortable or eased", "preferred direction", "spread further down your leg"],
    ),
    2: ("nerve_slider", 20, 0, ["About 20", "alternating"], ["numbness or tingling"]),
    3: ("nerve_slider", 20, 0, ["About 20"], ["tolerate", "numbness or tingling"]),
    4: (
        "nerve_tensioner",
        15,
        0,
        ["About 15"],
        ["stabbing pain", "numbness or tingling appears", "small movement"],
    ),
    5: ("stretch", 3, 30, ["30 seconds", "3 times", "resting between"], ["ease off"]),
}


@pytest.mark.parametrize("exercise_id", EXERCISE_ORDER)
def test_each_exercise_keeps_the_seed_dose_and_cautions(content, exercise_id: int) -> None:  # type: ignore[no-untyped-def]
    kind, reps, hold, dose_words, caution_words = SEED_FACTS[exercise_id]
    exercise = content.exercise(exercise_id)
    assert (exercise.kind, exercise.repetitions, exercise.hold_seconds) == (kind, reps, hold)
    for words in dose_words:
        assert words in exercise.dose
    cautions = " ".join(exercise.cautions)
    for words in caution_words:
        assert words in cautions
    assert exercise.name and exercise.purpose and exercise.position and exercise.steps


def test_exercise_specifics_from_the_seed(content) -> None:  # type: ignore[no-untyped-def]
    assert "McKenzie" in content.exercise(1).purpose
    assert len(content.exercise(1).steps) >= 4  # the staged press-up
    assert "both legs" in content.exercise(2).name
    assert "behind" in content.exercise(3).steps[0]  # hands behind the thigh
    assert "belt, towel" in content.exercise(4).position
    assert "heel rests on the other leg" in content.exercise(5).steps[0]


def test_guidance_covers_the_article(content) -> None:  # type: ignore[no-untyped-def]
    text = render_guidance(content)
    for words in (
        "one new exercise a day",
        "Why not all at once",
        "Keep moving",
        "doctor or physiotherapist",
        "do not replace a consultation",
        MAY_STOP,
    ):
        assert words in text


# --- Catalogue -----------------------------------------------------------------------------------


def test_text_escapes_parameters_and_names_unknown_keys() -> None:
    cat = Catalogue("en", {"a.b": "<b>{name}</b>"})
    assert cat.text("a.b", name="Tom & <Jerry>") == "<b>Tom &amp; &lt;Jerry&gt;</b>"
    assert cat.has("a.b") and not cat.has("a.c")
    with pytest.raises(KeyError, match=r"no text 'a\.c'"):
        cat.text("a.c")
    with pytest.raises(KeyError, match="placeholder 'name'"):
        cat.text("a.b")


def test_every_key_the_code_uses_exists(content) -> None:  # type: ignore[no-untyped-def]
    """A literal key in bot/ that the catalogue lacks would fail mid-chat: catch it here."""
    import re

    root = CONTENT_DIR.parent
    pattern = re.compile(r'(?:\.t|\.text)\(\s*"([a-z_]+(?:\.[a-z0-9_]+)+)"')
    used = {key for path in root.rglob("*.py") for key in pattern.findall(path.read_text("utf-8"))}
    assert len(used) > 50
    missing = sorted(key for key in used if not content.catalogue.has(key))
    assert missing == []


def test_load_content_is_cached(content) -> None:  # type: ignore[no-untyped-def]
    assert load_content() is content


# --- Rendering -----------------------------------------------------------------------------------


def test_every_routine_message_fits_and_reminds_may_stop(content) -> None:  # type: ignore[no-untyped-def]
    state = start_program()
    for _ in range(7):
        messages = render_routine(plan_day(state), content)
        assert all(message_length(m) <= MAX_MESSAGE_LENGTH for m in messages)
        assert all(MAY_STOP in m for m in messages)
        state = record_day(state, DayOutcome(RoutineOutcome.DONE, ProgramAction()))
    full = render_routine(plan_day(state), content)
    joined = "\n".join(full)
    for exercise in content.exercises:
        assert exercise.name in joined
        assert exercise.dose in joined


def test_routine_marks_the_new_exercise_and_the_day(content) -> None:  # type: ignore[no-untyped-def]
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 2)
    text = "\n".join(render_routine(plan_day(state), content))
    assert text.startswith("<b>Day 3</b>")
    assert "<b>3. Nerve glide with knee straightening (sore leg)</b> <i>(new today)</i>" in text


def test_routine_lists_what_is_left_out(content) -> None:  # type: ignore[no-untyped-def]
    from bot.domain.program import ExclusionReason

    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 2)
    state = record_day(
        state,
        DayOutcome(
            RoutineOutcome.DONE,
            ProgramAction(ActionKind.EXCLUDE, 3, ExclusionReason.WORSE_AFTER_ADDING),
        ),
    )
    text = "\n".join(render_routine(plan_day(state), content))
    assert "Left out for now" in text
    assert "worse after it was added" in text and "builds on exercises 2 and 3" in text
    assert "Nothing new today" in text


def test_routine_is_split_when_too_long() -> None:
    base = load_content()
    long_cat = dict(base.catalogue.texts)
    long_cat["routine.closing"] = "x" * 3000
    from dataclasses import replace

    content = replace(base, catalogue=Catalogue("en", long_cat))
    state = replay([DayOutcome(RoutineOutcome.DONE, ProgramAction())] * 4)
    messages = render_routine(plan_day(state), content)
    assert len(messages) > 1
    assert all(message_length(m) <= MAX_MESSAGE_LENGTH for m in messages)
    assert all(MAY_STOP in m for m in messages)


@pytest.mark.parametrize(
    ("zone", "expected", "absent"),
    [
        ("Europe/London", ["<b>999</b>"], ["<b>911</b>"]),
        ("America/Chicago", ["<b>911</b>"], ["<b>999</b>"]),
        ("Europe/Madrid", ["<b>112</b>"], ["<b>911</b>"]),
        (None, ["<b>112</b>", "<b>999</b>", "<b>911</b>"], []),
        ("US/Eastern", ["<b>112</b>", "<b>999</b>", "<b>911</b>"], []),
    ],
)
def test_emergency_text_names_the_number(content, zone, expected, absent) -> None:  # type: ignore[no-untyped-def]
    text = render_screening(screen({"bowel"}), content, zone=zone)
    first, second = text.splitlines()[:2]
    assert first == "<b>Stop all exercise now and get emergency help.</b>"
    assert second.startswith("Call ")
    assert "do not drive yourself" in text
    for number in expected:
        assert number in text
    for number in absent:
        assert number not in text


def test_urgent_text_names_the_non_emergency_line(content) -> None:  # type: ignore[no-untyped-def]
    text = render_screening(screen({"injury"}), content, zone="Europe/London")
    assert text.startswith("<b>Stop the program and get medical advice today.</b>")
    assert "<b>111</b>" in text and "<b>999</b>" in text
    assert "on hold" in text


def test_no_stop_signal_text_tells_the_person_to_keep_exercising(content) -> None:  # type: ignore[no-untyped-def]
    for rule in RULES:
        if rule.tier.label in ("emergency", "urgent", "soon"):
            body = content.catalogue.texts[f"verdict.{rule.id}.body"]
            title = content.catalogue.texts[f"verdict.{rule.id}.title"]
            for text in (title, body):
                assert "keep exercising" not in text.lower()
                assert "carry on as planned" not in text.lower()


def test_steady_verdict_says_what_tomorrow_brings(content) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    now = datetime(2025, 1, 2, 19, tzinfo=UTC)
    base = Ratings(5, 1, 1, 3)
    verdict = assess(History(base, now, ()), CheckIn(now, base, new_exercise=1), now)
    state = record_day(start_program(), DayOutcome(RoutineOutcome.DONE, verdict.action))
    text = render_verdict(verdict, content, next_plan=plan_day(state))
    assert "Tomorrow your routine adds exercise 2" in text


# --- Validation errors at load -------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    for name in ("en.toml", "exercises.toml"):
        shutil.copy(CONTENT_DIR / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, change: Callable[[str], str]) -> None:
    text = path.read_text("utf-8")
    changed = change(text)
    assert changed != text, "the edit did not apply"
    path.write_text(changed, "utf-8")


def test_the_real_files_load_from_a_copy(tmp_path: Path) -> None:
    assert load_content_from(_copy(tmp_path)).language == "en"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "exercises.toml",
            'dose = "About 15 repetitions."\n',
            "",
            r"exercises\.toml: exercise\[4\]\.dose: missing field",
        ),
        (
            "exercises.toml",
            "id = 5\n",
            "id = 4\n",
            r"exercises\.toml: exercise\[4\]\.id: duplicate id 4",
        ),
        (
            "exercises.toml",
            'key = "piriformis_stretch"',
            'key = "nerve_slider"',
            r"exercise\[5\]\.key: duplicate key",
        ),
        (
            "exercises.toml",
            "repetitions = 15\n",
            "repetitions = 15\nsets = 2\n",
            r"exercise\[4\]\.sets: unknown field",
        ),
        (
            "exercises.toml",
            "repetitions = 15\n",
            'repetitions = "fifteen"\n',
            r"exercise\[4\]\.repetitions: must be a whole number",
        ),
        ("exercises.toml", 'kind = "stretch"', 'kind = "yoga"', r"exercise\[5\]\.kind: unknown"),
        (
            "exercises.toml",
            'kind = "stretch"',
            'kind = "nerve_slider"',
            r"exercise\[5\]\.kind: does not match",
        ),
        ("exercises.toml", "[[exercise]]\nid = 1", "[[exercise]\nid = 1", r"invalid TOML"),
        (
            "en.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<b>Day {day.real}</b>: your exercises for today."',
            r"en\.toml: routine\.header: placeholder \{day\.real\} must be a plain name",
        ),
        (
            "en.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<b>Day {days}</b>: your exercises for today."',
            r"en\.toml: .*needs the placeholder 'days'",
        ),
        (
            "en.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<u>Day {day}</u>: your exercises for today."',
            r"routine\.header: only <b> and <i> tags",
        ),
        (
            "en.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<b>Day {day}</b>: exercises & rest."',
            r"routine\.header: write &amp;",
        ),
        (
            "en.toml",
            'may_stop = "<i>You may stop any exercise that hurts.</i>"\n',
            "",
            r"en\.toml: routine\.may_stop: missing text",
        ),
        (
            "en.toml",
            'short = "Bowel changes"\n',
            "",
            r"en\.toml: stop_signals\.bowel\.short: missing text",
        ),
        (
            "en.toml",
            'list_separator = ", "',
            "list_separator = 3",
            r"measures\.list_separator: must be a text",
        ),
        (
            "exercises.toml",
            'dose = "About 15 repetitions."',
            'dose = "About 15 repetitions.' + " Slowly." * 600 + '"',
            r"over Telegram's 4096|too long",
        ),
    ],
)
def test_broken_content_fails_clearly(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    directory = _copy(tmp_path)
    _edit(directory / file, lambda text: text.replace(old, new, 1))
    with pytest.raises(ContentError, match=message):
        load_content_from(directory)


def test_a_verdict_text_too_long_fails_at_load(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _edit(
        directory / "en.toml",
        lambda t: t.replace('title = "Carry on as planned."', 'title = "' + "Go on. " * 700 + '"'),
    )
    with pytest.raises(ContentError, match=r"verdict text for .* is too long"):
        load_content_from(directory)


def _translation(tmp_path: Path) -> Path:
    directory = _copy(tmp_path)
    shutil.copy(directory / "en.toml", directory / "fr.toml")
    shutil.copy(directory / "exercises.toml", directory / "exercises.fr.toml")
    return directory


def test_a_second_language_is_a_new_file(tmp_path: Path) -> None:
    directory = _translation(tmp_path)
    _edit(directory / "fr.toml", lambda t: t.replace("Day {day}", "Jour {day}"))
    content = load_content_from(directory, "fr")
    assert render_routine(plan_day(start_program()), content)[0].startswith("<b>Jour 1</b>")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "fr.toml",
            'closing = "When you have finished, tell me how it went."\n',
            "",
            r"fr\.toml: routine\.closing: missing text",
        ),
        (
            "fr.toml",
            "[routine]\n",
            '[routine]\nextra = "Bonjour"\n',
            r"fr\.toml: routine\.extra: unknown key",
        ),
        (
            "fr.toml",
            'adds = "Tomorrow your routine adds exercise {number}: <b>{name}</b>."',
            'adds = "Demain : exercice <b>{name}</b>."',
            r"fr\.toml: program\.next\.adds: placeholders \['name'\] do not match",
        ),
        (
            "exercises.fr.toml",
            "repetitions = 15",
            "repetitions = 12",
            r"exercise\[4\]\.repetitions: must match English",
        ),
    ],
)
def test_translation_errors(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    directory = _translation(tmp_path)
    _edit(directory / file, lambda text: text.replace(old, new, 1))
    with pytest.raises(ContentError, match=message):
        load_content_from(directory, "fr")


def test_a_missing_language_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"de\.toml: file not found"):
        load_content_from(_copy(tmp_path), "de")
    with pytest.raises(ContentError, match="invalid language code"):
        load_content_from(_copy(tmp_path), "../en")
