"""The webhook server of `union-bot webhook`: every update Telegram POSTs is taken or skipped.

PTB's own webhook server answers an update it cannot parse with 400 (and a
body that is not JSON with 500) after logging the raw data, member ids and text
included. Telegram retries any non-2xx answer, so one bad update would be logged
again and again and would hold back every update after it. Here each POST is
checked as `bot.updates` checks a getUpdates answer: unreadable ones get 200 and
one log line without content, readable ones go to the application's queue.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from collections.abc import Sequence

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.health import add_routes
from bot.updates import Once, readable_updates

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(application: Application, path: str, secret_token: str | None) -> web.Application:
    """An aiohttp application taking updates at ``/<path>`` into ``application``.

    It serves `/healthz` and `/metrics` too (`bot.health`): a reverse proxy that
    forwards only ``/<path>`` keeps them off the internet.
    """
    once = Once()

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
        for readable in readable_updates([raw], once):
            update = Update.de_json(readable, application.bot)
            await application.update_queue.put(update)
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
