"""Conversations and drafts kept in the database, so a restart continues them.

PTB keeps `ConversationHandler` states and `user_data` in memory; a restart (or
`kill -9`) used to drop a member halfway through registration or a grievance
back to "send /start". :class:`DatabasePersistence` is PTB's `BasePersistence`
over our own database (`storage.conversations`, sealed under `SECRET_KEY`):

* Durable before the next update of that chat: `attach` makes the update
  processor run `Application.update_persistence()` at the end of every update,
  inside the chat's lock (`flush_after_update`: updates that finish while a
  pass runs share the next pass, a group commit), and every `update_*` call
  here writes through (the calls of one pass land in one transaction). An
  update that changed nothing writes nothing.
* Only what a conversation needs: a member's `user_data` is stored while they
  have a live conversation and deleted with their last one; `bot_data` (the
  runtime) and `chat_data` are never stored. Values must be plain JSON
  (`storage.conversations.encode`): no pickles, so any instance can read them.
* Timeouts on the runtime clock. PTB's `conversation_timeout` is a JobQueue
  job, lost on restart and blind to the tests' clock. Each stored step carries
  its expiry (`runtime.now()` + that conversation's timeout); an expired one is
  dropped on load, ended before the member's next update is handled, and swept
  every minute (`expire_conversations`) so an abandoned draft does not linger.
  Ending one drops the member's ``draft*`` keys once no other conversation of
  theirs is live (the same convention as `handlers.common.cancel`).

Every persistent conversation must be per user, not per message, and time out:
`attach` refuses to start otherwise, so a new conversation cannot forget it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from telegram import Update
from telegram.ext import (
    Application,
    BasePersistence,
    ContextTypes,
    ConversationHandler,
    PersistenceInput,
    TypeHandler,
)

from core.runtime import Runtime, runtime_of
from storage import conversations as store
from storage.db import transaction
from storage.migrate import upgrade

log = logging.getLogger(__name__)

DRAFT_PREFIX = "draft"
SWEEP_SECONDS = 60
# Before every other group: an expired conversation is gone before any handler looks.
EXPIRY_GROUP = -100

UserData = dict[str, Any]
ConversationKey = store.ConversationKey
Slot = tuple[str, ConversationKey]  # (conversation name, PTB's key)


class DatabasePersistence(BasePersistence[UserData, dict[Any, Any], dict[Any, Any]]):
    """PTB persistence over `storage.conversations`; see the module docstring.

    ``enabled=False`` (`union-bot worker`, which takes no updates) keeps PTB
    satisfied that persistent conversations have a persistence, and touches
    nothing.
    """

    def __init__(self, *, enabled: bool = True) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=60,
        )
        self.enabled = enabled
        self._application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._handlers: dict[str, ConversationHandler[Any]] = {}
        self._timeouts: dict[str, timedelta] = {}
        self._loaded: dict[str, dict[ConversationKey, object]] | None = None
        self._loaded_users: dict[int, UserData] = {}
        # What the database holds, as of the last commit:
        self._live: dict[int, dict[Slot, datetime]] = {}  # user → conversation → exact expiry
        self._stored_users: dict[int, tuple[str, datetime]] = {}  # user → (data JSON, expiry)
        # Staged by PTB's update_* calls, written by the next commit:
        self._conversation_changes: dict[Slot, object | None] = {}
        self._user_changes: dict[int, UserData | None] = {}
        self._commit: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()
        self._sealer_built: store.Sealer | None = None
        self._next_pass: asyncio.Future[None] | None = None
        self._pass_lock = asyncio.Lock()
        self._load_lock = asyncio.Lock()
        # Several instances may take updates (PostgreSQL): re-read a member's rows per update.
        self.shared = False

    # Wiring ------------------------------------------------------------------------------

    def attach(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Learn the conversations' timeouts; flush after every update; sweep every minute.

        On PostgreSQL, where several instances may take updates, also re-read
        the member's conversations before every update (`refresh_for_update`).
        """
        self._application = application
        for group in application.handlers.values():
            for handler in group:
                if isinstance(handler, ConversationHandler):
                    self._learn(handler)
        if not self.enabled:
            return
        self.shared = runtime_of(application).engine.dialect.name == "postgresql"
        processor = application.update_processor
        after_each = getattr(processor, "after_each", None)
        if after_each is None:
            raise RuntimeError("conversations need an update processor with after_each hooks")
        after_each.append(self.flush_after_update)
        if self.shared:
            before_each = getattr(processor, "before_each", None)
            if before_each is None:
                raise RuntimeError("a shared database needs an update processor with before_each")
            before_each.append(self.refresh_for_update)
            for handler in self._handlers.values():
                _guard_timeout(self, handler)
        application.add_handler(TypeHandler(Update, _expire_for_update), group=EXPIRY_GROUP)
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                _sweep, interval=SWEEP_SECONDS, first=SWEEP_SECONDS, name="conversation-timeouts"
            )

    async def flush_after_update(self) -> None:
        """Return once everything the finished update changed is in the database.

        A group commit: updates finishing while a pass runs share the next one,
        instead of queueing one `update_persistence` (and one transaction) each.
        """
        if self._next_pass is None:
            self._next_pass = asyncio.ensure_future(self._flush_pass())
        await asyncio.shield(self._next_pass)

    async def _flush_pass(self) -> None:
        async with self._pass_lock:
            self._next_pass = None  # who finishes from now on needs a later pass
            assert self._application is not None
            await self._application.update_persistence()

    def _learn(self, handler: ConversationHandler[Any]) -> None:
        name = handler.name
        timeout = handler.conversation_timeout
        if not (handler.persistent and name):
            raise RuntimeError(
                f"conversation {name or handler!r} is not persistent: give it name= and "
                "persistent=True, or a restart loses what the member typed"
            )
        if not handler.per_user or handler.per_message:
            raise RuntimeError(f"conversation {name!r}: persisted conversations are per user")
        if not timeout:
            raise RuntimeError(f"conversation {name!r} has no conversation_timeout")
        if name in self._handlers and self._handlers[name] is not handler:
            raise RuntimeError(f"two conversations are named {name!r}")
        self._handlers[name] = handler
        self._timeouts[name] = (
            timeout if isinstance(timeout, timedelta) else timedelta(seconds=float(timeout))
        )

    def _runtime(self) -> Runtime:
        if self._application is None:
            raise RuntimeError("DatabasePersistence.attach(application) was not called")
        return runtime_of(self._application)

    def _sealer(self) -> store.Sealer:
        if self._sealer_built is None:
            self._sealer_built = store.Sealer(self._runtime().settings.secret_key)
        return self._sealer_built

    # Loading -----------------------------------------------------------------------------

    async def _load(self) -> dict[str, dict[ConversationKey, object]]:
        """Everything still live, once, at start; what expired or cannot be read is deleted."""
        async with self._load_lock:
            if self._loaded is None:
                self._loaded = await self._read_all() if self.enabled else {}
        return self._loaded

    async def _read_all(self) -> dict[str, dict[ConversationKey, object]]:
        runtime = self._runtime()
        # PTB loads persistence in initialize(), before post_init runs the migrations.
        await upgrade(runtime.engine)
        sealer = self._sealer()
        now = runtime.now()
        loaded: dict[str, dict[ConversationKey, object]] = {}
        async with transaction(runtime.sessions) as session:
            # What expired while no instance ran goes in one statement (as the minute's
            # sweep would have it), so only rows that may be live are opened.
            swept = await store.delete_expired(session, now)
            found = await store.load_all(session, sealer)
            doomed = set(found.unreadable)
            users: dict[str, store.UserRow] = {}
            for key, row in found.rows.items():
                if isinstance(row, store.UserRow):
                    users[key] = row
                elif row.name not in self._handlers or row.expires <= now:
                    doomed.add(key)
                else:
                    loaded.setdefault(row.name, {})[row.key] = row.state
                    user = int(row.key[-1])
                    self._live.setdefault(user, {})[(row.name, row.key)] = row.expires
            for key, user_row in users.items():
                if user_row.user_id not in self._live:
                    doomed.add(key)
                    continue
                self._loaded_users[user_row.user_id] = user_row.data
                self._stored_users[user_row.user_id] = (
                    store.dumps(user_row.data),
                    self._user_expiry(user_row.user_id),
                )
            await store.write(session, {}, doomed)
        if found.unreadable:
            log.warning("dropped %d conversation rows that do not open", len(found.unreadable))
        log.info(
            "conversations restored: %d live, %d ended or unreadable",
            sum(len(v) for v in self._live.values()),
            swept + len(doomed),
        )
        return loaded

    async def get_user_data(self) -> dict[int, UserData]:
        await self._load()
        # Handed over once: PTB keeps them from here on, no second copy of the drafts here.
        users, self._loaded_users = self._loaded_users, {}
        return users

    async def get_conversations(self, name: str) -> dict[ConversationKey, object]:
        return dict((await self._load()).get(name, {}))

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    # Writing -----------------------------------------------------------------------------

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        if not self.enabled:
            return
        self._conversation_changes[(name, tuple(key))] = new_state
        await self._written()

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        if not self.enabled:
            return
        self._user_changes[user_id] = data
        await self._written()

    async def drop_user_data(self, user_id: int) -> None:
        if not self.enabled:
            return
        self._user_changes[user_id] = None
        await self._written()

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        """Done before the handlers' check instead: see `refresh_for_update`.

        PTB calls this once a handler matched, too late for a conversation's
        state, which decides whether its handler matches at all.
        """

    # Several instances -------------------------------------------------------------------

    def _slots_for(self, update: Update) -> dict[str, Slot]:
        """Row key → slot of every conversation this update could continue, as PTB keys them.

        The update's chat and the member's private chat (every conversation
        begins in private today), unless an update of that private chat is
        under way on this instance (it is the one to trust then); one keyed
        hash per conversation and chat.
        """
        user = update.effective_user
        chat = update.effective_chat
        assert user is not None
        sealer = self._sealer()
        chats = {chat.id} if chat is not None else set()
        if not self._busy_elsewhere(user.id, chat.id if chat is not None else None):
            chats.add(user.id)
        slots: dict[str, Slot] = {}
        for name, handler in self._handlers.items():
            keys = [(c, user.id) for c in sorted(chats)] if handler.per_chat else [(user.id,)]
            for key in keys:
                slots[sealer.conversation_key(name, key)] = (name, key)
        return slots

    def _busy_elsewhere(self, user: int, chat: int | None) -> bool:
        """An update of the member's private chat runs here beside this one (of ``chat``)."""
        assert self._application is not None
        busy = getattr(self._application.update_processor, "busy", None)
        return chat != user and busy is not None and bool(busy(user))

    async def refresh_for_update(self, update: Update) -> None:
        """Before any handler: this member's conversations and drafts as the database has them.

        Runs inside the chat's lock across instances (`bot.processor`), after
        the instance that handled the member's previous update wrote what it
        changed, so whichever instance took the last step, this one continues
        from it; one query by keyed hashes. What is gone from the database (ended
        on another instance, swept) is gone here too. Nothing is marked for
        writing: what is read is what is stored.
        """
        user = update.effective_user
        if not self.shared or user is None or self._application is None:
            return
        slots = self._slots_for(update)
        user_key = self._sealer().user_key(user.id)
        wanted = sorted({*slots, user_key})
        locks = getattr(self._application.update_processor, "chat_locks", None)
        try:
            if locks is not None:  # one round trip on the locks' connection
                found = await locks.fetch(user.id, store.KEYS_QUERY, wanted)
                rows = store.open_rows(self._sealer(), [(r[0], r[1]) for r in found])
            else:
                async with transaction(self._runtime().sessions) as session:
                    rows = await store.load_keys(session, self._sealer(), wanted)
        except Exception as error:  # the handler will meet the database too, and say so
            log.error("conversations not refreshed: %s", type(error).__name__)
            return
        chat = update.effective_chat
        replace = not self._busy_elsewhere(user.id, chat.id if chat is not None else None)
        self._apply(user.id, slots, rows, user_key, replace_data=replace)

    def _apply(
        self,
        user: int,
        slots: dict[str, Slot],
        rows: dict[str, store.ConversationRow | store.UserRow],
        user_key: str,
        *,
        replace_data: bool,
    ) -> None:
        assert self._application is not None
        mine = self._live.get(user, {})
        live = {slot: at for slot, at in mine.items() if slot not in slots.values()}
        for row_key, (name, key) in slots.items():
            handler = self._handlers[name]
            row = rows.get(row_key)
            _cancel_timeout(handler, key)  # whoever handles the next step schedules it again
            if isinstance(row, store.ConversationRow):
                _set_quietly(handler, key, row.state)
                live[(name, key)] = row.expires
            else:
                _drop_quietly(handler, key)
        if live:
            self._live[user] = live
        else:
            self._live.pop(user, None)
        data = self._application.user_data.get(user)
        stored = rows.get(user_key)
        if isinstance(stored, store.UserRow) and live:
            text = store.dumps(stored.data)
            self._stored_users[user] = (text, self._user_expiry(user))
            if replace_data and _differs(data, text):
                # Another instance took the last step: its drafts, not this one's older copy.
                target = self._application._user_data[user]  # PTB's own dict, refreshed in place
                target.clear()
                target.update(stored.data)
        elif replace_data:
            self._stored_users.pop(user, None)
            for item in [k for k in data or {} if str(k).startswith(DRAFT_PREFIX)]:
                if data is not None:
                    data.pop(item, None)

    async def timed_out_here(self, handler: ConversationHandler[Any], key: ConversationKey) -> bool:
        """PTB's timeout for ``key`` fired here: is this instance's step still the last one?

        Another instance may have continued (a later expiry) or ended the
        conversation since; then its timeout is theirs to run, and this
        instance only forgets what it held.
        """
        if not self.shared:
            return True
        name = handler.name
        assert name is not None
        user = int(key[-1])
        row_key = self._sealer().conversation_key(name, key)
        async with transaction(self._runtime().sessions) as session:
            rows = await store.load_keys(session, self._sealer(), [row_key])
        row = rows.get(row_key)
        mine = self._live.get(user, {}).get((name, key))
        if isinstance(row, store.ConversationRow) and mine is not None and row.expires == mine:
            return True
        _drop_quietly(handler, key)
        if isinstance(row, store.ConversationRow):
            self._live.setdefault(user, {})[(name, key)] = row.expires
        else:
            self._live.get(user, {}).pop((name, key), None)
        return False

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """chat_data is not kept: no feature uses it."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """chat_data is not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """chat_data is not kept."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """bot_data holds the runtime (engine, settings): never stored."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """bot_data is not kept."""

    async def update_callback_data(self, data: Any) -> None:
        """Buttons carry their own data (`display.callbacks`); nothing to keep."""

    async def flush(self) -> None:
        """Every write already went through; wait for one still under way."""
        if self._conversation_changes or self._user_changes:
            await self._written()
        elif self._commit is not None:
            await asyncio.shield(self._commit)

    async def _written(self) -> None:
        """Return once what is staged is in the database.

        The calls of one `update_persistence` run are gathered: each stages its
        change synchronously, and the commit task the first one starts runs
        after them all, so one update costs one transaction.
        """
        if self._commit is None:
            self._commit = asyncio.ensure_future(self._commit_staged())
        await asyncio.shield(self._commit)

    async def _commit_staged(self) -> None:
        async with self._lock:
            self._commit = None
            conversations, self._conversation_changes = self._conversation_changes, {}
            users, self._user_changes = self._user_changes, {}
            try:
                await self._write(conversations, users)
            except BaseException:
                # Keep them for the next try, unless something newer was staged meanwhile.
                for slot, state in conversations.items():
                    self._conversation_changes.setdefault(slot, state)
                for user, data in users.items():
                    self._user_changes.setdefault(user, data)
                raise

    async def _write(
        self, conversations: dict[Slot, object | None], users: dict[int, UserData | None]
    ) -> None:
        """Write what the pass staged; what is held in memory changes once it is written.

        Only the touched members' entries are copied and replaced: copying every
        member's (as this did) cost a copy of all live conversations per update,
        16% of the event loop's time in a rush of 3,000 votes, and replacing the whole map
        dropped what other updates changed in it while the write was under way.
        """
        runtime = self._runtime()
        sealer = self._sealer()
        now = runtime.now()
        live: dict[int, dict[Slot, datetime]] = {}  # the touched members' slots, as they become

        def slots_of(user: int) -> dict[Slot, datetime]:
            if user not in live:
                live[user] = dict(self._live.get(user) or {})
            return live[user]

        upserts: dict[str, tuple[str, datetime]] = {}
        deletes: set[str] = set()
        touched = set(users)
        for (name, key), state in conversations.items():
            user = int(key[-1])
            touched.add(user)
            slots = slots_of(user)
            if state is None or name not in self._timeouts:
                slots.pop((name, key), None)
                deletes.add(sealer.conversation_key(name, key))
                continue
            expires = now + self._timeouts[name]
            try:
                row_key, sealed = sealer.seal_conversation(
                    store.ConversationRow(name, key, state, expires)
                )
            except TypeError as exc:
                # A bug to fix, not a reason to stop storing everyone else's steps.
                log.error("conversation %s: its state cannot be stored: %s", name, exc)
                slots.pop((name, key), None)
                deletes.add(sealer.conversation_key(name, key))
                continue
            slots[(name, key)] = expires
            upserts[row_key] = (sealed, expires)
        stored: dict[int, tuple[str, datetime] | None] = {}  # the touched members' drafts
        for user in touched:
            row_key = sealer.user_key(user)
            slots = slots_of(user)
            known = stored[user] if user in stored else self._stored_users.get(user)
            data = users.get(user, _CURRENT)
            if data is _CURRENT:
                data = self._current_user_data(user)
            if not slots or data is None:
                if known is not None:
                    deletes.add(row_key)
                    stored[user] = None
                continue
            expires = max(slots.values())
            try:
                text = store.dumps(data)
            except TypeError as exc:
                # Restoring an older draft would be worse than restoring none.
                log.error("a conversation draft cannot be stored: %s", exc)
                if known is not None:
                    deletes.add(row_key)
                    stored[user] = None
                continue
            if known == (text, store.coarse(expires)):
                continue
            _, sealed = sealer.seal_user(store.UserRow(user, cast(UserData, data)))
            upserts[row_key] = (sealed, expires)
            stored[user] = (text, store.coarse(expires))
        if upserts or deletes:
            async with transaction(runtime.sessions) as session:
                await store.write(session, upserts, deletes)
        for user, slots in live.items():
            if slots:
                self._live[user] = slots
            else:
                self._live.pop(user, None)
        for user, row in stored.items():
            if row is None:
                self._stored_users.pop(user, None)
            else:
                self._stored_users[user] = row

    def _current_user_data(self, user: int) -> UserData | None:
        if self._application is None:
            return None
        data = self._application.user_data.get(user)
        return dict(data) if data is not None else None

    def _user_expiry(self, user: int) -> datetime:
        return store.coarse(max(self._live[user].values()))

    # Timeouts ----------------------------------------------------------------------------

    def end_expired(self, now: datetime, users: Iterable[int] | None = None) -> set[int]:
        """End, in memory, every conversation past its expiry (of ``users``, or everyone's).

        The ended states reach the database with the next `update_persistence`;
        returns the users whose conversations ended, for it to mark. The
        sweep of a shared database (several instances) only forgets its own
        copies: what it believed expired may have been continued elsewhere,
        and the rows go by their own expiry (`delete_expired_rows`).
        """
        application = self._application
        if application is None or not self.enabled:
            return set()
        # The sweep leaves a chat whose update is under way: that update ends it itself,
        # and ending it under a running handler would take the draft from under it.
        busy = getattr(application.update_processor, "busy", None) if users is None else None
        sweeping_shared = self.shared and users is None
        ended: set[int] = set()
        for user in list(self._live) if users is None else users:
            slots = self._live.get(user)
            if not slots:
                continue
            expired = [
                slot
                for slot, expires in slots.items()
                if expires <= now and not (busy is not None and busy(slot[1][0]))
            ]
            all_ended = bool(expired) and len(expired) == len(slots)
            for name, key in expired:
                if sweeping_shared:
                    # Another instance may have taken a later step: the database row
                    # (`delete_expired_rows`, by its own expiry) decides, not this copy.
                    _cancel_timeout(self._handlers[name], key)
                    _drop_quietly(self._handlers[name], key)
                    slots.pop((name, key), None)
                else:
                    _forget(self._handlers[name], key)
            if not expired:
                continue
            ended.add(user)
            if sweeping_shared and not slots:
                self._live.pop(user, None)
                self._stored_users.pop(user, None)
            if all_ended:
                data = application.user_data.get(user)
                for item in [k for k in data or {} if str(k).startswith(DRAFT_PREFIX)]:
                    if data is not None:
                        data.pop(item, None)
        return ended

    async def delete_expired_rows(self, now: datetime) -> int:
        """Rows past their expiry that nothing here knows of (an instance that died, say)."""
        runtime = self._runtime()
        async with self._lock, transaction(runtime.sessions) as session:
            return await store.delete_expired(session, now)


_CURRENT: Any = object()  # "not staged: read the user's data as it is now"


def _differs(data: UserData | None, text: str) -> bool:
    if data is None:
        return True
    try:
        return store.dumps(dict(data)) != text
    except TypeError:  # something unstorable in memory: the stored drafts win
        return True


def _set_quietly(handler: ConversationHandler[Any], key: ConversationKey, state: object) -> None:
    """Set a state as read from the database, not marked for writing back.

    `_conversations` is PTB's TrackingDict; its untracked update is how PTB
    itself loads persisted states.
    """
    conversations: Any = handler._conversations
    conversations.update_no_track({key: state})


def _drop_quietly(handler: ConversationHandler[Any], key: ConversationKey) -> None:
    """Forget a state the database no longer has, without writing a deletion."""
    conversations: Any = handler._conversations
    conversations.data.pop(key, None)


def _cancel_timeout(handler: ConversationHandler[Any], key: ConversationKey) -> None:
    job = handler.timeout_jobs.pop(key, None)
    if job is not None:
        job.schedule_removal()


class _SharedTimeouts(ConversationHandler[Any]):
    """A conversation whose PTB timeout first asks the database whose step was last.

    With several instances, the one that handled a member's earlier step still
    has a timeout job for it after another instance took the next step; run
    blindly, it would tell the member "timed out" mid-conversation and delete
    the other instance's row. Only the instance whose step is still the last
    one runs the timeout. Same fields as its base (``__slots__ = ()``), so a
    built handler takes this class in place (`_guard_timeout`).
    """

    __slots__ = ()

    async def _trigger_timeout(self, context: Any) -> None:
        persistence = persistence_of(context.application)
        key = tuple(context.job.data.conversation_key)
        if persistence is not None and not await persistence.timed_out_here(self, key):
            async with self._timeout_jobs_lock:
                if self.timeout_jobs.get(key) is context.job:
                    del self.timeout_jobs[key]
            return
        await super()._trigger_timeout(context)


def _guard_timeout(persistence: DatabasePersistence, handler: ConversationHandler[Any]) -> None:
    if type(handler) is ConversationHandler:
        handler.__class__ = _SharedTimeouts


def _forget(handler: ConversationHandler[Any], key: ConversationKey) -> None:
    """End one conversation of ``handler`` as its own timeout would, without its update.

    PTB has no public way to end a conversation from outside; `_conversations`
    is its tracked state dict, so the deletion reaches the persistence.
    """
    job = handler.timeout_jobs.pop(key, None)
    if job is not None:
        job.schedule_removal()
    handler._conversations.pop(key, None)


def persistence_of(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> DatabasePersistence | None:
    persistence = application.persistence
    return persistence if isinstance(persistence, DatabasePersistence) else None


async def _expire_for_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before any handler sees the update: the member's expired conversations are over."""
    persistence = persistence_of(context.application)
    user = update.effective_user
    if persistence is None or user is None:
        return
    ended = persistence.end_expired(runtime_of(context).now(), [user.id])
    if ended:
        log.info("a conversation timed out before the member wrote again")


async def expire_conversations(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """End every conversation past its timeout and delete its rows; how many members it ended.

    The JobQueue runs it every minute; tests call it after moving the clock.
    """
    persistence = persistence_of(application)
    if persistence is None or not persistence.enabled:
        return 0
    now = runtime_of(application).now()
    ended = persistence.end_expired(now)
    if ended and not persistence.shared:
        application.mark_data_for_update_persistence(user_ids=ended)
    await application.update_persistence()
    await persistence.delete_expired_rows(now)
    return len(ended)


async def _sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    ended = await expire_conversations(context.application)
    if ended:
        log.info("%d abandoned conversations timed out", ended)
