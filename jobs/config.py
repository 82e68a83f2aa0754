"""How the delivery worker paces, batches and retries: one value shared by its parts.

Its own module so that the worker (`jobs.delivery`), the rules for Telegram's
answers (`jobs.outcomes`) and the sender (`jobs.sender`) all read it without
importing each other in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from storage.broadcasts import KIND as BROADCAST_KIND

if TYPE_CHECKING:
    from core.settings import Settings


@dataclass(frozen=True)
class DeliveryConfig:
    """How the worker paces, batches and retries (all from settings in production)."""

    # Messages per second the whole bot's deliveries share (TELEGRAM_RATE less
    # TELEGRAM_REPLY_RESERVE): in process on SQLite, in the database on PostgreSQL.
    rate: float = 25.0
    # DELIVERY_RATE: this instance's own cap, if any.
    instance_rate: float | None = None
    # TELEGRAM_RATE: the whole bot's, replies to members included (None: ``rate``).
    total_rate: float | None = None
    # Deliveries book their slots at most this far ahead, so a reply to a member,
    # booked in the same budget, waits no longer behind a broadcast.
    lookahead: float = 0.5
    batch: int = 50
    concurrency: int = 16
    max_attempts: int = 8
    poll: float = 5.0
    lease: float = 60.0
    request_timeout: float = 15.0
    backoff_base: float = 5.0
    backoff_max: float = 900.0
    per_chat_interval: float = 1.0
    # Seconds between two sends of one outbox kind (the demo paces broadcasts).
    kind_interval: tuple[tuple[str, float], ...] = ()
    group_per_minute: int = 20
    group_window: float = 60.0  # the "minute" of group_per_minute; tests scale it down
    # REPLY_CHAT_BURST: replies to a member may go this many at once into the chat; the
    # deliveries to that chat wait until the burst has refilled.
    reply_chat_burst: int = 3
    # Outcomes are written together after this long (or sooner when many wait):
    # one transaction per few messages instead of one each.
    record_delay: float = 0.2
    # Start marks wait this long for company unless a quarter of the connection
    # slots already wait: at high rates many rows share one commit (a commit costs
    # about as much CPU as 10 sends), and a request is delayed 20 ms at most.
    start_delay: float = 0.02

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        return cls(
            rate=settings.delivery_budget,
            instance_rate=settings.delivery_rate,
            total_rate=settings.telegram_rate,
            batch=settings.delivery_batch,
            concurrency=settings.delivery_concurrency,
            max_attempts=settings.delivery_max_attempts,
            poll=settings.delivery_poll_seconds,
            lease=settings.delivery_lease_seconds,
            reply_chat_burst=settings.reply_chat_burst,
            request_timeout=settings.delivery_timeout_seconds,
            kind_interval=(
                ((BROADCAST_KIND, settings.delivery_broadcast_interval),)
                if settings.delivery_broadcast_interval > 0
                else ()
            ),
        )

    @property
    def local_rate(self) -> float:
        """What one instance sends at most per second: the budget, or its cap if lower."""
        if self.instance_rate is None:
            return self.rate
        return min(self.rate, self.instance_rate)

    def backoff(self, attempt: int) -> timedelta:
        """Wait before retry number ``attempt`` (1-based): base·2^(n-1), capped."""
        seconds = min(self.backoff_max, self.backoff_base * 2 ** max(0, attempt - 1))
        return timedelta(seconds=seconds)
