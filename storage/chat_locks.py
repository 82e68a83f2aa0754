"""One chat's updates one at a time across every instance: PostgreSQL advisory locks.

Several `union-bot webhook` instances behind a load balancer may receive two
updates of one chat at the same moment. Within a process `bot.processor`
serialises a chat with an asyncio lock; across processes the chat also takes a
session-level advisory lock here, keyed by a keyed hash of the chat id (so
``pg_locks`` shows no Telegram id), for the whole time its update is handled.

Why a session lock on connections of its own, and not a transaction:

* an update talks to Telegram between its database steps, and no pooled
  transaction may be held across a Bot API call (ARCHITECTURE.md "Commit, then
  talk to Telegram"). An advisory *session* lock is held by an idle connection
  in autocommit: no snapshot, no row lock, no transaction kept open;
* those connections are not the handlers' pool, so a chat that waits for its
  turn takes no connection from the handlers;
* a connection holds any number of session locks, so in the usual case (nobody
  else has the chat) one of a few shared connections takes the lock with
  ``pg_try_advisory_lock`` — one short round trip, never a wait on the server —
  and gives it back with ``pg_advisory_unlock`` afterwards. Statements on one
  connection run one after another, so keys are spread over ``shards``
  connections;
* only when another instance holds the chat does the update wait, on a
  connection of the small ``waiters`` pool, with a blocking
  ``pg_advisory_lock``: the server wakes it the moment the other instance
  lets go, no polling. That connection holds the lock until the update is
  done. The wait is bounded by ``lock_timeout``; past it the update goes on
  without the lock (logged), so a stuck instance cannot silence a member.

An instance that dies (``kill -9``, a lost machine) closes its connections and
PostgreSQL releases its locks at once; a connection that breaks under us
(a terminated backend) is opened again at the next use, and its locks are
gone with it — the update that held one finishes unprotected, which is logged.

SQLite is one instance by construction (one file, one process): `for_engine`
returns None there and the processor takes no lock at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # ships no type information
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import derive_key

log = logging.getLogger(__name__)

KEY_LABEL = "chat-lock"
SHARDS = 2
WAITERS = 4

_TRY = "SELECT pg_try_advisory_lock($1)"
_WAIT = "SELECT pg_advisory_lock($1)"
_UNLOCK = "SELECT pg_advisory_unlock($1)"


# What a lock statement may meet: the server's refusal (lock_timeout), a broken connection.
# A backend terminated in the middle of a statement (pg_terminate_backend, a restart)
# can leave asyncpg's protocol mid-operation, and the next statement on that connection
# raises InternalClientError ("another operation is in progress"): broken too.
_BROKEN = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


def _dsn(url: str) -> str:
    """The asyncpg address of a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(eq=False)
class Held:
    """A chat's lock as taken: on which connection, under which key (neither: not taken)."""

    key: int
    shard: _Shard | None = None
    waiter: Any = None  # the connection that waited for the lock and now holds it


class _Connections:
    """Opens connections to the lock database, with its lock_timeout; at most ``limit`` waiters."""

    def __init__(self, dsn: str, lock_timeout: float, limit: int) -> None:
        self._dsn = dsn
        self._settings = {"lock_timeout": str(int(lock_timeout * 1000))}
        self._idle: list[Any] = []
        self._slots = asyncio.Semaphore(limit)

    async def open(self) -> Any:
        return await asyncpg.connect(self._dsn, server_settings=self._settings)

    async def take(self) -> Any:
        await self._slots.acquire()
        try:
            while self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
            return await self.open()
        except BaseException:
            self._slots.release()
            raise

    def give_back(self, connection: Any, *, broken: bool = False) -> None:
        if broken:
            connection.terminate()
        else:
            self._idle.append(connection)
        self._slots.release()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


class _Shard:
    """One shared connection taking and giving back many chats' locks, one statement at a time."""

    def __init__(self, connections: _Connections) -> None:
        self._connections = connections
        self._connection: Any = None
        self.lock = asyncio.Lock()

    async def run(self, statement: str, key: int) -> bool:
        """``statement`` on this shard's connection; opened again once if it broke."""
        async with self.lock:
            for attempt in (1, 2):
                if self._connection is None or self._connection.is_closed():
                    self._connection = await self._connections.open()
                try:
                    return bool(await self._connection.fetchval(statement, key))
                except _BROKEN:
                    self._drop()
                    if attempt == 2:
                        raise
                    if statement == _UNLOCK:
                        # Its locks died with the connection: nothing left to give back.
                        log.warning("a chat lock connection broke; its locks were released")
                        return False
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()

    async def fetch(self, statement: str, *args: Any) -> list[Any]:
        """A read on this shard's connection; opened again once if it broke (reads repeat)."""
        async with self.lock:
            for attempt in (1, 2):
                if self._connection is None or self._connection.is_closed():
                    self._connection = await self._connections.open()
                try:
                    return list(await self._connection.fetch(statement, *args))
                except _BROKEN:
                    self._drop()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        async with self.lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()


class ChatLocks:
    """Advisory locks per chat on connections of their own; see the module docstring."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        shards: int = SHARDS,
        waiters: int = WAITERS,
        lock_timeout: float = 30.0,
    ) -> None:
        self._key = derive_key(secret, f"hmac:{KEY_LABEL}")
        self.lock_timeout = lock_timeout
        self._connections = _Connections(_dsn(url), lock_timeout, waiters)
        self._shards = [_Shard(self._connections) for _ in range(shards)]
        self.contended = 0  # how often a chat was held elsewhere
        # Called when an update starts waiting for another instance (tests wait on it).
        self.on_wait: list[Callable[[], None]] = []

    @classmethod
    def for_engine(
        cls, engine: AsyncEngine, secret: str, *, lock_timeout: float = 30.0
    ) -> ChatLocks | None:
        """Locks for ``engine``'s database; None on SQLite, where one instance is all there is."""
        if engine.dialect.name != "postgresql":
            return None
        url = engine.url.render_as_string(hide_password=False)
        return cls(url, secret, lock_timeout=lock_timeout)

    def key_of(self, chat_id: int) -> int:
        """A signed 64-bit advisory key: a keyed hash, so ``pg_locks`` names no chat."""
        digest = hmac.new(self._key, str(int(chat_id)).encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    async def acquire(self, chat_id: int) -> Held:
        """Return once this instance holds ``chat_id`` (or the wait ran past ``lock_timeout``)."""
        key = self.key_of(chat_id)
        shard = self._shards[key % len(self._shards)]
        try:
            if await shard.run(_TRY, key):
                return Held(key, shard=shard)
        except _BROKEN as error:
            # The database is out of reach: the handler will meet it and say so.
            log.warning("a chat's lock was not taken (%s)", type(error).__name__)
            return Held(key)
        self.contended += 1
        for listener in list(self.on_wait):
            listener()
        try:
            connection = await self._connections.take()
        except _BROKEN as error:
            log.warning("a chat's lock was not taken (%s)", type(error).__name__)
            return Held(key)
        try:
            await connection.fetchval(_WAIT, key)
        except _BROKEN as error:
            # lock_timeout passed (a stuck instance) or the connection broke: go on unlocked.
            self._connections.give_back(connection, broken=True)
            log.warning(
                "a chat's lock was not taken (%s); handling its update anyway",
                type(error).__name__,
            )
            return Held(key)
        except BaseException:
            self._connections.give_back(connection, broken=True)  # cancelled mid-wait
            raise
        return Held(key, waiter=connection)

    async def fetch(self, chat_id: int, statement: str, *args: Any) -> list[Any]:
        """A short read on the locks' own connection (of ``chat_id``'s shard), no pool, no ORM.

        For what must be read right after the lock is taken (a member's
        conversation rows): one round trip instead of a pooled session's three.
        """
        key = self.key_of(chat_id)
        return await self._shards[key % len(self._shards)].fetch(statement, *args)

    async def release(self, held: Held) -> None:
        if held.shard is not None:
            try:
                await held.shard.run(_UNLOCK, held.key)
            except _BROKEN as error:
                log.warning("a chat lock could not be given back: %s", type(error).__name__)
        elif held.waiter is not None:
            connection = held.waiter
            try:
                await connection.fetchval(_UNLOCK, held.key)
            except _BROKEN as error:
                log.warning("a chat lock could not be given back: %s", type(error).__name__)
                self._connections.give_back(connection, broken=True)
                return
            self._connections.give_back(connection)  # holding nothing now

    async def close(self) -> None:
        for shard in self._shards:
            await shard.close()
        await self._connections.close()
