"""The record of every Bot API call a bot made, and the counters behind the diagnostics panel.

Tests assert on what the bot *did* (which methods, with which parameters, how
often it was throttled), and the driver's default settling waits until the bot
has stopped calling; both read from here. File contents are never stored in the
log, only their name and size.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.notify import Notifier

# Calls that mean "the bot is waiting for work", not "the bot is working".
IDLE_METHODS = frozenset({"getupdates"})


@dataclass
class CallRecord:
    """One finished (or abandoned) Bot API request."""

    seq: int
    bot_id: int
    method: str
    params: dict[str, Any]
    time: float
    duration: float = 0.0
    status: int = 0
    description: str | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "bot_id": self.bot_id,
            "method": self.method,
            "params": self.params,
            "time": self.time,
            "duration": round(self.duration, 6),
            "status": self.status,
            "ok": self.ok,
            "description": self.description,
            "fault": self.fault,
        }


@dataclass
class _Activity:
    """What one bot is doing right now, for idle detection."""

    in_flight: int = 0
    last_change: float = field(default_factory=time.monotonic)


class CallLog:
    """Bounded call history plus never-reset-by-paging counters."""

    def __init__(self, maxlen: int = 10000) -> None:
        self._records: deque[CallRecord] = deque(maxlen=maxlen)
        self._seq = 0
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.total = 0
        self.rate_limited = 0
        self.faults_injected = 0
        self._activity: dict[int, _Activity] = {}
        self._notifier = Notifier()

    def begin(self, bot_id: int, method: str, params: dict[str, Any]) -> CallRecord:
        """Open a record when a request arrives (before any delay or processing).

        Its ``seq`` is given when it finishes, so the log is in finishing order and a
        reader paging with ``after=<last seq>`` never skips a long call that ends late.
        """
        record = CallRecord(0, bot_id, method, params, time.time())
        if method.lower() not in IDLE_METHODS:
            activity = self._activity.setdefault(bot_id, _Activity())
            activity.in_flight += 1
            activity.last_change = time.monotonic()
            self._notifier.notify()
        return record

    def finish(
        self,
        record: CallRecord,
        status: int,
        description: str | None,
        *,
        fault: str | None = None,
    ) -> None:
        """Close a record with the HTTP status actually sent (499 if the client left)."""
        self._seq += 1
        record.seq = self._seq
        record.duration = time.time() - record.time
        record.status = status
        record.description = description
        record.fault = fault
        self._records.append(record)
        self.total += 1
        self.by_method[record.method] += 1
        self.by_status[status] += 1
        if status == 429:
            self.rate_limited += 1
        if fault is not None:
            self.faults_injected += 1
        if record.method.lower() not in IDLE_METHODS:
            activity = self._activity.setdefault(record.bot_id, _Activity())
            activity.in_flight = max(0, activity.in_flight - 1)
            activity.last_change = time.monotonic()
        self._notifier.notify()

    def page(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        method: str | None = None,
        bot_id: int | None = None,
        exclude: frozenset[str] = frozenset(),
        newest: bool = False,
    ) -> list[CallRecord]:
        """Records with ``seq > after`` in the order they finished, optionally filtered.

        ``exclude`` names methods to leave out (lower case), e.g. the endless
        ``getupdates`` of a polling bot; ``newest`` keeps the last ``limit``
        records instead of the first, for a panel that shows what just happened.
        """
        wanted = method.lower() if method else None
        found: list[CallRecord] = []
        for record in self._records:
            if record.seq <= after:
                continue
            name = record.method.lower()
            if (wanted is not None and name != wanted) or name in exclude:
                continue
            if bot_id is not None and record.bot_id != bot_id:
                continue
            found.append(record)
            if len(found) >= limit and not newest:
                break
        return found[-limit:] if newest else found

    def stats(self) -> dict[str, Any]:
        """Counters for the diagnostics panel."""
        return {
            "total": self.total,
            "rate_limited": self.rate_limited,
            "faults_injected": self.faults_injected,
            "by_method": dict(self.by_method),
            "by_status": {str(code): count for code, count in self.by_status.items()},
            "in_flight": {str(bot): a.in_flight for bot, a in self._activity.items()},
        }

    async def wait_idle(self, bot_id: int, quiet: float, max_wait: float) -> bool:
        """Wait until the bot has no call in flight and started none for ``quiet`` seconds.

        Long polls do not count as activity. Returns False if ``max_wait`` passes first.
        """
        deadline = time.monotonic() + max_wait
        while True:
            activity = self._activity.setdefault(bot_id, _Activity())
            now = time.monotonic()
            idle_for = now - activity.last_change
            if activity.in_flight == 0 and idle_for >= quiet:
                return True
            remaining = deadline - now
            if remaining <= 0:
                return False
            step = remaining if activity.in_flight else min(remaining, quiet - idle_for)
            await self._notifier.wait(step)

    def clear(self) -> None:
        """Forget history and counters (in-flight tracking stays accurate)."""
        self._records.clear()
        self.by_method.clear()
        self.by_status.clear()
        self.total = 0
        self.rate_limited = 0
        self.faults_injected = 0

    def close(self) -> None:
        self._notifier.notify()
