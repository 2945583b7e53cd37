"""Telegram's flood limits and retries for outgoing Bot API requests, on aiolimiter."""

import asyncio
import dataclasses
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from enum import IntEnum
from functools import partial
from typing import Any, Final, TypeAlias

import httpx
from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter, ExtBot

from bot.telegram.transport import NotSent

_LOG = logging.getLogger(__name__)
_Result: TypeAlias = bool | dict[str, Any] | list[dict[str, Any]]
_Send: TypeAlias = Callable[[], Awaitable[_Result]]
_Slot: TypeAlias = Callable[[], Awaitable[bool]] | None  # waits for the limits: True if it had to
RETRY_AFTER_MARGIN: Final = 0.1  # added to a 429's retry_after, which Telegram rounds
# aiolimiter serves the smallest amount waiting first: 1 + priority * _STEP puts replies first.
_STEP: Final = 1e-6
_GROUP: Final = (1, 60 / FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP)  # 20 a minute, no burst
# PTB's httpx transport: raised before a byte left (ours raises NotSent), so not a duplicate.
_NEVER_LEFT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Priority(IntEnum):  # whose request it is, as ``rate_limit_args``: the lowest goes first
    INTERACTIVE = 0  # a reply to a person who is waiting for it (the default)
    FOLLOW_UP = 1  # a reply's later messages: every first answer goes before them
    BROADCAST = 2  # scheduled messages: the morning, nudges, the weekly look back


TelegramBot = ExtBot[Priority]  # our Bot: its per-call rate_limit_args is a Priority


@dataclasses.dataclass(slots=True)
class RateLimitStats:
    throttled: int = 0  # requests that waited for a limit or a 429 hold
    retry_after: int = 0  # 429 answers received
    retries: int = 0  # attempts after the first, for any reason
    resent_unknown_outcome: int = 0  # posting requests resent although they may have arrived
    resent_not_sent: int = 0  # posting requests resent that provably never left
    gave_up: int = 0  # retryable errors raised (out of retries, or a 429 too long)


@dataclasses.dataclass(eq=False)
class _Chat:
    bucket: AsyncLimiter
    owed: int = 0  # the part of an album the bucket could not hold, paid at the next send
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)  # the chat's order
    users: int = 0


class RateLimiter(BaseRateLimiter[Priority]):
    """Posting requests (a ``chat_id``, not a ``get*`` read) wait for their chat in order, for
    the overall bucket by Priority and for any 429 hold. 5xx and network errors are retried, at
    least once (an unknown outcome too); other errors, and a 429 over max_retry_after, raise."""

    def __init__(
        self,
        overall_per_second: float = FloodLimit.MESSAGES_PER_SECOND,
        per_chat_per_second: float = FloodLimit.MESSAGES_PER_SECOND_PER_CHAT,
        max_retries: int = 5,
        enabled: bool = True,  # False: nothing waits, requests only retry
        *,
        per_chat_burst: int = 3,
        max_retry_after: float = 3600.0,
        max_tracked_chats: int = 10_000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,  # before a retry
        jitter: Callable[[], float] = random.random,
    ) -> None:
        burst, positive = per_chat_burst, (overall_per_second, per_chat_per_second)
        if min(*positive, burst, max_tracked_chats) <= 0 or max_retries < 0:
            raise ValueError("rates, the burst and max_tracked_chats must be > 0, max_retries >= 0")
        self.enabled, self.max_retries, self.max_retry_after = enabled, max_retries, max_retry_after
        self._rate, self._private = overall_per_second, (burst, burst / per_chat_per_second)
        self._max_chats, self._sleep, self._jitter = max_tracked_chats, sleep, jitter
        self._stats, self._resume = RateLimitStats(), asyncio.Event()  # set: not held
        self._reset()

    def _reset(self) -> None:
        size = 1 + _STEP * max(Priority)  # one message at a time, plus the priority steps
        self._overall = AsyncLimiter(size, size / self._rate)
        self._paid = AsyncLimiter(size, size / FloodLimit.PAID_MESSAGES_PER_SECOND)
        self._chats: dict[int | str, _Chat] = {}  # least recently used first
        self.paused_until = -1.0  # event-loop time until which posting requests are held
        self._resume.set()  # wakes anyone held

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)

    @property
    def stats(self) -> RateLimitStats:
        return dataclasses.replace(self._stats)  # a copy

    async def initialize(self) -> None: ...

    async def shutdown(self) -> None:
        self._reset()  # forget the chats, the buckets and any hold; the counters stay

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> _Result:
        priority = Priority(rate_limit_args or 0)  # PTB passes INTERACTIVE (0, falsy) as None
        send = partial(callback, *args, **kwargs)
        chat_id = None if endpoint[:3].lower() == "get" else data.get("chat_id")  # a read
        if chat_id is None or not self.enabled:
            return await self._retrying(send, endpoint, chat_id is not None, None)
        chat = self._checkout(int(chat_id) if str(chat_id).lstrip("-").isdigit() else str(chat_id))
        media = data.get("media") if endpoint.lower() == "sendmediagroup" else None
        cost = len(media) if isinstance(media, list | tuple) and media else 1
        gate = self._paid if data.get("allow_paid_broadcast") else self._overall
        try:
            async with chat.lock:  # held across waits and retries
                slot = partial(self._slot, chat, priority, cost, gate)
                return await self._retrying(send, endpoint, True, slot)
        finally:
            chat.users -= 1

    def _checkout(self, key: int | str) -> _Chat:
        if (chat := self._chats.pop(key, None)) is None:
            group = isinstance(key, str) or key < 0  # "@channel", groups, supergroups
            chat = _Chat(AsyncLimiter(*(_GROUP if group else self._private)))
        self._chats[key] = chat
        chat.users += 1
        for cold_key in list(itertools.islice(self._chats, 2)):  # the two least recent chats
            cold = self._chats.pop(cold_key)
            idle = not cold.owed and cold.bucket.has_capacity(cold.bucket.max_rate)
            if cold.users or not (idle or len(self._chats) >= self._max_chats):
                self._chats[cold_key] = cold  # kept (in use, not idle, or under the cap)
        return chat

    async def _slot(self, chat: _Chat, priority: Priority, cost: int, gate: AsyncLimiter) -> bool:
        now, amount = min(cost, int(chat.bucket.max_rate)), 1 + _STEP * priority
        free = chat.bucket.has_capacity(chat.owed + now) and gate.has_capacity(cost * amount)
        waits = not (free and self._resume.is_set())  # buckets give what they have at once
        for part in [1] * chat.owed + [now]:
            await chat.bucket.acquire(part)
        chat.owed = cost - now
        while True:  # a request whose slot came during a 429 waits the hold out, and again
            while not (resume := self._resume).is_set():
                await resume.wait()
            for _ in range(cost):
                await gate.acquire(amount)
            if self._resume.is_set():
                return waits

    def _hold(self, endpoint: str, wait: float) -> None:
        """Hold every posting request for ``wait`` seconds (flood control is per bot)."""
        loop = asyncio.get_running_loop()
        if (until := loop.time() + wait) > self.paused_until:
            log = _LOG.info if self.paused_until > loop.time() else _LOG.warning  # once a hold
            log("429 on %s: holding all sends for %.1fs", endpoint, wait)
            self.paused_until, self._resume = until, asyncio.Event()  # a later 429 extends it
            loop.call_at(until, self._resume.set)  # the held queue for the overall bucket

    async def _retrying(self, send: _Send, endpoint: str, posts: bool, slot: _Slot) -> _Result:
        stats, throttled, retries = self._stats, False, 0
        while True:
            if slot is not None and await slot() and not throttled:
                throttled, stats.throttled = True, stats.throttled + 1
            try:
                return await send()
            except BadRequest:
                raise  # a NetworkError, but Telegram's definite "no"
            except (RetryAfter, NetworkError) as error:
                if isinstance(error, RetryAfter):
                    stats.retry_after += 1
                    delay = error._retry_after.total_seconds() + RETRY_AFTER_MARGIN
                    final = delay > self.max_retry_after + RETRY_AFTER_MARGIN
                    if slot is not None and not final:
                        self._hold(endpoint, delay)  # even if this request gives up below
                        delay = 0.0  # its next slot waits for the hold
                else:
                    final, delay = False, min(8.0, 0.5 * 2**retries) * (1 + 0.25 * self._jitter())
                    gone = isinstance(error, NotSent) or isinstance(error.__cause__, _NEVER_LEFT)
                if final or retries >= self.max_retries:
                    stats.gave_up += 1  # the error's class and message only, never the texts
                    _LOG.warning("%s: gave up after %d retries: %r", endpoint, retries, error)
                    raise
                if posts and isinstance(error, NetworkError):  # at least once: sent again
                    stats.resent_not_sent += gone
                    stats.resent_unknown_outcome += not gone
                if delay:
                    _LOG.info("%s: %r, retrying in %.2fs", endpoint, error, delay)
                    await self._sleep(delay)
            retries, stats.retries = retries + 1, stats.retries + 1
