"""bot.content: the seed's facts in the exercises, the catalogue, and loading that fails
clearly (missing fields, broken placeholders, translations that do not match English)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.content import (
    CONTENT_DIR,
    LOCALES_DIR,
    Catalogue,
    Content,
    ContentError,
    load_content,
    load_content_from,
)
from bot.domain.program import EXERCISE_ORDER, plan_day, start_program
from bot.rendering.i18n import Texts
from bot.rendering.routine_texts import render_routine
from bot.rendering.validation import validate_content


@pytest.fixture(scope="module")
def content() -> Content:
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


def test_exercise_specifics_from_the_seed(content: Content) -> None:
    assert "McKenzie" in content.exercise(1).purpose
    assert len(content.exercise(1).steps) >= 4  # the staged press-up
    assert "both legs" in content.exercise(2).name
    assert "behind" in content.exercise(3).steps[0]  # hands behind the thigh
    assert "belt, towel" in content.exercise(4).position
    assert "heel rests on the other leg" in content.exercise(5).steps[0]


# --- Catalogue -----------------------------------------------------------------------------------


def test_text_escapes_parameters_and_names_unknown_keys() -> None:
    cat = Catalogue("en", {"a.b": "<b>{name}</b>"})
    assert cat.text("a.b", name="Tom & <Jerry>") == "<b>Tom &amp; &lt;Jerry&gt;</b>"
    assert cat.has("a.b") and not cat.has("a.c")
    with pytest.raises(KeyError, match=r"no text 'a\.c'"):
        cat.text("a.c")
    with pytest.raises(KeyError, match="placeholder 'name'"):
        cat.text("a.b")


def test_every_key_the_code_uses_exists(content: Content) -> None:
    """A literal key in bot/ that the catalogue lacks would fail mid-chat: catch it here."""
    import re

    root = CONTENT_DIR.parent
    pattern = re.compile(r'(?:\.t|\.text)\(\s*"([a-z_]+(?:\.[a-z0-9_]+)+)"')
    used = {key for path in root.rglob("*.py") for key in pattern.findall(path.read_text("utf-8"))}
    assert len(used) > 50
    missing = sorted(key for key in used if not content.catalogue.has(key))
    assert missing == []


def test_load_content_is_cached(content: Content) -> None:
    assert load_content() is content


# --- Rendering -----------------------------------------------------------------------------------


# --- Validation errors at load -------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(LOCALES_DIR / "en", tmp_path / "en")
    return tmp_path


def _edit(path: Path, change: Callable[[str], str]) -> None:
    text = path.read_text("utf-8")
    changed = change(text)
    assert changed != text, "the edit did not apply"
    path.write_text(changed, "utf-8")


def check(directory: Path, language: str = "en") -> Content:
    """Load like the bot does at start-up: the data, then every message it can render."""
    content = load_content_from(directory, language)
    validate_content(content)
    return content


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
            "messages.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<b>Day {day.real}</b>: your exercises for today."',
            r"messages\.toml: routine\.header: placeholder \{day\.real\} must be a plain name",
        ),
        (
            "messages.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<b>Day {days}</b>: your exercises for today."',
            r"en: .*needs the placeholder 'days'",
        ),
        (
            "messages.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<u>Day {day}</u>: your exercises for today."',
            r"routine\.header: only <b> and <i> tags",
        ),
        (
            "messages.toml",
            'header = "<b>Day {day}</b>: your exercises for today."',
            'header = "<b>Day {day}</b>: exercises & rest."',
            r"routine\.header: write &amp;",
        ),
        (
            "messages.toml",
            'may_stop = "<i>You may stop any exercise that hurts.</i>"\n',
            "",
            r"en: no text 'routine\.may_stop'",
        ),
        (
            "messages.toml",
            'short = "Bowel changes"\n',
            "",
            r"en: no text 'stop_signals\.bowel\.short'",
        ),
        (
            "messages.toml",
            'list_separator = ", "',
            "list_separator = 3",
            r"format\.list_separator: must be a text",
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
    _edit(directory / "en" / file, lambda text: text.replace(old, new, 1))
    with pytest.raises(ContentError, match=message):
        check(directory)


def test_a_verdict_text_too_long_fails_at_load(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _edit(
        directory / "en" / "messages.toml",
        lambda t: t.replace('title = "Carry on as planned."', 'title = "' + "Go on. " * 700 + '"'),
    )
    with pytest.raises(ContentError, match=r"verdict text for .* is too long"):
        check(directory)


def _translation(tmp_path: Path) -> Path:
    directory = _copy(tmp_path)
    shutil.copytree(directory / "en", directory / "fr")
    return directory


def test_a_second_language_is_a_new_file(tmp_path: Path) -> None:
    directory = _translation(tmp_path)
    _edit(directory / "fr" / "messages.toml", lambda t: t.replace("Day {day}", "Jour {day}"))
    content = check(directory, "fr")
    assert render_routine(plan_day(start_program()), Texts(content))[0].startswith("<b>Jour 1</b>")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "messages.toml",
            'nothing_left = "Every exercise has been left out',
            'nothing_lefts = "Every exercise has been left out',
            r"fr: routine\.nothing_left: missing text",
        ),
        (
            "messages.toml",
            "[routine]\n",
            '[routine]\nextra = "Bonjour"\n',
            r"fr: routine\.extra: unknown key",
        ),
        (
            "messages.toml",
            'adds = "Tomorrow your routine adds exercise {number}: <b>{name}</b>."',
            'adds = "Demain : exercice <b>{name}</b>."',
            r"fr: program\.next\.adds: placeholders \['name'\] do not match",
        ),
        (
            "exercises.toml",
            "repetitions = 15",
            "repetitions = 12",
            r"exercise\[4\]\.repetitions: must match English",
        ),
    ],
)
def test_translation_errors(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    directory = _translation(tmp_path)
    _edit(directory / "fr" / file, lambda text: text.replace(old, new, 1))
    with pytest.raises(ContentError, match=message):
        check(directory, "fr")


def test_a_missing_language_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"de: no such language folder"):
        load_content_from(_copy(tmp_path), "de")
    with pytest.raises(ContentError, match="invalid language code"):
        load_content_from(tmp_path, "../en")
