"""What Telegram's answer (or silence) means for an outbox row: the worker's decisions.

Pure functions of the error and the row, so every rule is tested without a
network (`tests/delivery/test_worker_unit.py`). The rules and the reasons for
them are in the docstring of `jobs.delivery`.
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import aiohttp
import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from storage.outbox import ClaimedMessage, PayloadError

if TYPE_CHECKING:
    from jobs.config import DeliveryConfig


class Kind(enum.StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"
    INVALID = "invalid"
    RETRY = "retry"
    FAILED = "failed"
    RELEASE = "release"


@dataclass(frozen=True)
class Outcome:
    """What to record for one row; ``attempted`` is False when no request was made."""

    kind: Kind
    error: str | None = None
    message_id: int | None = None
    backoff: timedelta = timedelta(0)
    pause: float = 0.0
    attempted: bool = True


def retry_after_seconds(error: RetryAfter) -> float:
    """Seconds Telegram asked to wait, however this PTB hands them over."""
    # PTB 22 warns that `retry_after` will become a timedelta; accept both, quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# Transport failures that happen before a request leaves: connecting, or waiting for a
# pooled connection. (httpx for PTB's default transport, aiohttp for ours.)
_NEVER_SENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteTimeout,
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
)


def maybe_delivered(error: NetworkError) -> bool:
    """Could the request have reached Telegram before this error? (True when unsure.)

    PTB raises NetworkError/TimedOut with the transport's exception as the cause when
    the transport failed, and without a cause when Telegram answered with an
    error status (which means it did not take the message).
    """
    cause = error.__cause__
    if cause is None:
        return False
    return not isinstance(cause, _NEVER_SENT)


def _describe(error: BaseException) -> str:
    # Telegram's descriptions name the problem, never the message text; for
    # anything else only the class is kept, since its text could hold payload data.
    if isinstance(error, TelegramError):
        cause = error.__cause__
        suffix = f" ({type(cause).__name__})" if cause is not None else ""
        return f"{type(error).__name__}: {error.message}{suffix}"
    return type(error).__name__


def classify(error: BaseException, message: ClaimedMessage, config: DeliveryConfig) -> Outcome:
    """Turn what a send raised into the outcome to record (pure, for tests)."""
    attempt = message.attempts + 1
    if isinstance(error, RetryAfter):
        seconds = max(1.0, retry_after_seconds(error))
        return Outcome(
            Kind.RETRY,
            f"rate limited: retry after {seconds:g}s",
            backoff=timedelta(seconds=seconds),
            pause=seconds,
        )
    if isinstance(error, Forbidden):
        return Outcome(Kind.BLOCKED, _describe(error))
    if isinstance(error, ChatMigrated):
        return Outcome(Kind.INVALID, "ChatMigrated: the group became a supergroup")
    if isinstance(error, BadRequest | EndPointNotFound):
        return Outcome(Kind.INVALID, _describe(error))
    if isinstance(error, PayloadError):
        return Outcome(Kind.INVALID, str(error))
    reason = _describe(error)
    if isinstance(error, NetworkError) and message.at_most_once and maybe_delivered(error):
        return Outcome(Kind.FAILED, f"{reason}: may have been delivered, not resent (at-most-once)")
    if attempt >= config.max_attempts:
        return Outcome(Kind.FAILED, f"gave up after {attempt} attempts: {reason}")
    return Outcome(Kind.RETRY, reason, backoff=config.backoff(attempt))
