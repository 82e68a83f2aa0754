"""The worker's decisions without a network: error classification, wake-up, resilience."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from jobs.delivery import DeliveryConfig, DeliveryWorker
from jobs.outcomes import Kind, classify, maybe_delivered
from jobs.sender import BotSender
from storage import outbox
from storage.db import make_engine, make_session_factory, transaction
from storage.outbox import ClaimedMessage
from tests.support.clock import T0

CONFIG = DeliveryConfig(max_attempts=4, backoff_base=2.0, backoff_max=10.0)


def message(attempts: int = 0, at_most_once: bool = True) -> ClaimedMessage:
    return ClaimedMessage(
        id=1,
        key="k",
        kind="test",
        chat_id=42,
        member_id=None,
        group_key=None,
        payload=outbox.payload("sendMessage", text="x"),
        sensitive=False,
        priority=100,
        not_before=T0,
        attempts=attempts,
        at_most_once=at_most_once,
        claimed_by="w",
    )


def caused(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


def test_permanent_answers() -> None:
    blocked = classify(Forbidden("Forbidden: bot was blocked by the user"), message(), CONFIG)
    assert blocked.kind is Kind.BLOCKED and "blocked by the user" in (blocked.error or "")
    invalid = classify(BadRequest("Bad Request: chat not found"), message(), CONFIG)
    assert invalid.kind is Kind.INVALID and "Chat not found" in (invalid.error or "")
    assert classify(ChatMigrated(-1001), message(), CONFIG).kind is Kind.INVALID
    assert classify(outbox.PayloadError("erased"), message(), CONFIG).kind is Kind.INVALID


def test_flood_control_requeues_and_pauses() -> None:
    outcome = classify(RetryAfter(7), message(attempts=50), CONFIG)
    assert outcome.kind is Kind.RETRY
    assert outcome.backoff == timedelta(seconds=7) and outcome.pause == 7


def test_transient_errors_back_off_then_fail_with_the_reason() -> None:
    bad_gateway = NetworkError("Bad Gateway")  # an error answer: not delivered
    first = classify(bad_gateway, message(attempts=0), CONFIG)
    third = classify(bad_gateway, message(attempts=2), CONFIG)
    assert (first.kind, first.backoff) == (Kind.RETRY, timedelta(seconds=2))
    assert (third.kind, third.backoff) == (Kind.RETRY, timedelta(seconds=8))
    last = classify(bad_gateway, message(attempts=3), CONFIG)
    assert last.kind is Kind.FAILED and last.error == (
        "gave up after 4 attempts: NetworkError: Bad Gateway"
    )
    assert CONFIG.backoff(10) == timedelta(seconds=10)  # capped


def test_ambiguous_timeouts_keep_each_row_s_promise() -> None:
    read_timeout = caused(TimedOut(), httpx.ReadTimeout("late"))
    dropped = caused(NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("x"))
    for error in (read_timeout, dropped):
        assert maybe_delivered(error)  # type: ignore[arg-type]
        once = classify(error, message(at_most_once=True), CONFIG)
        assert once.kind is Kind.FAILED and "not resent (at-most-once)" in (once.error or "")
        assert classify(error, message(at_most_once=False), CONFIG).kind is Kind.RETRY


def test_errors_that_prove_nothing_was_sent_are_retried_even_at_most_once() -> None:
    for cause in (httpx.ConnectTimeout("x"), httpx.PoolTimeout("x"), httpx.ConnectError("x")):
        error = caused(
            TimedOut() if "Timeout" in type(cause).__name__ else NetworkError("x"), cause
        )
        assert not maybe_delivered(error)  # type: ignore[arg-type]
        assert classify(error, message(at_most_once=True), CONFIG).kind is Kind.RETRY


def test_unknown_errors_keep_only_their_class_name() -> None:
    outcome = classify(ValueError("member 12345 wrote: secret"), message(), CONFIG)
    assert outcome.kind is Kind.RETRY and outcome.error == "ValueError"


async def test_on_commit_fires_after_commit_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fired: list[str] = []
    async with transaction(sessions) as session:
        body = outbox.payload("sendMessage", text="a")
        await outbox.enqueue(session, key="a", kind="t", chat_id=1, payload=body, now=T0)
        outbox.on_commit(session, lambda: fired.append("a"))
        assert fired == []
    assert fired == ["a"]
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            outbox.on_commit(session, lambda: fired.append("b"))
            raise RuntimeError("rolled back")
    assert fired == ["a"]


class NeverSender:
    """A sender that must not be reached."""

    async def start(self) -> None:
        return None

    async def send(self, method: str, params: dict[str, Any]) -> int | None:
        raise AssertionError("no row should be sent")

    async def close(self) -> None:
        return None


async def test_a_broken_database_is_logged_once_and_never_crashes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database without the outbox table: every query fails.
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    worker = DeliveryWorker(
        make_session_factory(engine),
        NeverSender(),
        config=DeliveryConfig(poll=0.02, lease=3),
    )
    caplog.set_level(logging.ERROR, logger="jobs.delivery")
    try:
        await worker.start()
        for _ in range(5):
            worker.wake()
            await asyncio.sleep(0.05)
        assert worker.running
        await worker.stop()
    finally:
        await engine.dispose()
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "claiming due rows" in m]) == 1
    assert all("OperationalError" in m for m in messages)
    assert "at storage.outbox." in messages[0]  # where, in our code
    assert all("SELECT" not in m and "UPDATE" not in m for m in messages)  # no SQL, no data


def test_aiohttp_failures_are_classified_like_httpx_ones() -> None:
    never = caused(TimedOut(), aiohttp.ConnectionTimeoutError("connect"))
    maybe = caused(TimedOut(), aiohttp.SocketTimeoutError("read"))
    dropped = caused(NetworkError("x"), aiohttp.ServerDisconnectedError())
    assert not maybe_delivered(never)  # type: ignore[arg-type]
    assert maybe_delivered(maybe) and maybe_delivered(dropped)  # type: ignore[arg-type]


async def test_a_refused_connection_is_a_network_error_that_sent_nothing() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = BotSender.for_api(
        "123:abcdefghijklmnopqrstuvwxyz", f"http://127.0.0.1:{port}", DeliveryConfig()
    )
    await sender.start()  # getMe fails too: logged, not raised
    try:
        with pytest.raises(NetworkError) as caught:
            await sender.send("sendMessage", {"chat_id": 1, "text": "x"})
    finally:
        await sender.close()
    assert not maybe_delivered(caught.value)
    assert classify(caught.value, message(), CONFIG).kind is Kind.RETRY
