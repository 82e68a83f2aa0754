"""Members naming the same new department at the same moment all get registered."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import members
from storage.db import make_session_factory, transaction
from storage.models import Department, Member


async def test_a_new_department_named_by_many_at_once_is_made_once(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)

    async def register(telegram_id: int) -> None:
        async with transaction(sessions) as session:
            await members.register(
                session,
                telegram_id=telegram_id,
                name=f"会员{telegram_id}",
                department="新成立的检测中心",
                birthday=None,
                language="zh_CN",
            )

    await asyncio.gather(*(register(800000000 + i) for i in range(12)))
    async with sessions() as session:
        departments = await session.scalar(select(func.count()).select_from(Department))
        people = list(await session.scalars(select(Member.department_id)))
    assert departments == 1
    assert len(people) == 12 and len(set(people)) == 1
