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
atomically to the temporary directory, and then loaded through jieba's own
prefix cache, so several processes share the work and never see half a file.

jieba itself is imported on first use (it pulls in `pkg_resources` and its HMM
tables, about 0.2 s): a process that never searches the handbook never pays.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

MIN_FREQUENCY = 5

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _source() -> Path:
    import jieba  # on first use, see the docstring

    return Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)


def trimmed_dictionary(directory: Path | None = None) -> Path:
    """The path of the trimmed dictionary, written first if it is not there yet."""
    source = _source()
    stat = source.stat()
    tag = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    folder = directory or Path(tempfile.gettempdir())
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


def tokenizer() -> jieba.Tokenizer:
    """The process's tokenizer, its dictionary loaded (a second at most) on first use."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba  # on first use, see the docstring

            jieba.setLogLevel(logging.WARNING)
            made = jieba.Tokenizer(str(trimmed_dictionary()))
            made.initialize()
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
