"""Delivering updates to a bot's webhook, one at a time and in order, retrying on failure.

Telegram POSTs each update as JSON to the webhook URL with the secret token in
``X-Telegram-Bot-Api-Secret-Token`` and considers it delivered on any 2xx answer.
Anything else (an error status, a refused connection, a timeout) is recorded as
the webhook's last error (visible in getWebhookInfo) and retried after a backoff
that doubles up to a ceiling. Deliveries are sequential, which keeps the order
strict; that is what a bot sees from Telegram with ``max_connections=1``.

Several instances behind a load balancer: Telegram knows one URL, so the
sandbox plays the balancer too. `WebhookDelivery.set_targets` (control API
``PUT /webhook/targets``) lists the instances' URLs; while it is set, the URL a
bot gave setWebhook is ignored (its secret token is still sent) and each
attempt goes to the next target — in turn (``alternate``) or drawn with a seed
(``random``), so a retry after a refused connection reaches another instance as
it would behind a real balancer. ``concurrency`` above 1 keeps that many
updates in flight at once, never two of one chat (so a member's updates still
arrive in order, while different members' reach both instances at the same
moment).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.state import BotAccount, WebhookConfig, World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POLICIES = ("alternate", "random")
MAX_CONCURRENCY = 100  # Telegram's ceiling for max_connections


@dataclass
class Targets:
    """Where a bot's updates go instead of its webhook URL: a load balancer's pool."""

    urls: list[str]
    policy: str = "alternate"
    seed: int | None = None
    concurrency: int = 1
    attempts: dict[str, int] = field(default_factory=dict)  # url -> requests sent
    delivered: dict[str, int] = field(default_factory=dict)  # url -> updates acknowledged
    _turn: int = field(default=0, repr=False)
    _draws: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("urls must list at least one URL")
        for url in self.urls:
            if not url.lower().startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {url}")
        if self.policy not in POLICIES:
            raise ValueError("policy is alternate or random")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
        self._draws = random.Random(self.seed)

    def next_url(self) -> str:
        """The target of the next attempt (a retry counts as an attempt)."""
        if self.policy == "random":
            url = self._draws.choice(self.urls)
        else:
            url = self.urls[self._turn % len(self.urls)]
            self._turn += 1
        self.attempts[url] = self.attempts.get(url, 0) + 1
        return url

    def to_json(self) -> dict[str, Any]:
        return {
            "urls": list(self.urls),
            "policy": self.policy,
            "seed": self.seed,
            "concurrency": self.concurrency,
            "attempts": dict(self.attempts),
            "delivered": dict(self.delivered),
        }


def chat_of_update(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (its sender's if it names no chat), for ordering."""
    for value in update.values():
        if not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                chat_id = holder["chat"].get("id")
                if isinstance(chat_id, int):
                    return chat_id
        sender = value.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


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
        self.targets: dict[int, Targets] = {}  # bot id -> the balancer's pool, if set
        self._running: dict[int, Targets] = {}  # bot id -> the pool its task delivers to

    def set_targets(self, bot: BotAccount, targets: Targets | None) -> None:
        """Deliver ``bot``'s updates to ``targets`` (None: back to its webhook URL)."""
        if targets is None:
            self.targets.pop(bot.id, None)
        else:
            self.targets[bot.id] = targets
        self.webhook_changed(bot)

    def webhook_changed(self, bot: BotAccount) -> None:
        """Restart delivery for ``bot`` with its current webhook (or stop it).

        With targets set, an instance calling setWebhook again (each does at
        start) changes nothing in flight: the balancer goes on, and each attempt
        sends the secret token of the webhook set at that moment.
        """
        targets = self.targets.get(bot.id)
        task = self._tasks.get(bot.id)
        running = task is not None and not task.done()
        if running and bot.webhook is not None and self._running.get(bot.id) is targets:
            return
        self._tasks.pop(bot.id, None)
        self._running.pop(bot.id, None)
        if task is not None:
            task.cancel()
        if bot.webhook is not None and not self.world.closed:
            run = self._run(bot, bot.webhook) if targets is None else self._spread(bot, targets)
            self._tasks[bot.id] = asyncio.create_task(run, name=f"sandbox-webhook-{bot.id}")
            if targets is not None:
                self._running[bot.id] = targets

    async def _spread(self, bot: BotAccount, targets: Targets) -> None:
        """Deliver to the targets: up to ``concurrency`` updates at once, one per chat."""
        queue = bot.updates
        flying: dict[int, asyncio.Task[None]] = {}  # update id -> its delivery
        busy_chats: set[int] = set()
        try:
            while self._balancing(bot, targets):
                started = False
                for update in list(queue.pending):
                    if len(flying) >= targets.concurrency:
                        break
                    update_id = update["update_id"]
                    chat = chat_of_update(update)
                    if update_id in flying:
                        if chat is not None:
                            busy_chats.add(chat)
                        continue
                    if chat is not None and chat in busy_chats:
                        continue
                    if chat is not None:
                        busy_chats.add(chat)
                    queue.mark_fetched([update])
                    flying[update_id] = asyncio.create_task(self._deliver(bot, targets, update))
                    started = True
                busy_chats.clear()
                if started:
                    continue
                waits: set[asyncio.Future[Any]] = set(flying.values())
                changed = asyncio.ensure_future(queue.changed.next_change().wait())
                waits.add(changed)
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if not changed.done():
                    changed.cancel()
                for update_id in [u for u, task in flying.items() if task.done()]:
                    del flying[update_id]
        finally:
            for task in flying.values():
                task.cancel()

    def _balancing(self, bot: BotAccount, targets: Targets) -> bool:
        return (
            bot.webhook is not None
            and self.targets.get(bot.id) is targets
            and not self.world.closed
        )

    async def _deliver(self, bot: BotAccount, targets: Targets, update: dict[str, Any]) -> None:
        """One update to the targets until one answers 2xx, each attempt to the next target."""
        backoff = self.initial_backoff
        while (hook := bot.webhook) is not None and self._balancing(bot, targets):
            url = targets.next_url()
            error = await self._post(hook, update, url)
            if not self._balancing(bot, targets):
                return
            if error is None:
                targets.delivered[url] = targets.delivered.get(url, 0) + 1
                bot.updates.acknowledge(update["update_id"])
                self.world.events.emit(
                    "webhook", None, bot_id=bot.id, url=url, delivered=update["update_id"]
                )
                return
            hook.last_error_date = self.world.now()
            hook.last_error_message = error
            self.world.events.emit("webhook", None, bot_id=bot.id, url=url, error=error)
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff, backoff * 2)

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

    async def _post(
        self, hook: WebhookConfig, update: dict[str, Any], url: str | None = None
    ) -> str | None:
        """POST one update (to ``url``, else the hook's); None on success, else Telegram's error text."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        try:
            async with self._session().post(
                url or hook.url,
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
