"""The fake Bot API's update queue: updates waiting for the bot, handed out by getUpdates or
delivered to a webhook, confirmed, repeated and filtered as Telegram does."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.support.botapi.models import JSON, ApiError, Redelivery, bad
from tests.support.botapi.rules import DEFAULT_WEBHOOK_CONNECTIONS, OPT_IN_UPDATES, SECRET_HEADER
from tests.support.botapi.state import ServerState

WEBHOOK_TIMEOUT: Final = 10.0  # seconds a webhook may take to answer one delivery
_LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def update_type(update: JSON) -> str | None:
    """The kind of an update ("message", "callback_query"...), or None for a bare update_id."""
    return next((k for k in update if k != "update_id"), None)


def update_chat(update: JSON) -> tuple[str, int] | None:
    """The chat an update belongs to (a button press: the chat of its message, else its
    sender), or None."""
    for kind, body in update.items():
        if not isinstance(body, dict):
            continue
        holder = body.get("message") if kind == "callback_query" else body
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return ("chat", chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return ("chat", sender["id"])
    return None


class UpdatesMixin(ServerState):
    """The queue of updates for the bot and its two ways out: getUpdates and a webhook."""

    # ------------------------------------------------------------------ the queue

    def _wake(self, reason: str) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(reason)
        if self._webhook_event is not None:
            self._webhook_event.set()

    def _push(self, payload: JSON) -> JSON:
        self._update_id += 1
        update = {"update_id": self._update_id, **payload}
        self._pending.append(update)
        self._injected[self._update_id] = update
        self._last_injected = self._update_id
        self._filter_dirty = True
        self._wake("update")
        return update

    def inject_raw(self, payload: JSON) -> JSON:
        """Enqueue ``{"update_id": <next>, **payload}`` unchecked, e.g. one PTB cannot parse.

        The server numbers updates itself, so `payload` must not carry an update_id (use
        `redeliver` to send an update_id again).
        """
        if "update_id" in payload:
            raise ValueError("inject_raw assigns update_id itself; use redeliver() to repeat one")
        return self._push(payload)

    def redeliver(self, update_id: int) -> None:
        """Queue an injected update again (same update_id and content) at the end.

        Telegram does this when the bot crashed before confirming an update. The copy is
        handed out once even if the bot's offset already confirmed that update_id.
        """
        original = self._injected.get(update_id)
        if original is None:
            raise LookupError(f"no injected update {update_id}")
        self._pending.append(Redelivery(original))
        self._filter_dirty = True
        self._wake("update")

    def _all_delivered(self) -> bool:
        """Every injected update was handed out (polling) or confirmed (webhook), or dropped."""
        if self.webhook_url is not None:
            return not self._pending
        if not self._pending:
            return True
        upto = self._delivered
        return all(
            u["update_id"] <= upto and not (isinstance(u, Redelivery) and not u.delivered)
            for u in self._pending
        )

    def _set_allowed(self, value: object) -> None:
        if value is None:
            return  # not given: Telegram keeps the previous setting
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("can't parse allowed updates: an array of strings expected")
        self._allowed = frozenset(value) if value else None
        self._filter_dirty = True

    def _drop_disallowed(self) -> None:
        """Drop pending updates of types allowed_updates excludes, as Telegram never sends them."""
        if not self._filter_dirty:
            return
        self._filter_dirty = False
        allowed = self._allowed

        def wanted(update: JSON) -> bool:
            kind = update_type(update)
            if kind is None:
                return True
            return kind in allowed if allowed is not None else kind not in OPT_IN_UPDATES

        if all(wanted(u) for u in self._pending):
            return
        kept = [u for u in self._pending if wanted(u)]
        self._pending.clear()
        self._pending.extend(kept)

    # ------------------------------------------------------------------ getUpdates

    async def _get_updates(self, params: JSON, request: web.Request) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int) and offset != 0:
            self._confirm(offset)
        if "allowed_updates" in params:
            self._set_allowed(params["allowed_updates"])
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        self._wake("conflict")  # an older long poll is terminated by this one
        self._drop_disallowed()
        if not self._pending and timeout > 0 and not self._closing:
            fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait({fut}, timeout=timeout)
            finally:
                self._waiters.discard(fut)
            if fut.done() and fut.result() == "conflict":
                transport = request.transport
                if transport is None or transport.is_closing():
                    return []  # the client already went away; nobody reads this
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        self._drop_disallowed()
        batch: list[JSON] = []
        for update in self._pending:
            # update_ids only grow within one answer, as from Telegram; a redelivered update
            # behind newer ones waits for the next call.
            if len(batch) == limit or (batch and update["update_id"] <= batch[-1]["update_id"]):
                break
            batch.append(update)
            if isinstance(update, Redelivery):
                update.delivered = True
        if batch:
            self._delivered = max(self._delivered, batch[-1]["update_id"])
            self._last_activity = asyncio.get_running_loop().time()
        return batch

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset < 0:
            while len(pending) > -offset:
                self._delivered = max(self._delivered, pending.popleft()["update_id"])
            return
        while pending and pending[0]["update_id"] < offset:
            front = pending[0]
            if isinstance(front, Redelivery) and not front.delivered:
                break  # put back after this offset was sent: hand it out first
            pending.popleft()
        self._delivered = max(self._delivered, min(offset - 1, self._update_id))

    # ------------------------------------------------------------------ webhook

    def _delete_webhook(self, params: JSON) -> bool:
        self._remove_webhook()
        if params.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _remove_webhook(self) -> None:
        if self.webhook_url is None:
            return
        self.webhook_url = None
        self.webhook_secret = None
        self.webhook_max_connections = DEFAULT_WEBHOOK_CONNECTIONS
        self._cancel_webhook()
        if self._pending:
            # Unconfirmed updates go to getUpdates; none of them was handed out there yet.
            self._delivered = min(u["update_id"] for u in self._pending) - 1

    def _drop_pending(self) -> None:
        while self._pending:
            self._delivered = max(self._delivered, self._pending.popleft()["update_id"])

    def _set_webhook(self, params: JSON) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            self._remove_webhook()  # an empty url removes the webhook, as in Telegram
            return True
        secret = params.get("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad("secret token contains unallowed characters")
        connections = params.get("max_connections")
        if not isinstance(connections, int):
            connections = DEFAULT_WEBHOOK_CONNECTIONS
        self._set_allowed(params.get("allowed_updates"))
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self.webhook_url = url
        self.webhook_secret = secret
        self.webhook_max_connections = min(max(connections, 1), 100)
        self._restart_webhook()
        return True

    def _get_webhook_info(self, _params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self._allowed is not None:
                info["allowed_updates"] = sorted(self._allowed)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    def _restart_webhook(self) -> None:
        self._cancel_webhook()
        if self.webhook_url is None or self._runner is None or self._closing:
            return  # start() resumes delivery
        task = asyncio.get_running_loop().create_task(self._webhook_loop(self.webhook_url))
        self._webhook_tasks.add(task)
        task.add_done_callback(self._webhook_tasks.discard)

    def _cancel_webhook(self) -> None:
        for task in self._webhook_tasks:
            task.cancel()

    async def _stop_webhook(self) -> None:
        tasks = list(self._webhook_tasks)
        self._cancel_webhook()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _webhook_loop(self, url: str) -> None:
        """Deliver pending updates to `url` in rounds until the webhook is removed or changed."""
        event = self._webhook_event
        assert event is not None, "start() creates the event"
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                self._drop_disallowed()
                if not self._pending:
                    event.clear()
                    await event.wait()
                    continue
                # Each round tries every pending update in update_id order; updates that
                # failed are retried in the next round, after the delay.
                attempt = sorted(self._pending, key=lambda u: int(u["update_id"]))
                if not await self._webhook_round(session, url, attempt):
                    await asyncio.sleep(self.webhook_retry_delay)

    async def _webhook_round(
        self, session: aiohttp.ClientSession, url: str, updates: list[JSON]
    ) -> bool:
        """Deliver `updates` over at most max_connections connections; True if all confirmed."""
        lanes = self._webhook_lanes(updates)
        queue = iter(lanes)
        all_ok = True

        async def connection() -> None:
            nonlocal all_ok
            # Connections take the next lane when free, so attempts start in update_id order.
            for lane in queue:
                for update in lane:
                    if not await self._deliver(session, url, update):
                        all_ok = False
                        break  # the rest of its lane waits for it (next round)

        count = min(self.webhook_max_connections, len(lanes))
        await asyncio.gather(*(connection() for _ in range(count)))
        return all_ok

    def _webhook_lanes(self, updates: list[JSON]) -> list[list[JSON]]:
        """Updates delivered one after another: each chat's (webhook_chat_order), else each
        update alone."""
        if not self.webhook_chat_order:
            return [[update] for update in updates]
        lanes: dict[object, list[JSON]] = {}
        for update in updates:
            chat = update_chat(update)
            lanes.setdefault(update["update_id"] if chat is None else chat, []).append(update)
        return list(lanes.values())

    async def _deliver(self, session: aiohttp.ClientSession, url: str, update: JSON) -> bool:
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers[SECRET_HEADER] = self.webhook_secret
        status, reason = 0, ""
        error: str | None = None
        if urlsplit(url).hostname not in _LOOPBACK_HOSTS:
            # Tests never reach the internet: anything but loopback counts as unreachable.
            error = "Failed to resolve host: this fake delivers only to 127.0.0.1"
        else:
            body = json.dumps(update, ensure_ascii=False).encode()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    status = resp.status
                    reason = resp.reason or ""
                    await resp.read()
            except aiohttp.ClientConnectorError:
                error = "Connection refused"
            except TimeoutError:
                error = "Connection timed out"
            except aiohttp.ClientError as exc:
                error = f"Connection error: {exc.__class__.__name__}"
        self.webhook_deliveries.append((int(update["update_id"]), status))
        if 200 <= status < 300:
            self._webhook_confirm(update)
            return True
        if error is None:
            error = f"Wrong response from the webhook: {status} {reason}"
        self._webhook_error = (int(time.time()), error)
        return False

    def _webhook_confirm(self, update: JSON) -> None:
        pending = self._pending
        for i, queued in enumerate(pending):
            if queued is update:
                del pending[i]
                break
        self._delivered = max(self._delivered, int(update["update_id"]))
        self._last_activity = asyncio.get_running_loop().time()
