"""Throttling and retry policy for outgoing Bot API requests (Telegram flood limits)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import math
import random
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

import aiohttp
import httpx
from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

__all__ = ["Clock", "RateLimiter", "Sleep"]

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


def _bucket(per_second: float) -> AsyncLimiter:
    # AsyncLimiter refuses to grant one request if max_rate < 1, so slow rates become
    # "1 per 1/rate seconds" instead of "rate per second".
    if per_second >= 1:
        return AsyncLimiter(max_rate=per_second, time_period=1.0)
    return AsyncLimiter(max_rate=1, time_period=1.0 / per_second)


def _retry_after_seconds(exc: RetryAfter) -> float:
    # RetryAfter.retry_after is int or timedelta depending on PTB_TIMEDELTA and warns when it
    # is an int; read it quietly and accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def _request_never_left(exc: TimedOut) -> bool:
    # A pool or connect timeout happens before a byte of the request reaches Telegram, so even a
    # non-idempotent send is safe to repeat. Read/write timeouts may have been delivered.
    return isinstance(
        exc.__cause__, httpx.PoolTimeout | httpx.ConnectTimeout | aiohttp.ConnectionTimeoutError
    )


def _chat_key(endpoint: str, data: dict[str, Any]) -> _ChatKey | None:
    """The chat a request posts into, or None when the request is not throttled."""
    chat_id = data.get("chat_id")
    # Reads such as getChat/getChatMember carry a chat_id but post nothing into the chat.
    if chat_id is None or endpoint.startswith("get"):
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        # "123" and 123 are the same chat.
        return int(text)
    except ValueError:
        return text  # "@channelusername"


def _is_group(key: _ChatKey) -> bool:
    # Negative ids are groups, supergroups and channels; @usernames only exist for the latter.
    return isinstance(key, str) or key < 0


@dataclass(slots=True, eq=False)
class _Chat:
    """Per-chat state: FIFO order plus the time of the last send into the chat."""

    ttl: float
    group: AsyncLimiter | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_sent: float = -math.inf
    users: int = 0


class _ChatTable:
    """LRU table of per-chat state that forgets chats once their limits have fully reset.

    Each checkout adds at most one entry and examines at most two at the cold end, so the cost
    per request is O(1) and the table shrinks back after a broadcast. An entry that is in use is
    never dropped (that would let a second sender into the chat); an idle entry is dropped once
    its limits have reset, or earlier if the table exceeds ``max_size``.
    """

    def __init__(self, max_size: int, clock: Clock) -> None:
        self.max_size = max_size
        self._clock = clock
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
            if entry.users == 0 and (over or now - entry.last_sent >= entry.ttl):
                if over and now - entry.last_sent < entry.ttl:
                    _LOG.debug("per-chat table full; forgetting a chat before its limit reset")
                del self._entries[key]
            elif over:
                # Busy entry at the cold end: rotate it so the next check sees an idle one.
                self._entries.move_to_end(key)
            else:
                return


class RateLimiter(BaseRateLimiter[int]):
    """Telegram flood-limit throttle with retries, for ``ExtBot(rate_limiter=...)``.

    Throttled requests are those that post into a chat: they carry ``chat_id`` and are not a
    ``get*`` read. Everything else (getMe, answerCallbackQuery, setMyCommands, ...) bypasses the
    throttle and the 429 hold, so a broadcast never delays a button answer. Throttled requests:

    * go one at a time per chat, in arrival order, at least ``1/per_chat_per_second`` apart
      (measured between actual sends), and groups/channels also at most 20 per minute;
    * share the ``overall_per_second`` bucket (``allow_paid_broadcast`` sends use Telegram's
      1000/s paid bucket instead);
    * are all held back while any request is waiting out a 429, because flood control is per
      bot.

    Retry policy (``max_retries`` retries in total per request; ``rate_limit_args`` overrides
    it per call):

    * ``RetryAfter`` (429): wait ``retry_after`` + 0.1 s and retry; if Telegram asks for more than
      ``max_retry_after`` seconds, raise at once rather than stall the bot.
    * ``NetworkError`` (5xx such as Bad Gateway, connection failures): exponential backoff with
      jitter, 0.5 s doubling up to 8 s.
    * ``TimedOut``: the request may have reached Telegram and sends are not idempotent, so a
      throttled (posting) request is retried only if it provably never left (pool/connect
      timeout); other requests are retried like any network error.
    * ``BadRequest``, ``Forbidden``, ``InvalidToken``, ``ChatMigrated`` and everything else:
      raised at once.

    With ``enabled=False`` nothing is throttled or held back; each request only retries.
    ``sleep`` and ``clock`` (monotonic seconds) are injectable for tests and must agree with each
    other; the overall/group buckets run on the event loop's own clock via aiolimiter.
    """

    def __init__(
        self,
        overall_per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        max_retries: int = 5,
        enabled: bool = True,
        *,
        group_per_minute: float = GROUP_PER_MINUTE,
        max_retry_after: float = 60.0,
        max_tracked_chats: int = 10_000,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if overall_per_second <= 0 or per_chat_per_second <= 0 or group_per_minute <= 0:
            raise ValueError("rates must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if max_tracked_chats < 1:
            raise ValueError("max_tracked_chats must be >= 1")
        self.enabled = enabled
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self._chat_interval = 1.0 / per_chat_per_second
        self._group_per_minute = group_per_minute
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._overall = _bucket(overall_per_second)
        self._paid = _bucket(PAID_PER_SECOND)
        self._chats = _ChatTable(max_tracked_chats, clock)
        # Throttled requests do not start before this clock value (set by a 429).
        self._resume_at = -math.inf

    @property
    def tracked_chats(self) -> int:
        """How many chats currently have per-chat state (bounded; for tests and metrics)."""
        return len(self._chats)

    @property
    def paused_until(self) -> float:
        """Clock value until which throttled requests are held back after a 429."""
        return self._resume_at

    async def initialize(self) -> None:
        """Nothing to set up; buckets bind to the running loop on first use."""

    async def shutdown(self) -> None:
        """Forget per-chat state and any 429 hold."""
        self._chats.clear()
        self._resume_at = -math.inf

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> _Result:
        """Send one request under the limits, retrying per the class policy.

        ``rate_limit_args``, if given, is the number of retries for this call.
        """
        max_retries = self.max_retries if rate_limit_args is None else rate_limit_args
        key = _chat_key(endpoint, data)

        async def attempt() -> _Result:
            return await callback(*args, **kwargs)

        if key is None or not self.enabled:
            return await self._with_retries(attempt, endpoint, max_retries, posts=key is not None)

        paid = bool(data.get("allow_paid_broadcast"))
        entry = self._chats.checkout(key, lambda: self._new_chat(key))
        try:
            # The chat stays locked across retries so its messages keep their order.
            async with entry.lock:

                async def throttled() -> _Result:
                    await self._throttle(entry, paid)
                    entry.last_sent = self._clock()
                    return await callback(*args, **kwargs)

                return await self._with_retries(throttled, endpoint, max_retries, posts=True)
        finally:
            self._chats.checkin(entry)

    def _new_chat(self, key: _ChatKey) -> _Chat:
        if _is_group(key):
            minute = 60.0
            group = (
                AsyncLimiter(self._group_per_minute, minute)
                if self._group_per_minute >= 1
                else AsyncLimiter(1, minute / self._group_per_minute)
            )
            return _Chat(ttl=max(self._chat_interval, group.time_period), group=group)
        return _Chat(ttl=self._chat_interval, group=None)

    async def _throttle(self, entry: _Chat, paid: bool) -> None:
        # Spacing is measured from the previous actual send, so time spent queued in the overall
        # bucket cannot shrink the gap between two messages to one chat.
        await self._sleep_until(entry.last_sent + self._chat_interval)
        if entry.group is not None:
            await entry.group.acquire()
        bucket = self._paid if paid else self._overall
        while True:
            await self._sleep_until(self._resume_at)
            await bucket.acquire()
            # A 429 elsewhere while we queued: wait it out and take a fresh token, or everything
            # that queued during the hold would fire at once when it ends.
            if self._clock() >= self._resume_at:
                return

    async def _sleep_until(self, deadline: float) -> None:
        while (remaining := deadline - self._clock()) > 0:
            await self._sleep(remaining)

    async def _with_retries(
        self,
        attempt: Callable[[], Awaitable[_Result]],
        endpoint: str,
        max_retries: int,
        *,
        posts: bool,
    ) -> _Result:
        retries = 0
        network_failures = 0
        while True:
            try:
                return await attempt()
            except RetryAfter as exc:
                wait = _retry_after_seconds(exc) + RETRY_AFTER_MARGIN
                if retries >= max_retries or wait > self.max_retry_after + RETRY_AFTER_MARGIN:
                    _LOG.warning(
                        "%s: 429, giving up after %d retries (wait %.1fs)", endpoint, retries, wait
                    )
                    raise
                _LOG.info("%s: 429, retrying in %.1fs", endpoint, wait)
                if self.enabled:
                    # Flood control is per bot: hold back every throttled request too.
                    self._resume_at = max(self._resume_at, self._clock() + wait)
                await self._sleep(wait)
            except NetworkError as exc:
                if retries >= max_retries or not self._network_retryable(exc, posts=posts):
                    raise
                delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**network_failures)
                delay *= 1 + BACKOFF_JITTER * self._jitter()
                network_failures += 1
                _LOG.info("%s: %s, retrying in %.2fs", endpoint, exc, delay)
                await self._sleep(delay)
            retries += 1

    @staticmethod
    def _network_retryable(exc: NetworkError, *, posts: bool) -> bool:
        if isinstance(exc, BadRequest):
            return False
        if isinstance(exc, TimedOut):
            return not posts or _request_never_left(exc)
        return True
