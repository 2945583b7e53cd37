"""The exercise animations drawn and encoded: one short looping H.264 MP4 (silent) per exercise,
side and language, from the frames of ``bot/rendering/motion.py``.

Only the render workers and the tests import this module (matplotlib, NumPy and an ffmpeg
binary). Each figure is drawn once however often it comes back, and each counter text once
(laid over it), so the stretch's three 30-second holds cost one figure and 93 small counters;
a frame that lasts is one video frame held as long (a low frame rate where nothing moves). A
finished MP4 is kept on disk under its version (``motion.animation_version``: the pose data,
the texts and the code), so nothing is drawn again until one of them changes.

For review: ``python -m bot.rendering.animations --contact-sheet OUT.png`` draws every fifth
frame of every animation on one sheet per animation (``OUT-a3-left-en.png``...), and
``--out DIR`` writes the MP4s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.rendering.i18n import texts_for
from bot.rendering.media_folder import kept
from bot.rendering.motion import (
    FPS,
    Counter,
    Frame,
    all_animation_keys,
    animation_path,
    frames,
    parse_animation_key,
)
from bot.rendering.pictures import BACKGROUND, FIGURE_COLOUR, draw_scene
from bot.rendering.poses import closeup_for, load_pictures

# 640 x 400 px: the width a phone shows an animation at, in the picture's 1.6 ratio
# (H.264 wants even sides).
WIDTH: Final = 640
HEIGHT: Final = 400
_DPI: Final = 80
MAX_BYTES: Final = 1024 * 1024  # the limit per animation (Telegram's is 50 MB)
# The counter: drawn in a band at the top left (px), above the figure lying down and left of
# a close-up; only its text's pixels are laid over the frame.
_BAND: Final = (400, 52)
_COUNTER_SIZE: Final = 20
_WHITE: Final = np.array([255, 255, 255], dtype=np.uint8)  # pictures.BACKGROUND


def counter_text(counter: Counter, language: str) -> str:
    """The count or timer drawn in a frame, in the person's language."""
    texts = texts_for(language)
    if counter.kind == "count":
        return texts.t("pictures.animation.count", n=counter.value, total=counter.total)
    if counter.kind == "hold":
        return texts.t(
            "pictures.animation.hold",
            elapsed=f"0:{counter.value:02d}",
            total=f"0:{counter.total:02d}",
            n=counter.hold,
            holds=counter.holds,
        )
    if counter.kind == "rest":
        return texts.t("pictures.animation.rest", n=counter.hold, holds=counter.holds)
    return texts.t("pictures.animation.ready", holds=counter.holds, total=counter.total)


def _draw_scene(frame: Frame, exercise_id: int, side: str | None) -> np.ndarray:
    """The figure of one frame, without its counter (the top left band stays empty)."""
    pictures = load_pictures()
    exercise = pictures.exercises[exercise_id]
    figure = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI)
    figure.patch.set_facecolor(BACKGROUND)
    canvas = FigureCanvasAgg(figure)
    draw_scene(
        figure,
        frame.pose,
        pictures.body,
        exercise.symptomatic,
        inset=frame.inset,
        closeup=closeup_for(exercise, 1, side),
    )
    canvas.draw()  # type: ignore[no-untyped-call]
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()  # type: ignore[no-untyped-call]


def _draw_counter(text: str) -> np.ndarray:
    """The counter's band (top left), drawn on its own: a hold's frames differ only in it."""
    figure = Figure(figsize=(_BAND[0] / _DPI, _BAND[1] / _DPI), dpi=_DPI)
    figure.patch.set_facecolor(BACKGROUND)
    canvas = FigureCanvasAgg(figure)
    figure.text(
        12 / _BAND[0],
        0.5,
        text,
        ha="left",
        va="center",
        fontsize=_COUNTER_SIZE,
        fontweight="bold",
        color=FIGURE_COLOUR,
    )
    canvas.draw()  # type: ignore[no-untyped-call]
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()  # type: ignore[no-untyped-call]


def draw_frames(key: str) -> list[tuple[np.ndarray, int]]:
    """Each frame of animation ``key`` as RGB pixels, with how long it lasts (each figure is
    drawn once however often it comes back, e.g. the stretch's three holds, and each counter
    text once)."""
    exercise_id, side, language = parse_animation_key(key)
    drawn: list[tuple[np.ndarray, int]] = []
    scenes: dict[str, np.ndarray] = {}
    bands: dict[str, np.ndarray] = {}
    for frame in frames(exercise_id, side):
        figure = repr((frame.pose, frame.inset))
        scene = scenes.get(figure)
        if scene is None:
            scene = scenes[figure] = _draw_scene(frame, exercise_id, side)
        text = counter_text(frame.counter, language)
        band = bands.get(text)
        if band is None:
            band = bands[text] = _draw_counter(text)
        pixels = scene.copy()
        # Only the text's own pixels: a foot raised high (exercise 3) may reach the band.
        corner = pixels[: _BAND[1], : _BAND[0]]
        ink = (band != _WHITE).any(axis=2)
        corner[ink] = band[ink]
        drawn.append((pixels, frame.repeat))
    return drawn


def _ffmpeg() -> str:
    import imageio_ffmpeg  # ships an ffmpeg binary with libx264

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def encode(drawn: Sequence[tuple[np.ndarray, int]]) -> bytes:
    """A silent H.264 MP4 that Telegram plays as an animation (yuv420p, fast start). A frame
    that lasts is one video frame held as long (``mpdecimate`` drops exact repeats, the frame
    rate varies): the stretch's holds are about one frame a second."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "a.mp4"
        command = [
            _ffmpeg(),
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{WIDTH}x{HEIGHT}",
            "-r",
            str(FPS),
            "-i",
            "-",
            "-an",
            "-vf",
            "mpdecimate=hi=0:lo=0:frac=0",  # only frames identical to the one before
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-preset",
            "medium",
            "-tune",
            "animation",
            "-crf",
            "26",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            str(out),
        ]
        process = subprocess.Popen(command, stdin=subprocess.PIPE)
        assert process.stdin is not None
        try:
            for pixels, repeat in drawn:
                data = pixels.tobytes()
                for _ in range(repeat):
                    process.stdin.write(data)
        finally:
            process.stdin.close()
        if process.wait() != 0:
            raise RuntimeError(f"ffmpeg failed ({process.returncode})")
        return out.read_bytes()


def render_animation(key: str) -> bytes:
    """The MP4 of animation ``key`` (``a3-left-en``), drawn now (KeyError if none)."""
    return encode(draw_frames(key))


def animation_mp4(key: str, folder: Path | None) -> bytes:
    """The MP4 of ``key`` from ``folder`` (``<version>.mp4``), drawn and kept there when it is
    missing or older than the data and code; ``folder`` None keeps nothing."""
    if folder is None:
        return render_animation(key)
    return kept(animation_path(key, folder), key, render_animation)


def contact_sheet(key: str, every: int = 5) -> bytes:
    """A PNG of every ``every``-th drawn frame of animation ``key`` (a hold counts once per
    second), in a grid of four columns at half size, for review."""
    from matplotlib.figure import Figure as SheetFigure

    drawn = draw_frames(key)
    chosen = [pixels for pixels, _ in drawn[::every]]
    columns = 4
    rows = (len(chosen) + columns - 1) // columns
    half_w, half_h = WIDTH // 2, HEIGHT // 2
    sheet = np.full((rows * half_h, columns * half_w, 3), 255, dtype=np.uint8)
    for index, pixels in enumerate(chosen):
        row, column = divmod(index, columns)
        sheet[row * half_h : (row + 1) * half_h, column * half_w : (column + 1) * half_w] = pixels[
            ::2, ::2
        ]
        sheet[row * half_h, :] = 180  # a thin line between the rows
    figure = SheetFigure(figsize=(sheet.shape[1] / 100, sheet.shape[0] / 100), dpi=100)
    FigureCanvasAgg(figure)
    figure.figimage(sheet, origin="upper")
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Draw the animations for review: contact sheets (every fifth frame) or the MP4s."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.rendering.animations", description=main.__doc__
    )
    parser.add_argument(
        "--contact-sheet", type=Path, help="OUT.png: writes OUT-<key>.png for each animation"
    )
    parser.add_argument("--out", type=Path, help="folder to write <key>.mp4 into")
    parser.add_argument("keys", nargs="*", help="only these animations (a3-left-en...)")
    args = parser.parse_args(argv)
    if args.contact_sheet is None and args.out is None:
        parser.error("give --contact-sheet OUT.png or --out DIR")
    keys = args.keys or list(all_animation_keys())
    for key in keys:
        if args.contact_sheet is not None:
            out = args.contact_sheet
            path = out.with_name(f"{out.stem}-{key}{out.suffix or '.png'}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(contact_sheet(key))
            print(path)
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            mp4 = render_animation(key)
            (args.out / f"{key}.mp4").write_bytes(mp4)
            print(f"{args.out / key}.mp4 ({len(mp4) // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
