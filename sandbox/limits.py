"""Telegram's flood limits and injected faults, both adjustable while the server runs.

Rate limits
-----------
Telegram documents three limits: about 30 messages per second overall, about one
message per second in one chat, and 20 messages per minute in one group. It
tolerates short bursts. The sandbox models each limit as a token bucket (the
continuous form of a sliding window):

* overall: capacity ``global_rate``, refilled at ``global_rate`` per second;
* a private chat: capacity ``per_chat_burst`` (default 3), refilled at
  ``per_chat_rate`` per second, so a reply plus a menu is fine but a loop is not;
* a group: capacity ``group_per_minute``, refilled at ``group_per_minute / 60``
  per second (groups are limited by this bucket only, as PTB's limiter assumes).

Buckets were chosen over fixed windows because every sender that obeys a leaky
bucket of the same size (python-telegram-bot's ``AIORateLimiter`` uses exactly
that) is always accepted, while a loop that ignores the limits is refused. Only
methods that post messages count (``send*`` except ``sendChatAction``,
``copyMessage``, ``forwardMessage``); edits count toward their chat's bucket but
not the overall one. A refused request consumes nothing and gets
``429 Too Many Requests: retry after N`` with ``parameters.retry_after`` = the whole
seconds until it would fit (at least 1).

Faults
------
Rules that make the next matching call(s) fail with a chosen status, answer
slowly, or drop the connection without an answer. A rule without a method
matches every method except ``getUpdates`` (so a polling bot does not swallow a
fault meant for its replies); name ``getUpdates`` explicitly to disturb polling.
A delay or a drop either happens before processing (a client that gives up
leaves nothing behind) or after it (the work is done but the answer arrives late
or never, the classic cause of duplicate sends).

A rule may fire on only a share of the calls it matches (``rate``, 0 to 1), as a
flaky network does; the draw comes from the rule's own generator seeded by
``seed`` (default: the rule's id), so a run with the same rules and the same
calls fails the same calls. ``count`` then counts the calls it fired on.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.errors import ApiError, too_many_requests

SENDING_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendvoice",
        "sendaudio",
        "sendvideo",
        "sendanimation",
        "sendsticker",
        "sendmediagroup",
        "sendpoll",
        "sendlocation",
        "sendcontact",
        "copymessage",
        "forwardmessage",
    }
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected fault",
    401: "Unauthorized",
    403: "Forbidden: injected fault",
    404: "Not Found",
    409: "Conflict: injected fault",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class LimitSettings:
    """The limits in force; ``enforce`` switches all of them on or off."""

    enforce: bool = False
    global_rate: float = 30.0
    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    group_per_minute: int = 20

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Bucket:
    """Token bucket stored as its current fill level (tokens in use)."""

    capacity: float
    rate: float
    level: float = 0.0
    stamp: float = 0.0

    def fill(self, now: float) -> float:
        elapsed = max(0.0, now - self.stamp)
        self.level = max(0.0, self.level - elapsed * self.rate)
        self.stamp = max(self.stamp, now)
        return self.level

    def wait(self, now: float) -> float:
        """Seconds until one more message fits (0 if it fits now)."""
        over = self.fill(now) + 1.0 - self.capacity
        return 0.0 if over <= 1e-9 else over / self.rate

    def take(self, now: float) -> None:
        self.fill(now)
        self.level += 1.0


class RateLimiter:
    """Per-bot overall, per-chat and per-group buckets."""

    def __init__(
        self, settings: LimitSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._buckets: dict[tuple[int, str | int], _Bucket] = {}

    def configure(self, **changes: Any) -> LimitSettings:
        """Change settings (unknown names are an error) and start with empty buckets."""
        for name, value in changes.items():
            if not hasattr(self.settings, name):
                raise ValueError(f"unknown limit setting {name!r}")
            current = getattr(self.settings, name)
            setattr(self.settings, name, type(current)(value))
        self._buckets.clear()
        return self.settings

    def _bucket(self, bot_id: int, key: str | int, capacity: float, rate: float) -> _Bucket:
        bucket = self._buckets.get((bot_id, key))
        if bucket is None:
            bucket = _Bucket(capacity=capacity, rate=rate, stamp=self._clock())
            self._buckets[(bot_id, key)] = bucket
        return bucket

    def _applicable(self, bot_id: int, chat_id: int, count_global: bool) -> list[_Bucket]:
        s = self.settings
        buckets = []
        if count_global:
            buckets.append(self._bucket(bot_id, "global", s.global_rate, s.global_rate))
        if chat_id < 0:
            per_minute = float(s.group_per_minute)
            buckets.append(self._bucket(bot_id, chat_id, per_minute, per_minute / 60.0))
        else:
            burst = float(max(1, s.per_chat_burst))
            buckets.append(self._bucket(bot_id, chat_id, burst, s.per_chat_rate))
        return buckets

    def check(self, bot_id: int, chat_id: int, *, count_global: bool = True) -> None:
        """Count one message to ``chat_id`` or raise the 429 Telegram would send."""
        if not self.settings.enforce:
            return
        buckets = self._applicable(bot_id, chat_id, count_global)
        now = self._clock()
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.take(now)

    def snapshot(self) -> dict[str, Any]:
        """Current fill of every bucket, fullest first, for the diagnostics panel."""
        now = self._clock()
        rows: list[dict[str, Any]] = []
        for (bot_id, key), bucket in self._buckets.items():
            level = bucket.fill(now)
            rows.append(
                {
                    "bot_id": bot_id,
                    "scope": "global" if key == "global" else "chat",
                    "chat_id": None if key == "global" else key,
                    "used": round(level, 3),
                    "capacity": bucket.capacity,
                    "fill": round(level / bucket.capacity, 3) if bucket.capacity else 0.0,
                }
            )
        rows.sort(key=lambda row: row["fill"], reverse=True)
        return {"settings": self.settings.to_json(), "buckets": rows}

    def reset(self) -> None:
        self._buckets.clear()


@dataclass
class FaultRule:
    """One injected fault: ``fail`` answers with an error, ``delay`` answers slowly."""

    id: int
    kind: str
    method: str | None = None
    remaining: int | None = 1
    status: int = 500
    description: str | None = None
    retry_after: int | None = None
    seconds: float = 0.0
    phase: str = "before"
    rate: float = 1.0
    seed: int | None = None
    fired: int = field(default=0)
    _draws: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._draws = random.Random(self.id if self.seed is None else self.seed)

    def fires(self) -> bool:
        """Whether this matching call is one the rule disturbs (always, at rate 1)."""
        return self.rate >= 1.0 or self._draws.random() < self.rate

    def matches(self, method: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is None:
            return method.lower() != "getupdates"
        return self.method.lower() == method.lower()

    def error(self) -> ApiError:
        if self.status == 429:
            return too_many_requests(self.retry_after or 1)
        description = self.description or _DEFAULT_DESCRIPTIONS.get(
            self.status, f"Injected error {self.status}"
        )
        return ApiError(self.status, description, retry_after=self.retry_after)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


@dataclass(frozen=True)
class Triggered:
    """What the rules do to one call: fail it, delay it, drop its connection."""

    failure: FaultRule | None = None
    before: float = 0.0
    after: float = 0.0
    drop: str | None = None  # "before" or "after" the method runs
    dropped_by: FaultRule | None = None


def _check_share(rate: float, phase: str) -> None:
    if not 0.0 < rate <= 1.0:
        raise ValueError("rate must be more than 0 and at most 1")
    if phase not in ("before", "after"):
        raise ValueError("phase must be 'before' or 'after'")


class FaultInjector:
    """The list of active fault rules, consumed in the order they were added."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._next_id = 1

    def _add(self, rule_kwargs: dict[str, Any]) -> FaultRule:
        rule = FaultRule(id=self._next_id, **rule_kwargs)
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def fail_next(
        self,
        method: str | None = None,
        status: int = 500,
        count: int | None = 1,
        retry_after: int | None = None,
        description: str | None = None,
        rate: float = 1.0,
        seed: int | None = None,
    ) -> FaultRule:
        """Make the next ``count`` matching calls (None: all) fail with ``status``."""
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error code (400-599)")
        _check_share(rate, "before")
        return self._add(
            {
                "kind": "fail",
                "method": method,
                "remaining": count,
                "status": status,
                "description": description,
                "retry_after": retry_after,
                "rate": rate,
                "seed": seed,
            }
        )

    def delay(
        self,
        method: str | None = None,
        seconds: float = 1.0,
        count: int | None = 1,
        phase: str = "before",
        rate: float = 1.0,
        seed: int | None = None,
    ) -> FaultRule:
        """Answer the next ``count`` matching calls (None: all) ``seconds`` late."""
        _check_share(rate, phase)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        return self._add(
            {
                "kind": "delay",
                "method": method,
                "remaining": count,
                "seconds": seconds,
                "phase": phase,
                "rate": rate,
                "seed": seed,
            }
        )

    def drop(
        self,
        method: str | None = None,
        count: int | None = 1,
        phase: str = "before",
        rate: float = 1.0,
        seed: int | None = None,
    ) -> FaultRule:
        """Close the connection of the next ``count`` matching calls without an answer.

        ``phase="after"``: the method ran (a message was sent), only the answer is lost.
        """
        _check_share(rate, phase)
        return self._add(
            {
                "kind": "drop",
                "method": method,
                "remaining": count,
                "phase": phase,
                "rate": rate,
                "seed": seed,
            }
        )

    def take(self, method: str) -> Triggered:
        """Consume the rules a call triggers: at most one failure or drop, and delays."""
        failure: FaultRule | None = None
        dropped_by: FaultRule | None = None
        before = after = 0.0
        for rule in self.rules:
            if not rule.matches(method):
                continue
            ending = rule.kind in ("fail", "drop")
            if ending and (failure is not None or dropped_by is not None):
                continue
            if not rule.fires():
                continue
            if rule.kind == "fail":
                failure = rule
            elif rule.kind == "drop":
                dropped_by = rule
            elif rule.phase == "before":
                before += rule.seconds
            else:
                after += rule.seconds
            rule.fired += 1
            if rule.remaining is not None:
                rule.remaining -= 1
        self.rules = [r for r in self.rules if r.remaining is None or r.remaining > 0]
        return Triggered(
            failure=failure,
            before=before,
            after=after,
            drop=dropped_by.phase if dropped_by is not None else None,
            dropped_by=dropped_by,
        )

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in self.rules]
