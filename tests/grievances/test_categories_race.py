"""Two members opening their first grievance at once: both get the category list, made once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import grievances
from storage.models import GrievanceCategory


async def test_two_first_lists_at_once_make_the_categories_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as first, sessions() as second:
        await grievances.ensure_categories(first)  # written, not yet committed
        counted = asyncio.Event()
        connection = await second.connection()

        def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "count(" in statement.lower():
                counted.set()

        event.listen(connection.sync_connection, "after_cursor_execute", note)
        # The second finds the list still empty, then writes it too (and waits for the
        # first's lock); it used to fail on the unique slug once the first committed.
        racing = asyncio.create_task(grievances.list_categories(second))
        await asyncio.wait_for(counted.wait(), 30)
        await first.commit()
        listed = await asyncio.wait_for(racing, 30)
        await second.commit()
    async with sessions() as session:
        count = await session.scalar(select(func.count(GrievanceCategory.id)))
    assert count == len(grievances.DEFAULT_CATEGORIES)
    assert [c.slug for c in listed] == [slug for slug, *_ in grievances.DEFAULT_CATEGORIES]
