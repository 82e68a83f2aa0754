"""An aiohttp transport for python-telegram-bot: the delivery worker's, the replies' and
getUpdates' (`bot.request.CommitFirstRequest`, `bot.updates.UpdatesRequest`).

Why not PTB's default (httpx): measured with `benchmarks/broadcast.py`, httpx
spent about 1 ms of CPU per request in the worker — its connection pool walks
every connection, with a system call each, on every request — which capped a
1000 msg/s paid broadcast at ~0.7 of the rate on a two-core machine. aiohttp
(already a dependency, for the sandbox) does the same work for a fraction of
that. PTB still builds the requests and turns answers into its exceptions;
only the bytes move differently.

Errors keep PTB's contract: timeouts become `telegram.error.TimedOut`, other
transport failures `telegram.error.NetworkError`, each with the aiohttp
exception as ``__cause__`` so `jobs.delivery.maybe_delivered` can tell a
request that never left (connect errors and timeouts) from one that may have
reached Telegram.
"""

from __future__ import annotations

from ssl import SSLContext
from typing import TYPE_CHECKING

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from storage.db import report_if_holding

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput


def _given(value: ODVInput[float], default: float | None) -> float | None:
    # PTB passes BaseRequest.DEFAULT_NONE for "use this request object's default", the
    # only default marker it sends for timeouts; mypy cannot narrow by that identity.
    return default if value is BaseRequest.DEFAULT_NONE else value  # type: ignore[return-value]


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` over one `aiohttp.ClientSession` with a bounded connection pool."""

    __slots__ = (
        "_connect_timeout",
        "_connections",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_ssl",
    )

    def __init__(
        self,
        *,
        connections: int = 16,
        read_timeout: float | None = 15.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 15.0,
        ssl: SSLContext | bool = True,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._ssl = ssl
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connections, enable_cleanup_closed=True, ssl=self._ssl
            )
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("this AiohttpRequest is not initialized")
        report_if_holding(url)  # the worker commits before it sends (bot.request)
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers waiting for a pooled connection and connecting.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut(f"aiohttp {type(error).__name__}") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}") from error


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields as PTB encodes them (JSON values as strings), with files as multipart."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields
    # Names as they are (UTF-8, RFC 7578), as httpx sends them: aiohttp would percent-encode
    # 附件-2.pdf, and the client would show the escapes.
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
