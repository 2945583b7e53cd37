"""Tests for bot.ratelimit: throttling, 429 holds, retries, and the bounded per-chat table."""

from __future__ import annotations

import asyncio
import datetime as dtm
import importlib.util
import warnings
from collections import deque
from typing import Any

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

from bot.ratelimit import RateLimiter

Result = bool | dict[str, Any] | list[dict[str, Any]]
OK: dict[str, Any] = {"ok": True}


class FakeTime:
    """Monotonic fake clock. ``auto`` sleeps jump the clock; manual sleeps wait for advance()."""

    def __init__(self, *, auto: bool = True) -> None:
        self.now = 0.0
        self.auto = auto
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        if self.auto:
            self.now += max(delay, 0.0)
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._timers.append((self.now + delay, fut))
        await fut

    async def advance(self, delay: float) -> None:
        self.now += delay
        due = [t for t in self._timers if t[0] <= self.now]
        self._timers = [t for t in self._timers if t[0] > self.now]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)
        await settle()


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
    """Stands in for ExtBot._do_post: replays scripted outcomes, records each call."""

    def __init__(self, *outcomes: Exception | Result, time: FakeTime | None = None) -> None:
        self.outcomes: deque[Exception | Result] = deque(outcomes)
        self.time = time
        self.calls: list[tuple[str, dict[str, Any], float]] = []

    async def __call__(self, endpoint: str, data: dict[str, Any]) -> Result:
        self.calls.append((endpoint, data, self.time.now if self.time else 0.0))
        outcome = self.outcomes.popleft() if self.outcomes else OK
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def times(self, chat_id: int | str) -> list[float]:
        return [t for _, data, t in self.calls if data.get("chat_id") == chat_id]

    def texts(self, chat_id: int | str) -> list[str]:
        return [data["text"] for _, data, _ in self.calls if data.get("chat_id") == chat_id]


async def call(
    limiter: RateLimiter,
    api: FakeApi,
    endpoint: str = "sendMessage",
    rate_limit_args: int | None = None,
    **data: Any,
) -> Result:
    if endpoint.startswith("send"):
        data = {"chat_id": 1, "text": "hi", **data}
    return await limiter.process_request(
        api, (endpoint, data), {}, endpoint, data, rate_limit_args=rate_limit_args
    )


def limiter(time: FakeTime, **kwargs: Any) -> RateLimiter:
    kwargs.setdefault("jitter", lambda: 0.0)
    return RateLimiter(sleep=time.sleep, clock=time.clock, **kwargs)


# ----------------------------------------------------------------------------- retries


@pytest.mark.parametrize("retry_after", [3, dtm.timedelta(seconds=3)])
async def test_429_waits_retry_after_then_retries_once(retry_after: int | dtm.timedelta) -> None:
    time = FakeTime()
    api = FakeApi(flood(retry_after), {"message_id": 7}, time=time)

    assert await call(limiter(time), api) == {"message_id": 7}

    assert len(api.calls) == 2
    assert time.sleeps == [pytest.approx(3.1)]
    assert api.calls[1][2] == pytest.approx(3.1)


async def test_5xx_burst_is_retried_with_growing_delays() -> None:
    time = FakeTime()
    api = FakeApi(*(NetworkError("Bad Gateway") for _ in range(3)), OK, time=time)
    # A fast per-chat rate keeps per-chat spacing out of the recorded sleeps.
    rl = limiter(time, per_chat_per_second=1000.0)

    assert await call(rl, api) == OK

    assert len(api.calls) == 4
    assert time.sleeps == pytest.approx([0.5, 1.0, 2.0])


async def test_backoff_jitter_keeps_delays_growing_and_capped() -> None:
    time = FakeTime()
    api = FakeApi(*(NetworkError("Bad Gateway") for _ in range(7)), OK, time=time)
    rl = RateLimiter(max_retries=7, sleep=time.sleep, clock=time.clock, jitter=lambda: 0.999)

    assert await call(rl, api, "getMe") == OK

    assert time.sleeps == sorted(time.sleeps)
    assert len(set(time.sleeps[:5])) == 5
    assert time.sleeps[0] >= 0.5
    assert max(time.sleeps) <= 8.0 * 1.25


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

    with pytest.raises(type(error)) as caught:
        await call(limiter(time), api)

    assert caught.value is error
    assert len(api.calls) == 1
    assert time.sleeps == []


async def test_max_retries_exhausted_raises_last_error() -> None:
    time = FakeTime()
    errors = [NetworkError(f"Bad Gateway {i}") for i in range(3)]
    api = FakeApi(*errors, OK, time=time)

    with pytest.raises(NetworkError) as caught:
        await call(limiter(time, max_retries=2, per_chat_per_second=1000.0), api)

    assert caught.value is errors[-1]
    assert len(api.calls) == 3


async def test_retry_after_and_network_errors_share_one_retry_budget() -> None:
    time = FakeTime()
    last = flood(1)
    api = FakeApi(NetworkError("Bad Gateway"), flood(1), last, OK, time=time)

    with pytest.raises(RetryAfter) as caught:
        await call(limiter(time, max_retries=2), api)

    assert caught.value is last
    assert len(api.calls) == 3


async def test_rate_limit_args_overrides_max_retries() -> None:
    time = FakeTime()
    api = FakeApi(flood(1), OK, time=time)

    with pytest.raises(RetryAfter):
        await call(limiter(time), api, rate_limit_args=0)

    assert len(api.calls) == 1


async def test_retry_after_longer_than_max_retry_after_is_raised() -> None:
    time = FakeTime()
    api = FakeApi(flood(3600), OK, time=time)
    rl = limiter(time, max_retry_after=60.0)

    with pytest.raises(RetryAfter):
        await call(rl, api)

    assert len(api.calls) == 1
    assert rl.paused_until < 1  # no hour-long hold on the whole bot either


def _timed_out(cause: Exception | None) -> TimedOut:
    exc = TimedOut()
    exc.__cause__ = cause
    return exc


async def test_timed_out_send_is_not_repeated() -> None:
    # The message may have been delivered; repeating it could duplicate it.
    time = FakeTime()
    error = _timed_out(httpx.ReadTimeout("read"))
    api = FakeApi(error, OK, time=time)

    with pytest.raises(TimedOut):
        await call(limiter(time), api)

    assert len(api.calls) == 1


@pytest.mark.parametrize("cause", [httpx.PoolTimeout("pool"), httpx.ConnectTimeout("connect")])
async def test_timed_out_send_that_never_left_is_repeated(cause: Exception) -> None:
    time = FakeTime()
    api = FakeApi(_timed_out(cause), OK, time=time)

    assert await call(limiter(time), api) == OK
    assert len(api.calls) == 2


@pytest.mark.parametrize("endpoint", ["getMe", "answerCallbackQuery", "setMyCommands"])
async def test_timed_out_non_send_is_repeated(endpoint: str) -> None:
    time = FakeTime()
    api = FakeApi(_timed_out(httpx.ReadTimeout("read")), OK, time=time)

    assert await call(limiter(time), api, endpoint) == OK
    assert len(api.calls) == 2


# ----------------------------------------------------------------------------- throttling


async def test_same_chat_is_spaced_and_ordered_while_other_chats_are_not() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0, per_chat_per_second=1.0)

    tasks = [asyncio.create_task(call(rl, api, chat_id=1, text=t)) for t in "abc"]
    tasks += [asyncio.create_task(call(rl, api, chat_id=c)) for c in (2, 3, 4)]
    await settle()

    assert api.times(1) == [0.0]
    assert [api.times(c) for c in (2, 3, 4)] == [[0.0], [0.0], [0.0]]

    await time.advance(0.5)
    assert api.times(1) == [0.0]
    await time.advance(0.5)
    assert api.times(1) == [0.0, 1.0]
    await time.advance(1.0)
    assert api.times(1) == [0.0, 1.0, 2.0]

    await asyncio.gather(*tasks)
    assert api.texts(1) == ["a", "b", "c"]
    assert len(api.calls) == 6


async def test_per_chat_rate_is_configurable_and_ids_are_normalised() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0, per_chat_per_second=4.0)

    for chat_id in (5, "5", 5):
        await call(rl, api, chat_id=chat_id)

    times = [t for _, _, t in api.calls]
    assert times == pytest.approx([0.0, 0.25, 0.5])
    assert rl.tracked_chats == 1


async def test_overall_bucket_holds_across_chats() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)

    tasks = [asyncio.create_task(call(rl, api, chat_id=c)) for c in (1, 2, 3)]
    await settle()

    # aiolimiter grants the second token only after a real second; nothing here waits for it.
    assert len(api.calls) == 1
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_paid_broadcast_uses_its_own_bucket() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)

    await asyncio.gather(*(call(rl, api, chat_id=c, allow_paid_broadcast=True) for c in (1, 2, 3)))

    assert len(api.calls) == 3


async def test_groups_are_also_held_to_their_per_minute_bucket() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1000.0, group_per_minute=2.0)

    for _ in range(3):  # a private chat is not subject to the group bucket
        await call(rl, api, chat_id=10)
    group = [asyncio.create_task(call(rl, api, chat_id=-100)) for _ in range(3)]
    channel = [asyncio.create_task(call(rl, api, chat_id="@news")) for _ in range(3)]
    await settle()

    assert len(api.times(10)) == 3
    # Two each; the third waits ~30 real seconds in aiolimiter, so it cannot have been sent.
    assert len(api.times(-100)) == 2
    assert len(api.times("@news")) == 2
    for task in group + channel:
        task.cancel()
    await asyncio.gather(*group, *channel, return_exceptions=True)


async def test_429_holds_back_all_sends_but_not_callback_answers() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(flood(2), time=time)
    rl = limiter(time)

    first = asyncio.create_task(call(rl, api, chat_id=1, text="first"))
    await settle()
    assert rl.paused_until == pytest.approx(2.1)

    other_chat = asyncio.create_task(call(rl, api, chat_id=2, text="other"))
    answer = await call(rl, api, "answerCallbackQuery", callback_query_id="q1")
    me = await call(rl, api, "getMe")
    await settle()

    assert answer == OK
    assert me == OK
    assert [c[0] for c in api.calls] == ["sendMessage", "answerCallbackQuery", "getMe"]
    assert not other_chat.done()

    await time.advance(2.2)
    await asyncio.gather(first, other_chat)
    assert api.texts(1) == ["first", "first"]
    assert api.texts(2) == ["other"]
    assert api.calls[-1][2] == pytest.approx(2.2)


async def test_non_send_methods_bypass_the_throttle() -> None:
    time = FakeTime(auto=False)
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1.0)
    # Drain the overall bucket and leave a send queued behind it.
    await call(rl, api, chat_id=1)
    queued = asyncio.create_task(call(rl, api, chat_id=2))
    await settle()

    bypassing: list[tuple[str, dict[str, Any]]] = [
        ("answerCallbackQuery", {"callback_query_id": "q"}),
        ("getMe", {}),
        ("getChat", {"chat_id": 1}),
        ("setMyCommands", {"commands": []}),
    ]
    for endpoint, data in bypassing:
        assert await call(rl, api, endpoint, **data) == OK

    assert len(api.calls) == 5
    assert not queued.done()
    assert rl.tracked_chats == 2  # only the two sends
    queued.cancel()
    await asyncio.gather(queued, return_exceptions=True)


async def test_disabled_only_retries() -> None:
    time = FakeTime()
    api = FakeApi(flood(1), time=time)
    rl = limiter(time, overall_per_second=1.0, enabled=False)

    await asyncio.gather(*(call(rl, api, chat_id=1) for _ in range(5)))

    assert len(api.calls) == 6  # five sends plus the one retried after the 429
    assert time.sleeps == [pytest.approx(1.1)]
    assert rl.paused_until < 0
    assert rl.tracked_chats == 0


# ----------------------------------------------------------------------------- memory


async def test_chat_table_forgets_chats_once_their_limit_reset() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1e6)

    for chat_id in range(10_000):
        await call(rl, api, chat_id=chat_id)
        time.now += 0.01  # a broadcast at 100/s; each entry expires after 1 s

    assert len(api.calls) == 10_000
    assert rl.tracked_chats <= 150


async def test_chat_table_is_capped_even_when_no_limit_has_reset() -> None:
    time = FakeTime()  # the clock never moves: no entry expires
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1e6, max_tracked_chats=500)

    for chat_id in range(10_000):
        await call(rl, api, chat_id=-chat_id - 1)

    assert rl.tracked_chats <= 500


async def test_concurrent_broadcast_keeps_table_bounded() -> None:
    time = FakeTime()
    api = FakeApi(time=time)
    rl = limiter(time, overall_per_second=1e6, max_tracked_chats=500)

    await asyncio.gather(*(call(rl, api, chat_id=c) for c in range(4_000)))

    assert len(api.calls) == 4_000
    assert rl.tracked_chats <= 500


@pytest.mark.parametrize(
    "kwargs",
    [
        {"overall_per_second": 0},
        {"per_chat_per_second": -1},
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

    time = FakeTime()  # 429/backoff waits jump a fake clock instead of really sleeping
    async with BotApiServer() as server:
        # Millisecond per-chat spacing keeps the recorded sleeps to the retry waits.
        rl = limiter(time, per_chat_per_second=1000.0)
        bot: ExtBot[int] = ExtBot(token="1:x", base_url=server.base_url, rate_limiter=rl)
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
        retry_waits = [s for s in time.sleeps if s >= 0.1]
        assert retry_waits == pytest.approx([1.1, 0.5, 1.0, 2.0])
