"""Benchmark of the progress views: one chart, one PDF, and 10,000 charts in a process pool.

Run from the repository root::

    .venv/bin/python bench/progress.py [--repeat 40] [--charts 10000] [--workers 2]

With a representative 6-week history (tests/rendering/test_charts.py ``sample_progress``) it
prints, for ``render_chart`` and ``render_report``, the median and 90th percentile wall time of
``--repeat`` runs after a warm-up, and the peak memory one call adds: the rise of the process's
resident high-water mark (VmHWM, reset before each call through /proc/self/clear_refs), which
counts matplotlib's and Pillow's C buffers that tracemalloc cannot see; tracemalloc's peak of
Python allocations is printed too. Then it renders ``--charts`` charts in a
``ProcessPoolExecutor`` with ``--workers`` workers, the way the bot keeps drawing off its event
loop, and prints charts per second, the mean wall time per chart and the workers' peak RSS.

Figures, not a timed test: they depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import Content, load_content  # noqa: E402
from bot.domain.progress import Progress  # noqa: E402
from bot.rendering.charts import render_chart  # noqa: E402
from bot.rendering.report import render_report  # noqa: E402
from tests.rendering.test_charts import sample_progress  # noqa: E402

WEEKS = 6


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _mb(kb: int | None) -> float:
    return (kb or 0) / 1024


def _measure(name: str, call: Callable[[], bytes], repeat: int) -> None:
    _reset_peak()
    before = _status_kb("VmRSS")
    size = len(call())  # the first call also loads fonts and fills caches
    first = _mb(_status_kb("VmHWM")) - _mb(before)
    call()
    settled = _status_kb("VmRSS")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    growth = _mb(_status_kb("VmRSS")) - _mb(settled)
    rises = []
    for _ in range(5):
        if not _reset_peak():
            break
        base = _status_kb("VmRSS")
        call()
        rises.append(_mb(_status_kb("VmHWM")) - _mb(base))
    tracemalloc.start()
    call()
    _current, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    rise = f"{statistics.median(rises):.1f}" if rises else "n/a"
    print(
        f"{name:<5} median {statistics.median(times):6.1f} ms, p90 {p90:6.1f} ms ({repeat} runs);"
        f" {size / 1024:.0f} KiB\n"
        f"      memory: first call +{first:.1f} MB peak RSS; then +{rise} MB peak RSS per call,"
        f" {traced / 1e6:.1f} MB Python peak (tracemalloc), RSS {growth:+.1f} MB over the"
        f" {repeat} runs"
    )


# --- The process pool ----------------------------------------------------------------------------

_WORKER: tuple[Progress, Content] | None = None


def _start_worker() -> None:
    global _WORKER
    _WORKER = (sample_progress(WEEKS), load_content())


def _draw(_index: int) -> tuple[int, int]:
    """One chart in a worker; returns its size and the worker's peak RSS (kB)."""
    assert _WORKER is not None
    png = render_chart(*_WORKER)
    return len(png), _status_kb("VmHWM") or 0


def _pool(charts: int, workers: int) -> None:
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker) as pool:
        list(pool.map(_draw, range(workers * 2)))  # start and warm every worker
        start = time.perf_counter()
        results = list(pool.map(_draw, range(charts), chunksize=8))
        elapsed = time.perf_counter() - start
    total = sum(size for size, _ in results)
    peak = max(rss for _, rss in results) / 1024
    print(
        f"pool    {charts} charts, {workers} workers: {elapsed:.1f} s, "
        f"{charts / elapsed:.1f} charts/s, {elapsed / charts * 1000 * workers:.1f} ms per chart "
        f"per worker, {total / charts / 1024:.0f} KiB per PNG, worker peak RSS {peak:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=40, help="timed runs per measure")
    parser.add_argument("--charts", type=int, default=10_000, help="charts for the pool")
    parser.add_argument("--workers", type=int, default=2, help="pool workers")
    args = parser.parse_args()

    progress = sample_progress(WEEKS)
    content = load_content()
    print(
        f"history: {WEEKS} weeks, {len(progress.check_ins)} check-ins after the baseline, "
        f"{len(progress.marks)} exercise marks, {len(progress.safety)} safety marks; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
        f"python {sys.version.split()[0]}; RSS after imports {_mb(_status_kb('VmRSS')):.0f} MB"
    )
    chart = render_chart(progress, content)
    _measure("chart", lambda: render_chart(progress, content), args.repeat)
    _measure("pdf", lambda: render_report(progress, content, chart), args.repeat)
    _measure(
        "both",
        lambda: render_report(progress, content, render_chart(progress, content)),
        max(5, args.repeat // 4),
    )
    if args.charts:
        _pool(args.charts, args.workers)
    print(f"load average at the end {os.getloadavg()[0]:.2f} (other work on the machine counts)")


if __name__ == "__main__":
    main()
