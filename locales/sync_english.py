"""Fill the English catalogue from the English msgids after `pybabel update`.

The source strings are English, so the en catalogue is the identity; keeping
it filled lets the completeness test catch a string missing from zh_CN alone.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PATH = Path(__file__).parent / "en" / "LC_MESSAGES" / "union_bot.po"


def main() -> None:
    with PATH.open("rb") as handle:
        catalogue = read_po(handle, locale="en")
    for message in catalogue:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with PATH.open("wb") as handle:
        write_po(handle, catalogue, sort_output=True, width=100, no_location=True)


if __name__ == "__main__":
    main()
