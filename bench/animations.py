"""Benchmark of the exercise animations: drawing and encoding all of them in a process pool.

Run from the repository root::

    .venv/bin/python bench/animations.py [--workers 2]

Draws every animation (each exercise, each side of a one-leg one, each language) from scratch
in a ``ProcessPoolExecutor`` with ``--workers`` workers (forkserver, as the bot's render
workers), the way the bot warms its media folder, and prints the wall time for all of them,
then each file's size, length and distinct drawn frames. Target: all within 60 s with two
workers, each at most 1 MB.

Figures, not a timed test: they depend on the machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.rendering.motion import (  # noqa: E402
    all_animation_keys,
    duration,
    frames,
    parse_animation_key,
)


def _draw(key: str) -> tuple[str, int, float]:
    from bot.rendering.animations import render_animation

    started = time.perf_counter()
    size = len(render_animation(key))
    return key, size, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    keys = all_animation_keys()
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        list(pool.map(len, [()] * args.workers))  # the workers started, before the clock
        started = time.perf_counter()
        # The longest first, so that the workers finish together.
        order = sorted(keys, key=lambda k: -len(frames(*parse_animation_key(k)[:2])))
        results = list(pool.map(_draw, order))
        wall = time.perf_counter() - started
    print(f"{len(keys)} animations drawn and encoded with {args.workers} workers: {wall:.1f} s")
    print(f"{'key':<14} {'size':>8} {'length':>7} {'frames':>7} {'drawing':>8}")
    for key, size, seconds in sorted(results):
        exercise_id, side, _ = parse_animation_key(key)
        drawn = len({repr((f.pose, f.inset)) for f in frames(exercise_id, side)})
        print(
            f"{key:<14} {size / 1024:>6.0f} KB {duration(exercise_id):>6.1f}s"
            f" {drawn:>7} {seconds:>7.1f}s"
        )
    largest = max(size for _, size, _ in results)
    print(f"largest: {largest / 1024:.0f} KB (limit 1024 KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
