"""Every refusal of a permission says what to do next, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from core.i18n import LOCALES
from tests.support.refusals import REFUSAL

# What to do next: someone to ask, a command, or where to go.
NEXT_EN = re.compile(
    r"\b(ask|please|send it with|sign up|edit|open a new case|/\w+)", re.IGNORECASE
)
NEXT_ZH = re.compile(r"请|可|联系")


def _catalogue() -> list[tuple[str, str]]:
    path = Path(LOCALES) / "zh_CN" / "LC_MESSAGES" / "union_bot.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    return [(str(m.id), str(m.string)) for m in catalogue if m.id and REFUSAL.match(str(m.id))]


def test_the_refusals_are_found() -> None:
    assert len(_catalogue()) >= 15


def test_each_refusal_says_what_to_do_next() -> None:
    for english, chinese in _catalogue():
        _first, _, rest = english.partition(". ")
        after = rest or english.split(";", 1)[-1]
        assert NEXT_EN.search(after), english
        # The Chinese goes on past its first sentence with a next step.
        assert re.search(r"[。；，：]", chinese.rstrip("。")), chinese
        assert NEXT_ZH.search(re.split(r"[。；]", chinese, maxsplit=1)[-1] or chinese), chinese
