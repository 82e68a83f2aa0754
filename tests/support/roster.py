"""Roster files to send the bot (CSV in any encoding, XLSX), made in memory, and reading the code list."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook

from sandbox.driver import SandboxUser
from tests.support.bot import BotHarness
from tests.support.chat import newest

HEADER_ZH = ["姓名", "部门", "工号", "生日", "标签"]
HEADER_EN = ["Name", "Department", "Employee number", "Birthday", "Tags"]
PEOPLE = [
    ["张伟", "装配车间", "A001", "1988-03-15", "新员工"],
    ["李娜", "质检部", "A002", "", ""],
    ["王芳", "装配车间", "A003", "1990年5月3日", "困难职工,女工"],
]

Rows = Sequence[Sequence[object]]


def roster_csv(
    rows: Rows = PEOPLE, header: Sequence[str] = HEADER_ZH, *, encoding: str = "utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def roster_xlsx(
    rows: Rows = PEOPLE, header: Sequence[str] = HEADER_ZH, *, formula: str = ""
) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if formula:
        sheet["A2"] = formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def import_roster(bot: BotHarness, admin: SandboxUser, data: bytes, filename: str) -> None:
    """/roster, the file, and ✅ Apply."""
    await admin.send("/roster")
    await admin.send_document(data, filename)
    await admin.send("✅ 应用")


async def code_list(bot: BotHarness, admin: SandboxUser) -> list[list[object]]:
    """The rows (header first) of the last code list the admin received."""
    document = await newest(admin, document=True)
    assert document.media is not None and document.media.file_name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(await bot.driver.download(document.media.url)))
    sheet = book.active
    assert sheet is not None
    return [[c.value for c in row] for row in sheet.iter_rows()]


def codes_by_name(rows: list[list[object]]) -> dict[str, str]:
    return {str(r[0]): str(r[3]) for r in rows[1:]}
