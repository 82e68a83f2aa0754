"""The order people and departments are listed in: by pinyin, as a Chinese reader looks them up.

Code point order puts 张 (U+5F20) before 李 (U+674E) and 阿 (U+963F) last; a
phone book puts 阿明 first and 张三 last. `name_key` reads Chinese characters as
toneless pinyin (tones, then the text itself, break ties) and Latin letters
casefolded, so "Mary" sits between 李四 and 王五 in either language: a Chinese
name has no better order for an English reader either. `person_key` reads the
first character as a surname, where many characters read differently (曾 is
zēng as a surname, céng in 曾经).

pypinyin's phrase dictionary (readings that depend on the next character, as
行 in 银行) takes 44 MB of memory once imported, a fifth of the bot's budget,
for what is an ordering key. So it is left out (`PYPINYIN_NO_PHRASES`, read
when pypinyin is first imported) and the few phrases that open workplace names
with another reading are given here (`PHRASES`); any other character reads as
its most common reading, which can only move a name within its letter.

pypinyin itself (its character dictionary: about 0.06 s, several times that on a
loaded machine) is imported at the first name read, not with the bot: nothing
before the first answer needs a name's place in a list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import cache, lru_cache, partial
from typing import TypeVar

# Read by pypinyin when it is first imported (`_reader`), wherever that happens.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")

T = TypeVar("T")
_TONE = re.compile(r"([a-zü]+)([1-5]?)$")

# Surnames whose reading as a surname differs from the character's first reading.
SURNAMES = {
    "曾": "zeng1",
    "单": "shan4",
    "解": "xie4",
    "仇": "qiu2",
    "朴": "piao2",
    "区": "ou1",
    "查": "zha1",
    "盖": "ge3",
    "乐": "yue4",
    "覃": "qin2",
    "翟": "zhai2",
    "缪": "miao4",
    "华": "hua4",
    "种": "chong2",
    "尉": "yu4",
    "长": "zhang3",
    "秘": "bi4",
    "员": "yun4",
    "繁": "po2",
    "牟": "mu4",
    "召": "shao4",
    "折": "she2",
    "薄": "bo2",
    "过": "guo1",
    "重": "chong2",
    "曲": "qu1",
    "句": "gou1",
    "宿": "su4",
    "沈": "shen3",
}

# Workplace words whose first or second character has another reading in them.
PHRASES: dict[str, list[list[str]]] = {
    "银行": [["yín"], ["háng"]],
    "会计": [["kuài"], ["jì"]],
    "重庆": [["chóng"], ["qìng"]],
    "厂长": [["chǎng"], ["zhǎng"]],
    "调度": [["diào"], ["dù"]],
    "行长": [["háng"], ["zhǎng"]],
    "仓储": [["cāng"], ["chǔ"]],
    "装卸": [["zhuāng"], ["xiè"]],
    "供应": [["gōng"], ["yìng"]],
    "校长": [["xiào"], ["zhǎng"]],
}

Key = tuple[tuple[str, ...], tuple[str, ...], str]


_HAN = re.compile(r"([\u3400-\u9fff\uf900-\ufaff]+)")


def _syllable(reading: str) -> tuple[str, str]:
    found = _TONE.match(reading)
    return (found.group(1), found.group(2) or "5") if found else (reading, "5")


def _key(text: str, read: Callable[[str, bool], list[str]]) -> Key:
    """Han runs read as toneless syllables plus their tones; anything else (Latin,
    digits, marks) as it is, casefolded, with no tone."""
    letters: list[str] = []
    tones: list[str] = []
    for index, run in enumerate(_HAN.split(text.strip())):
        if index % 2:  # a Han run (split keeps them at the odd places)
            for reading in read(run, index == 1 and not letters):
                syllable, tone = _syllable(reading)
                letters.append(syllable)
                tones.append(tone)
        elif run.strip():
            letters.append(run.strip().casefold())
            tones.append("")
    return tuple(letters), tuple(tones), text


@cache
def _reader() -> Callable[[str], list[str]]:
    """pypinyin, imported and given `PHRASES` when the first name is read."""
    from pypinyin import Style, lazy_pinyin, load_phrases_dict

    load_phrases_dict(PHRASES)
    return partial(lazy_pinyin, style=Style.TONE3, neutral_tone_with_five=True)


def _pinyin(text: str) -> list[str]:
    return _reader()(text)


@lru_cache(maxsize=4096)
def name_key(text: str) -> Key:
    """A department's, a group's or any name's place in a list (words read as words)."""
    return _key(text, lambda run, _first: _pinyin(run))


@lru_cache(maxsize=8192)
def _reading(char: str) -> str:
    return _pinyin(char)[0]


def _as_name(run: str, first: bool) -> list[str]:
    readings = [_reading(char) for char in run]
    if first and run[0] in SURNAMES:
        readings[0] = SURNAMES[run[0]]
    return readings


def person_key(name: str) -> Key:
    """A person's place in a list: the first character read as a surname, the others
    one by one (a given name is no phrase; and so a list of 100,000 sorts in a second)."""
    return _key(name, _as_name)


_CONTROL = re.compile(r"[\x00-\x1f]")


def _packed(parts: tuple[str, ...]) -> bytes:
    """Parts joined by 0x01 and closed by 0x00, bytes lower than any character a part
    holds (control characters are dropped), so the bytes compare as the tuple does."""
    return b"\x01".join(_CONTROL.sub("", part).encode() for part in parts) + b"\x00"


def sort_key(name: str) -> bytes:
    """`person_key` as bytes that sort the same way compared byte by byte.

    Stored beside a member's name (`members.sort_key`, written whenever the name
    is) so the database orders and pages 100,000 members in pinyin order from an
    index; bytes, because SQLite's BLOB and PostgreSQL's bytea both compare them
    as bytes, whatever collation the database was made with. UTF-8 keeps code
    point order, which is how Python compares the key's strings.
    """
    letters, tones, text = person_key(name)
    return _packed(letters) + _packed(tones) + _CONTROL.sub("", text).encode()


def by_name(items: Iterable[T], name: Callable[[T], str]) -> list[T]:
    """`items` in pinyin order of `name(item)`."""
    return sorted(items, key=lambda item: name_key(name(item)))


def by_person(items: Iterable[T], name: Callable[[T], str]) -> list[T]:
    """`items` in pinyin order of the person `name(item)`, surnames read as surnames."""
    return sorted(items, key=lambda item: person_key(name(item)))
