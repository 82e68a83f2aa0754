"""Chinese text cut into words for the handbook search, on a trimmed jieba dictionary.

Why trimmed: jieba's own dictionary holds 349,046 words and, loaded, its prefix
table takes about 60 MB of resident memory, the largest single part of the
bot's 200 MB budget. Most of those words are set phrases at the corpus's floor
count of 3 (劳动合同, 困难职工, 法律援助). Keeping the words counted at least
`MIN_FREQUENCY` times leaves 136,547 words in about 20 MB. Search mode still
cuts a dropped phrase into its words (劳动合同 → 劳动 / 合同). An entry and a
query are cut the same way, so the ranking matches them just as well, and
`tests/handbook/test_search.py` holds the searches that must keep working.

The trimmed file is made once from the dictionary jieba ships, written
atomically to a folder of this user's in the temporary directory, so several
processes share the work and never see half a file. The folder is used only if
it is this user's and nobody else may write in it (`private_folder`): a file
another local user put in a shared ``/tmp`` could otherwise change what the
handbook finds, or, as a table with no free slot, stall every search.

Why compact: jieba keeps the words and every prefix of them (178,962 keys)
in a dict of str to int, 27 MiB of the bot's memory even trimmed. `Frequencies`
holds the same table in an open-addressing hash table of flat arrays, 4 MiB,
and answers jieba's three questions of it (``in``, ``[]``, ``get``) alike; a
lookup costs about twice the dict's, and an entry's text is cut once
(`storage.handbook._words` caches it). Made from the trimmed dictionary once
(0.7 s) and saved beside it the same way, it loads in milliseconds.

jieba itself is imported on first use (its HMM tables, 3.4 MiB, and about
0.2 s; `pkg_resources`, which it would also load, is kept out): a process that
never searches the handbook never pays.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import stat
import struct
import sys
import tempfile
import threading
import zlib
from array import array
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

MIN_FREQUENCY = 5

_lock = threading.Lock()
_folder_lock = threading.Lock()
_private: Path | None = None


def _folder() -> Path:
    global _private
    with _folder_lock:
        if _private is None:
            _private = private_folder()
        return _private


_importing = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> ModuleType:
    """jieba, imported on first use (see the docstring) and without `pkg_resources`.

    jieba opens its own files through `pkg_resources` when that imports (4.8 MiB of
    resident memory, for nothing else in the bot) and as plain files beside its
    modules when it does not; made to fail while jieba imports, it is not loaded.
    """
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba

        return jieba
    with _importing:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # an ImportError
        try:
            import jieba
        finally:
            del sys.modules["pkg_resources"]
    return jieba


def _source() -> Path:
    jieba = _jieba()
    return Path(str(jieba.__file__)).with_name(jieba.DEFAULT_DICT_NAME)


def private_folder(base: Path | None = None) -> Path:
    """``union-bot-<uid>`` in the temporary directory, made if missing; if someone else
    owns it or may write in it, a new folder of this process's own instead."""
    root = base or Path(tempfile.gettempdir())
    uid = os.getuid()
    folder = root / f"union-bot-{uid}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    found = folder.lstat()
    if stat.S_ISDIR(found.st_mode) and found.st_uid == uid and not found.st_mode & 0o022:
        return folder
    logging.getLogger(__name__).warning(
        "%s is not this user's own: the dictionary is made in a folder of this process's",
        folder,
    )
    return Path(tempfile.mkdtemp(prefix="union-bot-", dir=root))


def trimmed_dictionary(directory: Path | None = None) -> Path:
    """The path of the trimmed dictionary, written first if it is not there yet."""
    source = _source()
    shipped = source.stat()
    made = f"{source}:{shipped.st_size}:{shipped.st_mtime_ns}"
    tag = hashlib.sha256(made.encode()).hexdigest()[:12]
    folder = directory or _folder()
    path = folder / f"union-bot-jieba-{MIN_FREQUENCY}-{tag}.txt"
    if path.exists():
        return path
    kept: list[bytes] = []
    with source.open("rb") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and int(parts[1]) >= MIN_FREQUENCY:
                kept.append(line if line.endswith(b"\n") else line + b"\n")
    handle, scratch = tempfile.mkstemp(dir=folder, prefix=path.name, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.writelines(kept)
    os.replace(scratch, path)
    return path


class Frequencies:
    """jieba's prefix table, compact and read-only once made: a word's count, 0 for a
    prefix that is no word (jieba looks prefixes up to know when to stop extending).

    An open-addressing hash table: ``_slots`` holds key numbers at the CRC-32 of the
    key's UTF-8 bytes (the same in every process, so the table is saved and loaded
    whole) or the next free slot; key number n is ``_keys[_starts[n]:_starts[n + 1]]``
    and its count ``_counts[n]``.
    """

    __slots__ = ("_counts", "_keys", "_mask", "_slots", "_starts", "total")
    _MAGIC = b"union-bot jieba table 1\n"
    _HEADER = struct.Struct("=QQQQ")  # total, slots, keys, bytes of keys

    def __init__(self) -> None:
        self._mask = (1 << 10) - 1
        self._slots = array("i", [-1]) * (self._mask + 1)
        self._starts = array("I", [0])
        self._counts = array("I")
        self._keys = bytearray()
        self.total = 0  # of the words' counts, as jieba's ``Tokenizer.total``

    @classmethod
    def read(cls, path: Path) -> Frequencies:
        """The table of a jieba dictionary file (``word count [tag]`` a line), as
        jieba's `gen_pfdict` makes it, without the dict of every key it builds first."""
        table = cls()
        with path.open("rb") as lines:
            for line in lines:
                word, frequency, *_ = line.decode("utf-8").split()
                table.total += int(frequency)
                for end in range(1, len(word)):
                    table._put(word[:end].encode("utf-8"), 0, keep=True)
                table._put(word.encode("utf-8"), int(frequency), keep=False)
        return table

    def save(self, path: Path) -> None:
        """Written atomically, for `load` in the next process."""
        handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(self._MAGIC)
            sizes = (self.total, len(self._slots), len(self._counts), len(self._keys))
            out.write(self._HEADER.pack(*sizes))
            for part in (self._slots, self._starts, self._counts):
                part.tofile(out)
            out.write(self._keys)
        os.replace(scratch, path)

    @classmethod
    def load(cls, path: Path) -> Frequencies | None:
        """A table `save` wrote, or None if ``path`` holds none (missing, cut short)."""
        try:
            with path.open("rb") as data:
                if data.read(len(cls._MAGIC)) != cls._MAGIC:
                    return None
                total, slots, keys, size = cls._HEADER.unpack(data.read(cls._HEADER.size))
                table = cls()
                table.total, table._mask = total, slots - 1
                table._slots, table._starts, table._counts = array("i"), array("I"), array("I")
                table._slots.fromfile(data, slots)
                table._starts.fromfile(data, keys + 1)
                table._counts.fromfile(data, keys)
                table._keys = bytearray(size)
                whole = data.readinto(table._keys) == size and not data.read(1)
        except (OSError, EOFError, struct.error):
            return None
        if not whole or not slots or slots & (slots - 1):
            return None
        # Every key number in range and a free slot left, or a lookup would fail or
        # probe for ever: a file not of `save`'s making is made again instead.
        if -1 not in table._slots or max(table._slots) >= keys:
            return None
        return table

    def _slot(self, key: bytes) -> int:
        """The slot holding ``key``, or the free slot where it would go."""
        slots, starts, keys, mask = self._slots, self._starts, self._keys, self._mask
        slot = zlib.crc32(key) & mask
        while (n := slots[slot]) >= 0 and keys[starts[n] : starts[n + 1]] != key:
            slot = (slot + 1) & mask
        return slot

    def _put(self, key: bytes, count: int, *, keep: bool) -> None:
        slot = self._slot(key)
        n = self._slots[slot]
        if n < 0:
            n = self._slots[slot] = len(self._counts)
            self._keys += key
            self._starts.append(len(self._keys))
            self._counts.append(count)
            if 2 * len(self._counts) > self._mask:
                self._grow()
        elif not keep:
            self._counts[n] = count

    def _grow(self) -> None:
        """Twice the slots, every key placed again: the table stays at most half full."""
        self._mask = 2 * self._mask + 1
        self._slots = array("i", [-1]) * (self._mask + 1)
        starts, keys = self._starts, self._keys
        for n in range(len(self._counts)):
            self._slots[self._slot(bytes(keys[starts[n] : starts[n + 1]]))] = n

    def _number(self, key: object) -> int:
        if not isinstance(key, str):
            return -1
        return self._slots[self._slot(key.encode("utf-8"))]

    def __len__(self) -> int:
        return len(self._counts)

    def __contains__(self, key: object) -> bool:
        return self._number(key) >= 0

    def __getitem__(self, key: str) -> int:
        n = self._number(key)
        if n < 0:
            raise KeyError(key)
        return self._counts[n]

    def get(self, key: str, default: int | None = None) -> int | None:
        n = self._number(key)
        return default if n < 0 else self._counts[n]


def frequencies(directory: Path | None = None) -> Frequencies:
    """The trimmed dictionary's table, from the file beside it, made and saved first if
    that is not there yet (0.7 s, against a few milliseconds to load it)."""
    dictionary = trimmed_dictionary(directory)
    path = dictionary.with_suffix(".table")
    table = Frequencies.load(path)
    if table is None:
        table = Frequencies.read(dictionary)
        try:
            table.save(path)
        except OSError:  # another user's file there, a full disk: made again next time
            logging.getLogger(__name__).warning("could not save the dictionary's table")
    return table


def tokenizer() -> jieba.Tokenizer:
    """The process's tokenizer, its dictionary loaded (a second at most) on first use."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba = _jieba()
            jieba.setLogLevel(logging.WARNING)
            table = frequencies()
            made = jieba.Tokenizer(str(trimmed_dictionary()))
            # What `Tokenizer.initialize` sets, from our table instead of its dict.
            made.FREQ, made.total, made.initialized = table, table.total, True
            _tokenizer = made
        return _tokenizer


async def loaded() -> None:
    """Wait, off the event loop, until the dictionary is loaded (the start-up loads it
    in the background, `bot.app`); a search that comes first must not stall every chat."""
    if _tokenizer is None:
        await asyncio.to_thread(tokenizer)


def cut_for_search(text: str) -> list[str]:
    """Words of ``text`` with the shorter words inside long ones (search mode)."""
    return tokenizer().lcut_for_search(text)
