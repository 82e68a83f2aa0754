"""The union's Chinese house style as a checker: what a Chinese screen may not show.

`problems(text)` lists what is wrong with one piece of Chinese copy (a catalogue
msgstr, a handbook entry, a greeting template, a demo string). The rules:

- **您, never 你**: the union addresses every member the same way.
- **Chinese punctuation in Chinese text**: an ASCII `, : ; ? ! ( )` whose nearest
  neighbour (spaces skipped) is a Chinese character, a fullwidth mark, or a
  placeholder standing in Chinese text. A placeholder counts as Chinese text when
  the string holds Chinese, or holds nothing but placeholders and punctuation
  ("{name}, {year}" is filled with Chinese values). A colon between digits
  (18:00) and punctuation inside URLs, tags and placeholders are not text.
- **No English words**: Latin words outside `ALLOWED_WORDS` (product and file
  format names a Chinese member reads as such); tag names inside `<...>`,
  placeholders, URLs, /commands, @usernames, settings' names (CADRE_CHAT_ID),
  case codes (G-7K3Q) and file extensions (.xlsx) are not words.
- **A space between Chinese and Latin letters or digits** ("English 问候语",
  "截止 2026-12-07", "共 3 人"), as the Chinese copywriting guide ("中文文案排版指北")
  has it; none next to fullwidth punctuation, and digits with their Chinese date
  units keep no space ("12月30日", "下午2点"): a number before a date unit reads
  as one Chinese word — see `DATE_UNITS`.
"""

from __future__ import annotations

import re

# Names a Chinese member reads as names, each for a reason:
ALLOWED_WORDS = frozenset(
    {
        "Telegram",  # the messenger itself
        "XLSX",  # export file formats, named as the button says
        "CSV",
        "PDF",
        "PNG",
        "JPG",
        "JPEG",
        "English",  # the language choice names English in English, as pickers do
        "ID",  # Telegram's own term for the numeric account id
        "Bot",  # "Bot API", Telegram's product name
        "API",
        "BotFather",  # Telegram's bot for creating bots
        "HTML",  # the markup an admin writes in a broadcast, named as Telegram does
        "Word",  # office file kinds, by their product names
        "Excel",
        "UTF",  # text encodings a roster file may be saved in ("UTF-8", "GBK")
        "GBK",
        "MB",  # file sizes
    }
)
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
FULLWIDTH = r"\u3000-\u303f\uff00-\uffef\u201c\u201d\u2018\u2019\u2014\u2026\u00b7"
# What stands for a value, or is markup, not words: {name} / {0} / %(name)s,
# HTML tags, URLs, /commands, @usernames, entities, settings' names, case codes
# and file extensions.
_PLACEHOLDER = r"\{[^{}]*\}|%\(\w+\)[sd]|%[sd]"
_NOT_TEXT = re.compile(
    r"(?P<ph>" + _PLACEHOLDER + r")"
    r"|(?P<tag></?[a-zA-Z][^<>]*>)"
    r"|(?P<url>(?:https?://|t\.me/|tg://)\S+?(?=[\s" + CJK + FULLWIDTH + r"]|$))"
    r"|(?P<cmd>(?<![\w/])/[a-z_]+)"
    r"|(?P<user>@\w+)"
    r"|(?P<entity>&\w+;)"
    r"|(?P<setting>\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b)"  # a setting's name: CADRE_CHAT_ID
    r"|(?P<code>\b[A-Z]-[0-9A-Z]{4}\b)"  # a grievance code: G-7K3Q
    r"|(?P<ext>(?<![\w.])\.[a-z]{3,4}\b)"  # a file extension: .xlsx
)
# Placeholders that always hold a number, spaced like one: "共 {count} 人".
NUMBER_FIELDS = frozenset({"count", "n", "h", "hours", "position", "stars", "limit", "left"})
# Placeholders become this private-use mark, the rest of the markup a space.
PH = "\ue000"
_HAN = re.compile(f"[{CJK}]")
_YOU = re.compile("你")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
ASCII_MARKS = ",:;?!()"
# Digits written before these characters form a Chinese date or time ("12月30日",
# "下午2点"): the guide's own examples keep them together.
DATE_UNITS = "年月日号点时分秒"
_DATE_NUMBER = re.compile(f"\\d+(?=[{DATE_UNITS}])")


def _mask(text: str) -> str:
    """The text with placeholders as `PH` and other markup as spaces, same length."""

    def replace(match: re.Match[str]) -> str:
        if match.group("ph") and match.group("ph").strip("{}") in NUMBER_FIELDS:
            return "0" * len(match.group(0))  # spaced as the number it stands for
        if match.group("ph"):
            return PH * len(match.group(0))
        return " " * len(match.group(0))

    return _NOT_TEXT.sub(replace, text)


def _chinese_like(char: str, placeholders_are_chinese: bool) -> bool:
    if re.match(f"[{CJK}{FULLWIDTH}]", char):
        return True
    return char == PH and placeholders_are_chinese


def _neighbour(masked: str, index: int, step: int) -> str:
    i = index + step
    while 0 <= i < len(masked) and masked[i] in " \t":
        i += step
    return masked[i] if 0 <= i < len(masked) else ""


def problems(text: str) -> list[str]:
    """What in `text` breaks the house style, one line each; empty when it is fine."""
    found: list[str] = []
    if _YOU.search(text):
        found.append("你 where the union says 您")
    masked = _mask(text)
    has_han = bool(_HAN.search(masked))
    only_values = not has_han and not _LATIN_WORD.search(masked) and PH in masked
    placeholders_are_chinese = has_han or only_values
    for index, char in enumerate(masked):
        if char not in ASCII_MARKS:
            continue
        left, right = _neighbour(masked, index, -1), _neighbour(masked, index, 1)
        before, after = masked[index - 1 : index], masked[index + 1 : index + 2]
        if char == ":" and (before.isdigit() or before == PH) and after.isdigit():
            continue  # 18:00, {hour}:00
        if _chinese_like(left, placeholders_are_chinese) or _chinese_like(
            right, placeholders_are_chinese
        ):
            found.append(f"ASCII {char!r} in Chinese text: …{text[max(0, index - 8) : index + 8]}…")
    for match in _LATIN_WORD.finditer(masked):
        if match.group(0) not in ALLOWED_WORDS:
            found.append(f"English word {match.group(0)!r} on a Chinese screen")
    dated = _DATE_NUMBER.sub(lambda m: "日" * len(m.group(0)), masked)
    for match in re.finditer(f"[{CJK}][A-Za-z0-9]|[A-Za-z0-9][{CJK}]", dated):
        found.append(f"no space between Chinese and Latin/digits: {match.group(0)!r}")
    return found
