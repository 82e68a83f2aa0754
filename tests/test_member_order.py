"""Members listed in pinyin order by the database: the stored key, every way a name is
written, paging across page boundaries, search over all matches, and the migration."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import collation
from storage import members, trainings
from storage.db import transaction
from storage.migrate import downgrade, upgrade
from storage.models import Member
from storage.roster_rules import RosterRow
from tests.support.clock import T0
from tests.support.members import add_member, member_values
from tests.support.roster import joined_roster, reimport
from tests.support.trainings import course, enrol, published_course

Sessions = async_sessionmaker[AsyncSession]

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜曾阿单解区"
GIVEN = "一二三四五六七八九十明华伟芳娜静丽强磊军洋勇艳杰娟涛超秀霞平刚"
NAMES = st.text(alphabet=SURNAMES + GIVEN + "abcXYZ 李·-0", min_size=1, max_size=12)


@given(st.lists(NAMES, min_size=2, max_size=30))
def test_the_stored_key_sorts_as_the_pinyin_key(names: list[str]) -> None:
    """Bytes compared as bytes (SQLite BLOB, PostgreSQL bytea) give `person_key`'s order."""
    assert sorted(names, key=collation.sort_key) == sorted(names, key=collation.person_key)


def test_surnames_and_latin_names_in_the_stored_order() -> None:
    names = ["张三", "曾小华", "李四", "阿明", "Mary", "王五", "单田芳"]
    assert sorted(names, key=collation.sort_key) == [
        "阿明",
        "李四",
        "Mary",
        "单田芳",  # shàn as a surname
        "王五",
        "曾小华",  # zēng as a surname
        "张三",
    ]


def _names(count: int) -> list[str]:
    """``count`` distinct names, deliberately not in pinyin order of insertion."""
    return [
        SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + str(i) for i in range(count)
    ]


async def _insert(sessions: Sessions, names: list[str], first: int = 930_000_000) -> None:
    """One bulk INSERT (no ORM object, as tests and benchmarks make rows): the key's default."""
    async with transaction(sessions) as session:
        await session.execute(
            insert(Member),
            [member_values(first + i, name=name) for i, name in enumerate(names)],
        )


async def test_the_member_list_pages_in_pinyin_order_across_page_boundaries(
    sessions: Sessions,
) -> None:
    names = [*_names(47), "张三", "张三"]  # equal names: ordered by id, each on one page
    await _insert(sessions, names)
    expected = collation.by_person(names, str)
    seen: list[str] = []
    ids: list[int] = []
    async with sessions() as session:
        first = await members.list_members(session, 0, per_page=10)
        assert (first.total, first.pages) == (49, 5)
        for number in range(first.pages):
            page = await members.list_members(session, number, per_page=10)
            assert page.page == number and len(page.items) == (9 if number == 4 else 10)
            seen += [m.name for m in page.items]
            ids += [m.id for m in page.items]
        past_the_end = await members.list_members(session, 99, per_page=10)
    assert seen == expected
    assert len(set(ids)) == 49  # nobody twice, nobody missing
    assert [m.name for m in past_the_end.items] == expected[40:]


async def test_search_orders_all_matches_not_the_first_ones(sessions: Sessions) -> None:
    """250 matches of "工": 阿工 was written last and is still the first shown."""
    await _insert(sessions, [f"周工{i:03d}" for i in range(250)])
    await add_member(sessions, 931_000_001, "阿工")
    await add_member(sessions, 931_000_002, "曾工")  # zēng: after 周 would be wrong
    async with sessions() as session:
        found = [m.name for m in await members.search_members(session, "工", limit=10)]
        all_found = await members.search_members(session, "工", limit=300)
    assert found == ["阿工", "曾工"] + [f"周工{i:03d}" for i in range(8)]
    assert [m.name for m in all_found] == collation.by_person([m.name for m in all_found], str)
    assert len(all_found) == 252


async def test_every_way_a_name_is_written_keeps_its_key(sessions: Sessions) -> None:
    """Registration, the member's own rename, and a roster re-import (a bulk UPDATE)."""
    member_id = await add_member(sessions, 932_000_001, "阿明")
    async with transaction(sessions) as session:
        member = await members.get_member_by_id(session, member_id)
        assert member.sort_key == collation.sort_key("阿明")
        await members.rename(session, member, "曾明")
    ids = await joined_roster(
        sessions, [RosterRow("B001", "李雷", "装配车间", date(1990, 1, 1))], join=["B001"]
    )
    await reimport(sessions, [RosterRow("B001", "张雷", "装配车间", date(1990, 1, 1))])
    async with sessions() as session:
        keys = {n: k for n, k in await session.execute(select(Member.name, Member.sort_key))}
        renamed = await members.get_member_by_id(session, ids["B001"])
    assert renamed.name == "张雷"
    assert keys == {"曾明": collation.sort_key("曾明"), "张雷": collation.sort_key("张雷")}


async def test_the_attendance_sheet_lists_all_the_seated_in_pinyin_order(
    sessions: Sessions,
) -> None:
    """Seated in the order they enrolled (周 first); the sheet reads them by pinyin."""
    names = ["周一", "阿二", "曾三", "李四"]
    ids = [await add_member(sessions, 934_000_000 + i, n) for i, n in enumerate(names)]
    training, _ = await published_course(sessions, course(T0 + timedelta(days=7)), now=T0)
    await enrol(sessions, training.id, ids, T0)
    async with sessions() as session:
        seated = await trainings.seated_members(session, training.id)
    assert [m.name for m in seated] == ["阿二", "李四", "曾三", "周一"]


async def test_the_migration_fills_the_key_of_existing_members(engine: AsyncEngine) -> None:
    await downgrade(engine, "0018_bilingual")
    old = sa.table(
        "members",
        sa.column("telegram_id", sa.BigInteger()),
        sa.column("name", sa.String()),
        sa.column("language", sa.String()),
        sa.column("role", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    at = member_values(1)["created_at"]
    names = ["张三", "阿明", "曾小华", "Mary"] + [f"王{i}" for i in range(2100)]  # two batches
    async with engine.begin() as conn:
        await conn.execute(
            old.insert(),
            [
                {
                    "telegram_id": 933_000_000 + i,
                    "name": name,
                    "language": "zh_CN",
                    "role": "member",
                    "active": True,
                    "created_at": at,
                    "updated_at": at,
                }
                for i, name in enumerate(names)
            ],
        )
    await upgrade(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT name, sort_key FROM members"))).all()
        ordered = (
            await conn.execute(sa.text("SELECT name FROM members ORDER BY sort_key, id LIMIT 4"))
        ).scalars()
        listed = list(ordered)
        await conn.execute(sa.text("DELETE FROM members"))
        await conn.commit()
    assert len(rows) == len(names)
    assert all(bytes(key) == collation.sort_key(name) for name, key in rows)
    assert listed == ["阿明", "Mary", "王0", "王1"]
