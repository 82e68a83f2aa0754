"""Greeting services on both databases: settings, own texts, custom dates, what is coming."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo_data import SEEDERS
from display.greeting_text import in_force
from storage import greetings
from storage.db import transaction
from storage.greetings import TemplateError, parse_month_day
from storage.members import Conflict, NotFound
from storage.models import GreetingOccasion, GreetingTemplate
from storage.profile_rules import InvalidInput
from tests.support.members import add_member


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-18", (10, 18)),
        ("1/5", (1, 5)),
        ("10.18", (10, 18)),
        ("10月18日", (10, 18)),
        ("１０月１８号", (10, 18)),
        ("1949-10-01", (10, 1)),
        ("1949年10月1日", (10, 1)),
        ("2-29", (2, 29)),
    ],
)
def test_month_day_spellings(text: str, expected: tuple[int, int]) -> None:
    assert parse_month_day(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("明天", "month_day"),
        ("10", "month_day"),
        ("2-30", "no_such_date"),
        ("13-01", "no_such_date"),
    ],
)
def test_month_day_refusals(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_month_day(text)
    assert caught.value.code == code


async def test_builtins_need_no_rows_until_changed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        found = {o.code: o for o in await greetings.list_occasions(session)}
        assert found["double_ninth"].audience_tag == "退休职工" and found["double_ninth"].enabled
        assert found["spring_festival"].audience_tag is None
        assert await session.scalar(select(func.count()).select_from(GreetingOccasion)) == 0
        await greetings.set_enabled(session, "qixi", False)
        qixi = await greetings.get_occasion(session, "qixi")
        assert not qixi.enabled and qixi.audience_tag is None
        with pytest.raises(NotFound):
            await greetings.get_occasion(session, "no_such_day")
        with pytest.raises(NotFound):
            await greetings.set_enabled(session, "custom-gone", False)


async def test_own_texts_checked_saved_and_reset(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        with pytest.raises(TemplateError):
            await greetings.set_template(session, "laba", "en", "Hi {nickname}")
        with pytest.raises(NotFound):
            await greetings.set_template(session, "laba", "fr", "Salut {name}")
        await greetings.set_template(session, "laba", "en", "  Hi {name}, {year}!  ")
        await greetings.set_template(session, "laba", "en", "Hello {name}")
        laba = await greetings.get_occasion(session, "laba")
        texts = in_force(laba, await greetings.own_templates(session, "laba"))
        assert texts["en"] == "Hello {name}" and texts["zh_CN"].startswith("🥣 {name}，腊八节快乐")
        assert await greetings.reset_templates(session, "laba") == 1
        assert in_force(laba, await greetings.own_templates(session, "laba"))["en"].startswith(
            "🥣 {name}, happy"
        )


async def test_custom_dates_added_and_deleted_with_their_texts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        founding = await greetings.add_custom(session, "工会成立纪念日", 5, 28)
        assert founding.custom and founding.code.startswith("custom-") and founding.enabled
        with pytest.raises(Conflict):
            await greetings.add_custom(session, "工会成立纪念日", 6, 1)
        await greetings.set_template(session, founding.code, "zh_CN", "{name}，{holiday}快乐")
        await greetings.delete_custom(session, founding.code)
        assert await session.scalar(select(func.count()).select_from(GreetingTemplate)) == 0
        with pytest.raises(NotFound):
            await greetings.delete_custom(session, founding.code)
        with pytest.raises(NotFound):
            await greetings.delete_custom(session, "spring_festival")
        with pytest.raises(NotFound):
            await greetings.set_template(session, founding.code, "zh_CN", "{name}")
        again = await greetings.add_custom(session, "工会成立纪念日", 5, 28)
        assert again.code != founding.code  # never reuses this year's outbox keys


async def test_next_30_days_with_counts(sessions: async_sessionmaker[AsyncSession]) -> None:
    await add_member(sessions, 101, "甲", tags=("女职工",), birthday=date(1988, 2, 29))
    await add_member(sessions, 102, "乙", birthday=date(1990, 2, 28))
    await add_member(sessions, 103, "丙", tags=("女职工",), birthday=date(1990, 3, 1))
    await add_member(sessions, 104, "丁", tags=("女职工",), active=False)
    async with transaction(sessions) as session:
        await greetings.set_enabled(session, "lantern", False)
        await greetings.add_custom(session, "工会成立纪念日", 3, 2)
        items = await greetings.upcoming(session, date(2027, 2, 20), days=30)
    listed = [(i.day.isoformat(), i.occasion.code, i.recipients, i.occasion.enabled) for i in items]
    custom = next(i.occasion.code for i in items if i.occasion.custom)
    assert listed == [
        ("2027-02-20", "lantern", 3, False),
        ("2027-02-28", "birthday", 2, True),  # 29 February folded into the 28th
        ("2027-03-01", "birthday", 1, True),
        ("2027-03-02", custom, 3, True),
        ("2027-03-08", "womens_day", 2, True),
    ]


async def test_demo_seeders_run_twice_without_doubling(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for _ in range(2):
        for seed in SEEDERS:
            async with transaction(sessions) as session:
                await seed(session, "demo-secret-key-0123456789abcdef0123456789")
    async with transaction(sessions) as session:
        customs = [o for o in await greetings.list_occasions(session) if o.custom]
        assert [(o.title, o.month, o.day) for o in customs] == [("工会成立纪念日", 5, 28)]
        assert "生日蛋糕券" in (await greetings.own_templates(session, "birthday"))["zh_CN"]
