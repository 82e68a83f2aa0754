"""Every string is translated in zh_CN and en, and the catalogues compile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core.i18n import LOCALES, every_translation, language_from_telegram, translator

FIELD = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_catalogue_complete(language: str) -> None:
    path = Path(LOCALES) / language / "LC_MESSAGES" / "union_bot.po"
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    template = read_po((Path(LOCALES) / "union_bot.pot").open("rb"))
    missing = [
        m.id for m in template if m.id and (m.id not in catalogue or not catalogue[m.id].string)
    ]
    assert missing == [], f"{len(missing)} untranslated in {language}: {missing[:5]}"
    for message in catalogue:
        if message.id and message.string:
            # Placeholders must survive translation, or .format() breaks at run time.
            assert set(FIELD.findall(str(message.id))) == set(FIELD.findall(str(message.string))), (
                message.id
            )


def test_chinese_is_default_and_different() -> None:
    zh = translator("zh_CN").gettext("❓ Help")
    assert zh != "❓ Help"
    assert translator("en").gettext("❓ Help") == "❓ Help"
    assert every_translation("❓ Help") == {zh, "❓ Help"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hans", "zh_CN"), ("zh-TW", "zh_CN"), ("en-US", "en"), ("fr", "zh_CN"), (None, "zh_CN")],
)
def test_language_from_telegram(code: str | None, expected: str) -> None:
    assert language_from_telegram(code, "zh_CN") == expected
