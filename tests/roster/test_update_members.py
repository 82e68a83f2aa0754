"""A re-import and the members who joined: the rules field by field, tags as member
tags, links that do not open, and a fixed number of queries however many joined."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import members, roster
from storage.db import transaction
from storage.models import Member, RosterEntry
from storage.roster_rules import RosterRow, read_roster
from tests.support.clock import T0
from tests.support.config import SECRET
from tests.support.roster import joined_roster, reimport, roster_csv

Sessions = async_sessionmaker[AsyncSession]
ZHANG = RosterRow("A001", "张伟", "装配车间", date(1988, 3, 15), ("新员工",))


async def member(sessions: Sessions, member_id: int) -> Member:
    async with sessions() as session:
        return await members.get_member_by_id(session, member_id)


async def test_what_the_file_does_not_change_stays_as_the_member_left_it(
    sessions: Sessions,
) -> None:
    ids = await joined_roster(sessions, [ZHANG], join=["A001"])
    async with transaction(sessions) as session:
        zhang = await members.get_member_by_id(session, ids["A001"])
        await members.rename(session, zhang, "张伟（小张）")  # their own edit
        await members.set_tags(session, zhang, ["新员工", "志愿者"])  # an admin's hand tag
    moved = RosterRow("A001", "张伟", "销售部", date(1988, 3, 15), ("老员工",))
    async with sessions() as session:
        counted = await roster.preview(session, [moved], secret=SECRET)
    assert (counted.updated, counted.members_updated) == (1, 1)
    done = await reimport(sessions, [moved])
    assert done.preview == counted
    after = await member(sessions, ids["A001"])
    assert after.name == "张伟（小张）"  # the file left the name as it was
    assert after.department is not None and after.department.name == "销售部"
    assert after.tag_names == sorted(["志愿者", "老员工"])  # the hand tag stays
    assert after.birthday == date(1988, 3, 15)
    # The file changing the name does win over the member's own edit.
    await reimport(
        sessions, [RosterRow("A001", "张伟明", "销售部", date(1988, 3, 15), ("老员工",))]
    )
    assert (await member(sessions, ids["A001"])).name == "张伟明"


async def test_birthdays_a_correction_is_kept_a_blank_never_erases(sessions: Sessions) -> None:
    li = RosterRow("A002", "李娜", "质检部", date(1990, 1, 1))
    ids = await joined_roster(sessions, [ZHANG, li], join=["A001", "A002"])
    async with transaction(sessions) as session:
        zhang = await members.get_member_by_id(session, ids["A001"])
        await members.set_birthday(session, zhang, "1988-03-16", T0.date())
    changed = [
        RosterRow("A001", "张伟", "装配车间", date(1988, 4, 1), ("新员工",)),
        RosterRow("A002", "李娜", "质检部", date(1990, 2, 2)),
    ]
    done = await reimport(sessions, changed)
    assert (done.preview.updated, done.preview.members_updated) == (2, 1)
    assert (await member(sessions, ids["A001"])).birthday == date(1988, 3, 16)  # corrected
    assert (await member(sessions, ids["A002"])).birthday == date(1990, 2, 2)  # untouched: follows
    blank = [changed[0], RosterRow("A002", "李娜", "质检部", None)]
    done = await reimport(sessions, blank)
    assert (done.preview.updated, done.preview.members_updated) == (1, 0)
    assert (await member(sessions, ids["A002"])).birthday == date(1990, 2, 2)
    async with sessions() as session:
        entries = {e.employee_no: e for e in await session.scalars(select(RosterEntry))}
    assert entries["A002"].birthday is None  # the roster itself takes the file as it is


async def test_a_department_spelled_in_another_case_is_no_change(sessions: Sessions) -> None:
    sales = RosterRow("A001", "Wei", "Sales", None)
    ids = await joined_roster(sessions, [sales], join=["A001"])
    done = await reimport(sessions, [RosterRow("A001", "Wei", "SALES", None)])
    assert (done.preview.updated, done.preview.members_updated) == (1, 0)
    after = await member(sessions, ids["A001"])
    assert after.department is not None and after.department.name == "Sales"


async def test_roster_tags_are_member_tags_on_joining_and_on_every_update(
    sessions: Sessions,
) -> None:
    """The twin: a tag as the file spells it, as an admin types it and as the member
    carries it are one tag, so a re-import neither doubles nor drops it."""
    header = ["姓名", "部门", "工号", "标签"]
    first = read_roster(
        roster_csv([["Wei", "Sales", "A001", "New Hire，困难职工"]], header), T0.date()
    )
    ids = await joined_roster(sessions, first, join=["A001"])
    joined = await member(sessions, ids["A001"])
    assert joined.tag_names == sorted(members.parse_tags("new hire, 困难职工"))
    again = read_roster(
        roster_csv([["Wei", "Sales", "A001", "new hire、Retiree"]], header), T0.date()
    )
    done = await reimport(sessions, again)
    assert done.preview.members_updated == 1
    assert (await member(sessions, ids["A001"])).tag_names == ["new-hire", "retiree"]


async def test_a_link_that_does_not_open_counts_as_not_joined(sessions: Sessions) -> None:
    ids = await joined_roster(sessions, [ZHANG], join=["A001"])
    async with transaction(sessions) as session:
        entry = await session.scalar(select(RosterEntry))
        assert entry is not None and entry.link is not None
        entry.link = entry.link[:-4] + ("AAAA" if not entry.link.endswith("AAAA") else "BBBB")
    moved = RosterRow("A001", "张伟", "销售部", date(1988, 3, 15), ("新员工",))
    done = await reimport(sessions, [moved], remove=False)
    assert (done.preview.updated, done.preview.members_updated) == (1, 0)
    after = await member(sessions, ids["A001"])
    assert after.department is not None and after.department.name == "装配车间"


async def test_the_queries_do_not_grow_with_the_joined_members(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    """Links are opened in one pass and members loaded in batches: applying a file that
    changes 60 joined members takes as many statements as one that changes 3."""

    def people(count: int, start: int, department: str, tag: str) -> list[RosterRow]:
        return [
            RosterRow(f"B{start + i:04}", f"人{start + i}", department, None, (tag,))
            for i in range(count)
        ]

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    spent = []
    for size, start in ((3, 0), (60, 1000)):
        before = people(size, start, "车间甲", "甲")
        await joined_roster(
            sessions,
            before,
            join=[r.employee_no for r in before],
            first_telegram_id=700_000_000 + start,
        )
        after = people(size, start, f"车间乙{size}", f"乙{size}")
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            done = await reimport(sessions, after)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert done.preview.members_updated == size
        spent.append(len(statements))
        statements.clear()
    assert spent[1] <= spent[0] + 2, spent
