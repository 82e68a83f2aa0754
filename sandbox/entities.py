"""Message entities: UTF-16 arithmetic, detection in user text, and Telegram's trimming.

Telegram measures entity offsets and lengths in UTF-16 code units, so an emoji
outside the Basic Multilingual Plane counts 2 while a Chinese character counts 1.
Every piece of the sandbox that creates or shifts entities goes through here so
that rule lives in one place.
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]

# Whitespace Telegram strips from both ends of a message text or caption.
_TRIM_CHARS = " \t\n\r\x0b\x0c"

# Patterns for entities Telegram detects by itself in the text a user sends.
_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![\w@])")
_HASHTAG = re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")
_URL = re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,:;!?)]}'\""


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, start: int, end: int) -> str:
    """Return the part of ``text`` between two UTF-16 offsets.

    Offsets that split a surrogate pair come from a malformed entity; the broken
    half is replaced rather than raising, because display must never fail.
    """
    raw = text.encode("utf-16-le")
    return raw[2 * start : 2 * end].decode("utf-16-le", errors="replace")


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Order entities the way Telegram returns them: by offset, outer ones first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace and shift entities, as Telegram does on send.

    Entities are clipped to the surviving text; ones left empty are dropped.
    """
    stripped_left = text.lstrip(_TRIM_CHARS)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIM_CHARS)
    total = utf16_len(result)
    kept: list[Entity] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, sort_entities(kept)


def clean_entities(text: str, entities: list[Any]) -> list[Entity]:
    """Keep only well-formed entities that fit inside ``text``.

    Telegram silently drops entities it cannot place instead of failing the
    request, so a bot passing ``entities`` gets the same leniency here.
    """
    total = utf16_len(text)
    kept: list[Entity] = []
    for entity in entities:
        if not isinstance(entity, dict):
            continue
        kind, offset, length = entity.get("type"), entity.get("offset"), entity.get("length")
        if not isinstance(kind, str) or not isinstance(offset, int):
            continue
        if not isinstance(length, int) or length <= 0 or offset < 0:
            continue
        end = min(total, offset + length)
        if end > offset:
            kept.append({**entity, "offset": offset, "length": end - offset})
    return sort_entities(kept)


def _span(text: str, start: int, end: int) -> tuple[int, int]:
    """Convert a Python string span into (UTF-16 offset, UTF-16 length)."""
    offset = utf16_len(text[:start])
    return offset, utf16_len(text[start:end])


def detect_entities(text: str) -> list[Entity]:
    """Find the entities Telegram adds to plain user text.

    Covers what a bot reacts to: ``bot_command`` (``/cmd`` and ``/cmd@Bot``, anywhere
    in the text), ``mention``, ``hashtag`` and ``url``. Overlaps resolve in favour of
    the earlier pattern in that list.
    """
    taken: list[tuple[int, int]] = []
    found: list[Entity] = []

    def add(kind: str, start: int, end: int) -> None:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            return
        taken.append((start, end))
        offset, length = _span(text, start, end)
        found.append({"type": kind, "offset": offset, "length": length})

    for match in _COMMAND.finditer(text):
        add("bot_command", match.start(), match.end())
    for match in _URL.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in _URL_TAIL:
            end -= 1
        add("url", match.start(), end)
    for match in _MENTION.finditer(text):
        add("mention", match.start(), match.end())
    for match in _HASHTAG.finditer(text):
        add("hashtag", match.start(), match.end())
    return sort_entities(found)
