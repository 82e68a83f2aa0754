"""An admin imports the roster end to end: CSV, XLSX, GBK, broken and refused files, preview, apply."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import RosterEntry
from tests.support.bot import BotHarness
from tests.support.chat import flat, newest, registered, registered_admin
from tests.support.media import make_png
from tests.support.members import sessions_of
from tests.support.roster import (
    HEADER_EN,
    code_list,
    codes_by_name,
    import_roster,
    roster_csv,
    roster_xlsx,
)


async def entries(bot: BotHarness) -> list[RosterEntry]:
    async with sessions_of(bot)() as session:
        return list(await session.scalars(select(RosterEntry).order_by(RosterEntry.employee_no)))


async def test_a_valid_csv_is_previewed_then_applied_with_a_code_list(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await admin.send("/roster")
    assert "花名册现有人数：0" in (await newest(admin)).content
    await admin.send_document(roster_csv(), "花名册.csv")
    preview = await newest(admin)
    assert "共 3 行，没有错误" in preview.content
    assert "新增：3" in preview.content and "不变：0" in preview.content
    assert "✅ 应用" in flat(await admin.reply_keyboard())
    assert await entries(bot) == []  # nothing before the confirmation

    await admin.send("✅ 应用")
    assert (
        "花名册已保存：新增 3 人，更新 0 人，删除 0 人。"
        in (await newest(admin, "花名册已保存")).content
    )
    rows = await code_list(bot, admin)
    assert rows[0][:4] == ["姓名", "部门", "工号", "验证码"]
    codes = codes_by_name(rows)
    assert set(codes) == {"张伟", "李娜", "王芳"}
    assert all(len(c) == 8 and not set(c) & set("01OI") for c in codes.values())
    assert rows[1][5].startswith("https://t.me/UnionSandboxBot?start=join_")
    saved = await entries(bot)
    assert [(e.name, e.department, e.tags) for e in saved] == [
        ("张伟", "装配车间", "新员工"),
        ("李娜", "质检部", ""),
        ("王芳", "装配车间", "困难职工,女工"),
    ]
    assert saved[0].birthday is not None and saved[0].birthday.isoformat() == "1988-03-15"
    # The codes are stored hashed only.
    assert all(e.code_hash and e.code_hash not in codes.values() for e in saved)


async def test_a_valid_xlsx_in_english_and_the_preview_counts(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await import_roster(bot, admin, roster_csv(), "roster.csv")
    changed = [
        ["张伟", "装配车间", "A001", "1988-03-15", "新员工"],  # unchanged
        ["李娜", "销售部", "A002", "", ""],  # updated: department
        ["赵敏", "质检部", "A004", "", ""],  # new; A003 is missing
    ]
    await admin.send("/roster")
    await admin.send_document(roster_xlsx(changed, HEADER_EN), "roster.xlsx")
    preview = await newest(admin)
    for line in ("新增：1", "更新：1", "不变：1", "花名册中有、本文件中没有：1"):
        assert line in preview.content
    assert "本文件中没有的人员：王芳" in preview.content and "更新的人员：李娜" in preview.content
    assert "🗑 应用并删除缺少的人员" in flat(await admin.reply_keyboard())
    await admin.send("🗑 应用并删除缺少的人员")
    assert "新增 1 人，更新 1 人，删除 1 人" in (await newest(admin, "花名册已保存")).content
    assert list(codes_by_name(await code_list(bot, admin))) == ["赵敏"]
    assert [(e.employee_no, e.department) for e in await entries(bot)] == [
        ("A001", "装配车间"),
        ("A002", "销售部"),
        ("A004", "质检部"),
    ]


async def test_a_gbk_csv_from_excel_is_read(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await import_roster(bot, admin, roster_csv(encoding="gbk"), "花名册.csv")
    assert [e.name for e in await entries(bot)] == ["张伟", "李娜", "王芳"]


async def test_a_broken_file_is_reported_by_row_and_column_and_nothing_imported(
    bot: BotHarness,
) -> None:
    admin = await registered_admin(bot)
    broken = [
        ["张伟", "装配车间", "A001", "1988-02-30", ""],
        ["", "质检部", "A002", "", ""],
        ["王芳", "装配车间", "A001", "", "bad tag!"],
        ["赵敏", "质检部", "A004", "", ""],
    ]
    await admin.send("/roster")
    await admin.send_document(roster_csv(broken), "花名册.csv")
    report = (await newest(admin)).content
    assert "发现 4 处错误，未导入任何内容" in report
    assert "第 2 行，生日：日期不存在" in report
    assert "第 3 行，姓名：缺少" in report
    assert "第 4 行，工号：与前面某行的工号重复" in report
    assert "第 4 行，标签：标签只能包含文字、数字和短横线" in report
    await admin.send("✅ 应用")  # still waiting for a file: no preview was ever made
    assert await entries(bot) == []
    # The same conversation takes the corrected file.
    await admin.send_document(roster_csv(), "花名册.csv")
    assert "共 3 行，没有错误" in (await newest(admin)).content


async def test_a_broken_xlsx_is_reported_by_row_and_column_and_nothing_imported(
    bot: BotHarness,
) -> None:
    admin = await registered_admin(bot)
    broken = [
        ["张伟", "装配车间", "A001", "1988-13-01", ""],
        ["李娜", "质检部", "A001", "", ""],
        ["王芳", "", "A003", "", "bad tag!"],
    ]
    await admin.send("/roster")
    await admin.send_document(roster_xlsx(broken), "花名册.xlsx")
    report = (await newest(admin)).content
    assert "未导入任何内容" in report
    assert "第 2 行，生日" in report
    assert "第 3 行，工号：与前面某行的工号重复" in report
    assert "第 4 行，标签：标签只能包含文字、数字和短横线" in report
    await admin.send("✅ 应用")
    assert await entries(bot) == []


async def test_files_that_cannot_be_taken_get_a_clear_answer(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await admin.send("/roster")
    await admin.send_document(b"%PDF-1.4 \x00\x01\x02\xff\xfe", "roster.pdf")
    assert "这不是可读取的 CSV 或 XLSX 文件" in (await newest(admin)).content
    await admin.send_document(b"\xff\xfe\xfd\x80\x81" * 10, "roster.csv")
    assert "既不是 UTF-8 也不是 GBK" in (await newest(admin)).content
    await admin.send_document(roster_xlsx(formula="=CONCAT(B2,C2)"), "roster.xlsx")
    assert "单元格 A2 含有公式" in (await newest(admin)).content
    await admin.send_document(roster_csv(header=["名字", "部门"]), "roster.csv")
    assert "第一行必须是列名" in (await newest(admin)).content
    big = b"\xef\xbb\xbf" + "姓名,部门,工号\n".encode() + b"x,y,1\n" * (2 * 1024 * 1024)
    await admin.send_document(big, "roster.csv")
    assert "文件超过 10 MB" in (await newest(admin)).content
    many = roster_csv([[f"人{i}", "车间", f"N{i}", "", ""] for i in range(20_001)])
    await admin.send_document(many, "roster.csv")
    assert "文件超过 20000 行" in (await newest(admin)).content
    await admin.send("你好")
    assert "这不是可读取的 CSV 或 XLSX 文件" in (await newest(admin)).content
    assert await entries(bot) == []


async def test_only_admins_import(bot: BotHarness) -> None:
    member = await registered(bot)
    await member.send("/roster")
    await member.send_document(roster_csv(), "花名册.csv")
    async with sessions_of(bot)() as session:
        assert await session.scalar(select(func.count(RosterEntry.id))) == 0
    assert "花名册" not in (await newest(member)).content


async def test_the_admin_panel_opens_the_import_and_english_reads_too(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await admin.send("/admin")
    await admin.press("📋 导入花名册")
    assert "请以 CSV 或 XLSX 文件发送花名册" in (await newest(admin)).content
    await admin.send("✖️ 取消")
    english = await bot.driver.create_user("Anna", language_code="en")
    await english.send("/start join_AAAAAAAA")
    assert "That code is not right." in (await newest(english)).content


async def test_anything_but_a_choice_at_the_preview_asks_again(bot: BotHarness) -> None:
    admin = await registered_admin(bot)
    await admin.send("/roster")
    await admin.send_document(roster_csv(), "花名册.csv")
    await admin.send("好的")
    assert "请点击“✅ 应用”" in (await newest(admin)).content
    await admin.send_photo(make_png(8, 8, (0, 0, 0)))
    assert "请点击“✅ 应用”" in (await newest(admin)).content
    await admin.send("✅ 应用")
    assert len(await entries(bot)) == 3
