"""gettext catalogues: zh_CN is the default, en is complete too.

Source strings (msgids) are English; every user-facing string passes through
`Translator.gettext` with the reader's language. `N_` marks strings that are
translated later (menu labels, command descriptions) so extraction finds them.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from core.settings import SUPPORTED_LANGUAGES

DOMAIN = "union_bot"
LOCALES = Path(__file__).resolve().parent.parent / "locales"

# How each language names itself on the language buttons (never translated).
LANGUAGE_NAMES: dict[str, str] = {"zh_CN": "简体中文", "en": "English"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


class Translator:
    """The strings of one language, with `_`-style helpers."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalogue = _catalogue(language)

    def gettext(self, message: str) -> str:
        return self._catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue.ngettext(singular, plural, n)

    __call__ = gettext


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    try:
        return gettext.translation(DOMAIN, localedir=LOCALES, languages=[language])
    except FileNotFoundError:
        # English msgids read correctly without a compiled catalogue; any other
        # language missing its .mo is a build error that `make` prevents.
        if language == "en":
            return gettext.NullTranslations()
        raise


@cache
def translator(language: str) -> Translator:
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    return Translator(language)


def every_translation(message: str) -> frozenset[str]:
    """The string in every supported language: menu buttons match any of them."""
    return frozenset(translator(lang).gettext(message) for lang in SUPPORTED_LANGUAGES)


def language_from_telegram(code: str | None, default: str) -> str:
    """Map Telegram's IETF `language_code` (zh-hans, en-US…) to a supported language."""
    if code:
        lowered = code.lower()
        if lowered.startswith("zh"):
            return "zh_CN"
        if lowered.startswith("en"):
            return "en"
    return default
