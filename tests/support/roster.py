"""Roster files to send the bot (CSV in any encoding, XLSX), made in memory, reading the
code list, and a roster imported and joined straight through `storage.roster`."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook, load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox.driver import SandboxUser
from storage import roster
from storage.db import transaction
from storage.roster_rules import RosterRow
from tests.support.bot import BotHarness
from tests.support.chat import newest
from tests.support.clock import T0
from tests.support.config import SECRET

HEADER_ZH = ["姓名", "部门", "工号", "生日", "标签"]
HEADER_EN = ["Name", "Department", "Employee number", "Birthday", "Tags"]
PEOPLE = [
    ["张伟", "装配车间", "A001", "1988-03-15", "新员工"],
    ["李娜", "质检部", "A002", "", ""],
    ["王芳", "装配车间", "A003", "1990年5月3日", "困难职工,女工"],
]

Rows = Sequence[Sequence[object]]
Sessions = async_sessionmaker[AsyncSession]


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


async def joined_roster(
    sessions: Sessions,
    rows: Sequence[RosterRow],
    *,
    join: Sequence[str] = (),
    now: datetime = T0,
    first_telegram_id: int = 700_000_000,
) -> dict[str, int]:
    """``rows`` imported, and the people numbered in ``join`` joined with their codes,
    as `storage.roster` does it; their member ids by employee number."""
    async with transaction(sessions) as session:
        done = await roster.apply(
            session, list(rows), secret=SECRET, now=now, code_days=30, remove_absent=False
        )
    codes = {c.employee_no: c.code for c in done.codes}
    found: dict[str, int] = {}
    async with transaction(sessions) as session:
        for offset, number in enumerate(join):
            member = await roster.join(
                session,
                codes[number],
                telegram_id=first_telegram_id + offset,
                language="zh_CN",
                secret=SECRET,
                now=now,
                attempts_per_hour=5,
            )
            found[number] = member.id
    return found


async def reimport(
    sessions: Sessions, rows: Sequence[RosterRow], *, remove: bool = False, now: datetime = T0
) -> roster.Applied:
    """``rows`` applied again, in one transaction of their own."""
    async with transaction(sessions) as session:
        return await roster.apply(
            session, list(rows), secret=SECRET, now=now, code_days=30, remove_absent=remove
        )
