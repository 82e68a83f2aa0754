"""Engine and session factory, created once at start and passed along.

Two kinds of unit of work live here:

* :func:`transaction` — commit on success, roll back on any exception. Jobs and
  services use it around database work only, and talk to Telegram after it.
* :func:`unit_of_work` — the same, for an update's handler (`handlers.scope`), with
  one difference: :func:`commit_before_io` (called by the bot's request object
  before any Bot API request leaves the process, `bot.request`) commits what the
  handler did so far and gives the connection back to the pool. The next
  statement begins a new short transaction. So no handler waits for Telegram
  while it holds a connection, a transaction or a row lock — whatever the
  handler is written like.

The pool also records which asyncio task holds each checked-out connection
(:func:`connections_held_here`), so the request object can check the rule
instead of trusting it.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Result, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session

from storage import sqlite_driver

# Defaults of `core.settings` (DATABASE_POOL_SIZE, …), repeated for scripts and tests.
POOL_SIZE = 10
MAX_OVERFLOW = 10
POOL_TIMEOUT = 30.0
LOCK_TIMEOUT = 30.0
SQLITE_CACHE_KIB = 512  # each SQLite connection's page cache (see _sqlite_pragmas)


def make_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    pool_timeout: float = POOL_TIMEOUT,
    lock_timeout: float = LOCK_TIMEOUT,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine tuned for the embedded SQLite default or for PostgreSQL.

    ``pool_size`` + ``max_overflow`` connections at most; a handler waits up to
    ``pool_timeout`` seconds for one. ``lock_timeout`` bounds a wait for a row
    lock (PostgreSQL ``lock_timeout``) or for SQLite's write lock (``busy_timeout``).
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("pool_size", pool_size)
            kwargs.setdefault("max_overflow", max_overflow)
            kwargs.setdefault("pool_timeout", pool_timeout)
        if url.startswith("sqlite+aiosqlite"):
            # A statement is one hop to aiosqlite's thread, a commit with nothing to
            # commit none (`storage.sqlite_driver`).
            module = sqlite_driver.dbapi()
            if module is not None:
                kwargs.setdefault("module", module)
        engine = create_async_engine(url, connect_args={"timeout": lock_timeout}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(lock_timeout))
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", max_overflow)
        kwargs.setdefault("pool_timeout", pool_timeout)
        server_settings = {"lock_timeout": str(int(lock_timeout * 1000))}
        kwargs.setdefault("connect_args", {"server_settings": server_settings})
        engine = create_async_engine(url, **kwargs)
    _track_owners(engine)
    return engine


def _sqlite_pragmas(lock_timeout: float) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run beside the single writer; foreign keys are off by
        # default in SQLite and the cascades of /forget depend on them.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # What /forget deletes is overwritten with zeros, not left in free pages for
        # a copy of the file to read back.
        cursor.execute("PRAGMA secure_delete=ON")
        # Each connection keeps its own page cache, 2 MiB by default: with the pool's
        # 20 connections warm, 40 MiB of the bot's memory holding copies of pages the
        # system's file cache holds anyway. 12 /report at 100,000 members on 10
        # connections in turn: +45 MiB resident at 2 MiB, +30 at 512 KiB, no slower.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    return pragmas


async def checkpoint(engine: AsyncEngine) -> bool:
    """SQLite: copy the write-ahead log into the database and empty it, so old page
    images (a member's row before /forget) do not linger in ``-wal``. A no-op on
    PostgreSQL, whose dumps never hold deleted rows. True if the log was emptied."""
    if engine.dialect.name != "sqlite":
        return True
    async with engine.connect() as connection:
        busy = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()[0]
    return not busy


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched.

    `AsyncSession.execute` is typed as returning a `Result`; for those statements
    it is a `CursorResult`, the one that carries ``rowcount``.
    """
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The INSERT construct with ON CONFLICT for this database (both spell it alike)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_for(session: AsyncSession) -> Callable[..., Any]:
    """:func:`dialect_insert` for the database the session is bound to."""
    return dialect_insert(session.bind.dialect.name if session.bind is not None else "sqlite")


def _job_key(job: str) -> int:
    digest = hashlib.sha256(f"job\x00{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def claim_long_run(engine: AsyncEngine, job: str) -> AsyncIterator[bool]:
    """:func:`claim_run` for work that must not sit in a transaction: one instance at a
    time through a session-level advisory lock, on a connection of its own, outside
    any transaction, until the block ends.

    For a job that builds something slow between two transactions (the monthly
    report draws its charts in a child process) and that two instances would
    otherwise both build, one of them for nothing. The connection stays idle
    meanwhile; if the instance dies, PostgreSQL lets the lock go with it. Always
    True on SQLite (one instance).
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = _job_key(job)
    async with engine.connect() as conn:
        won = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        await conn.commit()  # the lock is the session's: no transaction stays open
        try:
            yield won
        finally:
            if won:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                await conn.commit()


async def claim_run(session: AsyncSession, job: str) -> bool:
    """Whether this transaction may do ``job``'s work now: one instance at a time.

    For a job whose reads decide what to write without a row lock or a
    conditional change (so two instances reading at once would both act):
    a transaction-level advisory lock, taken without waiting and released by
    the commit. False means another instance is doing the same run right now;
    the next run finds what that one left. Always True on SQLite (one
    instance). Job names are no identity, so the key is a plain hash.
    """
    bind = session.bind
    if bind is None or bind.dialect.name != "postgresql":
        return True
    result = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _job_key(job)}
    )
    return bool(result.scalar())


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any exception."""
    async with factory() as session, session.begin():
        yield session


# Who holds which connection ------------------------------------------------------------

# Connection record → the task that checked it out. Only ever touched from the
# event loop's thread (SQLAlchemy's async pool runs its events in the caller's task).
_owners: dict[int, asyncio.Task[Any] | None] = {}


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop (a sync script)
        return None


def _track_owners(engine: AsyncEngine) -> None:
    def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        _owners[id(record)] = _current_task()

    def checkin(_dbapi: Any, record: Any) -> None:
        _owners.pop(id(record), None)

    def closed(_dbapi: Any, record: Any) -> None:
        _owners.pop(id(record), None)

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "close", closed)
    event.listen(engine.sync_engine, "detach", closed)


def connections_held_here() -> int:
    """How many pooled connections the running task has checked out right now.

    Every open transaction (and every session that has run a query and not yet
    committed) holds one; so does every row lock.
    """
    task = _current_task()
    if task is None:
        return 0
    return sum(1 for owner in _owners.values() if owner is task)


# The handler's unit of work ------------------------------------------------------------


@dataclass
class _Unit:
    session: AsyncSession
    owner: asyncio.Task[Any] | None
    ended: list[Callable[[], None]] = field(default_factory=list)
    early_commits: int = 0

    def run_ended(self) -> None:
        callbacks, self.ended = self.ended, []
        for callback in callbacks:
            callback()


_WROTE = "union_bot_wrote"


@event.listens_for(Session, "do_orm_execute")
def _note_writes(state: ORMExecuteState) -> None:
    """Remember that the transaction changed something (UPDATE, DELETE, INSERT, DDL…)."""
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


def _wrote(session: AsyncSession) -> bool:
    """Whether the open transaction changed anything (and forget it for the next one)."""
    sync = session.sync_session
    return bool(sync.info.pop(_WROTE, False) or sync.new or sync.dirty or sync.deleted)


_unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar("unit_of_work", default=None)
# Callbacks the next unit of work of this task runs once its first transaction ends.
_pending_ended: contextvars.ContextVar[tuple[Callable[[], None], ...]] = contextvars.ContextVar(
    "unit_of_work_pending", default=()
)


def when_first_transaction_ends(callback: Callable[[], None]) -> contextvars.Token[Any]:
    """Run ``callback`` once the next :func:`unit_of_work` of this task took a ticket or ended.

    For `bot.processor`'s lines: an update in a line holds its turn until it
    holds the lock that hands out places (:func:`ticket_taken`), or its first
    transaction is committed, or its unit of work ends. Returns the token to
    pass to :func:`forget_pending`.
    """
    return _pending_ended.set((*_pending_ended.get(), callback))


def ticket_taken() -> None:
    """The running unit of work now holds the lock that orders a line (`storage.seating`).

    The next update in the line may go ahead: its own lock request will queue
    behind this one until this transaction commits.
    """
    unit = _unit.get()
    if unit is not None and unit.owner is _current_task():
        unit.run_ended()


def forget_pending(token: contextvars.Token[Any]) -> None:
    _pending_ended.reset(token)


@asynccontextmanager
async def unit_of_work(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A handler's unit of work: like :func:`transaction`, but committed early before I/O.

    Whatever was committed early by :func:`commit_before_io` stays committed if
    the handler fails later; only the part after the last Bot API request is
    rolled back.
    """
    async with factory() as session:
        unit = _Unit(session, _current_task(), list(_pending_ended.get()))
        pending = _pending_ended.set(())
        token = _unit.set(unit)
        try:
            yield session
            await session.commit()
        finally:  # on an exception, closing the session rolls back the rest
            _unit.reset(token)
            _pending_ended.reset(pending)
            unit.run_ended()


async def commit_before_io() -> None:
    """Commit the running handler's transaction, if any, and give its connection back.

    Called before every Bot API request (`bot.request`). A task that merely
    inherited the handler's context (a task it created) does not own the
    session and leaves it alone.
    """
    unit = _unit.get()
    if unit is None or unit.owner is not _current_task():
        return
    if unit.session.in_transaction():
        # Only a commit that kept something counts: "partly saved" must be true.
        wrote = _wrote(unit.session)
        await unit.session.commit()
        unit.early_commits += wrote
        unit.run_ended()


def committed_early() -> bool:
    """Whether the running handler's unit of work has already committed part of its work."""
    unit = _unit.get()
    return unit is not None and unit.early_commits > 0


log = logging.getLogger(__name__)

# The one line the e2e tests look for (tests/harness.py `RuleWatch`); keep the words.
HOLDING = "Bot API request %s made while this task holds %d database connection(s)"


def method_of(url: str) -> str:
    """The Bot API method at the end of a request URL (never the token before it)."""
    return url.rsplit("/", 1)[-1]


def report_if_holding(url: str) -> int:
    """Log the broken rule if the running task still holds a connection; returns how many."""
    held = connections_held_here()
    if held:
        log.error(HOLDING, method_of(url), held)
    return held
