"""Tests for the exercise pictures (bot/rendering/poses.py and pictures.py, their data in
bot/content/pictures.toml)."""

from __future__ import annotations

import copy
import io
import math
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from bot.content import LOCALES_DIR, ContentError, load_content, parse_catalogue, read_toml
from bot.domain.program import EXERCISE_ORDER
from bot.rendering import pictures, poses
from bot.rendering.media_folder import media_path
from bot.rendering.offload import media_file
from bot.rendering.pictures import (
    TELEGRAM_MAX_BYTES,
    check_photo,
    png_size,
    render_all,
    render_picture,
    validate_pictures,
)
from bot.rendering.poses import (
    LEGEND_KEY,
    PICTURES_FILE,
    STAGE_COUNTS,
    caption_key,
    load_pictures,
    parse_pictures,
    stages,
)

# The stages of each exercise, as the seed article describes them.
EXPECTED_STAGES = {1: 4, 2: 2, 3: 2, 4: 2, 5: 2}
CAPTION_LIMIT = 200
SIZE_BUDGET = 150 * 1024  # our own target, far below Telegram's 10 MB


@pytest.fixture(scope="module")
def pngs() -> dict[str, bytes]:
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


def test_every_picture_is_a_png_within_telegram_rules(pngs: dict[str, bytes]) -> None:
    # Exercise 1 (the back) once per stage; the one-leg exercises once per stage and side.
    expected = {f"e1s{s}" for s in range(1, EXPECTED_STAGES[1] + 1)} | {
        f"e{e}s{s}-{side}"
        for e, count in EXPECTED_STAGES.items()
        if e != 1
        for s in range(1, count + 1)
        for side in ("left", "right")
    }
    assert set(pngs) == expected
    for key, png in pngs.items():
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), key
        width, height = png_size(png)
        assert (width, height) == (1024, 640), key
        assert width + height <= 10_000 and max(width, height) <= 20 * min(width, height)
        assert len(png) <= min(SIZE_BUDGET, TELEGRAM_MAX_BYTES), (key, len(png))
    validate_pictures()


def test_pictures_are_cached_and_thread_safe(pngs: dict[str, bytes]) -> None:
    assert render_picture(1, 1) is render_picture(1, 1)
    assert render_picture(3, 2) is render_picture(3, 2, "right")  # the right leg until said
    keys = [(1, 4, None), (3, 2, "left"), (4, 2, "right"), (5, 2, "left")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        fresh = list(pool.map(lambda key: pictures._render(*key), keys))
    names = ["e1s4", "e3s2-left", "e4s2-right", "e5s2-left"]
    assert fresh == [pngs[name] for name in names]  # same bytes: deterministic, no shared state


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


def _along(
    a: tuple[float, float], b: tuple[float, float], p: tuple[float, float]
) -> tuple[float, float]:
    """Where p lies along the segment a-b (0 at a, 1 at b), and how far from its line (cm)."""
    ab = (b[0] - a[0], b[1] - a[1])
    ap = (p[0] - a[0], p[1] - a[1])
    size = math.hypot(*ab)
    along = (ab[0] * ap[0] + ab[1] * ap[1]) / size**2
    return along, abs(ab[0] * ap[1] - ab[1] * ap[0]) / size


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
    assert data[1].symptomatic is None  # the back exercise: no leg with symptoms
    assert all(data[e].symptomatic == "near" for e in (2, 3, 4, 5))
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
    # 4: belt around the foot; a small lift of the straight leg, about 20-30 degrees, well short
    # of the furthest it can go (clinical.md §5: this exercise strains the nerve most).
    flat, lifted = data[4].stages
    assert all(p.props and p.props[0].side == "near" for p in (flat, lifted))
    assert 20 <= _angle(lifted.near["hip"], lifted.near["ankle"]) <= 30
    assert _angle(lifted.near["hip"], lifted.near["knee"]) == pytest.approx(
        _angle(lifted.near["knee"], lifted.near["ankle"]), abs=2
    )  # the knee straight
    # 5: stretch felt behind the buttock on the side with symptoms.
    (mark,) = data[5].stages[1].marks
    assert math.dist(mark.at, data[5].stages[1].near["hip"]) < 10
    # 5, close-ups from above: the ankle with symptoms rests on the other thigh just above its
    # knee, that knee open to the side; then the hands hold the other thigh.
    assert len(data[5].insets) == 2 and all(i.view == "above" for i in data[5].insets)
    for inset in data[5].insets:
        other = inset.far
        assert math.dist(inset.near["ankle"], other["knee"]) < 12  # on the thigh, at the knee
        assert abs(inset.near["knee"][0] - other["knee"][0]) > 25
    pulled = data[5].insets[1]
    for side in (pulled.near, pulled.far):
        along, off = _along(pulled.far["hip"], pulled.far["knee"], side["hand"])
        assert 0.4 <= along <= 1.0 and off < 10


# --- Captions ------------------------------------------------------------------------------------


def test_every_picture_has_a_short_english_caption() -> None:
    path = LOCALES_DIR / "en" / "pictures.toml"
    catalogue = parse_catalogue(read_toml(path), str(path), "en")
    expected = {caption_key(e, s) for e, n in STAGE_COUNTS.items() for s in range(1, n + 1)}
    # The animations: the texts drawn in a frame, and one caption line per exercise.
    animation = {f"pictures.animation.{k}" for k in ("count", "hold", "rest", "ready")} | {
        f"pictures.animation.e{e}" for e in STAGE_COUNTS
    }
    assert set(catalogue.keys()) == expected | animation | {LEGEND_KEY}
    for key, text in catalogue.texts.items():
        assert 0 < len(text) <= CAPTION_LIMIT, key
        if key.startswith("pictures.animation.e"):
            assert len(text) <= 100 and "\n" not in text, key  # one line on a phone
    assert "orange" in catalogue.text(LEGEND_KEY)
    assert caption_key(1, 1) == "pictures.e1.s1"


def test_the_captions_are_part_of_the_english_catalogue() -> None:
    catalogue = load_content("en").catalogue
    assert catalogue.has(LEGEND_KEY) and catalogue.has(caption_key(5, 2))


# --- Per side ------------------------------------------------------------------------------------


def _orange(png: bytes) -> list[tuple[int, int]]:
    """The pixels of the leg with symptoms (the accent colour)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    target = tuple(int(pictures.SYMPTOMATIC_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    data = image.load()
    assert data is not None
    return [
        (x, y)
        for y in range(0, height, 2)
        for x in range(0, width, 2)
        if all(
            abs(c - t) <= 6 for c, t in zip(cast(tuple[int, ...], data[x, y]), target, strict=True)
        )
    ]


def _inset_box() -> tuple[float, float, float]:
    """The close-up's box in pixels: left, right and bottom (from the top)."""
    left, bottom, width, _height = pictures._INSET_BOX
    w, h = pictures.PIXEL_WIDTH, pictures.PIXEL_HEIGHT
    return left * w, (left + width) * w, (1 - bottom) * h


def _mirror_offset(
    right_px: list[tuple[int, int]], left_px: list[tuple[int, int]], axis: float
) -> float:
    """How far the mean x of ``left_px`` is from that of ``right_px`` mirrored about ``axis``."""
    mean_right = sum(x for x, _ in right_px) / len(right_px)
    mean_left = sum(x for x, _ in left_px) / len(left_px)
    return abs(mean_left - (2 * axis - mean_right))


@pytest.mark.parametrize("exercise_id", [2, 3, 4, 5])
def test_each_leg_gets_the_mirrored_drawing(exercise_id: int, pngs: dict[str, bytes]) -> None:
    base = load_pictures().exercises[exercise_id]
    for stage in range(1, len(base.stages) + 1):
        drawn = base.stages[stage - 1]
        for side in ("left", "right"):
            assert poses.symptomatic_leg(exercise_id, stage, side) == side
        assert poses.symptomatic_leg(exercise_id, stage, None) == "right"  # until said
        left = poses.pose_for(base, stage, "left")
        assert left.near["hip"] == (
            poses.FRAME_WIDTH - drawn.near["hip"][0],
            drawn.near["hip"][1],
        )
        assert poses.pose_for(base, stage, "right") is drawn
        # The pixels: the orange leg of the left-leg picture is the right-leg one mirrored.
        # A close-up (exercise 5 from above, exercise 2's feet enlarged) stays in its corner,
        # mirrored inside its box.
        boxed = bool(base.insets) or base.closeup is not None
        box_left, box_right, box_bottom = _inset_box() if boxed else (0.0, 0.0, 0.0)

        def inside(px: tuple[int, int]) -> bool:
            return box_left <= px[0] <= box_right and px[1] <= box_bottom  # noqa: B023

        right_all = _orange(pngs[f"e{exercise_id}s{stage}-right"])
        left_all = _orange(pngs[f"e{exercise_id}s{stage}-left"])
        groups = [
            (
                [p for p in right_all if not inside(p)],
                [p for p in left_all if not inside(p)],
                (pictures.PIXEL_WIDTH - 1) / 2,
            ),
        ]
        if boxed:
            groups.append(
                (
                    [p for p in right_all if inside(p)],
                    [p for p in left_all if inside(p)],
                    (box_left + box_right) / 2,
                )
            )
        for right_px, left_px, axis in groups:
            assert len(right_px) > 300
            assert abs(len(left_px) - len(right_px)) < 0.05 * len(right_px)
            assert _mirror_offset(right_px, left_px, axis) < 4


def test_the_back_exercise_has_no_orange_leg_and_one_picture_per_stage(
    pngs: dict[str, bytes],
) -> None:
    assert not poses.one_leg(1)
    assert poses.picture_key(1, 2, "left") == poses.picture_key(1, 2, None) == "e1s2"
    assert poses.picture_key(3, 2, "left") == "e3s2-left"
    assert poses.picture_key(3, 2, None) == poses.picture_key(3, 2, "asked") == "e3s2-right"
    for stage in range(1, 5):
        assert _orange(pngs[f"e1s{stage}"]) == []


def test_picture_keys_are_read_back_and_unknown_ones_refused() -> None:
    assert poses.parse_key("e3s2-left") == (3, 2, "left")
    assert poses.parse_key("e1s4") == (1, 4, None)
    assert pictures.render_key("e3s2-left") is render_picture(3, 2, "left")
    for bad in ("e3s2-both", "x", "e3", "e1s1-left", "e9s1-right"):
        with pytest.raises(KeyError):
            pictures.render_key(bad)


# --- A picture's version, without drawing it ------------------------------------------------------


def test_a_pictures_version_names_its_key_and_changes_with_what_it_looks_like(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    versions = {key: poses.picture_version(key) for key in poses.all_keys()}
    assert all(v.startswith(f"{k}:") and len(v) == len(k) + 13 for k, v in versions.items())
    assert len(set(versions.values())) == len(versions)  # each picture its own
    assert poses.picture_version("e3s2-left") == versions["e3s2-left"]  # the same data, the same
    for bad in ("e3s2-both", "x", "e1s5", "e1s1-left", "e9s1-right"):
        with pytest.raises(KeyError):
            poses.picture_version(bad)

    # A moved joint in exercise 3 changes exercise 3's pictures (both sides), no other.
    data = load_pictures()
    three = data.exercises[3]
    first = three.stages[0]
    moved = replace(first, near={**first.near, "toe": (first.near["toe"][0] + 1, 50.0)})
    changed = replace(
        data, exercises={**data.exercises, 3: replace(three, stages=(moved, *three.stages[1:]))}
    )
    monkeypatch.setattr(poses, "load_pictures", lambda: changed)
    assert poses.picture_version("e3s1-left") != versions["e3s1-left"]
    assert poses.picture_version("e3s1-right") != versions["e3s1-right"]
    assert poses.picture_version("e3s2-left") == versions["e3s2-left"]
    assert poses.picture_version("e1s1") == versions["e1s1"]
    monkeypatch.undo()

    # A change to the drawing code changes every picture's version.
    drawing = tmp_path / "pictures.py"
    drawing.write_bytes(poses.DRAWING_SOURCES[0].read_bytes() + b"\n# thicker outlines\n")
    monkeypatch.setattr(poses, "DRAWING_SOURCES", (drawing, *poses.DRAWING_SOURCES[1:]))
    assert all(poses.picture_version(k) != v for k, v in versions.items())


def test_a_picture_is_kept_in_the_folder_by_version(tmp_path: Path) -> None:
    """Drawn once into the media folder under its version, then read back; an earlier version
    of the same picture goes, the other side's picture stays."""
    stale = tmp_path / "e3s2-left-000000000000.png"
    other_side = tmp_path / "e3s2-right-000000000000.png"
    stale.write_bytes(b"old")
    other_side.write_bytes(b"other")
    first = media_file("e3s2-left", tmp_path)
    assert first.startswith(b"\x89PNG")
    kept = media_path("e3s2-left", tmp_path)
    assert kept.name == poses.picture_version("e3s2-left").replace(":", "-") + ".png"
    assert kept.read_bytes() == first
    assert not stale.exists() and other_side.exists()
    kept.write_bytes(b"\x89PNG kept")  # read back, not drawn again
    assert media_file("e3s2-left", tmp_path) == b"\x89PNG kept"
