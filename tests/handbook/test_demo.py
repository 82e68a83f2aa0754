"""The demo shows the handbook at once: the default one, the union's own entry, the misses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.demo import Demo, DemoOptions
from core.runtime import runtime_of
from storage import handbook, report
from storage.models import HandbookEntry


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    running = Demo(DemoOptions(port=0, data_dir=tmp_path / "demo"))
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


async def test_demo_seeds_the_handbook(demo: Demo) -> None:
    assert demo.application is not None
    async with runtime_of(demo.application).sessions() as session:
        assert len(await handbook.topics_under(session, None)) == 6
        assert await session.scalar(select(func.count(HandbookEntry.id))) == 12
        assert [q for q, _ in await handbook.misses(session)] == [
            "年假怎么休",
            "婚假",
            "停车位",
            "班车时间",
        ]
        # Last month's searches, for the default /report; 年假怎么休 and 婚假 passed the bar.
        now = runtime_of(demo.application).now()
        zone = ZoneInfo("Asia/Shanghai")
        built = await report.build(
            session, report.default_period(now.astimezone(zone).date()), now=now, zone=zone
        )
        assert (built.handbook.searches, built.handbook.found) == (86, 66)
        assert built.handbook.top == (("年假怎么休", 8), ("婚假", 6))
        assert [q for q, _ in await handbook.misses(session, handbook.month_of(now, zone))] == [
            "停车位",
            "班车时间",
        ]
        found = await handbook.search(session, "疗休养")
        assert found[0].entry.title_zh == "职工疗休养"
