"""The webhook server of `union-bot webhook`: every update Telegram POSTs is taken or skipped.

PTB's own webhook server answers an update it cannot parse with 400 (and a
body that is not JSON with 500) after logging the raw data, member ids and text
included. Telegram retries any non-2xx answer, so one bad update would be logged
again and again and would hold back every update after it. Here each POST is
checked as `bot.updates` checks a getUpdates answer: unreadable ones get 200 and
one log line without content, readable ones go to the application's queue.

And each readable update is answered only once it has been handled (or after
`ANSWER_WITHIN` seconds). PTB's server answers 200 the moment an update is
queued, so an instance killed with updates still queued (`kill -9`, a lost
machine) loses them: Telegram counts them delivered. Answering after handling
makes an instance that dies leave its updates unanswered, and Telegram (or the
balancer) sends them again, to another instance. The cost is the in-flight
window: an update whose handling had already begun when its instance died may
be handled twice (at most the updates that instance was handling right then),
and one whose step was saved but not yet answered is read again against the
step it moved on to. Closing that would take the handled update ids in the
database, written with the step.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from telegram.ext import Application

from bot.health import add_routes
from bot.processor import PerChatUpdateProcessor
from bot.updates import Once, parsed_updates

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram gives up on a webhook request after about a minute and sends it again: an
# update still being handled after this long is answered anyway, so it is not doubled.
ANSWER_WITHIN = 45.0


class Handled:
    """Futures for the updates the webhook handed over, resolved once the processor finished each."""

    def __init__(self, application: Application) -> None:
        self._waiting: dict[int, tuple[object, asyncio.Future[None]]] = {}
        processor = application.update_processor
        self.tracking = isinstance(processor, PerChatUpdateProcessor)
        if isinstance(processor, PerChatUpdateProcessor):
            processor.listeners.append(self._finished)

    def expect(self, update: object) -> asyncio.Future[None]:
        """A future the processor's listener resolves when ``update`` (this object) is done."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[id(update)] = (update, future)  # the update kept alive: its id stays unique
        return future

    def forget(self, update: object) -> None:
        self._waiting.pop(id(update), None)

    def _finished(self, update: object) -> None:
        waiting = self._waiting.pop(id(update), None)
        if waiting is not None and not waiting[1].done():
            waiting[1].set_result(None)

    async def wait(self, updates: list[Any], within: float) -> None:
        """Until every one of ``updates`` (each `expect`ed first) was handled, or ``within`` passed."""
        futures = [self._waiting[id(u)][1] for u in updates if id(u) in self._waiting]
        try:
            await asyncio.wait_for(asyncio.gather(*futures), within)
        except TimeoutError:
            log.warning("answered a webhook request before its update was handled (slow)")
        finally:
            for update in updates:
                self.forget(update)


def webhook_app(application: Application, path: str, secret_token: str | None) -> web.Application:
    """An aiohttp application taking updates at ``/<path>`` into ``application``.

    It serves `/healthz` and `/metrics` too (`bot.health`): a reverse proxy that
    forwards only ``/<path>`` keeps them off the internet.
    """
    once = Once()
    handled = Handled(application)

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if secret_token is not None and not hmac.compare_digest(given, secret_token):
            log.warning("refused a webhook request without the right secret token")
            return web.Response(status=403)
        try:
            raw = json.loads(await request.read())
        except ValueError:  # not JSON, or not UTF-8
            if once.first("not json"):
                log.warning("skipped a webhook request whose body is not JSON")
            return web.Response(status=200)
        taken = parsed_updates([raw], application.bot, once)
        for update in taken:
            if handled.tracking:
                handled.expect(update)
            await application.update_queue.put(update)
        # Answered once handled: an instance that dies leaves it unanswered, so it comes again.
        await handled.wait(taken, ANSWER_WITHIN)
        return web.Response(status=200)

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/" + path.strip("/"), receive)
    add_routes(app, application)
    return app


async def serve(
    application: Application,
    *,
    listen: str,
    port: int,
    path: str,
    url: str,
    secret_token: str | None,
    allowed_updates: Sequence[str],
) -> None:
    """Run the bot behind the webhook until SIGINT or SIGTERM, as `run_webhook` would."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(webhook_app(application, path, secret_token), access_log=None)
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        await runner.setup()
        try:
            await web.TCPSite(runner, listen, port).start()
            await application.bot.set_webhook(
                url, secret_token=secret_token, allowed_updates=list(allowed_updates)
            )
            await stop.wait()
        finally:
            await runner.cleanup()
            await application.stop()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
