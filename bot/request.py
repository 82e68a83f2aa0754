"""Commit, then talk to Telegram: the rule, kept by the bot's request object.

A handler runs in one unit of work (`handlers.scope`, `storage.db.unit_of_work`),
and handlers reply, answer and edit in the middle of it. If the transaction
stayed open while Telegram answered (150 ms is ordinary, seconds are not rare),
every update in flight would hold a pooled connection — and a row lock, for
the sign-up that took one — for the whole round trip: a rush of 240 taps then
exhausts a pool of 20 and members get "the database is busy".

So the last step before any Bot API request leaves the process commits what
the handler did so far and returns the connection to the pool
(:func:`storage.db.commit_before_io`). It holds by construction: no handler
needs to remember it. The next statement of the handler simply begins a new,
short transaction. The consequence handlers must respect: work committed
before a reply stays committed if the handler fails afterwards.

The rate limiter commits too, before it may wait for a free slot. And the
request checks the rule it keeps: a request made while the task still holds a
connection (a job that calls the bot inside its own ``transaction(...)``) is
logged as an error by :func:`report_if_holding`; the e2e tests fail on that line.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram.ext import AIORateLimiter
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from storage.db import commit_before_io, report_if_holding

if TYPE_CHECKING:
    from telegram._utils.types import JSONDict, ODVInput


class CommitFirstRequest(HTTPXRequest):
    """PTB's HTTPX request that commits the handler's transaction before sending.

    ``on_rate_limited`` is told of each answer 429 (`bot.app` counts them for
    /metrics): PTB's rate limiter retries those inside the request, so nothing
    above it would see them.
    """

    __slots__ = ("on_rate_limited",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_rate_limited: Callable[[], None] | None = None

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
        await commit_before_io()
        report_if_holding(url)
        status, body = await super().do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status == 429 and self.on_rate_limited is not None:
            self.on_rate_limited()
        return status, body


class CommitFirstRateLimiter(AIORateLimiter):
    """PTB's rate limiter, committing first: waiting for a free slot holds no connection."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        await commit_before_io()
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


def bot_request() -> CommitFirstRequest:
    """The request object for the bot's API calls, sized as PTB's builder would size it."""
    return CommitFirstRequest(connection_pool_size=256)
