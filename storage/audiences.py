"""Who an announcement, activity or poll is for: an audience, and the members it selects.

An :class:`Audience` is a union of selections: everyone, or any mix of items
from *sources* (departments, interest groups, and whatever later features
register, e.g. "participants of activity 12") and member tags. A member is in
the audience when any one selection includes them, so adding a selection
never removes anyone.

Why sources are a registry: broadcasts, activities and polls all pick
audiences, and each new feature brings its own way of grouping members. A
feature describes its grouping once (:class:`AudienceSource`: how to list the
items an admin can choose, and which member ids an item covers) and calls
:func:`register_source` when its storage module is imported, as buttons do in
`display.callbacks`; every audience picker and every resolution then knows it
without further changes here. Departments and interest groups are sources
themselves; tags are not, because they are free text rather than rows with ids.

An audience is stored as plain JSON (:meth:`Audience.to_json`), so a
scheduled broadcast keeps its selection, not a frozen list of people: whoever
is in the department when it is sent receives it. Only active members are
ever selected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from core import collation
from core.i18n import N_
from storage.models import Department, InterestGroup, Member, MemberTag, member_groups

# Keys travel in callback data (see `display.callbacks`): short, plain tokens.
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
PAGE = 5000


class UnknownSource(KeyError):
    """An audience names a source that no feature has registered."""


MemberIds = Callable[[Collection[int]], Select[int]]
Choices = Callable[[AsyncSession, tzinfo], Awaitable[list[tuple[int, str]]]]


@dataclass(frozen=True)
class AudienceSource:
    """One way of grouping members that audiences can pick items from.

    ``member_ids`` returns a query for the ids of the members the chosen items
    cover (it may return inactive members; resolution filters them).
    ``choices`` lists what an admin can pick now, as (id, name) pairs; the
    same call names the items of a stored audience, so items deleted since
    show up as missing rather than silently.
    """

    key: str
    title: str  # msgid, e.g. N_("Departments"); translated where shown
    member_ids: MemberIds
    choices: Choices
    order: int = 100
    icon: str = "•"  # shown before each item on the picker's buttons

    def __post_init__(self) -> None:
        if not self.key or len(self.key) > 12 or not set(self.key) <= _KEY_CHARS:
            raise ValueError(f"bad audience source key {self.key!r}")


@dataclass
class AudienceSources:
    """The registered sources, by key; kept in registration order of ``order``."""

    by_key: dict[str, AudienceSource] = field(default_factory=dict)

    def register(self, source: AudienceSource) -> AudienceSource:
        if source.key in self.by_key:
            raise ValueError(f"audience source {source.key!r} registered twice")
        self.by_key[source.key] = source
        return source

    def unregister(self, key: str) -> None:
        self.by_key.pop(key, None)

    def get(self, key: str) -> AudienceSource:
        try:
            return self.by_key[key]
        except KeyError:
            raise UnknownSource(key) from None

    def __contains__(self, key: object) -> bool:
        return key in self.by_key

    def ordered(self) -> list[AudienceSource]:
        return sorted(self.by_key.values(), key=lambda s: (s.order, s.key))


@dataclass(frozen=True)
class Audience:
    """A union of selections. Empty (nothing chosen) selects nobody."""

    everyone: bool = False
    items: Mapping[str, frozenset[int]] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Normalised so equal audiences compare equal: no empty selections kept.
        cleaned = {k: frozenset(v) for k, v in self.items.items() if v}
        object.__setattr__(self, "items", dict(sorted(cleaned.items())))
        object.__setattr__(self, "tags", frozenset(self.tags))

    @property
    def empty(self) -> bool:
        return not self.everyone and not self.items and not self.tags

    def chosen(self, source: str) -> frozenset[int]:
        return self.items.get(source, frozenset())

    def toggle_everyone(self) -> Audience:
        return Audience(not self.everyone, self.items, self.tags)

    def toggle_item(self, source: str, item_id: int) -> Audience:
        items = dict(self.items)
        items[source] = self.chosen(source) ^ {item_id}
        return Audience(self.everyone, items, self.tags)

    def toggle_tag(self, tag: str) -> Audience:
        return Audience(self.everyone, self.items, self.tags ^ {tag})

    def to_json(self) -> dict[str, Any]:
        return {
            "everyone": self.everyone,
            "items": {k: sorted(v) for k, v in self.items.items()},
            "tags": sorted(self.tags),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Audience:
        data = data or {}
        items = {
            str(key): frozenset(int(i) for i in ids)
            for key, ids in dict(data.get("items") or {}).items()
        }
        return cls(bool(data.get("everyone")), items, frozenset(map(str, data.get("tags") or ())))


# Built-in sources ------------------------------------------------------------


def _department_members(ids: Collection[int]) -> Select[int]:
    return select(Member.id).where(Member.department_id.in_(list(ids)))


async def _department_choices(session: AsyncSession, zone: tzinfo) -> list[tuple[int, str]]:
    rows = await session.execute(select(Department.id, Department.name))
    return collation.by_name([(int(i), str(n)) for i, n in rows], lambda row: row[1])


def _group_members(ids: Collection[int]) -> Select[int]:
    return select(member_groups.c.member_id).where(member_groups.c.group_id.in_(list(ids)))


async def _group_choices(session: AsyncSession, zone: tzinfo) -> list[tuple[int, str]]:
    rows = await session.execute(select(InterestGroup.id, InterestGroup.name))
    return collation.by_name([(int(i), str(n)) for i, n in rows], lambda row: row[1])


DEPARTMENT = AudienceSource(
    "dept", N_("Departments"), _department_members, _department_choices, order=10, icon="🏢"
)
GROUP = AudienceSource(
    "group", N_("Interest groups"), _group_members, _group_choices, order=20, icon="🎯"
)

SOURCES = AudienceSources()
SOURCES.register(DEPARTMENT)
SOURCES.register(GROUP)


def register_source(source: AudienceSource) -> AudienceSource:
    """Make a feature's grouping (e.g. activity participants) available to every audience."""
    return SOURCES.register(source)


# Resolution ------------------------------------------------------------------


def condition(audience: Audience, sources: AudienceSources = SOURCES) -> ColumnElement[bool] | None:
    """A WHERE clause on `Member` selecting the audience's active members (None: nobody).

    Each selection is a subquery and the audience is their SQL UNION, so the
    database removes duplicates and a member in two chosen departments is
    selected once. Sources no longer registered select nobody. "Everyone"
    needs no subquery, so the commonest broadcast stays a plain scan.
    """
    if audience.empty:
        return None
    if audience.everyone:
        return Member.active.is_(True)
    parts: list[Select[int]] = []
    for key, ids in audience.items.items():
        if key in sources:
            parts.append(sources.get(key).member_ids(ids))
    if audience.tags:
        parts.append(select(MemberTag.member_id).where(MemberTag.tag.in_(sorted(audience.tags))))
    if not parts:
        return None
    chosen = parts[0] if len(parts) == 1 else union(*parts)
    return and_(Member.active.is_(True), Member.id.in_(chosen))


def member_ids_query(audience: Audience, sources: AudienceSources = SOURCES) -> Select[int] | None:
    """The ids of the audience's members as one query, for other queries to build on."""
    where = condition(audience, sources)
    return None if where is None else select(Member.id).where(where)


async def count(
    session: AsyncSession, audience: Audience, sources: AudienceSources = SOURCES
) -> int:
    where = condition(audience, sources)
    if where is None:
        return 0
    return int(await session.scalar(select(func.count(Member.id)).where(where)) or 0)


async def count_blocked(
    session: AsyncSession, audience: Audience, sources: AudienceSources = SOURCES
) -> int:
    """How many of the audience are known to have blocked the bot (told before sending)."""
    where = condition(audience, sources)
    if where is None:
        return 0
    blocked = select(func.count(Member.id)).where(where, Member.blocked_at.is_not(None))
    return int(await session.scalar(blocked) or 0)


@dataclass(frozen=True)
class Recipient:
    member_id: int
    telegram_id: int
    language: str


async def recipients(
    session: AsyncSession,
    audience: Audience,
    sources: AudienceSources = SOURCES,
    *,
    page: int = PAGE,
) -> AsyncIterator[list[Recipient]]:
    """The audience in pages of ``page`` members, by member id.

    Keyset pages keep a 100,000-member union's memory flat and leave the
    session free between pages (the caller inserts outbox rows meanwhile).
    """
    where = condition(audience, sources)
    if where is None:
        return
    last = 0
    while True:
        rows = (
            await session.execute(
                select(Member.id, Member.telegram_id, Member.language)
                .where(where, Member.id > last)
                .order_by(Member.id)
                .limit(page)
            )
        ).all()
        if not rows:
            return
        yield [Recipient(int(m), int(t), str(lang)) for m, t, lang in rows]
        last = int(rows[-1][0])


async def member_ids(
    session: AsyncSession, audience: Audience, sources: AudienceSources = SOURCES
) -> set[int]:
    """Every member id in the audience (for tests and small audiences)."""
    found: set[int] = set()
    async for chunk in recipients(session, audience, sources):
        found.update(r.member_id for r in chunk)
    return found


async def tags_in_use(session: AsyncSession) -> list[str]:
    """The tags at least one active member carries, for the audience picker."""
    rows = await session.scalars(
        select(MemberTag.tag)
        .join(Member, Member.id == MemberTag.member_id)
        .where(Member.active.is_(True))
        .group_by(MemberTag.tag)
        .order_by(MemberTag.tag)
    )
    return list(rows)


@dataclass(frozen=True)
class Described:
    """An audience in words-to-be: per source its title and the chosen items' names."""

    everyone: bool
    sources: list[tuple[str, list[str]]]  # (title msgid, names) per chosen source
    tags: list[str]
    missing: int  # chosen items that no longer exist


async def describe(
    session: AsyncSession, audience: Audience, zone: tzinfo, sources: AudienceSources = SOURCES
) -> Described:
    """The audience's chosen items by name; dates in names are in ``zone``."""
    named: list[tuple[str, list[str]]] = []
    missing = 0
    for source in sources.ordered():
        chosen = audience.chosen(source.key)
        if not chosen:
            continue
        names = {i: n for i, n in await source.choices(session, zone) if i in chosen}
        missing += len(chosen) - len(names)
        if names:
            named.append((source.title, collation.by_name(names.values(), str)))
    missing += sum(len(ids) for key, ids in audience.items.items() if key not in sources)
    return Described(audience.everyone, named, sorted(audience.tags), missing)
