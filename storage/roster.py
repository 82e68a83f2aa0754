"""The union's roster: importing a checked file, one-time codes, joining with a code.

Rows come clean from `storage.roster_rules.read_roster`; here they are
compared with the roster (:func:`preview`) and applied in the caller's one
transaction (:func:`apply`). An entry is keyed by its employee number.

Codes: 8 characters from an alphabet without 0/O/1/I, made by `secrets`,
stored only as a keyed hash (`SECRET_KEY`), valid for ``roster_code_days``.
The plain codes exist once, in what :func:`apply` returns, for the printable
list. A code used links its entry to the new member, sealed (AES-GCM, the
entry's id as associated data): without the key a dump cannot tell which
account is behind which entry. Wrong codes are counted per account (a keyed
hash, to the minute) for the rate limit.

A re-import also brings members who joined up to date (the rules are above
:class:`MemberChange`): the links of the changed and the missing entries are
opened with the key in one pass, in memory, inside the caller's transaction;
nothing about the link is written anywhere but the sealed column. Every write
is one batched statement per kind, so 100,000 entries apply in seconds
(`benchmarks/roster.py`).
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import collation
from storage import members
from storage.crypto import Cipher, DecryptionError, KeyedHasher
from storage.models import Base, Member, MemberTag, RosterCodeAttempt, RosterEntry, utc_day
from storage.roster_rules import RosterRow

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
assert len(ALPHABET) == 32
CODE_LENGTH = 8
NAMES_SHOWN = 10
_CODE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
CODE_PURPOSE = "roster-code"
LINK_PURPOSE = "roster-link"
ATTEMPT_PURPOSE = "roster-attempt"
T = TypeVar("T")


def new_code() -> str:
    # 32 letters: the low five bits of a random byte pick one uniformly, one read for all.
    return "".join(ALPHABET[byte & 31] for byte in secrets.token_bytes(CODE_LENGTH))


def clean_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes between groups), or None if it is none."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if _CODE.fullmatch(code) else None


def _tags(row: RosterRow) -> str:
    return ",".join(row.tags)


def entry_tags(entry: Known | RosterEntry) -> frozenset[str]:
    """The entry's tags as the bot's member tags: joining and every re-import read them so.

    Roster tags are cleaned by the same rule as an admin's tags
    (`profile_rules.clean_tag`), so a roster tag *is* a member tag, letter for letter.
    """
    return frozenset(t for t in entry.tags.split(",") if t)


@dataclass(frozen=True)
class Known:
    """An entry as the roster has it before the import: read as plain columns, so that a
    roster of 100,000 is compared without building 100,000 ORM objects."""

    id: int
    employee_no: str
    name: str
    department: str
    birthday: date | None
    tags: str
    code_hash: str | None
    code_expires_at: datetime | None
    link: str | None


def _same(entry: Known, row: RosterRow) -> bool:
    return (
        entry.name == row.name
        and entry.department == row.department
        and entry.birthday == row.birthday
        and entry.tags == _tags(row)
    )


@dataclass(frozen=True)
class Preview:
    new: int
    updated: int
    unchanged: int
    absent: int  # on the roster, not in the file: removed only if the admin says so
    updated_names: tuple[str, ...] = ()  # the first NAMES_SHOWN of each, for the admin
    absent_names: tuple[str, ...] = ()
    members_updated: int = 0  # joined members whose profile the import changes
    absent_joined: int = 0  # of the absent, how many joined (they stay members if removed)


# What a re-import does to a member who joined with the entry's code ------------
#
# The file passes on to the member what it *changes*: a field the file leaves as
# the roster had it stays as the member (or an admin) left it. What it changes:
#
# - name, department: the file's, also over the member's own edit (the roster is
#   the HR record);
# - tags: tags the file adds are given, tags the file drops are taken away; tags
#   an admin gave by hand, never on the roster, stay;
# - birthday: the file's, unless the member gave or corrected theirs (it differs
#   from what the roster had): the member knows their own birthday. A birthday
#   the file leaves blank never erases the member's.
#
# An entry removed from the roster (🗑) takes its sealed link with it: the member
# stays a member with their profile and tags as they are.


@dataclass
class MemberChange:
    """What a re-import changes on one joined member (None: leave the field)."""

    member: Member
    name: str | None = None
    department: str | None = None
    birthday: date | None = None
    add_tags: frozenset[str] = frozenset()
    drop_tags: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(
            self.name is not None
            or self.department is not None
            or self.birthday is not None
            or self.add_tags
            or self.drop_tags
        )


def member_change(member: Member, entry: Known, row: RosterRow) -> MemberChange:
    """The change the file's ``row`` makes on ``member``, who joined with ``entry``."""
    change = MemberChange(member)
    if row.name != entry.name and member.name != row.name:
        change.name = row.name
    have = member.department.name if member.department is not None else None
    if row.department != entry.department and (have or "").lower() != row.department.lower():
        change.department = row.department
    if (
        row.birthday is not None
        and row.birthday != entry.birthday
        and member.birthday == entry.birthday  # neither given nor corrected by the member
        and member.birthday != row.birthday
    ):
        change.birthday = row.birthday
    before, after, tags = entry_tags(entry), frozenset(row.tags), set(member.tag_names)
    change.add_tags = frozenset((after - before) - tags)
    change.drop_tags = frozenset((before - after) & tags)
    return change


@dataclass
class _Plan:
    """The file against the roster: what :func:`preview` counts and :func:`apply` does."""

    rows: list[tuple[Known | None, RosterRow]]  # in the file's order; None: a new entry
    updated: list[tuple[Known, RosterRow]]
    unchanged: int
    absent: list[Known]
    changes: list[MemberChange]
    absent_joined: int

    def preview(self) -> Preview:
        return Preview(
            sum(1 for entry, _ in self.rows if entry is None),
            len(self.updated),
            self.unchanged,
            len(self.absent),
            tuple(row.name for _, row in self.updated[:NAMES_SHOWN]),
            tuple(e.name for e in self.absent[:NAMES_SHOWN]),
            len(self.changes),
            self.absent_joined,
        )


BATCH = 2000  # ids in one IN (…), rows in one executemany: under SQLite's and asyncpg's limits


def _batches(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


async def _linked(session: AsyncSession, secret: str, entries: list[Known]) -> dict[int, Member]:
    """Entry id → the member who joined with it, opening each sealed link once.

    Links that do not open (another key) or name a member since gone count as
    not joined. The member ids exist only in memory, never written anywhere.
    """
    cipher = Cipher(secret, LINK_PURPOSE)
    member_of: dict[int, int] = {}
    for entry in entries:
        if entry.link is None:
            continue
        try:
            opened = cipher.decrypt(entry.link, str(entry.id))
        except DecryptionError:
            continue
        if opened.isdecimal():
            member_of[entry.id] = int(opened)
    found: dict[int, Member] = {}
    for batch in _batches(sorted(set(member_of.values()))):
        loaded = await session.scalars(select(Member).where(Member.id.in_(batch)))
        found.update((m.id, m) for m in loaded)
    return {entry: found[member] for entry, member in member_of.items() if member in found}


async def _plan(session: AsyncSession, rows: list[RosterRow], secret: str) -> _Plan:
    table = _table(RosterEntry)
    known = {
        e.employee_no.casefold(): e
        for e in (Known(*r) for r in await session.execute(select(*(table.c[f] for f in _KNOWN))))
    }
    pairs: list[tuple[Known | None, RosterRow]] = []
    updated: list[tuple[Known, RosterRow]] = []
    unchanged = 0
    for row in rows:
        entry = known.pop(row.employee_no.casefold(), None)
        pairs.append((entry, row))
        if entry is None:
            continue
        if _same(entry, row):
            unchanged += 1
        else:
            updated.append((entry, row))
    absent = sorted(known.values(), key=lambda e: e.employee_no)
    linked = await _linked(session, secret, [e for e, _ in updated] + absent)
    changes: list[MemberChange] = []
    seen: set[int] = set()  # one change a member, even if two links named them
    for entry, row in updated:
        member = linked.get(entry.id)
        if member is not None and member.id not in seen:
            seen.add(member.id)
            if change := member_change(member, entry, row):
                changes.append(change)
    joined = sum(1 for e in absent if e.id in linked)
    return _Plan(pairs, updated, unchanged, absent, changes, joined)


_KNOWN = [f.name for f in fields(Known)]


async def preview(session: AsyncSession, rows: list[RosterRow], *, secret: str) -> Preview:
    """What applying ``rows`` would do, counted; changes nothing."""
    return (await _plan(session, rows, secret)).preview()


@dataclass(frozen=True)
class IssuedCode:
    employee_no: str
    name: str
    department: str
    code: str


@dataclass(frozen=True)
class Applied:
    preview: Preview
    removed: int
    codes: list[IssuedCode]  # plain codes, shown once in the printable list


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def _executemany(session: AsyncSession, statement: Any, params: list[dict[str, Any]]) -> None:
    for batch in _batches(params):
        await session.execute(statement, batch)


async def _update_members(
    session: AsyncSession, changes: list[MemberChange], now: datetime
) -> None:
    """Write the changes, each kind in one batched statement: the members (every row
    the same columns), the tags taken away and given; departments are resolved once
    by name (new ones created). The members are then read back into the session, so
    what it holds is what was written."""
    if not changes:
        return
    departments = {d.name.lower(): d.id for d in await members.list_departments(session)}
    for name in sorted({c.department for c in changes if c.department is not None}):
        if name.lower() not in departments:
            departments[name.lower()] = (await members.department_by_name(session, name)).id
    day = utc_day(now)
    rows, dropped, given = [], [], []
    for change in changes:
        member = change.member
        name = change.name if change.name is not None else member.name
        rows.append(
            {
                "_id": member.id,
                "name": name,
                # A bulk UPDATE passes the model by: the pinyin key goes with the name.
                "sort_key": collation.sort_key(name),
                "department_id": departments[change.department.lower()]
                if change.department is not None
                else member.department_id,
                "birthday": change.birthday if change.birthday is not None else member.birthday,
                "updated_at": day,
            }
        )
        dropped += [{"_member": member.id, "_tag": tag} for tag in sorted(change.drop_tags)]
        given += [{"member_id": member.id, "tag": tag} for tag in sorted(change.add_tags)]
    table, tags = _table(Member), _table(MemberTag)
    await _executemany(session, table.update().where(table.c.id == bindparam("_id")), rows)
    gone = tags.delete().where(
        tags.c.member_id == bindparam("_member"), tags.c.tag == bindparam("_tag")
    )
    await _executemany(session, gone, dropped)
    await _executemany(session, tags.insert(), given)
    for batch in _batches([c.member.id for c in changes]):
        await session.execute(
            select(Member).where(Member.id.in_(batch)).execution_options(populate_existing=True)
        )


async def apply(
    session: AsyncSession,
    rows: list[RosterRow],
    *,
    secret: str,
    now: datetime,
    code_days: int,
    remove_absent: bool,
) -> Applied:
    """Apply the file in the caller's transaction: entries, the profiles of members who
    joined with a changed entry (see above), and a new code for each entry without a
    member nor a working code. Each kind of write is one batched statement."""
    plan = await _plan(session, rows, secret)
    await _update_members(session, plan.changes, now)
    hasher = KeyedHasher(secret, CODE_PURPOSE)
    expires = now + timedelta(days=code_days)
    today = utc_day(now)
    issued: list[IssuedCode] = []
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    coded: list[dict[str, Any]] = []
    for entry, row in plan.rows:
        data = {
            "name": row.name,
            "department": row.department,
            "birthday": row.birthday,
            "tags": _tags(row),
            "updated_at": today,
        }
        code = None
        if entry is None or (
            entry.link is None
            and (
                entry.code_hash is None
                or entry.code_expires_at is None
                or entry.code_expires_at <= now
            )
        ):
            code = new_code()
            issued.append(IssuedCode(row.employee_no, row.name, row.department, code))
        if entry is None:
            assert code is not None
            data |= {"employee_no": row.employee_no, "created_at": today}
            fresh.append(data | {"code_hash": hasher(code), "code_expires_at": expires})
            continue
        if not _same(entry, row):
            changed.append({"_id": entry.id, **data})
        if code is not None:
            coded.append({"_id": entry.id, "code_hash": hasher(code), "code_expires_at": expires})
    table = _table(RosterEntry)
    by_id = table.update().where(table.c.id == bindparam("_id"))
    await _executemany(session, table.insert(), fresh)
    await _executemany(session, by_id, changed)
    await _executemany(session, by_id, coded)
    removed = 0
    if remove_absent and plan.absent:
        for batch in _batches([e.id for e in plan.absent]):
            await session.execute(delete(RosterEntry).where(RosterEntry.id.in_(batch)))
        removed = len(plan.absent)
    await session.flush()
    return Applied(plan.preview(), removed, issued)


async def add_with_code(
    session: AsyncSession, row: RosterRow, code: str, *, secret: str, now: datetime, code_days: int
) -> RosterEntry:
    """One entry with a code chosen by the caller (the demo's codes to try)."""
    clean = clean_code(code)
    if clean is None:
        raise ValueError("not a code")
    entry = RosterEntry(
        employee_no=row.employee_no,
        name=row.name,
        department=row.department,
        birthday=row.birthday,
        tags=_tags(row),
        code_hash=KeyedHasher(secret, CODE_PURPOSE)(clean),
        code_expires_at=now + timedelta(days=code_days),
        created_at=utc_day(now),
        updated_at=utc_day(now),
    )
    session.add(entry)
    await session.flush()
    return entry


async def count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count(RosterEntry.id))) or 0


# Joining with a code -----------------------------------------------------------


class CodeRefused(ValueError):
    """A code that cannot register anyone; ``reason`` is a :class:`Why`."""

    def __init__(self, reason: Why) -> None:
        super().__init__(reason.value)
        self.reason = reason


class Why(enum.StrEnum):
    RATE = "rate"  # too many wrong codes from this account in the last hour
    WRONG = "wrong"  # no such code
    USED = "used"
    EXPIRED = "expired"
    MEMBER = "member"  # the account is already a member


async def _attempts(session: AsyncSession, who: str, now: datetime) -> int:
    hour_ago = now - timedelta(hours=1)
    await session.execute(delete(RosterCodeAttempt).where(RosterCodeAttempt.at < hour_ago))
    found = await session.scalar(
        select(func.count(RosterCodeAttempt.id)).where(
            RosterCodeAttempt.who == who, RosterCodeAttempt.at >= hour_ago
        )
    )
    return found or 0


async def find_code(
    session: AsyncSession,
    text: str,
    *,
    telegram_id: int,
    secret: str,
    now: datetime,
    attempts_per_hour: int,
) -> RosterEntry:
    """The entry a code names, or CodeRefused; a wrong code counts against the account.

    The caller commits even on a refusal, so the wrong attempt stays counted.
    """
    if await members.get_member(session, telegram_id) is not None:
        raise CodeRefused(Why.MEMBER)
    who = KeyedHasher(secret, ATTEMPT_PURPOSE)(str(telegram_id))
    if await _attempts(session, who, now) >= attempts_per_hour:
        raise CodeRefused(Why.RATE)
    code = clean_code(text)
    entry = None
    if code is not None:
        digest = KeyedHasher(secret, CODE_PURPOSE)(code)
        entry = await session.scalar(select(RosterEntry).where(RosterEntry.code_hash == digest))
    if entry is None:
        session.add(RosterCodeAttempt(who=who, at=now.replace(second=0, microsecond=0)))
        await session.flush()
        raise CodeRefused(Why.WRONG)
    if entry.link is not None:
        raise CodeRefused(Why.USED)
    if entry.code_expires_at is None or entry.code_expires_at <= now:
        raise CodeRefused(Why.EXPIRED)
    return entry


async def join(
    session: AsyncSession,
    text: str,
    *,
    telegram_id: int,
    language: str,
    secret: str,
    now: datetime,
    attempts_per_hour: int,
) -> Member:
    """Register the account with the entry's data and use up the code (or CodeRefused)."""
    entry = await find_code(
        session,
        text,
        telegram_id=telegram_id,
        secret=secret,
        now=now,
        attempts_per_hour=attempts_per_hour,
    )
    member = await members.register(
        session,
        telegram_id=telegram_id,
        name=entry.name,
        department=entry.department,
        birthday=entry.birthday,
        language=language,
    )
    await session.refresh(member, ["tags"])  # a new row: load its (empty) tags, not lazily
    await members.set_tags(session, member, entry_tags(entry))
    entry.link = Cipher(secret, LINK_PURPOSE).encrypt(str(member.id), str(entry.id))
    entry.updated_at = utc_day(now)
    await session.flush()
    return member


async def forget_member(session: AsyncSession, secret: str, member_id: int) -> int:
    """/forget: destroy the member's link to their roster entry (and its spent code).

    The entry stays on the roster, as if never joined: a later import gives it a
    new code. Opening every link takes milliseconds for a roster of thousands.
    """
    cipher = Cipher(secret, LINK_PURPOSE)
    forgotten = 0
    for entry in await session.scalars(select(RosterEntry).where(RosterEntry.link.is_not(None))):
        assert entry.link is not None
        try:
            linked = cipher.decrypt(entry.link, str(entry.id))
        except DecryptionError:
            continue
        if linked == str(member_id):
            entry.link = entry.code_hash = entry.code_expires_at = None
            forgotten += 1
    await session.flush()
    return forgotten
