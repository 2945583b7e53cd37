"""An aiohttp transport for python-telegram-bot (its documented BaseRequest extension point).

PTB's default transport is httpx. Measured with bench/dispatch.py, httpx and httpcore's pool
bookkeeping cost more CPU per message than everything else in a morning pass together; aiohttp
does the same job with far less overhead. Errors map to PTB's own exceptions as HTTPXRequest
maps them (TimedOut for timeouts, NetworkError for the rest), with one refinement: failures that
provably happened before the request left raise ``NotSent``, so the rate limiter can tell "safe
to resend" from "may already have been delivered".
"""

from __future__ import annotations

import json

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest", "ConnectTimedOut", "NotSent"]

DEFAULT_TIMEOUT = 5.0
JSON_HEADERS = {"Content-Type": "application/json"}


class NotSent(NetworkError):
    """The request never left this process (no connection to Telegram), so it had no effect."""

    __slots__ = ()


class ConnectTimedOut(NotSent, TimedOut):
    """No pooled or new connection within the timeout: a ``TimedOut`` that is also ``NotSent``."""

    __slots__ = ()


def _seconds(value: object, default: float | None) -> float | None:
    if isinstance(value, int | float) or value is None:
        return value
    return default  # PTB's DEFAULT_NONE sentinel: the default of this instance


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool."""

    def __init__(
        self,
        connection_pool_size: int = 64,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        write_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = _seconds(read_timeout, self._read_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        # aiohttp's "connect" covers waiting for a pooled connection plus opening it.
        connect_total = None if connect is None or pool is None else connect + pool
        timeout = aiohttp.ClientTimeout(total=None, connect=connect_total, sock_read=read)

        data: aiohttp.FormData | None = None
        body: bytes | None = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in request_data.multipart_data.items():
                    filename, content, *mime = part
                    form.add_field(
                        name, content, filename=filename, content_type=mime[0] if mime else None
                    )
                data = form
            else:
                # A JSON body (which the Bot API accepts) encodes a 3 KB routine far faster
                # than form-urlencoding it.
                body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
        try:
            async with self._session.request(
                method,
                url,
                data=body if body is not None else data,
                headers=JSON_HEADERS if body is not None else None,
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        # Order matters: ConnectionTimeoutError is a TimeoutError, ClientConnectorError a
        # ClientError.
        except aiohttp.ConnectionTimeoutError as exc:
            # aiohttp's connect timeout covers waiting for the pool and opening the connection.
            raise ConnectTimedOut("Connect timeout: the request was *not* sent.") from exc
        except TimeoutError as exc:
            # A read timeout: Telegram may have received and acted on the request.
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:
            # DNS, refused, TLS handshake: no connection, so nothing was sent.
            raise NotSent(f"aiohttp error: {exc.__class__.__name__}: {exc}") from exc
        except aiohttp.ClientError as exc:
            # Reset or disconnect mid-request: the outcome is unknown.
            raise NetworkError(f"aiohttp error: {exc.__class__.__name__}: {exc}") from exc
