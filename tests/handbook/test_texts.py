"""The new handbook screens in both languages: the related-entries list an admin sees,
/handbook_misses, and the report's handbook section. Printed (pytest -s) to be read;
checked to be all Chinese or all English (but commands and the data's titles)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from core.i18n import translator
from display import handbook as show
from display import report as report_show
from storage.models import HandbookEntry
from storage.report import HandbookSearches

ENTRIES = [
    HandbookEntry(id=n, topic_id=1, title_zh=f"条目{n}", title_en=f"Entry {n}")
    for n in range(1, 11)
]
NOVEMBER = date(2026, 11, 1)
CASES = {
    "whole month": HandbookSearches((NOVEMBER,), True, 40, 30, 0.75, (("年假", 7),)),
    "part months": HandbookSearches((NOVEMBER, date(2026, 12, 1)), False, 4, 1, None, ()),
    "no whole month": HandbookSearches((), False, 0, 0, None, ()),
}
_COMMANDS = re.compile(r"/[a-z_]+( month)?")
_ENTRY_TITLES = re.compile(r"Entry \d+|条目\d+")


def _screens(language: str) -> list[str]:
    t = translator(language)
    keyboard = show.related_keyboard(t, 1, ENTRIES[1:], [2, 9], 0, 2)
    labels = [button.text for row in keyboard.inline_keyboard for button in row]
    texts = [
        show.related_prompt(t, show.title(t, ENTRIES[0])),
        show.related_text(t, [ENTRIES[1], ENTRIES[8]], 0, 2),
        show.related_text(t, [], 1, 2),
        " | ".join(labels),
        show.related_saved(t, 2, 1),
        show.related_saved(t, 0, 0),
        show.refusal(t, "self"),
        show.refusal(t, "too_many", 8),
        show.misses_text(t, [("停车位", 3)]),
        show.misses_text(t, [("停车位", 1)], date(2026, 12, 1)),
        show.misses_text(t, [], date(2026, 12, 1)),
        t.gettext("This list is closed. Tap 🔗 Related entries under the entry to choose again."),
    ]
    for name, searches in CASES.items():
        texts.append(f"[{name}]\n" + "\n".join(report_show.handbook_lines(t, searches)))
    return texts


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_new_texts_read_in_one_language(language: str) -> None:
    for text in _screens(language):
        print(f"--- {language}\n{text}")
        body = _ENTRY_TITLES.sub("", _COMMANDS.sub("", text))
        body = re.sub(r"\[[a-z ]+\]|<[^>]+>|停车位|年假", "", body)  # case names, tags, data
        if language == "zh_CN":
            assert not re.search(r"[A-Za-z]{2,}", body), text
            assert "你" not in body and not re.search(r"[\u4e00-\u9fff][,:;?!()]", body), text
        else:
            assert not re.search(r"[\u4e00-\u9fff]", body), text
