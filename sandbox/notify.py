"""A broadcast wake-up for long polls: many waiters, one ``notify()`` wakes them all.

``asyncio.Condition`` needs a lock held around every wait and notify; the sandbox
only needs "something changed, look again", so each notify swaps in a fresh
``asyncio.Event`` after setting the old one.
"""

from __future__ import annotations

import asyncio
import contextlib


class Notifier:
    """Wakes every task currently waiting; later waiters wait for the next change."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def _current(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def next_change(self) -> asyncio.Event:
        """The event the next :meth:`notify` sets, taken now: no change after this call is missed."""
        return self._current()

    def notify(self) -> None:
        """Wake all current waiters."""
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, max_wait: float | None) -> bool:
        """Wait for the next :meth:`notify`; False if ``max_wait`` seconds passed first."""
        event = self._current()
        if max_wait is not None and max_wait <= 0:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max_wait)
            return True
        return False
