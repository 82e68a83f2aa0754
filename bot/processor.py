"""Updates run concurrently across chats and in order within one chat — and within a line.

PTB's default processes one update at a time (slow for a large union), and its
`concurrent_updates=True` lets two quick messages from one member race through
a conversation. Serialising per chat gives both speed and order.

Lines: when many members press "sign up" for the same activity at once, the
waitlist must be in the order the taps arrived, but concurrent handlers reach
the database's lock in whatever order their queries happen to finish. A
feature names the updates that stand in one line (`add_line`: a key function,
e.g. the activity id of a sign-up button). Each such update takes its place
in the line the moment it arrives (in update order, before anything is
awaited) and starts only when the one before it holds the lock that hands out
tickets (`storage.seating.lock` calls `storage.db.ticket_taken`), or has
committed, or has finished. The next one's lock request then queues behind
it in the database, so tickets follow arrival order; everything else (reads
before the lock, the replies) runs concurrently. Waiting happens before the
handler opens its session, so an update waiting for its turn holds no
pooled connection and the line cannot starve the pool.

Several instances: with `chat_locks` set (PostgreSQL, `storage.chat_locks`)
a chat's update also holds that chat's advisory lock, so two instances that
receive one member's updates at once handle them one after the other. The
lock is taken inside the in-process lock (one waiter per chat per instance)
and, for an update in a line, only once its turn came: who holds a chat's lock
never waits for a line, so two instances' lines cannot wait on each other.

Waiting for a chat's lock or a line's turn takes none of the
``max_concurrent_updates`` places: those bound the updates being handled (each
may hold a pooled connection), and a place is taken only once the update may
run. PTB's own bound (`BaseUpdateProcessor`) counted waiting updates too, so a
burst of one member's messages took every place and the next members' updates
waited behind it, unseen, for seconds: in the benchmark's burst (fifty members,
ten each) the last chats began eight seconds late and finished alone, at their
own chat's pace, far below the bot's rate (`benchmarks/updates.py`).

`before_each` hooks run with both locks held, before any handler sees the
update: the conversation persistence re-reads the member's conversation there
(`bot.persistence.DatabasePersistence.refresh_for_update`), so an instance
continues what another one began. `after_each` runs inside the same locks once
an update is handled: the persistence flushes there, so what a member typed is
in the database before any instance takes their next update.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from storage.chat_locks import ChatLocks
from storage.db import forget_pending, when_first_transaction_ends

log = logging.getLogger(__name__)

Listener = Callable[[object], None]
LineKey = Callable[[Update], Hashable | None]
AfterEach = Callable[[], Awaitable[None]]
BeforeEach = Callable[[Update], Awaitable[None]]


def chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class _Turn:
    """One update's place in a line; ``leave`` is idempotent."""

    def __init__(self, queue: deque[_Turn], lines: dict[Hashable, deque[_Turn]], key: Hashable):
        self._queue = queue
        self._lines = lines
        self._key = key
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._left = False

    def leave(self) -> None:
        if self._left:
            return
        self._left = True
        was_head = bool(self._queue) and self._queue[0] is self
        self._queue.remove(self)
        if not self._queue:
            if self._lines.get(self._key) is self._queue:
                del self._lines[self._key]
        elif was_head and not self._queue[0].ready.done():
            self._queue[0].ready.set_result(None)


# PTB's bound on updates in hand, waiting included: only so large that it never binds (every
# update is a task either way); ``max_concurrent_updates`` bounds the ones running.
_IN_HAND = 1_000_000


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(_IN_HAND)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._lines: dict[Hashable, deque[_Turn]] = {}
        self.line_keys: list[LineKey] = []
        # Called after each update finished (successfully or not); tests use it
        # to wait for the bot instead of sleeping.
        self.listeners: list[Listener] = []
        self.after_each: list[AfterEach] = []
        self.before_each: list[BeforeEach] = []
        # Set by the application on PostgreSQL: the chat's lock across instances.
        self.chat_locks: ChatLocks | None = None

    def _line_of(self, update: object) -> Hashable | None:
        if not isinstance(update, Update):
            return None
        for key_of in self.line_keys:
            try:
                key = key_of(update)
            except Exception:  # a malformed button is its handler's business, not a line's
                log.debug("line key failed", exc_info=True)
                continue
            if key is not None:
                return key
        return None

    def _join(self, key: Hashable) -> _Turn:
        queue = self._lines.setdefault(key, deque())
        turn = _Turn(queue, self._lines, key)
        queue.append(turn)
        if len(queue) == 1:
            turn.ready.set_result(None)
        return turn

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Synchronous up to the first await: places are taken in arrival order.
        line = self._line_of(update)
        turn = self._join(line) if line is not None else None
        key = chat_key(update)
        try:
            if key is None:
                await self._run(update, None, coroutine, turn)
                return
            lock, users = self._locks.get(key, (asyncio.Lock(), 0))
            self._locks[key] = (lock, users + 1)
            try:
                async with lock:
                    await self._run(update, key, coroutine, turn)
            finally:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
        finally:
            if turn is not None:
                turn.leave()
            for listener in list(self.listeners):
                listener(update)

    async def _run(
        self, update: object, key: int | None, coroutine: Awaitable[Any], turn: _Turn | None
    ) -> None:
        """Wait for the turn and a place, take the chat across instances, refresh, handle,
        flush, let go."""
        try:
            if turn is not None:
                await turn.ready
        except BaseException:
            _close(coroutine)
            raise
        try:
            await self._running.acquire()
        except BaseException:
            _close(coroutine)
            raise
        try:
            await self._handle(update, key, coroutine, turn)
        finally:
            self._running.release()

    async def _handle(
        self, update: object, key: int | None, coroutine: Awaitable[Any], turn: _Turn | None
    ) -> None:
        locks = self.chat_locks if key is not None else None
        held = None
        try:
            if locks is not None and key is not None:
                held = await locks.acquire(key)
            if isinstance(update, Update):
                await self._before(update)
        except BaseException:
            if held is not None and locks is not None:
                await locks.release(held)
            _close(coroutine)
            raise
        try:
            if turn is None:
                await coroutine
                return
            # Taking the ticket (or the first commit, or the end) passes the turn on.
            token = when_first_transaction_ends(turn.leave)
            try:
                await coroutine
            finally:
                forget_pending(token)
        finally:
            try:
                await self._after()
            finally:
                if held is not None and locks is not None:
                    await locks.release(held)

    async def _before(self, update: Update) -> None:
        for hook in list(self.before_each):
            await hook(update)

    def busy(self, chat_id: int) -> bool:
        """An update of this chat is being handled (or waits its turn) right now."""
        return chat_id in self._locks

    async def _after(self) -> None:
        for hook in list(self.after_each):
            await hook()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """The chat locks' connections, if any."""
        if self.chat_locks is not None:
            await self.chat_locks.close()


def _close(coroutine: Awaitable[Any]) -> None:
    """A handler's coroutine that will not run: closed, so Python does not warn of it."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
