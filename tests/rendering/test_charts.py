"""Tests for the progress chart, its caption and the weekly look back (bot/rendering/charts.py,
progress_texts.py)."""

from __future__ import annotations

import io
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from bot.content import Catalogue, Content, load_content
from bot.domain.function import FunctionSeries
from bot.domain.progress import (
    CheckInPoint,
    ExerciseMark,
    ProgramDay,
    Progress,
    SafetyMark,
    Screening,
    chart_series,
)
from bot.rendering import charts, progress_texts, report
from bot.rendering.charts import HEIGHT_PX, LABEL_GAP_PX, WIDTH_PX, render_chart
from bot.rendering.i18n import texts_for
from bot.rendering.progress_texts import (
    CAPTION_LIMIT,
    WEEKLY_LIMIT,
    format_day,
    has_enough_for_chart,
    plain_text,
    render_caption,
    render_not_enough,
    render_weekly,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MESSAGE_LIMIT = 4096
START = date(2026, 3, 2)
ZONE = "Europe/Paris"

# Pain, numbness, tingling, furthest point per day of a history that improves: exercise 4 made
# things worse on day 4 and was left out; an evening report on day 13 was a little higher.
RATINGS = [
    (6, 3, 4, 4), (6, 3, 4, 4), (5, 3, 4, 4), (6, 3, 4, 4), (7, 4, 5, 4), (6, 3, 4, 4),
    (6, 3, 4, 4), (5, 3, 3, 4), (5, 2, 3, 3), (5, 2, 3, 3), (4, 2, 3, 3), (5, 2, 3, 3),
    (4, 2, 2, 3), (4, 2, 2, 3), (4, 2, 2, 3), (4, 1, 2, 3), (3, 1, 2, 2), (4, 1, 2, 2),
    (3, 1, 2, 2), (3, 1, 1, 2), (3, 1, 1, 2), (3, 1, 1, 2), (2, 1, 1, 2), (3, 1, 1, 2),
    (2, 1, 1, 2), (2, 1, 1, 2), (2, 0, 1, 1), (2, 0, 1, 1), (2, 0, 1, 1), (2, 0, 1, 1),
    (2, 0, 1, 1), (1, 0, 0, 1), (2, 0, 0, 1), (1, 0, 0, 1), (1, 0, 0, 1), (1, 0, 0, 1),
    (1, 0, 0, 1), (1, 0, 0, 1), (1, 0, 0, 1), (1, 0, 0, 1), (1, 0, 0, 1), (1, 0, 0, 1),
]  # fmt: skip
SKIPPED = frozenset({10, 19, 30, 31})  # 30 and 31: two days in a row
STOPPED = frozenset({4})


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(ZONE)).astimezone(
        UTC
    )


def sample_progress(weeks: int = 4, *, language: str = "en") -> Progress:
    """A realistic history: improving, one exercise left out, a "watch" and a "soon" advice.

    Shared with test_report.py and bench/progress.py.
    """
    days = weeks * 7
    baseline = CheckInPoint(_at(START, 8, 15), START, "baseline", 6, 3, 4, 4, None, None)
    check_ins: list[CheckInPoint] = []
    program_days: list[ProgramDay] = []
    program_day = 0
    for offset in range(days):
        local = START + timedelta(days=offset)
        program_day += 1
        if offset in SKIPPED:
            program_days.append(ProgramDay(local, program_day, "skipped"))
            continue
        program_days.append(
            ProgramDay(local, program_day, "stopped" if offset in STOPPED else "done")
        )
        outcome = "stopped" if offset in STOPPED else "done"
        pain, numbness, tingling, extent = RATINGS[offset % len(RATINGS)]
        at = _at(local, 9, 30)
        check_ins.append(
            CheckInPoint(
                at, local, "session", pain, numbness, tingling, extent, program_day, outcome
            )
        )
        if offset == 13:
            evening = _at(local, 19)
            check_ins.append(
                CheckInPoint(
                    evening, local, "adhoc", pain + 1, numbness, tingling, extent, None, None
                )
            )
    marks = (
        ExerciseMark(START, 1, "added"),
        ExerciseMark(START + timedelta(days=1), 2, "added"),
        ExerciseMark(START + timedelta(days=2), 3, "added"),
        ExerciseMark(START + timedelta(days=3), 4, "added"),
        ExerciseMark(START + timedelta(days=4), 4, "left_out", "worse_after_adding"),
        ExerciseMark(START + timedelta(days=6), 5, "added"),
    )
    late = (
        (SafetyMark(START + timedelta(days=52), "review", ("worse_for_days",)),)
        if weeks >= 8
        else ()
    )
    safety = (
        SafetyMark(START + timedelta(days=4), "stop_exercise", ("worse_new_exercise",)),
        SafetyMark(START + timedelta(days=13), "watch", ("small_rise",)),
        SafetyMark(
            START + timedelta(days=15),
            "soon",
            ("soon_signal",),
            released_on=START + timedelta(days=16),
        ),
        *late,
    )
    skipped = sum(1 for offset in SKIPPED if offset < days)
    stopped = sum(1 for offset in STOPPED if offset < days)
    return Progress(
        language=language,
        time_zone=ZONE,
        today=START + timedelta(days=days - 1),
        program_start=START,
        symptom_duration="2to6w",
        baseline=baseline,
        check_ins=tuple(check_ins),
        marks=marks,
        safety=safety,
        routines_sent=days,
        routines_done=days - skipped - stopped,
        routines_stopped=stopped,
        routines_skipped=skipped,
        exercises_in_routine=(1, 2, 3, 5),
        exercises_left_out=((4, "worse_after_adding"),),
        symptom_side="left",
        days=tuple(program_days),
        screening=Screening(START, ()),
    )


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="module")
def progress() -> Progress:
    return sample_progress()


def message_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _pixels_near(image: Image.Image, colour: str, tolerance: int = 12) -> int:
    target = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    total = 0
    for count, pixel in image.convert("RGB").getcolors(maxcolors=1 << 16) or []:
        assert isinstance(pixel, tuple)
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, target, strict=True)):
            total += count
    return total


# --- The chart -----------------------------------------------------------------------------------


def test_chart_is_a_phone_sized_png_with_every_series_drawn(
    progress: Progress, content: Content
) -> None:
    image = _image(render_chart(progress, content))
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    for colour in charts.COLOURS.values():  # each series, in its Okabe-Ito colour
        assert _pixels_near(image, colour) > 500


@pytest.mark.parametrize("points", [0, 1, 2])
def test_chart_of_a_short_history_still_draws(points: int, content: Content) -> None:
    full = sample_progress()
    short = replace(
        full,
        baseline=full.baseline if points else None,
        check_ins=full.check_ins[: max(0, points - 1)],
        marks=full.marks[:1],
        safety=(),
        today=START,
    )
    assert has_enough_for_chart(short) is (points >= 2)
    image = _image(render_chart(short, content))
    assert image.size == (WIDTH_PX, HEIGHT_PX)


def test_the_baseline_counts_toward_enough_for_a_chart(progress: Progress) -> None:
    assert has_enough_for_chart(replace(progress, check_ins=progress.check_ins[:1]))
    assert not has_enough_for_chart(replace(progress, check_ins=()))
    assert has_enough_for_chart(replace(progress, baseline=None, check_ins=progress.check_ins[:2]))


def test_charts_drawn_in_parallel_threads_are_identical(
    progress: Progress, content: Content
) -> None:
    """One Figure per chart and no pyplot: threads do not share drawing state."""
    alone = render_chart(progress, content)
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(pool.map(lambda _: render_chart(progress, content), range(3)))
    assert together == [alone] * 3


def _rows(
    progress: Progress, labels: list[charts._Label]
) -> dict[float, list[tuple[float, float]]]:
    """Each row of labels, as (left, right) pixel spans."""
    px_per_day = charts.PLOT_WIDTH_PX / chart_series(progress).days
    rows: dict[float, list[tuple[float, float]]] = {}
    for label in labels:
        boxed = label.kind == "safety"
        size = charts.BOX_SIZE if boxed else charts.MARK_SIZE
        half = charts.text_width_px(label.text, size, bold=not boxed) / 2 + (8 if boxed else 0)
        centre = label.x * px_per_day
        rows.setdefault(label.middle_px, []).append((centre - half, centre + half))
    return rows


def _assert_apart(rows: dict[float, list[tuple[float, float]]]) -> None:
    for spans in rows.values():
        spans.sort()
        for (_, right), (left, _) in itertools.pairwise(spans):
            assert right + LABEL_GAP_PX <= left


@pytest.mark.parametrize("weeks", [2, 4])
def test_close_marks_stack_into_rows_instead_of_touching(weeks: int, content: Content) -> None:
    progress = sample_progress(weeks)
    advice = tuple(
        SafetyMark(START + timedelta(days=d), tier, ("x",))
        for d, tier in ((4, "stop_exercise"), (5, "watch"), (6, "soon"), (9, "review"))
    )
    progress = replace(progress, safety=advice)
    labels, height = charts._mark_labels(chart_series(progress), content.catalogue)
    assert len(labels) == len(progress.marks) + len(advice)  # every one shown
    _assert_apart(_rows(progress, labels))
    exercise_rows = {label.middle_px for label in labels if label.kind != "safety"}
    advice_rows = {label.middle_px for label in labels if label.kind == "safety"}
    assert max(exercise_rows) < min(advice_rows) < height  # exercise changes on top


def test_marks_too_close_for_any_row_merge_and_keep_the_most_severe(content: Content) -> None:
    progress = sample_progress(12)  # a long chart: a few pixels a day
    tiers = ("watch", "soon", "urgent", "emergency", "review", "watch")
    advice = tuple(
        SafetyMark(START + timedelta(days=d), tier, ("x",)) for d, tier in enumerate(tiers, 20)
    )
    progress = replace(progress, safety=advice)
    labels, _ = charts._mark_labels(chart_series(progress), content.catalogue)
    shown = [label for label in labels if label.kind == "safety"]
    assert [label.text for label in shown] == ["Emergency"]
    changes = [label.text for label in labels if label.kind != "safety"]
    assert "".join(changes).count("+") == 5 and "−4" in " ".join(changes)
    _assert_apart(_rows(progress, labels))


def test_marks_stay_on_the_image_at_both_edges(content: Content) -> None:
    progress = sample_progress(4)
    last = progress.today
    progress = replace(progress, safety=(SafetyMark(last, "emergency", ("emergency_signal",)),))
    labels, _ = charts._mark_labels(chart_series(progress), content.catalogue)
    for spans in _rows(progress, labels).values():
        for left, right in spans:
            assert -charts.LEFT_PX < left and right < charts.PLOT_WIDTH_PX + charts.RIGHT_PX


def test_mark_labels_come_from_the_catalogue(progress: Progress, content: Content) -> None:
    labels, _ = charts._mark_labels(chart_series(progress), content.catalogue)
    assert sorted(label.text for label in labels) == sorted(
        ["+1", "+2", "+3", "+4", "−4", "+5", "Exercise out", "Watch", "See a doctor"]
    )


# --- Texts ---------------------------------------------------------------------------------------


def test_plain_text_strips_tags_and_unescapes() -> None:
    assert plain_text("<b>Pain &amp; numbness</b> &lt;3 <i>now</i>") == "Pain & numbness <3 now"


def test_dates_follow_the_catalogue_and_the_persons_language(content: Content) -> None:
    cat = content.catalogue
    day = date(2026, 3, 2)
    assert format_day(day, cat, "en", progress_texts.SHORT_DATE) == "2 Mar"
    assert format_day(day, cat, "en", progress_texts.DAY_MONTH) == "2 March"
    assert format_day(day, cat, "en", progress_texts.FULL_DATE) == "2 Mar 2026"
    assert format_day(day, cat, "fr", progress_texts.DAY_MONTH) == "2 mars"  # Babel names the month
    assert format_day(day, cat, "zz-unknown", progress_texts.SHORT_DATE) == "2 Mar"


Ratings = tuple[int, int, int, int]


def _rated(point: CheckInPoint, ratings: Ratings, days_later: int = 0) -> CheckInPoint:
    pain, numbness, tingling, extent = ratings
    return replace(
        point,
        at=point.at + timedelta(days=days_later),
        local_date=point.local_date + timedelta(days=days_later),
        pain=pain,
        numbness=numbness,
        tingling=tingling,
        extent=extent,
    )


def _with(progress: Progress, start: Ratings, *latest: Ratings) -> Progress:
    """The sample's dates with other ratings: a baseline and check-ins a day apart."""
    assert progress.baseline is not None
    first = progress.check_ins[0]
    check_ins = tuple(_rated(first, ratings, n) for n, ratings in enumerate(latest))
    baseline = _rated(progress.baseline, start)
    return replace(progress, baseline=baseline, check_ins=check_ins, safety=(), marks=())


@pytest.mark.parametrize(
    ("start", "latest", "expected"),
    [
        (
            (6, 3, 4, 4),
            (4, 3, 4, 4),
            ["Pain 6 → 4 since you started: a meaningful improvement.", "Keep going as planned"],
        ),
        ((6, 3, 4, 4), (6, 3, 4, 4), ["Pain 6 → 6 since you started: no clear change."]),
        ((6, 3, 4, 4), (5, 3, 4, 4), ["a little lower, not yet a clear change."]),
        ((5, 3, 4, 4), (6, 3, 4, 4), ["a little higher, a small change.", "keep an eye on it"]),
        (
            (3, 3, 4, 4),
            (5, 3, 4, 4),
            ["Pain 3 → 5 since you started: higher than at the start.", "If you are worried"],
        ),
        (
            (6, 3, 4, 4),
            (3, 3, 4, 5),
            [
                "Pain 6 → 3 since you started: lower than at the start.",
                "further down your leg than at the start (now: Foot or toes).",
            ],
        ),
        (
            (6, 3, 4, 4),
            (4, 0, 1, 2),
            [
                "Numbness 3 → 0: clearly lower than at the start.",
                "Tingling 4 → 1: clearly lower than at the start.",
                "less far down your leg than at the start (now: Buttock or hip).",
            ],
        ),
        ((6, 2, 4, 4), (6, 5, 4, 4), ["Numbness 2 → 5: higher than at the start."]),
    ],
)
def test_caption_says_the_trend_in_words(
    progress: Progress,
    content: Content,
    start: Ratings,
    latest: Ratings,
    expected: list[str],
) -> None:
    caption = render_caption(_with(progress, start, (9, 9, 9, 5), latest), content)
    assert caption.startswith("<b>Your symptoms since 2 March</b>\n")
    for words in expected:
        assert words in caption
    assert "Routines done: 25 of 28." in caption
    assert message_length(caption) <= CAPTION_LIMIT


def test_the_longest_caption_fits_and_a_too_long_one_keeps_the_essentials(
    progress: Progress, content: Content
) -> None:
    worst = _with(progress, (3, 2, 2, 3), (6, 5, 5, 5))
    hold = SafetyMark(START + timedelta(days=20), "urgent", ("urgent_signal",))
    worst = replace(worst, safety=(hold,))
    caption = render_caption(worst, content)
    assert caption.count("\n") == 6  # title, four measures, routines, next step
    assert message_length(caption) <= CAPTION_LIMIT
    texts = dict(content.catalogue.texts)
    texts["progress.numbness.rose"] = "Numbness {start} → {latest}. " + "Long words. " * 90
    wordy = Content("en", content.exercises, Catalogue("en", texts))
    short = render_caption(worst, wordy).split("\n")
    assert short == [caption.split("\n")[i] for i in (0, 1, -1)]


def test_caption_never_says_keep_going_while_a_hold_stands(
    progress: Progress, content: Content
) -> None:
    hold = SafetyMark(START + timedelta(days=20), "urgent", ("urgent_signal",), ("fever",))
    caption = render_caption(replace(progress, safety=(*progress.safety, hold)), content)
    assert "Please follow the advice I gave you on 22 March before going on" in caption
    assert "Keep going" not in caption
    released = replace(hold, released_on=START + timedelta(days=21))
    caption = render_caption(replace(progress, safety=(released,)), content)
    assert "Keep going as planned" in caption


@pytest.mark.parametrize("keep", [0, 1])
def test_caption_of_a_history_too_short_is_the_kind_text(
    progress: Progress, content: Content, keep: int
) -> None:
    short = replace(progress, check_ins=(), baseline=progress.baseline if keep else None)
    assert render_caption(short, content) == render_not_enough(content)
    assert "After your next check-in" in render_not_enough(content)


def test_weekly_look_back_counts_this_weeks_routines_and_says_the_trend(
    progress: Progress, content: Content
) -> None:
    text = render_weekly(progress, content, progress.today)
    lines = text.split("\n")
    assert lines[0] == "<b>Your week: 23 March to 29 March</b>"
    assert lines[1] == "Routines done: 7 of 7 days."
    assert lines[2] == "This week: pain 3 → 2."
    assert lines[3] == "At the start it was 6: a meaningful improvement."
    assert "since you started" not in text  # the latest pain (2) is said once, above
    assert lines[-1] == "Keep going as planned, and stop any exercise that hurts."
    assert len(text) <= WEEKLY_LIMIT


def test_weekly_look_back_of_a_week_with_a_skipped_day_and_advice(
    progress: Progress, content: Content
) -> None:
    text = render_weekly(progress, content, START + timedelta(days=15))  # days 9-15, 10 skipped
    assert "Routines done: 6 of 7 days." in text
    assert (
        "Advice this week: see a doctor or physiotherapist soon (17 March) and keep an eye on"
        " a small rise (15 March)." in text.split("\n")
    )
    assert len(text) <= WEEKLY_LIMIT


def _bad_week(language: str) -> Progress:
    """The issue's week: one routine done in seven days, pain 6 → 5 this week, 5 at the start,
    told to see a doctor."""
    base = sample_progress(2, language=language)
    monday = START + timedelta(days=7)
    days = tuple(
        ProgramDay(monday + timedelta(days=n), 8 + n, "done" if n == 2 else "no_answer")
        for n in range(7)
    )
    start = replace(base.baseline, pain=5) if base.baseline else None
    check_ins = (
        CheckInPoint(_at(monday + timedelta(days=2), 9), monday + timedelta(days=2), "session",
                     6, 3, 4, 4, 10, "done"),
        CheckInPoint(_at(monday + timedelta(days=5), 9), monday + timedelta(days=5), "adhoc",
                     5, 3, 4, 4, None, None),
    )  # fmt: skip
    safety = (SafetyMark(monday + timedelta(days=5), "soon", ("soon_signal",)),)
    return replace(base, baseline=start, check_ins=check_ins, days=days, safety=safety, marks=())


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "<b>Your week: 9 March to 15 March</b>",
                "Routines done: 1 of 7 days.",
                "This week: pain 6 → 5.",
                "At the start it was 5: no clear change yet.",
                "Advice this week: see a doctor or physiotherapist soon (14 March).",
                "Please follow the advice I gave you on 14 March before going on with the"
                " exercises.",
            ],
        ),
        (
            "fr",
            [
                "<b>Votre semaine\u00a0: du 9 mars au 15 mars</b>",
                "Séances faites\u00a0: 1 sur 7 jours.",
                "Cette semaine\u00a0: douleur 6 → 5.",
                "Au départ, elle était à 5\u00a0: pas de changement net pour l’instant.",
                "Conseil donné cette semaine\u00a0: consulter prochainement un médecin ou un"
                " kinésithérapeute (14 mars).",
                "Avant de reprendre les exercices, suivez les conseils que je vous ai donnés le"
                " 14 mars.",
            ],
        ),
    ],
)
def test_weekly_look_back_says_each_figure_once_and_names_the_advice(
    language: str, expected: list[str]
) -> None:
    content = texts_for(language).content
    text = render_weekly(_bad_week(language), content, START + timedelta(days=13))
    assert text.split("\n") == expected
    assert len(text) <= WEEKLY_LIMIT
    # Each figure once: the week's pain pair is not repeated as a since-the-start pair.
    assert text.count("6 → 5") == 1 and "5 → 5" not in text


def test_weekly_look_back_without_check_ins_says_so_calmly(
    progress: Progress, content: Content
) -> None:
    text = render_weekly(progress, content, progress.today + timedelta(days=30))
    assert "Routines done: 0 of 7 days." in text
    assert "I have no check-in from you this week" in text
    assert "At the start" not in text
    empty = replace(progress, baseline=None, check_ins=(), marks=(), safety=(), days=())
    assert "I have no check-in from you this week" in render_weekly(empty, content, START)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_longest_weekly_look_back_stays_within_its_limit(language: str) -> None:
    """Every measure moved, advice of every tier: still at most 600 characters."""
    base = sample_progress(4, language=language)
    safety = tuple(
        SafetyMark(base.today - timedelta(days=n % 7), tier, ())
        for n, tier in enumerate(("urgent", "soon", "stop_exercise", "review", "watch"))
    )
    text = render_weekly(replace(base, safety=safety), texts_for(language).content, base.today)
    assert len(text) <= WEEKLY_LIMIT
    assert text.split("\n")[-2].count("(") == 5  # every tier named, in one line


# --- The catalogue -------------------------------------------------------------------------------


def test_every_key_the_progress_views_read_exists(content: Content) -> None:
    missing = [
        key
        for key in (*charts.REQUIRED_KEYS, *report.REQUIRED_KEYS)
        if not content.catalogue.has(key)
    ]
    assert missing == []


def test_every_progress_text_is_read_somewhere(content: Content) -> None:
    """No dead text for a translator to translate."""
    ours = {
        key
        for key in content.catalogue.texts
        if key.split(".", 1)[0] in ("progress", "weekly", "report")
    }
    assert ours - {*charts.REQUIRED_KEYS, *report.REQUIRED_KEYS} == set()


def test_chart_words_follow_the_catalogue(progress: Progress, content: Content) -> None:
    """A translated catalogue (here: long made-up words) still lays out and draws."""
    texts = dict(content.catalogue.texts)
    texts["progress.chart.numbness"] = "Engourdissement très prononcé"
    texts["progress.chart.ratings"] = "Douleur, engourdissement, fourmillements (0 aucun, 10 pire)"
    longer = Content("fr", content.exercises, Catalogue("fr", texts))
    image = _image(render_chart(replace(progress, language="fr"), longer))
    assert image.size == (WIDTH_PX, HEIGHT_PX)


# --- Gaps and PSFS -------------------------------------------------------------------------------


def test_a_skipped_day_is_a_gap_in_the_drawn_line(progress: Progress) -> None:
    """The lines the chart draws for pain never join across a day without ratings."""
    series = chart_series(progress)
    fig = Figure()
    ax = fig.add_axes((0, 0, 1, 1))
    charts._plot(ax, series, "pain")
    skipped = {series.x_of(START + timedelta(days=offset)) + 0.5 for offset in (10, 19)}
    lines = [
        [float(x) for x in np.asarray(line.get_xdata(), dtype=float)]
        for line in ax.lines
        if line.get_linestyle() == "-"
    ]
    assert len(lines) == 3  # days 0-9, 11-18, 20-27
    for xs in lines:
        assert not any(min(xs) < x < max(xs) for x in skipped)
        assert all(b - a <= 1.5 for a, b in itertools.pairwise(xs))  # consecutive days only
    ticks = {n + 0.5 for n in range(series.days)}
    assert {x for xs in lines for x in xs if x in ticks}  # single check-ins sit on their tick


def test_psfs_panel_is_drawn_only_with_ratings(progress: Progress, content: Content) -> None:
    plain = render_chart(progress, content)
    function = (FunctionSeries("Sitting 30 minutes", ((START, 3), (START + timedelta(days=7), 5))),)
    rated = render_chart(replace(progress, function=function), content)
    assert rated != plain
    assert Image.open(io.BytesIO(rated)).size == (WIDTH_PX, HEIGHT_PX)
