"""Fixtures for greetings: sessions on each database, a runtime on a fake clock, members."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.runtime import Runtime
from core.settings import load_settings
from storage import members
from storage.db import make_session_factory, transaction
from storage.models import Member, MemberTag, Outbox
from tests.harness import FakeClock

TOKEN = "987654321:TEST-union-bot-token-abcdefghijklmnop"
SECRET = "test-secret-key-0123456789abcdef0123456789"


def shanghai(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in the union's time zone (the default, Asia/Shanghai), as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(
        UTC
    )


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


def make_runtime(engine: AsyncEngine, clock: FakeClock | None = None, **overrides: Any) -> Runtime:
    settings = load_settings(
        telegram_bot_token=TOKEN,
        secret_key=SECRET,
        database_url=str(engine.url.render_as_string(hide_password=False)),
        **overrides,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock or FakeClock(),
    )


@pytest.fixture
def runtime(engine: AsyncEngine) -> Runtime:
    return make_runtime(engine)


async def add_member(
    sessions: async_sessionmaker[AsyncSession],
    telegram_id: int,
    name: str,
    *,
    language: str = "zh_CN",
    birthday: date | None = None,
    tags: tuple[str, ...] = (),
    active: bool = True,
    blocked: bool = False,
) -> int:
    async with transaction(sessions) as session:
        member = await members.register(
            session,
            telegram_id=telegram_id,
            name=name,
            department=None,
            birthday=birthday,
            language=language,
        )
        session.add_all(MemberTag(member_id=member.id, tag=tag) for tag in tags)
        member.active = active
        if blocked:
            member.blocked_at = datetime(2026, 1, 1, tzinfo=UTC)
        return member.id


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sessions() as session:
        return list(await session.scalars(select(Outbox).order_by(Outbox.key)))


async def member_id(sessions: async_sessionmaker[AsyncSession], telegram_id: int) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Member.id).where(Member.telegram_id == telegram_id))
        assert found is not None
        return found
