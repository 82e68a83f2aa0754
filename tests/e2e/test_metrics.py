"""`/healthz` and `/metrics` over real HTTP from a running bot, counters moved by real events.

Polling with `METRICS_PORT` in process (both databases), `union-bot webhook` and
`union-bot worker` as processes, PostgreSQL cut off behind a proxy. Every scrape
is checked for identities in its labels.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from sandbox import SandboxDriver, SandboxUser
from storage import outbox
from storage.db import transaction
from tests.support.bot import BotHarness, fresh_bot, sandbox_server
from tests.support.config import ADMIN_ID, CADRE_CHAT, ESCALATION_CHAT, TOKEN
from tests.support.databases import clean_database
from tests.support.metrics import (
    Samples,
    assert_anonymous,
    healthz,
    scrape,
    total,
    value,
    wait_serving,
)
from tests.support.processes import answered, bot_env, bot_process, free_port
from tests.support.proxy import CuttableProxy


def _anonymous(samples: Samples, *users: SandboxUser) -> None:
    assert_anonymous(
        samples, ADMIN_ID, CADRE_CHAT, ESCALATION_CHAT, *(u.id for u in users), "Metrics"
    )


async def _enqueue(harness: BotHarness, user: SandboxUser, key: str, **extra: Any) -> None:
    async with transaction(harness.runtime.sessions) as session:
        await outbox.enqueue(
            session,
            key=key,
            kind="test",
            chat_id=user.id,
            payload=outbox.payload("sendMessage", text=f"outbox {key}"),
            now=harness.clock(),
            **extra,
        )
    if harness.runtime.delivery is not None:
        harness.runtime.delivery.wake()


async def _moved(
    harness: BotHarness, port: int, name: str, at_least: float, **labels: str
) -> Samples:
    """Scrape until ``name`` (summed over series with ``labels``) reaches ``at_least``."""

    async def reached() -> Samples | None:
        samples = await scrape(port)
        return samples if total(samples, name, **labels) >= at_least else None

    found: Samples = await harness.driver.wait_for(reached, timeout=30, what=name)
    return found


async def test_polling_bot_counts_updates_deliveries_429s_and_jobs(database_url: str) -> None:
    port = free_port()
    async with fresh_bot(database_url, metrics_port=port, delivery_poll_seconds=0.2) as harness:
        status, body = await healthz(port)
        assert status == 200, body
        assert body["status"] == "ok" and body["database"] == "ok"
        assert body["delivery"] == "running"
        assert body["outbox_lag_seconds"] == 0 and body["update_lag_seconds"] >= 0

        user = await harness.driver.create_user("Metrics", language_code="en")
        await user.send("/start")
        samples = await scrape(port)
        assert value(samples, "union_bot_updates_total", handler="membership", outcome="ok") == 1
        assert value(samples, "union_bot_update_seconds_count", handler="membership") == 1
        assert value(samples, "union_bot_update_age_seconds_count") == 1
        assert value(samples, "union_bot_updates_in_progress") == 0
        # Answered by the feature that took it, whatever the guards did first.
        await user.press("English")
        samples = await scrape(port)
        assert value(samples, "union_bot_updates_total", handler="membership", outcome="ok") == 2
        # Registration is a conversation: its step is stored until it ends.
        assert value(samples, "union_bot_conversation_rows") >= 1

        # A delivery through the outbox, then one the sandbox answers 429.
        await _enqueue(harness, user, "m:1", priority=outbox.PRIORITY_NOTICE)
        await _moved(harness, port, "union_bot_deliveries_total", 1, outcome="sent")
        await harness.driver.fail_next("sendMessage", status=429, retry_after=1)
        await _enqueue(harness, user, "m:2")
        samples = await _moved(
            harness, port, "union_bot_telegram_rate_limited_total", 1, source="delivery"
        )
        assert value(samples, "union_bot_deliveries_total", outcome="retry") == 1
        # Once the retry is recorded (the row pending again, as the outbox gauge shows),
        # move past its retry_after.
        await _moved(harness, port, "union_bot_outbox_rows", 1, status="pending")
        harness.clock.advance(seconds=2)
        harness.runtime.delivery.wake()  # type: ignore[union-attr]
        await _moved(harness, port, "union_bot_deliveries_total", 2, outcome="sent")

        # A 429 on an interactive reply (PTB's request, not the worker's) and a failed update.
        await harness.driver.fail_next("sendMessage", status=429, retry_after=1)
        await user.send("/help")
        await harness.driver.fail_next("sendMessage", status=500)
        await user.send("/help")
        samples = await scrape(port)
        assert value(samples, "union_bot_telegram_rate_limited_total", source="replies") == 1
        assert total(samples, "union_bot_updates_total", outcome="error") == 2, {
            k: v for k, v in samples.items() if k[0] == "union_bot_updates_total"
        }

        # Jobs: the broadcasts' job runs every few seconds; one that raises counts as failed.
        await _moved(harness, port, "union_bot_job_runs_total", 1, job="broadcasts: start due")

        async def broken(context: object) -> None:
            raise RuntimeError("a job that fails")

        assert harness.application.job_queue is not None
        harness.application.job_queue.run_once(broken, 0, name="test-broken")
        samples = await _moved(harness, port, "union_bot_job_failures_total", 1, job="test-broken")
        assert value(samples, "union_bot_job_runs_total", job="test-broken") == 1
        assert value(samples, "union_bot_job_failures_total", job="broadcasts: start due") == 0

        # From the database at scrape time.
        assert value(samples, "union_bot_outbox_rows", status="pending") == 0
        assert value(samples, "union_bot_database_up") == 1
        assert value(samples, "union_bot_delivery_worker_up") == 1
        _anonymous(samples, user)


async def test_healthz_fails_on_a_late_notice_not_on_a_long_broadcast(sqlite_url: str) -> None:
    port = free_port()
    async with fresh_bot(sqlite_url, metrics_port=port, delivery_enabled=False) as harness:
        user = await harness.driver.create_user("Metrics", language_code="en")
        late = harness.clock() - timedelta(minutes=30)
        await _enqueue(harness, user, "bulk:1", not_before=late)
        status, body = await healthz(port)
        assert status == 200, body
        assert body["delivery"] == "disabled"
        assert body["outbox_bulk_lag_seconds"] == 1800 and body["outbox_lag_seconds"] == 0

        await _enqueue(harness, user, "notice:1", not_before=late, priority=outbox.PRIORITY_NOTICE)
        status, body = await healthz(port)
        assert status == 503
        assert body["reasons"] == ["notices waiting 1800 s past due"]
        samples = await scrape(port)
        assert value(samples, "union_bot_outbox_rows", status="pending") == 2
        assert value(samples, "union_bot_outbox_lag_seconds") == 1800
        _anonymous(samples, user)


async def test_healthz_fails_while_an_update_is_stuck_and_when_delivery_stops(
    sqlite_url: str,
) -> None:
    port = free_port()
    async with fresh_bot(sqlite_url, metrics_port=port, health_max_update_seconds=0.2) as harness:
        user = await harness.driver.create_user("Metrics", language_code="en")
        # Telegram takes 6 s to answer the reply: the update stays in hand that long.
        await harness.driver.delay("sendMessage", seconds=6)
        sending = asyncio.create_task(user.send("/start"))  # settles once the bot is done

        async def failing() -> dict[str, Any] | None:
            status, body = await healthz(port)
            return body if status == 503 else None

        body = await harness.driver.wait_for(failing, timeout=10, what="a failing health check")
        assert body["reasons"][0].startswith("an update in hand for")
        await sending
        assert (await healthz(port))[0] == 200

        from jobs.delivery import stop_delivery

        await stop_delivery(harness.application)
        status, body = await healthz(port)
        assert status == 503 and body["reasons"] == ["delivery worker not running"]


async def test_healthz_503_while_postgresql_is_out_of_reach(pg_database: str) -> None:
    await clean_database(pg_database)
    proxy = CuttableProxy(pg_database)
    await proxy.start()
    port = free_port()
    try:
        async with fresh_bot(proxy.url(), metrics_port=port) as harness:
            assert (await healthz(port))[0] == 200
            await proxy.cut()
            status, body = await healthz(port)
            assert status == 503, body
            assert body["database"] == "unreachable"
            assert body["reasons"][0].startswith("database unreachable (")
            samples = await scrape(port)  # still answers, and says why the rest is missing
            assert value(samples, "union_bot_database_up") == 0
            assert not total(samples, "union_bot_outbox_rows")
            await proxy.restore()

            async def healthy() -> bool:
                return (await healthz(port))[0] == 200

            await harness.driver.wait_for(healthy, timeout=20, what="health after the outage")
    finally:
        await proxy.cut()


async def test_webhook_serves_health_and_metrics_on_its_port(tmp_path: Path) -> None:
    server = sandbox_server()
    base = await server.start()
    port = free_port()
    env = bot_env(
        base,
        f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        WEBHOOK_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET_TOKEN="s3cret-token",
    )
    try:
        async with (
            SandboxDriver(base, TOKEN, auto_settle=False) as driver,
            bot_process("webhook", env),
        ):
            body = await wait_serving(driver, port)
            assert body["delivery"] == "running", body
            user = await driver.create_user("Metrics", language_code="en")
            await answered(user, user.send("/start"))

            async def counted() -> Samples | None:
                samples = await scrape(port)
                done = value(samples, "union_bot_updates_total", handler="membership", outcome="ok")
                return samples if done >= 1 else None

            samples = await driver.wait_for(counted, timeout=20, what="the update counted")
            _anonymous(samples, user)
    finally:
        await server.stop()


async def test_worker_serves_health_and_metrics_on_metrics_port(tmp_path: Path) -> None:
    server = sandbox_server()
    base = await server.start()
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    env = bot_env(base, database, METRICS_PORT=str(port), METRICS_LISTEN="127.0.0.1")
    try:
        async with (
            SandboxDriver(base, TOKEN, auto_settle=False) as driver,
            bot_process("worker", env),
        ):
            body = await wait_serving(driver, port)
            assert body["delivery"] == "running"
            assert "update_lag_seconds" not in body  # a worker takes no updates
            samples = await scrape(port)
            assert value(samples, "union_bot_delivery_worker_up") == 1
            assert not total(samples, "union_bot_updates_total")
            _anonymous(samples)
    finally:
        await server.stop()
