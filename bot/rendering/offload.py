"""Drawing that runs in a worker process (a chart takes about 0.1 s of CPU, a PDF about 0.15 s),
so the event loop keeps serving everyone meanwhile. Arguments and results are plain, picklable
values; each worker loads the texts of a language once."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
from collections.abc import Callable
from typing import Any, TypeVar

from bot.domain.progress import Progress
from bot.rendering.charts import has_enough_for_chart, render_chart
from bot.rendering.i18n import texts_for
from bot.rendering.report import render_report, report_filename

T = TypeVar("T")


def chart_png(progress: Progress) -> bytes:
    return render_chart(progress, texts_for(progress.language).content)


def report_pdf(progress: Progress) -> tuple[str, bytes]:
    content = texts_for(progress.language).content
    chart = render_chart(progress, content) if has_enough_for_chart(progress) else None
    return report_filename(progress), render_report(progress, content, chart)


class Renderer:
    """A small process pool, started on first use (most runs never draw)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    async def __call__(self, function: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            # forkserver: the workers do not inherit the bot's threads, sockets or event loop.
            context = multiprocessing.get_context("forkserver")
            self._pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, function, *args)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
