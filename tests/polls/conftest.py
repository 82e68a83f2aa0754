"""Fixtures for the poll service tests: sessions on both databases, members, a runtime."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.runtime import Runtime
from core.settings import load_settings
from storage import members
from storage.db import make_session_factory, transaction
from storage.models import Member
from storage.polls import PollKeys

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
SECRET = "test-secret-key-0123456789abcdef0123456789"
KEYS = PollKeys.from_secret(SECRET)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


@pytest.fixture
def runtime(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> Runtime:
    settings = load_settings(
        telegram_bot_token="987654321:TEST-union-bot-token-abcdefghijklmnop",
        secret_key=SECRET,
        database_url=str(engine.url),
    )
    return Runtime(settings=settings, engine=engine, sessions=sessions, clock=lambda: T0)


async def add_members(
    sessions: async_sessionmaker[AsyncSession],
    departments: Sequence[str],
    *,
    first_id: int = 100_000,
) -> list[Member]:
    """One member per entry of ``departments`` (a department name each), in one insert."""
    async with transaction(sessions) as session:
        ids = {}
        for name in sorted(set(departments)):
            ids[name] = (await members.department_by_name(session, name)).id
        await session.execute(
            insert(Member),
            [
                {
                    "telegram_id": first_id + i,
                    "name": f"会员{i}",
                    "department_id": ids[department],
                    "language": "zh_CN",
                    "role": "member",
                    "active": True,
                }
                for i, department in enumerate(departments)
            ],
        )
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Member)
                .where(Member.telegram_id >= first_id)
                .where(Member.telegram_id < first_id + len(departments))
                .order_by(Member.telegram_id)
            )
        )
