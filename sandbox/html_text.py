"""Telegram's HTML parse mode: parse markup into (text, entities) and render entities back.

:func:`parse_html` follows the rules of TDLib's ``parse_html`` (which the Bot API
uses), including its error messages, so a bot that sends broken markup gets the
same ``400 Bad Request: can't parse entities: ...`` it would get from Telegram.

One deliberate difference makes the sandbox stricter than Telegram: an ``&`` that
does not start one of the supported character references is an error here, while
Telegram keeps it literally. Unescaped user text is the commonest HTML bug in bots
("Tom & Jerry" survives Telegram, "&lt;3" is silently mangled), and this catches
it in tests.

:func:`render_html` goes the other way for the web chat: it turns text plus
entities into HTML that is safe to put into a page (everything escaped, links
limited to harmless schemes).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from sandbox.entities import Entity, sort_entities, utf16_len, utf16_slice

# Tag name -> entity type. "span" and "a" are handled specially below.
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\x0b\x0c"


class HtmlParseError(ValueError):
    """Markup Telegram would reject; the message is the part after "can't parse entities: "."""


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag, with where its entity begins."""

    name: str
    attributes: dict[str, str]
    offset: int
    byte_offset: int
    children: list[Entity] = field(default_factory=list)


class _Parser:
    """One pass over the markup, building plain text and entities as it goes."""

    def __init__(self, markup: str) -> None:
        self.src = markup
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0  # UTF-16 length of the text produced so far
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def byte_offset(self, index: int) -> int:
        """Telegram reports error positions as UTF-8 byte offsets into the markup."""
        return len(self.src[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def run(self) -> tuple[str, list[Entity]]:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                self.emit(self.reference(self.pos))
            elif char == "<":
                if src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                nxt = self._next_special(self.pos)
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return "".join(self.out), sort_entities(self.entities)

    def _next_special(self, start: int) -> int:
        positions = [p for p in (self.src.find("&", start), self.src.find("<", start)) if p >= 0]
        return min(positions) if positions else len(self.src)

    def reference(self, start: int) -> str:
        """Decode a character reference at ``start`` and advance past it."""
        src = self.src
        end = start + 1
        value: str | None = None
        if src.startswith("&#", start):
            end = start + 2
            hexadecimal = end < len(src) and src[end] in "xX"
            if hexadecimal:
                end += 1
            digits_start = end
            allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            while end < len(src) and src[end] in allowed:
                end += 1
            digits = src[digits_start:end]
            if digits:
                code = int(digits, 16 if hexadecimal else 10)
                if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    value = chr(code)
        else:
            while end < len(src) and src[end].isascii() and src[end].isalpha():
                end += 1
            value = _NAMED_REFERENCES.get(src[start + 1 : end])
        if value is None:
            raise HtmlParseError(
                f'Character "&" at byte offset {self.byte_offset(start)} must be escaped as '
                '"&amp;" (only &lt; &gt; &amp; &quot; and numeric references are supported)'
            )
        if end < len(src) and src[end] == ";":
            end += 1
        self.pos = end
        return value

    def start_tag(self) -> None:
        src = self.src
        begin = self.pos
        end = begin + 1
        while end < len(src) and src[end] not in _SPACES and src[end] != ">":
            end += 1
        name = src[begin + 1 : end].lower()
        if name not in _SIMPLE_TAGS:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        self.pos = end
        attributes = self.attributes(name, begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise HtmlParseError(
                f'Tag "tg-emoji" must have a numeric "emoji-id" at byte offset '
                f"{self.byte_offset(begin)}"
            )
        self.stack.append(_OpenTag(name, attributes, self.out_len, self.byte_offset(begin)))

    def attributes(self, tag: str, begin: int) -> dict[str, str]:
        """Read attributes up to and including the closing ``>`` of a start tag."""
        src = self.src
        found: dict[str, str] = {}
        unclosed = HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        while True:
            while self.pos < len(src) and src[self.pos] in _SPACES:
                self.pos += 1
            if self.pos >= len(src):
                raise unclosed
            if src[self.pos] == ">":
                self.pos += 1
                return found
            name_start = self.pos
            while self.pos < len(src) and src[self.pos] not in _SPACES + "=>":
                self.pos += 1
            name = src[name_start : self.pos].lower()
            if not name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset '
                    f"{self.byte_offset(begin)}"
                )
            while self.pos < len(src) and src[self.pos] in _SPACES:
                self.pos += 1
            if self.pos >= len(src):
                raise unclosed
            if src[self.pos] != "=":
                if tag == "blockquote" and name == "expandable":
                    found[name] = ""
                    continue
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag at byte "
                    f"offset {self.byte_offset(begin)}"
                )
            self.pos += 1
            while self.pos < len(src) and src[self.pos] in _SPACES:
                self.pos += 1
            if self.pos >= len(src):
                raise unclosed
            found[name] = self.attribute_value(unclosed)

    def attribute_value(self, unclosed: HtmlParseError) -> str:
        src = self.src
        quote = src[self.pos]
        if quote in "\"'":
            close = src.find(quote, self.pos + 1)
            if close < 0:
                raise unclosed
            raw = src[self.pos + 1 : close]
            self.pos = close + 1
        else:
            start = self.pos
            while self.pos < len(src) and src[self.pos] not in _SPACES + ">":
                self.pos += 1
            raw = src[start : self.pos]
        return html.unescape(raw)

    def end_tag(self) -> None:
        src = self.src
        begin = self.pos
        end = src.find(">", begin)
        if end < 0:
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        name = src[begin + 2 : end].strip(_SPACES).lower()
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        top = self.stack[-1]
        if name != top.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        self.stack.pop()
        self.close(top)

    def close(self, tag: _OpenTag) -> None:
        """Turn a finished tag into its entity (empty ones vanish, as in Telegram)."""
        length = self.out_len - tag.offset
        kind = _SIMPLE_TAGS[tag.name]
        entity: Entity = {"type": kind, "offset": tag.offset, "length": length}
        if tag.name == "a":
            href = tag.attributes.get("href", "").strip()
            if not href:
                return
            entity["url"] = href
        elif tag.name == "blockquote" and "expandable" in tag.attributes:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attributes["emoji-id"]
        elif tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            language = tag.attributes.get("class", "")
            if language.startswith("language-") and len(language) > len("language-"):
                entity["language"] = language[len("language-") :]
        elif tag.name == "pre":
            self._merge_code_into_pre(entity)
        if length > 0:
            self.entities.append(entity)

    def _merge_code_into_pre(self, pre: Entity) -> None:
        """``<pre><code class="language-x">`` is one pre entity with a language."""
        for index in range(len(self.entities) - 1, -1, -1):
            candidate = self.entities[index]
            if candidate["offset"] < pre["offset"]:
                break
            same_span = (
                candidate["offset"] == pre["offset"] and candidate["length"] == pre["length"]
            )
            if candidate["type"] == "code" and same_span:
                if "language" in candidate:
                    pre["language"] = candidate["language"]
                del self.entities[index]
                break


def parse_html(markup: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities with UTF-16 offsets.

    Raises :class:`HtmlParseError` with Telegram's wording when the markup is invalid.
    """
    return _Parser(markup).run()


# ----------------------------------------------------------------------------- rendering

_SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")


def _safe_href(url: str) -> str | None:
    """Return a link target safe for a page, or None (javascript: and friends)."""
    lowered = url.strip().lower()
    if lowered.startswith(_SAFE_SCHEMES):
        return url.strip()
    if "://" not in lowered and ":" not in lowered.split("/", 1)[0]:
        return "http://" + url.strip()
    return None


def _open_tag(entity: Entity, covered: str) -> tuple[str, str]:
    """Return the (start, end) HTML for one entity; ``covered`` is the text it spans."""
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        tag = simple[kind]
        return f"<{tag}>", f"</{tag}>"
    if kind == "pre":
        language = entity.get("language")
        if language:
            cls = html.escape(f"language-{language}", quote=True)
            return f'<pre><code class="{cls}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "expandable_blockquote":
        return '<blockquote class="expandable">', "</blockquote>"
    if kind == "spoiler":
        return '<span class="tg-spoiler">', "</span>"
    link = {"text_link": entity.get("url", ""), "url": covered, "email": f"mailto:{covered}"}
    if kind in link:
        href = _safe_href(str(link[kind]))
        if href is not None:
            quoted = html.escape(href, quote=True)
            return f'<a href="{quoted}" target="_blank" rel="noopener noreferrer">', "</a>"
    css = kind.replace("_", "-")
    return f'<span class="{html.escape(css, quote=True)}">', "</span>"


def render_html(text: str, entities: list[Entity] | None) -> str:
    """Render text plus entities as safe HTML for display (not for sending to Telegram).

    Overlapping entities that do not nest are closed and reopened around each other,
    so the output is always well-formed. Newlines stay ``\\n``: the page shows text
    with ``white-space: pre-wrap``.
    """
    if not text:
        return ""
    total = utf16_len(text)
    items = [e for e in sort_entities(list(entities or [])) if e.get("length", 0) > 0]
    bounds = {0, total}
    for entity in items:
        start = max(0, min(total, entity["offset"]))
        bounds.update((start, max(start, min(total, start + entity["length"]))))
    points = sorted(bounds)
    stack: list[tuple[Entity, str]] = []  # (entity, closing html)
    pieces: list[str] = []
    for index, point in enumerate(points):
        # Close entities ending here; reopen any that were only in the way.
        ending = [pair for pair in stack if pair[0]["offset"] + pair[0]["length"] <= point]
        if ending:
            deepest = min(stack.index(pair) for pair in ending)
            reopen = [pair for pair in stack[deepest:] if pair not in ending]
            for _, closing in reversed(stack[deepest:]):
                pieces.append(closing)
            del stack[deepest:]
            for entity, _ in reopen:
                covered = utf16_slice(text, entity["offset"], entity["offset"] + entity["length"])
                opening, closing = _open_tag(entity, covered)
                pieces.append(opening)
                stack.append((entity, closing))
        for entity in items:
            if entity["offset"] == point and point < total:
                covered = utf16_slice(text, point, point + entity["length"])
                opening, closing = _open_tag(entity, covered)
                pieces.append(opening)
                stack.append((entity, closing))
        if index + 1 < len(points):
            pieces.append(html.escape(utf16_slice(text, point, points[index + 1]), quote=False))
    for _, closing in reversed(stack):
        pieces.append(closing)
    return "".join(pieces)
