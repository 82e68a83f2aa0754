"""Pure rules for what members type into their profile.

Kept apart from Telegram and the database so the many cases can be tested
directly (and with hypothesis). Each rule returns the clean value or raises
`InvalidInput` with a code the handler turns into a sentence.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

NAME_MAX = 64
DEPARTMENT_MAX = 64
GROUP_MAX = 64
TAG_MAX = 32
MIN_AGE = 14
MAX_AGE = 110

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


# Control, format, private-use and surrogate characters, except the joiner emoji need.
_REFUSED = frozenset({"Cc", "Cf", "Co", "Cs"})
_ALLOWED = frozenset({"\u200d"})


class InvalidInput(ValueError):
    """Input a member can correct; `code` names what is wrong."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_label(text: str, max_length: int) -> str:
    """Trim, fold runs of white space, refuse control characters and empty or long text."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    if any(unicodedata.category(ch) in _REFUSED and ch not in _ALLOWED for ch in text):
        raise InvalidInput("control")
    if not text:
        raise InvalidInput("empty")
    if len(text) > max_length:
        raise InvalidInput("too_long")
    return text


def clean_name(text: str) -> str:
    name = clean_label(text, NAME_MAX)
    if name.startswith("/"):
        raise InvalidInput("command")
    return name


def clean_department(text: str) -> str:
    name = clean_label(text, DEPARTMENT_MAX)
    if name.startswith("/"):
        raise InvalidInput("command")
    return name


def clean_tag(text: str) -> str:
    tag = clean_label(text, TAG_MAX).lower().replace(" ", "-")
    if not re.fullmatch(r"[\w-]+", tag):
        raise InvalidInput("tag_chars")
    if len(tag) > TAG_MAX:  # lower() can lengthen ("İ" → "i̇"); a member tag holds TAG_MAX
        raise InvalidInput("too_long")
    return tag


def parse_birthday(text: str, today: date) -> date:
    """A full date of birth in the usual Chinese or ISO spellings, for a plausible age."""
    cleaned = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    for pattern in _DATE_PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year, month, day = (int(part) for part in match.groups())
            break
    else:
        raise InvalidInput("format")
    try:
        born = date(year, month, day)
    except ValueError as exc:
        raise InvalidInput("no_such_date") from exc
    if born > today:
        raise InvalidInput("future")
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < MIN_AGE or age > MAX_AGE:
        raise InvalidInput("implausible")
    return born
