"""Drawing that runs in a worker process (a chart takes about 0.1 s of CPU, a PDF about 0.15 s,
an exercise picture about 0.1 s, an exercise animation a few seconds, then read from disk), so
the event loop keeps serving everyone meanwhile.
Arguments and results are plain, picklable values; each worker loads the texts of a language
once.

The drawing stack (matplotlib, fpdf, Pillow, NumPy) is imported inside the worker functions
only: the bot's main process imports this module to name them, and never loads it (start-up
time and memory; tests/test_startup.py checks it). The workers start on first use, and exit
when the bot's process is gone, even killed with SIGKILL (``_exit_with_parent``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.domain.progress import Progress
from bot.rendering.i18n import texts_for
from bot.rendering.media_folder import kept, media_path
from bot.rendering.motion import is_animation_key
from bot.rendering.progress_texts import has_enough_for_chart, report_filename

T = TypeVar("T")


def chart_png(progress: Progress) -> bytes:
    """The /progress chart (in a worker)."""
    from bot.rendering.charts import render_chart  # the worker imports the drawing stack

    return render_chart(progress, texts_for(progress.language).content)


def report_pdf(progress: Progress) -> tuple[str, bytes]:
    """The /report PDF and its file name (in a worker)."""
    from bot.rendering.charts import render_chart  # the worker imports the drawing stack
    from bot.rendering.report import render_report

    content = texts_for(progress.language).content
    chart = render_chart(progress, content) if has_enough_for_chart(progress) else None
    return report_filename(progress), render_report(progress, content, chart)


def picture_png(key: str) -> bytes:
    """An exercise picture's PNG by key, ``e3s2-left`` (in a worker; KeyError if none)."""
    from bot.rendering.pictures import render_key

    return render_key(key)


def media_file(key: str, folder: Path | None = None) -> bytes:
    """A picture's PNG (``e3s2-left``) or an animation's MP4 (``a3-left-en``), in a worker:
    read from ``folder`` when it was drawn before, else drawn and kept there."""
    if is_animation_key(key):
        from bot.rendering.animations import animation_mp4

        return animation_mp4(key, folder)
    if folder is None:
        return picture_png(key)
    return kept(media_path(key, folder), key, picture_png)


def _exit_with_parent() -> None:
    """A worker's initializer: a thread waits for the process that started the pool to end,
    then ends the worker. Without it a worker outlives a bot killed with SIGKILL (its task
    queue's pipe never closes), with the bot's stderr and the database files still open.

    ``parent_process().sentinel`` is the end of a pipe that only the bot holds open (the
    forkserver's workers included), so it becomes readable the moment the bot is gone, however
    it ended; the forkserver itself exits then too (Python's own ``alive`` pipe)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="parent-gone", daemon=True).start()


def _end_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns once the parent's sentinel reads as closed
    os._exit(1)  # no clean-up: the bot that would take the result is gone


class Renderer:
    """A small process pool, started on first use (most runs never draw)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    async def __call__(self, function: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            # forkserver: the workers do not inherit the bot's threads, sockets or event loop.
            context = multiprocessing.get_context("forkserver")
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_exit_with_parent
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, function, *args)

    @property
    def started(self) -> bool:
        """Whether the worker processes were started (on a first drawing)."""
        return self._pool is not None

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
