"""A small round-robin HTTP proxy for tests: what nginx does in front of several bot processes.

Each request goes to the next upstream in turn (nginx's default balancing); when an upstream
cannot be reached, the request is tried on the next one (nginx's ``proxy_next_upstream error``),
and only when none answers does the client get a 502. Bodies are buffered both ways, like
nginx's default ``proxy_buffering``.
"""

from __future__ import annotations

import itertools
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp import web

# Headers that belong to one connection, not to the request (RFC 9110, 7.6.1).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class RoundRobinProxy:
    """``async with RoundRobinProxy(["http://127.0.0.1:8081", ...]) as proxy:`` then send
    requests to ``proxy.url``."""

    def __init__(self, upstreams: list[str], *, host: str = "127.0.0.1") -> None:
        if not upstreams:
            raise ValueError("at least one upstream")
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self.host = host
        self.port = 0
        self.forwarded: dict[str, int] = dict.fromkeys(self.upstreams, 0)
        """Requests each upstream answered (any status)."""
        self.unreachable: dict[str, int] = dict.fromkeys(self.upstreams, 0)
        """Connection failures per upstream (the request then went to the next one)."""
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=200),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        first = next(self._turn)
        for step in range(len(self.upstreams)):
            upstream = self.upstreams[(first + step) % len(self.upstreams)]
            try:
                async with self._session.request(
                    request.method, upstream + request.path_qs, data=body, headers=headers
                ) as response:
                    payload = await response.read()
                    answer = {
                        k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP
                    }
                    self.forwarded[upstream] += 1
                    return web.Response(status=response.status, body=payload, headers=answer)
            except aiohttp.ClientConnectorError:
                # Nothing reached this upstream: safe to try the next one, as nginx does.
                self.unreachable[upstream] += 1
        return web.Response(status=502, text="no upstream answered")
