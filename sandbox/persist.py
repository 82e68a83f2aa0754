"""Keeping the sandbox world across restarts: one JSON file plus a folder of file contents.

The demo is somewhere people come back to: a member who registered yesterday
expects their chat with the bot, the cadre group and the photos they sent to
still be there after ``union-bot demo`` is started again. The database keeps the
bot's side; this module keeps Telegram's side.

What is kept: users (people and bot accounts), groups with their members, private
chats, messages as they are now (edits applied, deletions flagged, inline and
reply keyboards), pinned messages, invite links, files, every bot's stored
command lists and update counter, and the event and file counters. What is not:
pending updates (Telegram would not keep them for a bot that was away that long
either), button presses, chat actions, the call log, faults and limits.

File contents are stored beside the JSON in ``<name>.files/`` under their
content hash (``file_unique_id``), so a photo is written once however often it is
sent, and the JSON stays small. Every write goes to a temporary file that is then
renamed over the old one, so a crash mid-save leaves the previous state intact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from sandbox.state import (
    BotAccount,
    ChatRecord,
    FileRecord,
    InviteLink,
    KeyboardState,
    MemberRecord,
    MessageRecord,
    UserRecord,
    World,
)

log = logging.getLogger(__name__)

FORMAT = 1
JSON = dict[str, Any]
T = TypeVar("T")


class StateFileError(ValueError):
    """The state file exists but cannot be read as a sandbox world."""


def files_dir(state_file: Path) -> Path:
    """Where the contents of files live for ``state_file``."""
    return state_file.with_name(state_file.name + ".files")


# ----------------------------------------------------------------------------- saving


def _chat_json(chat: ChatRecord) -> JSON:
    return {
        "id": chat.id,
        "type": chat.type,
        "title": chat.title,
        "username": chat.username,
        "bot_id": chat.bot_id,
        "next_message_id": chat.next_message_id,
        "pinned": list(chat.pinned),
        "blocked": chat.blocked,
        "chat_instance": chat.chat_instance,
        "members": [asdict(m) for m in chat.members.values()],
        "messages": [asdict(m) for m in chat.messages.values()],
        "keyboards": [
            {"user_id": user_id, **asdict(state)} for user_id, state in chat.keyboards.items()
        ],
        "invite_links": [asdict(link) for link in chat.invite_links.values()],
    }


def _file_json(record: FileRecord) -> JSON:
    data = asdict(record)
    del data["data"]
    return data


def _bot_json(bot: BotAccount) -> JSON:
    return {
        "id": bot.id,
        "next_update_id": bot.updates.next_id,
        "commands": [
            {"scope": scope, "language": language, "commands": commands}
            for (scope, language), commands in bot.commands.items()
        ],
    }


def snapshot(world: World) -> JSON:
    """The world as JSON-ready data (file contents are referenced, not included)."""
    chats = [*world.groups.values(), *world.private.values()]
    return {
        "format": FORMAT,
        "saved_at": time.time(),
        "event_seq": world.events.last_seq,
        "file_counter": world.file_counter,
        "users": [asdict(user) for user in world.users.values()],
        "bots": [_bot_json(bot) for bot in world.bots.values()],
        "chats": [_chat_json(chat) for chat in chats],
        "files": [_file_json(record) for record in world.files.values()],
    }


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_snapshot(path: Path, data: JSON, fresh: dict[str, bytes], keep: set[str]) -> None:
    """Write new file contents, then the JSON, then drop contents no file names any more.

    ``fresh`` maps ``file_unique_id`` to bytes for contents that may not be on disk
    yet; ``keep`` names contents already written. Blocking: the keeper runs it in a
    thread.
    """
    folder = files_dir(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        folder.mkdir(exist_ok=True)
    for unique_id, blob in fresh.items():
        target = folder / unique_id
        if not target.exists():
            _write_atomically(target, blob)
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    _write_atomically(path, encoded)
    if folder.is_dir():
        wanted = keep | set(fresh)
        for stale in folder.iterdir():
            if stale.name not in wanted and not stale.name.startswith("."):
                stale.unlink(missing_ok=True)


def save(world: World, path: Path) -> None:
    """Save the world to ``path`` now (blocking; for tests and tools)."""
    write_snapshot(path, snapshot(world), _contents(world), set())


def _contents(world: World) -> dict[str, bytes]:
    return {record.file_unique_id: record.data for record in world.files.values()}


# ----------------------------------------------------------------------------- loading


def _build(cls: type[T], data: Any) -> T:
    """A dataclass from a JSON object, ignoring keys a later format may have added."""
    if not isinstance(data, dict):
        raise StateFileError(f"expected an object for {cls.__name__}")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]  # T is one of our dataclasses
    return cls(**{k: v for k, v in data.items() if k in names})


def _objects(data: JSON, key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise StateFileError(f"{key} must be a list")
    return value


@dataclass
class _Loaded:
    """A parsed state file, applied to the world only once all of it parsed."""

    users: list[UserRecord] = field(default_factory=list)
    chats: list[ChatRecord] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    bots: list[_BotState] = field(default_factory=list)
    event_seq: int = 0
    file_counter: int = 0


@dataclass
class _BotState:
    """What is kept of a bot: its update counter and its stored command lists."""

    id: int
    next_update_id: int
    commands: dict[tuple[str, str], list[dict[str, str]]]


def _parse_bot(data: Any) -> _BotState:
    if not isinstance(data, dict):
        raise StateFileError("a bot must be an object")
    commands: dict[tuple[str, str], list[dict[str, str]]] = {}
    for entry in _objects(data, "commands"):
        if not isinstance(entry, dict) or not isinstance(entry.get("commands"), list):
            raise StateFileError("a command list must be an object with commands")
        commands[(str(entry["scope"]), str(entry["language"]))] = list(entry["commands"])
    return _BotState(int(data["id"]), int(data.get("next_update_id", 1)), commands)


def _parse_chat(data: Any) -> ChatRecord:
    if not isinstance(data, dict):
        raise StateFileError("a chat must be an object")
    chat = ChatRecord(
        id=int(data["id"]),
        type=str(data["type"]),
        title=data.get("title"),
        username=data.get("username"),
        bot_id=data.get("bot_id"),
        next_message_id=int(data.get("next_message_id", 1)),
        pinned=[int(m) for m in data.get("pinned", [])],
        blocked=bool(data.get("blocked", False)),
    )
    if data.get("chat_instance"):
        chat.chat_instance = str(data["chat_instance"])
    for item in _objects(data, "members"):
        member = _build(MemberRecord, item)
        chat.members[member.user_id] = member
    for item in _objects(data, "messages"):
        message = _build(MessageRecord, item)
        chat.messages[message.message_id] = message
    for item in _objects(data, "keyboards"):
        state = _build(KeyboardState, item)
        user_id = item.get("user_id")
        chat.keyboards[None if user_id is None else int(user_id)] = state
    for item in _objects(data, "invite_links"):
        link = _build(InviteLink, item)
        chat.invite_links[link.link] = link
    return chat


def _parse(raw: bytes, folder: Path) -> _Loaded:
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise StateFileError(f"not valid JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError(f"not a sandbox state file of format {FORMAT}")
    loaded = _Loaded(
        event_seq=int(data.get("event_seq", 0)), file_counter=int(data.get("file_counter", 0))
    )
    loaded.users = [_build(UserRecord, item) for item in _objects(data, "users")]
    loaded.chats = [_parse_chat(item) for item in _objects(data, "chats")]
    loaded.bots = [_parse_bot(item) for item in _objects(data, "bots")]
    for item in _objects(data, "files"):
        if not isinstance(item, dict):
            raise StateFileError("a file must be an object")
        blob = folder / str(item.get("file_unique_id", ""))
        if not blob.is_file():
            log.warning("sandbox state: the contents of a %s are missing", item.get("kind"))
            continue
        loaded.files.append(_build(FileRecord, {**item, "data": blob.read_bytes()}))
    return loaded


def _apply(world: World, loaded: _Loaded) -> None:
    for user in loaded.users:
        if user.id not in world.bots:  # configured bots keep today's name and username
            world.users[user.id] = user
    for chat in loaded.chats:
        if chat.is_private:
            if chat.bot_id in world.bots and chat.id in world.users:
                world.private[(chat.bot_id, chat.id)] = chat
            continue
        chat.members = {uid: m for uid, m in chat.members.items() if uid in world.users}
        world.groups[chat.id] = chat
        for link in chat.invite_links.values():
            world.invite_links[link.link] = link
    for chat in [*world.groups.values(), *world.private.values()]:
        for message in chat.messages.values():
            if message.sender_id not in world.users:
                world.users[message.sender_id] = UserRecord(
                    message.sender_id, "Deleted Account", language_code=None
                )
    for record in loaded.files:
        world.add_file(record)
    for kept in loaded.bots:
        bot = world.bots.get(kept.id)
        if bot is not None:  # a bot no longer configured keeps only its account
            bot.updates.continue_from(kept.next_update_id)
            bot.commands.update(kept.commands)
    world.events.continue_from(loaded.event_seq)
    world.continue_file_numbers(loaded.file_counter)


def load(world: World, path: Path) -> bool:
    """Fill a fresh world from ``path``; False if there is no such file.

    Raises :class:`StateFileError` (and changes nothing) if the file is unreadable.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False
    try:
        loaded = _parse(raw, files_dir(path))
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, StateFileError):
            raise
        raise StateFileError(f"unexpected content ({error!r})") from None
    _apply(world, loaded)
    return True


# ----------------------------------------------------------------------------- keeping


class StateKeeper:
    """Loads the world at start, saves it when it changed (every few seconds) and at stop."""

    def __init__(self, world: World, path: Path, interval: float = 2.0) -> None:
        self.world = world
        self.path = path
        self.interval = interval
        self._saved_seq = -1
        self._on_disk: set[str] = set()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def load(self) -> bool:
        """Load the state file if there is one; an unreadable one is set aside, not lost."""
        try:
            found = load(self.world, self.path)
        except (OSError, StateFileError) as error:
            aside = self.path.with_name(f"{self.path.name}.broken-{int(time.time())}")
            with contextlib.suppress(OSError):
                self.path.rename(aside)
            log.warning(
                "sandbox state %s could not be read (%s); starting with an empty world, "
                "the old file is kept as %s",
                self.path,
                error,
                aside.name,
            )
            found = False
        self._saved_seq = self.world.events.last_state_seq
        if found:
            self._on_disk = {r.file_unique_id for r in self.world.files.values()}
        return found

    def start(self) -> None:
        """Begin saving in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="sandbox-state-saver"
            )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.save_if_changed()
            except OSError as error:
                log.warning("sandbox state not saved to %s: %s", self.path, error)

    async def save_if_changed(self) -> bool:
        """Save when something lasting happened since the last save; True if it saved."""
        if self.world.events.last_state_seq == self._saved_seq:
            return False
        await self.save()
        return True

    async def save(self) -> None:
        """Snapshot on the loop (a consistent world), write in a thread (the loop stays free)."""
        async with self._lock:
            seq = self.world.events.last_state_seq
            data = snapshot(self.world)
            contents = _contents(self.world)
            keep = self._on_disk & set(contents)
            fresh = {k: v for k, v in contents.items() if k not in keep}
            await asyncio.to_thread(write_snapshot, self.path, data, fresh, keep)
            self._on_disk = set(contents)
            self._saved_seq = seq

    async def stop(self) -> None:
        """Stop the background saver and save one last time (a failure is logged: the
        server must still shut down and free its port)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.save()
        except OSError as error:
            log.error("sandbox state not saved to %s: %s", self.path, error)
