"""Bot API methods for identity and getting updates: getMe, getUpdates and webhooks.

getUpdates follows Telegram's rules: ``offset`` confirms every earlier update, a
negative offset keeps only the newest ``-offset`` ones, long polling waits up to
``timeout`` seconds and returns as soon as an update arrives. Only one request may
poll at a time: a newer one terminates the older with 409 Conflict, which is also
what makes a client that vanished mid-poll harmless. While a webhook is set,
getUpdates is refused.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox import schema
from sandbox.context import ApiContext, Handler
from sandbox.errors import ApiError, bad_request
from sandbox.state import ALL_UPDATE_TYPES, PollSlot, WebhookConfig

TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
MAX_LIMIT = 100
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


async def get_me(ctx: ApiContext) -> dict[str, Any]:
    return schema.me(ctx.bot)


def _allowed_updates(ctx: ApiContext) -> None:
    """Store ``allowed_updates`` when given; an empty list means the default set."""
    value = ctx.params.get_json("allowed_updates")
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("can't parse allowed_updates JSON object")
    ctx.bot.allowed_updates = [v for v in value if v in ALL_UPDATE_TYPES] or None


async def get_updates(ctx: ApiContext) -> list[dict[str, Any]]:
    bot = ctx.bot
    if bot.webhook is not None:
        raise ApiError(409, WEBHOOK_ACTIVE)
    offset = ctx.params.get_int("offset")
    limit = ctx.params.get_int("limit") or MAX_LIMIT
    limit = max(1, min(MAX_LIMIT, limit))
    timeout = max(0, ctx.params.get_int("timeout") or 0)
    _allowed_updates(ctx)
    if bot.poller is not None:
        bot.poller.terminated = True
    slot = PollSlot()
    bot.poller = slot
    bot.updates.changed.notify()  # wake the terminated request, if any
    queue = bot.updates
    try:
        if offset is not None and offset < 0:
            queue.keep_last(-offset)
            offset = None
        elif offset:
            queue.acknowledge_before(offset)
        deadline = time.monotonic() + timeout
        while True:
            if slot.terminated:
                raise ApiError(409, TERMINATED)
            if bot.webhook is not None:
                raise ApiError(409, WEBHOOK_ACTIVE)
            batch = [u for u in queue.pending if offset is None or u["update_id"] >= offset]
            remaining = deadline - time.monotonic()
            if batch or ctx.world.closed or remaining <= 0:
                batch = batch[:limit]
                queue.mark_fetched(batch)
                return batch
            await queue.changed.wait(remaining)
    finally:
        if bot.poller is slot:
            bot.poller = None


async def set_webhook(ctx: ApiContext) -> bool:
    bot = ctx.bot
    url = (ctx.params.get_str("url") or "").strip()
    if not url:
        return await delete_webhook(ctx)
    if not url.lower().startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = ctx.params.get_str("secret_token")
    if secret is not None and not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = ctx.params.get_int("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    _allowed_updates(ctx)
    if ctx.params.get_bool("drop_pending_updates"):
        bot.updates.drop_all()
    bot.webhook = WebhookConfig(url=url, secret_token=secret, max_connections=max_connections)
    bot.updates.changed.notify()  # a waiting getUpdates now fails with 409
    ctx.webhooks.webhook_changed(bot)
    ctx.world.events.emit("webhook", None, bot_id=bot.id, url=url)
    return True


async def delete_webhook(ctx: ApiContext) -> bool:
    bot = ctx.bot
    if ctx.params.get_bool("drop_pending_updates"):
        bot.updates.drop_all()
    if bot.webhook is not None:
        bot.webhook = None
        ctx.webhooks.webhook_changed(bot)
        ctx.world.events.emit("webhook", None, bot_id=bot.id, url="")
    return True


async def get_webhook_info(ctx: ApiContext) -> dict[str, Any]:
    return schema.webhook_info(ctx.bot)


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
