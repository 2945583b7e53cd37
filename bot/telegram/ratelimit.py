"""Throttling and retry policy for outgoing Bot API requests (Telegram flood limits), on
aiolimiter's leaky buckets (python-telegram-bot's ``[rate-limiter]`` extra)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dtm
import logging
import math
import random
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final, TypeAlias

import aiohttp
import httpx
from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.transport import NotSent

__all__ = ["Priority", "RateLimitStats", "RateLimiter", "Sleep"]

_LOG = logging.getLogger(__name__)

Sleep: TypeAlias = Callable[[float], Awaitable[None]]
_Result: TypeAlias = bool | dict[str, Any] | list[dict[str, Any]]

# Added to Telegram's retry_after: the server rounds it to whole seconds.
RETRY_AFTER_MARGIN: Final = 0.1
# Backoff for 5xx/transport errors: 0.5, 1, 2, 4, 8 s, + up to 25 % jitter.
BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 8.0
BACKOFF_JITTER: Final = 0.25
GROUP_PER_MINUTE: Final = 20.0  # Telegram's guidance for one group
PAID_PER_SECOND: Final = 1000.0  # Telegram's limit with allow_paid_broadcast=True
# aiolimiter has no priorities, but it serves its waiters smallest amount first, then in
# arrival order (and a new arrival takes free capacity at once; 1.1-1.2, as PTB's extra pins
# it, and the priority tests check it). So a request takes 1 + priority * _STEP of the
# overall bucket: a waiting reply always goes before a waiting broadcast, whoever came first,
# at the cost of a millionth of a message.
_STEP: Final = 1e-6
# Transport errors (as the cause of PTB's NetworkError) raised before a byte of the request
# left: resending cannot duplicate. Our own transport raises NotSent instead.
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


TelegramBot = ExtBot[Priority]  # our Bot: its per-call rate_limit_args is a Priority


@dataclass(slots=True)
class RateLimitStats:
    """Counters since start for operators; ``RateLimiter.stats`` hands out a copy."""

    throttled: int = 0  # requests that waited for a limit or a 429 hold before being sent
    retry_after: int = 0  # 429 answers received
    retries: int = 0  # attempts after the first, for any reason
    resent_unknown_outcome: int = 0  # posting requests resent although they may have arrived
    resent_not_sent: int = 0  # posting requests resent that provably never left
    gave_up: int = 0  # requests that raised a retryable error (out of retries, or 429 too long)


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # an int retry_after warns; accept it and a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _chat_key(endpoint: str, data: dict[str, Any]) -> int | str | None:
    """The chat a request posts into (``"123"`` is 123), or None: not throttled. Reads such as
    getChat carry a chat_id but post nothing; Telegram ignores the case of method names."""
    chat_id = data.get("chat_id")
    if chat_id is None or endpoint[:3].lower() == "get":
        return None
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # "@channelusername"


def _cost(endpoint: str, data: dict[str, Any]) -> int:
    """Messages a request posts: an album (sendMediaGroup) one per picture."""
    media = data.get("media") if endpoint.lower() == "sendmediagroup" else None
    return len(media) if isinstance(media, list | tuple) and media else 1


async def _take(bucket: AsyncLimiter, amount: float = 1.0) -> bool:
    """Take ``amount`` from ``bucket``; True if that took waiting."""
    busy = not bucket.has_capacity(amount)
    await bucket.acquire(amount)
    return busy


@dataclass(slots=True, eq=False)
class _Chat:
    buckets: tuple[AsyncLimiter, ...]  # its burst bucket, and for groups 20 a minute
    # The part of an album a bucket could not hold at once (aiolimiter refuses more than its
    # size): paid at the chat's next send, so the album's pictures all count.
    owed: list[int]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # the chat's FIFO order
    users: int = 0

    def idle(self) -> bool:
        full = all(b.has_capacity(b.max_rate) for b in self.buckets)
        return self.users == 0 and full and not any(self.owed)


class RateLimiter(BaseRateLimiter[Priority]):
    """Telegram flood-limit throttle with retries, for ``ExtBot(rate_limiter=...)``.

    Posting requests (they carry ``chat_id`` and are not a ``get*`` read) are throttled; all
    others (answerCallbackQuery, getMe, ...) bypass every limit and hold. Posting requests:

    * per chat, in arrival order: ``per_chat_burst`` at once, then ``per_chat_per_second``;
      groups and channels also one per ``60 / group_per_minute`` s. A chat waiting on its own
      limit holds only its own lock. An album counts as its number of pictures.
    * overall ``overall_per_second``, evenly spaced, each slot to the best waiter by priority
      (``rate_limit_args``: INTERACTIVE, then FOLLOW_UP, then BROADCAST; FIFO within one);
      ``allow_paid_broadcast`` requests use Telegram's paid bucket (1000/s) instead.
    * a 429 holds every posting request for ``retry_after`` + 0.1 s (``paused_until``), however
      long; then they resume in priority order and the 429'd request is retried. A 429 longer
      than ``max_retry_after`` is raised and holds nobody. A 429 on another request only
      delays it.
    * 5xx and transport errors: retried after 0.5 s doubling to 8 s, with jitter. At least
      once: a posting request whose outcome is unknown (read timeout, reset) is resent too.
    * ``max_retries`` retries per request (429s and errors alike), then the last error is
      raised; ``BadRequest``, ``Forbidden`` and every other error are raised at once.

    With ``enabled=False`` nothing is throttled or held; requests only retry. The buckets and
    the holds run on the event loop's clock; ``sleep`` waits before each retry.
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
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if min(overall_per_second, per_chat_per_second, group_per_minute) <= 0:
            raise ValueError("rates must be positive")
        if per_chat_burst < 1 or max_tracked_chats < 1 or max_retries < 0:
            raise ValueError("per_chat_burst, max_tracked_chats must be >= 1, max_retries >= 0")
        self.enabled, self.max_retries, self.max_retry_after = enabled, max_retries, max_retry_after
        self._overall_rate, self._burst = overall_per_second, per_chat_burst
        self._chat_rate, self._group_gap = per_chat_per_second, 60.0 / group_per_minute
        self._max_chats, self._sleep, self._jitter = max_tracked_chats, sleep, jitter
        self._stats = RateLimitStats()
        self._resume: list[asyncio.Event] = []  # per priority; set: not held
        self._release: asyncio.TimerHandle | None = None
        self._reset()

    def _reset(self) -> None:
        # One message at a time (no saved-up burst), plus room for the priority steps.
        size = 1 + _STEP * max(Priority)
        self._overall = AsyncLimiter(size, size / self._overall_rate)
        self._paid = AsyncLimiter(size, size / PAID_PER_SECOND)
        self._chats: OrderedDict[int | str, _Chat] = OrderedDict()
        self._hold_until = -math.inf
        if self._release is not None:
            self._release.cancel()
        self._end_hold()  # wakes anyone held; fresh events for whichever loop comes next
        self._resume = [asyncio.Event() for _ in Priority]
        self._end_hold()

    @property
    def tracked_chats(self) -> int:
        """How many chats have per-chat state (bounded; for tests and metrics)."""
        return len(self._chats)

    @property
    def paused_until(self) -> float:
        """Event-loop time until which posting requests are held after a 429."""
        return self._hold_until

    @property
    def stats(self) -> RateLimitStats:
        """A snapshot of the counters (a copy)."""
        return dataclasses.replace(self._stats)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget per-chat state, the buckets and any 429 hold (counters stay)."""
        self._reset()

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
        priority = Priority(rate_limit_args or Priority.INTERACTIVE)
        key = _chat_key(endpoint, data)
        if key is None or not self.enabled:
            return await self._retrying(callback, args, kwargs, endpoint, posts=key is not None)
        chat = self._checkout(key)
        try:
            async with chat.lock:  # held across waits and retries: the chat's order
                cost, paid = _cost(endpoint, data), bool(data.get("allow_paid_broadcast"))

                async def slot() -> bool:
                    return await self._slot(chat, priority, cost, paid)

                return await self._retrying(callback, args, kwargs, endpoint, True, slot)
        finally:
            chat.users -= 1

    def _checkout(self, key: int | str) -> _Chat:
        """The chat's state, LRU; each call forgets at most two idle chats at the cold end (those
        whose limits have reset, or any once over ``max_tracked_chats``): O(1) per request."""
        chat = self._chats.get(key)
        if chat is None:
            group = isinstance(key, str) or key < 0  # groups, supergroups and channels
            buckets = [AsyncLimiter(self._burst, self._burst / self._chat_rate)]
            buckets += [AsyncLimiter(1, self._group_gap)] if group else []
            chat = self._chats[key] = _Chat(tuple(buckets), [0] * len(buckets))
        self._chats.move_to_end(key)
        chat.users += 1
        for _ in range(2):
            cold_key, cold = next(iter(self._chats.items()))
            over = len(self._chats) > self._max_chats
            if cold.users == 0 and (over or cold.idle()):
                del self._chats[cold_key]
            elif over:
                self._chats.move_to_end(cold_key)  # busy: look at the next one
        return chat

    async def _slot(self, chat: _Chat, priority: Priority, cost: int, paid: bool) -> bool:
        """Wait until the chat's limits, any 429 hold and the overall bucket let ``cost``
        messages go; True if that took any waiting."""
        waited = False
        for i, bucket in enumerate(chat.buckets):
            for _ in range(chat.owed[i]):
                waited |= await _take(bucket)
            now = min(cost, int(bucket.max_rate))
            waited |= await _take(bucket, now)
            chat.owed[i] = cost - now
        gate = self._paid if paid else self._overall
        while True:
            if not self._resume[priority].is_set():
                waited = True
                await self._resume[priority].wait()
            for _ in range(cost):
                waited |= await _take(gate, 1 + _STEP * priority)
            if self._resume[priority].is_set():
                return waited
            # A 429 arrived while this request queued: it waits the hold out with the others.

    def _hold(self, endpoint: str, wait: float) -> None:
        """Hold every posting request for ``wait`` seconds (flood control is per bot)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + wait
        if until <= self._hold_until:
            return
        log = _LOG.warning if self._release is None else _LOG.info  # warn once per hold
        log("429 on %s: holding all sends for %.1fs", endpoint, wait)
        self._hold_until = until
        if self._release is not None:
            self._release.cancel()
        for event in self._resume:
            event.clear()
        self._release = loop.call_at(until, self._end_hold)

    def _end_hold(self) -> None:
        self._release = None
        # Replies first: the first request woken takes the free slot; the others queue in
        # the overall bucket in priority order.
        for event in self._resume:
            event.set()

    async def _retrying(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        posts: bool,
        slot: Callable[[], Awaitable[bool]] | None = None,
    ) -> _Result:
        """Call until it succeeds or may not retry (after ``slot``, if throttled)."""
        retries = failures = 0
        throttled = False
        while True:
            if slot is not None and await slot() and not throttled:
                throttled = True
                self._stats.throttled += 1
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._stats.retry_after += 1
                delay = _retry_after_seconds(exc) + RETRY_AFTER_MARGIN
                too_long = delay > self.max_retry_after + RETRY_AFTER_MARGIN
                if slot is not None and not too_long:
                    self._hold(endpoint, delay)  # even if this request gives up below
                if retries >= self.max_retries or too_long:
                    self._give_up(endpoint, exc, retries)
                    raise
                if slot is None:
                    _LOG.info("%s: 429, retrying in %.1fs", endpoint, delay)
                    await self._sleep(delay)
            except BadRequest:
                raise  # a NetworkError subclass, but Telegram's definite "no"
            except NetworkError as exc:
                if retries >= self.max_retries:
                    self._give_up(endpoint, exc, retries)
                    raise
                if posts and (isinstance(exc, NotSent) or isinstance(exc.__cause__, _NEVER_LEFT)):
                    self._stats.resent_not_sent += 1
                elif posts:  # at least once: a possible duplicate beats a possible miss
                    self._stats.resent_unknown_outcome += 1
                delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**failures)
                delay *= 1 + BACKOFF_JITTER * self._jitter()
                failures += 1
                _LOG.info("%s: %s: %s, retrying in %.2fs", endpoint, type(exc).__name__, exc, delay)
                await self._sleep(delay)
            retries += 1
            self._stats.retries += 1

    def _give_up(self, endpoint: str, exc: Exception, retries: int) -> None:
        self._stats.gave_up += 1
        # The error's class and message only: the request's parameters hold people's texts.
        _LOG.warning(
            "%s: gave up after %d retries: %s: %s", endpoint, retries, type(exc).__name__, exc
        )
