"""Typed SQLAlchemy models. Times are stored in UTC, shown in the union's zone."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from core import collation
from core.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_day(moment: datetime | None = None) -> datetime:
    """Midnight UTC of the day: the only precision member-side times keep.

    A member's row written at the exact instant of a case event (or seconds
    before it) would let a database dump join the two; a day is shared with
    everyone else active that day. See ARCHITECTURE.md, "Anonymity".
    """
    moment = moment or utcnow()
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(enum.StrEnum):
    MEMBER = "member"
    CADRE = "cadre"
    ADMIN = "admin"


member_groups = Table(
    "member_interest_groups",
    Base.metadata,
    Column("member_id", ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("interest_groups.id", ondelete="CASCADE"), primary_key=True),
)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InterestGroup(Base):
    __tablename__ = "interest_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _sort_key_default(context: Any) -> bytes:
    """A row inserted without its key (a bulk ``insert(Member)``) gets its name's."""
    return collation.sort_key(context.get_current_parameters()["name"])


class Member(Base):
    """A registered member. Deleting the row is how /forget erases a person."""

    __tablename__ = "members"
    # Never reuse a deleted member's id: other tables may hold encrypted links to it.
    # The admin's member list and search page in pinyin order from this index.
    __table_args__ = (
        Index("ix_members_sort_key", "sort_key", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # The name's pinyin place (`core.collation.sort_key`): set by `_keep_sort_key` whenever
    # the ORM sets the name, by `_sort_key_default` for a bulk INSERT; a bulk UPDATE of
    # names must write it too (`storage.roster`).
    sort_key: Mapped[bytes] = mapped_column(LargeBinary(), default=_sort_key_default)
    # The Telegram @username (without "@"), for the admin's member search; kept current from
    # the member's private chat, deleted with the row. Never read by grievances, polls or exports.
    username: Mapped[str | None] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    birthday: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8))
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Day precision only (see `utc_day`).
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_day)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_day, onupdate=utc_day)

    department: Mapped[Department | None] = relationship(lazy="joined")
    tags: Mapped[list[MemberTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )
    groups: Mapped[list[InterestGroup]] = relationship(
        secondary=member_groups, lazy="selectin", passive_deletes=True
    )

    @property
    def tag_names(self) -> list[str]:
        return sorted(t.tag for t in self.tags)

    @validates("name")
    def _keep_sort_key(self, _key: str, name: str) -> str:
        """Every ORM write of the name (the constructor, registration, a rename) writes
        its pinyin sort key with it, so no list can be ordered by a stale key."""
        self.sort_key = collation.sort_key(name)
        return name


class MemberTag(Base):
    """Free-form audience labels (new hire, retiree, hardship…) set by admins."""

    __tablename__ = "member_tags"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


# Outbox --------------------------------------------------------------------


class OutboxStatus(enum.StrEnum):
    """Where an outbox row is in its life; the allowed moves are in `storage.outbox`."""

    PENDING = "pending"
    CLAIMED = "claimed"  # leased by a worker, no request started yet
    SENDING = "sending"  # its request has been (or is being) made
    PAUSED = "paused"
    SENT = "sent"
    BLOCKED = "blocked"
    INVALID = "invalid"
    FAILED = "failed"
    CANCELLED = "cancelled"


_PENDING_ONLY = text("status = 'pending'")
# Queries over the rows in hand repeat this very term (`storage.outbox`): SQLite uses a
# partial index only when the query's WHERE has the index's own, and a bound
# `status IN (?, ?)` is not it (a bound `status = ?` is: the pending index needs nothing).
IN_HAND_ONLY = text("status IN ('claimed', 'sending')")


class Outbox(Base):
    """A message the bot owes someone, written in the same transaction as its cause.

    The delivery worker (`jobs.delivery`) claims due rows and records what
    Telegram answered; the row is the source of truth, so a restart neither
    loses nor repeats a message. `key` makes enqueueing idempotent.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The claim query: pending rows in (priority, not_before, id) order. Partial,
        # so 100k finished rows cost nothing and the scan starts at the first due row.
        Index(
            "ix_outbox_due",
            "priority",
            "not_before",
            "id",
            postgresql_where=_PENDING_ONLY,
            sqlite_where=_PENDING_ONLY,
        ),
        # Crash recovery and lease renewal look only at the few rows in a worker's hand.
        Index(
            "ix_outbox_in_hand",
            "claimed_by",
            "claimed_at",
            postgresql_where=IN_HAND_ONLY,
            sqlite_where=IN_HAND_ONLY,
        ),
        # Progress, pause, resume and cancel of one batch (a broadcast).
        Index("ix_outbox_group_key_status", "group_key", "status"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s.value}'" for s in OutboxStatus) + ")",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    group_key: Mapped[str | None] = mapped_column(String(100))
    # {"method": "sendMessage", "params": {...}}; for sensitive rows {"sealed": "v1.…"},
    # and NULL once a sensitive row is final.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(SmallInteger, default=100)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    at_most_once: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxFile(Base):
    """The bytes an outbox row uploads (a chart, a workbook), kept while it may be sent.

    Written in the same transaction as its row (`storage.outbox.Outgoing.upload`),
    which names it in its payload (``{"upload": name}``); deleted as soon as the
    row is final, so a database dump holds no file a row no longer needs. No
    times: the row has them.
    """

    __tablename__ = "outbox_files"

    outbox_key: Mapped[str] = mapped_column(
        ForeignKey("outbox.key", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)


# Greetings (storage/greetings.py, storage/occasions.py) ---------------------


class GreetingOccasion(Base):
    """An occasion whose settings differ from the shipped defaults, or an admin-defined date.

    Built-in occasions (`storage.occasions.BUILTIN`) need no row: a row appears
    when an admin first switches one off or sets its audience, and then holds
    every setting. Custom occasions (``custom-…``) always have a row, with their
    name and the month and day they fall on every year.
    """

    __tablename__ = "greeting_occasions"
    __table_args__ = (
        CheckConstraint("month IS NULL OR (month BETWEEN 1 AND 12)", name="month"),
        CheckConstraint("day IS NULL OR (day BETWEEN 1 AND 31)", name="day"),
    )

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Greet only members with this tag; NULL greets every member.
    audience_tag: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64))
    month: Mapped[int | None] = mapped_column(SmallInteger)
    day: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class GreetingTemplate(Base):
    """An admin's own text for one occasion in one language.

    Without a row the default from the gettext catalogue is used, so shipped
    wording improvements reach every union that has not written its own.
    """

    __tablename__ = "greeting_templates"

    occasion: Mapped[str] = mapped_column(String(24), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Broadcasts ------------------------------------------------------------------


class BroadcastStatus(enum.StrEnum):
    """Where an announcement is; its messages' own states live in the outbox."""

    SCHEDULED = "scheduled"  # waiting for its time; no outbox rows yet
    SENDING = "sending"  # rows enqueued (group_key broadcast:<id>)
    PAUSED = "paused"  # rows held by the admin
    CANCELLED = "cancelled"  # stopped by the admin; what was sent stays sent
    DONE = "done"  # every row final and the report written


class Broadcast(Base):
    """An announcement to an audience, sent through the outbox as one batch.

    ``audience`` is the selection (`storage.audiences.Audience`), resolved
    when the messages are enqueued. The report counts are copied from the
    outbox when the last row is final, together with ``finished_at``, in one
    conditional UPDATE: that is what makes the report happen exactly once.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (
        # The scheduler's question: which scheduled ones are due?
        Index("ix_broadcasts_status_scheduled_for", "status", "scheduled_for"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s.value}'" for s in BroadcastStatus) + ")",
            name="status",
        ),
        CheckConstraint("media_kind IS NULL OR media_kind IN ('photo', 'document')", name="media"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The HTML sent to members: escaped plain text, or checked markup when formatted.
    text: Mapped[str] = mapped_column(Text)
    # The English version, the same HTML rules: members who chose English get it
    # (None: everyone gets ``text``).
    text_en: Mapped[str | None] = mapped_column(Text)
    formatted: Mapped[bool] = mapped_column(Boolean, default=False)
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_file_id: Mapped[str | None] = mapped_column(String(255))
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    # The admin's private chat: progress message and report go there.
    admin_chat_id: Mapped[int] = mapped_column(BigInteger)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Grievances ----------------------------------------------------------------
#
# Anonymity lives in these columns: nothing here names the member who wrote a
# case. `Grievance.link` (their member id), `department`, `signature`, message
# bodies and rating comments are AES-GCM tokens under SECRET_KEY with a random
# nonce (`storage.grievances.Sealer`); `GrievanceMessage.source_ref` is a keyed
# hash of one private message, unique per message, so it matches nothing else.


class GrievanceStatus(enum.StrEnum):
    """Where a case is; the allowed moves are in `storage.grievance_rules`."""

    NEW = "new"
    TAKEN = "taken"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    CLOSED = "closed"


class GrievanceCategory(Base):
    """A kind of case members choose from; admins edit the list, its routing and SLA.

    Built-in categories have a `slug` and are shown translated until an admin
    renames them (`name`); hidden ones stay for the cases that used them.
    """

    __tablename__ = "grievance_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    always_urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Another group for this category's cases; NULL means CADRE_CHAT_ID.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    take_hours: Mapped[int] = mapped_column(Integer, default=24)
    answer_hours: Mapped[int] = mapped_column(Integer, default=72)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GrievanceOption(Base):
    """Numbers admins set from the chat (e.g. the daily limit of new cases)."""

    __tablename__ = "grievance_options"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Grievance(Base):
    """One case. Stays for statistics after its link to the member is destroyed."""

    __tablename__ = "grievances"
    __table_args__ = (
        # /cases and the SLA job: open cases by age.
        Index("ix_grievances_status_created_at", "status", "created_at"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s.value}'" for s in GrievanceStatus) + ")",
            name="status",
        ),
        CheckConstraint("urgency IN ('normal', 'urgent')", name="urgency"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("grievance_categories.id", ondelete="RESTRICT"), index=True
    )
    urgency: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=GrievanceStatus.NEW.value)
    link: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(Text)
    route_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    take_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The cadre who took it (a cadre, never the member who wrote).
    taken_by: Mapped[int | None] = mapped_column(BigInteger)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalation: Mapped[str | None] = mapped_column(String(16))
    take_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link_destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_count: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[GrievanceCategory] = relationship(lazy="joined")


class GrievanceMessage(Base):
    """One message of a case's thread: the member's (text or file) or the union's."""

    __tablename__ = "grievance_messages"
    __table_args__ = (UniqueConstraint("grievance_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grievance_id: Mapped[int] = mapped_column(
        ForeignKey("grievances.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(8))  # member | union
    kind: Mapped[str] = mapped_column(String(12))  # text | photo | document | voice
    body: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(255))
    source_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # Sealed "chat:message" of a member's voice note: the outbox can only copy voice.
    origin: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GrievancePost(Base):
    """A card or relayed message the bot queued for a union group, and where it landed."""

    __tablename__ = "grievance_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grievance_id: Mapped[int] = mapped_column(
        ForeignKey("grievances.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("grievance_messages.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # card | relay | copy (a card re-posted with /case, redrawn like the card)
    role: Mapped[str] = mapped_column(String(8))
    outbox_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(8), default="queued", index=True)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GrievanceAudit(Base):
    """What cadres did to a case, for admins. Member actions are logged without an actor."""

    __tablename__ = "grievance_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grievance_id: Mapped[int] = mapped_column(
        ForeignKey("grievances.id", ondelete="CASCADE"), index=True
    )
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


# Polls and suggestions (storage/polls.py, storage/suggestions.py) ------------


class PollStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Poll(Base):
    """A quick poll. Its options never change once published, so ballots can name them
    by position; ``anonymous`` is set at creation and no code path changes it.

    ``audience`` is a `storage.audiences.Audience` in JSON, evaluated when the poll
    is published and again whenever someone votes: a member outside it is refused.
    The closing job moves ``status`` from open to closed with one conditional
    UPDATE, which is what makes "results sent once" hold across instances.
    """

    __tablename__ = "polls"
    __table_args__ = (
        # The job's questions: which open polls are due to close, or to remind?
        Index("ix_polls_status_closes_at", "status", "closes_at"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("max_choices BETWEEN 1 AND 10", name="max_choices"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    max_choices: Mapped[int] = mapped_column(SmallInteger, default=1)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    # Members may see the counts while the poll is open (always after it closes).
    results_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    # On close the results go to every voter, not only to the creator.
    share_results: Mapped[bool] = mapped_column(Boolean, default=True)
    remind: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PollStatus.OPEN.value)
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last extension: copies delivered after it may still show the old closing time.
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The results chart is uploaded once (to the creator) and then sent by file id.
    chart_file_id: Mapped[str | None] = mapped_column(String(255))
    chart_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chart_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PollOption(Base):
    __tablename__ = "poll_options"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


class PollBallot(Base):
    """One voter's current choice in one poll: a bit per option position.

    ``voter_key`` is a keyed hash of (poll, member) — unique per poll, so nobody
    votes twice, and useless without `SECRET_KEY`. Only named polls fill
    ``member_id``. The voter's department (for breakdowns) is sealed with the
    secret key, so a leaked dump cannot narrow an anonymous vote down to a
    small department either. ``choices`` 0 means the vote was withdrawn.
    """

    __tablename__ = "poll_ballots"
    __table_args__ = (
        UniqueConstraint("poll_id", "voter_key", name="uq_poll_ballots_poll_id_voter_key"),
        CheckConstraint("choices >= 0 AND choices < 1024", name="choices"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    department_sealed: Mapped[str | None] = mapped_column(Text)
    choices: Mapped[int] = mapped_column(SmallInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PollCopy(Base):
    """A poll message a member asked to see again (📊 投票 → the poll), kept to redraw it.

    The copies sent through the outbox (the poll, the reminder) are found by their
    outbox rows; these are sent as replies, so they are kept here. ``holder`` is a
    keyed hash of (poll, member), not the member: with no chat and no time, a
    dump says neither who opened a poll nor when (an anonymous poll's voters
    open it to vote). The chat is the holder's own, known when it is redrawn.
    """

    __tablename__ = "poll_copies"
    __table_args__ = (
        UniqueConstraint(
            "poll_id", "holder", "message_id", name="uq_poll_copies_poll_id_holder_message_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(BigInteger)


class PollCard(Base):
    """A manage card (⏰ extend, 🔒 close now) shown in an admin's or cadre's chat.

    Kept so that closing or extending the poll redraws every card, wherever the
    change came from: no card keeps live buttons for a closed poll or an old
    closing time. Managers' cards only; members' copies are `PollCopy` and the outbox.
    """

    __tablename__ = "poll_cards"
    __table_args__ = (
        UniqueConstraint(
            "poll_id", "chat_id", "message_id", name="uq_poll_cards_poll_id_chat_id_message_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)


class FeatureSetting(Base):
    """A switch admins flip from the chat (e.g. whether cadres may create polls)."""

    __tablename__ = "feature_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SuggestionStatus(enum.StrEnum):
    NEW = "new"
    CONSIDERING = "considering"
    ADOPTED = "adopted"
    DECLINED = "declined"


class Suggestion(Base):
    """A named suggestion (意见建议) from a member to the union's cadres.

    /forget unlinks it (``member_id`` NULL); the text stays for the union.
    """

    __tablename__ = "suggestions"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s.value}'" for s in SuggestionStatus) + ")",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=SuggestionStatus.NEW.value)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SuggestionReply(Base):
    __tablename__ = "suggestion_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), index=True
    )
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Activities and trainings (storage/activities.py, storage/trainings.py, storage/seating.py)
#
# Seats: the parent row (activity or training) carries `seats_taken`, a cache of
# the seated sign-ups' seats that every change rewrites while it holds the
# parent's row lock (`storage.seating`), and `tickets`, the counter that orders
# sign-ups: a sign-up's ticket is its place in line, so the waitlist is the
# waitlisted rows by ticket. The CHECK constraints are the last word on capacity.


class OfferingStatus(enum.StrEnum):
    """An activity's or a training's life: drafts are invisible to members."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SignupStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a cadre's approval (trainings that need it)
    SEATED = "seated"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"


_OFFERING_STATUS = "status IN (" + ", ".join(f"'{s.value}'" for s in OfferingStatus) + ")"
_SIGNUP_STATUS = "status IN (" + ", ".join(f"'{s.value}'" for s in SignupStatus) + ")"
_SEATS_FIT = "seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)"


class Activity(Base):
    """A cultural or sports activity, skill competition or group meeting members sign up for.

    ``audience`` is a `storage.audiences.Audience` in JSON: who sees it and may
    sign up. ``schedule_version`` grows whenever the time changes, so reminders
    planned for the old time are told apart from the new ones.
    """

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_status_starts_at", "status", "starts_at"),
        CheckConstraint(_OFFERING_STATUS, name="status"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity"),
        CheckConstraint(_SEATS_FIT, name="seats"),
        CheckConstraint("ends_at > starts_at", name="times"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(255))
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signup_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int | None] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    guests_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OfferingStatus.DRAFT.value)
    checkin_code: Mapped[str] = mapped_column(String(8))
    schedule_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ActivitySignup(Base):
    """One member's place at an activity: seated or waitlisted, with their guest if any."""

    __tablename__ = "activity_signups"
    __table_args__ = (
        Index("uq_activity_signups_member", "activity_id", "member_id", unique=True),
        Index("ix_activity_signups_line", "activity_id", "status", "ticket"),
        CheckConstraint(_SIGNUP_STATUS, name="status"),
        CheckConstraint("seats BETWEEN 1 AND 2", name="seats"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    seats: Mapped[int] = mapped_column(SmallInteger, default=1)  # 2 = with a guest
    ticket: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checkin_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)


class ActivityRating(Base):
    """A participant's 1–5 rating of an activity after it ended, with an optional comment."""

    __tablename__ = "activity_ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),)

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReminderMark(Base):
    """That one reminder (or rating request) was enqueued for one member: never twice.

    The job inserts marks with ON CONFLICT DO NOTHING and enqueues only for the
    rows it inserted, so two instances or a restart cannot double a reminder.
    ``kind`` is "act" (activity), "trs" (training session), "rate" (an activity's
    rating request) or "trate" (a training's, ``target_id`` the training);
    ``version`` is the target's schedule version, so a moved time plans anew.
    """

    __tablename__ = "reminder_marks"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    target_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    offset_minutes: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Training(Base):
    """A vocational course: sessions, capacity, deadline, optional approval of each enrolment.

    ``required_sessions`` is how many sessions a member must attend to complete
    it (None: all of them).
    """

    __tablename__ = "trainings"
    __table_args__ = (
        Index("ix_trainings_status_signup_deadline", "status", "signup_deadline"),
        CheckConstraint(_OFFERING_STATUS, name="status"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity"),
        CheckConstraint(_SEATS_FIT, name="seats"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    signup_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    required_sessions: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default=OfferingStatus.DRAFT.value)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrainingSession(Base):
    """One meeting of a course, at a place or online."""

    __tablename__ = "training_sessions"
    __table_args__ = (
        Index("ix_training_sessions_training_id_starts_at", "training_id", "starts_at"),
        Index("ix_training_sessions_starts_at", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="times"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(200), default="")
    online_link: Mapped[str | None] = mapped_column(String(300))
    schedule_version: Mapped[int] = mapped_column(Integer, default=1)


class TrainingEnrolment(Base):
    """A member's enrolment in a course: pending approval, seated, waitlisted or rejected."""

    __tablename__ = "training_enrolments"
    __table_args__ = (
        Index("uq_training_enrolments_member", "training_id", "member_id", unique=True),
        Index("ix_training_enrolments_line", "training_id", "status", "ticket"),
        CheckConstraint(_SIGNUP_STATUS, name="status"),
        CheckConstraint("seats = 1", name="seats"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    seats: Mapped[int] = mapped_column(SmallInteger, default=1)
    ticket: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrainingAttendance(Base):
    """A member was present at one session (marked by a cadre)."""

    __tablename__ = "training_attendance"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))


class TrainingRating(Base):
    """An attendee's 1–5 rating of a training after a session they attended, with a comment.

    The twin of :class:`ActivityRating`: one row per course and member (rating
    again changes the stars), asked for once (`jobs.reminders`).
    """

    __tablename__ = "training_ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),)

    training_id: Mapped[int] = mapped_column(
        ForeignKey("trainings.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationState(Base):
    """One step of a conversation, or the drafts of a member mid-conversation, sealed.

    Written by `bot.persistence` after every update so a restart (or another
    instance) continues where the member stopped. `key` is a keyed hash of what
    the row is for (a conversation's name and its Telegram key, or a user id):
    without `SECRET_KEY` a dump shows neither the text nor whose it is, and two
    rows of one person cannot be linked. `expires_at` is the timeout rounded up
    to the minute, so any instance can sweep abandoned rows without opening them.
    """

    __tablename__ = "conversation_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# Roster ----------------------------------------------------------------------


class RosterEntry(Base):
    """A person on the union's roster, imported from the employer's list.

    ``code_hash`` is a keyed hash of the one-time code handed out (the code itself
    is never stored); it is cleared when used. ``link`` is the member who used
    it, sealed under `SECRET_KEY` with the entry's id as associated data, so a
    dump without the key cannot join a roster row to a Telegram account. Times
    are kept to the day (`utc_day`), like member rows.
    """

    __tablename__ = "roster_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    birthday: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[str] = mapped_column(String(400), default="")  # comma-separated, sorted
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_day)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_day)


class RosterCodeAttempt(Base):
    """A wrong one-time code, for the rate limit: who by a keyed hash, when to the minute."""

    __tablename__ = "roster_code_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    who: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# The satisfaction pulse ----------------------------------------------------------


class PulseMonth(Base):
    """One month of the satisfaction pulse: the question went out once, at ``sent_at``.

    ``month`` is the union's local month ("2026-12"), unique: the job inserts the
    row with ON CONFLICT DO NOTHING and only the instance that inserted it enqueues
    the questions. Answers are taken until ``closes_at`` (the next month's start).
    """

    __tablename__ = "pulse_months"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class PulseAnswer(Base):
    """One anonymous answer to one month's pulse: 1–5 stars and an optional comment.

    Like an anonymous poll ballot: ``voter_key`` is a keyed hash of month and
    member (unique per month, so nobody answers twice; useless without
    `SECRET_KEY`), there is no member id, the comment is sealed, and the only time
    kept is the day (``answered_on``), shared with everyone who answered that day.
    """

    __tablename__ = "pulse_answers"
    __table_args__ = (
        UniqueConstraint("month_id", "voter_key", name="uq_pulse_answers_month_id_voter_key"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    month_id: Mapped[int] = mapped_column(ForeignKey("pulse_months.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(64))
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment_sealed: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date] = mapped_column(Date)


# Handbook (职工服务手册) ----------------------------------------------------------------


class HandbookTopic(Base):
    """A topic of the handbook: a node of the tree, with entries and subtopics under it."""

    __tablename__ = "handbook_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("handbook_topics.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_zh: Mapped[str] = mapped_column(String(64))
    title_en: Mapped[str] = mapped_column(String(64))


class HandbookEntry(Base):
    """One page of the handbook, in both languages (safe HTML), maybe with a photo or file.

    `file_id` is a Telegram file id of a file an admin sent; `file_kind` says how
    to send it back ("photo" or "document").
    """

    __tablename__ = "handbook_entries"
    __table_args__ = (CheckConstraint("file_kind IN ('photo', 'document')", name="file_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("handbook_topics.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_zh: Mapped[str] = mapped_column(String(64))
    title_en: Mapped[str] = mapped_column(String(64))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(256))
    file_kind: Mapped[str | None] = mapped_column(String(16))


class HandbookLink(Base):
    """An entry's "see also": it points to a related entry."""

    __tablename__ = "handbook_links"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("handbook_entries.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("handbook_entries.id", ondelete="CASCADE"), primary_key=True
    )


class HandbookSynonym(Base):
    """Words searched as one (工资/薪酬/薪水): every word of a group expands to all of them."""

    __tablename__ = "handbook_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    words: Mapped[str] = mapped_column(String(256))  # space-separated, normalised


class HandbookMiss(Base):
    """A normalised search that found nothing, and how often, all time: no member, no time.

    Counts from before monthly counting began (0015) are here only.
    """

    __tablename__ = "handbook_misses"

    query: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class HandbookSearchMonth(Base):
    """Searches asked for in a local calendar month (its first day), and how many found something.

    A month bucket of a total: no member, no finer time.
    """

    __tablename__ = "handbook_search_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    found: Mapped[int] = mapped_column(Integer, default=0)


class HandbookMonthMiss(Base):
    """A normalised search that found nothing, and how often in a local calendar month."""

    __tablename__ = "handbook_month_misses"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    query: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SendBudgetRow(Base):
    """Telegram's sending budget, one for the whole bot however many instances send.

    Used on PostgreSQL only (`storage.budget`): ``key`` 0 is the overall
    budget (``next_at``: the next free send slot), any other key is a keyed hash
    of one chat (``next_at``: its next allowed send; for a group ``recent`` holds
    its sends of the last minute). Times are Unix seconds. Chat rows are deleted
    once they constrain nothing (a minute), so the table names no chat and keeps
    no history of who was sent what when.
    """

    __tablename__ = "send_budget"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    next_at: Mapped[float] = mapped_column(Double)
    recent: Mapped[list[float] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
