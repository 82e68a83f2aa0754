"""Delivering updates to a bot's webhook, one at a time and in order, retrying on failure.

Telegram POSTs each update as JSON to the webhook URL with the secret token in
``X-Telegram-Bot-Api-Secret-Token`` and considers it delivered on any 2xx answer.
Anything else (an error status, a refused connection, a timeout) is recorded as
the webhook's last error (visible in getWebhookInfo) and retried after a backoff
that doubles up to a ceiling. Deliveries are sequential, which keeps the order
strict; that is what a bot sees from Telegram with ``max_connections=1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from sandbox.state import BotAccount, WebhookConfig, World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookDelivery:
    """One delivery task per bot with a webhook set."""

    def __init__(
        self,
        world: World,
        session: Callable[[], aiohttp.ClientSession],
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        timeout: float = 10.0,
    ) -> None:
        self.world = world
        self._session = session
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def webhook_changed(self, bot: BotAccount) -> None:
        """Restart delivery for ``bot`` with its current webhook (or stop it)."""
        task = self._tasks.pop(bot.id, None)
        if task is not None:
            task.cancel()
        if bot.webhook is not None and not self.world.closed:
            self._tasks[bot.id] = asyncio.create_task(
                self._run(bot, bot.webhook), name=f"sandbox-webhook-{bot.id}"
            )

    async def _run(self, bot: BotAccount, hook: WebhookConfig) -> None:
        backoff = self.initial_backoff
        queue = bot.updates
        while bot.webhook is hook and not self.world.closed:
            if not queue.pending:
                await queue.changed.wait(None)
                continue
            update = queue.pending[0]
            queue.mark_fetched([update])
            error = await self._post(hook, update)
            if bot.webhook is not hook:
                return
            if error is None:
                queue.acknowledge(update["update_id"])
                self.world.events.emit(
                    "webhook", None, bot_id=bot.id, url=hook.url, delivered=update["update_id"]
                )
                backoff = self.initial_backoff
                continue
            hook.last_error_date = self.world.now()
            hook.last_error_message = error
            self.world.events.emit("webhook", None, bot_id=bot.id, url=hook.url, error=error)
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff, backoff * 2)

    async def _post(self, hook: WebhookConfig, update: dict[str, Any]) -> str | None:
        """POST one update; return None on success or Telegram-style error text."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        try:
            async with self._session().post(
                hook.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except aiohttp.ClientError as error:
            return f"Connection failed: {error}"

    async def close(self) -> None:
        """Stop every delivery task and wait for them to finish."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
