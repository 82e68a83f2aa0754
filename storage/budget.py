"""Telegram's sending budget, one for the whole bot, in the database every instance shares.

Telegram allows about 30 messages a second to a bot, one a second to one
private chat and 20 a minute to one group, whichever instance sends them. With
one pacer per process, two instances had to split the rate by hand
(``DELIVERY_RATE`` 12 + 12); here the budget is rows of ``send_budget``:

* key 0: ``next_at``, the next free send slot of the whole bot. Slots are
  instants ``1/rate`` apart, handed out in order, so all instances together
  send evenly spaced and never faster than ``rate`` in any window — a
  virtual-clock ("GCRA") token bucket without burst. Deliveries and replies to
  members both take their slots here (:meth:`SendBudget.claim`,
  :meth:`SendBudget.claim_replies`), replies with a short burst;
* key -1: the deliveries' own ``next_at``, ``1/delivery_rate`` apart: what
  the workers of all instances send stays under ``delivery_rate``
  (``TELEGRAM_RATE`` less ``TELEGRAM_REPLY_RESERVE``), so members' replies
  always find room. Deliveries book at most ``lookahead`` seconds ahead, so
  a reply never queues behind more than that of a broadcast;
* a row per chat written to in the last minute, keyed by a keyed hash of the
  chat (never its id): a private chat's next allowed send, a group's sends of
  the last minute (at most ``group_per_minute`` in any 60 s). Replies count
  here as deliveries do — a cadre group hears both the new cases (deliveries)
  and the answers to its cadres (replies), from every instance — though a
  reply may take the chat's short burst, which deliveries leave to it.

:meth:`SendBudget.claim` books slots for many sends at once in one short
transaction: it locks the global row and the chats' rows (created if missing,
locked in key order so two instances never deadlock), computes each send's
slot in Python and writes them back — four round trips (begin, lock, write,
commit) for a whole batch, whatever its size. A send whose chat is still busy
(another instance wrote to it) gets no slot but the time to ask again, so the
overall schedule has no holes.

Times are Unix seconds of the caller's clock: instances must keep their clocks
in step (NTP), as Telegram's own limits assume nothing finer than that.
PostgreSQL only (arrays, ``GREATEST``): SQLite is one instance by construction and
paces in process (`jobs.pacing.Pacer`), leaving the table empty.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.crypto import KeyedHasher
from storage.outbox import PSEUDONYM_BASE

GLOBAL = 0
DELIVERIES = -1  # never a chat's key: those are positive
# How far ahead of the schedule replies may go: a short burst (6 messages at 30/s), as
# Telegram's own bucket takes. Without it, two members answered within 1/30 s of each
# other had the second wait for its slot (+33 ms on the p99 of `/help`).
REPLY_BURST = 0.2


def reply_schedule(
    next_at: float, now: float, count: int, spacing: float, burst: float = REPLY_BURST
) -> tuple[list[float], float]:
    """Slots for ``count`` reply messages and the schedule's next slot after them.

    The virtual-clock bucket with a burst: a slot may be up to ``burst`` seconds
    ahead of the schedule (never before ``now``), and each slot moves the schedule
    on by ``spacing`` from where it was, so over any span the rate still holds and
    at most ``burst / spacing`` more messages fit in it.
    """
    slots: list[float] = []
    for _ in range(count):
        slot = max(now, next_at - burst)
        slots.append(slot)
        next_at = max(next_at, slot) + spacing
    return slots, next_at


def group_ready(recent: Sequence[float], per_minute: int, window: float) -> float:
    """When a group may take its next message: ``recent`` holds its last sends, oldest
    first; with ``per_minute`` of them in the window, when the oldest leaves it."""
    return recent[-per_minute] + window if len(recent) >= per_minute else float("-inf")


def chat_burst_slack(burst: int, interval: float) -> float:
    """How far ahead of a private chat's schedule a reply may go: Telegram takes a short
    burst into one chat (``burst`` messages), then one an ``interval``. Deliveries take
    none of it (they go one an interval), so a member's reply never waits behind them."""
    return max(0, burst - 1) * interval


@dataclass(frozen=True)
class ReplyAsk:
    """What one reply to a member books: ``messages`` of the whole bot's rate (an edit
    posts none) and, when ``chat_id`` is set, one send toward that chat's own limit."""

    messages: int
    chat_id: int | None = None


# Chat rows that constrain nothing any more (a minute after the last send) go this often.
_PRUNE_EVERY = 30.0

# Lock (creating if missing) the global row and the chats' rows in key order, so two
# instances never wait on each other in a circle, and read them. The no-op update is
# what locks a row that exists and returns it.
_LOCK = text(
    """
    INSERT INTO send_budget (key, next_at)
    SELECT k, CASE WHEN k <= 0 THEN CAST(:now AS double precision) ELSE 0 END
    FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k
    ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
    RETURNING key, next_at, recent, EXTRACT(EPOCH FROM clock_timestamp())
    """
)
_WRITE = text(
    """
    UPDATE send_budget AS b SET next_at = v.next_at, recent = CAST(v.recent AS json)
    FROM unnest(
        CAST(:keys AS bigint[]), CAST(:nexts AS double precision[]), CAST(:recents AS text[])
    ) AS v(key, next_at, recent)
    WHERE b.key = v.key
    """
)
_PAUSE = text(
    """
    INSERT INTO send_budget (key, next_at) VALUES (0, :until)
    ON CONFLICT (key) DO UPDATE SET next_at = GREATEST(send_budget.next_at, EXCLUDED.next_at)
    """
)
_PRUNE = text("DELETE FROM send_budget WHERE key > 0 AND next_at < :before")


def _times(value: object) -> list[float]:
    """A group's recent sends as stored (JSON; asyncpg hands json over as text)."""
    if value is None:
        return []
    loaded = json.loads(value) if isinstance(value, str) else value
    return [float(t) for t in cast(list[float], loaded)]


@dataclass(frozen=True)
class BudgetLimits:
    """What the whole bot may send: ``rate`` per second overall, and each chat's own limit."""

    rate: float
    per_chat_interval: float = 1.0
    group_per_minute: int = 20
    group_window: float = 60.0  # a minute; tests scale it down
    # What deliveries together may send (the rest of ``rate`` is the replies' reserve);
    # None: all of it.
    delivery_rate: float | None = None
    # How far ahead of now a delivery's slot may be booked (None: any distance).
    lookahead: float | None = None
    # Replies to a member may go this many at once into the chat (REPLY_CHAT_BURST).
    reply_chat_burst: int = 3

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.per_chat_interval < 0 or self.group_per_minute <= 0:
            raise ValueError("rates must be positive")
        if self.delivery_rate is not None and not 0 < self.delivery_rate <= self.rate:
            raise ValueError("the deliveries' rate must be positive and at most the rate")
        if self.lookahead is not None and self.lookahead <= 0:
            raise ValueError("the lookahead must be positive")

    @property
    def deliveries_rate(self) -> float:
        return self.rate if self.delivery_rate is None else self.delivery_rate

    @property
    def reply_chat_slack(self) -> float:
        return chat_burst_slack(self.reply_chat_burst, self.per_chat_interval)


@dataclass(frozen=True)
class Grant:
    """A booked send slot, or (``slot`` None) the next moment worth asking again: the
    chat's next free one, or the lookahead's."""

    slot: float | None
    not_before: float = 0.0


def is_group(chat_id: int) -> bool:
    """Groups have negative ids; outbox pseudonyms (below any id) stand for private chats."""
    return -PSEUDONYM_BASE < chat_id < 0


class SendBudget:
    """The shared budget over one database; safe to use from any number of processes."""

    def __init__(self, engine: AsyncEngine, secret: str | bytes, limits: BudgetLimits) -> None:
        self.limits = limits
        self._engine = engine
        self._hash = KeyedHasher(secret, "send-budget")
        self._pruned_at = float("-inf")
        # The database's clock less the caller's at the last claim (plus a round trip):
        # slots assume the instances' clocks agree, so a large one is worth a warning.
        self.skew = 0.0

    def key(self, chat_id: int) -> int:
        """The chat's row: a keyed hash, positive and never 0 (the global row)."""
        return int(self._hash(str(chat_id))[:15], 16) + 1

    async def claim(self, chats: Sequence[int], now: float) -> list[Grant]:
        """Book a slot for a send to each chat (in order); one grant per chat given."""
        if not chats:
            return []
        keys = [self.key(chat) for chat in chats]
        ordered = sorted({DELIVERIES, GLOBAL, *keys})
        # Core on the engine, not an ORM session, and SQL of one shape whatever the
        # batch (arrays, not N rows of VALUES): prepared once per connection, cheap.
        async with self._engine.begin() as conn:
            rows = (await conn.execute(_LOCK, {"keys": ordered, "now": now})).all()
            state = {int(k): (float(n), _times(r)) for k, n, r, _ in rows}
            self.skew = float(rows[0][3]) - now
            grants, changed = self._book(chats, keys, state, now)
            if changed:
                await self._write(conn, state, changed)
            if now - self._pruned_at >= _PRUNE_EVERY:
                self._pruned_at = now
                memory = max(self.limits.group_window, self.limits.per_chat_interval)
                await conn.execute(_PRUNE, {"before": now - memory})
        return grants

    async def claim_replies(self, asks: Sequence[ReplyAsk], now: float) -> list[Grant]:
        """Book slots for replies to members, in order; one grant per ask.

        A reply takes its messages' slots of the whole bot's rate, a short burst
        allowed (`reply_schedule`), and one send of its chat's limit, which
        every instance's replies and deliveries count: a group's 20 a minute, a
        private chat's burst then one a second. A granted slot is the first of
        the reply's messages (now, for an edit); a reply whose chat has no room
        gets the time to ask again instead and takes no slot. Replies keep no
        lookahead: they are booked as they leave.
        """
        if not asks:
            return []
        chats = [
            None if ask.chat_id is None else (ask.chat_id, self.key(ask.chat_id)) for ask in asks
        ]
        ordered = sorted({GLOBAL, *(chat[1] for chat in chats if chat is not None)})
        async with self._engine.begin() as conn:
            rows = (await conn.execute(_LOCK, {"keys": ordered, "now": now})).all()
            state = {int(k): (float(n), _times(r)) for k, n, r, _ in rows}
            self.skew = float(rows[0][3]) - now
            grants, changed = self._book_replies(asks, chats, state, now)
            await self._write(conn, state, changed)
        return grants

    def _book_replies(
        self,
        asks: Sequence[ReplyAsk],
        chats: Sequence[tuple[int, int] | None],  # (chat, its row's key) of each ask
        state: dict[int, tuple[float, list[float]]],
        now: float,
    ) -> tuple[list[Grant], set[int]]:
        limits = self.limits
        spacing = 1.0 / limits.rate
        overall = state[GLOBAL][0]
        grants: list[Grant] = []
        changed = {GLOBAL}
        for ask, chat in zip(asks, chats, strict=True):
            if chat is not None:
                chat_id, key = chat
                ready = self._chat_ready(chat_id, *state[key], slack=limits.reply_chat_slack)
                if ready > now:
                    grants.append(Grant(None, ready))
                    continue
            slots = [now]
            if ask.messages > 0:
                slots, overall = reply_schedule(overall, now, ask.messages, spacing)
            grants.append(Grant(slots[0]))
            if chat is None:
                continue
            chat_id, key = chat
            next_at, recent = state[key]
            if is_group(chat_id):
                state[key] = (slots[-1], [*recent, *slots][-limits.group_per_minute :])
            else:
                state[key] = (max(next_at, slots[-1]) + limits.per_chat_interval, [])
            changed.add(key)
        state[GLOBAL] = (overall, [])
        return grants, changed

    @staticmethod
    async def _write(
        conn: AsyncConnection, state: dict[int, tuple[float, list[float]]], changed: set[int]
    ) -> None:
        written = sorted(changed)
        await conn.execute(
            _WRITE,
            {
                "keys": written,
                "nexts": [state[k][0] for k in written],
                "recents": [json.dumps(state[k][1]) if state[k][1] else None for k in written],
            },
        )

    def _book(
        self,
        chats: Sequence[int],
        keys: Sequence[int],
        state: dict[int, tuple[float, list[float]]],
        now: float,
    ) -> tuple[list[Grant], set[int]]:
        limits = self.limits
        spacing = 1.0 / limits.rate
        lane_spacing = 1.0 / limits.deliveries_rate
        overall, lane = state[GLOBAL][0], state[DELIVERIES][0]
        horizon = float("inf") if limits.lookahead is None else now + limits.lookahead
        grants: list[Grant] = []
        changed: set[int] = set()
        for chat, key in zip(chats, keys, strict=True):
            slot = max(overall, lane, now)
            if slot > horizon:  # too far ahead: a reply may want the room before then
                grants.append(Grant(None, slot - (horizon - now)))
                continue
            next_at, recent = state[key]
            group = is_group(chat)
            ready = self._chat_ready(chat, next_at, recent)
            if ready > slot:
                grants.append(Grant(None, ready))  # busy: the overall slot goes to the next
                continue
            grants.append(Grant(slot))
            if group:
                state[key] = (slot, [*recent, slot][-limits.group_per_minute :])
            else:
                state[key] = (slot + limits.per_chat_interval, [])
            changed.add(key)
            overall, lane = slot + spacing, slot + lane_spacing
        if changed:
            state[GLOBAL] = (overall, [])
            state[DELIVERIES] = (lane, [])
            changed |= {GLOBAL, DELIVERIES}
        return grants, changed

    def _chat_ready(
        self, chat_id: int, next_at: float, recent: list[float], *, slack: float = 0.0
    ) -> float:
        """When the chat's row lets its next send go: a group's window, a private chat's
        next slot (``slack`` ahead of it for a reply's short burst)."""
        if is_group(chat_id):
            return group_ready(recent, self.limits.group_per_minute, self.limits.group_window)
        return next_at - slack

    async def pause(self, until: float) -> None:
        """Nothing new is booked before ``until`` (a 429's ``retry_after``), for every instance."""
        async with self._engine.begin() as conn:
            await conn.execute(_PAUSE, {"until": until})

    async def next_slot(self) -> float | None:
        """The next free overall slot (for tests)."""
        async with self._engine.connect() as conn:
            found = await conn.scalar(text("SELECT next_at FROM send_budget WHERE key = 0"))
            return None if found is None else float(found)
