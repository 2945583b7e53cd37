"""Loads and validates the exercises and the text catalogue of one language, once, at start-up.

Content is data, one folder per language: ``locales/<language>/exercises.toml`` holds the five
exercises and every other ``*.toml`` file in the folder holds texts (merged into one catalogue; a
key defined twice is an error). Anything wrong (a missing field, a duplicate id, an unknown key, a
placeholder that does not match English, a rendered message over Telegram's limit) raises
``ContentError`` naming the file and the field, so a mistake fails the start, never a chat.
"""

from __future__ import annotations

import html
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

# Content checks that the program and the safety engine agree with the data (the domain does
# not import content).
from bot.domain.program import EXERCISE_ORDER
from bot.domain.safety import EXTENSION_EXERCISE, NERVE_EXERCISES

CONTENT_DIR = Path(__file__).resolve().parent
LOCALES_DIR = CONTENT_DIR / "locales"
EXERCISES_FILE = "exercises.toml"
DEFAULT_LANGUAGE = "en"

EXERCISE_KINDS = frozenset({"extension", "nerve_slider", "nerve_tensioner", "stretch"})
_TEXT_FIELDS = (
    "key",
    "kind",
    "name",
    "purpose",
    "position",
    "dose",
    "short_dose",
    "guide_position",
    "guide_movement",
    "guide_dose",
)
_LIST_FIELDS = ("steps", "cautions")
_INT_FIELDS = ("id", "repetitions", "hold_seconds")
EXERCISE_FIELDS = frozenset(_TEXT_FIELDS + _LIST_FIELDS + _INT_FIELDS)
# Facts a translation must not change.
_LANGUAGE_NEUTRAL = ("id", "key", "kind", "repetitions", "hold_seconds")

_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Telegram HTML as we use it: <b> and <i> only; & < > must arrive escaped.
_ALLOWED_TAG_RE = re.compile(r"</?[bi]>")
_ENTITY_RE = re.compile(r"&(amp|lt|gt|quot|#[0-9]+);")


class ContentError(Exception):
    """Content that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Exercise:
    id: int
    key: str
    kind: str
    name: str
    purpose: str
    position: str
    steps: tuple[str, ...]
    dose: str
    short_dose: str  # the dose in a few words, for the one-line day card
    repetitions: int
    hold_seconds: int
    cautions: tuple[str, ...]
    # The guided session's three short lines: where to be, what to do, how many.
    guide_position: str
    guide_movement: str
    guide_dose: str


@dataclass(frozen=True)
class Catalogue:
    """The texts of one language, by dotted key (``"verdict.emergency_signal.title"``)."""

    language: str
    texts: Mapping[str, str]
    source: str = "<memory>"

    def has(self, key: str) -> bool:
        return key in self.texts

    def keys(self) -> frozenset[str]:
        return frozenset(self.texts)

    def text(self, key: str, /, **params: object) -> str:
        """The text for ``key`` with ``params`` filled in, HTML-escaped."""
        try:
            template = self.texts[key]
        except KeyError:
            raise KeyError(
                f"no text {key!r} in the {self.language!r} catalogue ({self.source})"
            ) from None
        escaped = {name: html.escape(str(value), quote=False) for name, value in params.items()}
        try:
            return template.format_map(escaped)
        except KeyError as exc:
            raise KeyError(
                f"text {key!r} in {self.source} needs the placeholder {exc.args[0]!r}"
            ) from None


@dataclass(frozen=True)
class Content:
    language: str
    exercises: tuple[Exercise, ...]
    catalogue: Catalogue

    def exercise(self, exercise_id: int) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(f"no exercise {exercise_id}")


# --- Parsing -------------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path}: invalid TOML: {exc}") from None


def placeholders(template: str) -> frozenset[str]:
    """The ``{name}`` fields of a format string; raises ValueError on anything else."""
    names: set[str] = set()
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not _IDENTIFIER_RE.match(name) or spec or conversion:
            # Attribute access, indexing or format specs would let a translation reach into
            # objects or break at fill time: only plain names are allowed.
            raise ValueError(f"placeholder {{{name}}} must be a plain name")
        names.add(name)
    return frozenset(names)


def _check_html(text: str) -> str | None:
    stripped = _ALLOWED_TAG_RE.sub("", text)
    if "<" in stripped or ">" in stripped:
        return "only <b> and <i> tags are allowed; write &lt; and &gt; for < and >"
    if "&" in _ENTITY_RE.sub("", stripped):
        return "write &amp; for &"
    for tag in ("b", "i"):
        if text.count(f"<{tag}>") != text.count(f"</{tag}>"):
            return f"unbalanced <{tag}> tags"
    return None


def _flatten(data: Mapping[str, Any], source: str, prefix: str = "") -> dict[str, str]:
    texts: dict[str, str] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            texts.update(_flatten(value, source, f"{key}."))
        elif isinstance(value, str):
            texts[key] = value
        else:
            raise ContentError(f"{source}: {key}: must be a text, got {type(value).__name__}")
    return texts


def parse_catalogue(data: Mapping[str, Any], source: str, language: str) -> Catalogue:
    texts = _flatten(data, source)
    for key, text in texts.items():
        if not text.strip():
            raise ContentError(f"{source}: {key}: empty text")
        try:
            placeholders(text)
        except ValueError as exc:
            raise ContentError(f"{source}: {key}: {exc}") from None
        problem = _check_html(text)
        if problem:
            raise ContentError(f"{source}: {key}: {problem}")
    return Catalogue(language, MappingProxyType(dict(sorted(texts.items()))), source)


def _field(raw: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in raw:
        raise ContentError(f"{where}.{name}: missing field")
    return raw[name]


def _parse_exercise(raw: Any, where: str) -> Exercise:
    if not isinstance(raw, Mapping):
        raise ContentError(f"{where}: must be a table")
    unknown = sorted(set(raw) - EXERCISE_FIELDS)
    if unknown:
        raise ContentError(f"{where}.{unknown[0]}: unknown field")
    values: dict[str, Any] = {}
    for name in _INT_FIELDS:
        value = _field(raw, name, where)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ContentError(f"{where}.{name}: must be a whole number, got {value!r}")
        values[name] = value
    for name in _TEXT_FIELDS:
        value = _field(raw, name, where)
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"{where}.{name}: must be a non-empty text")
        values[name] = value.strip()
    for name in _LIST_FIELDS:
        value = _field(raw, name, where)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(item, str) and item.strip() for item in value)
        ):
            raise ContentError(f"{where}.{name}: must be a non-empty list of texts")
        values[name] = tuple(item.strip() for item in value)
    if values["kind"] not in EXERCISE_KINDS:
        raise ContentError(
            f"{where}.kind: unknown kind {values['kind']!r} (expected one of"
            f" {', '.join(sorted(EXERCISE_KINDS))})"
        )
    return Exercise(**values)


def parse_exercises(data: Mapping[str, Any], source: str) -> tuple[Exercise, ...]:
    unknown = sorted(set(data) - {"exercise"})
    if unknown:
        raise ContentError(f"{source}: {unknown[0]}: unknown top-level key")
    raw_list = data.get("exercise")
    if not isinstance(raw_list, list) or not raw_list:
        raise ContentError(f"{source}: exercise: missing [[exercise]] tables")
    exercises: list[Exercise] = []
    seen_ids: set[int] = set()
    seen_keys: set[str] = set()
    for index, raw in enumerate(raw_list):
        label = raw.get("id", index + 1) if isinstance(raw, Mapping) else index + 1
        exercise = _parse_exercise(raw, f"{source}: exercise[{label}]")
        where = f"{source}: exercise[{exercise.id}]"
        if exercise.id in seen_ids:
            raise ContentError(f"{where}.id: duplicate id {exercise.id}")
        if exercise.key in seen_keys:
            raise ContentError(f"{where}.key: duplicate key {exercise.key!r}")
        seen_ids.add(exercise.id)
        seen_keys.add(exercise.key)
        exercises.append(exercise)
    ids = tuple(sorted(seen_ids))
    if ids != EXERCISE_ORDER:
        raise ContentError(f"{source}: exercise.id: expected ids {EXERCISE_ORDER}, found {ids}")
    for exercise in exercises:
        where = f"{source}: exercise[{exercise.id}].kind"
        if exercise.id == EXTENSION_EXERCISE and exercise.kind != "extension":
            raise ContentError(f"{where}: the safety rules treat it as the extension exercise")
        is_nerve = exercise.kind in ("nerve_slider", "nerve_tensioner")
        if is_nerve != (exercise.id in NERVE_EXERCISES):
            raise ContentError(f"{where}: does not match the safety rules' nerve exercises")
    return tuple(sorted(exercises, key=lambda e: e.id))


# --- Loading -------------------------------------------------------------------------------------


PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})


def _plural_base(key: str, keys: frozenset[str]) -> str | None:
    """``pause.paused_for`` for ``pause.paused_for.one`` when it is part of a plural table."""
    base, _, category = key.rpartition(".")
    if category in PLURAL_CATEGORIES and f"{base}.other" in keys:
        return base
    return None


def _text_families(catalogue: Catalogue) -> dict[str, list[str]]:
    """Keys grouped so that a plural table is one entry (its categories differ by language)."""
    keys = catalogue.keys()
    families: dict[str, list[str]] = {}
    for key in sorted(keys):
        families.setdefault(_plural_base(key, keys) or key, []).append(key)
    return families


def _check_translation(content: Content, english: Content) -> None:
    source = content.catalogue.source
    mine, theirs = _text_families(content.catalogue), _text_families(english.catalogue)
    missing = sorted(theirs.keys() - mine.keys())
    if missing:
        raise ContentError(f"{source}: {missing[0]}: missing text (present in English)")
    extra = sorted(mine.keys() - theirs.keys())
    if extra:
        raise ContentError(f"{source}: {extra[0]}: unknown key (not in English)")
    for family in sorted(theirs):
        reference = english.catalogue.texts[
            family if english.catalogue.has(family) else f"{family}.other"
        ]
        for key in mine[family]:
            text = content.catalogue.texts[key]
            if placeholders(text) != placeholders(reference):
                raise ContentError(
                    f"{source}: {key}: placeholders {sorted(placeholders(text))} do not match"
                    f" English {sorted(placeholders(reference))}"
                )
            if sorted(_ALLOWED_TAG_RE.findall(text)) != sorted(_ALLOWED_TAG_RE.findall(reference)):
                raise ContentError(f"{source}: {key}: its <b>/<i> tags do not match English")
        if len(theirs[family]) > 1 and f"{family}.other" not in mine[family]:
            raise ContentError(f"{source}: {family}.other: a plural needs its 'other' form")
    for exercise, reference_exercise in zip(content.exercises, english.exercises, strict=True):
        for name in _LANGUAGE_NEUTRAL:
            if getattr(exercise, name) != getattr(reference_exercise, name):
                raise ContentError(
                    f"{content.language}/{EXERCISES_FILE}: exercise[{exercise.id}].{name}:"
                    " must match English"
                )


def load_content_from(directory: Path, language: str = DEFAULT_LANGUAGE) -> Content:
    """Load and validate the content of ``language`` from ``directory`` (uncached).

    This checks the data itself; bot.rendering.validation checks at start-up that every message
    renders within Telegram's limits."""
    if not _LANGUAGE_RE.match(language):
        raise ContentError(f"invalid language code {language!r}")
    folder = directory / language
    if not folder.is_dir():
        raise ContentError(f"{folder}: no such language folder")
    catalogue = _read_catalogue(folder, language)
    exercises_path = folder / EXERCISES_FILE
    exercises = parse_exercises(read_toml(exercises_path), str(exercises_path))
    content = Content(language, exercises, catalogue)
    if language != DEFAULT_LANGUAGE:
        _check_translation(content, load_content_from(directory, DEFAULT_LANGUAGE))
    return content


def _read_catalogue(folder: Path, language: str) -> Catalogue:
    """Merge every text file of a language folder into one catalogue."""
    texts: dict[str, str] = {}
    sources: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name == EXERCISES_FILE:
            continue
        part = parse_catalogue(read_toml(path), str(path), language)
        for key, text in part.texts.items():
            if key in texts:
                raise ContentError(f"{path}: {key}: already defined in {sources[key]}")
            texts[key] = text
            sources[key] = path.name
    return Catalogue(language, MappingProxyType(dict(sorted(texts.items()))), str(folder))


@cache
def load_content(language: str = DEFAULT_LANGUAGE) -> Content:
    """The validated content of ``language``, loaded once per process."""
    return load_content_from(LOCALES_DIR, language)


__all__ = [
    "CONTENT_DIR",
    "DEFAULT_LANGUAGE",
    "LOCALES_DIR",
    "Catalogue",
    "Content",
    "ContentError",
    "Exercise",
    "load_content",
    "load_content_from",
    "parse_catalogue",
    "parse_exercises",
    "placeholders",
]
