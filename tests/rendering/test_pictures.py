"""Tests for the exercise pictures (bot/rendering/pictures.py, bot/content/pictures.toml)."""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.content import LOCALES_DIR, ContentError, load_content, parse_catalogue, read_toml
from bot.domain.program import EXERCISE_ORDER
from bot.rendering import pictures
from bot.rendering.pictures import (
    LEGEND_KEY,
    PICTURES_FILE,
    STAGE_COUNTS,
    TELEGRAM_MAX_BYTES,
    caption_key,
    check_photo,
    load_pictures,
    parse_pictures,
    png_size,
    render_all,
    render_picture,
    stages,
    validate_pictures,
)

# The stages of each exercise, as the seed article describes them.
EXPECTED_STAGES = {1: 4, 2: 2, 3: 2, 4: 2, 5: 2}
CAPTION_LIMIT = 200
SIZE_BUDGET = 150 * 1024  # our own target, far below Telegram's 10 MB


@pytest.fixture(scope="module")
def pngs() -> dict[tuple[int, int], bytes]:
    return render_all()


@pytest.fixture
def raw() -> dict[str, Any]:
    with PICTURES_FILE.open("rb") as handle:
        return tomllib.load(handle)


# --- Stages and PNGs -----------------------------------------------------------------------------


def test_every_exercise_has_its_stages() -> None:
    assert dict(STAGE_COUNTS) == EXPECTED_STAGES
    for exercise_id in EXERCISE_ORDER:
        assert stages(exercise_id) == EXPECTED_STAGES[exercise_id] >= 1


def test_every_picture_is_a_png_within_telegram_rules(pngs: dict[tuple[int, int], bytes]) -> None:
    expected = {(e, s) for e, count in EXPECTED_STAGES.items() for s in range(1, count + 1)}
    assert set(pngs) == expected
    for key, png in pngs.items():
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), key
        width, height = png_size(png)
        assert (width, height) == (1024, 640), key
        assert width + height <= 10_000 and max(width, height) <= 20 * min(width, height)
        assert len(png) <= min(SIZE_BUDGET, TELEGRAM_MAX_BYTES), (key, len(png))
    validate_pictures()


def test_pictures_are_cached_and_thread_safe(pngs: dict[tuple[int, int], bytes]) -> None:
    assert render_picture(1, 1) is render_picture(1, 1)
    keys = [(1, 4), (3, 2), (4, 2), (5, 2)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        fresh = list(pool.map(lambda key: pictures._render(*key), keys))
    assert fresh == [pngs[key] for key in keys]  # same bytes: deterministic, no shared state


def test_an_unknown_picture_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        render_picture(1, 5)
    with pytest.raises(KeyError):
        render_picture(6, 1)


def test_telegram_rules_are_enforced() -> None:
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    with pytest.raises(ContentError, match="width \\+ height"):
        check_photo(header + (9000).to_bytes(4, "big") + (2000).to_bytes(4, "big"), "x")
    with pytest.raises(ContentError, match="aspect ratio"):
        check_photo(header + (2100).to_bytes(4, "big") + (100).to_bytes(4, "big"), "x")
    with pytest.raises(ContentError, match="not a PNG"):
        check_photo(b"GIF89a", "x")


# --- Broken data fails with a ContentError naming the field ---------------------------------------


def _first_stage(data: dict[str, Any], exercise_id: int, stage: int = 1) -> dict[str, Any]:
    exercise = next(e for e in data["exercise"] if e["id"] == exercise_id)
    result: dict[str, Any] = exercise["stage"][stage - 1]
    return result


def _reflect(point: list[float], a: list[float], b: list[float]) -> list[float]:
    """``point`` mirrored across the line through ``a`` and ``b``: same distances to both."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = ((point[0] - a[0]) * dx + (point[1] - a[1]) * dy) / (dx * dx + dy * dy)
    foot = (a[0] + t * dx, a[1] + t * dy)
    return [2 * foot[0] - point[0], 2 * foot[1] - point[1]]


def _drop_exercise_3(d: dict[str, Any]) -> None:
    d["exercise"] = [e for e in d["exercise"] if e["id"] != 3]


def _unknown_joint(d: dict[str, Any]) -> None:
    _first_stage(d, 1)["near"]["pinkie"] = [10, 30]


def _coordinate_outside(d: dict[str, Any]) -> None:
    _first_stage(d, 1)["near"]["knee"] = [500, 30]


def _coordinate_not_a_number(d: dict[str, Any]) -> None:
    _first_stage(d, 2)["far"]["toe"] = ["a", 30]


def _no_stages(d: dict[str, Any]) -> None:
    next(e for e in d["exercise"] if e["id"] == 2)["stage"] = []


def _missing_joint(d: dict[str, Any]) -> None:
    del _first_stage(d, 4)["far"]["heel"]


def _knee_bent_backwards(d: dict[str, Any]) -> None:
    leg = _first_stage(d, 3)["near"]  # hip and knee bent: mirror the knee across hip-ankle
    leg["knee"] = _reflect(leg["knee"], leg["hip"], leg["ankle"])


def _elbow_bent_backwards(d: dict[str, Any]) -> None:
    arm = _first_stage(d, 3)["near"]  # hands behind the thigh, elbows bent
    arm["elbow"] = _reflect(arm["elbow"], arm["shoulder"], arm["wrist"])


def _shin_too_long(d: dict[str, Any]) -> None:
    leg = _first_stage(d, 2)["near"]
    leg["ankle"] = [leg["ankle"][0] + 15, leg["ankle"][1]]


def _unknown_prop(d: dict[str, Any]) -> None:
    _first_stage(d, 4)["prop"][0]["kind"] = "rope"


def _bad_facing(d: dict[str, Any]) -> None:
    _first_stage(d, 5)["facing"] = "sideways"


def _duplicate_exercise(d: dict[str, Any]) -> None:
    d["exercise"].append(copy.deepcopy(d["exercise"][0]))


def _missing_body_length(d: dict[str, Any]) -> None:
    del d["body"]["thigh"]


BROKEN: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_drop_exercise_3, r"exercise\[3\]: missing exercise"),
    (_unknown_joint, r"exercise\[1\]\.stage\[1\]\.near\.pinkie: unknown joint"),
    (_coordinate_outside, r"exercise\[1\]\.stage\[1\]\.near\.knee: .* outside the picture"),
    (_coordinate_not_a_number, r"exercise\[2\]\.stage\[1\]\.far\.toe: must be a number"),
    (_no_stages, r"exercise\[2\]\.stage: no stages"),
    (_missing_joint, r"exercise\[4\]\.stage\[1\]\.far\.heel: missing joint"),
    (_knee_bent_backwards, r"exercise\[3\]\.stage\[1\]\.near\.knee: bends the wrong way"),
    (_elbow_bent_backwards, r"exercise\[3\]\.stage\[1\]\.near\.elbow: bends the wrong way"),
    (_shin_too_long, r"exercise\[2\]\.stage\[1\]\.near\.ankle: .* cm long"),
    (_unknown_prop, r"exercise\[4\]\.stage\[1\]\.prop\[1\]\.kind"),
    (_bad_facing, r"exercise\[5\]\.stage\[1\]\.facing"),
    (_duplicate_exercise, r"exercise\[1\]\.id: duplicate"),
    (_missing_body_length, r"body\.thigh: missing field"),
]


@pytest.mark.parametrize(("breaks", "message"), BROKEN, ids=[b.__name__ for b, _ in BROKEN])
def test_broken_data_names_the_file_and_field(
    raw: dict[str, Any], breaks: Callable[[dict[str, Any]], None], message: str
) -> None:
    parse_pictures(raw, "pictures.toml")  # the untouched data is fine
    breaks(raw)
    with pytest.raises(ContentError, match=f"^pictures\\.toml: .*{message}"):
        parse_pictures(raw, "pictures.toml")


def test_a_missing_file_is_a_content_error(tmp_path: Any) -> None:
    with pytest.raises(ContentError, match="file not found"):
        read_toml(tmp_path / "pictures.toml")


# --- The poses match the article's steps ---------------------------------------------------------


def _angle(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Direction from a to b in degrees, 0 = towards the feet (right), 90 = up."""
    return math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))


def _foot_angle(leg: Any) -> float:
    """Angle between the shin (pointing to the foot) and the toes: small = pointed foot."""
    shin = _angle(leg["knee"], leg["ankle"])
    toes = _angle(leg["ankle"], leg["toe"])
    return abs((toes - shin + 180) % 360 - 180)


def test_the_pelvis_stays_on_the_floor_in_every_picture() -> None:
    for exercise in load_pictures().exercises.values():
        for pose in exercise.stages:
            assert 6 <= pose.hip_mid[1] - pose.floor <= 16, exercise.id


def test_the_leg_with_symptoms_is_the_one_that_moves() -> None:
    data = load_pictures().exercises
    assert all(e.symptomatic == "near" for e in data.values())
    # 1: lying face down, then up on the elbows, then on the hands: the chest rises each time.
    poses = data[1].stages
    assert all(pose.facing == "down" for pose in poses)
    heights = [pose.centre["neck"][1] for pose in poses]
    assert heights == sorted(heights) and heights[-1] - heights[0] > 25
    on_elbows = poses[1].near
    assert abs(on_elbows["elbow"][0] - on_elbows["shoulder"][0]) < 4  # elbows under shoulders
    assert poses[2].near["elbow"][0] > poses[1].near["elbow"][0] + 5  # closer to the body
    assert abs(poses[3].near["hand"][1] - poses[3].floor) < 6  # hands on the floor
    # 2: right (near) foot pointed and left toes pulled up, then swapped.
    first, second = data[2].stages
    assert _foot_angle(first.near) < 70 < 90 < _foot_angle(first.far)
    assert _foot_angle(second.far) < 70 < 90 < _foot_angle(second.near)
    # 3: hip bent to about 90 degrees, then the knee straightened upwards.
    bent, straight = data[3].stages
    assert 80 <= _angle(bent.near["hip"], bent.near["knee"]) <= 105
    assert _angle(straight.near["knee"], straight.near["ankle"]) > 60
    # 4: belt around the foot; the straight leg lifted to 45-60 degrees.
    flat, lifted = data[4].stages
    assert all(p.props and p.props[0].side == "near" for p in (flat, lifted))
    assert 45 <= _angle(lifted.near["hip"], lifted.near["ankle"]) <= 60
    # 5: stretch felt behind the buttock on the side with symptoms.
    (mark,) = data[5].stages[1].marks
    assert math.dist(mark.at, data[5].stages[1].near["hip"]) < 10


# --- Captions ------------------------------------------------------------------------------------


def test_every_picture_has_a_short_english_caption() -> None:
    path = LOCALES_DIR / "en" / "pictures.toml"
    catalogue = parse_catalogue(read_toml(path), str(path), "en")
    expected = {caption_key(e, s) for e, n in STAGE_COUNTS.items() for s in range(1, n + 1)}
    assert set(catalogue.keys()) == expected | {LEGEND_KEY}
    for key, text in catalogue.texts.items():
        assert 0 < len(text) <= CAPTION_LIMIT, key
    assert "orange" in catalogue.text(LEGEND_KEY)
    assert caption_key(1, 1) == "pictures.e1.s1"


def test_the_captions_are_part_of_the_english_catalogue() -> None:
    catalogue = load_content("en").catalogue
    assert catalogue.has(LEGEND_KEY) and catalogue.has(caption_key(5, 2))
