"""The PDF summary's short block on everyday activities (PSFS): start → latest per activity, the
average and the measurement-error note, in both languages; absent when there are none."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.content import load_content
from bot.domain.function import FunctionSeries
from bot.rendering.report import render_report
from tests.rendering.test_charts import START, sample_progress
from tests.rendering.test_report import _read

SERIES = (
    FunctionSeries("Putting on socks and shoes", ((START, 3), (START + timedelta(days=7), 6))),
    FunctionSeries("Climbing stairs", ((START, 5), (START + timedelta(days=7), 6))),
)


def pdf_text(language: str, function: tuple[FunctionSeries, ...]) -> str:
    progress = replace(sample_progress(), language=language, function=function)
    _, text = _read(render_report(progress, load_content(language), None))
    return " ".join(text.split())


def test_the_pdf_shows_each_activity_the_average_and_the_error_note() -> None:
    text = pdf_text("en", SERIES)
    assert (
        "Everyday activities (PSFS, 0 = unable, 10 = as before), start → latest: "
        "Putting on socks and shoes 3 → 6, Climbing stairs 5 → 6. Average 4 → 6. "
        "The change is beyond measurement error (2 points in the average or 3 for one activity)."
    ) in text


def test_in_french_within_the_error() -> None:
    small = (FunctionSeries("Porter un sac", ((START, 4), (START + timedelta(days=7), 5))),)
    text = pdf_text("fr", small)
    assert "Porter un sac 4 → 5. Moyenne 4 → 5. Le changement reste dans l’erreur" in text


def test_no_activities_no_block() -> None:
    assert "PSFS" not in pdf_text("en", ())
