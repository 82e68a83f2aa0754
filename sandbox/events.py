"""The event log: everything visible that happens in the world, numbered in order.

The driver waits on it instead of sleeping, and the web chat follows it (long poll
or server-sent events) to redraw. Old events are forgotten past a fixed count so a
long demo session does not grow without bound; sequence numbers never restart.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.notify import Notifier

EVENT_TYPES = frozenset(
    {
        "message",
        "edit",
        "delete",
        "action",
        "callback",
        "callback_answer",
        "keyboard",
        "member",
        "commands",
        "pin",
        "call",
        "webhook",
        "reset",
    }
)
# Events that leave nothing lasting behind: a saver need not write the world for them.
TRANSIENT_EVENT_TYPES = frozenset({"call", "action"})


@dataclass
class Event:
    """One thing that happened; ``data`` always carries ``chat_id`` (None if no chat)."""

    seq: int
    type: str
    time: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "time": self.time, **self.data}


class EventLog:
    """Append-only, bounded list of events with long-poll waiting."""

    def __init__(self, maxlen: int = 20000) -> None:
        self._events: deque[Event] = deque(maxlen=maxlen)
        self._seq = 0
        self._state_seq = 0
        self._notifier = Notifier()
        self.closed = False

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def last_state_seq(self) -> int:
        """The last event that changed lasting state (not a call or a chat action).

        The state saver compares it with what it wrote last, so an idle world is
        never rewritten and a busy one is written soon after it changes.
        """
        return self._state_seq

    def continue_from(self, seq: int) -> None:
        """Number new events after ``seq``: a reloaded world keeps its followers' place.

        A page that reconnects with ``Last-Event-ID`` after a restart then gets the
        new events instead of waiting for numbers it has already seen.
        """
        self._seq = max(self._seq, seq)

    def emit(self, type_: str, chat_id: int | None = None, **data: Any) -> Event:
        """Record an event and wake everyone waiting for news."""
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type_!r}")
        self._seq += 1
        event = Event(self._seq, type_, time.time(), {"chat_id": chat_id, **data})
        self._events.append(event)
        if type_ not in TRANSIENT_EVENT_TYPES:
            self._state_seq = self._seq
        self._notifier.notify()
        return event

    def since(
        self,
        after: int,
        *,
        types: frozenset[str] | None = None,
        chat_id: int | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Events with ``seq > after``, optionally only some types or one chat."""
        found: list[Event] = []
        for event in self._events:
            if event.seq <= after:
                continue
            if types is not None and event.type not in types:
                continue
            if chat_id is not None and event.data.get("chat_id") != chat_id:
                continue
            found.append(event)
            if len(found) >= limit:
                break
        return found

    def oldest_seq(self) -> int:
        """Sequence number of the oldest event still kept (0 if none)."""
        return self._events[0].seq if self._events else 0

    async def wait(
        self,
        after: int,
        max_wait: float,
        *,
        types: frozenset[str] | None = None,
        chat_id: int | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Return matching events after ``after``, waiting up to ``max_wait`` for the first."""
        loop_deadline = time.monotonic() + max(0.0, max_wait)
        while True:
            found = self.since(after, types=types, chat_id=chat_id, limit=limit)
            remaining = loop_deadline - time.monotonic()
            if found or self.closed or remaining <= 0:
                return found
            await self._notifier.wait(remaining)

    def clear(self) -> None:
        """Forget all events; numbering continues so followers never see a seq twice."""
        self._events.clear()

    def close(self) -> None:
        """Release every waiter: the server is stopping."""
        self.closed = True
        self._notifier.notify()
