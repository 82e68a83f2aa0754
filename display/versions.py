"""Which version a member gets: the labels over each language's text in a bilingual preview.

Broadcasts and greetings both send each member one version, in the language
the member chose; their previews show every version under these labels, so
an admin never reads them as "each member gets both".
"""

from __future__ import annotations

from core.i18n import N_, Translator

RECEIVES: dict[str, str] = {
    "zh_CN": N_("Chinese-speaking members receive:"),
    "en": N_("English-speaking members receive:"),
}


def receives(t: Translator, language: str) -> str:
    """The label over ``language``'s version, bold HTML."""
    return "<b>" + t.gettext(RECEIVES[language]) + "</b>"
