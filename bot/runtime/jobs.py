"""The repeating jobs (no job per person): the morning dispatcher, the inbox sweeper and
pruner; and the operators' gauges, read when /metrics is scraped."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Job

from bot.context import BotApplication, BotContext, Services
from bot.logs import describe_error
from bot.metrics import Metrics
from bot.runtime.pipeline import SWEEP_EVERY, Pipeline
from bot.usecases.morning import dispatch_once
from db import dispatch as q
from db import inbox

log = logging.getLogger(__name__)

JOB_NAME: Final = "dispatcher"
PRUNE_EVERY: Final = 3600.0


@dataclass
class JobState:
    """What the jobs share with the runtime (and /healthz): the pipeline, the stop signal and
    when the dispatcher last finished a pass."""

    pipeline: Pipeline
    stopping: asyncio.Event
    last_pass: float | None = None
    jobs: list[Job[Any]] = field(default_factory=list)
    running: asyncio.Task[Any] | None = None  # the dispatcher pass in progress, if any


def schedule_jobs(app: BotApplication, pipeline: Pipeline, stopping: asyncio.Event) -> JobState:
    """Register the repeating jobs; the dispatcher runs in every process (claims are shared)."""
    if app.job_queue is None:
        raise RuntimeError("the job queue is missing: install python-telegram-bot[job-queue]")
    settings = app.bot_data.services.settings
    interval = settings.dispatch_interval_seconds
    state = JobState(pipeline, stopping)
    queue = app.job_queue
    state.jobs = [
        queue.run_repeating(
            dispatch_job,
            interval=interval,
            first=min(interval, 1.0),
            name=JOB_NAME,
            data=state,
            # A pass that outlasts the interval (a big morning under Telegram's limits) is not
            # overlapped by another in this process; the next run starts when it is done.
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        ),
        queue.run_repeating(prune_job, interval=PRUNE_EVERY, first=PRUNE_EVERY, name="inbox-prune"),
    ]
    if pipeline.shared:
        state.jobs.append(
            queue.run_repeating(
                sweep_job,
                interval=SWEEP_EVERY,
                first=SWEEP_EVERY,
                name="inbox-sweep",
                data=state,
                job_kwargs={"max_instances": 1, "coalesce": True},
            )
        )
    return state


async def dispatch_job(context: BotContext) -> None:
    services = context.services
    state = _state(context)
    if state.stopping.is_set():
        return
    state.running = asyncio.current_task()
    try:
        await dispatch_once(
            services,
            services.clock(),
            owner=state.pipeline.owner,
            stopping=state.stopping,
        )
    except (SQLAlchemyError, TelegramError, OSError):
        # The next pass tries again; rows claimed by this one are released when the lease ends.
        log.exception("Dispatch pass failed; the next pass tries again")
    finally:
        state.running = None
        state.last_pass = time.monotonic()


def _state(context: BotContext) -> JobState:
    assert context.job is not None
    assert isinstance(context.job.data, JobState)
    return context.job.data


async def sweep_job(context: BotContext) -> None:
    try:
        await _state(context).pipeline.sweep()
    except SQLAlchemyError:
        log.warning("Inbox sweep failed; trying again", exc_info=True)


async def prune_job(context: BotContext) -> None:
    services = context.services
    before = services.clock() - timedelta(hours=services.settings.inbox_retention_hours)
    async with services.sessions() as db:
        removed = await inbox.prune(db, before)
        await db.commit()
    if removed:
        log.info("Pruned %d handled updates from the inbox", removed)


async def refresh_gauges(services: Services, last_pass: float | None) -> None:
    """Set the gauges from the database just before /metrics is served: a scrape sees the
    current counts, and no process queries for them when nobody scrapes."""
    metrics = services.metrics
    if metrics is None:
        return
    async with services.sessions() as db:
        waiting, lag = await inbox.lag(db, services.clock())
        people = await q.people_by_status(db)
    metrics.inbox_waiting.set(waiting)
    metrics.inbox_lag.set(lag)
    for status in set(people) | _seen_statuses(metrics):
        metrics.people.labels(status).set(people.get(status, 0))
    if last_pass is not None:
        metrics.dispatch_pass_age.set(time.monotonic() - last_pass)


def _seen_statuses(metrics: Metrics) -> set[str]:
    # A status nobody has any more must read 0, not keep its last count.
    return {s.labels["status"] for m in metrics.people.collect() for s in m.samples}


async def on_error(update: object, context: BotContext) -> None:
    """PTB's error handler: a job that failed (updates never pass through PTB's handlers; the
    pipeline retries and quarantines them). Logged without personal data."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    log.error(
        "Unhandled error outside an update (update %s): %s",
        update_id,
        describe_error(error) if error else "unknown",
        exc_info=error,
    )
