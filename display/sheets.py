"""Every CSV and XLSX file the bot writes, through one writer that disarms formulas.

Names, departments, poll options and reasons are typed by people; a spreadsheet
program runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some,
tab or carriage return) as a formula, so a member called ``=HYPERLINK(…)`` would
plant a link in a cadre's roster. OWASP's CSV-injection advice is to prefix such
text with a single quote, which shows the text as typed and never evaluates it.
Doing that in one writer, not at each export, is what keeps a new export safe.

openpyxl (and NumPy, which it imports when present) is loaded at the first
workbook, not with the bot: about 20 MB of memory until someone exports.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

Cell = str | int | float | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_MAX = 31  # Excel refuses longer sheet names
# The control characters XML 1.0 cannot carry (openpyxl's ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def disarm(value: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula, made plain text; numbers unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_cell(value: Cell) -> Cell:
    """:func:`disarm`, and without the control characters XML cannot carry (a name
    pasted with one would otherwise make the whole export fail)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS.sub("", value)
    return disarm(value)


class Sheet:
    """One worksheet: every cell written goes through :func:`xlsx_cell`."""

    def __init__(self, worksheet: Worksheet) -> None:
        self._sheet = worksheet

    def header(self, values: Sequence[Cell]) -> None:
        from openpyxl.styles import Font

        self.row(values)
        bold = Font(bold=True)
        for cell in self._sheet[self._sheet.max_row]:
            cell.font = bold

    def row(self, values: Iterable[Cell] = ()) -> None:
        self._sheet.append([xlsx_cell(value) for value in values])

    def widths(self, *widths: int) -> None:
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(widths, start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = width

    def freeze_header(self) -> None:
        self._sheet.freeze_panes = "A2"


class Book:
    """An XLSX workbook whose sheets write only disarmed cells."""

    def __init__(self, title: str | None = None) -> None:
        from openpyxl import Workbook

        self._book = Workbook()
        self._fresh = True
        if title is not None:
            self._book.properties.title = title

    def sheet(self, title: str) -> Sheet:
        from openpyxl.worksheet.worksheet import Worksheet

        if self._fresh:
            # openpyxl starts with one empty sheet: the first sheet asked for is that one.
            worksheet = self._book.active
            assert isinstance(worksheet, Worksheet)
            worksheet.title = title[:SHEET_TITLE_MAX]
            self._fresh = False
        else:
            worksheet = self._book.create_sheet(title[:SHEET_TITLE_MAX])
        return Sheet(worksheet)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()


def csv_bytes(header: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([disarm(value) for value in header])
    for row in rows:
        writer.writerow([disarm(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
