"""Example data for `union-bot demo`: a small union to try every role with.

Later features add their own seed functions to `SEEDERS`. The demo runs them
once, on a fresh data folder; running it again keeps whatever people changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from storage import members
from storage.models import Role

DEPARTMENTS = ("装配车间", "质检科", "仓储物流部", "职工食堂", "设备维修班", "行政办公室")
GROUPS = (("篮球队", "每周三晚训练"), ("摄影协会", "每月外拍一次"), ("读书会", "每月共读一本书"))

ADMIN_ID = 700000001
CADRE_ID = 700000002
NEWCOMER_ID = 700000099
CADRE_CHAT_ID = -1007000000001
ESCALATION_CHAT_ID = -1007000000002


@dataclass(frozen=True)
class DemoPerson:
    telegram_id: int
    name: str
    username: str
    department: str | None
    birthday: date | None
    role: Role = Role.MEMBER
    tags: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    language: str = "zh_CN"
    registered: bool = True


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(ADMIN_ID, "周主席", "zhou_admin", "行政办公室", date(1975, 3, 8), Role.ADMIN),
    DemoPerson(
        CADRE_ID,
        "李干事",
        "li_cadre",
        "行政办公室",
        date(1985, 6, 1),
        Role.CADRE,
        groups=("读书会",),
    ),
    DemoPerson(700000003, "王小明", "wang_xm", "装配车间", date(1992, 5, 3), groups=("篮球队",)),
    DemoPerson(
        700000004,
        "张丽",
        "zhang_li",
        "质检科",
        date(1990, 11, 25),
        tags=("女职工",),
        groups=("摄影协会", "读书会"),
    ),
    DemoPerson(700000005, "刘强", "liu_qiang", "仓储物流部", date(1988, 2, 29), groups=("篮球队",)),
    DemoPerson(700000006, "陈静", "chen_jing", "职工食堂", date(1979, 9, 9), tags=("困难职工",)),
    DemoPerson(700000007, "杨帆", "yang_fan", "设备维修班", date(2001, 7, 15), tags=("新员工",)),
    DemoPerson(700000008, "赵敏", "zhao_min", "装配车间", None, tags=("新员工", "女职工")),
    DemoPerson(700000009, "黄伟", "huang_wei", "设备维修班", date(1966, 12, 1), tags=("即将退休",)),
    DemoPerson(700000010, "吴芳", "wu_fang", "质检科", date(1995, 4, 20), groups=("摄影协会",)),
    DemoPerson(700000011, "孙涛", "sun_tao", "仓储物流部", date(1983, 8, 8)),
    DemoPerson(
        700000012,
        "Anna Schmidt",
        "anna_s",
        "行政办公室",
        date(1991, 1, 30),
        language="en",
        groups=("读书会",),
    ),
    DemoPerson(NEWCOMER_ID, "林新", "lin_new", None, None, registered=False),
)


async def seed_membership(session: AsyncSession) -> None:
    """Departments, interest groups and the people above, once."""
    for name in DEPARTMENTS:
        await members.department_by_name(session, name)
    existing_groups = {g.name: g for g in await members.list_groups(session)}
    for name, description in GROUPS:
        if name not in existing_groups:
            existing_groups[name] = await members.add_group(session, name, description)
    for person in PEOPLE:
        if not person.registered or await members.get_member(session, person.telegram_id):
            continue
        member = await members.register(
            session,
            telegram_id=person.telegram_id,
            name=person.name,
            department=person.department,
            birthday=person.birthday,
            language=person.language,
        )
        member.role = person.role.value
        await members.set_tags(session, member, person.tags)
        for group in person.groups:
            await members.join_group(session, member, existing_groups[group])


Seeder = Callable[[AsyncSession], Awaitable[None]]
SEEDERS: list[Seeder] = [seed_membership]
