"""SQLAlchemy's aiosqlite adapter with one trip to aiosqlite's thread per statement, not four.

aiosqlite runs every call on its connection's own thread: the event loop hands
the call over and waits for the answer, about 70 µs of CPU a trip here. The
adapter SQLAlchemy ships makes four trips for every statement (open a cursor,
execute, fetch all rows, close), so a unit of work that reads one member cost
six trips, more CPU than the query itself (`benchmarks/updates.py`). Here the
cursor's execute runs all four steps in one function on that thread and brings
back the rows, the description, ``rowcount`` and ``lastrowid``. A commit or a
rollback with no transaction open (a unit of work that only read; the pool's
rollback of every connection given back, after a commit too) makes no trip:
sqlite3 would do nothing with it. Everything else (errors and their
translation, the per-connection mutex, server-side cursors) is SQLAlchemy's.

`storage.db.make_engine` passes :func:`dbapi` as the engine's ``module`` for
``sqlite+aiosqlite`` URLs. It subclasses SQLAlchemy 2.1's adapter, private parts
included; on an older SQLAlchemy (the requirement allows 2.0) the stock one is used.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import aiosqlite
import sqlalchemy
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

from core import frames


@dataclass
class _Done:
    """What a finished statement's cursor tells; it stands in for the closed cursor."""

    description: Any = None
    rowcount: int = -1
    lastrowid: int | None = None
    rows: list[Any] = field(default_factory=list)
    arraysize: int = 1

    def close(self) -> None:
        """Closed on its thread already."""


def _run(
    connection: sqlite3.Connection, operation: Any, parameters: Any, many: bool = False
) -> _Done:
    """On aiosqlite's thread: the whole life of one cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Done(cursor.description, cursor.rowcount, cursor.lastrowid, rows)
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, each statement one trip to the connection's thread."""

    __slots__ = ()
    _awaitable_cursor_close = False  # nothing left open to close with a trip

    def __init__(self, adapt_connection: Any) -> None:
        # Not the base's: it opens an aiosqlite cursor, a trip of its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _Done()  # type: ignore[assignment]  # stands in for the cursor
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        connection = cast(aiosqlite.Connection, self._connection)  # what aiosqlite connects
        async with self._adapt_connection._execute_mutex:
            done = await connection._execute(_run, connection._conn, operation, parameters, many)
            self._cursor = done  # the finished statement stands in for the cursor
            self._rows = collections.deque(done.rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._trip(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._trip(operation, seq_of_parameters, True)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    def _in_transaction(self) -> bool:
        """SQLite's own word (no hop): a read alone opens no transaction, a commit ends it."""
        raw = self._connection._connection
        return raw is not None and bool(raw.in_transaction)

    def commit(self) -> None:
        if self._in_transaction():  # else sqlite3's commit does nothing, after a hop
            super().commit()

    def rollback(self) -> None:
        # Also the pool's rollback of every connection given back, a commit's included.
        if self._in_transaction():
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        adapted.__class__ = OneTripConnection  # same slots, one more class in between
        return adapted


def dbapi() -> OneTripDBAPI | None:
    """The module for the engine, or None (SQLAlchemy's own adapter) on a SQLAlchemy older
    than the adapter this one is written against (2.1: the cursor's slots and ``await_``)."""
    major, minor = (int(part) for part in sqlalchemy.__version__.split(".")[:2])
    if (major, minor) < (2, 1):
        return None
    return OneTripDBAPI(aiosqlite, sqlite3)


# Errors are logged at the caller's line, not this adapter's (`core.frames`).
frames.plumbing(__file__)
