"""Quick polls: create, publish, vote, count, close, remind, manage. No Telegram here.

Counting lives in the database: a ballot is one row per (poll, voter) holding
a bit mask of the chosen options (`storage.poll_rules`), so a changed vote is
an UPDATE of one integer and the totals are one SUM per option. The unique
(poll, voter_key) pair is what makes "every vote counted once" hold under a
burst of concurrent taps, on SQLite and PostgreSQL alike.

Anonymity: ``voter_key`` is a keyed hash (`storage.crypto`) of poll and member,
so the same member always finds their own ballot and can never add a second
one, yet without `SECRET_KEY` nobody can tell whose ballot it is. Anonymous
ballots have no ``member_id``; the voter's department is stored sealed under
the same secret, for breakdowns through disclosure control.

Who gets what (publishing, reminders, results) is written to the outbox in the
transaction that decides it, with keys like ``poll:7:result:42`` so a job run
twice, or on two instances, sends each message once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import collation
from storage import audiences, outbox
from storage.audiences import Audience, Recipient
from storage.crypto import Cipher, DecryptionError, KeyedHasher
from storage.db import insert_for, rows_changed
from storage.models import (
    Department,
    FeatureSetting,
    Member,
    Outbox,
    OutboxStatus,
    Poll,
    PollBallot,
    PollCard,
    PollCopy,
    PollOption,
    PollStatus,
    Role,
)
from storage.poll_rules import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    Breakdown,
    Tally,
    VoteRefused,
    breakdown,
    chosen,
    remind_at,
    toggle,
)

CADRES_MAY_CREATE = "polls.cadres_may_create"
RECENT = timedelta(days=30)
CHART_LEASE = timedelta(minutes=10)
PAGE = 5000

Payload = Mapping[str, Any]


class PollNotFound(LookupError):
    """The poll does not exist (any more)."""


@dataclass(frozen=True)
class PollKeys:
    """The keyed hash that names a voter and the cipher that seals their department."""

    voter: KeyedHasher
    department: Cipher

    @classmethod
    def from_secret(cls, secret: str) -> PollKeys:
        return cls(KeyedHasher(secret, "poll-voter"), Cipher(secret, "poll-department"))

    def voter_key(self, poll_id: int, member_id: int) -> str:
        return self.voter(f"{poll_id}:{member_id}")

    def reminder_key(self, poll_id: int, member_id: int) -> str:
        """The outbox key of a closing-soon reminder: who was reminded is who had
        not voted, so it must not name them (nor match their ballot's key)."""
        return f"poll:{poll_id}:remind:" + self.voter(f"remind:{poll_id}:{member_id}")[:32]

    def holder_key(self, poll_id: int, member_id: int) -> str:
        """Who holds an opened copy (`PollCopy`): matches neither ballot nor reminder."""
        return self.voter(f"copy:{poll_id}:{member_id}")[:32]

    def seal_department(self, poll_id: int, department_id: int | None) -> str | None:
        if department_id is None:
            return None
        return self.department.encrypt(str(department_id), f"poll:{poll_id}")

    def open_department(self, poll_id: int, sealed: str | None) -> int | None:
        if sealed is None:
            return None
        try:
            return int(self.department.decrypt(sealed, f"poll:{poll_id}"))
        except (DecryptionError, ValueError):
            return None  # sealed under another key: counted as "no department"


@dataclass(frozen=True)
class PollDraft:
    """Everything an admin chose before publishing; validated by :func:`create`."""

    question: str
    options: tuple[str, ...]
    multiple: bool = False
    max_choices: int = 1
    anonymous: bool = True
    audience: Audience = field(default_factory=lambda: Audience(everyone=True))
    closes_at: datetime | None = None
    results_visible: bool = False
    share_results: bool = True
    remind: bool = False


@dataclass(frozen=True)
class PollView:
    """A poll with its options, detached from the session."""

    poll: Poll
    options: tuple[str, ...]

    @property
    def id(self) -> int:
        return self.poll.id

    @property
    def is_open(self) -> bool:
        return self.poll.status == PollStatus.OPEN.value


# Settings --------------------------------------------------------------------


async def cadres_may_create(session: AsyncSession) -> bool:
    row = await session.get(FeatureSetting, CADRES_MAY_CREATE)
    return bool(row.value) if row is not None else False


async def set_cadres_may_create(session: AsyncSession, allowed: bool) -> None:
    row = await session.get(FeatureSetting, CADRES_MAY_CREATE)
    if row is None:
        session.add(FeatureSetting(key=CADRES_MAY_CREATE, value=allowed))
    else:
        row.value = allowed
    await session.flush()


async def may_create(session: AsyncSession, role: Role) -> bool:
    """Admins always; cadres when an admin has allowed it."""
    if role is Role.ADMIN:
        return True
    return role is Role.CADRE and await cadres_may_create(session)


def may_manage(poll: Poll, role: Role, member_id: int | None) -> bool:
    """Admins manage every poll; a cadre manages the polls they created."""
    if role is Role.ADMIN:
        return True
    return role is Role.CADRE and member_id is not None and poll.creator_id == member_id


# Creating and publishing ---------------------------------------------------------


async def create(
    session: AsyncSession, draft: PollDraft, *, creator_id: int | None, now: datetime
) -> PollView:
    """Store a poll (not yet sent to anyone)."""
    if not MIN_OPTIONS <= len(draft.options) <= MAX_OPTIONS:
        raise ValueError("a poll needs 2 to 10 options")
    if draft.audience.empty:
        raise ValueError("a poll needs an audience")
    max_choices = max(1, min(draft.max_choices, len(draft.options))) if draft.multiple else 1
    poll = Poll(
        question=draft.question,
        multiple=draft.multiple,
        max_choices=max_choices,
        anonymous=draft.anonymous,
        results_visible=draft.results_visible,
        share_results=draft.share_results,
        remind=draft.remind and draft.closes_at is not None,
        audience=draft.audience.to_json(),
        status=PollStatus.OPEN.value,
        creator_id=creator_id,
        recipients=0,
        created_at=now,
        closes_at=draft.closes_at,
        remind_at=remind_at(now, draft.closes_at) if draft.remind else None,
    )
    session.add(poll)
    await session.flush()
    for position, text in enumerate(draft.options):
        session.add(PollOption(poll_id=poll.id, position=position, text=text))
    await session.flush()
    return PollView(poll, tuple(draft.options))


async def publish(
    session: AsyncSession,
    view: PollView,
    *,
    now: datetime,
    message_for: Callable[[str], Payload],
) -> int:
    """Enqueue the poll message for every member of its audience; returns how many.

    ``message_for(language)`` builds the outbox payload (a member who has not
    voted sees the same message as every other speaker of their language).
    """
    poll = view.poll
    payloads: dict[str, Payload] = {}
    total = 0
    async for page in audiences.recipients(session, Audience.from_json(poll.audience)):
        items = []
        for recipient in page:
            if recipient.language not in payloads:
                payloads[recipient.language] = message_for(recipient.language)
            items.append(
                outbox.Outgoing(
                    key=message_key(poll.id, recipient.member_id),
                    kind="poll",
                    chat_id=recipient.telegram_id,
                    member_id=recipient.member_id,
                    group_key=group_key(poll.id),
                    payload=payloads[recipient.language],
                    priority=outbox.PRIORITY_BULK,
                )
            )
        total += len(items)
        await outbox.enqueue_many(session, items, now=now)
    poll.recipients = total
    await session.flush()
    return total


def group_key(poll_id: int) -> str:
    return f"poll:{poll_id}"


def message_key(poll_id: int, member_id: int) -> str:
    """The outbox key of the poll message a member was sent when it was published."""
    return f"poll:{poll_id}:msg:{member_id}"


# The copies of a poll a member has ----------------------------------------------


COPIES_CHUNK = 500


@dataclass(frozen=True)
class Copy:
    """A poll message that reached a member.

    ``private`` copies are the reminder (sent to non-voters only) and the ones a
    member opened again (`PollCopy`): that a member has one says something the
    published copy does not, so an edit of it is sealed on an anonymous poll.
    The published and reminder copies are found through the outbox (their keys
    and the message ids Telegram returned); a reminder's key is a keyed hash.
    """

    member_id: int
    chat_id: int
    language: str
    message_id: int
    private: bool


def _message_keys(
    poll_id: int, members: Sequence[Recipient], keys: PollKeys
) -> dict[str, tuple[Recipient, bool]]:
    """The outbox keys of each member's poll message and reminder: (member, is the reminder)."""
    wanted: dict[str, tuple[Recipient, bool]] = {}
    for member in members:
        wanted[message_key(poll_id, member.member_id)] = (member, False)
        wanted[keys.reminder_key(poll_id, member.member_id)] = (member, True)
    return wanted


async def delivered_copies(
    session: AsyncSession, poll_id: int, members: Sequence[Recipient], keys: PollKeys
) -> list[Copy]:
    """Every copy of the poll that Telegram took for these members, in message order."""
    wanted = _message_keys(poll_id, members, keys)
    holders = {keys.holder_key(poll_id, member.member_id): member for member in members}
    names = list(wanted)
    found: list[Copy] = []
    held = list(holders)
    for start in range(0, len(held), COPIES_CHUNK):
        opened = await session.execute(
            select(PollCopy.holder, PollCopy.message_id).where(
                PollCopy.poll_id == poll_id, PollCopy.holder.in_(held[start : start + COPIES_CHUNK])
            )
        )
        for holder, opened_id in opened:
            member = holders[holder]
            found.append(
                Copy(member.member_id, member.telegram_id, member.language, opened_id, True)
            )
    for start in range(0, len(names), COPIES_CHUNK):
        rows = await session.execute(
            select(Outbox.key, Outbox.telegram_message_id).where(
                Outbox.key.in_(names[start : start + COPIES_CHUNK]),
                Outbox.status == OutboxStatus.SENT.value,
                Outbox.telegram_message_id.is_not(None),
            )
        )
        for key, sent_id in rows:
            if sent_id is None:  # excluded above; the column is nullable
                continue
            member, reminder = wanted[key]
            found.append(
                Copy(member.member_id, member.telegram_id, member.language, sent_id, reminder)
            )
    return sorted(found, key=lambda c: (c.member_id, c.message_id))


async def record_copy(
    session: AsyncSession, poll_id: int, member_id: int, message_id: int, keys: PollKeys
) -> None:
    """Keep a poll message shown to a member again, so votes and the close redraw it."""
    await session.execute(
        insert_for(session)(PollCopy)
        .values(poll_id=poll_id, holder=keys.holder_key(poll_id, member_id), message_id=message_id)
        .on_conflict_do_nothing()
    )


async def closed_with_late_copies(
    session: AsyncSession, now: datetime, within: timedelta
) -> list[int]:
    """Polls closed in the last ``within`` that may have a copy the close could not edit.

    The close edits every copy delivered by then and cancels what was still to
    send; only a poll message or reminder already being sent could land later.
    So a poll is looked at again while such a row is in flight, or was delivered
    after the close; the rest cost one indexed look per run.
    """
    closed = await session.execute(
        select(Poll.id, Poll.closed_at)
        .where(Poll.status == PollStatus.CLOSED.value, Poll.closed_at >= now - within)
        .order_by(Poll.id)
    )
    return [int(p) for p, since in closed.all() if await _copy_in_flight_since(session, p, since)]


async def _copy_in_flight_since(
    session: AsyncSession, poll_id: int, since: datetime | None
) -> bool:
    """A poll message or reminder being sent now, or delivered after ``since``."""
    if since is None:  # the queries ask for a time; a row without one is not theirs
        return False
    late = await session.scalar(
        select(Outbox.id)
        .where(
            Outbox.group_key == group_key(poll_id),
            or_(
                Outbox.status.in_([OutboxStatus.CLAIMED.value, OutboxStatus.SENDING.value]),
                (Outbox.status == OutboxStatus.SENT.value) & (Outbox.finished_at >= since),
            ),
        )
        .limit(1)
    )
    return late is not None


async def extended_with_late_copies(
    session: AsyncSession, now: datetime, within: timedelta
) -> list[int]:
    """Open polls extended in the last ``within`` with a copy that may show the old time.

    The extension rewrites what is still to send and edits what was delivered;
    only a poll message or reminder in flight at that moment can land with the
    old closing time, so, as for the close, a poll is looked at again while such
    a row is in flight or was delivered after the extension.
    """
    extended = await session.execute(
        select(Poll.id, Poll.extended_at)
        .where(Poll.status == PollStatus.OPEN.value, Poll.extended_at >= now - within)
        .order_by(Poll.id)
    )
    return [int(p) for p, since in extended.all() if await _copy_in_flight_since(session, p, since)]


@dataclass(frozen=True)
class Pending:
    """A poll message or reminder still waiting in the outbox, and whose it is."""

    key: str
    member: Recipient
    reminder: bool


async def pending_copies(
    session: AsyncSession, poll_id: int, members: Sequence[Recipient], keys: PollKeys
) -> list[Pending]:
    """The poll's messages not yet claimed for sending, by the member they are for."""
    wanted = _message_keys(poll_id, members, keys)
    rows = await session.scalars(
        select(Outbox.key).where(
            Outbox.group_key == group_key(poll_id),
            Outbox.status == OutboxStatus.PENDING.value,
        )
    )
    found = []
    for key in rows:
        if key in wanted:
            member, reminder = wanted[key]
            found.append(Pending(key, member, reminder))
    return found


async def choices_by_voter(session: AsyncSession, poll_id: int) -> dict[str, int]:
    """Every ballot's choice by its voter key (to redraw each member's copy as theirs)."""
    rows = await session.execute(
        select(PollBallot.voter_key, PollBallot.choices).where(PollBallot.poll_id == poll_id)
    )
    return {str(k): int(c) for k, c in rows}


# The managers' cards ---------------------------------------------------------------


async def record_card(session: AsyncSession, poll_id: int, chat_id: int, message_id: int) -> None:
    """Keep a manage card where it was shown, so a close or an extension redraws it."""
    await session.execute(
        insert_for(session)(PollCard)
        .values(poll_id=poll_id, chat_id=chat_id, message_id=message_id)
        .on_conflict_do_nothing()
    )


async def forget_card(session: AsyncSession, chat_id: int, message_id: int) -> None:
    """The message now shows something else (the list): no longer a card to redraw."""
    await session.execute(
        delete(PollCard).where(PollCard.chat_id == chat_id, PollCard.message_id == message_id)
    )


async def forget_cards_in(session: AsyncSession, chat_id: int) -> None:
    """/forget: no card is kept in the chat of someone who is leaving."""
    await session.execute(delete(PollCard).where(PollCard.chat_id == chat_id))


async def cards_of(session: AsyncSession, poll_id: int) -> list[PollCard]:
    return list(
        await session.scalars(
            select(PollCard).where(PollCard.poll_id == poll_id).order_by(PollCard.id)
        )
    )


# Reading -----------------------------------------------------------------------


async def get(session: AsyncSession, poll_id: int) -> PollView:
    poll = await session.get(Poll, poll_id)
    if poll is None:
        raise PollNotFound(poll_id)
    options = await session.scalars(
        select(PollOption.text).where(PollOption.poll_id == poll_id).order_by(PollOption.position)
    )
    return PollView(poll, tuple(options))


async def in_audience(session: AsyncSession, poll: Poll, member_id: int) -> bool:
    query = audiences.member_ids_query(Audience.from_json(poll.audience))
    if query is None:
        return False
    return bool(await session.scalar(select(query.where(Member.id == member_id).exists())))


async def current_choice(
    session: AsyncSession, poll_id: int, member_id: int, keys: PollKeys
) -> int:
    mask = await session.scalar(
        select(PollBallot.choices).where(
            PollBallot.poll_id == poll_id,
            PollBallot.voter_key == keys.voter_key(poll_id, member_id),
        )
    )
    return int(mask or 0)


async def tally(session: AsyncSession, view: PollView) -> Tally:
    """Counts per option and voters, summed by the database from the ballot masks."""
    sums = [
        func.coalesce(func.sum(case((PollBallot.choices.op("&")(1 << i) != 0, 1), else_=0)), 0)
        for i in range(len(view.options))
    ]
    row = (
        await session.execute(
            select(func.count(), *sums).where(
                PollBallot.poll_id == view.id, PollBallot.choices != 0
            )
        )
    ).one()
    return Tally(tuple(int(c) for c in row[1:]), int(row[0]))


# Voting --------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteOutcome:
    view: PollView
    before: int
    after: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _refusal(view: PollView, now: datetime) -> str | None:
    poll = view.poll
    if poll.status != PollStatus.OPEN.value:
        return "closed"
    if poll.closes_at is not None and poll.closes_at <= now:
        return "closed"  # due, the job has not run yet: already too late
    return None


async def vote(
    session: AsyncSession,
    poll_id: int,
    member: Member,
    position: int,
    *,
    now: datetime,
    keys: PollKeys,
) -> VoteOutcome:
    """Apply one tap of ``member`` on option ``position``; raises VoteRefused.

    Order matters for concurrency. The ballot row is upserted first: on SQLite
    that write takes the database's write lock, on PostgreSQL the row lock, so
    what follows (re-reading the poll, applying the tap) runs serialised with
    any other tap of the same member and with the closing job — a vote can
    never land after the poll closed, and two quick taps never lose one.
    """
    poll = await session.get(Poll, poll_id)
    if poll is None:
        raise VoteRefused("gone")
    view = await get(session, poll_id)
    if not 0 <= position < len(view.options):
        raise VoteRefused("no_such_option")
    if (code := _refusal(view, now)) is not None:
        raise VoteRefused(code)
    if not await in_audience(session, poll, member.id):
        raise VoteRefused("not_in_audience")
    voter_key = keys.voter_key(poll_id, member.id)
    created = await _ensure_ballot(session, poll, voter_key, member, keys, now)
    # Now serialised: read the poll's state again, under the lock.
    await session.refresh(poll, with_for_update={"read": True})
    if (code := _refusal(view, now)) is not None:
        if created:
            await session.execute(
                delete(PollBallot).where(
                    PollBallot.poll_id == poll_id, PollBallot.voter_key == voter_key
                )
            )
        raise VoteRefused(code)
    # Columns and a plain UPDATE, not a loaded ballot and a flush: the flush alone was
    # 4% of the bot's CPU in a rush of votes (py-spy), more than the statements.
    ballot_id, before = (
        await session.execute(
            select(PollBallot.id, PollBallot.choices)
            .where(PollBallot.poll_id == poll_id, PollBallot.voter_key == voter_key)
            .with_for_update()
        )
    ).one()
    after = toggle(
        before,
        position,
        options=len(view.options),
        multiple=poll.multiple,
        max_choices=poll.max_choices,
    )
    if after != before:
        await session.execute(
            update(PollBallot)
            .where(PollBallot.id == ballot_id)
            .values(
                choices=after,
                updated_at=now,
                # The department at the time of the latest change is the one counted.
                department_sealed=keys.seal_department(poll_id, member.department_id),
            )
            .execution_options(synchronize_session=False)
        )
    return VoteOutcome(view, before, after)


async def _ensure_ballot(
    session: AsyncSession,
    poll: Poll,
    voter_key: str,
    member: Member,
    keys: PollKeys,
    now: datetime,
) -> bool:
    """Insert an empty ballot unless the voter has one; True if it was created."""
    insert = insert_for(session)
    statement = (
        insert(PollBallot)
        .values(
            poll_id=poll.id,
            voter_key=voter_key,
            member_id=None if poll.anonymous else member.id,
            department_sealed=keys.seal_department(poll.id, member.department_id),
            choices=0,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["poll_id", "voter_key"])
        .returning(PollBallot.id)
    )
    result = await session.execute(statement)
    return result.first() is not None


# Lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PollSummary:
    id: int
    question: str
    is_open: bool
    closes_at: datetime | None
    closed_at: datetime | None
    voted: bool
    manageable: bool


async def for_member(
    session: AsyncSession,
    member: Member,
    role: Role,
    *,
    now: datetime,
    keys: PollKeys,
    limit: int = 10,
) -> list[PollSummary]:
    """Open polls and those closed in the last 30 days that the member may see.

    A member sees polls whose audience includes them; admins (and a cadre for
    their own polls) also see the ones they manage.
    """
    rows = list(
        await session.scalars(
            select(Poll)
            .where(
                or_(
                    Poll.status == PollStatus.OPEN.value,
                    Poll.closed_at >= now - RECENT,
                )
            )
            .order_by(Poll.status.desc(), Poll.created_at.desc(), Poll.id.desc())
            .limit(200)
        )
    )
    found: list[PollSummary] = []
    for poll in rows:
        manageable = may_manage(poll, role, member.id)
        if not manageable and not await in_audience(session, poll, member.id):
            continue
        voted = await current_choice(session, poll.id, member.id, keys) != 0
        found.append(
            PollSummary(
                poll.id,
                poll.question,
                poll.status == PollStatus.OPEN.value,
                poll.closes_at,
                poll.closed_at,
                voted,
                manageable,
            )
        )
        if len(found) >= limit:
            break
    return found


# Voters and non-voters -------------------------------------------------------------


async def _voter_keys(session: AsyncSession, poll_id: int) -> set[str]:
    return set(
        await session.scalars(
            select(PollBallot.voter_key).where(
                PollBallot.poll_id == poll_id, PollBallot.choices != 0
            )
        )
    )


async def audience_members(session: AsyncSession, poll: Poll) -> list[Recipient]:
    """Everyone the poll asks (as its audience is now)."""
    found: list[Recipient] = []
    async for page in audiences.recipients(session, Audience.from_json(poll.audience)):
        found.extend(page)
    return found


async def non_voters(session: AsyncSession, poll: Poll, keys: PollKeys) -> list[Recipient]:
    """Members of the audience who have not voted (for the closing-soon reminder)."""
    wanted = await _voter_keys(session, poll.id)
    found: list[Recipient] = []
    async for page in audiences.recipients(session, Audience.from_json(poll.audience)):
        found.extend(r for r in page if keys.voter_key(poll.id, r.member_id) not in wanted)
    return found


# Closing, reminding, managing ------------------------------------------------------


async def due_to_close(session: AsyncSession, now: datetime) -> list[int]:
    return list(
        await session.scalars(
            select(Poll.id)
            .where(Poll.status == PollStatus.OPEN.value, Poll.closes_at <= now)
            .order_by(Poll.closes_at, Poll.id)
        )
    )


async def close(session: AsyncSession, poll_id: int, *, now: datetime) -> PollView | None:
    """Close the poll if it is still open; None if someone else already did.

    One conditional UPDATE: two instances (or a job and an admin's button) may
    both try, exactly one succeeds, and only that one sends the results.
    """
    result = await session.execute(
        update(Poll)
        .where(Poll.id == poll_id, Poll.status == PollStatus.OPEN.value)
        .values(status=PollStatus.CLOSED.value, closed_at=now)
        .returning(Poll.id)
        .execution_options(synchronize_session=False)
    )
    if result.first() is None:
        return None
    view = await get(session, poll_id)
    await session.refresh(view.poll)
    return view


async def claim_reminders(session: AsyncSession, now: datetime) -> list[int]:
    """Polls whose reminder is due, marked as reminded in the same UPDATE (so once)."""
    result = await session.execute(
        update(Poll)
        .where(
            Poll.status == PollStatus.OPEN.value,
            Poll.remind.is_(True),
            Poll.reminded_at.is_(None),
            Poll.remind_at <= now,
            Poll.closes_at > now,
        )
        .values(reminded_at=now)
        .returning(Poll.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(int(i) for i in result.scalars())


async def claim_charts(session: AsyncSession, now: datetime) -> list[int]:
    """Closed polls whose chart still has to go out; a claim older than the lease is
    taken over (its instance died before finishing)."""
    candidates = list(
        await session.scalars(
            select(Poll.id).where(
                Poll.status == PollStatus.CLOSED.value,
                Poll.chart_done_at.is_(None),
                or_(Poll.chart_claimed_at.is_(None), Poll.chart_claimed_at < now - CHART_LEASE),
            )
        )
    )
    claimed: list[int] = []
    for poll_id in candidates:
        result = await session.execute(
            update(Poll)
            .where(
                Poll.id == poll_id,
                Poll.chart_done_at.is_(None),
                or_(Poll.chart_claimed_at.is_(None), Poll.chart_claimed_at < now - CHART_LEASE),
            )
            .values(chart_claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(result):
            claimed.append(poll_id)
    return claimed


async def chart_done(
    session: AsyncSession, poll_id: int, file_id: str | None, *, now: datetime
) -> None:
    await session.execute(
        update(Poll)
        .where(Poll.id == poll_id)
        .values(chart_file_id=file_id, chart_done_at=now)
        .execution_options(synchronize_session=False)
    )


async def extend(session: AsyncSession, poll_id: int, by: timedelta, *, now: datetime) -> PollView:
    """Move the closing time later (from now, for a poll without one)."""
    view = await get(session, poll_id)
    poll = view.poll
    if poll.status != PollStatus.OPEN.value:
        raise VoteRefused("closed")
    base = poll.closes_at if poll.closes_at is not None and poll.closes_at > now else now
    poll.closes_at = base + by
    poll.extended_at = now
    if poll.remind and poll.reminded_at is None:
        poll.remind_at = remind_at(now, poll.closes_at)
    await session.flush()
    return view


async def remove(session: AsyncSession, poll_id: int, *, now: datetime) -> None:
    """Delete a poll with its votes; poll messages not yet sent are cancelled."""
    poll = await session.get(Poll, poll_id)
    if poll is None:
        raise PollNotFound(poll_id)
    await outbox.cancel_group(session, group_key(poll_id), now=now)
    await session.execute(delete(Poll).where(Poll.id == poll_id))


async def creator_recipient(session: AsyncSession, poll: Poll) -> Recipient | None:
    if poll.creator_id is None:
        return None
    member = await session.get(Member, poll.creator_id)
    if member is None:
        return None
    return Recipient(member.id, member.telegram_id, member.language)


# Breakdowns and exports ---------------------------------------------------------


async def department_breakdown(
    session: AsyncSession, view: PollView, keys: PollKeys, *, no_department: str
) -> Breakdown:
    """Results per department, through disclosure control (see `poll_rules.breakdown`)."""
    names = {
        int(i): str(n) for i, n in await session.execute(select(Department.id, Department.name))
    }
    groups: dict[str, list[int]] = {}
    rows = await session.execute(
        select(PollBallot.department_sealed, PollBallot.choices).where(
            PollBallot.poll_id == view.id, PollBallot.choices != 0
        )
    )
    for sealed, mask in rows:
        department_id = keys.open_department(view.id, sealed)
        name = names.get(department_id, no_department) if department_id else no_department
        groups.setdefault(name, []).append(int(mask))
    # The linear programmes of disclosure control: off the event loop.
    return await asyncio.to_thread(
        breakdown,
        groups,
        len(view.options),
        departments=[*names.values(), no_department],
        multiple=view.poll.multiple,
    )


@dataclass(frozen=True)
class NamedVote:
    name: str | None  # None: the member has since deleted their data
    department: str | None
    positions: tuple[int, ...]
    at: datetime


async def named_votes(session: AsyncSession, view: PollView) -> list[NamedVote]:
    """Who voted what, for a named poll only (an anonymous poll has no such answer)."""
    if view.poll.anonymous:
        raise PermissionError("an anonymous poll has no named votes")
    rows = await session.execute(
        select(Member.name, Department.name, PollBallot.choices, PollBallot.updated_at)
        .select_from(PollBallot)
        .outerjoin(Member, Member.id == PollBallot.member_id)
        .outerjoin(Department, Department.id == Member.department_id)
        .where(PollBallot.poll_id == view.id, PollBallot.choices != 0)
        .order_by(PollBallot.id)
    )
    votes = [
        NamedVote(name, department, tuple(chosen(int(mask))), at)
        for name, department, mask, at in rows
    ]
    # In pinyin order (a second for 100,000 voters): off the event loop.
    return await asyncio.to_thread(collation.by_person, votes, lambda v: v.name or "")
