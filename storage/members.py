"""Membership services: registration, profile, roles, departments and groups.

Functions take a session and return plain models; they know nothing of
Telegram. Callers own the transaction (see `storage.db.transaction`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from core import collation
from storage.db import insert_for, rows_changed
from storage.models import (
    Department,
    InterestGroup,
    Member,
    MemberTag,
    Role,
    member_groups,
    utc_day,
    utcnow,
)
from storage.profile_rules import (
    GROUP_MAX,
    InvalidInput,
    clean_department,
    clean_label,
    clean_name,
    clean_tag,
    parse_birthday,
)

T = TypeVar("T")
QUERY_MAX = 64


class NotFound(LookupError):
    """The row a caller asked for does not exist (any more)."""


class Conflict(ValueError):
    """The change would break a uniqueness rule (a name already taken…)."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# How every list of members is ordered: pinyin, then the id for equal names (a stable page).
PINYIN_ORDER = (Member.sort_key, Member.id)


def effective_role(member: Member | None, telegram_id: int, admin_ids: Collection[int]) -> Role:
    """Admins from settings are admins even before (or without) registering."""
    if telegram_id in admin_ids:
        return Role.ADMIN
    if member is None:
        return Role.MEMBER
    return Role(member.role)


# The member with their department, tags and groups in one query. The model's default
# loads the two collections with a SELECT each ("selectin"), which made every update of a
# registered member cost three round trips before its handler ran (`handlers.scope`).
_ONE_MEMBER = select(Member).options(joinedload(Member.tags), joinedload(Member.groups))
# Built once: every update asks it (`handlers.scope`), and a statement built anew is
# walked for its cache key each time, a tenth of what the query costs in Python.
_BY_TELEGRAM_ID = _ONE_MEMBER.where(Member.telegram_id == bindparam("telegram_id"))


async def get_member(session: AsyncSession, telegram_id: int) -> Member | None:
    found = await session.scalars(_BY_TELEGRAM_ID, {"telegram_id": telegram_id})
    return found.unique().one_or_none()


async def get_member_by_id(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id}")
    return member


async def register(
    session: AsyncSession,
    *,
    telegram_id: int,
    name: str,
    department: str | None,
    birthday: date | None,
    language: str,
    username: str | None = None,
) -> Member:
    """Create the member, or update the profile if they registered meanwhile."""
    member = await get_member(session, telegram_id)
    if member is None:
        member = Member(telegram_id=telegram_id, role=Role.MEMBER.value, active=True)
        session.add(member)
    member.name = name
    member.username = clean_username(username)
    member.birthday = birthday
    member.language = language
    member.department = await department_by_name(session, department) if department else None
    await session.flush()
    return member


async def forget(session: AsyncSession, telegram_id: int) -> bool:
    """Delete a member's personal data; tags and group memberships go with the row."""
    result = await session.execute(delete(Member).where(Member.telegram_id == telegram_id))
    return rows_changed(result) > 0


# One's own profile: each typed answer checked by `storage.profile_rules` ----------


async def rename(session: AsyncSession, member: Member, text: str) -> None:
    """The member's name as typed, cleaned (InvalidInput if it cannot be a name)."""
    member.name = clean_name(text)
    await session.flush()


async def move_to_department(session: AsyncSession, member: Member, text: str) -> None:
    """Into the department typed or chosen, created if new (InvalidInput for a bad name)."""
    member.department = await department_by_name(session, clean_department(text))
    await session.flush()


async def set_birthday(session: AsyncSession, member: Member, text: str, today: date) -> None:
    """The date of birth as typed (InvalidInput if unreadable or implausible on ``today``)."""
    member.birthday = parse_birthday(text, today)
    await session.flush()


async def clear_birthday(session: AsyncSession, member: Member) -> None:
    member.birthday = None
    await session.flush()


async def mark_blocked(session: AsyncSession, telegram_id: int, when: datetime) -> None:
    member = await get_member(session, telegram_id)
    if member is not None and member.blocked_at is None:
        member.blocked_at = utc_day(when)


async def mark_reachable(session: AsyncSession, member: Member) -> None:
    """A member who writes again has unblocked the bot."""
    if member.blocked_at is not None:
        member.blocked_at = None


async def list_members(session: AsyncSession, page: int, per_page: int = 10) -> Page[Member]:
    """One page of every member, in pinyin order (surnames read as surnames).

    Ordered in SQL by the stored key (`Member.sort_key`, indexed with the id), so
    each page is read from the index at 100,000 members and no member is on two
    pages or on none."""
    total = await session.scalar(select(func.count(Member.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    # The page's ids first, from the index alone (it holds the key and the id): the
    # offset then skips index entries, not whole rows with their departments joined.
    ids = (
        select(Member.id).order_by(*PINYIN_ORDER).offset(page * per_page).limit(per_page)
    ).scalar_subquery()
    rows = await session.scalars(select(Member).where(Member.id.in_(ids)).order_by(*PINYIN_ORDER))
    return Page(list(rows), total, page, per_page)


def clean_username(username: str | None) -> str | None:
    """Telegram's @username as stored: without "@", at most 32 characters, None if none."""
    cleaned = (username or "").lstrip("@")[:32]
    return cleaned or None


async def note_username(session: AsyncSession, member: Member, username: str | None) -> None:
    """Keep the member's @username current (it changes when they rename it in Telegram)."""
    cleaned = clean_username(username)
    if member.username != cleaned:
        member.username = cleaned
        await session.flush()


def clean_query(text: str) -> str:
    """What an admin typed to find a member, cleaned (InvalidInput if empty or long)."""
    return clean_label(text, QUERY_MAX)


async def search_members(session: AsyncSession, text: str, limit: int = 10) -> list[Member]:
    """By name fragment, @username (its beginning), or exact Telegram id when the text is
    a number; the first `limit` of all matches in pinyin order (ordered in SQL by the
    stored key, so a broad fragment shows the first names of the whole list, not of
    some matches). Text without "@" matches names and usernames alike."""
    query = select(Member)
    # isdecimal: "²" is a digit int() refuses; a BIGINT holds 18 digits whatever they are.
    if text.isdecimal() and len(text) <= 18:
        query = query.where(Member.telegram_id == int(text))
    elif text.startswith("@") and len(text) > 1:
        query = query.where(
            func.lower(Member.username).like(f"{_like(text[1:].lower())}%", escape="\\")
        )
    else:
        pattern = f"%{_like(text)}%"
        query = query.where(
            Member.name.ilike(pattern, escape="\\") | Member.username.ilike(pattern, escape="\\")
        )
    return list(await session.scalars(query.order_by(*PINYIN_ORDER).limit(limit)))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def set_role(session: AsyncSession, member_id: int, role: Role) -> Member:
    member = await get_member_by_id(session, member_id)
    member.role = role.value
    return member


class RoleRefused(ValueError):
    """A role change the rules forbid; ``reason`` is "settings" (listed in ADMIN_IDS)
    or "self" (an admin's own role)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RoleChange:
    member: Member
    before: Role
    after: Role

    @property
    def changed(self) -> bool:
        return self.before is not self.after


def role_refusal(
    member: Member, by_telegram_id: int | None, admin_ids: Collection[int]
) -> str | None:
    """Why ``by_telegram_id`` may not change ``member``'s role, or None if they may."""
    if member.telegram_id in admin_ids:
        return "settings"
    if by_telegram_id is not None and member.telegram_id == by_telegram_id:
        return "self"
    return None


async def change_role(
    session: AsyncSession,
    member_id: int,
    target: Role,
    *,
    by_telegram_id: int,
    admin_ids: Collection[int],
) -> RoleChange:
    """An admin gives ``member_id`` the role ``target``: NotFound, RoleRefused, or the change."""
    member = await get_member_by_id(session, member_id)
    refusal = role_refusal(member, by_telegram_id, admin_ids)
    if refusal is not None:
        raise RoleRefused(refusal)
    before = Role(member.role)
    if before is not target:
        member.role = target.value
        await session.flush()
    return RoleChange(member, before, target)


async def admin_telegram_ids(session: AsyncSession, admin_ids: Collection[int]) -> set[int]:
    promoted = await session.scalars(
        select(Member.telegram_id).where(Member.role == Role.ADMIN.value)
    )
    return set(admin_ids) | set(promoted)


async def admin_languages(
    session: AsyncSession, admin_ids: Collection[int]
) -> dict[int, str | None]:
    """Every admin's Telegram id and chosen language (None: not registered)."""
    rows = await session.execute(
        select(Member.telegram_id, Member.language).where(
            (Member.role == Role.ADMIN.value) | Member.telegram_id.in_(list(admin_ids))
        )
    )
    found: dict[int, str | None] = {telegram_id: None for telegram_id in admin_ids}
    for telegram_id, language in rows:
        found[telegram_id] = language
    return found


async def count_by_role(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Member.role, func.count()).group_by(Member.role))
    return {role: count for role, count in rows.all()}


# Departments ---------------------------------------------------------------


async def list_departments(session: AsyncSession) -> list[Department]:
    return collation.by_name(await session.scalars(select(Department)), lambda d: d.name)


async def department_by_name(session: AsyncSession, name: str) -> Department:
    """The known department with that name (any case), or a new one."""
    existing = await session.scalar(
        select(Department).where(func.lower(Department.name) == name.lower())
    )
    if existing is not None:
        return existing
    # Two members naming the same new department at once: one insert wins, the
    # other finds its row, and neither registration fails on the unique name.
    insert = insert_for(session)
    await session.execute(
        insert(Department)
        .values(name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    department = await session.scalar(select(Department).where(Department.name == name))
    assert department is not None
    return department


async def add_department(session: AsyncSession, name: str) -> Department:
    """A new department named as typed: InvalidInput, or Conflict if the name is taken."""
    name = clean_department(name)
    if await session.scalar(select(Department).where(func.lower(Department.name) == name.lower())):
        raise Conflict(name)
    department = Department(name=name)
    session.add(department)
    await session.flush()
    return department


async def rename_department(session: AsyncSession, department_id: int, name: str) -> Department:
    """Rename as typed: InvalidInput, NotFound, or Conflict if another has the name."""
    name = clean_department(name)
    department = await session.get(Department, department_id)
    if department is None:
        raise NotFound(f"department {department_id}")
    clash = await session.scalar(
        select(Department).where(
            func.lower(Department.name) == name.lower(), Department.id != department_id
        )
    )
    if clash is not None:
        raise Conflict(name)
    department.name = name
    return department


async def delete_department(session: AsyncSession, department_id: int) -> int:
    """Delete it; its members keep their profile with no department. Returns how many."""
    department = await session.get(Department, department_id)
    if department is None:
        raise NotFound(f"department {department_id}")
    affected = await session.scalar(
        select(func.count(Member.id)).where(Member.department_id == department_id)
    )
    await session.delete(department)
    await session.flush()
    return affected or 0


async def department_sizes(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Member.department_id, func.count()).group_by(Member.department_id)
    )
    return {dep: count for dep, count in rows.all() if dep is not None}


# Interest groups -----------------------------------------------------------


async def list_groups(session: AsyncSession) -> list[InterestGroup]:
    return collation.by_name(await session.scalars(select(InterestGroup)), lambda g: g.name)


async def get_group(session: AsyncSession, group_id: int) -> InterestGroup:
    group = await session.get(InterestGroup, group_id)
    if group is None:
        raise NotFound(f"group {group_id}")
    return group


def clean_group_name(text: str) -> str:
    name = clean_label(text, GROUP_MAX)
    if name.startswith("/"):
        raise InvalidInput("command")
    return name


async def add_group(session: AsyncSession, name: str, description: str = "") -> InterestGroup:
    """A new interest group named as typed: InvalidInput, or Conflict if the name is taken."""
    name = clean_group_name(name)
    if await session.scalar(
        select(InterestGroup).where(func.lower(InterestGroup.name) == name.lower())
    ):
        raise Conflict(name)
    group = InterestGroup(name=name, description=description)
    session.add(group)
    await session.flush()
    return group


async def rename_group(session: AsyncSession, group_id: int, name: str) -> InterestGroup:
    """Rename as typed: InvalidInput, NotFound, or Conflict if another has the name."""
    name = clean_group_name(name)
    group = await get_group(session, group_id)
    clash = await session.scalar(
        select(InterestGroup).where(
            func.lower(InterestGroup.name) == name.lower(), InterestGroup.id != group_id
        )
    )
    if clash is not None:
        raise Conflict(name)
    group.name = name
    return group


async def delete_group(session: AsyncSession, group_id: int) -> None:
    group = await get_group(session, group_id)
    await session.delete(group)
    await session.flush()


async def group_sizes(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(member_groups.c.group_id, func.count()).group_by(member_groups.c.group_id)
    )
    return {group: count for group, count in rows.all()}


# Tags ----------------------------------------------------------------------


async def set_tags(session: AsyncSession, member: Member, tags: Collection[str]) -> None:
    wanted = set(tags)
    for row in list(member.tags):
        if row.tag not in wanted:
            member.tags.remove(row)
    have = {t.tag for t in member.tags}
    for tag in sorted(wanted - have):
        member.tags.append(MemberTag(tag=tag))
    member.updated_at = utc_day()
    await session.flush()


def parse_tags(text: str) -> list[str]:
    """Tags typed by an admin: separated by commas (either width), or "-" for none."""
    if text.strip() == "-":
        return []
    return [
        clean_tag(part)
        for part in text.replace("，", ",").replace("、", ",").split(",")
        if part.strip()
    ]


async def retag(session: AsyncSession, member: Member, text: str) -> None:
    """Give the member exactly the tags typed (InvalidInput for one that cannot be a tag)."""
    await set_tags(session, member, parse_tags(text))


async def join_group(session: AsyncSession, member: Member, group: InterestGroup) -> None:
    if all(g.id != group.id for g in member.groups):
        member.groups.append(group)
        await session.flush()


async def leave_group(session: AsyncSession, member: Member, group_id: int) -> None:
    member.groups[:] = [g for g in member.groups if g.id != group_id]
    await session.flush()
