"""A re-import brings members who joined with a code up to date, as the preview says.

Three people join with their codes; the roster is corrected and sent again:
one entry changed (name, department, tags, and a birthday its member had
corrected themselves), one unchanged, one missing and removed with 🗑.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from sandbox.driver import SandboxUser
from storage.crypto import Cipher
from storage.models import Member, RosterEntry
from storage.roster import LINK_PURPOSE
from tests.support.bot import BotHarness
from tests.support.chat import flat, newest, registered_admin
from tests.support.config import SECRET
from tests.support.dumps import steal, times
from tests.support.members import member_row, sessions_of
from tests.support.roster import code_list, codes_by_name, import_roster, roster_csv

CORRECTED = [
    ["张伟明", "销售部", "A001", "1988-04-01", "老员工"],  # name, department, birthday, tags
    ["李娜", "质检部", "A002", "", ""],  # unchanged
    ["赵敏", "质检部", "A004", "", ""],  # new; A003 (王芳) is missing
]


async def join(bot: BotHarness, name: str, code: str) -> SandboxUser:
    user = await bot.driver.create_user(name)
    await user.send(f"/start join_{code}")
    await user.press("✅ 是我，为我登记")
    return user


async def joined_three(bot: BotHarness) -> tuple[SandboxUser, dict[str, SandboxUser]]:
    admin = await registered_admin(bot)
    await import_roster(bot, admin, roster_csv(), "花名册.csv")
    codes = codes_by_name(await code_list(bot, admin))
    people = {name: await join(bot, name, codes[name]) for name in ("张伟", "李娜", "王芳")}
    # 张伟 corrects the birthday the roster had (1988-03-15) in their profile.
    zhang = people["张伟"]
    await zhang.send("/profile")
    await zhang.press("🎂 生日")
    await zhang.send("1988-03-16")
    return admin, people


async def entries(bot: BotHarness) -> dict[str, RosterEntry]:
    async with sessions_of(bot)() as session:
        return {e.employee_no: e for e in await session.scalars(select(RosterEntry))}


async def test_a_reimport_updates_joined_members_and_removal_keeps_them_members(
    bot: BotHarness,
) -> None:
    admin, people = await joined_three(bot)
    unchanged_before = await member_row(bot, people["李娜"])
    assert unchanged_before is not None

    await admin.send("/roster")
    await admin.send_document(roster_csv(CORRECTED), "花名册.csv")
    preview = (await newest(admin)).content
    for line in (
        "新增：1",
        "更新：1",
        "将更新资料的已登记会员：1（姓名、部门和标签以本文件为准；会员自己填写或更正过的生日予以保留）",
        "不变：1",
        "花名册中有、本文件中没有：1",
        "其中已登记为会员的：1",
        "其中已登记的会员仍是会员，个人资料和标签不变，只是不再与花名册关联。",
    ):
        assert line in preview
    zhang = await member_row(bot, people["张伟"])
    assert zhang is not None and zhang.name == "张伟"  # nothing changes before ✅
    assert "🗑 应用并删除缺少的人员" in flat(await admin.reply_keyboard())

    await admin.send("🗑 应用并删除缺少的人员")
    done = (await newest(admin, "花名册已保存")).content
    assert "新增 1 人，更新 1 人，删除 1 人。" in done
    assert "已更新资料的已登记会员：1 人。" in done

    # The changed entry's member: the roster's name, department and tags; their
    # own birthday correction kept over the roster's new date.
    zhang = await member_row(bot, people["张伟"])
    assert zhang is not None
    assert (zhang.name, zhang.department.name if zhang.department else None) == (
        "张伟明",
        "销售部",
    )
    assert zhang.birthday == date(1988, 3, 16)
    assert zhang.tag_names == ["老员工"]
    # The unchanged one: untouched.
    li = await member_row(bot, people["李娜"])
    assert li is not None
    assert (li.name, li.department.name if li.department else None, li.tag_names) == (
        "李娜",
        "质检部",
        [],
    )
    assert li.updated_at == unchanged_before.updated_at
    # The removed one stays a member with their profile and tags; the entry and its
    # link are gone.
    wang = await member_row(bot, people["王芳"])
    assert wang is not None and wang.active
    assert (wang.name, wang.birthday, wang.tag_names) == (
        "王芳",
        date(1990, 5, 3),
        sorted(["困难职工", "女工"]),
    )
    saved = await entries(bot)
    assert sorted(saved) == ["A001", "A002", "A004"]
    # The link still opens to the same member, with the key only.
    cipher = Cipher(SECRET, LINK_PURPOSE)
    link = saved["A001"].link
    assert link is not None and cipher.decrypt(link, str(saved["A001"].id)) == str(zhang.id)
    assert list(codes_by_name(await code_list(bot, admin))) == ["赵敏"]

    # The member sees it in their profile.
    await people["张伟"].send("/profile")
    profile = (await newest(people["张伟"])).content
    assert "张伟明" in profile and "销售部" in profile and "1988-03-16" in profile


async def test_a_member_who_did_not_correct_the_birthday_gets_the_rosters(
    bot: BotHarness,
) -> None:
    admin = await registered_admin(bot)
    await import_roster(bot, admin, roster_csv(), "花名册.csv")
    codes = codes_by_name(await code_list(bot, admin))
    fang = await join(bot, "王芳", codes["王芳"])
    moved = [
        ["张伟", "装配车间", "A001", "1988-03-15", "新员工"],
        ["李娜", "质检部", "A002", "", ""],
        ["王芳", "装配车间", "A003", "1990-05-04", "女工"],  # birthday, one tag dropped
    ]
    await admin.send("/roster")
    await admin.send_document(roster_csv(moved), "花名册.csv")
    preview = (await newest(admin)).content
    assert "将更新资料的已登记会员：1" in preview
    assert "其中已登记为会员的" not in preview  # nobody is missing
    await admin.send("✅ 应用")
    row = await member_row(bot, fang)
    assert row is not None and row.birthday == date(1990, 5, 4)
    assert row.tag_names == ["女工"]


async def test_after_the_update_a_dump_cannot_join_entry_and_account(
    bot: BotHarness, tmp_path: Path
) -> None:
    """No row of any table names an employee number with the member's id or account;
    the link stays sealed and the times stay days (ARCHITECTURE.md, "Anonymity")."""
    admin, people = await joined_three(bot)
    await import_roster(bot, admin, roster_csv(CORRECTED), "花名册.csv")
    zhang = await member_row(bot, people["张伟"])
    assert zhang is not None and zhang.name == "张伟明"
    _, tables = await steal(bot, tmp_path)
    async with sessions_of(bot)() as session:
        joined = {m.id: m.telegram_id for m in await session.scalars(select(Member))}
    numbers = ("A001", "A002", "A004")
    for name, rows in tables.items():
        for row in rows:
            values = [str(v) for v in row.values() if v is not None]
            if not any(no in v for v in values for no in numbers):
                continue
            assert name == "roster_entries", name  # only the roster holds employee numbers
            link = str(row["link"] or "")
            assert row["link"] is None or link.startswith("v1.")
            others = [str(v) for k, v in row.items() if k not in ("id", "link") and v is not None]
            for member_id, telegram_id in joined.items():
                assert str(telegram_id) not in " ".join(values)
                assert str(member_id) not in others
            days = {k: row[k] for k in ("created_at", "updated_at")}  # a code's expiry: no one's
            assert len(times(days)) == 2
            assert all(t.hour == 0 and t.minute == 0 for t in times(days))
    for member in tables["members"]:
        assert all(t.hour == 0 and t.minute == 0 for t in times(member))
