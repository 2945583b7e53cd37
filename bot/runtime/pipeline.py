"""The update pipeline: lose no update, apply each once, serve everyone at once.

1. **A durable inbox.** Every update is stored (``db.inbox``) before Telegram learns that it
   arrived: long polling asks for the next batch (which confirms the previous one) only after
   the batch is committed, and the webhook answers 200 only after storing. After a crash, every
   stored update that was not done is handled at start.
2. **Applied once.** The conversation marks an update applied, with its response, in the very
   transaction of its effects; a redelivered or replayed update is not applied again, and one
   whose effects are in but whose replies were not all delivered gets its stored response.
3. **Per person, in order; across people, at once.** Each person's updates are handled strictly
   in order by one task at a time; different people are handled concurrently (bounded). A reply
   waiting on its chat's rate limit therefore never delays anyone else. With several processes
   on PostgreSQL, a short lease per person (``inbox_leases``) makes one process at a time
   handle a person's updates, in update_id order.
4. **Poison updates are quarantined**: one that cannot be parsed, or whose handling keeps
   failing after a few tries with backoff, is marked failed (its error class is logged, never
   its text), the person is told "something went wrong, nothing was lost", and the rest go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.context import BotApplication, Services
from bot.handlers.updates import ALLOWED_UPDATES, address, handle, read
from bot.logs import describe_error
from bot.rendering.i18n import texts_for
from bot.rendering.replies import ChatGone, Reply, Response
from bot.runtime.batching import Grouped
from bot.runtime.respond import respond_to
from db import inbox
from db.engine import autocommit, one_connection
from db.inbox import Item
from db.models import InboxState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BACKOFF = (0.2, 1.0)  # seconds before the 2nd and 3rd tries
LEASE = timedelta(seconds=60)  # a person's updates belong to one process at a time
SWEEP_EVERY = 1.0  # seconds: pick up updates another process received, or a dead one left


class _Slot:
    """A place among the updates processed at once (``concurrency``), given back as soon as
    the response is ready: a reply waiting on Telegram (a chat's limit, a 429) holds no place,
    so it keeps no one else's update from being processed."""

    def __init__(self, places: asyncio.Semaphore) -> None:
        self._places = places
        self._held = False

    async def take(self) -> None:
        if not self._held:
            await self._places.acquire()
            self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._places.release()


@dataclass(frozen=True)
class _Ask:
    """What a person's task asks of a claim: whether the lease must be taken (again), and
    which of their update ids it has queued already."""

    lease: bool
    known: frozenset[int]


# A claim's answer: the person's open update ids, and the payloads read for the group.
_Claimed = tuple[list[int], dict[int, Item]]


class Pipeline:
    """Stores incoming updates and handles each person's updates in order."""

    def __init__(
        self,
        app: BotApplication,
        services: Services,
        *,
        concurrency: int,
        shared: bool,
        owner: str,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self.services = services
        self.shared = shared  # several processes on one PostgreSQL: take per-person leases
        self.owner = owner
        self._sleep = sleep
        self._slots = asyncio.Semaphore(concurrency)
        # Bookkeeping statements, each run for a group of people at once.
        self._done: Grouped[int, None, None] = Grouped(self._mark_done)
        self._sent: Grouped[int, int, None] = Grouped(self._record_delivered)
        # Its own connection: a record must not wait in the pool behind the updates being
        # applied, since a crash in that wait sends the reply again.
        self._recorder = one_connection(services.engine)
        self._claims: Grouped[int, _Ask, _Claimed | None] = Grouped(self._claim_group)
        self._releases: Grouped[int, None, bool] = Grouped(self._release_group)
        self._leased: dict[int, datetime] = {}  # person -> when this process last took the lease
        self._queues: dict[int, deque[Item]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopping = False
        # Called with each update id once it is handled (done, failed or dropped): for tests.
        self.on_handled: Callable[[int], None] | None = None
        self.received = 0
        self.processed = 0
        self.failed = 0

    # --- In ------------------------------------------------------------------------------------

    async def accept(self, raw_updates: list[Any]) -> None:
        """Store a batch (one transaction) and queue what is new; the caller confirms the
        batch to Telegram only after this returns."""
        items = []
        for raw in raw_updates:
            if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
                log.warning("Dropped an update without an update_id")
                continue
            sender = address(raw)
            if sender is None:
                # Not for this bot's features: dropped early and cheaply.
                self._handled(int(raw["update_id"]))
                continue
            items.append(Item(int(raw["update_id"]), sender.person_key, raw))
        if not items:
            return
        async with self.services.sessions() as db:
            new = await inbox.accept(db, items, self.services.clock())
            await db.commit()
        self.received += len(new)
        metrics = self.services.metrics
        if metrics is not None:
            metrics.updates_received.inc(len(new))
        for item in items:
            if item.update_id in new:
                self._enqueue(item)

    async def recover(self) -> int:
        """At start: queue every stored update that is not done yet."""
        async with self.services.sessions() as db:
            if not self.shared:
                # One process (SQLite): any lease left is this process's own, from before.
                await inbox.drop_leases(db, self.owner)
            else:
                # A process on this machine that died (kill -9, a crash) left leases that would
                # keep its people waiting for LEASE: take them back now.
                for owner in await inbox.lease_owners(db):
                    if _stopped_here(owner, self.owner):
                        log.info("Taking back the updates of a stopped process")
                        await inbox.drop_leases(db, owner)
            items = await inbox.open_items(db, limit=100_000)
            await db.commit()
        for item in items:
            self._enqueue(item)
        if items:
            log.info("Handling %d updates stored before the restart", len(items))
        return len(items)

    async def sweep(self) -> None:
        """Pick up people whose updates nobody is handling (another process received them,
        or a process died holding their lease)."""
        if not self.shared or self._stopping:
            return
        async with self.services.sessions() as db:
            people = await inbox.open_people(db, self.services.clock(), self.owner)
        for key in people:
            if key not in self._tasks:
                self._queues.setdefault(key, deque())
                self._start(key)

    def _handled(self, update_id: int) -> None:
        if self.on_handled is not None:
            self.on_handled(update_id)

    def _enqueue(self, item: Item) -> None:
        queue = self._queues.setdefault(item.person_key, deque())
        if any(queued.update_id == item.update_id for queued in queue):
            return
        queue.append(item)
        if item.person_key not in self._tasks:
            self._start(item.person_key)

    def _start(self, key: int) -> None:
        if self._stopping:
            return
        task = asyncio.get_running_loop().create_task(self._drain(key), name=f"person-{key}")
        self._tasks[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._tasks.get(key) is done:  # (a newer task may hold the key by now)
                del self._tasks[key]

        task.add_done_callback(forget)

    @property
    def busy(self) -> int:
        """People whose updates are being handled or wait (for tests and metrics)."""
        return len(self._tasks)

    async def idle(self) -> None:
        """Wait until every queued update has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self, grace: float) -> None:
        """Stop taking work; let the updates in hand finish for up to ``grace`` seconds. What
        is left stays stored and is handled at the next start."""
        self._stopping = True
        tasks = list(self._tasks.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._done.idle()
        await self._releases.idle()
        if self._recorder is not self.services.engine:
            await self._recorder.dispose()
        if self.shared:
            async with self.services.sessions() as db:
                await inbox.drop_leases(db, self.owner)
                await db.commit()

    # --- One person at a time ------------------------------------------------------------------

    async def _drain(self, key: int) -> None:
        queue = self._queues.setdefault(key, deque())
        try:
            while not self._stopping:
                if self.shared and not await self._claim(key, queue):
                    return  # another process handles this person; it reads the database
                if not queue:
                    if self.shared and (await self._release(key) or queue):
                        continue  # one arrived while releasing: take the person back
                    return
                item = queue.popleft()
                slot = _Slot(self._slots)
                try:
                    await self._handle(item, slot)
                except Exception:
                    # The database failed under the pipeline's own bookkeeping (marking done or
                    # failed): the update stays stored as it was and is picked up again at the
                    # next start (or by the sweeper); this person's next updates go on.
                    log.exception("Update %d: could not record how it ended", item.update_id)
                finally:
                    slot.give_back()
                self._handled(item.update_id)
        finally:
            if not queue:
                self._queues.pop(key, None)
            self._leased.pop(key, None)
            # Unregister now, in the step that saw the queue empty: an update queued from here
            # on must start a new task (a done callback would run too late, and it would be
            # left waiting for a task that is gone).
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]

    async def _claim(self, key: int, queue: deque[Item]) -> bool:
        """Hold this person's lease (taken again when it gets old), then merge their stored open
        updates into ``queue`` in update_id order: the database is the truth across processes.
        False if another live process holds the person."""
        now = self.services.clock()
        taken_at = self._leased.get(key)
        fresh = taken_at is not None and taken_at <= now < taken_at + LEASE / 3
        before = {i.update_id for i in queue}
        claimed = await self._claims.call(key, _Ask(lease=not fresh, known=frozenset(before)))
        if claimed is None:
            return False
        stored, loaded = claimed
        if not fresh:
            self._leased[key] = now
        known = {i.update_id: i for i in queue}
        merged = {k: known.get(k) or loaded.get(k) for k in stored}
        # An update queued while the query ran was committed just before: the query may not
        # have seen it, and dropping it here would leave it unhandled.
        merged.update({k: i for k, i in known.items() if k not in before})
        queue.clear()
        queue.extend(i for k, i in sorted(merged.items()) if i is not None)
        return True

    async def _release(self, key: int) -> bool:
        """Give the person's lease back; True if an update of theirs is still open (it arrived
        at another process while this one held them, or while releasing)."""
        self._leased.pop(key, None)
        return await self._releases.call(key, None)

    # --- The bookkeeping of many people at once (each a batching.Grouped) ----------------------

    async def _claim_group(self, asks: dict[int, _Ask]) -> dict[int, _Claimed | None]:
        """Take the leases that are due, then read the open update ids of everyone held, and
        the payloads of those not queued here yet: three statements for the whole group."""
        now = self.services.clock()
        async with autocommit(self.services.engine) as db:
            due = [key for key, ask in asks.items() if ask.lease]
            taken = await inbox.take_leases(db, due, self.owner, now + LEASE, now)
            held = [key for key, ask in asks.items() if not ask.lease or key in taken]
            stored = await inbox.open_ids(db, held) if held else {}
            unknown = [i for k in held for i in stored.get(k, ()) if i not in asks[k].known]
            loaded = {i.update_id: i for i in await inbox.items(db, unknown)} if unknown else {}
        return {key: (stored.get(key, []), loaded) if key in held else None for key in asks}

    async def _release_group(self, keys: dict[int, None]) -> dict[int, bool]:
        async with autocommit(self.services.engine) as db:
            # Given back first, then checked: an update stored meanwhile by a process that
            # found the person taken is seen here (or that process takes the person itself).
            await inbox.drop_lease(db, list(keys), self.owner)
            still_open = await inbox.open_ids(db, list(keys))
        return {key: key in still_open for key in keys}

    async def _mark_done(self, update_ids: dict[int, None]) -> dict[int, None]:
        """Record handled updates done (tried again with backoff if the database fails)."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with self._recorder.begin() as db:
                    await inbox.mark_done(db, list(update_ids), self.services.clock())
                return update_ids
            except Exception:
                if attempt + 1 == MAX_ATTEMPTS:
                    raise
                await self._sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
        return update_ids  # (not reached: the last failure raised)

    async def _record_delivered(self, counts: dict[int, int]) -> dict[int, None]:
        """Record how many replies of each update went out, as each goes out: a crash repeats
        at most the reply between its sending and this commit."""
        async with self._recorder.begin() as db:
            await inbox.record_delivered(db, counts)
        return dict.fromkeys(counts)

    async def _delivered(self, item: Item, last: bool) -> None:
        """A reply went out: its update is marked done after the last one (before the message
        ids it tracks are stored, so a restart does not send it again), or its count recorded."""
        if last:
            await self._done.call(item.update_id, None)
            item.state = InboxState.DONE
        else:
            await self._sent.call(item.update_id, item.delivered)

    async def _handle(self, item: Item, slot: _Slot) -> None:
        started = time.monotonic()
        while True:
            error: BaseException | None = None
            await slot.take()
            try:
                if item.state is InboxState.APPLIED:
                    slot.give_back()
                    await self._redeliver(item)
                else:
                    await self._process(item, slot)
            except Exception as exc:
                error = exc
            if isinstance(error, _Poison):
                await self._quarantine(item, error.cause)
                return
            if error is None:
                if item.state is not InboxState.DONE:  # (no reply, or a chat that is gone)
                    await self._done.call(item.update_id, None)
                self.processed += 1
                metrics = self.services.metrics
                if metrics is not None:
                    metrics.updates_processed.inc()
                    metrics.update_seconds.observe(time.monotonic() - started)
                return
            item.attempts += 1
            log.warning(
                "Update %d failed (%s), try %d of %d",
                item.update_id,
                describe_error(error),
                item.attempts,
                MAX_ATTEMPTS,
                exc_info=None if isinstance(error, ChatGone | TelegramError) else error,
            )
            if item.attempts >= MAX_ATTEMPTS or self._stopping:
                if item.attempts >= MAX_ATTEMPTS:
                    await self._quarantine(item, error)
                return
            await self._sleep(BACKOFF[min(item.attempts, len(BACKOFF)) - 1])
            async with self.services.sessions() as db:
                stored = await inbox.load(db, item.update_id)
                if stored is not None:
                    await inbox.mark_attempt(db, item.update_id, type(error).__name__)
                    await db.commit()
            if stored is None or stored.state in (InboxState.DONE, InboxState.FAILED):
                return
            item.state, item.response = stored.state, stored.response

    async def _process(self, item: Item, slot: _Slot) -> None:
        """Route the update once (bot.handlers.updates) and deliver what it answers."""
        try:
            update = read(item.payload)
        except Exception as exc:
            raise _Poison(exc) from exc
        answer = await handle(self.services, update, self.app.bot.username)
        slot.give_back()  # the response is ready: waiting on Telegram holds no processing place
        if answer is not None:
            await respond_to(
                self.services,
                self.app,
                item,
                answer.response,
                answer.route,
                record=self._delivered,
            )

    async def _redeliver(self, item: Item) -> None:
        """Deliver the stored response of an update whose effects are already committed."""
        data = item.response or {}
        route = data.get("route") or {}
        chat_id = route.get("chat_id")
        if isinstance(chat_id, int):
            response = Response.from_json(data)
            await respond_to(self.services, self.app, item, response, route, record=self._delivered)

    async def _quarantine(self, item: Item, error: BaseException) -> None:
        """Give up on an update: stored as failed; the person is told, kindly, where possible."""
        self.failed += 1
        metrics = self.services.metrics
        if metrics is not None:
            metrics.updates_failed.inc()
        log.error(
            "Update %d quarantined after %d tries (%s)",
            item.update_id,
            item.attempts,
            describe_error(error),
        )
        async with self.services.sessions() as db:
            await inbox.mark_failed(db, item.update_id, type(error).__name__, self.services.clock())
            await db.commit()
        sender = address(item.payload)
        chat_id = sender.chat_id if sender is not None else None
        query_id = sender.query_id if sender is not None else None
        # Only a private chat is told; a press is answered wherever it came from.
        private = chat_id is not None and chat_id > 0
        sorry = Response([Reply(texts_for(None).t("errors.unexpected"))] if private else [])
        route = {"chat_id": chat_id or 0, "query_id": query_id, "private": private}
        item.delivered = 0  # the apology is a response of its own
        try:
            await respond_to(self.services, self.app, item, sorry, route)
        except TelegramError as exc:
            log.info(
                "Could not tell the person about update %d (%s)", item.update_id, type(exc).__name__
            )


def _stopped_here(owner: str, me: str) -> bool:
    """Whether a lease owner ("host:pid", bot.app.process_name) is a process on this machine
    that no longer runs. Unsure (another host, a truncated name, a pid in use) means no."""
    host, _, pid = owner.rpartition(":")
    if owner == me or host != me.rpartition(":")[0] or not pid.isdigit() or len(owner) >= 64:
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False  # it exists (another user's), or it is no pid at all
    return False


class _Poison(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


class Poller:
    """Long polling into the inbox: the next getUpdates (which confirms the previous batch to
    Telegram) is asked for only after the batch is stored."""

    def __init__(self, app: BotApplication, pipeline: Pipeline, *, timeout: int = 10) -> None:
        self.app = app
        self.pipeline = pipeline
        self.timeout = timeout
        self._offset: int | None = None
        self.last_poll: float | None = None

    async def run(self, stopping: asyncio.Event) -> None:
        failures = 0
        while not stopping.is_set():
            poll = asyncio.ensure_future(
                self.app.bot.do_api_request(
                    "GetUpdates",  # the raw JSON, so an update PTB cannot parse stops no one
                    api_kwargs={
                        "offset": self._offset,
                        "timeout": self.timeout,
                        "allowed_updates": list(ALLOWED_UPDATES),
                    },
                    read_timeout=self.timeout + 5,
                )
            )
            try:
                finished = await _first(poll, stopping)
            except asyncio.CancelledError:
                poll.cancel()
                raise
            if not finished:
                # A stop does not wait out the long poll. Whatever it would have brought is not
                # confirmed, so Telegram hands it out again at the next start.
                poll.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await poll
                break
            try:
                batch = poll.result()
                failures = 0
            except InvalidToken:
                raise
            except (NetworkError, Conflict, RetryAfter) as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning(
                    "getUpdates failed (%s); trying again in %.1f s", type(exc).__name__, delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=delay)
                continue
            self.last_poll = time.monotonic()
            if not isinstance(batch, list) or not batch:
                continue
            await self.pipeline.accept(batch)
            ids = [
                u["update_id"]
                for u in batch
                if isinstance(u, dict) and isinstance(u.get("update_id"), int)
            ]
            if ids:
                # Never backwards: a redelivered update may come after newer ones.
                self._offset = max(self._offset or 0, max(ids) + 1)
        if self._offset is not None:
            # Confirm the last stored batch, so a clean restart does not fetch it again.
            with contextlib.suppress(TelegramError):
                await self.app.bot.do_api_request(
                    "GetUpdates", api_kwargs={"offset": self._offset, "timeout": 0, "limit": 1}
                )


async def _first(task: asyncio.Future[Any], stopping: asyncio.Event) -> bool:
    """Wait for ``task`` or a stop, whichever comes first; True if the task finished."""
    if task.done():
        return True
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    return task.done()
