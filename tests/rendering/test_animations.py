"""The exercise animations: every frame anatomical, the movement really interpolated, keys and
versions, and the MP4s within the targets (H.264, silent, at most 1 MB, a calm length)."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from bot.content import ContentError
from bot.rendering import motion, poses
from bot.rendering.animations import HEIGHT, MAX_BYTES, WIDTH, animation_mp4, counter_text
from bot.rendering.motion import Counter
from tests.support.harness import TEST_MEDIA_DIR

SIDES = ("left", "right")


@pytest.mark.parametrize("exercise_id", motion.MOTIONS)
def test_every_frame_passes_the_pose_checks(exercise_id: int) -> None:
    for side in SIDES:
        motion.check_frames(exercise_id, side)  # raises ContentError naming the frame
        assert len(motion.frames(exercise_id, side)) > 20


def test_the_checks_catch_what_a_straight_line_interpolation_gets_wrong() -> None:
    """The frame checks really check: moving every joint in a straight line (no joint chain,
    no planted hands) from lying down to the press-up gives frames that the checks refuse,
    while the animation's frames all pass."""
    exercise = poses.load_pictures().exercises[1]
    lying, up = poses.pose_for(exercise, 1, None), poses.pose_for(exercise, 4, None)

    def line(a: poses.Pose, b: poses.Pose, t: float) -> poses.Pose:
        def mix(
            x: Mapping[str, poses.Point], y: Mapping[str, poses.Point]
        ) -> dict[str, poses.Point]:
            return {k: motion._mix(x[k], y[k], t) for k in x}

        return replace(
            a, centre=mix(a.centre, b.centre), near=mix(a.near, b.near), far=mix(a.far, b.far)
        )

    refused = 0
    for step in range(1, 20):
        try:
            poses._check_pose(line(lying, up, step / 20), poses.load_pictures().body, "line")
        except ContentError:
            refused += 1
    assert refused > 0
    motion.check_frames(1, None)


@pytest.mark.parametrize("exercise_id", motion.MOTIONS)
def test_the_movement_goes_from_stage_to_stage_and_back(exercise_id: int) -> None:
    exercise = poses.load_pictures().exercises[exercise_id]
    frames = motion.frames(exercise_id, "left")
    first, last = poses.pose_for(exercise, 1, "left"), poses.pose_for(exercise, 2, "left")
    assert frames[0].pose.near == first.near and frames[-1].pose.near == first.near  # a loop
    assert any(f.pose.near == last.near for f in frames)
    middle = [f.pose for f in frames if f.pose.near not in (first.near, last.near)]
    assert len(middle) >= 10  # in-between frames, not a slide show
    # Mirrored for the other leg: the orange leg is the person's.
    right = motion.frames(exercise_id, "right")
    if poses.one_leg(exercise_id):
        assert right[5].pose.near["hip"][0] == pytest.approx(
            poses.FRAME_WIDTH - frames[5].pose.near["hip"][0]
        )


def test_the_count_and_the_hold_timer() -> None:
    # Every repetition of the dose in turn, each with its number: the loop is the whole set.
    one = motion.repetition(2, "right")
    numbers = [f.counter for f in motion.frames(2, "right")]
    assert numbers == [Counter("count", n, 20) for n in range(1, 21) for _ in one]
    holds = [f for f in motion.frames(5, "left") if f.counter.kind == "hold"]
    # Three holds, each 0:00 to 0:30 at real speed, one second a frame.
    assert [(f.counter.hold, f.counter.value) for f in holds] == [
        (hold, second) for hold in (1, 2, 3) for second in range(31)
    ]
    assert all(f.repeat == motion.FPS for f in holds)
    assert motion.duration(5) == pytest.approx(1 + 2 + 3 * 31 + 2 * (2 + 4 + 2) + 2)
    assert counter_text(holds[31 + 18].counter, "en") == "0:18 / 0:30 · hold 2 of 3"
    assert counter_text(holds[31 + 18].counter, "fr") == "0:18 / 0:30 · tenue 2 sur 3"
    assert counter_text(holds[18].counter, "en") == "0:18 / 0:30 · hold 1 of 3"
    assert counter_text(Counter("ready", 0, 30, 1, 3), "en") == "3 × 30\u00a0s"
    assert counter_text(Counter("rest", 0, 30, 2, 3), "en") == "Rest · then hold 2 of 3"
    assert counter_text(Counter("rest", 0, 30, 3, 3), "fr") == "Repos · puis tenue 3 sur 3"


def test_the_stretch_is_let_go_and_rested_between_the_holds() -> None:
    """After each hold but the last: the leg let go (the stretch's stage 1), still for a few
    seconds with "Rest" on screen, and pulled in again; the counter in order, never a timer
    during the rest."""
    exercise = poses.load_pictures().exercises[5]
    relaxed, stretched = poses.pose_for(exercise, 1, "right"), poses.pose_for(exercise, 2, "right")
    frames = motion.frames(5, "right")
    phases: list[tuple[str, int]] = []
    for frame in frames:
        phase = (frame.counter.kind, frame.counter.hold)
        if not phases or phases[-1] != phase:
            phases.append(phase)
    assert phases == [
        ("ready", 1), ("hold", 1), ("rest", 2), ("hold", 2), ("rest", 3), ("hold", 3), ("ready", 1)
    ]  # fmt: skip
    assert all(f.pose.near == stretched.near for f in frames if f.counter.kind == "hold")
    for hold in (2, 3):
        rest = [f for f in frames if f.counter == Counter("rest", 0, 30, hold, 3)]
        still = [f for f in rest if f.pose.near == relaxed.near]
        assert sum(f.repeat for f in still) / motion.FPS == pytest.approx(4.1)  # let go, at rest
        assert any(f.pose.near not in (relaxed.near, stretched.near) for f in rest)  # moving
    assert counter_text(Counter("count", 1, 10), "fr") == "1 / 10"
    for exercise_id in (1, 2, 3, 4):
        one = sum(f.repeat for f in motion.repetition(exercise_id, "left")) / motion.FPS
        assert 4.0 <= one <= 12.0  # one calm repetition
        count = motion.MOTIONS[exercise_id].dose.count
        assert motion.duration(exercise_id) == pytest.approx(count * one)  # 10, 20, 20, 15 of them


def test_keys_and_versions() -> None:
    keys = motion.all_animation_keys()
    assert len(keys) == 2 + 4 * 2 * 2  # exercise 1 once per language, the others per side too
    assert motion.animation_key(1, "left", "fr") == "a1-fr"
    assert motion.animation_key(3, None, "de") == "a3-right-en"  # until said; English fallback
    assert motion.parse_animation_key("a3-left-fr") == (3, "left", "fr")
    for wrong in ("a1-left-en", "a3-en", "a9-en", "a3-up-en", "e3s1-left"):
        with pytest.raises(KeyError):
            motion.parse_animation_key(wrong)
    versions = {motion.animation_version(k) for k in keys}
    assert len(versions) == len(keys)
    assert motion.animation_version("a3-left-fr") == motion.animation_version("a3-left-fr")
    assert motion.animation_version("a3-left-fr").startswith("a3-left-fr:")


def test_exercise_2s_feet_are_a_fifth_of_the_frame_in_the_close_up() -> None:
    exercise = poses.load_pictures().exercises[2]
    assert exercise.closeup is not None
    x0, y0, x1, y1 = exercise.closeup
    box_width, box_height = 0.32 * 1024, 0.49 * 640  # pictures._INSET_BOX on the picture
    shown_height = max(y1 - y0, (x1 - x0) * box_height / box_width)
    for stage in (1, 2):
        for side in ("near", "far"):
            foot = exercise.stages[stage - 1].side(side)
            tall = max(p[1] for p in (foot["heel"], foot["toe"], foot["ankle"])) - min(
                p[1] for p in (foot["heel"], foot["toe"], foot["ankle"])
            )
            if tall > 10:  # the foot pulled up (the pointed one lies flat)
                assert tall / shown_height * 0.49 >= 0.2


def _boxes(data: bytes) -> dict[bytes, list[int]]:
    """Where each MP4 box type starts (walking into the containers that matter)."""
    found: dict[bytes, list[int]] = {}

    def walk(start: int, end: int) -> None:
        at = start
        while at + 8 <= end:
            size, kind = struct.unpack(">I4s", data[at : at + 8])
            if size < 8:
                break
            found.setdefault(kind, []).append(at)
            if kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
                walk(at + 8, at + size)
            at += size

    walk(0, len(data))
    return found


@pytest.mark.parametrize("key", motion.all_animation_keys())
def test_each_mp4_is_silent_h264_within_1_mb_and_the_right_length(key: str) -> None:
    data = animation_mp4(key, TEST_MEDIA_DIR)  # drawn once, then read back from the folder
    assert len(data) <= MAX_BYTES
    boxes = _boxes(data)
    assert data[4:8] == b"ftyp"
    assert boxes[b"moov"][0] < boxes[b"mdat"][0]  # fast start: plays while it downloads
    assert len(boxes[b"trak"]) == 1  # one track: video, no sound
    assert b"avc1" in data and b"soun" not in data
    mvhd = boxes[b"mvhd"][0]
    timescale, length = struct.unpack(">II", data[mvhd + 20 : mvhd + 28])
    exercise_id = motion.parse_animation_key(key)[0]
    assert length / timescale == pytest.approx(motion.duration(exercise_id), abs=0.2)
    tkhd = _boxes(data)[b"tkhd"][0] if b"tkhd" in boxes else None
    if tkhd is not None:
        width, height = struct.unpack(">II", data[tkhd + 84 : tkhd + 92])
        assert (width >> 16, height >> 16) == (WIDTH, HEIGHT)


def test_the_folder_keeps_one_file_per_animation(tmp_path: Path) -> None:
    stale = tmp_path / "a2-left-en-000000000000.mp4"
    stale.write_bytes(b"old")
    first = animation_mp4("a2-left-en", tmp_path)
    assert not stale.exists()  # an earlier version is removed
    (kept,) = tmp_path.glob("*.mp4")
    assert "a2-left-en" not in motion.missing_animations(tmp_path)
    assert "a2-right-en" in motion.missing_animations(tmp_path)
    assert kept.name == motion.animation_version("a2-left-en").replace(":", "-") + ".mp4"
    kept.write_bytes(b"\x00\x00\x00\x08ftyp")  # read back, not drawn again
    assert animation_mp4("a2-left-en", tmp_path) == b"\x00\x00\x00\x08ftyp" != first
