"""The faults the fake Bot API can inject: failed calls (429 with retry_after, 5xx, 400, 403),
blocked or failing chats, file_ids Telegram forgot, and holds that park requests to force an
ordering."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

from tests.support.botapi.models import JSON, ApiError
from tests.support.botapi.rules import BLOCKED, canonical
from tests.support.botapi.state import ServerState

# Methods that post into or edit a chat, so `fail_chat` applies to them.
_CHAT_METHODS: Final = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "sendmediagroup",
        "senddocument",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "editmessagemedia",
        "deletemessage",
        "sendchataction",
    }
)


@dataclass(slots=True)
class Failure:
    """One injected answer for the next call of a method (`BotApiServer.fail_next`)."""

    status: int
    description: str
    parameters: JSON | None


@dataclass(slots=True)
class ChatFailure:
    """The answer every call into one chat gets (`BotApiServer.fail_chat`)."""

    status: int
    description: str
    parameters: JSON | None
    remaining: int | None  # None: until clear_chat_failures


def _retry_after(status: int, description: str) -> JSON | None:
    """The retry_after parameter PTB needs to raise RetryAfter for a 429 description."""
    m = re.search(r"retry after (\d+)", description) if status == 429 else None
    return {"retry_after": int(m.group(1))} if m else None


class Hold:
    """Requests parked by `BotApiServer.hold` until `release()`, to force an ordering."""

    def __init__(
        self, server: ServerState, method: str, chat_id: int | None, after: int = 0
    ) -> None:
        self.method = canonical(method)
        self.chat_id = chat_id
        self.after = after  # matching requests still let through before parking begins
        self._key = method.lower()
        self._server = server
        self._parked: list[asyncio.Future[None]] = []
        self._arrived = asyncio.Event()
        self.released = False

    def __repr__(self) -> str:
        chat = "" if self.chat_id is None else f" chat {self.chat_id}"
        state = "released" if self.released else f"{self.held} held"
        return f"<Hold {self.method}{chat}: {state}>"

    @property
    def held(self) -> int:
        """How many requests are parked now."""
        return len(self._parked)

    def matches(self, key: str, params: JSON) -> bool:
        """Whether a request of lower-cased method `key` with `params` is parked by this."""
        if self.released or key != self._key:
            return False
        if self.chat_id is not None and params.get("chat_id") != self.chat_id:
            return False
        if self.after > 0:
            self.after -= 1  # (asked once per request: a request let through is not parked)
            return False
        return True

    async def park(self) -> None:
        """Wait until released (called by the server for each matching request)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._parked.append(fut)
        self._arrived.set()
        try:
            await fut
        finally:
            if fut in self._parked:  # cancelled while parked
                self._parked.remove(fut)

    def release(self) -> None:
        """Stop parking and answer the parked requests normally, in arrival order."""
        self.released = True
        if self in self._server._holds:
            self._server._holds.remove(self)
        parked, self._parked = self._parked, []
        # Futures resolve in this order and each request then runs to its answer without
        # awaiting, so the answers follow arrival order.
        for fut in parked:
            if not fut.done():
                fut.set_result(None)

    async def wait_held(
        self,
        n: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109 - generous: only a failing wait takes it
    ) -> None:
        """Wait until at least `n` requests are parked; TimeoutError with a dump otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self._parked) < n:
            remaining = deadline - loop.time()
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(remaining, 0.0))
            except TimeoutError:
                raise TimeoutError(
                    f"{self!r}: {n} requests not parked within {timeout}s\n{self._server.dump()}"
                ) from None


class FaultsMixin(ServerState):
    """What a test calls to make the fake fail, and where a request meets those failures."""

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with `status` (429 carries retry_after)."""
        parameters: JSON | None = None
        if status == 429:
            description = f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif status == 400:
            description = "Bad Request: injected failure"
        elif status == 403:
            description = BLOCKED
        else:
            try:
                description = HTTPStatus(status).phrase
            except ValueError:
                description = f"Error {status}"
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend(Failure(status, description, parameters) for _ in range(times))

    def forbid_chat(self, chat_id: int) -> None:
        """Make every send/edit to `chat_id` fail with 403 (bot blocked)."""
        self._forbidden.add(chat_id)

    def allow_chat(self, chat_id: int) -> None:
        """Undo `forbid_chat`."""
        self._forbidden.discard(chat_id)

    def fail_chat(
        self, chat_id: int, status: int, description: str, *, times: int | None = None
    ) -> None:
        """Fail every send, edit, delete or chat action in `chat_id` with `status`.

        Use `CHAT_NOT_FOUND` (400) or `USER_DEACTIVATED` (403) for Telegram's texts. `times`
        limits it to the next n such requests; None lasts until `clear_chat_failures`. These
        are Telegram's answers, not the bot's mistakes, so they are not violations.
        """
        if times is not None and times <= 0:
            self._chat_failures.pop(chat_id, None)
            return
        self._chat_failures[chat_id] = ChatFailure(
            status, description, _retry_after(status, description), times
        )

    def clear_chat_failures(self, chat_id: int) -> None:
        """Undo `fail_chat` for `chat_id`."""
        self._chat_failures.pop(chat_id, None)

    def hold(self, method: str, *, chat_id: int | None = None, after: int = 0) -> Hold:
        """Park requests of `method` (to `chat_id` if given), from the one after the next `after`
        on, until the returned Hold's release().

        Parked requests count as in flight, so `settle()` waits for them; `stop()` releases
        every hold.
        """
        hold = Hold(self, method, chat_id, after)
        self._holds.append(hold)
        return hold

    def forget_file_ids(self) -> None:
        """Make every file_id issued so far unknown, like a stored id Telegram now rejects."""
        self._forgotten_files |= self._issued_files
        self._issued_files = set()

    # ------------------------------------------------------------------ meeting them

    async def _wait_holds(self, key: str, params: JSON) -> None:
        # A request stays parked while any matching hold is active, one hold after another.
        while True:
            hold = next((h for h in self._holds if h.matches(key, params)), None)
            if hold is None:
                return
            await hold.park()

    def _raise_injected(self, key: str, params: JSON) -> None:
        """Raise the failure injected for this call of lower-cased method `key`, if any."""
        failures = self._failures.get(key)
        if failures:
            f = failures.popleft()
            raise ApiError(f.status, f.description, violation=False, parameters=f.parameters)
        if self._chat_failures and key in _CHAT_METHODS:
            self._check_chat_failure(params)

    def _check_chat_failure(self, params: JSON) -> None:
        cid = params.get("chat_id")
        if not isinstance(cid, int):
            return
        f = self._chat_failures.get(cid)
        if f is None:
            return
        if f.remaining is not None:
            f.remaining -= 1
            if f.remaining <= 0:
                del self._chat_failures[cid]
        raise ApiError(f.status, f.description, violation=False, parameters=f.parameters)
