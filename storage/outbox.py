"""The outbox: every message the bot sends on its own, as rows with an explicit life cycle.

A feature that must tell someone something later (a broadcast, a greeting, a
reminder, a relayed grievance reply…) calls :func:`enqueue` / :func:`enqueue_many`
in the *same transaction* as the change that caused it, so the message exists
exactly when the change does. The delivery worker (`jobs.delivery`) claims due
rows, sends them and records Telegram's answer with the ``record_*`` functions.
Nothing here knows Telegram; the payload is a Bot API method name and its
parameters, kept as data.

Life cycle (:data:`TRANSITIONS` is the single source of truth; every UPDATE
below is guarded by it, so a row can only move along these arrows)::

    pending ──claim──▶ claimed ──start──▶ sending ──▶ sent | blocked | invalid | failed
       ▲  │               │                    │
       │  │               ├─▶ blocked | invalid (known without a request)
       │  │               ├─release / recover (never started)─▶ pending
       │  │               │                    ├─retry / recover (at-least-once)─▶ pending
       │  │               │                    ├─recover (at-most-once)─▶ failed
       │  │               │                    └─release (request not made)─▶ pending
       │  ├──pause──▶ paused ──resume──▶ pending
       │  └──cancel─▶ cancelled ◀──cancel── paused

``claimed`` means a worker holds the row and has made no request for it;
``sending`` means its request has been started: :func:`start` commits that
mark right before the request goes out. So after a crash only ``sending``
rows are uncertain — at most one per request the dead worker had in flight,
plus answered ones whose outcome it had not written yet — and ``claimed``
rows simply wait again.

Final states (:data:`FINAL`) have no way out. ``attempts`` counts requests
made (or possibly made, for an interrupted one) and never shrinks. Sensitive
rows keep their payload sealed with `storage.crypto` (bound to the row's key
and chat) and lose it when final.

Files: a row may upload one file (a report's chart or workbook) instead of
naming one by ``file_id``. Its bytes go to ``outbox_files`` in the same
transaction as the row (:attr:`Outgoing.upload`), the payload names it
(``{"upload": name}``, see :func:`uploaded`), the worker reads them just before
the request (:func:`attach_upload`) and the sender makes the multipart upload.
They are deleted when the row is final, as a sensitive row loses its payload,
so a retried upload is still there and a finished one leaves nothing behind.

Idempotency: ``key`` is unique and inserts use ``ON CONFLICT DO NOTHING``, so
enqueueing the same logical message twice (a retried handler, a re-run job)
creates one row.

Claiming: PostgreSQL locks the chosen rows with ``FOR UPDATE SKIP LOCKED`` so
several bot instances never take the same row; SQLite has a single writer and
the claim is one atomic ``UPDATE … RETURNING``. A claimed row carries a lease
(``claimed_at``) that its worker renews; rows whose lease ran out belonged to a
worker that died and are recovered by :func:`recover_interrupted`: ``claimed``
ones go back to ``pending``; ``sending`` ones follow their ``at_most_once``.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    case,
    delete,
    event,
    exists,
    func,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import members
from storage.crypto import Cipher, DecryptionError, KeyedHasher
from storage.db import dialect_insert, rows_changed, transaction
from storage.models import IN_HAND_ONLY, Member, Outbox, OutboxFile, OutboxStatus, utcnow

Status = OutboxStatus

# Where a final sensitive row "was sent to": no chat has this id.
SCRUBBED_CHAT = 0
# Pseudonymous chats of sealed rows lie below this (negated); see OutboxCipher.
PSEUDONYM_BASE = 2**60

# Smaller is sooner: a member waiting for an answer beats a bulk announcement.
PRIORITY_NOTICE = 10
PRIORITY_REMINDER = 50
PRIORITY_BULK = 100

METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "copyMessage",
        # Edits of a message the bot sent (a closed poll's copies): ``message_id`` in
        # the payload; "not modified" and "not found" count as done (`jobs.sender`).
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
PAYLOAD_PURPOSE = "outbox-payload"
INTERRUPTED_DROPPED = "interrupted: not resent (at-most-once)"
INTERRUPTED_RESENT = "interrupted: resent (at-least-once)"
_ERROR_LENGTH = 200
_CHUNK = 1000
_ANALYZE_AFTER = 5000

# The mapped table as Core sees it (typed `FromClause` on the class): the statements
# built once below update it by column, without the ORM.
_TABLE = cast(Table, Outbox.__table__)


class Event(enum.StrEnum):
    """What can happen to a row; each has fixed sources and one target."""

    CLAIM = "claim"
    START = "start"
    SENT = "sent"
    BLOCKED = "blocked"
    INVALID = "invalid"
    RETRY = "retry"
    FAIL = "fail"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RECOVER_RESEND = "recover_resend"
    RECOVER_DROP = "recover_drop"
    RECOVER_UNSTARTED = "recover_unstarted"
    RELEASE = "release"


FINAL: frozenset[Status] = frozenset(
    {Status.SENT, Status.BLOCKED, Status.INVALID, Status.FAILED, Status.CANCELLED}
)

# Rows a worker holds: claimed (no request yet) or sending (request started).
IN_HAND: frozenset[Status] = frozenset({Status.CLAIMED, Status.SENDING})

TRANSITIONS: Mapping[Event, tuple[frozenset[Status], Status]] = {
    Event.CLAIM: (frozenset({Status.PENDING}), Status.CLAIMED),
    Event.START: (frozenset({Status.CLAIMED}), Status.SENDING),
    Event.SENT: (frozenset({Status.SENDING}), Status.SENT),
    # Known without a request too: a member who blocked the bot, a payload that
    # cannot be opened.
    Event.BLOCKED: (IN_HAND, Status.BLOCKED),
    Event.INVALID: (IN_HAND, Status.INVALID),
    Event.RETRY: (frozenset({Status.SENDING}), Status.PENDING),
    Event.FAIL: (frozenset({Status.SENDING}), Status.FAILED),
    Event.PAUSE: (frozenset({Status.PENDING}), Status.PAUSED),
    Event.RESUME: (frozenset({Status.PAUSED}), Status.PENDING),
    Event.CANCEL: (frozenset({Status.PENDING, Status.PAUSED}), Status.CANCELLED),
    Event.RECOVER_RESEND: (frozenset({Status.SENDING}), Status.PENDING),
    Event.RECOVER_DROP: (frozenset({Status.SENDING}), Status.FAILED),
    Event.RECOVER_UNSTARTED: (frozenset({Status.CLAIMED}), Status.PENDING),
    # The worker knows it made no request: from `sending` too, when the start
    # mark was committed but the worker could not learn so, or was stopped
    # between the mark and the request.
    Event.RELEASE: (IN_HAND, Status.PENDING),
}


def next_status(status: Status, happened: Event) -> Status | None:
    """The status after ``happened``, or None when the table forbids that move."""
    sources, target = TRANSITIONS[happened]
    return target if status in sources else None


class PayloadError(ValueError):
    """A payload the worker could not send: unknown method or not JSON data."""


def payload(method: str, **params: Any) -> dict[str, Any]:
    """Build a payload: a Bot API method and its parameters (``chat_id`` is the row's).

    ``reply_markup`` is a plain dict (e.g. ``InlineKeyboardMarkup(...).to_dict()``);
    files are sent by ``file_id`` or URL, or uploaded: ``photo=uploaded(name)``
    with the bytes in :attr:`Outgoing.upload`.
    """
    if method not in METHODS:
        raise PayloadError(f"unsupported method {method!r}")
    if "chat_id" in params:
        raise PayloadError("chat_id belongs to the row, not the payload")
    body = {"method": method, "params": params}
    try:
        json.dumps(body)
    except (TypeError, ValueError) as exc:
        raise PayloadError("payload parameters must be JSON data") from exc
    return body


class OutboxCipher(Cipher):
    """Seals sensitive payloads and names their chats by a keyed pseudonym.

    A sensitive row to a person (a notice to a case's author) never holds their
    chat id or member id in a column, not even while pending: the column holds
    ``pseudonym(chat_id)`` — the same for every row to that chat,
    so the worker can pace per chat, but useless without the key — and the real
    chat id travels inside the sealed payload.
    """

    __slots__ = ("_recipients",)

    def __init__(self, secret: str | bytes) -> None:
        super().__init__(secret, PAYLOAD_PURPOSE)
        self._recipients = KeyedHasher(secret, "outbox-recipient")

    def pseudonym(self, chat_id: int) -> int:
        """A negative number below any Telegram chat id (which fit in 52 bits)."""
        return -(PSEUDONYM_BASE + int(self._recipients(str(chat_id))[:15], 16))


def outbox_cipher(secret: str | bytes) -> OutboxCipher:
    """The cipher sensitive payloads are sealed with (one purpose, one key)."""
    return OutboxCipher(secret)


def _binding(key: str, chat_id: int) -> str:
    # Associated data: a sealed payload opens only in its own row, for its own chat.
    return f"outbox:{key}:{chat_id}"


def seal(cipher: Cipher, key: str, chat_id: int, body: Mapping[str, Any]) -> dict[str, str]:
    return {"sealed": cipher.encrypt(json.dumps(body), _binding(key, chat_id))}


@dataclass(frozen=True)
class Upload:
    """A file to upload: its name as Telegram shows it, and its bytes."""

    name: str
    content: bytes = field(repr=False)


def uploaded(name: str) -> dict[str, str]:
    """A payload parameter naming the row's upload (its :class:`Upload` of that name)."""
    return {"upload": name}


def _upload_reference(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"upload"} and isinstance(value["upload"], str):
        return value["upload"]
    return None


def upload_parameter(params: Mapping[str, Any]) -> tuple[str, str] | None:
    """The parameter that names an upload and the file's name, if the payload has one."""
    for name, value in params.items():
        reference = _upload_reference(value)
        if reference is not None:
            return name, reference
    return None


@dataclass(frozen=True)
class Outgoing:
    """One message to enqueue. ``not_before`` None means "as soon as possible"."""

    key: str
    kind: str
    chat_id: int
    payload: Mapping[str, Any]
    member_id: int | None = None
    group_key: str | None = None
    sensitive: bool = False
    priority: int = PRIORITY_BULK
    not_before: datetime | None = None
    at_most_once: bool = True
    # The file this row uploads; its payload names it with `uploaded(upload.name)`.
    upload: Upload | None = None


@dataclass(frozen=True)
class ClaimedMessage:
    """A row this worker now owns (status ``claimed``), detached from any session."""

    id: int
    key: str
    kind: str
    chat_id: int
    member_id: int | None
    group_key: str | None
    payload: dict[str, Any] | None
    sensitive: bool
    priority: int
    not_before: datetime
    attempts: int
    at_most_once: bool
    claimed_by: str
    member_blocked: bool = False

    @property
    def uploads(self) -> bool:
        """Whether the row uploads a file (kept in ``outbox_files`` until it is final)."""
        params = (self.payload or {}).get("params")
        return not self.sensitive and isinstance(params, dict) and bool(upload_parameter(params))

    def open(self, cipher: Cipher | None) -> tuple[str, dict[str, Any]]:
        """The Bot API method and parameters (chat_id included), unsealed if needed.

        Raises PayloadError for a payload that cannot be sent (erased, unknown
        method, or sealed under another key).
        """
        body = self.payload
        if body is None:
            raise PayloadError("payload erased")
        chat_id = self.chat_id
        if self.sensitive:
            if cipher is None:
                raise PayloadError("sensitive payload and no key to open it")
            try:
                sealed = str(body["sealed"])
                body = json.loads(cipher.decrypt(sealed, _binding(self.key, self.chat_id)))
                chat_id = int(body.pop("to", self.chat_id))
            except (DecryptionError, KeyError, ValueError, TypeError) as exc:
                raise PayloadError("sealed payload does not open with this key") from exc
        method = body.get("method")
        params = body.get("params")
        if method not in METHODS or not isinstance(params, dict):
            raise PayloadError(f"unsupported payload method {method!r}")
        return str(method), {"chat_id": chat_id, **params}


@dataclass(frozen=True)
class GroupProgress:
    """How far one batch (``group_key``) has got, for the sender's progress message."""

    group_key: str
    counts: dict[str, int]
    rate: float | None
    eta: timedelta | None

    def count(self, status: Status) -> int:
        return self.counts.get(status.value, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def remaining(self) -> int:
        """Rows still to be attempted (paused ones included)."""
        return sum(self.count(s) for s in (Status.PENDING, *IN_HAND, Status.PAUSED))

    @property
    def done(self) -> bool:
        return self.total > 0 and self.remaining == 0


@dataclass(frozen=True)
class Recovered:
    """What :func:`recover_interrupted` did with rows a dead worker left in its hand.

    ``released``: claimed but never started, back to ``pending`` (no attempt);
    ``resent`` / ``dropped``: started (``sending``), at-least-once / at-most-once.
    ``keys`` are the started ones, the only rows whose fate is uncertain.
    """

    resent: int = 0
    dropped: int = 0
    keys: list[str] = field(default_factory=list)
    released: int = 0


# Enqueueing -------------------------------------------------------------------


def _row(item: Outgoing, now: datetime, cipher: Cipher | None) -> dict[str, Any]:
    body = dict(item.payload)
    if body.get("method") not in METHODS or not isinstance(body.get("params"), dict):
        raise PayloadError("build payloads with outbox.payload(method, **params)")
    reference = upload_parameter(body["params"])
    if (reference and reference[1]) != (item.upload and item.upload.name):
        raise PayloadError("the payload must name the row's upload, and only it")
    if item.upload is not None and item.sensitive:
        raise PayloadError("a sensitive message cannot carry an upload")
    chat_id, member_id = item.chat_id, item.member_id
    if item.sensitive:
        if not isinstance(cipher, OutboxCipher):
            raise PayloadError("a sensitive message needs the outbox cipher")
        # From the first insert, a person is named only inside the seal (see
        # OutboxCipher); a group's id is no secret and keeps its own pacing.
        if item.chat_id > 0:
            chat_id, member_id = cipher.pseudonym(item.chat_id), None
        body = seal(cipher, item.key, chat_id, {"to": item.chat_id, **body})
    return {
        "key": item.key,
        "kind": item.kind,
        "chat_id": chat_id,
        "member_id": member_id,
        "group_key": item.group_key,
        "payload": body,
        "sensitive": item.sensitive,
        "priority": item.priority,
        "not_before": item.not_before or now,
        "status": Status.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "at_most_once": item.at_most_once,
    }


def _chunks(items: Iterable[Outgoing], size: int) -> Iterator[list[Outgoing]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


async def enqueue_many(
    session: AsyncSession,
    items: Iterable[Outgoing],
    *,
    now: datetime,
    cipher: Cipher | None = None,
) -> int:
    """Insert the messages whose key is new; return how many rows were created.

    Runs in the caller's transaction. Streams ``items`` in chunks, so a 100k
    broadcast never holds more than one chunk of rows in memory.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = dialect_insert(dialect)
    created = 0
    for chunk in _chunks(items, _CHUNK):
        rows = [_row(item, now, cipher) for item in chunk]
        table = _TABLE
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key)
            # Keep NULLs in the rows, so one chunk is one multi-row INSERT rather
            # than one per distinct set of non-null columns.
            .execution_options(render_nulls=True)
        )
        result = await session.execute(statement, rows)
        new = set(result.scalars())
        created += len(new)
        # Only a row this call created gets its file: a re-run stores no second copy.
        files = [
            {"outbox_key": item.key, "name": item.upload.name, "content": item.upload.content}
            for item in chunk
            if item.upload is not None and item.key in new
        ]
        if files:
            await session.execute(insert(OutboxFile.__table__), files)
    if dialect == "postgresql" and created >= _ANALYZE_AFTER:
        # Fresh statistics now, not at autovacuum's next round: with stale ones the
        # planner sorts every pending row for each claim (300 ms at 100k, not 1 ms).
        await session.execute(text("ANALYZE outbox"))
    return created


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    chat_id: int,
    payload: Mapping[str, Any],
    now: datetime,
    member_id: int | None = None,
    group_key: str | None = None,
    sensitive: bool = False,
    priority: int = PRIORITY_BULK,
    not_before: datetime | None = None,
    at_most_once: bool = True,
    cipher: Cipher | None = None,
    upload: Upload | None = None,
) -> bool:
    """Insert one message unless its key exists; True if a row was created."""
    item = Outgoing(
        key=key,
        kind=kind,
        chat_id=chat_id,
        payload=payload,
        member_id=member_id,
        group_key=group_key,
        sensitive=sensitive,
        priority=priority,
        not_before=not_before,
        at_most_once=at_most_once,
        upload=upload,
    )
    return await enqueue_many(session, [item], now=now, cipher=cipher) == 1


async def rewrite_pending(
    session: AsyncSession, items: Iterable[Outgoing], *, cipher: Cipher | None = None
) -> int:
    """Give rows not yet claimed a new payload (sealed again, for their own key and chat).

    For a message that stopped being true before it was sent (a poll extended):
    the member gets the new text, not the old one and then an edit. A row already
    claimed keeps its payload; the caller edits it once delivered. Returns how
    many rows were rewritten.
    """
    rewritten = 0
    for item in items:
        body = _row(item, utcnow(), cipher)["payload"]
        result = await session.execute(
            update(Outbox)
            .where(Outbox.key == item.key, Outbox.status == Status.PENDING.value)
            .values(payload=body)
            .execution_options(synchronize_session=False)
        )
        rewritten += rows_changed(result)
    return rewritten


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once this session's transaction commits (never on rollback).

    Used to wake the delivery worker only when the rows it should see exist.
    """

    def fire(_session: object) -> None:
        callback()

    event.listen(session.sync_session, "after_commit", fire, once=True)


async def attach_upload(
    session: AsyncSession, key: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """``params`` with the upload they name replaced by its :class:`Upload` (bytes read now).

    The worker calls it right before the request, in a session of its own that
    it closes before sending. Raises PayloadError when the file is not there.
    """
    found = upload_parameter(params)
    if found is None:
        return dict(params)
    parameter, name = found
    content = await session.scalar(
        select(OutboxFile.content).where(OutboxFile.outbox_key == key, OutboxFile.name == name)
    )
    if content is None:
        raise PayloadError("the upload's file is gone")
    return {**params, parameter: Upload(name, bytes(content))}


def _final(row: Any) -> Any:
    return exists().where(Outbox.key == row, Outbox.status.in_([s.value for s in FINAL]))


async def drop_final_files(session: AsyncSession, keys: Iterable[str] | None = None) -> int:
    """Delete the files of rows that are final (of those ``keys``, or of any row).

    The table holds only the files still to be sent, so looking at all of it is
    cheap; each row is checked by its unique key.
    """
    statement = delete(OutboxFile).where(_final(OutboxFile.outbox_key))
    if keys is not None:
        wanted = list(keys)
        if not wanted:
            return 0
        statement = statement.where(OutboxFile.outbox_key.in_(wanted))
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return rows_changed(result)


# Claiming and outcomes ------------------------------------------------------

_CLAIM_COLUMNS = (
    Outbox.id,
    Outbox.key,
    Outbox.kind,
    Outbox.chat_id,
    Outbox.member_id,
    Outbox.group_key,
    Outbox.payload,
    Outbox.sensitive,
    Outbox.priority,
    Outbox.not_before,
    Outbox.attempts,
    Outbox.at_most_once,
)


async def claim(
    sessions: async_sessionmaker[AsyncSession], worker_id: str, now: datetime, limit: int
) -> list[ClaimedMessage]:
    """Take up to ``limit`` due rows for ``worker_id``, most urgent first, in one transaction.

    The rows become ``claimed``: held, but no request is started until
    :func:`start` says so, so a crash costs claimed rows nothing. Also tells, per row, whether its chat belongs to a member who blocked the
    bot, so the worker can skip those without calling Telegram.
    """
    if limit <= 0:
        return []
    # A materialized CTE, not an IN (subquery): PostgreSQL may rescan a plain
    # subquery once per outer row, and each rescan skips the rows this very
    # statement has just updated and locks the next ones — claiming everything.
    due = (
        select(Outbox.id)
        .where(Outbox.status == Status.PENDING.value, Outbox.not_before <= now)
        .order_by(Outbox.priority, Outbox.not_before, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    statement = (
        update(Outbox)
        .where(Outbox.id.in_(select(due.c.id)), Outbox.status == Status.PENDING.value)
        .values(status=Status.CLAIMED.value, claimed_by=worker_id, claimed_at=now)
        .returning(*_CLAIM_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    async with transaction(sessions) as session:
        rows = (await session.execute(statement)).all()
        private = {row.chat_id for row in rows if row.chat_id > 0}
        blocked: set[int] = set()
        if private:
            blocked = set(
                await session.scalars(
                    select(Member.telegram_id).where(
                        Member.telegram_id.in_(private), Member.blocked_at.is_not(None)
                    )
                )
            )
    claimed = [
        ClaimedMessage(
            id=row.id,
            key=row.key,
            kind=row.kind,
            chat_id=row.chat_id,
            member_id=row.member_id,
            group_key=row.group_key,
            payload=row.payload,
            sensitive=row.sensitive,
            priority=row.priority,
            not_before=row.not_before,
            attempts=row.attempts,
            at_most_once=row.at_most_once,
            claimed_by=worker_id,
            member_blocked=row.chat_id in blocked,
        )
        for row in rows
    ]
    claimed.sort(key=lambda m: (m.priority, m.not_before, m.id))
    return claimed


@functools.cache
def _start_statement() -> Any:
    table = _TABLE
    return (
        update(table)
        .where(
            table.c.id.in_(bindparam("ids", expanding=True)),
            table.c.claimed_by == bindparam("worker"),
            table.c.status == Status.CLAIMED.value,
        )
        .values(status=Status.SENDING.value, claimed_at=bindparam("now"))
        .returning(table.c.id)
    )


async def start(
    session: AsyncSession, ids: Iterable[int], worker_id: str, *, now: datetime
) -> set[int]:
    """Mark claimed rows ``sending``: their requests are about to be made.

    Commit before making them: a crash after this leaves them uncertain, a
    crash before it leaves them merely claimed, to be sent again. Returns the
    ids marked; a row missing there is no longer this worker's (its lease ran
    out and another took it), and must not be sent.
    """
    wanted = list(ids)
    if not wanted:
        return set()
    params = {"ids": wanted, "worker": worker_id, "now": now}
    return set(await session.scalars(_start_statement(), params))


def _error(text: str | None) -> str | None:
    return None if text is None else text[:_ERROR_LENGTH]


def _final_values(now: datetime) -> dict[str, Any]:
    # A final sensitive row keeps nothing readable: the sealed payload goes, and
    # so does the recipient, so a database dump cannot line up "this member got
    # a notice at 10:32" with "case G-… was answered at 10:32".
    return {
        "finished_at": now,
        "payload": case((Outbox.sensitive, null()), else_=Outbox.payload),
        "chat_id": case((Outbox.sensitive, SCRUBBED_CHAT), else_=Outbox.chat_id),
        "member_id": case((Outbox.sensitive, null()), else_=Outbox.member_id),
    }


async def _move(
    session: AsyncSession,
    happened: Event,
    *conditions: Any,
    now: datetime | None,
    attempted: bool = False,
    **values: Any,
) -> int:
    """Apply one event to the rows matching ``conditions`` that the table lets move."""
    sources, target = TRANSITIONS[happened]
    values["status"] = target.value
    if attempted:
        values["attempts"] = Outbox.attempts + 1
    if target in FINAL:
        if now is None:
            raise ValueError("a final state needs the time it was reached")
        values.update(_final_values(now))
    statement = (
        update(Outbox)
        .where(Outbox.status.in_([s.value for s in sources]), *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    moved = rows_changed(result)
    if target in FINAL and moved:
        await drop_final_files(session)
    return moved


@dataclass(frozen=True)
class Result:
    """What became of one claimed row, for :func:`record_results`.

    ``event`` is one of SENT, BLOCKED, INVALID, RETRY, FAIL or RELEASE;
    ``backoff`` is when a retried row is due again, and for a released one how
    long it waits (none: due as it was); ``attempted`` is False when no request was made (a known-blocked member, a
    payload that cannot be opened, a row released at shutdown).
    """

    message: ClaimedMessage
    event: Event
    error: str | None = None
    telegram_message_id: int | None = None
    backoff: timedelta = timedelta(0)
    attempted: bool = True


_RECORDABLE = frozenset(
    {Event.SENT, Event.BLOCKED, Event.INVALID, Event.RETRY, Event.FAIL, Event.RELEASE}
)


@functools.cache
def _record_statement(happened: Event, attempted: bool) -> Any:
    """One UPDATE for every row with this outcome, parameters bound per row.

    Only the worker that holds the claim may record its outcome: if recovery
    took the row away meanwhile, the late answer changes nothing. Built once
    per kind (statements are immutable): building one costs more than running it.
    """
    sources, target = TRANSITIONS[happened]
    table = _TABLE
    values: dict[str, Any] = {"status": target.value}
    if attempted:
        # A request is counted only if one was started: a claimed row never made one.
        started = case((table.c.status == Status.SENDING.value, 1), else_=0)
        values["attempts"] = table.c.attempts + started
    if happened is not Event.RELEASE:
        values["last_error"] = bindparam("b_error")
    if happened is Event.SENT:
        values["telegram_message_id"] = bindparam("b_message_id")
        values["sent_at"] = bindparam("b_now")
    if happened is Event.RETRY:
        values["not_before"] = bindparam("b_not_before", type_=Outbox.not_before.type)
    if happened is Event.RELEASE:
        # Released with a backoff: held behind a retried row of its batch (or as it was).
        values["not_before"] = func.coalesce(
            bindparam("b_hold", type_=Outbox.not_before.type), table.c.not_before
        )
    if target in FINAL:
        values["finished_at"] = bindparam("b_now", type_=Outbox.finished_at.type)
        values["payload"] = case((table.c.sensitive, null()), else_=table.c.payload)
        values["chat_id"] = case((table.c.sensitive, SCRUBBED_CHAT), else_=table.c.chat_id)
        values["member_id"] = case((table.c.sensitive, null()), else_=table.c.member_id)
    return (
        update(table)
        .where(
            table.c.id == bindparam("b_id"),
            table.c.claimed_by == bindparam("b_worker"),
            # Not IN (…): an expanding parameter cannot be used with executemany.
            or_(*(table.c.status == source.value for source in sorted(sources))),
        )
        .values(**values)
    )


async def record_results(session: AsyncSession, results: Sequence[Result], *, now: datetime) -> int:
    """Record many outcomes in the caller's transaction; return how many rows moved.

    One statement per kind of outcome (executemany), so a worker at 1000
    messages/s spends one transaction, not a thousand, on its bookkeeping.
    Members whose chat refused the bot are marked as blocking it.
    """
    groups: dict[tuple[Event, bool], list[dict[str, Any]]] = {}
    blocked: list[int] = []
    uploads: list[str] = []
    for result in results:
        if result.event not in _RECORDABLE:
            raise ValueError(f"{result.event} is not an outcome")
        if TRANSITIONS[result.event][1] in FINAL and result.message.uploads:
            uploads.append(result.message.key)
        groups.setdefault((result.event, result.attempted), []).append(
            {
                "b_id": result.message.id,
                "b_worker": result.message.claimed_by,
                "b_error": _error(result.error),
                "b_message_id": result.telegram_message_id,
                "b_now": now,
                "b_not_before": now + result.backoff,
                "b_hold": now + result.backoff if result.backoff else None,
            }
        )
        if result.event is Event.BLOCKED and result.attempted and result.message.chat_id > 0:
            blocked.append(result.message.chat_id)
    moved = 0
    for (happened, attempted), rows in groups.items():
        statement = _record_statement(happened, attempted)
        outcome = await session.execute(statement, rows if len(rows) > 1 else rows[0])
        if len(rows) == 1:
            moved += rows_changed(outcome)
        else:
            moved += len(rows)  # executemany has no reliable per-row count on every driver
    if uploads:
        await drop_final_files(session, uploads)
    for chat_id in blocked:
        await members.mark_blocked(session, chat_id, now)
    return moved


async def _record_one(session: AsyncSession, result: Result, now: datetime) -> bool:
    return await record_results(session, [result], now=now) == 1


async def record_sent(
    session: AsyncSession,
    message: ClaimedMessage,
    *,
    now: datetime,
    telegram_message_id: int | None,
) -> bool:
    """Telegram accepted the message. False if this worker no longer held the row."""
    result = Result(message, Event.SENT, telegram_message_id=telegram_message_id)
    return await _record_one(session, result, now)


async def record_blocked(
    session: AsyncSession,
    message: ClaimedMessage,
    *,
    now: datetime,
    error: str,
    attempted: bool = True,
) -> bool:
    """The chat refused the bot (403); the member whose chat it is is marked as blocking it.

    ``attempted=False`` records a row skipped without a request because the
    member was already known to block the bot.
    """
    result = Result(message, Event.BLOCKED, error=error, attempted=attempted)
    return await _record_one(session, result, now)


async def record_invalid(
    session: AsyncSession,
    message: ClaimedMessage,
    *,
    now: datetime,
    error: str,
    attempted: bool = True,
) -> bool:
    """The request itself can never succeed (400 chat not found, bad markup, unopenable payload)."""
    result = Result(message, Event.INVALID, error=error, attempted=attempted)
    return await _record_one(session, result, now)


async def record_retry(
    session: AsyncSession,
    message: ClaimedMessage,
    *,
    now: datetime,
    backoff: timedelta,
    error: str,
) -> bool:
    """Back to ``pending``, not before ``now + backoff``."""
    result = Result(message, Event.RETRY, error=error, backoff=backoff)
    return await _record_one(session, result, now)


async def record_failed(
    session: AsyncSession, message: ClaimedMessage, *, now: datetime, error: str
) -> bool:
    """Given up: retries exhausted, or a timeout an at-most-once row may not repeat."""
    return await _record_one(session, Result(message, Event.FAIL, error=error), now)


async def release(
    session: AsyncSession, messages: Iterable[ClaimedMessage], *, now: datetime | None = None
) -> int:
    """Hand rows this worker claimed but never tried back to ``pending`` (shutdown)."""
    results = [Result(m, Event.RELEASE, attempted=False) for m in messages]
    if not results:
        return 0
    return await record_results(session, results, now=now or utcnow())


async def renew_claims(session: AsyncSession, worker_id: str, now: datetime) -> int:
    """Extend the lease on every row this live worker still holds (claimed or sending)."""
    result = await session.execute(
        update(Outbox)
        .where(IN_HAND_ONLY, Outbox.claimed_by == worker_id)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


async def recover_interrupted(
    session: AsyncSession, *, now: datetime, lease: timedelta
) -> Recovered:
    """Settle rows held by a worker whose lease ran out (it crashed).

    A ``claimed`` row had no request made: it goes back to ``pending`` as it
    was. For a ``sending`` row the request may or may not have reached
    Telegram, so an at-most-once row becomes ``failed`` (never doubled) and
    an at-least-once row goes back to ``pending`` (never lost).
    """
    # Every condition with IN_HAND_ONLY: the partial index, not the whole outbox (on
    # SQLite a bound status list alone scanned every row, sent ones too, at each start).
    stale = (IN_HAND_ONLY, Outbox.claimed_at < now - lease)
    found = (await session.execute(select(Outbox.key, Outbox.status).where(*stale))).all()
    if not found:
        return Recovered()  # and no write: a live instance checks this every lease
    released = await _move(session, Event.RECOVER_UNSTARTED, *stale, now=now)
    keys = [key for key, status in found if status == Status.SENDING.value]
    if not keys:
        return Recovered(released=released)
    # The interrupted request may have gone out: it counts as an attempt.
    dropped = await _move(
        session,
        Event.RECOVER_DROP,
        *stale,
        Outbox.at_most_once.is_(True),
        now=now,
        attempted=True,
        last_error=INTERRUPTED_DROPPED,
    )
    resent = await _move(
        session,
        Event.RECOVER_RESEND,
        *stale,
        Outbox.at_most_once.is_(False),
        now=now,
        attempted=True,
        last_error=INTERRUPTED_RESENT,
    )
    return Recovered(resent=resent, dropped=dropped, keys=keys, released=released)


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending row becomes due (None if nothing is pending)."""
    return await session.scalar(
        select(func.min(Outbox.not_before)).where(Outbox.status == Status.PENDING.value)
    )


async def depth(session: AsyncSession) -> dict[Status, int]:
    """Rows not yet settled, by status: pending, claimed and sending (all instances).

    Two counts over the partial indexes the claim and the leases use, so a scrape
    costs the same with 100k sent rows behind it as with none. Paused rows (a
    broadcast on hold) have no such index and are left out.
    """
    pending = await session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.status == Status.PENDING.value)
    )
    counts = {status: 0 for status in (Status.PENDING, *IN_HAND)}
    counts[Status.PENDING] = int(pending or 0)
    in_hand = await session.execute(
        select(Outbox.status, func.count()).where(IN_HAND_ONLY).group_by(Outbox.status)
    )
    for status, count in in_hand:
        counts[Status(status)] = int(count)
    return counts


async def oldest_due(
    session: AsyncSession, now: datetime, *, max_priority: int | None = None
) -> datetime | None:
    """When the longest-waiting due pending row became due (of ``max_priority`` or more urgent).

    Rows held back on purpose (a 429's ``retry_after``, a backoff) are not due
    yet, so this is how far delivery is behind, not how much is scheduled.
    """
    statement = select(func.min(Outbox.not_before)).where(
        Outbox.status == Status.PENDING.value, Outbox.not_before <= now
    )
    if max_priority is not None:
        statement = statement.where(Outbox.priority <= max_priority)
    return await session.scalar(statement)


# Batches ----------------------------------------------------------------------


async def pause_group(session: AsyncSession, group_key: str, *, now: datetime) -> int:
    """Hold every pending row of the batch; rows already being sent finish."""
    return await _move(session, Event.PAUSE, Outbox.group_key == group_key, now=now)


async def resume_group(session: AsyncSession, group_key: str, *, now: datetime) -> int:
    return await _move(session, Event.RESUME, Outbox.group_key == group_key, now=now)


async def cancel_group(session: AsyncSession, group_key: str, *, now: datetime) -> int:
    """Cancel what has not been sent yet; rows being sent right now still finish."""
    return await cancel_groups(session, [group_key], now=now)


async def cancel_groups(session: AsyncSession, group_keys: Iterable[str], *, now: datetime) -> int:
    """`cancel_group` for several batches in one statement (the greetings of 62 days)."""
    keys = sorted(set(group_keys))
    if not keys:
        return 0
    where = Outbox.group_key == keys[0] if len(keys) == 1 else Outbox.group_key.in_(keys)
    return await _move(session, Event.CANCEL, where, now=now, last_error="cancelled")


async def forget_recipient(
    session: AsyncSession,
    chat_id: int,
    member_id: int | None,
    *,
    now: datetime,
    pseudonym: int | None = None,
) -> int:
    """/forget: what was still to be sent to the member is cancelled, and no row,
    sent or not, keeps their Telegram id, member id or the message it carried.

    ``pseudonym`` (`OutboxCipher.pseudonym` of the chat) reaches the sealed rows
    too (a pulse question, a poll reminder), which name the chat only so.
    A row being sent at this instant finishes (its request has left), but its
    recipient columns are cleared all the same. Returns the rows cancelled.
    """
    mine = or_(Outbox.chat_id == chat_id, Outbox.member_id == member_id)
    if pseudonym is not None:
        mine = or_(mine, Outbox.chat_id == pseudonym)
    cancelled = await _move(session, Event.CANCEL, mine, now=now, last_error="forgotten")
    await session.execute(
        update(Outbox)
        .where(mine)
        .values(
            chat_id=SCRUBBED_CHAT,
            member_id=None,
            payload=case(
                (Outbox.status.in_([s.value for s in FINAL]), null()), else_=Outbox.payload
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return cancelled


async def group_progress(
    session: AsyncSession,
    group_key: str,
    *,
    now: datetime,
    rate: float | None = None,
    window: timedelta = timedelta(minutes=1),
) -> GroupProgress:
    """Counts per status, the recent delivery rate and the time left at that rate.

    The rate is measured from rows finished within ``window``; before there is
    any, ``rate`` (the worker's configured pace) stands in. Paused rows have no
    estimate: they wait for a person.
    """
    counts = {
        status: int(count)
        for status, count in (
            await session.execute(
                select(Outbox.status, func.count())
                .where(Outbox.group_key == group_key)
                .group_by(Outbox.status)
            )
        )
    }
    recent, earliest = (
        await session.execute(
            select(func.count(), func.min(Outbox.finished_at)).where(
                Outbox.group_key == group_key, Outbox.finished_at >= now - window
            )
        )
    ).one()
    measured: float | None = None
    if recent and earliest is not None and recent > 1:
        span = max((now - earliest).total_seconds(), 1.0)
        measured = recent / span
    speed = measured or rate
    active = sum(counts.get(s.value, 0) for s in (Status.PENDING, *IN_HAND))
    eta: timedelta | None = None
    if speed and not counts.get(Status.PAUSED.value):
        eta = timedelta(seconds=active / speed)
    return GroupProgress(group_key=group_key, counts=counts, rate=speed, eta=eta)


async def statuses(session: AsyncSession, keys: Sequence[str]) -> dict[str, str]:
    """Current status per key (for reports and tests)."""
    rows = await session.execute(select(Outbox.key, Outbox.status).where(Outbox.key.in_(keys)))
    return {key: status for key, status in rows}
