"""Conversation state and drafts as sealed rows: the storage side of `bot.persistence`.

Knows nothing of Telegram. Three pieces:

* a strict JSON codec for drafts: the plain values handlers keep between steps
  (text, numbers, lists, dicts with text keys) plus tuples, dates and datetimes,
  tagged so they come back as the same types. Anything else (a live object, a
  Telegram message, a set) is refused at the first write rather than pickled,
  so every instance can read every row, whatever code it runs;
* a :class:`Sealer`: rows are keyed by an HMAC of what they are for and
  encrypted under `SECRET_KEY` (AES-GCM, bound to that key), so a database dump
  shows neither a grievance draft's text nor whose draft it is;
* the reads and writes, one statement each, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import drafts
from storage.crypto import Cipher, DecryptionError, KeyedHasher
from storage.db import dialect_insert, rows_changed
from storage.models import ConversationState

SEAL_PURPOSE = "conversation-state"
KEY_PURPOSE = "conversation-key"
_TAG = "$"


# The codec ------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data, or TypeError naming the type (never the value)."""
    if value is None or type(value) in (bool, int, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)  # an IntEnum: its number
    if isinstance(value, str):
        return str.__str__(value)  # a StrEnum: its text
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TypeError("a draft holds a float that is not finite")
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(item) for item in value]}
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    draft_name = drafts.name_of(value)
    if draft_name is not None:
        return {_TAG: "draft", "n": draft_name, "v": encode(drafts.fields_of(value))}
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"a draft has a {type(key).__name__} key; only text keys persist")
            out[str.__str__(key)] = encode(item)
        return {_TAG: "dict", "v": out} if _TAG in out else out
    raise TypeError(
        f"a {type(value).__name__} cannot be kept between conversation steps: "
        "keep plain values (text, numbers, lists, dicts, tuples, dates) or a "
        "`core.drafts.draft` dataclass in user_data"
    )


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag is None:
        return {key: decode(item) for key, item in value.items()}
    body = value["v"]
    if tag == "tuple":
        return tuple(decode(item) for item in body)
    if tag == "datetime":
        return datetime.fromisoformat(body)
    if tag == "date":
        return date.fromisoformat(body)
    if tag == "dict":
        return {key: decode(item) for key, item in body.items()}
    if tag == "draft":
        return drafts.rebuild(value["n"], decode(body))
    raise ValueError(f"unknown tag {tag!r} in stored conversation data")


def dumps(value: Any) -> str:
    return json.dumps(
        encode(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )


def loads(text: str) -> Any:
    return decode(json.loads(text))


# Sealing --------------------------------------------------------------------------------

ConversationKey = tuple[int | str, ...]


@dataclass(frozen=True)
class ConversationRow:
    name: str
    key: ConversationKey
    state: Any
    expires: datetime


@dataclass(frozen=True)
class UserRow:
    user_id: int
    data: dict[str, Any]


class Sealer:
    """Row keys and sealed bodies for one `SECRET_KEY`. Build once; cheap to call."""

    __slots__ = ("_cipher", "_hash")

    def __init__(self, secret: str) -> None:
        self._cipher = Cipher(secret, SEAL_PURPOSE)
        self._hash = KeyedHasher(secret, KEY_PURPOSE)

    def conversation_key(self, name: str, key: ConversationKey) -> str:
        """The row of one conversation: any instance computes it from the update alone."""
        return self._hash(f"conversation\x00{name}\x00{dumps(list(key))}")

    def user_key(self, user_id: int) -> str:
        return self._hash(f"user\x00{int(user_id)}")

    def seal_conversation(self, row: ConversationRow) -> tuple[str, str]:
        key = self.conversation_key(row.name, row.key)
        body = {"name": row.name, "key": list(row.key), "state": row.state}
        body["expires"] = row.expires.astimezone(UTC).isoformat()
        return key, self._cipher.encrypt(dumps(body), key)

    def seal_user(self, row: UserRow) -> tuple[str, str]:
        key = self.user_key(row.user_id)
        return key, self._cipher.encrypt(dumps({"user": row.user_id, "data": row.data}), key)

    def open(self, key: str, sealed: str) -> ConversationRow | UserRow:
        """The row's content; DecryptionError if it was altered, moved or made under another key."""
        body = loads(self._cipher.decrypt(sealed, key))
        row: ConversationRow | UserRow
        if "user" in body:
            user = UserRow(int(body["user"]), dict(body["data"]))
            row, expected = user, self.user_key(user.user_id)
        else:
            conversation = ConversationRow(
                str(body["name"]),
                tuple(body["key"]),
                body["state"],
                datetime.fromisoformat(body["expires"]),
            )
            row = conversation
            expected = self.conversation_key(conversation.name, conversation.key)
        if expected != key:  # the AAD already binds it; this keeps a logic slip from passing
            raise DecryptionError("a conversation row does not match its key")
        return row


def coarse(at: datetime) -> datetime:
    """Rounded up to the minute: enough to sweep by, too coarse to match a case's instants."""
    at = at.astimezone(UTC)
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(minutes=1)


# Reads and writes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    rows: dict[str, ConversationRow | UserRow]
    unreadable: list[str]  # row keys that do not open (another SECRET_KEY, tampering)


async def load_all(session: AsyncSession, sealer: Sealer) -> Loaded:
    rows: dict[str, ConversationRow | UserRow] = {}
    unreadable: list[str] = []
    result = await session.execute(select(ConversationState.key, ConversationState.sealed))
    for key, sealed in result:
        try:
            rows[key] = sealer.open(key, sealed)
        except (DecryptionError, ValueError, KeyError, TypeError):
            unreadable.append(key)
    return Loaded(rows, unreadable)


# `load_keys` in plain SQL, for a driver connection of its own (`storage.chat_locks`).
KEYS_QUERY = "SELECT key, sealed FROM conversation_state WHERE key = ANY($1::text[])"


def open_rows(
    sealer: Sealer, found: Iterable[tuple[str, str]]
) -> dict[str, ConversationRow | UserRow]:
    """The rows that open, by key; one that does not is left out, as if absent."""
    rows: dict[str, ConversationRow | UserRow] = {}
    for key, sealed in found:
        try:
            rows[key] = sealer.open(key, sealed)
        except (DecryptionError, ValueError, KeyError, TypeError):
            continue
    return rows


async def load_keys(
    session: AsyncSession, sealer: Sealer, keys: Iterable[str]
) -> dict[str, ConversationRow | UserRow]:
    """The rows among ``keys`` that exist and open: one indexed query, for one member's update.

    Another instance may have written them since this one last looked
    (`bot.persistence` re-reads a member's rows at the start of each update).
    A row that does not open is left out, as if absent; the start-up load
    deletes such rows.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    result = await session.execute(
        select(ConversationState.key, ConversationState.sealed).where(
            ConversationState.key.in_(wanted)
        )
    )
    return open_rows(sealer, result.tuples())


async def write(
    session: AsyncSession,
    upserts: Mapping[str, tuple[str, datetime]],
    deletes: Iterable[str],
) -> None:
    """Insert or replace ``upserts`` (key → sealed, expiry) and remove ``deletes``, in one go."""
    gone = sorted(set(deletes) - set(upserts))
    if gone:
        await session.execute(delete(ConversationState).where(ConversationState.key.in_(gone)))
    if not upserts:
        return
    values = [
        {"key": key, "sealed": sealed, "expires_at": coarse(expires)}
        for key, (sealed, expires) in sorted(upserts.items())
    ]
    await session.execute(_upsert(session.get_bind().dialect.name), values)


_UPSERTS: dict[str, Any] = {}


def _upsert(dialect: str) -> Any:
    """One statement per dialect, built once, so SQLAlchemy compiles it once."""
    if dialect not in _UPSERTS:
        insert = dialect_insert(dialect)
        statement = insert(ConversationState)
        _UPSERTS[dialect] = statement.on_conflict_do_update(
            index_elements=[ConversationState.key],
            set_={"sealed": statement.excluded.sealed, "expires_at": statement.excluded.expires_at},
        )
    return _UPSERTS[dialect]


async def count_live(session: AsyncSession, now: datetime) -> int:
    """Rows not yet expired: a conversation's step, or the drafts of a member in one.

    Counted without opening a row (their keys are keyed hashes), so the two kinds
    are not told apart; on the ``expires_at`` index, cheap at any size.
    """
    count = await session.scalar(
        select(func.count())
        .select_from(ConversationState)
        .where(ConversationState.expires_at > now)
    )
    return int(count or 0)


async def delete_expired(session: AsyncSession, now: datetime) -> int:
    """Remove every row past its (rounded-up) expiry, whoever wrote it; the count removed."""
    result = await session.execute(
        delete(ConversationState).where(ConversationState.expires_at <= now)
    )
    return rows_changed(result)
