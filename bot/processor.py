"""Updates run concurrently across chats and in order within one chat.

PTB's default processes one update at a time (slow for a large union), and its
`concurrent_updates=True` lets two quick messages from one member race through
a conversation. Serialising per chat gives both speed and order.

`after_each` runs inside the chat's lock once an update is handled: the
conversation persistence flushes there, so what a member typed is in the
database before the bot takes their next update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

Listener = Callable[[object], None]
AfterEach = Callable[[], Awaitable[None]]


def chat_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        # Called after each update finished (successfully or not); tests use it
        # to wait for the bot instead of sleeping.
        self.listeners: list[Listener] = []
        self.after_each: list[AfterEach] = []

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        try:
            if key is None:
                try:
                    await coroutine
                finally:
                    await self._after()
                return
            lock, users = self._locks.get(key, (asyncio.Lock(), 0))
            self._locks[key] = (lock, users + 1)
            try:
                async with lock:
                    try:
                        await coroutine
                    finally:
                        await self._after()
            finally:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
        finally:
            for listener in list(self.listeners):
                listener(update)

    def busy(self, chat_id: int) -> bool:
        """An update of this chat is being handled (or waits its turn) right now."""
        return chat_id in self._locks

    async def _after(self) -> None:
        for hook in list(self.after_each):
            await hook()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""
