"""People and departments listed by pinyin, as a Chinese reader looks them up."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.collation import by_name, by_person, name_key, person_key
from core.i18n import translator
from display import activities
from storage import audiences, members
from storage.activities import RosterLine
from storage.db import transaction
from storage.models import Activity, SignupStatus
from tests.support.members import add_member, add_members


def test_people_by_pinyin_not_code_point() -> None:
    names = ["张三", "曾小华", "李四", "Mary", "王五", "阿明", "陈二"]
    assert sorted(names) != by_person(names, str)  # code point order puts 张 before 李
    # 曾 as a surname reads zēng (after 王 wáng), not céng (before 陈 chén).
    assert by_person(names, str) == ["阿明", "陈二", "李四", "Mary", "王五", "曾小华", "张三"]


def test_surname_reading_only_for_the_first_character() -> None:
    assert person_key("曾经理")[0] == ("zeng", "jing", "li")
    assert person_key("单田芳")[0][0] == "shan"
    assert name_key("曾经")[0] == ("ceng", "jing")  # a word, not a name: its own reading


def test_tones_break_ties_then_the_text() -> None:
    # 李 lǐ and 黎 lí: same letters, the second tone first.
    assert by_person(["李明", "黎明"], str) == ["黎明", "李明"]
    assert by_person(["Li", "li"], str) == ["Li", "li"]


def test_latin_and_digits_are_not_read_as_pinyin_tones() -> None:
    # "D1" is no syllable "d" in the first tone: Latin text sorts as text, casefolded.
    assert by_name(["D3", "D0", "d2", "D1"], str) == ["D0", "D1", "d2", "D3"]
    assert by_person(["M1", "Mary", "李四"], str) == ["李四", "M1", "Mary"]


def test_departments_by_pinyin() -> None:
    departments = ["装配车间", "质检科", "仓储物流部", "职工食堂", "行政办公室", "A&B"]
    assert by_name(departments, str) == [
        "A&B",
        "仓储物流部",
        "行政办公室",
        "职工食堂",
        "质检科",
        "装配车间",
    ]


async def test_department_pickers_and_member_search_in_pinyin_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_members(sessions, departments=["装配车间", "质检科", "仓储物流部"])
    for telegram_id, name in enumerate(["张三丰", "曾三", "阿三", "李三"], start=910000001):
        await add_member(sessions, telegram_id, name)
    async with transaction(sessions) as session:
        shown = [d.name for d in await members.list_departments(session)]
        choices = [
            name
            for _, name in await audiences.DEPARTMENT.choices(session, ZoneInfo("Asia/Shanghai"))
        ]
        found = [m.name for m in await members.search_members(session, "三", limit=3)]
    assert shown == choices == ["仓储物流部", "质检科", "装配车间"]
    assert found == ["阿三", "李三", "曾三"]  # sorted first, then the first three kept


def test_check_in_roster_in_pinyin_order() -> None:
    """A cadre at the door finds a name: the seated, by pinyin; 曾 with a guest (+1)."""
    at = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    lines = [
        RosterLine(i, i, name, "", at, SignupStatus.SEATED.value, None, guests, None)
        for i, (name, guests) in enumerate(
            [("张三", 0), ("曾小华", 1), ("李四", 0), ("阿明", 0), ("王五", 0)], start=1
        )
    ]
    keyboard = activities.roster_keyboard(translator("zh_CN"), Activity(id=1), lines, 0)
    labels = [row[0].text for row in keyboard.inline_keyboard[:-1]]
    assert labels == ["⬜ 阿明", "⬜ 李四", "⬜ 王五", "⬜ 曾小华（+1）", "⬜ 张三"]
