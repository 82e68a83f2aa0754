"""Fixtures for the delivery tests: a session factory on each database, and row helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import make_session_factory

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
SECRET = "test-secret-key-0123456789abcdef0123456789"


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on a clean, migrated database (SQLite and PostgreSQL, via `engine`)."""
    return make_session_factory(engine)
