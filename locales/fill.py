"""Fill zh_CN translations from a JSON object {msgid: translation}, then sync en.

Run `make messages` first (extracts new strings into both catalogues), then
`.venv/bin/python locales/fill.py my_strings.json`, then `make translations`.
Existing translations not named in the file are kept; the command lists the
msgids still untranslated so nothing slips through.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent
ZH = HERE / "zh_CN" / "LC_MESSAGES" / "union_bot.po"


def main(paths: list[str]) -> int:
    translations: dict[str, str] = {}
    for path in paths:
        translations.update(json.loads(Path(path).read_text(encoding="utf-8")))
    with ZH.open("rb") as handle:
        catalogue = read_po(handle, locale="zh_CN")
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        if message.id in translations:
            message.string = translations[str(message.id)]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(message.id)
    with ZH.open("wb") as handle:
        write_po(handle, catalogue, sort_output=True, width=100, no_location=True)
    from sync_english import main as sync_english

    sync_english()
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main(sys.argv[1:]))
