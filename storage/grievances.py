"""Grievance services: cases, threads, categories, limits, audit, retention, statistics.

Anonymity is enforced here, not in the handlers. A case never stores who wrote
it in the clear: `Grievance.link` is the author's member id sealed with
AES-GCM under a key derived from SECRET_KEY, with a random nonce and the case
code as associated data, so equal authors give unequal tokens and a token
copied to another case does not open. Finding "my cases" therefore means
opening the links of cases that still have one (closed cases lose theirs after
the retention period); that is a few thousand AES operations at most, cheap
next to a round trip to Telegram. Department, signature, message bodies and
rating comments are sealed the same way, so a database dump without the key
reads categories, times and statuses, nothing more.

Functions take a session and return models or plain data; callers own the
transaction (`storage.db.transaction`) and know Telegram, these do not.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import collation, drafts
from storage import grievance_rules as rules
from storage.crypto import Cipher, DecryptionError, KeyedHasher
from storage.db import insert_for
from storage.disclosure import Protected, Totals, protect
from storage.grievance_rules import Escalation, Refusal, ReopenRefused, Urgency
from storage.models import (
    Department,
    Grievance,
    GrievanceAudit,
    GrievanceCategory,
    GrievanceMessage,
    GrievanceOption,
    GrievancePost,
    Member,
    Outbox,
)
from storage.models import GrievanceStatus as Status
from storage.profile_rules import clean_label

DAILY_LIMIT = "daily_limit"
REOPENED = "reopened"  # the audit action of a member's reopening (it counts them too)
OUTBOX_FINAL_FAILURES = frozenset({"blocked", "invalid", "failed", "cancelled"})

# slug, take hours, answer hours, always urgent
DEFAULT_CATEGORIES: tuple[tuple[str, int, int, bool], ...] = (
    ("wages", 24, 72, False),
    ("safety", 4, 24, True),
    ("workload", 24, 72, False),
    ("canteen", 24, 72, False),
    ("harassment", 12, 48, False),
    ("other", 48, 120, False),
)


class CaseError(LookupError):
    """The case does not exist, or this person may not act on it."""


# Sealing ------------------------------------------------------------------------


class Sealer:
    """Everything grievance-specific that needs SECRET_KEY: one object, built once."""

    def __init__(self, secret: str) -> None:
        self._link = Cipher(secret, "grievance-link")
        self._content = Cipher(secret, "grievance-content")
        self._refs = KeyedHasher(secret, "grievance-message-ref")
        self._keys = KeyedHasher(secret, "grievance-outbox-key")

    def __repr__(self) -> str:
        return "Sealer()"

    def seal_link(self, code: str, member_id: int) -> str:
        return self._link.encrypt(str(member_id), f"link:{code}")

    def open_link(self, case: Grievance) -> int | None:
        """The author's member id, or None when the link is gone or not ours."""
        if case.link is None:
            return None
        try:
            return int(self._link.decrypt(case.link, f"link:{case.code}"))
        except (DecryptionError, ValueError):
            return None

    def seal(self, code: str, purpose: str, text: str | None) -> str | None:
        return None if text is None else self._content.encrypt(text, f"{purpose}:{code}")

    def open(self, code: str, purpose: str, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._content.decrypt(token, f"{purpose}:{code}")
        except DecryptionError:
            return None

    def body(self, case: Grievance, message: GrievanceMessage) -> str | None:
        return self.open(case.code, f"message:{message.seq}", message.body)

    def origin(self, case: Grievance, message: GrievanceMessage) -> tuple[int, int] | None:
        """Where a member's voice note can be copied from, while the link lasts."""
        found = self.open(case.code, f"origin:{message.seq}", message.origin)
        if not found:
            return None
        chat, _, number = found.partition(":")
        return int(chat), int(number)

    def message_ref(self, chat_id: int, message_id: int) -> str:
        """A per-message tag to recognise a member's edit; matches no other message."""
        return self._refs(f"{chat_id}:{message_id}")

    def member_key(self, case_id: int, event: str) -> str:
        """Outbox key of a message to the author: unique, idempotent, names no case."""
        return "gm:" + self._keys(f"{case_id}:{event}")[:60]


@functools.lru_cache(maxsize=4)
def sealer_for(secret: str) -> Sealer:
    return Sealer(secret)


# Categories and options -----------------------------------------------------------


async def ensure_categories(session: AsyncSession) -> None:
    """The six built-in categories, the first time anyone needs the list."""
    if await session.scalar(select(func.count(GrievanceCategory.id))):
        return
    # Members opening their first grievance at once all find the list empty: the first
    # insert wins, the others' rows give way on the unique slug instead of failing.
    insert = insert_for(session)
    await session.execute(
        insert(GrievanceCategory)
        .values(
            [
                {
                    "slug": slug,
                    "position": position * 10,
                    "active": True,
                    "always_urgent": urgent,
                    "take_hours": take,
                    "answer_hours": answer,
                }
                for position, (slug, take, answer, urgent) in enumerate(DEFAULT_CATEGORIES)
            ]
        )
        .on_conflict_do_nothing(index_elements=["slug"])
    )


async def list_categories(
    session: AsyncSession, *, active_only: bool = True
) -> list[GrievanceCategory]:
    await ensure_categories(session)
    query = select(GrievanceCategory).order_by(GrievanceCategory.position, GrievanceCategory.id)
    if active_only:
        query = query.where(GrievanceCategory.active.is_(True))
    return list(await session.scalars(query))


async def get_category(session: AsyncSession, category_id: int) -> GrievanceCategory | None:
    return await session.get(GrievanceCategory, category_id)


async def add_category(session: AsyncSession, name: str) -> GrievanceCategory:
    """A new category named as the admin typed it (InvalidInput if the name will not do)."""
    name = clean_label(name, rules.CATEGORY_NAME_MAX)
    last = await session.scalar(select(func.max(GrievanceCategory.position))) or 0
    category = GrievanceCategory(
        name=name, position=last + 10, active=True, always_urgent=False, take_hours=24,
        answer_hours=72,
    )  # fmt: skip
    session.add(category)
    await session.flush()
    return category


def rename_category(category: GrievanceCategory, name: str) -> None:
    """InvalidInput if the name will not do."""
    category.name = clean_label(name, rules.CATEGORY_NAME_MAX)


def set_deadlines(category: GrievanceCategory, take_hours: int, answer_hours: int) -> None:
    """SettingRefused unless 1 ≤ take ≤ answer ≤ 720 hours."""
    rules.check_deadlines(take_hours, answer_hours)
    category.take_hours, category.answer_hours = take_hours, answer_hours


def set_route(category: GrievanceCategory, chat_id: int | None) -> None:
    """Send the category's cases to a group of its own, or (None) to the cadre group."""
    rules.check_group(chat_id)
    category.chat_id = chat_id


async def toggle_always_urgent(session: AsyncSession, category: GrievanceCategory) -> None:
    category.always_urgent = not category.always_urgent
    await session.flush()


async def toggle_shown(session: AsyncSession, category: GrievanceCategory) -> None:
    category.active = not category.active
    await session.flush()


async def get_option(session: AsyncSession, name: str, default: int) -> int:
    value = await session.scalar(select(GrievanceOption.value).where(GrievanceOption.name == name))
    return default if value is None else int(value)


async def set_option(session: AsyncSession, name: str, value: int) -> None:
    option = await session.get(GrievanceOption, name)
    if option is None:
        session.add(GrievanceOption(name=name, value=value))
    else:
        option.value = value
    await session.flush()


async def daily_limit(session: AsyncSession) -> int:
    return await get_option(session, DAILY_LIMIT, rules.DEFAULT_DAILY_LIMIT)


async def set_daily_limit(session: AsyncSession, limit: int) -> None:
    """SettingRefused outside 1 to 50 new cases per member and day."""
    rules.check_daily_limit(limit)
    await set_option(session, DAILY_LIMIT, limit)


async def routed_chats(session: AsyncSession) -> set[int]:
    """Groups that categories route to (they count as union groups)."""
    rows = await session.scalars(
        select(GrievanceCategory.chat_id).where(GrievanceCategory.chat_id.is_not(None))
    )
    return {int(chat) for chat in rows if chat is not None}


# Cases --------------------------------------------------------------------------------


@drafts.draft("grievance-attachment")
@dataclass(frozen=True)
class Attachment:
    """A file a member added: what it is, Telegram's file id, their caption, its edit tag."""

    kind: str
    file_id: str
    caption: str | None = None
    ref: str | None = None
    origin: str | None = None  # "chat:message" of a voice note, sealed when stored


@drafts.draft("grievance")
@dataclass
class GrievanceDraft:
    """A new case while the member writes it, kept between the conversation's steps.

    Here and not beside the handler because its steps follow the case's rules:
    an always-urgent category decides the urgency, a case takes so many files.
    """

    choices: dict[str, int] = field(default_factory=dict)  # button label → category id
    category_id: int | None = None
    urgency: Urgency | None = None
    text: str | None = None
    text_ref: str | None = None  # the member's message, to recognise their edit
    files: list[Attachment] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.urgency is not None:  # stored as its text
            self.urgency = Urgency(self.urgency)

    def choose(self, category: GrievanceCategory) -> bool:
        """Take the category; True when it decides the urgency too (no need to ask)."""
        self.category_id = category.id
        if category.always_urgent:
            self.urgency = Urgency.URGENT
            return True
        return False

    def describe(self, text: str, ref: str) -> None:
        """The member's account (cleaned already); files come after it, afresh."""
        self.text, self.text_ref, self.files = text, ref, []

    def revise(self, text: str, ref: str) -> None:
        """The account rewritten at the summary (cleaned already); the files stay."""
        self.text, self.text_ref = text, ref

    @property
    def full(self) -> bool:
        return len(self.files) >= rules.MAX_ATTACHMENTS

    @property
    def complete(self) -> bool:
        """Everything a case needs (a draft restored from older code may lack some)."""
        return self.category_id is not None and self.urgency is not None and self.text is not None


async def get_case(session: AsyncSession, case_id: int, *, lock: bool = False) -> Grievance | None:
    query = select(Grievance).where(Grievance.id == case_id)
    if lock:
        # Two cadres pressing at once: the second waits and sees the first's change.
        query = query.with_for_update(of=Grievance)
    return await session.scalar(query)


async def case_by_code(session: AsyncSession, code: str) -> Grievance | None:
    return await session.scalar(select(Grievance).where(Grievance.code == code))


async def cases_of(
    session: AsyncSession, sealer: Sealer, member_id: int, *, since: datetime | None = None
) -> list[Grievance]:
    """The member's cases whose link still exists, newest first (see the module docstring)."""
    query = select(Grievance).where(Grievance.link.is_not(None))
    if since is not None:
        query = query.where(Grievance.created_at >= since)
    found = [c for c in await session.scalars(query) if sealer.open_link(c) == member_id]
    return sorted(found, key=lambda c: c.created_at, reverse=True)


async def owned_case(
    session: AsyncSession, sealer: Sealer, member_id: int, case_id: int, *, lock: bool = False
) -> Grievance:
    """The case if this member wrote it; CaseError otherwise (forged or stale button)."""
    case = await get_case(session, case_id, lock=lock)
    if case is None or sealer.open_link(case) != member_id:
        raise CaseError(case_id)
    return case


async def opening_refusal(
    session: AsyncSession, sealer: Sealer, member_id: int, now: datetime, tz: ZoneInfo
) -> tuple[Refusal | None, datetime | None]:
    """Whether the member may open a case now, and until when a mute holds."""
    muted = await session.scalars(
        select(Grievance).where(Grievance.muted_until > now, Grievance.link.is_not(None))
    )
    until = max(
        (c.muted_until for c in muted if c.muted_until and sealer.open_link(c) == member_id),
        default=None,
    )
    today = await cases_of(session, sealer, member_id, since=rules.day_start(now, tz))
    refusal = rules.opening_refusal(
        today=len(today), limit=await daily_limit(session), muted_until=until, now=now
    )
    return refusal, until


async def _unused_code(session: AsyncSession) -> str:
    for attempt in range(40):
        code = rules.new_code(rules.CODE_LENGTH + attempt // 10)
        if await case_by_code(session, code) is None:
            return code
    raise RuntimeError("no free grievance code")  # 32^7 codes tried: never in practice


async def create_case(
    session: AsyncSession,
    sealer: Sealer,
    *,
    member: Member,
    category: GrievanceCategory,
    urgency: Urgency,
    text: str,
    text_ref: str | None,
    attachments: Sequence[Attachment],
    route_chat_id: int | None,
    now: datetime,
) -> Grievance:
    """Store a new case with its text and files; posting it is the caller's next step."""
    if category.always_urgent:
        urgency = Urgency.URGENT
    take_due, answer_due = rules.deadlines(now, category.take_hours, category.answer_hours, urgency)
    code = await _unused_code(session)
    department = member.department.name if member.department else None
    case = Grievance(
        code=code,
        category=category,
        urgency=urgency.value,
        status=Status.NEW.value,
        link=sealer.seal_link(code, member.id),
        department=sealer.seal(code, "department", department),
        route_chat_id=route_chat_id,
        created_at=now,
        take_due_at=take_due,
        answer_due_at=answer_due,
        message_count=0,
    )
    session.add(case)
    await session.flush()
    await add_message(
        session, sealer, case, author="member", kind="text", body=text, ref=text_ref, now=now
    )
    for item in attachments:
        await add_message(
            session,
            sealer,
            case,
            author="member",
            kind=item.kind,
            body=item.caption,
            file_id=item.file_id,
            ref=item.ref,
            origin=item.origin,
            now=now,
        )
    return case


async def add_message(
    session: AsyncSession,
    sealer: Sealer,
    case: Grievance,
    *,
    author: str,
    kind: str,
    body: str | None,
    now: datetime,
    file_id: str | None = None,
    ref: str | None = None,
    origin: str | None = None,
) -> GrievanceMessage:
    case.message_count += 1
    seq = case.message_count
    message = GrievanceMessage(
        grievance_id=case.id,
        seq=seq,
        author=author,
        kind=kind,
        body=sealer.seal(case.code, f"message:{seq}", body),
        file_id=file_id,
        source_ref=ref,
        origin=sealer.seal(case.code, f"origin:{seq}", origin),
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def thread(session: AsyncSession, case_id: int) -> list[GrievanceMessage]:
    rows = await session.scalars(
        select(GrievanceMessage)
        .where(GrievanceMessage.grievance_id == case_id)
        .order_by(GrievanceMessage.seq)
    )
    return list(rows)


async def member_files(session: AsyncSession, case_id: int) -> list[GrievanceMessage]:
    """The files the member attached to the case, in order (what the cadres got)."""
    rows = await session.scalars(
        select(GrievanceMessage)
        .where(
            GrievanceMessage.grievance_id == case_id,
            GrievanceMessage.author == "member",
            GrievanceMessage.kind != "text",
            GrievanceMessage.file_id.is_not(None),
        )
        .order_by(GrievanceMessage.seq)
    )
    return list(rows)


async def member_file_count(session: AsyncSession, case_id: int) -> int:
    """How many files the member has attached to the case (for the next one's number)."""
    count = await session.scalar(
        select(func.count(GrievanceMessage.id)).where(
            GrievanceMessage.grievance_id == case_id,
            GrievanceMessage.author == "member",
            GrievanceMessage.kind != "text",
        )
    )
    return int(count or 0)


async def message_by_ref(session: AsyncSession, ref: str) -> GrievanceMessage | None:
    return await session.scalar(select(GrievanceMessage).where(GrievanceMessage.source_ref == ref))


async def edit_message(
    session: AsyncSession, sealer: Sealer, case: Grievance, message: GrievanceMessage,
    body: str | None, now: datetime,
) -> None:  # fmt: skip
    message.body = sealer.seal(case.code, f"message:{message.seq}", body)
    message.edited_at = now
    await session.flush()


async def freshly_answered(
    session: AsyncSession, sealer: Sealer, member_id: int, since: datetime
) -> list[Grievance]:
    """The member's open cases the union answered since ``since``, latest answer first.

    Only answered cases are opened (the status index finds them), so this stays
    cheap when a member writes something no feature understood.
    """
    answered = await session.scalars(
        select(Grievance).where(
            Grievance.status == Status.ANSWERED.value, Grievance.link.is_not(None)
        )
    )
    mine = [c for c in answered if sealer.open_link(c) == member_id]
    latest: list[tuple[datetime, int, Grievance]] = []
    for case in mine:
        moment = await session.scalar(
            select(func.max(GrievanceMessage.created_at)).where(
                GrievanceMessage.grievance_id == case.id, GrievanceMessage.author == "union"
            )
        )
        if moment is not None and moment >= since:
            latest.append((moment, case.id, case))
    return [case for _, _, case in sorted(latest, key=lambda x: (x[0], x[1]), reverse=True)]


async def additions_since(
    session: AsyncSession, case: Grievance, since: datetime
) -> list[datetime]:
    """When the member added to the case since ``since`` (what they sent with it excluded)."""
    rows = await session.scalars(
        select(GrievanceMessage.created_at)
        .where(
            GrievanceMessage.grievance_id == case.id,
            GrievanceMessage.author == "member",
            GrievanceMessage.created_at >= since,
            GrievanceMessage.created_at != case.created_at,
        )
        .order_by(GrievanceMessage.created_at)
    )
    return list(rows)


async def open_cases(session: AsyncSession, limit: int = 50) -> list[Grievance]:
    """Open cases, oldest first: the ones waiting longest come first."""
    rows = await session.scalars(
        select(Grievance)
        .where(Grievance.status.in_([s.value for s in rules.OPEN]))
        .order_by(Grievance.created_at, Grievance.id)
        .limit(limit)
    )
    return list(rows)


async def count_open(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count(Grievance.id)).where(
                Grievance.status.in_([s.value for s in rules.OPEN])
            )
        )
        or 0
    )


# Changes --------------------------------------------------------------------------------


async def record(
    session: AsyncSession,
    case: Grievance,
    action: str,
    now: datetime,
    actor: int | None = None,
    detail: str | None = None,
) -> None:
    """One line of the audit log. Member actions pass no actor: the log must not link them."""
    session.add(
        GrievanceAudit(
            grievance_id=case.id,
            actor_telegram_id=actor,
            action=action,
            detail=detail[:200] if detail else None,
            at=now,
        )
    )
    await session.flush()


def take(case: Grievance, cadre: int, now: datetime) -> None:
    """A cadre takes the case; the first take counts for the statistics (a reopened
    case is taken again, by whoever takes it)."""
    case.status = Status.TAKEN.value
    if case.taken_at is None:
        case.taken_at = now
    case.taken_by = cadre


def answered(case: Grievance, cadre: int, now: datetime) -> None:
    """A union reply: taking the case if nobody had, and the first answer counts for the SLA."""
    if case.status == Status.NEW.value:
        take(case, cadre, now)
    case.status = Status.ANSWERED.value
    if case.answered_at is None:
        case.answered_at = now


def finish(case: Grievance, status: Status, now: datetime) -> None:
    case.status = status.value
    case.finished_at = now


async def reopen_count(session: AsyncSession, case: Grievance) -> int:
    """How often the member reopened the case (its audit lines say, nothing else does)."""
    count = await session.scalar(
        select(func.count(GrievanceAudit.id)).where(
            GrievanceAudit.grievance_id == case.id, GrievanceAudit.action == REOPENED
        )
    )
    return int(count or 0)


async def reopen_refusal(
    session: AsyncSession, case: Grievance, now: datetime, retention_days: int
) -> rules.ReopenRefusal | None:
    """Whether the author may reopen the case now (see `grievance_rules.reopen_refusal`)."""
    return rules.reopen_refusal(
        status=Status(case.status),
        finished_at=case.finished_at,
        reopened=await reopen_count(session, case),
        now=now,
        retention_days=retention_days,
    )


async def reopen(
    session: AsyncSession,
    sealer: Sealer,
    case: Grievance,
    reason: str | None,
    now: datetime,
    *,
    retention_days: int,
) -> int:
    """The author reopens a resolved case: it waits to be taken again. The round (1, 2…).

    ReopenRefused unless `reopen_refusal` allows it. A fresh take deadline runs from
    now (the category's hours, half for urgent) and escalates if missed, like a new
    case's; the first answer's deadline was the first round's. The rating goes (the
    member rates the outcome again when it is resolved again; the audit keeps the
    first one). The reason, if given, joins the thread as the member's message.
    """
    refusal = await reopen_refusal(session, case, now, retention_days)
    if refusal is not None:
        raise ReopenRefused(refusal)
    category = case.category
    case.take_due_at, case.answer_due_at = rules.deadlines(
        now, category.take_hours, category.answer_hours, Urgency(case.urgency)
    )
    case.status = Status.NEW.value
    case.finished_at = None
    case.rating = case.rated_at = case.rating_comment = None
    round_ = await reopen_count(session, case) + 1
    await record(session, case, REOPENED, now, detail=f"{round_}/{rules.REOPEN_LIMIT}")
    if reason:
        await add_message(session, sealer, case, author="member", kind="text", body=reason, now=now)
    return round_


def escalate_on_arrival(
    case: Grievance, category: GrievanceCategory, now: datetime, *, upstairs: bool
) -> bool:
    """A new urgent safety case escalates at once (when there is a group upstairs)."""
    if not rules.escalates_on_arrival(
        always_urgent=category.always_urgent, urgency=Urgency(case.urgency), upstairs=upstairs
    ):
        return False
    escalate(case, Escalation.SAFETY, now)
    return True


def escalate(case: Grievance, why: Escalation, now: datetime) -> None:
    if case.escalated_at is None:
        case.escalated_at = now
        case.escalation = why.value
    if why is Escalation.TAKE:
        case.take_breached_at = now
    if why is Escalation.ANSWER:
        case.answer_breached_at = now


def mute(case: Grievance, until: datetime | None) -> None:
    case.muted_until = until


def mute_for(case: Grievance, days: int, now: datetime) -> None:
    """NotOffered unless the card offers a mute of ``days``."""
    mute(case, rules.mute_until(now, days))


def sign(sealer: Sealer, case: Grievance, name: str) -> None:
    case.signature = sealer.seal(case.code, "signature", name)


def rate(sealer: Sealer, case: Grievance, stars: int, now: datetime) -> None:
    """RatingRefused unless the case is finished, not yet rated, and ``stars`` is 1 to 5."""
    rules.check_stars(stars, status=Status(case.status), rated=case.rating is not None)
    case.rating = stars
    case.rated_at = now


def comment(sealer: Sealer, case: Grievance, text: str) -> None:
    case.rating_comment = sealer.seal(case.code, "comment", text)


async def overdue_cases(session: AsyncSession, now: datetime) -> list[Grievance]:
    """Open cases past a deadline that has not escalated them yet (locked on PostgreSQL)."""
    rows = await session.scalars(
        select(Grievance)
        .where(
            Grievance.status.in_([s.value for s in rules.OPEN]),
            (
                (Grievance.take_due_at <= now)
                # A reopened case's new deadline re-arms it (`grievance_rules.breached`).
                & (
                    Grievance.take_breached_at.is_(None)
                    | (Grievance.take_breached_at < Grievance.take_due_at)
                )
                & (Grievance.status == Status.NEW.value)
            )
            | (
                (Grievance.answer_due_at <= now)
                & Grievance.answer_breached_at.is_(None)
                & Grievance.answered_at.is_(None)
            ),
        )
        .order_by(Grievance.id)
        .limit(200)
        .with_for_update(skip_locked=True, of=Grievance)
    )
    return list(rows)


async def forget_author(
    session: AsyncSession, sealer: Sealer, member_id: int, now: datetime
) -> int:
    """/forget: the member's cases lose their author link at once, open ones too.

    The cases stay for the union's statistics, as anyone else's do after the
    retention period; with the key or without, nothing leads to the member.
    """
    ids = [case.id for case in await cases_of(session, sealer, member_id)]
    await _destroy_links(session, ids, now)
    return len(ids)


async def _destroy_links(session: AsyncSession, ids: list[int], now: datetime) -> None:
    if not ids:
        return
    await session.execute(
        update(Grievance)
        .where(Grievance.id.in_(ids))
        .values(link=None, signature=None, link_destroyed_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(GrievanceMessage)
        .where(GrievanceMessage.grievance_id.in_(ids))
        .values(source_ref=None, origin=None)
        .execution_options(synchronize_session=False)
    )


async def destroy_expired_links(session: AsyncSession, now: datetime, days: int) -> int:
    """Retention: finished cases lose their author link (and the edit tags) for good."""
    cutoff = now - timedelta(days=days)
    ids = list(
        await session.scalars(
            select(Grievance.id).where(
                Grievance.finished_at <= cutoff,
                Grievance.link_destroyed_at.is_(None),
                (Grievance.muted_until.is_(None)) | (Grievance.muted_until <= now),
            )
        )
    )
    await _destroy_links(session, ids, now)
    return len(ids)


# Audit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    code: str
    action: str
    actor: str | None
    detail: str | None


async def audit_log(
    session: AsyncSession, code: str | None = None, limit: int = 40
) -> list[AuditLine]:
    query = (
        select(GrievanceAudit, Grievance.code, Member.name)
        .join(Grievance, Grievance.id == GrievanceAudit.grievance_id)
        .outerjoin(Member, Member.telegram_id == GrievanceAudit.actor_telegram_id)
        .order_by(GrievanceAudit.at.desc(), GrievanceAudit.id.desc())
        .limit(limit)
    )
    if code is not None:
        query = query.where(Grievance.code == code)
    lines = []
    for entry, case_code, name in (await session.execute(query)).all():
        actor = name or (str(entry.actor_telegram_id) if entry.actor_telegram_id else None)
        lines.append(AuditLine(entry.at, case_code, entry.action, actor, entry.detail))
    return lines


async def cadre_names(session: AsyncSession, telegram_ids: set[int]) -> dict[int, str]:
    if not telegram_ids:
        return {}
    rows = await session.execute(
        select(Member.telegram_id, Member.name).where(Member.telegram_id.in_(telegram_ids))
    )
    return {tid: name for tid, name in rows.all()}


# Posts in union groups -------------------------------------------------------------------


async def add_post(
    session: AsyncSession,
    case: Grievance,
    *,
    chat_id: int,
    role: str,
    key: str,
    message: GrievanceMessage | None = None,
    now: datetime,
    state: str = "queued",
    telegram_message_id: int | None = None,
) -> GrievancePost:
    """A post the bot queued (``key`` its outbox row), or one already sent (a /case copy)."""
    post = GrievancePost(
        grievance_id=case.id,
        message_id=message.id if message else None,
        chat_id=chat_id,
        role=role,
        outbox_key=key,
        state=state,
        telegram_message_id=telegram_message_id,
        created_at=now,
    )
    session.add(post)
    await session.flush()
    return post


async def posts_of(
    session: AsyncSession, case_id: int, *, role: str | None = None
) -> list[GrievancePost]:
    query = select(GrievancePost).where(GrievancePost.grievance_id == case_id)
    if role is not None:
        query = query.where(GrievancePost.role == role)
    return list(await session.scalars(query.order_by(GrievancePost.id)))


async def post_at(
    session: AsyncSession, case_id: int, chat_id: int, telegram_message_id: int
) -> GrievancePost | None:
    """The post of the case that is this message (to redraw a pressed copy as a copy)."""
    return await session.scalar(
        select(GrievancePost)
        .where(
            GrievancePost.grievance_id == case_id,
            GrievancePost.chat_id == chat_id,
            GrievancePost.telegram_message_id == telegram_message_id,
        )
        .limit(1)
    )


async def forget_copies_in(session: AsyncSession, chat_id: int) -> None:
    """/forget: a cadre's own /case copies are no longer kept (nor redrawn)."""
    await session.execute(
        delete(GrievancePost).where(GrievancePost.chat_id == chat_id, GrievancePost.role == "copy")
    )


async def posts_for_message(session: AsyncSession, message_id: int) -> list[GrievancePost]:
    return list(
        await session.scalars(select(GrievancePost).where(GrievancePost.message_id == message_id))
    )


async def sync_posts(session: AsyncSession, posts: Sequence[GrievancePost]) -> list[GrievancePost]:
    """Learn from the outbox where queued posts landed; return the ones that failed.

    The outbox has no accessor for a sent row's Telegram message id yet, so this
    reads `Outbox` by its unique key (one indexed query per batch).
    """
    queued = {p.outbox_key: p for p in posts if p.state == "queued"}
    if not queued:
        return []
    rows = await session.execute(
        select(Outbox.key, Outbox.status, Outbox.telegram_message_id).where(
            Outbox.key.in_(list(queued))
        )
    )
    failed = []
    for key, status, message_id in rows.all():
        post = queued[key]
        if status == "sent":
            post.state, post.telegram_message_id = "sent", message_id
        elif status in OUTBOX_FINAL_FAILURES:
            post.state = "failed"
            failed.append(post)
    await session.flush()
    return failed


async def queued_posts(session: AsyncSession, limit: int = 500) -> list[GrievancePost]:
    return list(
        await session.scalars(
            select(GrievancePost).where(GrievancePost.state == "queued").limit(limit)
        )
    )


async def failed_posts(session: AsyncSession, chat_id: int | None = None) -> list[GrievancePost]:
    query = select(GrievancePost).where(GrievancePost.state == "failed")
    if chat_id is not None:
        query = query.where(GrievancePost.chat_id == chat_id)
    return list(await session.scalars(query.order_by(GrievancePost.id).limit(500)))


async def unposted_cases(session: AsyncSession) -> list[Grievance]:
    """Open cases that never got a card (no cadre group was configured when they came)."""
    has_card = select(GrievancePost.id).where(
        GrievancePost.grievance_id == Grievance.id, GrievancePost.role == "card"
    )
    rows = await session.scalars(
        select(Grievance)
        .where(Grievance.status.in_([s.value for s in rules.OPEN]), ~has_card.exists())
        .order_by(Grievance.id)
        .limit(200)
    )
    return list(rows)


# Statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentMonth:
    """Cases of one calendar month by department (rows) and category (columns),
    through disclosure control: the cadres know each category's count from the
    cards they saw, so those totals are treated as known and protected against."""

    month: str
    departments: tuple[str, ...]
    table: Protected


@dataclass
class Stats:
    """What /grievance_stats shows; department tables already protected."""

    total: int = 0
    by_category_status: Counter[tuple[int, str]] = field(default_factory=Counter)
    categories: dict[int, GrievanceCategory] = field(default_factory=dict)
    median_take_hours: float | None = None
    median_resolve_hours: float | None = None
    take_breaches: int = 0
    answer_breaches: int = 0
    ratings: Counter[int] = field(default_factory=Counter)
    # One table per finished month, columns in the order of ``categories``.
    by_department: list[DepartmentMonth] = field(default_factory=list)

    @property
    def satisfaction(self) -> float | None:
        n = sum(self.ratings.values())
        return sum(k * v for k, v in self.ratings.items()) / n if n else None


async def stats(
    session: AsyncSession, sealer: Sealer, tz: ZoneInfo, *, now: datetime, no_department: str
) -> Stats:
    """Totals over every case, and department tables for finished months only.

    Only whole calendar months, never the month under way nor a rolling window:
    two tables of overlapping periods, asked for a day apart, would differ by
    exactly the cases in between — and cadres know which case came when.
    """
    result = Stats()
    result.categories = {c.id: c for c in await list_categories(session, active_only=False)}
    takes: list[timedelta] = []
    resolves: list[timedelta] = []
    raw: Counter[tuple[str, str, int]] = Counter()
    current = rules.month_of(now, tz)
    for case in await session.scalars(select(Grievance)):
        result.total += 1
        result.by_category_status[(case.category_id, case.status)] += 1
        if case.taken_at is not None:
            takes.append(case.taken_at - case.created_at)
        if case.finished_at is not None:
            resolves.append(case.finished_at - case.created_at)
        result.take_breaches += case.take_breached_at is not None
        result.answer_breaches += case.answer_breached_at is not None
        if case.rating is not None:
            result.ratings[case.rating] += 1
        month = rules.month_of(case.created_at, tz)
        if month < current:
            department = sealer.open(case.code, "department", case.department) or no_department
            raw[(month, department, case.category_id)] += 1
    result.median_take_hours = rules.median_hours(takes)
    result.median_resolve_hours = rules.median_hours(resolves)
    # Every department is a row, whether it had cases or not: a row's presence says nothing.
    names = set(await session.scalars(select(Department.name)))
    names |= {department for _, department, _ in raw}
    names.add(no_department)
    # The linear programmes take a while for a large union: off the event loop.
    result.by_department = await asyncio.to_thread(
        _department_months, raw, tuple(collation.by_name(names, str)), list(result.categories)
    )
    return result


def _department_months(
    raw: Counter[tuple[str, str, int]], departments: tuple[str, ...], columns: list[int]
) -> list[DepartmentMonth]:
    tables = []
    for month in sorted({month for month, _, _ in raw}):
        counts = [[raw[(month, d, c)] for c in columns] for d in departments]
        table = protect(counts, column_totals=Totals.KNOWN)
        tables.append(DepartmentMonth(month, departments, table))
    return tables
