"""Fixtures for activity tests: sessions on each database, members and activities in bulk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import activities
from storage.activities import Draft
from storage.audiences import Audience
from storage.db import make_session_factory, transaction
from storage.models import Activity, Member

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on a clean, migrated database (SQLite and PostgreSQL, via `engine`)."""
    return make_session_factory(engine)


async def add_members(
    sessions: async_sessionmaker[AsyncSession], count: int, first: int = 800_000_001
) -> list[int]:
    """Member rows (no Telegram side); returns their member ids in creation order."""
    ids = list(range(first, first + count))
    async with transaction(sessions) as session:
        await session.execute(
            insert(Member),
            [
                {
                    "telegram_id": tid,
                    "name": f"M{tid}",
                    "language": "zh_CN",
                    "role": "member",
                    "active": True,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for tid in ids
            ],
        )
        rows = await session.execute(
            select(Member.telegram_id, Member.id).where(Member.telegram_id.in_(ids))
        )
        by_tid = {tid: mid for tid, mid in rows}
    return [by_tid[tid] for tid in ids]


def draft(
    capacity: int | None = 10,
    *,
    starts_in: timedelta = timedelta(days=3),
    title: str = "篮球友谊赛",
    guests: bool = False,
    audience: Audience | None = None,
) -> Draft:
    start = T0 + starts_in
    return Draft(
        title=title,
        description="三对三，自带球鞋",
        place="职工活动中心",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        signup_deadline=start - timedelta(hours=2),
        capacity=capacity,
        guests_allowed=guests,
        audience=audience or Audience(everyone=True),
    )


async def published(sessions: async_sessionmaker[AsyncSession], value: Draft) -> Activity:
    async with transaction(sessions) as session:
        activity = await activities.create(session, value, created_by=None, now=T0)
        await activities.publish(session, activity.id, T0)
    return activity


async def member(sessions: async_sessionmaker[AsyncSession], member_id: int) -> Member:
    async with sessions() as session:
        found = await session.get(Member, member_id)
        assert found is not None
        return found
