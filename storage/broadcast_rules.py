"""Pure rules for what an admin types into a broadcast: formatted text and the send time.

Kept apart from Telegram and the database so the many cases are tested
directly. Each rule returns the clean value or raises an error with a code the
handler turns into a sentence in the admin's language.

Formatted text follows Telegram's HTML parse mode. The check here is
deliberately a little stricter than Telegram (every ``&`` must start a
reference ending in ``;``, a link needs an ``href``, custom emoji are not
offered), so whatever it accepts Telegram accepts too: a broadcast never
turns into ten thousand "400 Bad Request: can't parse entities" rows. The
tests hold it against the sandbox's copy of Telegram's parser.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

TEXT_MAX = 4096  # Telegram's limit for a message, counted after parsing the markup
CAPTION_MAX = 1024  # … and for the caption of a photo or document
SCHEDULE_MAX_AHEAD = timedelta(days=366)
SCHEDULE_MIN_AHEAD = timedelta(minutes=1)

# Tags Telegram understands (tg-emoji aside: custom emoji need a paid bot).
TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
    }
)
SHOWN_TAGS = ("b", "i", "u", "s", "a href", "code", "pre", "blockquote", "tg-spoiler")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\x0b\x0c"


class MarkupError(ValueError):
    """Markup that Telegram would refuse (or that we refuse to be safe).

    ``code`` names the problem; ``tag`` and ``expected`` name the tags involved
    and ``position`` is the index in the text where it was found; ``english``
    says it is in a broadcast's English version rather than its Chinese one.
    """

    def __init__(
        self, code: str, position: int, tag: str = "", expected: str = "", *, english: bool = False
    ) -> None:
        super().__init__(code)
        self.code = code
        self.position = position
        self.tag = tag
        self.expected = expected
        self.english = english


@dataclass
class _Open:
    name: str
    position: int


def _reference(markup: str, start: int) -> tuple[str, int]:
    """Decode the character reference at ``start``; return it and where it ends."""
    end = markup.find(";", start)
    if end < 0 or end - start > 10:
        raise MarkupError("ampersand", start)
    body = markup[start + 1 : end]
    if body in _NAMED:
        return _NAMED[body], end + 1
    match = re.fullmatch(r"#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}))", body)
    if match is None:
        raise MarkupError("ampersand", start)
    code = int(match[1]) if match[1] is not None else int(match[2], 16)
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise MarkupError("ampersand", start)
    return chr(code), end + 1


def _attributes(markup: str, pos: int, tag: str, start: int) -> tuple[dict[str, str], int]:
    """Read ``name="value"`` pairs up to the closing ``>``; return them and the end."""
    found: dict[str, str] = {}
    while True:
        while pos < len(markup) and markup[pos] in _SPACES:
            pos += 1
        if pos >= len(markup):
            raise MarkupError("unclosed_tag", start, tag)
        if markup[pos] == ">":
            return found, pos + 1
        name_start = pos
        while pos < len(markup) and markup[pos] not in _SPACES + "=>\"'<":
            pos += 1
        name = markup[name_start:pos].lower()
        if not name:
            raise MarkupError("bad_attribute", start, tag)
        while pos < len(markup) and markup[pos] in _SPACES:
            pos += 1
        if pos >= len(markup):
            raise MarkupError("unclosed_tag", start, tag)
        if markup[pos] != "=":
            if tag == "blockquote" and name == "expandable":
                found[name] = ""
                continue
            raise MarkupError("bad_attribute", start, tag)
        pos += 1
        while pos < len(markup) and markup[pos] in _SPACES:
            pos += 1
        if pos >= len(markup) or markup[pos] not in "\"'":
            # Unquoted values are legal HTML but a common slip; asking for quotes is clearer.
            raise MarkupError("bad_attribute", start, tag)
        close = markup.find(markup[pos], pos + 1)
        if close < 0:
            raise MarkupError("unclosed_tag", start, tag)
        found[name] = html.unescape(markup[pos + 1 : close])
        pos = close + 1


def _start_tag(markup: str, pos: int) -> tuple[_Open, int]:
    end = pos + 1
    while end < len(markup) and markup[end] not in _SPACES + ">":
        end += 1
    name = markup[pos + 1 : end].lower()
    if name not in TAGS:
        raise MarkupError("unsupported_tag", pos, name)
    attributes, after = _attributes(markup, end, name, pos)
    if name == "a" and not attributes.get("href", "").strip():
        raise MarkupError("link_without_href", pos, name)
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise MarkupError("span_class", pos, name)
    return _Open(name, pos), after


def visible_text(markup: str) -> str:
    """The text members will read, once Telegram has applied the markup.

    Raises MarkupError at the first problem, reading left to right.
    """
    out: list[str] = []
    stack: list[_Open] = []
    pos = 0
    while pos < len(markup):
        char = markup[pos]
        if char == "&":
            value, pos = _reference(markup, pos)
            out.append(value)
        elif char == "<" and markup.startswith("</", pos):
            end = markup.find(">", pos)
            if end < 0:
                raise MarkupError("unclosed_tag", pos)
            name = markup[pos + 2 : end].strip(_SPACES).lower()
            if not stack:
                raise MarkupError("unexpected_end", pos, name)
            if stack[-1].name != name:
                raise MarkupError("mismatched_end", pos, name, stack[-1].name)
            stack.pop()
            pos = end + 1
        elif char == "<":
            opened, pos = _start_tag(markup, pos)
            stack.append(opened)
        else:
            found = [p for p in (markup.find("&", pos), markup.find("<", pos)) if p >= 0]
            nxt = min(found) if found else len(markup)
            out.append(markup[pos:nxt])
            pos = nxt
    if stack:
        raise MarkupError("unclosed", stack[-1].position, stack[-1].name)
    return "".join(out)


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class ContentError(ValueError):
    """Content that cannot be sent as it is (``code``: empty, too_long)."""

    def __init__(self, code: str, limit: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.limit = limit


def check_content(visible: str, *, has_media: bool) -> None:
    """A message needs some text unless it carries a file; both have length limits."""
    limit = CAPTION_MAX if has_media else TEXT_MAX
    if not has_media and not visible.strip():
        raise ContentError("empty")
    if utf16_length(visible) > limit:
        raise ContentError("too_long", limit)


def snippet(markup: str, position: int, width: int = 12) -> str:
    """A short piece of the text around ``position``, to show where a problem is."""
    start = max(0, position - width)
    piece = markup[start : position + width].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if position + width < len(markup) else "")


# When to send ----------------------------------------------------------------

_WHEN_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T]*(\d{1,2})[:：](\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]? *(\d{1,2})[:：点时](\d{2})?分?$"),
)


class InvalidTime(ValueError):
    """A send time the admin can correct; ``code``: format, no_such_time, past, too_far."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_send_time(text: str, zone: tzinfo, now: datetime) -> datetime:
    """A date and time in the union's zone, like 2026-12-01 09:00, as an aware UTC datetime.

    Also takes 2026/12/1 9:00 and 2026年12月1日 9点 (or 9:30). It must be at
    least a minute ahead, so a broadcast is never "scheduled" into the past,
    and at most a year ahead, which catches a mistyped year.
    """
    cleaned = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    for pattern in _WHEN_PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year, month, day, hour = (int(part) for part in match.groups()[:4])
            minute = int(match[5] or 0)
            break
    else:
        raise InvalidTime("format")
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=zone)
    except ValueError:
        raise InvalidTime("no_such_time") from None
    when = local.astimezone(now.tzinfo)
    if when < now + SCHEDULE_MIN_AHEAD:
        raise InvalidTime("past")
    if when > now + SCHEDULE_MAX_AHEAD:
        raise InvalidTime("too_far")
    return when
