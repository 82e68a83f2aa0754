"""Chat locks survive PostgreSQL terminating their connections mid-statement.

Found by the chaos test (`tests/e2e/test_chaos.py`): after `pg_terminate_backend`
hit a lock connection in the middle of a statement, asyncpg's protocol was left
mid-operation and the next statement raised InternalClientError ("another
operation is in progress"), which the locks did not count as a broken
connection, so a member's update failed instead of the connection being
opened again. PostgreSQL only: SQLite takes no chat locks.
"""

from __future__ import annotations

import asyncio

import asyncpg  # type: ignore[import-untyped]  # ships no type information

from storage.chat_locks import ChatLocks, _dsn
from tests.support.config import SECRET

CHATS = 8
ROUNDS = 300
EVERY = 6  # rounds between terminations: a connection opened again gets a few to live


async def test_updates_go_on_while_backends_are_terminated(pg_database: str) -> None:
    locks = ChatLocks(pg_database, SECRET, lock_timeout=5)
    killer = await asyncpg.connect(_dsn(pg_database))
    failures: list[BaseException] = []
    done, tick = asyncio.Event(), asyncio.Event()

    async def updates() -> None:
        try:
            for index in range(ROUNDS):
                chat = index % CHATS + 1
                if index % EVERY == 0:
                    tick.set()  # the next termination lands during the rounds that follow
                try:
                    held = await locks.acquire(chat)
                    await locks.fetch(chat, "SELECT $1::text", "conversation rows")
                    await locks.release(held)
                except Exception as error:  # what a member's update would have failed with
                    failures.append(error)
        finally:
            done.set()
            tick.set()

    async def terminate() -> int:
        terminated = 0
        while not done.is_set():
            await tick.wait()
            tick.clear()
            terminated += await killer.fetchval(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t"
            )
        return terminated

    try:
        _, terminated = await asyncio.gather(updates(), terminate())
        assert terminated > 0
        assert not failures, [f"{type(e).__name__}: {e}" for e in failures]
        # And afterwards every chat is taken and given back as usual, on its shard.
        for chat in range(1, CHATS + 1):
            held = await locks.acquire(chat)
            assert held.shard is not None
            await locks.release(held)
    finally:
        await killer.close()
        await locks.close()
