"""The one clock: UTC, aware. Runtimes take another (tests pass a fake one)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
