"""Telegram's sending budget, one for the whole bot, in the database every instance shares.

Telegram allows about 30 messages a second to a bot, one a second to one
private chat and 20 a minute to one group, whichever instance sends them. With
one pacer per process, two instances had to split the rate by hand
(``DELIVERY_RATE`` 12 + 12); here the budget is rows of ``send_budget``:

* key 0: ``next_at``, the next free send slot of the whole bot. Slots are
  instants ``1/rate`` apart, handed out in order, so all instances together
  send evenly spaced and never faster than ``rate`` in any window — a
  virtual-clock ("GCRA") token bucket without burst;
* a row per chat written to in the last minute, keyed by a keyed hash of the
  chat (never its id): a private chat's next allowed send, a group's sends of
  the last minute (at most ``group_per_minute`` in any 60 s).

:meth:`SendBudget.claim` books slots for many sends at once in one short
transaction: it locks the global row and the chats' rows (created if missing,
locked in key order so two instances never deadlock), computes each send's
slot in Python and writes them back — three round trips for a whole batch,
whatever its size. A send whose chat is still busy (the other instance wrote to
it) gets no slot but the time to ask again, so the overall schedule has no holes.

Times are Unix seconds of the caller's clock: instances must keep their clocks
in step (NTP), as Telegram's own limits assume nothing finer than that.
SQLite is one instance by construction and paces in process (`jobs.pacing.Pacer`);
this module works there too, which only the tests use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, case, delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import KeyedHasher
from storage.db import insert_for, transaction
from storage.models import SendBudgetRow
from storage.outbox import PSEUDONYM_BASE

GLOBAL = 0
# Chat rows that constrain nothing any more (a minute after the last send) go this often.
_PRUNE_EVERY = 30.0

_table = cast(Table, SendBudgetRow.__table__)


@dataclass(frozen=True)
class BudgetLimits:
    """What the whole bot may send: ``rate`` per second overall, and each chat's own limit."""

    rate: float
    per_chat_interval: float = 1.0
    group_per_minute: int = 20
    group_window: float = 60.0  # a minute; tests scale it down

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.per_chat_interval < 0 or self.group_per_minute <= 0:
            raise ValueError("rates must be positive")


@dataclass(frozen=True)
class Grant:
    """A booked send slot, or (``slot`` None) the chat's next free moment to ask again."""

    slot: float | None
    not_before: float = 0.0


def is_group(chat_id: int) -> bool:
    """Groups have negative ids; outbox pseudonyms (below any id) stand for private chats."""
    return -PSEUDONYM_BASE < chat_id < 0


class SendBudget:
    """The shared budget over one database; safe to use from any number of processes."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        secret: str | bytes,
        limits: BudgetLimits,
    ) -> None:
        self.limits = limits
        self._sessions = sessions
        self._hash = KeyedHasher(secret, "send-budget")
        self._pruned_at = float("-inf")

    def key(self, chat_id: int) -> int:
        """The chat's row: a keyed hash, positive and never 0 (the global row)."""
        return int(self._hash(str(chat_id))[:15], 16) + 1

    async def claim(self, chats: Sequence[int], now: float) -> list[Grant]:
        """Book a slot for a send to each chat (in order); one grant per chat given."""
        if not chats:
            return []
        keys = [self.key(chat) for chat in chats]
        ordered = sorted({GLOBAL, *keys})
        async with transaction(self._sessions) as session:
            insert = insert_for(session)(_table)
            lock = insert.values(
                [{"key": key, "next_at": now if key == GLOBAL else 0.0} for key in ordered]
            )
            # A no-op update locks existing rows and returns them, in key order.
            lock = lock.on_conflict_do_update(
                index_elements=[_table.c.key], set_={"key": lock.excluded.key}
            ).returning(_table.c.key, _table.c.next_at, _table.c.recent)
            rows = (await session.execute(lock)).all()
            state = {row.key: (float(row.next_at), list(row.recent or ())) for row in rows}
            grants, changed = self._book(chats, keys, state, now)
            if changed:
                update = (
                    _table.update()
                    .where(_table.c.key == bindparam("row_key"))
                    .values(next_at=bindparam("row_next"), recent=bindparam("row_recent"))
                )
                values = [
                    {"row_key": key, "row_next": state[key][0], "row_recent": state[key][1] or None}
                    for key in sorted(changed)
                ]
                await (await session.connection()).execute(update, values)
            if now - self._pruned_at >= _PRUNE_EVERY:
                self._pruned_at = now
                memory = max(self.limits.group_window, self.limits.per_chat_interval)
                await session.execute(
                    delete(_table).where(_table.c.key != GLOBAL, _table.c.next_at < now - memory)
                )
        return grants

    def _book(
        self,
        chats: Sequence[int],
        keys: Sequence[int],
        state: dict[int, tuple[float, list[float]]],
        now: float,
    ) -> tuple[list[Grant], set[int]]:
        limits = self.limits
        spacing = 1.0 / limits.rate
        slot = max(state[GLOBAL][0], now)
        grants: list[Grant] = []
        changed: set[int] = set()
        for chat, key in zip(chats, keys, strict=True):
            next_at, recent = state[key]
            group = is_group(chat)
            if group:
                full = len(recent) >= limits.group_per_minute
                ready = recent[-limits.group_per_minute] + limits.group_window if full else 0.0
            else:
                ready = next_at
            if ready > slot:
                grants.append(Grant(None, ready))  # busy: the overall slot goes to the next
                continue
            grants.append(Grant(slot))
            if group:
                state[key] = (slot, [*recent, slot][-limits.group_per_minute :])
            else:
                state[key] = (slot + limits.per_chat_interval, [])
            changed.add(key)
            slot += spacing
        if changed:
            state[GLOBAL] = (slot, [])
            changed.add(GLOBAL)
        return grants, changed

    async def pause(self, until: float) -> None:
        """Nothing new is booked before ``until`` (a 429's ``retry_after``), for every instance."""
        async with transaction(self._sessions) as session:
            insert = insert_for(session)(_table).values(key=GLOBAL, next_at=until)
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=[_table.c.key],
                    set_={"next_at": _greatest(_table.c.next_at, insert.excluded.next_at)},
                )
            )

    async def next_slot(self) -> float | None:
        """The next free overall slot (for tests and the benchmark)."""
        async with self._sessions() as session:
            row = await session.get(SendBudgetRow, GLOBAL)
            return None if row is None else float(row.next_at)


def _greatest(a: ColumnElement[float], b: ColumnElement[float]) -> ColumnElement[float]:
    return case((a < b, b), else_=a)
