"""Every CSV and XLSX file the bot writes, through one writer that disarms formulas.

Names, departments, poll options and reasons are typed by people; a spreadsheet
program runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some,
tab or carriage return) as a formula, so a member called ``=HYPERLINK(…)`` would
plant a link in a cadre's roster. OWASP's CSV-injection advice is to prefix such
text with a single quote, which shows the text as typed and never evaluates it.
Doing that in one writer, not at each export, is what keeps a new export safe.

A `Book` is plain values; openpyxl (and NumPy, which it imports when present)
is loaded only to write one to bytes, in the render child (`display.rendering`),
so the bot process never loads it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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


@dataclass
class Sheet:
    """One worksheet as plain values: every cell written goes through :func:`xlsx_cell`."""

    title: str
    rows: list[list[Cell]] = field(default_factory=list)
    bold: list[int] = field(default_factory=list)  # indexes into `rows`
    column_widths: dict[int, int] = field(default_factory=dict)  # 1-based column: width
    frozen: bool = False

    def header(self, values: Sequence[Cell]) -> None:
        self.bold.append(len(self.rows))
        self.row(values)

    def row(self, values: Iterable[Cell] = ()) -> None:
        self.rows.append([xlsx_cell(value) for value in values])

    def widths(self, *widths: int) -> None:
        self.column_widths.update(enumerate(widths, start=1))

    def freeze_header(self) -> None:
        self.frozen = True


@dataclass
class Book:
    """An XLSX workbook as plain values, whose sheets hold only disarmed cells.

    Built anywhere (it is lists of text and numbers, so it pickles); written to
    bytes by :meth:`to_bytes`, which loads openpyxl and so runs in the render
    child (`display.rendering.draw`), never in the bot.
    """

    title: str | None = None
    sheets: list[Sheet] = field(default_factory=list)

    def sheet(self, title: str) -> Sheet:
        sheet = Sheet(title[:SHEET_TITLE_MAX])
        self.sheets.append(sheet)
        return sheet

    def to_bytes(self) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.worksheet import Worksheet

        book = Workbook()
        if self.title is not None:
            book.properties.title = self.title
        bold = Font(bold=True)
        for index, sheet in enumerate(self.sheets):
            if index == 0:
                # openpyxl starts with one empty sheet: the first sheet asked for is that one.
                worksheet = book.active
                assert isinstance(worksheet, Worksheet)
                worksheet.title = sheet.title
            else:
                worksheet = book.create_sheet(sheet.title)
            for values in sheet.rows:
                worksheet.append(values)
            for row in sheet.bold:
                for column in range(1, len(sheet.rows[row]) + 1):
                    worksheet.cell(row=row + 1, column=column).font = bold
            for column, width in sheet.column_widths.items():
                worksheet.column_dimensions[get_column_letter(column)].width = width
            if sheet.frozen:
                worksheet.freeze_panes = "A2"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def csv_bytes(header: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese names right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([disarm(value) for value in header])
    for row in rows:
        writer.writerow([disarm(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
