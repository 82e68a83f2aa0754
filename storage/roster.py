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
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import members
from storage.crypto import Cipher, DecryptionError, KeyedHasher
from storage.models import Member, RosterCodeAttempt, RosterEntry, utc_day
from storage.roster_rules import RosterRow

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
NAMES_SHOWN = 10
_CODE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
CODE_PURPOSE = "roster-code"
LINK_PURPOSE = "roster-link"
ATTEMPT_PURPOSE = "roster-attempt"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes between groups), or None if it is none."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if _CODE.fullmatch(code) else None


def _tags(row: RosterRow) -> str:
    return ",".join(row.tags)


def _same(entry: RosterEntry, row: RosterRow) -> bool:
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


async def _by_number(session: AsyncSession) -> dict[str, RosterEntry]:
    entries = await session.scalars(select(RosterEntry))
    return {e.employee_no.casefold(): e for e in entries}


async def preview(session: AsyncSession, rows: list[RosterRow]) -> Preview:
    known = await _by_number(session)
    new = unchanged = 0
    updated: list[str] = []
    for row in rows:
        entry = known.pop(row.employee_no.casefold(), None)
        if entry is None:
            new += 1
        elif _same(entry, row):
            unchanged += 1
        else:
            updated.append(row.name)
    absent = sorted(known.values(), key=lambda e: e.employee_no)
    return Preview(
        new,
        len(updated),
        unchanged,
        len(absent),
        tuple(updated[:NAMES_SHOWN]),
        tuple(e.name for e in absent[:NAMES_SHOWN]),
    )


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


async def apply(
    session: AsyncSession,
    rows: list[RosterRow],
    *,
    secret: str,
    now: datetime,
    code_days: int,
    remove_absent: bool,
) -> Applied:
    """Apply the file in the caller's transaction; entries without a member nor a
    working code get a new code."""
    summary = await preview(session, rows)
    known = await _by_number(session)
    hasher = KeyedHasher(secret, CODE_PURPOSE)
    expires = now + timedelta(days=code_days)
    today = utc_day(now)
    issued: list[IssuedCode] = []
    for row in rows:
        entry = known.pop(row.employee_no.casefold(), None)
        if entry is None:
            entry = RosterEntry(employee_no=row.employee_no, created_at=today)
            session.add(entry)
        if entry.id is None or not _same(entry, row):
            entry.name, entry.department = row.name, row.department
            entry.birthday, entry.tags = row.birthday, _tags(row)
            entry.updated_at = today
        expired = entry.code_expires_at is None or entry.code_expires_at <= now
        if entry.link is None and (entry.code_hash is None or expired):
            code = new_code()
            entry.code_hash, entry.code_expires_at = hasher(code), expires
            issued.append(IssuedCode(row.employee_no, row.name, row.department, code))
    removed = 0
    if remove_absent and known:
        await session.execute(
            delete(RosterEntry).where(RosterEntry.id.in_([e.id for e in known.values()]))
        )
        removed = len(known)
    await session.flush()
    return Applied(summary, removed, issued)


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
    await members.set_tags(session, member, [t for t in entry.tags.split(",") if t])
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
