"""bot.telegram.ratelimit: priorities, per-chat and overall limits, 429 holds, retries, the
bounded per-chat table. Every test but the last two runs on a virtual clock: no real time
passes."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dtm
import functools
import heapq
import importlib.util
import logging
import selectors
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypeVarTuple

import aiohttp
import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.ratelimit import Priority, RateLimiter
from bot.telegram.transport import ConnectTimedOut, NotSent

Result = bool | dict[str, Any] | list[dict[str, Any]]
OK: dict[str, Any] = {"ok": True}
BROADCAST = Priority.BROADCAST
INTERACTIVE = Priority.INTERACTIVE
FOLLOW_UP = Priority.FOLLOW_UP
_Ts = TypeVarTuple("_Ts")


class VirtualLoop(asyncio.SelectorEventLoop):
    """asyncio's loop on a virtual clock: the limiter and aiolimiter's buckets read
    ``loop.time()``. In ``auto`` mode a loop with nothing to do jumps to its next timer; in
    manual mode time moves only by ``advance()``. Like a real clock, time also creeps on by
    0.1 ns at every pass of the loop (a bucket woken a rounding error too early must see
    time move to see its level fall)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.auto = True
        self.timers: list[float] = []
        super().__init__(_VirtualSelector(self))

    def time(self) -> float:
        return self.now

    def call_at(
        self,
        when: float,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        heapq.heappush(self.timers, when)
        return super().call_at(when, callback, *args, context=context)

    async def advance(self, delay: float) -> None:
        """Move the clock forward, stopping at each timer on the way, in order."""
        target = self.now + delay
        while self.timers and self.timers[0] <= target:
            self.now = max(self.now, heapq.heappop(self.timers))
            await settle()
        self.now = max(self.now, target)
        await settle()


class _VirtualSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualLoop) -> None:
        super().__init__()
        self.loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        self.loop.now += 1e-10
        if not ready and timeout and self.loop.auto:
            self.loop.now += timeout  # idle: the next timer is due now
        return ready


def on_virtual_time(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test on a fresh VirtualLoop (pytest-asyncio would use a real one)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        with asyncio.Runner(loop_factory=VirtualLoop) as runner:
            runner.run(test(*args, **kwargs))

    return run


class FakeTime:
    """The running VirtualLoop's clock, and a ``sleep`` for the limiter that records each
    delay. ``auto``: waits jump the clock; otherwise timers wait for advance()."""

    def __init__(self, *, auto: bool = True) -> None:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualLoop), "decorate the test with @on_virtual_time"
        self.loop = loop
        loop.auto = auto
        self.sleeps: list[float] = []

    @property
    def now(self) -> float:
        return self.loop.now

    @now.setter
    def now(self, value: float) -> None:
        self.loop.now = value

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        await asyncio.sleep(delay)

    async def advance(self, delay: float) -> None:
        await self.loop.advance(delay)


def flood(seconds: int | dtm.timedelta) -> RetryAfter:
    """A 429 error, built without PTB's int-retry_after deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(seconds)


async def settle() -> None:
    """Let every runnable task run until it blocks (no real time passes)."""
    for _ in range(50):
        await asyncio.sleep(0)


class FakeApi:
    """Stands in for ExtBot._do_post: replays scripted outcomes, records each call.

    With ``hold`` set, every call starts (is recorded) and then waits for the event before it
    takes its outcome, so several requests can be in flight at once.
    """

    def __init__(
        self,
        *outcomes: Exception | Result,
        time: FakeTime | None = None,
        hold: asyncio.Event | None = None,
    ) -> None:
        self.outcomes: deque[Exception | Result] = deque(outcomes)
        self.time = time
        self.hold = hold
        self.calls: list[tuple[str, dict[str, Any], float]] = []

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> Result:
        # To the 0.1 ms: the virtual clock creeps on by 0.1 ns at every pass of the loop.
        self.calls.append((endpoint, data, round(self.time.now, 4) if self.time else 0.0))
        if self.hold is not None:
            await self.hold.wait()
        outcome = self.outcomes.popleft() if self.outcomes else OK
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def times(self, chat_id: int | str) -> list[float]:
        return [t for _, data, t in self.calls if data.get("chat_id") == chat_id]

    def texts(self, chat_id: int | str) -> list[str]:
        return [data["text"] for _, data, _ in self.calls if data.get("chat_id") == chat_id]

    def sends(self) -> list[tuple[int | str, float]]:
        """(chat, time) of every posting call, in call order."""
        return [(data["chat_id"], t) for e, data, t in self.calls if e.startswith("send")]


async def call(
    limiter: RateLimiter,
    api: FakeApi,
    endpoint: str = "sendMessage",
    priority: Priority | None = None,
    **data: Any,
) -> Result:
    if endpoint.startswith("send"):
        data = {"chat_id": 1, "text": "hi", **data}
    return await limiter.process_request(
        api, (endpoint, data), {}, endpoint, data, rate_limit_args=priority
    )


def limiter(time: FakeTime, **kwargs: Any) -> RateLimiter:
    kwargs.setdefault("jitter", lambda: 0.0)
    return RateLimiter(sleep=time.sleep, **kwargs)


def spawn(
    rl: RateLimiter, api: FakeApi, chat_id: int | str, priority: Priority | None = None, **kw: Any
) -> asyncio.Task[Result]:
    return asyncio.create_task(call(rl, api, priority=priority, chat_id=chat_id, **kw))


async def cancel(*tasks: asyncio.Task[Result]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# ----------------------------------------------------------------------------- retries


@on_virtual_time
@pytest.mark.parametrize("retry_after", [3, dtm.timedelta(seconds=3)])
async def test_429_waits_retry_after_then_retries_once(retry_after: int | dtm.timedelta) -> None:
    time = FakeTime()
    api = FakeApi(flood(retry_after), {"message_id": 7}, time=time)
    rl = limiter(time)

    assert await call(rl, api) == {"message_id": 7}

    assert len(api.calls) == 2
    assert rl.paused_until == pytest.approx(3.1)
    assert api.calls[1][2] == pytest.approx(3.1)
    stats = rl.stats
    assert (stats.retry_after, stats.retries, stats.throttled, stats.gave_up) == (1, 1, 1, 0)


@on_virtual_time
async def test_5xx_burst_is_retried_with_growing_delays() -> None:
    time = FakeTime()
    api = FakeApi(*(NetworkError("Bad Gateway") for _ in range(3)), OK, time=time)
    # A fast per-chat rate keeps per-chat spacing out of the recorded sleeps.
    rl = limiter(time, per_chat_per_second=1000.0)

    assert await call(rl, api) == OK

    assert len(api.calls) == 4
    assert time.sleeps == pytest.approx([0.5, 1.0, 2.0])


@on_virtual_time
async def test_backoff_jitter_keeps_delays_growing_and_capped() -> None:
    time = FakeTime()
    api = FakeApi(*(NetworkError("Bad Gateway") for _ in range(7)), OK, time=time)
    rl = RateLimiter(max_retries=7, sleep=time.sleep, jitter=lambda: 0.999)

    assert await call(rl, api, "getMe") == OK

    assert time.sleeps == sorted(time.sleeps)
    assert len(set(time.sleeps[:5])) == 5
    assert time.sleeps[0] >= 0.5
    assert max(time.sleeps) <= 8.0 * 1.25


@on_virtual_time
@pytest.mark.parametrize(
    "error",
    [
        Forbidden("Forbidden: bot was blocked by the user"),
        BadRequest("Bad Request: chat not found"),
        InvalidToken(),
        ChatMigrated(-1001),
        Conflict("terminated by other getUpdates request"),
        TelegramError("anything else"),
        ValueError("not even a Telegram error"),
    ],
)
async def test_non_retryable_errors_raise_at_once(error: Exception) -> None:
    time = FakeTime()
    api = FakeApi(error, time=time)
    rl = limiter(time)

    with pytest.raises(type(error)) as caught:
        await call(rl, api)

    assert caught.value is error
    assert len(api.calls) == 1
    assert time.sleeps == []
    assert rl.stats.retries == rl.stats.gave_up == 0  # a definite answer, not a give-up


@on_virtual_time
async def test_max_retries_exhausted_raises_last_error() -> None:
    time = FakeTime()
    errors = [NetworkError(f"Bad Gateway {i}") for i in range(3)]
    api = FakeApi(*errors, OK, time=time)
    rl = limiter(time, max_retries=2, per_chat_per_second=1000.0)

    with pytest.raises(NetworkError) as caught:
        await call(rl, api)

    assert caught.value is errors[-1]
    assert len(api.calls) == 3
    assert (rl.stats.retries, rl.stats.gave_up) == (2, 1)


@on_virtual_time
async def test_retry_after_and_network_errors_share_one_retry_budget() -> None:
    time = FakeTime()
    last = flood(1)
    api = FakeApi(NetworkError("Bad Gateway"), flood(1), last, OK, time=time)
    rl = limiter(time, max_retries=2)

    with pytest.raises(RetryAfter) as caught:
        await call(rl, api)

    assert caught.value is last
    assert len(api.calls) == 3
    assert rl.stats.gave_up == 1


@on_virtual_time
async def test_retry_after_longer_than_max_retry_after_is_raised() -> None:
    time = FakeTime()
    api = FakeApi(flood(3600), OK, time=time)
    rl = limiter(time, max_retry_after=60.0)

    with pytest.raises(RetryAfter):
        await call(rl, api)

    assert len(api.calls) == 1
    assert rl.paused_until < 1  # no hour-long hold on the whole bot either
    assert rl.stats.gave_up == 1


@on_virtual_time
async def test_long_retry_after_is_waited_out_not_raised() -> None:
    # A morning pass hit by a 20-minute flood wait finishes afterwards, nothing missed.
    time = FakeTime()
    api = FakeApi(flood(1200), OK, time=time)
    rl = limiter(time)

    assert await call(rl, api, priority=BROADCAST) == OK

    assert [t for _, _, t in api.calls] == pytest.approx([0.0, 1200.1])


def _timed_out(cause: Exception | None) -> TimedOut:
    exc = TimedOut()
    exc.__cause__ = cause
    return exc


def _caused(exc: NetworkError, cause: Exception) -> NetworkError:
    exc.__cause__ = cause
    return exc


@on_virtual_time
@pytest.mark.parametrize(
    "error",
    [
        _timed_out(httpx.ReadTimeout("read")),  # PTB's httpx transport
        _timed_out(aiohttp.SocketTimeoutError()),  # ours: a read timeout
        _caused(NetworkError("aiohttp error: reset"), aiohttp.ServerDisconnectedError()),
        NetworkError("Bad Gateway"),
    ],
    ids=["httpx-read-timeout", "aiohttp-read-timeout", "disconnected", "502"],
)
async def test_send_with_unknown_outcome_is_resent_and_counted(error: NetworkError) -> None:
    # At least once: the message may have arrived, but a duplicate beats a miss.
    time = FakeTime()
    api = FakeApi(error, OK, time=time)
    rl = limiter(time)

    assert await call(rl, api) == OK

    assert len(api.calls) == 2
    assert (rl.stats.resent_unknown_outcome, rl.stats.resent_not_sent) == (1, 0)


@on_virtual_time
@pytest.mark.parametrize(
    "error",
    [
        NotSent("aiohttp error: ClientConnectorError"),
        ConnectTimedOut("Connect timeout: the request was *not* sent."),
        _timed_out(httpx.PoolTimeout("pool")),
        _timed_out(httpx.ConnectTimeout("connect")),
        _caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused")),
    ],
    ids=["not-sent", "connect-timed-out", "httpx-pool", "httpx-connect-timeout", "httpx-refused"],
)
async def test_send_that_never_left_is_resent_and_counted(error: NetworkError) -> None:
    time = FakeTime()
    api = FakeApi(error, OK, time=time)
    rl = limiter(time)

    assert await call(rl, api) == OK

    assert len(api.calls) == 2
    assert (rl.stats.resent_unknown_outcome, rl.stats.resent_not_sent) == (0, 1)


@on_virtual_time
@pytest.mark.parametrize("endpoint", ["getMe", "answerCallbackQuery", "setMyCommands"])
async def test_timed_out_non_send_is_repeated(endpoint: str) -> None:
    time = FakeTime()
    api = FakeApi(_timed_out(httpx.ReadTimeout("read")), OK, time=time)
    rl = limiter(time)

    assert await call(rl, api, endpoint) == OK

    assert len(api.calls) == 2
    assert rl.stats.retries == 1
    assert rl.stats.resent_unknown_outcome == rl.stats.resent_not_sent == 0  # sends only


# ----------------------------------------------------------------------------- priorities


@on_virtual_time
async def test_interactive_goes_before_waiting_broadcast() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)

    tasks = [spawn(rl, api, chat, BROADCAST) for chat in (1, 2, 3)]
    await settle()
    await time.advance(0.5)
    tasks += [spawn(rl, api, chat) for chat in (10, 11)]  # replies arrive while 2, 3 wait
    await settle()  # they arrive now, not when the clock next moves
    await time.advance(10)

    await asyncio.gather(*tasks)
    assert api.sends() == [(1, 0.0), (10, 1.0), (11, 2.0), (2, 3.0), (3, 4.0)]


@on_virtual_time
async def test_first_answers_go_before_the_rest_of_earlier_replies() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)

    tasks = [
        spawn(rl, api, 9, BROADCAST),
        spawn(rl, api, 1, BROADCAST),
        spawn(rl, api, 2, FOLLOW_UP),
    ]
    await settle()
    await time.advance(0.5)
    tasks += [spawn(rl, api, 3, FOLLOW_UP), spawn(rl, api, 4, INTERACTIVE)]
    await settle()  # they arrive now, not when the clock next moves
    await time.advance(10)

    await asyncio.gather(*tasks)
    # The free slot goes to the first caller; then first answers, the rests, the broadcast.
    assert api.sends() == [(9, 0.0), (4, 1.0), (2, 2.0), (3, 3.0), (1, 4.0)]


@on_virtual_time
async def test_broadcast_takes_the_slots_replies_leave() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)

    tasks = [spawn(rl, api, chat, BROADCAST) for chat in (1, 2, 3, 4)]
    await settle()
    await time.advance(1.5)
    tasks.append(spawn(rl, api, 10, INTERACTIVE))
    await settle()  # they arrive now, not when the clock next moves
    await time.advance(10)

    await asyncio.gather(*tasks)
    # Without replies the broadcast gets every slot; one reply takes one slot, then it resumes.
    assert api.sends() == [(1, 0.0), (2, 1.0), (10, 2.0), (3, 3.0), (4, 4.0)]


@on_virtual_time
async def test_unknown_rate_limit_args_are_rejected() -> None:
    time = FakeTime()
    api = FakeApi(time=time)

    with pytest.raises(ValueError, match="Priority"):
        await call(limiter(time), api, priority=7)  # type: ignore[arg-type]

    assert api.calls == []


# ----------------------------------------------------------------------------- per chat


@on_virtual_time
async def test_private_chat_bursts_three_then_one_per_second_in_order() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0)

    await asyncio.gather(*(call(rl, api, chat_id=1, text=str(i)) for i in range(6)))

    # "At once" up to the overall bucket's 1 ms spacing.
    assert api.times(1) == pytest.approx([0.0, 0.001, 0.002, 1.0, 2.0, 3.0], abs=0.01)
    assert api.texts(1) == [str(i) for i in range(6)]


@on_virtual_time
async def test_an_album_counts_as_its_number_of_pictures() -> None:
    """Four pictures in one sendMediaGroup spend four messages of the chat's and the bot's
    budget: the chat's next message waits as after four messages."""
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0)

    media = [{"type": "photo", "media": f"id{i}"} for i in range(4)]
    await call(rl, api, "sendMediaGroup", chat_id=1, media=media)
    await call(rl, api, chat_id=1, text="after")

    # The album uses the burst of 3 and one more second; the next message comes after that.
    assert api.times(1) == pytest.approx([0.0, 2.0], abs=0.01)


@on_virtual_time
async def test_chat_waiting_on_its_limit_does_not_delay_other_chats() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0, per_chat_burst=1)

    tasks = [spawn(rl, api, 1, text=t) for t in "abc"]
    await settle()
    assert api.times(1) == [0.0]

    await time.advance(0.5)  # "b" sleeps on chat 1's limit, "c" queues behind it
    tasks += [spawn(rl, api, chat) for chat in (2, 3)]
    await settle()
    assert api.times(2) == [0.5]
    await time.advance(0.1)
    assert api.times(3) == [0.501]

    await time.advance(0.4)
    assert api.times(1) == [0.0, 1.0]
    await time.advance(1.0)
    assert api.times(1) == [0.0, 1.0, 2.0]
    await asyncio.gather(*tasks)
    assert api.texts(1) == ["a", "b", "c"]


@on_virtual_time
async def test_per_chat_rate_is_configurable_and_ids_are_normalised() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0, per_chat_per_second=4.0, per_chat_burst=1)

    for chat_id in (5, "5", 5):
        await call(rl, api, chat_id=chat_id)

    times = [t for _, _, t in api.calls]
    assert times == pytest.approx([0.0, 0.25, 0.5])
    assert rl.tracked_chats == 1


@on_virtual_time
@pytest.mark.parametrize("chat_id", [-100123, "@news"])
async def test_groups_and_channels_send_at_most_20_per_minute(chat_id: int | str) -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0)

    for _ in range(25):
        await call(rl, api, chat_id=chat_id)
    for _ in range(25):  # a private chat is not subject to the group limit
        await call(rl, api, chat_id=10)

    times = api.times(chat_id)
    assert sum(t < 60 for t in times) == 20
    assert times[20] == pytest.approx(60.0, abs=0.01)
    assert all(later - earlier >= 60 for earlier, later in zip(times, times[20:], strict=False))
    assert api.times(10)[-1] - api.times(10)[0] < 25


# ----------------------------------------------------------------------------- overall


@on_virtual_time
async def test_overall_bucket_spaces_sends_across_chats() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=10.0)

    tasks = [spawn(rl, api, chat) for chat in range(1, 6)]
    await settle()
    assert len(api.calls) == 1
    await time.advance(1.0)

    await asyncio.gather(*tasks)
    assert [t for _, t in api.sends()] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


@on_virtual_time
async def test_paid_broadcast_uses_its_own_bucket() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)

    normal = spawn(rl, api, 9)
    paid = [spawn(rl, api, chat, BROADCAST, allow_paid_broadcast=True) for chat in (1, 2, 3)]
    await settle()
    await time.advance(0.01)

    await asyncio.gather(normal, *paid)
    assert api.times(9) == [0.0]
    assert [api.times(c)[0] for c in (1, 2, 3)] == pytest.approx([0.0, 0.001, 0.002])


@on_virtual_time
async def test_non_send_methods_bypass_the_throttle() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)
    # Use up the overall bucket and leave a send queued behind it.
    await call(rl, api, chat_id=1)
    queued = spawn(rl, api, 2)
    await settle()

    bypassing: list[tuple[str, dict[str, Any]]] = [
        ("answerCallbackQuery", {"callback_query_id": "q"}),
        ("getMe", {}),
        ("getUpdates", {}),
        ("getChat", {"chat_id": 1}),
        ("setMyCommands", {"commands": []}),
        ("setWebhook", {"url": "https://example.org"}),
    ]
    for endpoint, data in bypassing:
        assert await call(rl, api, endpoint, **data) == OK

    assert len(api.calls) == 1 + len(bypassing)
    assert not queued.done()
    assert rl.tracked_chats == 2  # only the two sends
    await cancel(queued)


# ----------------------------------------------------------------------------- 429 holds


@on_virtual_time
async def test_429_holds_every_send_for_the_whole_window(caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime(auto=False)
    api = FakeApi(flood(120), time=time)
    rl = limiter(time, overall_per_second=10.0)
    caplog.set_level(logging.INFO, logger="bot.telegram.ratelimit")

    first = spawn(rl, api, 1, text="private words")
    await settle()
    assert rl.paused_until == pytest.approx(120.1)
    broadcast = {chat: spawn(rl, api, chat, BROADCAST) for chat in (2, 3, 4)}
    await time.advance(10)
    replies = [spawn(rl, api, chat) for chat in (5, 6)]
    # Callback answers and reads are not held.
    assert await call(rl, api, "answerCallbackQuery", callback_query_id="q") == OK
    assert await call(rl, api, "getMe") == OK
    await time.advance(50)
    await cancel(broadcast.pop(3))  # e.g. SIGTERM: leaves no gap in the queue
    await time.advance(60)
    assert [(e, t) for e, _, t in api.calls] == [
        ("sendMessage", 0.0),
        ("answerCallbackQuery", 10.0),
        ("getMe", 10.0),
    ]

    await time.advance(1.0)
    await asyncio.gather(first, *replies, *broadcast.values())
    # After the window: the 429'd request, then replies, then the broadcast, 0.1 s apart.
    after = api.sends()[1:]
    assert [chat for chat, _ in after] == [1, 5, 6, 2, 4]
    assert [t for _, t in after] == pytest.approx([120.1, 120.2, 120.3, 120.4, 120.5])
    assert api.texts(1) == ["private words", "private words"]
    assert rl.stats.retry_after == 1
    assert rl.stats.throttled == 5
    warnings_logged = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings_logged) == 1
    assert "private words" not in caplog.text  # never a message text


@on_virtual_time
async def test_concurrent_429s_warn_once_per_hold(caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime(auto=False)
    release = asyncio.Event()
    api = FakeApi(flood(5), flood(6), time=time, hold=release)
    rl = limiter(time, overall_per_second=10.0)
    caplog.set_level(logging.INFO, logger="bot.telegram.ratelimit")

    tasks = [spawn(rl, api, chat) for chat in (1, 2)]
    await settle()
    await time.advance(0.1)  # both in flight
    release.set()
    await settle()

    assert rl.paused_until == pytest.approx(6.2)
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.INFO]
    await time.advance(10)
    await asyncio.gather(*tasks)
    assert [t for _, t in api.sends()] == pytest.approx([0.0, 0.1, 6.2, 6.3])
    assert rl.stats.retry_after == 2


@on_virtual_time
async def test_a_send_queued_for_its_slot_when_a_429_is_read_waits_the_hold_out() -> None:
    time = FakeTime(auto=False)
    release = asyncio.Event()
    api = FakeApi(flood(5), time=time, hold=release)
    rl = limiter(time, overall_per_second=1.0)

    tasks = [spawn(rl, api, 1), spawn(rl, api, 2)]
    await settle()
    await time.advance(0.5)  # chat 1's send is in flight; chat 2's queues for the 1.0 slot
    release.set()
    await settle()
    assert rl.paused_until == pytest.approx(5.6)
    await time.advance(10)

    await asyncio.gather(*tasks)
    assert api.sends() == [(1, 0.0), (1, 5.6), (2, 6.6)]


@on_virtual_time
async def test_429_holds_others_even_when_that_request_gives_up() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(flood(5), time=time)
    rl = limiter(time, max_retries=0)

    with pytest.raises(RetryAfter):
        await call(rl, api, chat_id=1)
    other = spawn(rl, api, 2)
    await time.advance(5)
    assert not other.done()
    await time.advance(0.2)

    await other
    assert api.times(2) == [pytest.approx(5.1)]


@on_virtual_time
async def test_429_on_non_posting_request_only_delays_it() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(flood(5), time=time)
    rl = limiter(time)

    me = asyncio.create_task(call(rl, api, "getMe"))
    await settle()
    assert await call(rl, api, chat_id=1) == OK  # not held
    assert rl.paused_until < 0
    await time.advance(5.1)

    assert await me == OK
    assert [(e, t) for e, _, t in api.calls] == [
        ("getMe", 0.0),
        ("sendMessage", 0.0),
        ("getMe", pytest.approx(5.1)),
    ]


# ----------------------------------------------------------------------------- lifecycle


@on_virtual_time
async def test_disabled_only_retries() -> None:
    time = FakeTime()
    api = FakeApi(flood(1), time=time)
    rl = limiter(time, overall_per_second=1.0, enabled=False)

    await asyncio.gather(*(call(rl, api, chat_id=1) for _ in range(5)))

    assert len(api.calls) == 6  # five sends plus the one retried after the 429
    assert time.sleeps == [pytest.approx(1.1)]
    assert rl.paused_until < 0
    assert rl.tracked_chats == 0
    assert rl.stats.retry_after == 1


@on_virtual_time
async def test_cancelled_overall_waiter_does_not_delay_others() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)

    await call(rl, api, chat_id=1)
    waiting = spawn(rl, api, 2, BROADCAST)
    head = spawn(rl, api, 3)  # the reply is first in line and sleeps for the slot
    await time.advance(0.2)
    await cancel(head)
    await time.advance(0.8)
    assert api.times(2) == [1.0]  # took the cancelled reply's slot

    await time.advance(9.0)
    await call(rl, api, chat_id=4)  # idle again: goes at once, no slot leaked or stuck
    await waiting
    assert api.sends() == [(1, 0.0), (2, 1.0), (4, 10.0)]


@on_virtual_time
async def test_cancelled_chat_waiters_keep_the_chat_in_order() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0, per_chat_burst=1)

    tasks = {t: spawn(rl, api, 1, text=t) for t in "abcde"}
    await settle()
    await time.advance(0.5)  # "a" sent; "b" sleeps on the chat's limit; "c".."e" queue
    await cancel(tasks.pop("b"), tasks.pop("d"))
    await time.advance(5)

    await asyncio.gather(*tasks.values())
    assert api.texts(1) == ["a", "c", "e"]
    assert api.times(1) == [0.0, 1.0, 2.0]
    await time.advance(100)
    await call(rl, api, chat_id=2)
    assert rl.tracked_chats == 1  # chat 1 was idle again, so it was forgotten


@on_virtual_time
async def test_shutdown_forgets_holds_and_chat_state() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(flood(100), time=time)
    rl = limiter(time, per_chat_burst=1)

    pending = spawn(rl, api, 1)
    await settle()
    assert rl.paused_until > 100
    await cancel(pending)
    await rl.shutdown()

    assert rl.paused_until < 0
    assert rl.tracked_chats == 0
    assert await call(rl, api, chat_id=1) == OK  # no hold, no per-chat wait
    assert api.times(1) == [0.0, 0.0]


@on_virtual_time
async def test_stats_is_a_snapshot() -> None:
    time = FakeTime()
    rl = limiter(time)
    stats = rl.stats
    stats.retries = 99

    assert rl.stats.retries == 0


# ----------------------------------------------------------------------------- memory


@on_virtual_time
async def test_chat_table_forgets_chats_once_their_limit_reset() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1e6)

    for chat_id in range(10_000):
        await call(rl, api, chat_id=chat_id)
        time.now += 0.01  # a broadcast at 100/s; each entry expires after 1 s

    assert len(api.calls) == 10_000
    assert rl.tracked_chats <= 150


@on_virtual_time
async def test_chat_table_is_capped_even_when_no_limit_has_reset() -> None:
    time = FakeTime()  # the clock barely moves: no group's window ends
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1e6, max_tracked_chats=500)

    for chat_id in range(10_000):
        await call(rl, api, chat_id=-chat_id - 1)

    assert rl.tracked_chats <= 500


@on_virtual_time
async def test_concurrent_broadcast_keeps_table_bounded() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1e6, max_tracked_chats=500)
    # A chat with a request in flight keeps its entry, so the table can only be bounded when
    # the requests in flight are: the dispatcher sends in batches.
    in_flight = asyncio.Semaphore(100)

    async def send(chat_id: int) -> None:
        async with in_flight:
            await call(rl, api, priority=BROADCAST, chat_id=chat_id)

    await asyncio.gather(*(send(c) for c in range(4_000)))

    assert len(api.calls) == 4_000
    assert rl.tracked_chats <= 500


@pytest.mark.parametrize(
    "kwargs",
    [
        {"overall_per_second": 0},
        {"per_chat_per_second": -1},
        {"per_chat_burst": 0},
        {"max_retries": -1},
        {"max_tracked_chats": 0},
    ],
)
def test_rejects_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must be"):
        RateLimiter(**kwargs)


# ----------------------------------------------------------------------------- integration

HAVE_FAKE_SERVER = importlib.util.find_spec("tests.support.botapi") is not None


@pytest.mark.skipif(not HAVE_FAKE_SERVER, reason="tests/support/botapi.py not available")
# PTB's own request layer builds RetryAfter with an int and warns about it; not our code.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ext_bot_survives_429_and_502_and_reports_forbidden() -> None:
    from telegram.ext import ExtBot

    from tests.support.botapi import BotApiServer

    sleeps: list[float] = []

    async def no_sleep(delay: float) -> None:  # backoff waits are recorded, not slept
        sleeps.append(delay)

    # Real sockets, so the loop's real clock: the 429 holds sends for a real 1.1 s.
    async with BotApiServer() as server:
        rl = RateLimiter(per_chat_per_second=1000.0, sleep=no_sleep, jitter=lambda: 0.0)
        bot: ExtBot[Priority] = ExtBot(token="1:x", base_url=server.base_url, rate_limiter=rl)
        async with bot:  # initialize(): getMe, not throttled
            server.fail_next("sendMessage", status=429, retry_after=1)
            await bot.send_message(chat_id=42, text="hello")

            server.fail_next("sendMessage", status=502, times=3)
            await bot.send_message(chat_id=42, text="again")

            server.forbid_chat(43)
            with pytest.raises(Forbidden):
                await bot.send_message(chat_id=43, text="blocked?")

        assert [m.text for m in server.messages(42)] == ["hello", "again"]
        assert server.count("sendMessage") == 2 + 4 + 1
        assert rl.stats.retry_after == 1
        assert sleeps == pytest.approx([0.5, 1.0, 2.0])


@pytest.mark.skipif(not HAVE_FAKE_SERVER, reason="tests/support/botapi.py not available")
async def test_ext_bot_passes_the_priority_through() -> None:
    from telegram.ext import ExtBot

    from tests.support.botapi import BotApiServer

    seen: list[tuple[str, Priority | None]] = []

    class Recording(RateLimiter):
        async def process_request(self, *args: Any, **kwargs: Any) -> Result:
            seen.append((kwargs["endpoint"], kwargs["rate_limit_args"]))
            return await super().process_request(*args, **kwargs)

    async with BotApiServer() as server:
        rl = Recording()
        bot: ExtBot[Priority] = ExtBot(token="1:x", base_url=server.base_url, rate_limiter=rl)
        async with bot:
            await bot.send_message(42, "morning", rate_limit_args=BROADCAST)
            await bot.do_api_request(  # as bot.telegram.delivery.deliver does
                "SendMessage",
                api_kwargs={"chat_id": 42, "text": "nudge"},
                rate_limit_args=BROADCAST,
            )
            await bot.send_message(42, "reply")

        assert [m.text for m in server.messages(42)] == ["morning", "nudge", "reply"]
    assert seen == [
        ("getMe", None),
        ("sendMessage", BROADCAST),
        ("SendMessage", BROADCAST),  # the spelling bot.usecases.morning uses
        ("sendMessage", None),  # INTERACTIVE by default
    ]
