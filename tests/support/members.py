"""The one way a test gets members: rows in bulk, one member through the service, or a person
in the sandbox whose row is already there (registration itself has its own tests, in
`tests/e2e/test_membership.py`; `tests.support.chat.registered` walks through it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import count
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox.driver import SandboxUser
from storage import members
from storage.db import transaction
from storage.models import Member, Role
from tests.support.bot import BotHarness
from tests.support.clock import T0

Sessions = async_sessionmaker[AsyncSession]
# Where a helper finds the database: a running bot's, or a bare session factory.
Source = BotHarness | Sessions

# Telegram ids: rows in bulk count up from here; people in the sandbox from a range
# of their own, so the two never meet in one test.
FIRST_ROW = 800_000_001
_people = count(810_000_001)
# When a `blocked` member blocked the bot: long before T0.
BLOCKED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def sessions_of(source: Source) -> Sessions:
    return source.runtime.sessions if isinstance(source, BotHarness) else source


def _telegram_id(who: SandboxUser | int) -> int:
    return who if isinstance(who, int) else who.id


def member_values(
    telegram_id: int,
    *,
    name: str | None = None,
    department_id: int | None = None,
    language: str = "zh_CN",
    role: Role = Role.MEMBER,
    active: bool = True,
    created_at: datetime = T0,
) -> dict[str, Any]:
    """A member row's columns, with what a test does not care about filled in."""
    return {
        "telegram_id": telegram_id,
        "name": name if name is not None else f"M{telegram_id}",
        "department_id": department_id,
        "language": language,
        "role": role.value,
        "active": active,
        "created_at": created_at,
        "updated_at": created_at,
    }


def new_member(telegram_id: int, **fields: Any) -> Member:
    """An unsaved `Member`, for a test that adds it in a transaction of its own."""
    return Member(**member_values(telegram_id, **fields))


async def add_members(
    sessions: Sessions,
    count: int = 0,
    *,
    telegram_ids: Sequence[int] = (),
    first: int = FIRST_ROW,
    departments: Sequence[str] = (),
) -> list[int]:
    """Member rows in one insert, no Telegram side; their member ids in the order asked.

    The rows are ``count`` new telegram ids from ``first``, or ``telegram_ids``, or
    one per entry of ``departments`` (a department name each, made if missing).
    """
    ids = list(telegram_ids) or list(range(first, first + (count or len(departments))))
    async with transaction(sessions) as session:
        found = {n: (await members.department_by_name(session, n)).id for n in set(departments)}
        places: list[int | None] = [found[n] for n in departments] or [None] * len(ids)
        await session.execute(
            insert(Member),
            [
                member_values(tid, department_id=place)
                for tid, place in zip(ids, places, strict=True)
            ],
        )
        # By range, not by an IN of thousands of ids.
        rows = await session.execute(
            select(Member.telegram_id, Member.id).where(
                Member.telegram_id.between(min(ids), max(ids))
            )
        )
        by_tid = {tid: mid for tid, mid in rows}
    return [by_tid[tid] for tid in ids]


async def add_member_rows(sessions: Sessions, **how: Any) -> list[Member]:
    """`add_members`, giving the rows themselves (for a test that reads their department)."""
    ids = await add_members(sessions, **how)
    async with sessions() as session:
        found = await session.scalars(select(Member).where(Member.id.between(min(ids), max(ids))))
        rows = {m.id: m for m in found}
    return [rows[i] for i in ids]


async def register_member(
    session: AsyncSession,
    telegram_id: int,
    name: str,
    *,
    department: str | None = None,
    birthday: date | None = None,
    language: str = "zh_CN",
    role: Role = Role.MEMBER,
    tags: Sequence[str] = (),
    groups: Sequence[str] = (),
    active: bool = True,
    blocked: bool = False,
) -> Member:
    """A member as registration makes one (`storage.members.register`), then as admins left it."""
    member = await members.register(
        session,
        telegram_id=telegram_id,
        name=name,
        department=department,
        birthday=birthday,
        language=language,
    )
    member.role = role.value
    member.active = active
    if blocked:
        member.blocked_at = BLOCKED_AT
    if tags or groups:
        await session.refresh(member, ["tags", "groups"])
        await members.set_tags(session, member, tags)
        known = {g.name: g for g in await members.list_groups(session)}
        for group in groups:
            if group not in known:
                known[group] = await members.add_group(session, group)
            await members.join_group(session, member, known[group])
    await session.flush()
    return member


async def add_member(source: Source, telegram_id: int, name: str, **profile: Any) -> int:
    """`register_member` in a transaction of its own; the member id."""
    async with transaction(sessions_of(source)) as session:
        return (await register_member(session, telegram_id, name, **profile)).id


@dataclass(frozen=True)
class Person:
    """Someone in the sandbox and in the member list, as `add_person` makes them."""

    name: str
    department: str | None = None
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str = "zh_CN"
    role: Role = Role.MEMBER


async def add_person(
    bot: BotHarness,
    name: str,
    *,
    department: str | None = "装配车间",
    language: str = "zh_CN",
    role: Role = Role.MEMBER,
    tags: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> SandboxUser:
    """A registered member with an open private chat (as if they had sent /start long ago)."""
    user_id = next(_people)
    code = "zh-hans" if language == "zh_CN" else "en"
    user = await bot.driver.create_user(name, user_id=user_id, language_code=code)
    bot.server.actions.open_private(bot.driver.bot_id, user_id)
    await add_member(
        bot,
        user_id,
        name,
        department=department,
        language=language,
        role=role,
        tags=tags,
        groups=groups,
    )
    return user


async def add_people(bot: BotHarness, people: Sequence[Person]) -> dict[str, SandboxUser]:
    """`add_person` for each, by name."""
    return {
        p.name: await add_person(
            bot,
            p.name,
            department=p.department,
            language=p.language,
            role=p.role,
            tags=p.tags,
            groups=p.groups,
        )
        for p in people
    }


async def set_role(bot: BotHarness, who: SandboxUser | int, role: Role) -> None:
    """The row as a promotion leaves it; nobody is told (the admin panel's tests do that)."""
    async with transaction(bot.runtime.sessions) as session:
        row = await members.get_member(session, _telegram_id(who))
        assert row is not None, "register them first"
        await members.set_role(session, row.id, role)


async def member_row(source: Source, who: SandboxUser | int) -> Member | None:
    """The member row of a Telegram user, if they are registered."""
    async with sessions_of(source)() as session:
        return await members.get_member(session, _telegram_id(who))


async def member_id(source: Source, who: SandboxUser | int) -> int:
    found = await member_row(source, who)
    assert found is not None, "not registered"
    return found.id


async def member_by_id(source: Source, member_id: int) -> Member:
    async with sessions_of(source)() as session:
        found = await session.get(Member, member_id)
        assert found is not None
        return found
