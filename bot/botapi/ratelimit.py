"""Throttling and retry policy for outgoing Bot API requests (Telegram flood limits)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dtm
import heapq
import itertools
import logging
import math
import random
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final, TypeAlias

import aiohttp
import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.botapi.transport import NotSent

__all__ = ["Clock", "Priority", "RateLimitStats", "RateLimiter", "Sleep"]

_LOG = logging.getLogger(__name__)

Sleep: TypeAlias = Callable[[float], Awaitable[None]]
Clock: TypeAlias = Callable[[], float]
_Result: TypeAlias = bool | dict[str, Any] | list[dict[str, Any]]
_ChatKey: TypeAlias = int | str

# Added to Telegram's retry_after: the server rounds it to whole seconds, and arriving a hair
# early just earns another 429.
RETRY_AFTER_MARGIN: Final = 0.1
# Exponential backoff for 5xx/transport errors: 0.5, 1, 2, 4, 8 s (+ up to 25 % jitter so a
# burst of failed sends does not come back as a synchronised burst).
BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 8.0
BACKOFF_JITTER: Final = 0.25
# Telegram's documented guidance: 20 messages per minute in one group.
GROUP_PER_MINUTE: Final = 20.0
# Telegram's limit for messages sent with allow_paid_broadcast=True.
PAID_PER_SECOND: Final = 1000.0
# asyncio may fire a timer up to its clock resolution early; a deadline this close counts as
# reached instead of sleeping again for nanoseconds.
_EPSILON: Final = 1e-6

# Transport errors (as the cause of PTB's NetworkError/TimedOut) raised before a byte of the
# request left: resending cannot duplicate. Our own transport raises NotSent instead.
_NEVER_LEFT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)


class Priority(IntEnum):
    """Whose request it is, passed as ``rate_limit_args``; a lower value is served first."""

    INTERACTIVE = 0  # a reply to a person who is waiting for it (the default)
    # The rest of a reply after its first message: everyone waiting gets a first answer
    # before anyone gets a second one (each chat still receives its messages in order).
    FOLLOW_UP = 1
    BROADCAST = 2  # scheduled messages: the morning dispatcher, nudges, weekly messages


@dataclass(slots=True)
class RateLimitStats:
    """Counters since start for operators; ``RateLimiter.stats`` hands out a copy."""

    throttled: int = 0  # requests that slept for a limit or a 429 hold before being sent
    retry_after: int = 0  # 429 answers received
    retries: int = 0  # attempts after the first, for any reason
    resent_unknown_outcome: int = 0  # posting requests resent although they may have arrived
    resent_not_sent: int = 0  # posting requests resent that provably never left
    gave_up: int = 0  # requests that raised a retryable error (out of retries, or 429 too long)


def _retry_after_seconds(exc: RetryAfter) -> float:
    # RetryAfter.retry_after is int or timedelta depending on PTB_TIMEDELTA and warns when it
    # is an int; read it quietly and accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def _never_left(exc: NetworkError) -> bool:
    return isinstance(exc, NotSent) or isinstance(exc.__cause__, _NEVER_LEFT)


def _chat_key(endpoint: str, data: dict[str, Any]) -> _ChatKey | None:
    """The chat a request posts into, or None when the request is not throttled."""
    chat_id = data.get("chat_id")
    # Reads such as getChat/getChatMember carry a chat_id but post nothing into the chat.
    # Method names are case-insensitive to Telegram ("SendMessage" is sendMessage).
    if chat_id is None or endpoint[:3].lower() == "get":
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        # "123" and 123 are the same chat.
        return int(text)
    except ValueError:
        return text  # "@channelusername"


def _message_cost(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages a request posts: an album (sendMediaGroup) one per picture."""
    if endpoint.lower() == "sendmediagroup":
        media = data.get("media")
        if isinstance(media, list | tuple) and media:
            return len(media)
    return 1


def _is_group(key: _ChatKey) -> bool:
    # Negative ids are groups, supergroups and channels; @usernames only exist for the latter.
    return isinstance(key, str) or key < 0


@dataclass(slots=True, eq=False)
class _Chat:
    """Per-chat state: FIFO order, the chat's own bucket and, for groups, its recent sends."""

    # GCRA form of a token bucket: the time at which the chat's bucket is full again.
    full_at: float = -math.inf
    recent: deque[float] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _ChatTable:
    """LRU table of per-chat state that forgets chats once their limits have fully reset.

    Each checkout adds at most one entry and examines at most two at the cold end, so the cost
    per request is O(1) and the table shrinks back after a broadcast. An entry that is in use is
    never dropped (that would let a second sender into the chat); an idle entry is dropped once
    its limits have reset, or earlier if the table exceeds ``max_size``.
    """

    def __init__(self, max_size: int, clock: Clock, reset_at: Callable[[_Chat], float]) -> None:
        self.max_size = max_size
        self._clock = clock
        self._reset_at = reset_at
        self._entries: OrderedDict[_ChatKey, _Chat] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def checkout(self, key: _ChatKey, factory: Callable[[], _Chat]) -> _Chat:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = factory()
        else:
            self._entries.move_to_end(key)
        entry.users += 1
        self._prune()
        return entry

    def checkin(self, entry: _Chat) -> None:
        entry.users -= 1

    def clear(self) -> None:
        self._entries.clear()

    def _prune(self) -> None:
        now = self._clock()
        for _ in range(2):
            if not self._entries:
                return
            key, entry = next(iter(self._entries.items()))
            over = len(self._entries) > self.max_size
            reset = self._reset_at(entry) <= now
            if entry.users == 0 and (over or reset):
                if not reset:
                    _LOG.debug("per-chat table full; forgetting a chat before its limit reset")
                del self._entries[key]
            elif over:
                # Busy entry at the cold end: rotate it so the next check sees an idle one.
                self._entries.move_to_end(key)
            else:
                return


@dataclass(order=True, slots=True)
class _Waiter:
    priority: int
    seq: int
    wake: asyncio.Event = field(compare=False, default_factory=asyncio.Event)
    gone: bool = field(compare=False, default=False)


class _Gate:
    """A shared bucket: one send per ``1/per_second`` seconds, each slot to the best waiter.

    Waiters are served by (priority, arrival). The head of the queue sleeps until the slot opens
    and every sleeper looks again when it wakes, so a reply that arrives while a broadcast waits
    for the slot takes that slot. A waiter takes its slot in the same step in which it returns
    to send, so a cancelled waiter never holds one; it only leaves a mark that the queue skips.
    """

    def __init__(
        self, per_second: float, not_before: Callable[[], float], clock: Clock, sleep: Sleep
    ) -> None:
        self._interval = 1.0 / per_second
        self._not_before = not_before  # the 429 hold: no slot opens before this clock value
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf
        self._queue: list[_Waiter] = []

    def reset(self) -> None:
        self._next = -math.inf

    async def acquire(self, priority: int, seq: int) -> bool:
        """Wait for a slot and take it; True if that took any waiting."""
        me = _Waiter(priority, seq)
        heapq.heappush(self._queue, me)
        waited = False
        try:
            while True:
                if self._head() is not me:
                    waited = True
                    me.wake.clear()
                    await me.wake.wait()
                    continue
                now = self._clock()
                delay = max(self._next, self._not_before()) - now
                if delay <= _EPSILON:
                    heapq.heappop(self._queue)
                    # Even spacing (no saved-up burst): the next slot is one interval after this.
                    self._next = max(self._next, now) + self._interval
                    self._wake_head()
                    return waited
                waited = True
                await self._sleep(delay)
        except BaseException:
            me.gone = True
            self._wake_head()  # if this was the head, the next waiter must start its own wait
            raise

    def _head(self) -> _Waiter | None:
        while self._queue and self._queue[0].gone:
            heapq.heappop(self._queue)
        return self._queue[0] if self._queue else None

    def _wake_head(self) -> None:
        if (head := self._head()) is not None:
            head.wake.set()


class RateLimiter(BaseRateLimiter[Priority]):
    """Telegram flood-limit throttle with retries, for ``ExtBot(rate_limiter=...)``.

    Posting requests (they carry ``chat_id`` and are not a ``get*`` read) are throttled; all
    others (answerCallbackQuery, getMe, setMyCommands, ...) bypass every limit and every 429
    hold, so a button answer never waits behind messages. For posting requests:

    * Priority (``rate_limit_args``, default ``Priority.INTERACTIVE``): in the overall bucket a
      waiting request always gets the next slot before any waiting one of a later priority
      (INTERACTIVE, then FOLLOW_UP, then BROADCAST), so first answers go before the rest of
      earlier replies, and broadcasts use only the capacity replies leave; FIFO within one.
    * Per chat, in arrival order: a burst of ``per_chat_burst`` may go at once, then
      ``per_chat_per_second``; groups and channels also at most ``group_per_minute`` in any
      minute. A chat waiting on its own limit holds only its own lock, never other chats.
    * Overall: ``overall_per_second`` evenly spaced for all posting requests together;
      ``allow_paid_broadcast`` requests use Telegram's paid bucket (1000/s) instead.
    * 429: flood control is per bot, so every posting request is held until ``retry_after`` +
      0.1 s (``paused_until``), however long; afterwards the queue drains in priority order at
      the normal rate, and the request that got the 429 is retried. A 429 longer than
      ``max_retry_after`` is raised instead (and holds nobody). A 429 on a non-posting request
      only delays that request.
    * 5xx and transport errors: retried after 0.5 s doubling to 8 s, with jitter. The rule is
      "at least once": a posting request whose outcome is unknown (read timeout, connection
      reset) is resent too, accepting a possible duplicate over a possible miss.
    * ``max_retries`` retries in total per request (429s and errors alike), then the last
      error is raised. ``BadRequest``, ``Forbidden``, ``ChatMigrated`` and all other errors are
      raised at once.

    With ``enabled=False`` nothing is throttled or held; each request only retries (a 429
    then delays just that request). ``stats`` counts waits, 429s, retries and give-ups.
    ``sleep`` and ``clock`` (monotonic seconds) are injectable for tests and must agree.
    """

    def __init__(
        self,
        overall_per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        max_retries: int = 5,
        enabled: bool = True,
        *,
        per_chat_burst: int = 3,
        group_per_minute: float = GROUP_PER_MINUTE,
        max_retry_after: float = 3600.0,
        max_tracked_chats: int = 10_000,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if overall_per_second <= 0 or per_chat_per_second <= 0 or group_per_minute <= 0:
            raise ValueError("rates must be positive")
        if per_chat_burst < 1:
            raise ValueError("per_chat_burst must be >= 1")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if max_tracked_chats < 1:
            raise ValueError("max_tracked_chats must be >= 1")
        self.enabled = enabled
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self._chat_interval = 1.0 / per_chat_per_second
        # GCRA: a chat may be this far ahead of its steady rate, i.e. per_chat_burst at once.
        self._chat_slack = (per_chat_burst - 1) * self._chat_interval
        # At most group_size sends in any group_window: group_per_minute on average and never
        # more than that in any 60 s (20/min gives 20 per 60 s; 0.5/min gives 1 per 120 s).
        self._group_size = max(1, math.floor(group_per_minute))
        self._group_window = 60.0 * self._group_size / group_per_minute
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        # Posting requests do not start before this clock value (set by a 429).
        self._hold_until = -math.inf
        self._overall = _Gate(overall_per_second, self._held_until, clock, sleep)
        self._paid = _Gate(PAID_PER_SECOND, self._held_until, clock, sleep)
        self._chats = _ChatTable(max_tracked_chats, clock, self._chat_reset_at)
        self._arrivals = itertools.count()
        self._stats = RateLimitStats()

    @property
    def tracked_chats(self) -> int:
        """How many chats currently have per-chat state (bounded; for tests and metrics)."""
        return len(self._chats)

    @property
    def paused_until(self) -> float:
        """Clock value until which posting requests are held back after a 429."""
        return self._hold_until

    @property
    def stats(self) -> RateLimitStats:
        """A snapshot of the counters (a copy: changing it changes nothing here)."""
        return dataclasses.replace(self._stats)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget per-chat state, the buckets' timing and any 429 hold (counters stay)."""
        self._chats.clear()
        self._overall.reset()
        self._paid.reset()
        self._hold_until = -math.inf

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> _Result:
        """Send one request under the limits, retrying per the class policy."""
        # PTB drops a falsy rate_limit_args, so Priority.INTERACTIVE (0) arrives as None.
        priority = Priority.INTERACTIVE if rate_limit_args is None else Priority(rate_limit_args)
        seq = next(self._arrivals)
        key = _chat_key(endpoint, data)

        async def attempt() -> _Result:
            return await callback(*args, **kwargs)

        if key is None or not self.enabled:
            return await self._with_retries(attempt, endpoint, posts=key is not None)

        paid = bool(data.get("allow_paid_broadcast"))
        cost = _message_cost(endpoint, data)
        entry = self._chats.checkout(key, lambda: self._new_chat(key))
        try:
            # The chat stays locked across waits and retries so its messages keep their order.
            async with entry.lock:

                async def slot() -> bool:
                    return await self._wait_for_slot(entry, priority, seq, paid=paid, cost=cost)

                return await self._with_retries(attempt, endpoint, posts=True, slot=slot)
        finally:
            self._chats.checkin(entry)

    def _held_until(self) -> float:
        return self._hold_until

    def _new_chat(self, key: _ChatKey) -> _Chat:
        if _is_group(key):
            return _Chat(recent=deque(maxlen=self._group_size))
        return _Chat()

    def _chat_ready_at(self, chat: _Chat) -> float:
        ready = chat.full_at - self._chat_slack
        if chat.recent is not None and len(chat.recent) == self._group_size:
            ready = max(ready, chat.recent[0] + self._group_window)
        return ready

    def _chat_reset_at(self, chat: _Chat) -> float:
        if chat.recent:
            return max(chat.full_at, chat.recent[-1] + self._group_window)
        return chat.full_at

    async def _wait_for_slot(
        self, chat: _Chat, priority: int, seq: int, *, paid: bool, cost: int = 1
    ) -> bool:
        """Wait until the chat's limits, the overall bucket and any hold allow a send of
        ``cost`` messages (an album counts each of its pictures).

        Returns True if that took any waiting. The chat's limits are charged at the moment of
        the send, so time spent queued overall cannot shrink the gap between two sends.
        """
        waited = False
        while (delay := self._chat_ready_at(chat) - self._clock()) > _EPSILON:
            waited = True
            await self._sleep(delay)
        gate = self._paid if paid else self._overall
        for _ in range(cost):
            waited |= await gate.acquire(priority, seq)
        now = self._clock()
        chat.full_at = max(chat.full_at, now) + self._chat_interval * cost
        if chat.recent is not None:
            chat.recent.extend([now] * cost)
        return waited

    def _hold(self, endpoint: str, wait: float) -> None:
        """Hold every posting request for ``wait`` seconds (flood control is per bot)."""
        now = self._clock()
        if now >= self._hold_until:
            _LOG.warning("429 on %s: holding all sends for %.1fs", endpoint, wait)
        elif now + wait > self._hold_until:
            _LOG.info("429 on %s during a hold: extending it to %.1fs", endpoint, wait)
        self._hold_until = max(self._hold_until, now + wait)

    def _give_up(self, endpoint: str, exc: Exception, retries: int) -> None:
        self._stats.gave_up += 1
        # The error's class and message only: the request's parameters hold people's texts.
        _LOG.warning(
            "%s: giving up after %d retries: %s: %s", endpoint, retries, type(exc).__name__, exc
        )

    async def _with_retries(
        self,
        attempt: Callable[[], Awaitable[_Result]],
        endpoint: str,
        *,
        posts: bool,
        slot: Callable[[], Awaitable[bool]] | None = None,
    ) -> _Result:
        """Run ``attempt`` (after ``slot``, if throttled) until it succeeds or may not retry."""
        retries = 0
        network_failures = 0
        throttled = False
        while True:
            if slot is not None and await slot() and not throttled:
                throttled = True
                self._stats.throttled += 1
            try:
                return await attempt()
            except RetryAfter as exc:
                self._stats.retry_after += 1
                wait = _retry_after_seconds(exc) + RETRY_AFTER_MARGIN
                too_long = wait > self.max_retry_after + RETRY_AFTER_MARGIN
                if slot is not None and not too_long:
                    # Holds the others even if this request gives up below; its own next
                    # slot() waits the hold out with them.
                    self._hold(endpoint, wait)
                if retries >= self.max_retries or too_long:
                    self._give_up(endpoint, exc, retries)
                    raise
                if slot is None:
                    _LOG.info("%s: 429, retrying in %.1fs", endpoint, wait)
                    await self._sleep(wait)
            except BadRequest:
                raise  # a NetworkError subclass, but Telegram's definite "no"
            except NetworkError as exc:
                if retries >= self.max_retries:
                    self._give_up(endpoint, exc, retries)
                    raise
                if posts and _never_left(exc):
                    self._stats.resent_not_sent += 1
                elif posts:
                    # At least once: a possible duplicate is better than a possible miss.
                    self._stats.resent_unknown_outcome += 1
                delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**network_failures)
                delay *= 1 + BACKOFF_JITTER * self._jitter()
                network_failures += 1
                _LOG.info("%s: %s: %s, retrying in %.2fs", endpoint, type(exc).__name__, exc, delay)
                await self._sleep(delay)
            retries += 1
            self._stats.retries += 1
