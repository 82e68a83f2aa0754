"""What the bot counts for `/metrics`: one :class:`Metrics` per Application, in the runtime.

A registry of its own (not prometheus-client's global default), so several bots
in one process — the tests, the demo — count apart and never collide on a name.
Recorded by the layers that see each event: the bot (updates, by the feature
whose handler took them, `bot.metrics`), the delivery worker (outcomes, 429s),
the job queue (runs and failures); read by `bot.health` at scrape time, which
also fills the gauges that come from the database (outbox depth, conversations).

Labels are a bounded set of names from the code — a feature, a job, an outcome,
a status — never a user id, a chat id or any text: `LABELS` lists every label
name there is, and `tests/test_metrics.py` checks each value against it.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Buckets for work a member waits for: a reply is good under 0.25 s, bad over 2 s.
_UPDATE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# Telegram dates messages to the second: how long ago a member sent what we start now.
_AGE_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)

# Every label name a series of ours may carry; values are code names (see module doc).
LABELS = frozenset({"handler", "outcome", "source", "job", "status"})

# The feature label of an update no handler took, and of one only the guards answered.
UNHANDLED = "none"
GUARDS = "guards"


@dataclass
class JobRun:
    """One run of a scheduled job, as the job queue measures it (`bot.metrics`)."""

    failed: bool = False


# The job run the current task belongs to, so a job that catches its own errors can
# mark its run failed without naming itself (`Metrics.job_run_failed`).
_RUN: ContextVar[JobRun | None] = ContextVar("union_bot_job_run", default=None)


def begin_job_run() -> tuple[JobRun, Token[JobRun | None]]:
    run = JobRun()
    return run, _RUN.set(run)


def end_job_run(token: Token[JobRun | None]) -> None:
    _RUN.reset(token)


@dataclass
class _InFlight:
    """One update being handled: since when (monotonic), which features' handlers ran."""

    started: float
    features: list[str] = field(default_factory=list)
    failed: bool = False

    def handler(self) -> str:
        """The feature that answered: the last one that ran, the guards only if alone."""
        named = [f for f in self.features if f != GUARDS]
        if named:
            return named[-1]
        return GUARDS if self.features else UNHANDLED


class Metrics:
    """The bot's series, on a registry of this instance's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "union_bot_updates",
            "Updates handled, by the feature whose handler took them and how it ended.",
            ["handler", "outcome"],
            registry=r,
        )
        self.update_seconds = Histogram(
            "union_bot_update_seconds",
            "Time from the first handler starting an update to its state being saved.",
            ["handler"],
            buckets=_UPDATE_BUCKETS,
            registry=r,
        )
        self.update_age = Histogram(
            "union_bot_update_age_seconds",
            "How long before the bot started on a message Telegram dated it (bot clock).",
            buckets=_AGE_BUCKETS,
            registry=r,
        )
        self.updates_in_progress = Gauge(
            "union_bot_updates_in_progress", "Updates being handled right now.", registry=r
        )
        self.deliveries = Counter(
            "union_bot_deliveries",
            "Outbox rows settled by this instance's delivery worker, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.rate_limited = Counter(
            "union_bot_telegram_rate_limited",
            "Answers 429 (retry after) from Telegram: delivery worker or interactive replies.",
            ["source"],
            registry=r,
        )
        self.reply_slots = Counter(
            "union_bot_reply_slots",
            "Messages replies to members posted: `booked` in the bot's sending budget, "
            "or `unbooked` (the budget's database did not answer in time).",
            ["outcome"],
            registry=r,
        )
        self.job_runs = Counter(
            "union_bot_job_runs", "Runs of scheduled jobs, by job.", ["job"], registry=r
        )
        self.job_failures = Counter(
            "union_bot_job_failures", "Scheduled job runs that failed, by job.", ["job"], registry=r
        )
        self.job_seconds = Histogram(
            "union_bot_job_seconds",
            "Time one run of a scheduled job took, by job.",
            ["job"],
            buckets=_JOB_BUCKETS,
            registry=r,
        )
        # Filled from the database at scrape time (`bot.health`).
        self.outbox_rows = Gauge(
            "union_bot_outbox_rows",
            "Outbox rows not yet settled, by status (pending, claimed, sending); all instances.",
            ["status"],
            registry=r,
        )
        self.outbox_lag = Gauge(
            "union_bot_outbox_lag_seconds",
            "Age of the oldest due pending notice (a reply to a member, a relay), 0 if none.",
            registry=r,
        )
        self.outbox_bulk_lag = Gauge(
            "union_bot_outbox_bulk_lag_seconds",
            "Age of the oldest due pending row of any kind (broadcasts included), 0 if none.",
            registry=r,
        )
        self.conversations = Gauge(
            "union_bot_conversation_rows",
            "Stored conversation rows not yet expired (a step, or a member's drafts); "
            "all instances.",
            registry=r,
        )
        self.database_up = Gauge(
            "union_bot_database_up", "1 when the last check reached the database.", registry=r
        )
        self.delivery_up = Gauge(
            "union_bot_delivery_worker_up",
            "1 when this instance's delivery worker runs (0 also when disabled).",
            registry=r,
        )
        self.update_lag = Gauge(
            "union_bot_update_lag_seconds",
            "How long the oldest update still being handled has been at it, 0 if none.",
            registry=r,
        )
        self._in_flight: dict[int, _InFlight] = {}

    # ------------------------------------------------------------------ updates

    def update_started(self, key: int) -> None:
        """The first handler group reached the update (``key``: the update object's id)."""
        if key not in self._in_flight:
            self._in_flight[key] = _InFlight(time.perf_counter())
            self.updates_in_progress.inc()

    def handled_by(self, key: int, feature: str) -> None:
        entry = self._in_flight.get(key)
        if entry is not None:
            entry.features.append(feature)

    def update_failed(self, key: int) -> None:
        entry = self._in_flight.get(key)
        if entry is not None:
            entry.failed = True

    def update_finished(self, key: int) -> None:
        """Saved and done: count it under its feature, with the time it took."""
        entry = self._in_flight.pop(key, None)
        if entry is None:
            return
        self.updates_in_progress.dec()
        handler = entry.handler()
        self.updates.labels(handler, "error" if entry.failed else "ok").inc()
        self.update_seconds.labels(handler).observe(time.perf_counter() - entry.started)

    def oldest_update_seconds(self) -> float:
        """How long the oldest update in hand has been handled (0: none in hand)."""
        if not self._in_flight:
            return 0.0
        oldest = min(entry.started for entry in self._in_flight.values())
        return max(0.0, time.perf_counter() - oldest)

    # ------------------------------------------------------------------ delivery and jobs

    def delivered(self, outcome: str) -> None:
        self.deliveries.labels(outcome).inc()

    def rate_limit(self, source: str) -> None:
        self.rate_limited.labels(source).inc()

    def reply_slot(self, *, booked: bool, count: int = 1) -> None:
        self.reply_slots.labels("booked" if booked else "unbooked").inc(count)

    def job_ran(self, job: str, seconds: float, *, failed: bool) -> None:
        self.job_runs.labels(job).inc()
        self.job_seconds.labels(job).observe(seconds)
        if failed:
            self.job_failures.labels(job).inc()

    @staticmethod
    def job_run_failed() -> None:
        """The running job caught a failure and logged it itself: count this run as failed.

        For jobs that keep going on their schedule after an error instead of raising
        (`jobs.broadcasts`, `jobs.grievances`); outside a measured run it does nothing.
        """
        run = _RUN.get()
        if run is not None:
            run.failed = True

    # ------------------------------------------------------------------ exposition

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        self.update_lag.set(self.oldest_update_seconds())
        return generate_latest(self.registry)
