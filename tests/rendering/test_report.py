"""Tests for the one-page PDF summary for a health professional (bot/rendering/report.py)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, PdfObject

from bot.content import Catalogue, Content, load_content
from bot.domain.function import FunctionSeries
from bot.domain.progress import (
    CheckInPoint,
    Progress,
    SafetyMark,
    Screening,
    notable_days,
    week_rows,
)
from bot.rendering.charts import render_chart
from bot.rendering.i18n import texts_for
from bot.rendering.progress_texts import (
    SHORT_DATE,
    file_name,
    format_day,
    plain_text,
    report_filename,
)
from bot.rendering.report import render_report
from tests.rendering.test_charts import START, sample_progress

A4_POINTS = (595.28, 841.89)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="module")
def progress() -> Progress:
    return sample_progress()


@pytest.fixture(scope="module")
def chart(progress: Progress, content: Content) -> bytes:
    return render_chart(progress, content)


def _dictionary(value: object) -> DictionaryObject:
    """A PDF dictionary, through any indirect reference."""
    resolved = value.get_object() if isinstance(value, PdfObject) else value
    assert isinstance(resolved, DictionaryObject)
    return resolved


def _read(pdf: bytes) -> tuple[PdfReader, str]:
    """The document and its text on one line (wrapped cells joined), spaces made single."""
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def document(progress: Progress, content: Content, chart: bytes) -> tuple[PdfReader, str]:
    return _read(render_report(progress, content, chart))


def test_report_is_one_a4_page(document: tuple[PdfReader, str]) -> None:
    reader, _ = document
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_POINTS, abs=0.5)


def test_report_embeds_its_fonts_and_the_chart(document: tuple[PdfReader, str]) -> None:
    reader, _ = document
    resources = _dictionary(reader.pages[0]["/Resources"])
    fonts = [_dictionary(font) for font in _dictionary(resources["/Font"]).values()]
    assert len(fonts) == 2  # regular and bold
    for font in fonts:
        descendants = font["/DescendantFonts"].get_object()
        assert isinstance(descendants, ArrayObject)
        descriptor = _dictionary(_dictionary(descendants[0])["/FontDescriptor"])
        assert "DejaVuSans" in str(font["/BaseFont"])
        assert "/FontFile2" in descriptor  # embedded, not referenced
    objects = [_dictionary(x) for x in _dictionary(resources["/XObject"]).values()]
    assert [str(x["/Subtype"]) for x in objects].count("/Image") == 1


def test_report_header_dates_duration_and_adherence(document: tuple[PdfReader, str]) -> None:
    _, text = document
    for words in (
        "Sciatica home-exercise program: summary for a health professional",
        "Covers 2 Mar 2026 to 29 Mar 2026. Made on 29 Mar 2026.",
        "Dates are local to Europe/Paris.",
        "Program started on 2 Mar 2026.",
        "Symptoms had lasted 2 to 6 weeks when the program started.",
        "Symptoms in the left leg.",
        "Routines done: 25 of 28. Stopped early: 1. Skipped: 2. No answer: 0.",
    ):
        assert words in text


def test_report_compares_start_and_latest(document: tuple[PdfReader, str]) -> None:
    _, text = document
    for row in (
        "Start (2 Mar) Latest (29 Mar)",
        "Pain 6 2 −4: meaningful improvement",
        "Numbness 3 0 −3: clearly lower",
        "Tingling 4 1 −3: clearly lower",
        "Furthest point Below the knee (calf or shin) Lower back only Nearer the back: a good sign",
        "Overall: meaningful improvement in pain, and nothing worse.",
    ):
        assert row in text


def test_report_lists_exercises_with_why_one_was_left_out(
    document: tuple[PdfReader, str],
) -> None:
    _, text = document
    assert "1. Lying back bend (press-up) 2 Mar In the routine" in text
    assert "Left out on 6 Mar:" in text
    assert "symptoms worse after it" in text
    assert "5. Buttock stretch (piriformis) 8 Mar In the routine" in text


def test_report_lists_every_notable_day_with_its_date(
    document: tuple[PdfReader, str],
) -> None:
    _, text = document
    assert "2 Mar Exercises added 1 (2 Mar), 2 (3 Mar), 3 (4 Mar), and 4 (5 Mar)" in text
    assert "6 Mar Stop one exercise Leave out exercise 4, Straight-leg lift" in text
    assert "6 Mar Exercise left out 4. Straight-leg lift with a belt (sore leg): symptoms" in text
    assert "8 Mar Exercise added 5. Buttock stretch (piriformis)" in text
    assert "15 Mar Watch Carry on as planned, and keep an eye" in text
    assert "17 Mar See a professional" in text
    assert "18 Mar Hold lifted See a professional soon" in text


def test_report_names_the_screening_at_the_start(progress: Progress, content: Content) -> None:
    _, text = _read(render_report(progress, content, None))
    assert "Warning-sign questions at the start (2 Mar 2026): none of the signs." in text
    flagged = replace(progress, screening=Screening(START, ("age", "night_pain"), "soon"))
    _, text = _read(render_report(flagged, content, None))
    assert (
        "Warning-sign questions at the start (2 Mar 2026): First back pain, under 20 or over 55"
        " and Constant or night pain. Advice given: See a professional soon." in text
    )
    _, text = _read(render_report(replace(progress, screening=None), content, None))
    assert "The warning-sign questions at the start are not on record." in text


def _expected_notables(progress: Progress, cat: Catalogue) -> list[str]:
    """What each notable day must show: its date and what happened (additions by number)."""
    language = progress.language
    expected = []
    for notable in notable_days(progress):
        day = format_day(notable.local_date, cat, language, SHORT_DATE)
        if notable.kind == "added":
            expected.append(f"{notable.exercise} ({day})")  # in a row of additions, or alone
            continue
        if notable.kind == "advice":
            label = cat.text(f"report.tier.{notable.tier}")
        else:
            label = cat.text(f"report.notable.{notable.kind}")
        expected.append(f"{day} {plain_text(label)}")
    return expected


@pytest.mark.parametrize("weeks", [6, 12])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_whole_program_fits_one_page_with_every_week_and_notable_day(
    weeks: int, language: str
) -> None:
    progress = sample_progress(weeks, language=language)
    content = texts_for(language).content
    cat = content.catalogue
    reader, text = _read(render_report(progress, content, render_chart(progress, content)))
    assert len(reader.pages) == 1
    rows = week_rows(progress)
    assert len(rows) == weeks
    for row in rows:
        first = format_day(row.first, cat, language, SHORT_DATE)
        last = format_day(row.last, cat, language, SHORT_DATE)
        assert f" {row.number} {first} – {last} {row.done} {row.skipped} {row.stopped} " in text
    for words in _expected_notables(progress, cat):
        if words[0].isdigit() and "(" in words:
            day = words.split(" (")[1].rstrip(")")
            assert words in text or f"{day} {plain_text(cat.text('report.notable.added'))}" in text
        else:
            assert words in text
    skipped = plain_text(cat.text("report.notable.skipped"))
    assert f"{format_day(START + timedelta(days=30), cat, language, SHORT_DATE)} {skipped}" in text
    assert "not shown" not in text and "non affich" not in text


def test_week_medians_use_the_persons_decimal_mark(content: Content) -> None:
    _, english = _read(render_report(sample_progress(4), content, None))
    assert " 3 16 Mar – 22 Mar 6 1 0 3.5 1 2 Thigh, above the knee" in english
    french = sample_progress(4, language="fr")
    _, text = _read(render_report(french, texts_for("fr").content, None))
    assert " 3 16 mars – 22 mars 6 1 0 3,5 1 2 Cuisse, au-dessus du genou" in text


def test_psfs_column_appears_only_when_activities_were_rated(
    progress: Progress, content: Content
) -> None:
    _, text = _read(render_report(progress, content, None))
    assert "PSFS" not in text
    rated = replace(
        progress,
        function=(
            FunctionSeries("Sitting", ((START, 3), (START + timedelta(days=20), 6))),
            FunctionSeries("Walking", ((START, 4),)),
        ),
    )
    _, text = _read(render_report(rated, content, None))
    assert "Furthest point PSFS" in text
    assert "Below the knee (calf or shin) 3,5" not in text
    assert "Below the knee (calf or shin) 3.5" in text  # week 1: (3 + 4) / 2
    assert "Buttock or hip 5" in text  # week 4: (6 + 4) / 2


def test_report_has_no_name_and_says_it_is_not_a_diagnosis(
    document: tuple[PdfReader, str],
) -> None:
    _, text = document
    assert "It is not a diagnosis" in text
    assert "pain down by 2 points or 30% from the start" in text
    assert "@" not in text  # no username


def test_a_long_history_still_fits_one_page(content: Content) -> None:
    progress = sample_progress(12)
    many = tuple(
        SafetyMark(START + timedelta(days=d), "watch", ("small_rise",)) for d in range(20, 44, 2)
    )
    progress = replace(progress, safety=(*progress.safety, *many))
    reader, text = _read(render_report(progress, content, render_chart(progress, content)))
    assert len(reader.pages) == 1
    assert "On these dates: 15 Mar, 22 Mar, 24 Mar," in text  # the watch advice share a row
    assert " 12 18 May – 24 May 7 0 0 1 0 0 Lower back only" in text  # the latest week


def _baselines(pdf: bytes) -> list[tuple[float, str]]:
    """(height on the page, text) of each run of text, top of the page first."""
    runs: list[tuple[float, str]] = []

    def visit(text: str, cm: object, tm: list[float], *_: object) -> None:
        if text.strip():
            runs.append((tm[5], text.strip()))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return sorted(runs, reverse=True)


def test_long_translated_words_wrap_and_stay_above_the_note(
    progress: Progress, content: Content
) -> None:
    texts = dict(content.catalogue.texts)
    for level in range(6):
        texts[f"measures.extent.{level}"] = f"Niveau {level} : une description longue " * 3
    wordy = Content("fr", content.exercises, Catalogue("fr", texts))
    pdf = render_report(progress, wordy, render_chart(progress, wordy))
    reader, _ = _read(pdf)
    assert len(reader.pages) == 1
    runs = _baselines(pdf)
    note = next(y for y, run in runs if run.startswith("Made by a self-help exercise bot"))
    latest = next(y for y, run in runs if run.startswith("23 Mar – 29 Mar"))
    assert latest > note  # above it on the page


def test_repeated_watch_advice_shares_one_row_with_its_dates(
    progress: Progress, content: Content
) -> None:
    days = (20, 22, 24, 26)
    watch = tuple(SafetyMark(START + timedelta(days=d), "watch", ("small_rise",)) for d in days)
    _, text = _read(render_report(replace(progress, safety=watch), content, None))
    assert (
        "22 Mar Watch Carry on as planned, and keep an eye on it. On these dates: 22 Mar, 24 Mar,"
        " 26 Mar, and 28 Mar." in text
    )
    assert text.count("Carry on as planned") == 1


def test_an_impossibly_long_list_of_advice_goes_on_a_second_page(
    progress: Progress, content: Content
) -> None:
    urgent = tuple(
        SafetyMark(START + timedelta(days=d), "urgent", ("urgent_signal",), ("fever", "injury"))
        for d in range(28)
    )
    reader, text = _read(render_report(replace(progress, safety=urgent), content, None))
    assert len(reader.pages) == 2  # nothing is left out
    assert text.count("Urgent (same day)") == 28
    assert text.count("Warning sign ") == 28 * 2
    assert "Notable days (continued)" in text or "Program weeks (continued)" in text
    assert " 4 23 Mar – 29 Mar 7 0 0 2 1 1 Buttock or hip" in text
    assert text.count("It is not a diagnosis") == 2  # the note on each page


def test_an_empty_history_gives_a_calm_one_page_report(content: Content) -> None:
    empty = replace(
        sample_progress(),
        program_start=None,
        symptom_duration=None,
        symptom_side=None,
        baseline=None,
        check_ins=(),
        marks=(),
        safety=(),
        routines_sent=0,
        routines_done=0,
        routines_stopped=0,
        routines_skipped=0,
        exercises_in_routine=(),
        exercises_left_out=(),
        days=(),
        screening=None,
    )
    reader, text = _read(render_report(empty, content, None))
    assert len(reader.pages) == 1
    for words in (
        "The program has not started.",
        "How long the symptoms had lasted was not asked.",
        "Which leg has the symptoms was not asked.",
        "No starting point was recorded.",
        "Not enough check-ins yet for a chart.",
        "No warning signs were reported, no advice was given and no exercise changed.",
        "No check-ins yet.",
        "1. Lying back bend (press-up) – Not added yet",
        "Routines done: 0 of 0.",
    ):
        assert words in text


def test_a_baseline_alone_is_shown_as_the_starting_point(
    progress: Progress, content: Content
) -> None:
    only = replace(progress, check_ins=(), safety=())
    _, text = _read(render_report(only, content, None))
    assert "Starting point (2 Mar 2026): pain 6/10, numbness 3/10, tingling 4/10," in text
    assert " 1 2 Mar – 8 Mar 6 0 1 – – – –" in text  # routines, and no ratings to sum up


def test_stop_signals_are_listed_by_name(progress: Progress, content: Content) -> None:
    day = START + timedelta(days=20)
    last = progress.check_ins[-1]
    flagged: CheckInPoint = replace(last, signals=("fever",))
    hold = SafetyMark(day, "urgent", ("urgent_signal",), ("fever",))
    busy = replace(progress, check_ins=(*progress.check_ins[:-1], flagged), safety=(hold,))
    _, text = _read(render_report(busy, content, None))
    assert "22 Mar Warning sign Fever or feeling unwell" in text
    assert "22 Mar Urgent (same day) Stop the program and get medical advice today." in text
    assert "29 Mar Warning sign Fever or feeling unwell" in text


def test_accents_survive_in_the_embedded_font(progress: Progress, content: Content) -> None:
    texts = dict(content.catalogue.texts)
    texts["report.title"] = "Résumé pour un professionnel de santé : sciatique"
    french = Content("fr", content.exercises, Catalogue("fr", texts))
    _, text = _read(render_report(replace(progress, language="fr"), french, None))
    assert "Résumé pour un professionnel de santé" in text
    assert "2 mars 2026" in text  # Babel, in the person's language


def test_the_same_history_gives_the_same_file(
    progress: Progress, content: Content, chart: bytes
) -> None:
    assert render_report(progress, content, chart) == render_report(progress, content, chart)


def test_report_filename_names_the_day_and_nothing_else(progress: Progress) -> None:
    assert report_filename(progress) == "sciatica-summary-2026-03-29.pdf"
    french = replace(progress, language="fr")
    assert report_filename(french) == "resume-sciatique-2026-03-29.pdf"


def test_file_names_are_ascii_whatever_the_translation() -> None:
    catalogue = texts_for("fr").content.catalogue
    accented = replace(
        catalogue, texts={**catalogue.texts, "files.summary": "résumé sciatique {date}.pdf"}
    )
    assert file_name(accented, "summary", date(2026, 12, 6)) == "resume-sciatique-2026-12-06.pdf"
    for key in ("summary", "chart", "check_ins", "data"):
        for language in ("en", "fr"):
            name = file_name(texts_for(language).content.catalogue, key, date(2026, 12, 6))
            assert re.fullmatch(r"[a-z-]+-2026-12-06\.(pdf|png|csv|json)", name), name
