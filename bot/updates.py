"""Updates the library cannot read are skipped after one log line; polling goes on.

PTB parses a whole getUpdates answer at once. One update it cannot parse (a
field of a newer Bot API, a server's bug) makes the whole call fail, and the
Updater asks again for the same batch for ever, logging the raw updates —
member ids and text — each time. Here each update is parsed alone first; one
that fails is replaced by an empty update with the same id, which no handler
takes, so the offset moves past it and the others in the batch are handled.
The webhook server (`bot.webhook`) uses the same check for each POST.

The log line names the update's id and kind and the error's class, never its
content: update ids are Telegram's counters, not anyone's identity.

Polling reads each answer once (:class:`UpdatesBot`): the check above is the
parse PTB's own ``get_updates`` would make, so the updates it built are the
ones handed to the Updater. Checked in the request instead, each update was
parsed twice, 3% of the bot's CPU in a rush of votes.

Polling also asks for more only while the bot has room (:class:`Backlog`).
PTB's Updater puts every update it fetches on an unbounded queue, and the
application starts a task for each at once; a rush (10,000 members tapping a
poll within a minute, faster than two cores can answer) was pulled in whole and
held as objects and tasks: +93 MiB of the bot's peak at 100,000 members. Now
getUpdates waits while :data:`IN_HAND` updates are fetched and not yet handled,
so the rest wait at Telegram, which keeps them for 24 hours, in order. Waiting
before the request, not after it, means a stop while waiting loses nothing:
nothing was fetched. (A webhook needs no such bound: each POST is answered only
once its update is handled, and Telegram keeps at most ``max_connections`` open.)
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import TimePeriod
from telegram.ext import ExtBot

from bot.request import tls_context
from jobs.transport import AiohttpRequest

log = logging.getLogger(__name__)

# Fields of an update Telegram defines; anything else is named "unknown" in the log.
_KNOWN_KINDS = frozenset(Update.ALL_TYPES)
#: Fetched updates the bot holds at most before it asks for more: enough to keep the
#: update processor's 256 concurrent slots busy while many wait for their chat or line,
#: about 10 MB of parsed updates at the most.
IN_HAND = 1000


def _kind(raw: dict[str, Any]) -> str:
    kinds = sorted(k for k in raw if k != "update_id")
    known = [k for k in kinds if k in _KNOWN_KINDS]
    return known[0] if known else "unknown"


def check(raw: object, bot: Bot | None = None) -> tuple[Update | None, str | None]:
    """Parse one raw update; on failure return (None, why) — why names no content."""
    if not isinstance(raw, dict):
        return None, f"not an object ({type(raw).__name__})"
    try:
        update = Update.de_json(raw, bot)
    except Exception as exc:  # any failure of the library's parser means "unreadable"
        return None, f"{_kind(raw)} the library cannot parse ({type(exc).__name__})"
    if update is None:
        return None, "empty"
    return update, None


def update_id_of(raw: object) -> int | None:
    if not isinstance(raw, dict):
        return None
    value = raw.get("update_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Once:
    """Remembers what was logged recently so a repeated bad update logs once."""

    def __init__(self, size: int = 1000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def first(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


def parsed_updates(result: list[Any], bot: Bot, once: Once | None = None) -> list[Update]:
    """A getUpdates result (or a webhook's one update) parsed for ``bot``, each update alone.

    An unreadable update becomes its id alone; one without a usable id cannot
    be confirmed by itself, so it is dropped and confirmed by the next
    update's offset. It logs once however often it comes back.
    """
    return [
        update if update is not None else _empty(raw["update_id"], bot)
        for raw, update in _readable(result, once, bot)
    ]


def _empty(update_id: int, bot: Bot) -> Update:
    """An unreadable update as its id alone: no handler takes it, and it is answered."""
    update = Update(update_id=update_id)
    update.set_bot(bot)
    return update


def _readable(
    result: list[Any], once: Once | None, bot: Bot | None
) -> list[tuple[Any, Update | None]]:
    kept: list[tuple[Any, Update | None]] = []
    for raw in result:
        update, why = check(raw, bot)
        if update is not None:
            kept.append((raw, update))
            continue
        update_id = update_id_of(raw)
        key = str(update_id) if update_id is not None else repr(raw)[:2000]
        if once is None or once.first(key):
            if update_id is None:
                log.warning("skipped an update without an id: %s", why)
            else:
                log.warning("skipped update %d: %s", update_id, why)
        if update_id is not None:
            kept.append(({"update_id": update_id}, None))
    return kept


class Backlog:
    """How many fetched updates are still in the bot (queued or being handled).

    ``taken`` counts what a getUpdates answer brought, ``finished`` (an update
    processor listener) what was handled, whatever the outcome; ``room`` waits
    until fewer than ``limit`` are in hand.
    """

    def __init__(self, limit: int = IN_HAND) -> None:
        self.limit = limit
        self.in_hand = 0
        self.most = 0  # the highest ``in_hand`` seen (tests, benchmarks)
        self._room = asyncio.Event()
        self._room.set()

    def taken(self, count: int) -> None:
        self.in_hand += count
        self.most = max(self.most, self.in_hand)
        if self.in_hand >= self.limit:
            self._room.clear()

    def finished(self, _update: object = None) -> None:
        self.in_hand = max(0, self.in_hand - 1)
        if self.in_hand < self.limit:
            self._room.set()

    async def room(self) -> None:
        while self.in_hand >= self.limit:
            self._room.clear()
            await self._room.wait()


class UpdatesRequest(AiohttpRequest):
    """The getUpdates connection (`ApplicationBuilder.get_updates_request`), over aiohttp,
    as the bot's other requests (`bot.request.CommitFirstRequest`), timed as PTB times its
    own (one connection, 5 s to connect and to read beyond the long poll's wait, 1 s for
    the connection)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(
            connections=1,
            read_timeout=5.0,
            connect_timeout=5.0,
            pool_timeout=1.0,
            ssl=tls_context(),
        )


class UpdatesBot(ExtBot[Any]):
    """PTB's bot, whose ``get_updates`` checks each update alone and bounds the backlog.

    Asks Telegram only while the :class:`Backlog` has room, and parses each
    update once: an unreadable one becomes its id alone (logged once), so the
    offset moves past it and the rest of the batch is handled.
    """

    __slots__ = ("_backlog", "_once", "_updates_timeout")

    def __init__(self, token: str, *, backlog: Backlog | None = None, **kwargs: Any) -> None:
        updates_request = kwargs.get("get_updates_request")
        super().__init__(token, **kwargs)
        self._once = Once()
        self._updates_timeout = (
            updates_request.read_timeout if updates_request is not None else None
        ) or 0.0
        self._backlog = backlog or Backlog()

    @property
    def backlog(self) -> Backlog:
        """What polling fetched and the bot has not finished yet (PTB freezes a bot's
        public attributes, hence the property)."""
        return self._backlog

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,  # noqa: ASYNC109 (PTB's signature)
        allowed_updates: Any = None,
        *,
        read_timeout: Any = DEFAULT_NONE,
        write_timeout: Any = DEFAULT_NONE,
        connect_timeout: Any = DEFAULT_NONE,
        pool_timeout: Any = DEFAULT_NONE,
        api_kwargs: Any = None,
    ) -> tuple[Update, ...]:
        await self._backlog.room()
        # As PTB's: the connection's read timeout plus the long poll's own wait.
        reading = self._updates_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        waiting = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout or 0
        result = await self._post(
            "getUpdates",
            {
                "timeout": timeout,
                "offset": offset,
                "limit": limit,
                "allowed_updates": allowed_updates,
            },
            read_timeout=(reading or 0) + waiting,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        updates = parsed_updates(result if isinstance(result, list) else [], self, self._once)
        self._backlog.taken(len(updates))
        for update in updates:
            self.insert_callback_data(update)
        return tuple(updates)
