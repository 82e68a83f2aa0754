"""The HTTP face of the Bot API: ``/bot{token}/{method}`` and ``/file/bot{token}/{path}``.

One handler does what every method has in common, in Telegram's order: check the
token, find the method (names are case-insensitive, as in Telegram), read the
parameters, apply injected faults, run the method, and answer with the standard
envelope. Every call is written to the call log with its outcome, whatever that is.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

from aiohttp import web

from sandbox import api_chats, api_media, api_messages, api_updates
from sandbox.actions import Actions
from sandbox.context import ApiContext, Handler, UrlFetcher, WebhookControl
from sandbox.errors import ApiError
from sandbox.limits import FaultInjector, RateLimiter
from sandbox.params import Params
from sandbox.state import World

log = logging.getLogger(__name__)

METHODS: dict[str, tuple[str, Handler]] = {
    name.lower(): (name, handler)
    for module in (api_updates, api_messages, api_media, api_chats)
    for name, handler in module.METHODS.items()
}
CLIENT_GONE = 499  # recorded (never sent) when the client disconnects mid-request
_dumps = partial(json.dumps, ensure_ascii=False)


def _envelope(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status, dumps=_dumps)


class BotApi:
    """Request handlers for the Bot API routes of one sandbox server."""

    def __init__(
        self,
        world: World,
        actions: Actions,
        limiter: RateLimiter,
        faults: FaultInjector,
        webhooks: WebhookControl,
        fetch_url: UrlFetcher,
    ) -> None:
        self.world = world
        self.actions = actions
        self.limiter = limiter
        self.faults = faults
        self.webhooks = webhooks
        self.fetch_url = fetch_url

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/bot{token}/{method}", self.handle_method),
            web.get("/file/bot{token}/{path:.+}", self.handle_file),
        ]

    async def handle_method(self, request: web.Request) -> web.Response:
        bot = self.world.bot_for_token(request.match_info["token"])
        if bot is None:
            return _envelope(401, "Unauthorized")
        if request.method not in ("GET", "POST"):
            return _envelope(405, "Method Not Allowed")
        entry = METHODS.get(request.match_info["method"].lower())
        if entry is None:
            return _envelope(404, "Not Found")
        name, handler = entry
        try:
            params = await Params.from_request(request)
        except ApiError as error:
            return web.json_response(error.envelope(), status=error.status, dumps=_dumps)
        record = self.world.calls.begin(bot.id, name, params.summary())
        status, fault = CLIENT_GONE, None
        description: str | None = "client disconnected"
        try:
            triggered = self.faults.take(name)
            failure, before, after = triggered.failure, triggered.before, triggered.after
            if before:
                await asyncio.sleep(before)
            if triggered.drop == "before" and triggered.dropped_by is not None:
                fault = f"drop#{triggered.dropped_by.id}"
                description = "connection dropped before the method ran"
                return _hang_up(request)
            try:
                if failure is not None:
                    fault = f"fail#{failure.id}"
                    raise failure.error()
                ctx = ApiContext(
                    self.world,
                    self.actions,
                    self.limiter,
                    self.webhooks,
                    self.fetch_url,
                    bot,
                    params,
                    name,
                )
                body: dict[str, Any] = {"ok": True, "result": await handler(ctx)}
                code, text = 200, None
            except ApiError as error:
                body, code, text = error.envelope(), error.status, error.description
            except Exception as error:  # a sandbox bug must still answer like a server
                log.exception("sandbox failed on %s", name)
                text = f"Internal Server Error: sandbox failed: {error!r}"
                body, code = {"ok": False, "error_code": 500, "description": text}, 500
            if after:
                await asyncio.sleep(after)
            status, description = code, text
            if triggered.drop == "after" and triggered.dropped_by is not None:
                fault = f"drop#{triggered.dropped_by.id}"
                status, description = CLIENT_GONE, "connection dropped after the method ran"
                return _hang_up(request)
            return web.json_response(body, status=code, dumps=_dumps)
        finally:
            self.world.calls.finish(record, status, description, fault=fault)
            self.world.events.emit(
                "call",
                _chat_of(params),
                bot_id=bot.id,
                call_seq=record.seq,
                method=name,
                status=status,
                description=description,
            )

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        if self.world.bot_for_token(request.match_info["token"]) is None:
            return _envelope(401, "Unauthorized")
        record = self.world.file_paths.get(request.match_info["path"])
        if record is None:
            return _envelope(404, "Not Found")
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )


def _hang_up(request: web.Request) -> web.Response:
    """Close the connection without an answer: the client sees the server disconnect."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=CLIENT_GONE)


def _chat_of(params: Params) -> int | None:
    """The chat a call was about, for the event stream (None if it names none)."""
    value = params.raw("chat_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
