"""`/healthz` and `/metrics`: on the webhook server's port, or on `METRICS_PORT` of their own.

`/healthz` answers 200 and a small JSON while this instance can do its work,
503 and the reasons when it cannot: the database does not answer (within
`CHECK_TIMEOUT`), the delivery worker is not running although enabled, an
update has been in hand longer than `HEALTH_MAX_UPDATE_SECONDS`, or a notice
(a reply to a member, a relayed grievance answer: the outbox's most urgent
rows) has waited past due longer than `HEALTH_MAX_OUTBOX_LAG_SECONDS`. Bulk
rows (a broadcast to 100,000 members takes an hour at Telegram's pace) are
reported but never fail the check: a long broadcast is not a sick instance.

`/metrics` is `core.metrics` in Prometheus's text format; the gauges that
come from the database (outbox depth by status, lags, conversation rows) are
read at scrape time with two or three index-only counts.

Neither says anything about anyone: numbers, statuses and code names only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from telegram.ext import Application

from core.runtime import Runtime, runtime_of
from jobs.delivery import delivery_of
from storage import conversations, outbox

if TYPE_CHECKING:  # aiohttp's server is imported when a server is built, not with the bot
    from aiohttp import web

log = logging.getLogger(__name__)

# Seconds the database gets to answer a check: a load balancer asks every few seconds.
CHECK_TIMEOUT = 3.0


@dataclass
class Health:
    """What `/healthz` says: healthy or not, why not, and the figures behind it."""

    reasons: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.reasons

    def body(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "failing", "reasons": self.reasons, **self.figures}


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else round(max(0.0, (now - since).total_seconds()), 3)


async def check(application: Application[Any, Any, Any, Any, Any, Any]) -> Health:
    """Database, delivery worker and lag, as `/healthz` reports them."""
    runtime = runtime_of(application)
    settings = runtime.settings
    metrics = runtime.metrics
    health = Health()
    now = runtime.now()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), runtime.sessions() as session:
            await session.execute(text("SELECT 1"))
            notice_due = await outbox.oldest_due(session, now, max_priority=outbox.PRIORITY_NOTICE)
            any_due = await outbox.oldest_due(session, now)
    except Exception as error:  # unreachable, refused, timed out: the reason is the class
        metrics.database_up.set(0)
        health.reasons.append(f"database unreachable ({type(error).__name__})")
        health.figures["database"] = "unreachable"
    else:
        metrics.database_up.set(1)
        health.figures["database"] = "ok"
        lag = _age(now, notice_due)
        health.figures["outbox_lag_seconds"] = lag
        health.figures["outbox_bulk_lag_seconds"] = _age(now, any_due)
        if lag > settings.health_max_outbox_lag_seconds:
            health.reasons.append(f"notices waiting {lag:.0f} s past due")
    worker = delivery_of(application)
    if not settings.delivery_enabled:
        health.figures["delivery"] = "disabled"
        metrics.delivery_up.set(0)
    elif worker is not None and worker.alive:
        health.figures["delivery"] = "running"
        metrics.delivery_up.set(1)
    else:
        health.figures["delivery"] = "stopped"
        metrics.delivery_up.set(0)
        health.reasons.append("delivery worker not running")
    if runtime.takes_updates:
        oldest = round(metrics.oldest_update_seconds(), 3)
        health.figures["update_lag_seconds"] = oldest
        health.figures["updates_queued"] = application.update_queue.qsize()
        if oldest > settings.health_max_update_seconds:
            health.reasons.append(f"an update in hand for {oldest:.0f} s")
    return health


async def refresh_from_database(runtime: Runtime) -> None:
    """Fill the gauges that live in the database; on failure, drop them rather than lie."""
    metrics = runtime.metrics
    now = runtime.now()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), runtime.sessions() as session:
            depth = await outbox.depth(session)
            notice_due = await outbox.oldest_due(session, now, max_priority=outbox.PRIORITY_NOTICE)
            any_due = await outbox.oldest_due(session, now)
            live = await conversations.count_live(session, now)
    except Exception:  # the scrape still answers: database_up says why the rest is missing
        metrics.database_up.set(0)
        metrics.outbox_rows.clear()
        return
    metrics.database_up.set(1)
    for status, count in depth.items():
        metrics.outbox_rows.labels(status.value).set(count)
    metrics.outbox_lag.set(_age(now, notice_due))
    metrics.outbox_bulk_lag.set(_age(now, any_due))
    metrics.conversations.set(live)


def add_routes(
    app: web.Application, application: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    """GET `/healthz` and `/metrics` for ``application``, on an aiohttp app (the webhook's)."""
    from aiohttp import web

    async def healthz(request: web.Request) -> web.Response:
        health = await check(application)
        return web.json_response(health.body(), status=200 if health.ok else 503)

    async def metrics(request: web.Request) -> web.Response:
        runtime = runtime_of(application)
        await refresh_from_database(runtime)
        worker = delivery_of(application)
        runtime.metrics.delivery_up.set(1 if worker is not None and worker.alive else 0)
        return web.Response(
            body=runtime.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


class HealthServer:
    """`/healthz` and `/metrics` on a port of their own (`union-bot run`, `worker`)."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        from aiohttp import web

        app = web.Application()
        add_routes(app, application)
        self._runner = web.AppRunner(app, access_log=None)

    async def start(self, listen: str, port: int) -> None:
        from aiohttp import web

        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, listen, port).start()
        except OSError as error:  # the port is taken or the address is not ours
            await self._runner.cleanup()
            log.error(
                "cannot serve /healthz and /metrics on %s:%s (METRICS_LISTEN, METRICS_PORT): %s",
                listen,
                port,
                error.strerror or type(error).__name__,
            )
            raise
        log.info("health and metrics on %s:%s", listen, port)

    async def stop(self) -> None:
        await self._runner.cleanup()
