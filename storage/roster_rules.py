"""Pure rules for a roster file an admin sends: read it, check every row, or refuse.

Kept apart from Telegram and the database so the many cases can be tested
directly (and with hypothesis). :func:`read_roster` returns every row clean, or
raises :class:`RosterRefused` (the file as a whole cannot be read) or
:class:`RosterInvalid` (rows with errors, each by row and column): a file is
taken whole or not at all.

- Formats: CSV and XLSX, told apart by their bytes (an XLSX is a ZIP), not by
  the name alone.
- Encodings: UTF-8 with or without a byte-order mark, else GB18030 (a superset
  of GBK, Excel's default on Chinese Windows). Both decoders are strict: bytes
  that neither reads are refused, never guessed into mojibake.
- XLSX is read in openpyxl's read-only mode, values only; a cell holding a
  formula is refused (we never evaluate one, and a cached value may be stale).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from storage.profile_rules import (
    InvalidInput,
    clean_department,
    clean_label,
    clean_name,
    clean_tag,
    parse_birthday,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024  # an XLSX's parts once unzipped
MAX_ROWS = 20_000
MAX_TAGS = 10
EMPLOYEE_NO_MAX = 32
ERRORS_SHOWN = 20

NAME, DEPARTMENT, EMPLOYEE_NO, BIRTHDAY, TAGS = (
    "name",
    "department",
    "employee_no",
    "birthday",
    "tags",
)
COLUMNS = (NAME, DEPARTMENT, EMPLOYEE_NO, BIRTHDAY, TAGS)
REQUIRED = (NAME, DEPARTMENT, EMPLOYEE_NO)
HEADERS = {
    "姓名": NAME,
    "name": NAME,
    "部门": DEPARTMENT,
    "department": DEPARTMENT,
    "工号": EMPLOYEE_NO,
    "员工编号": EMPLOYEE_NO,
    "employee number": EMPLOYEE_NO,
    "employee no": EMPLOYEE_NO,
    "employee_no": EMPLOYEE_NO,
    "生日": BIRTHDAY,
    "出生日期": BIRTHDAY,
    "birthday": BIRTHDAY,
    "标签": TAGS,
    "tags": TAGS,
}


class RosterRefused(ValueError):
    """The file as a whole cannot be taken; ``reason`` names why.

    Reasons: ``format`` (neither CSV nor XLSX), ``size`` (over MAX_BYTES), ``rows``
    (over MAX_ROWS), ``encoding`` (neither UTF-8 nor GB18030), ``formula`` (an
    XLSX cell holds a formula), ``header`` (a required column is missing, or one
    is named twice), ``empty`` (no data rows).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # one of COLUMNS
    code: str  # an InvalidInput code, or "duplicate", "too_many_tags"


class RosterInvalid(ValueError):
    """Rows with errors: nothing of the file is taken."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass(frozen=True)
class RosterRow:
    employee_no: str
    name: str
    department: str
    birthday: date | None = None
    tags: tuple[str, ...] = field(default=())


def read_roster(data: bytes, today: date) -> list[RosterRow]:
    """Every row of the file, clean; RosterRefused or RosterInvalid otherwise."""
    if len(data) > MAX_BYTES:
        raise RosterRefused("size")
    if not data.strip():
        raise RosterRefused("empty")
    if data[:4] == b"PK\x03\x04":
        table = _xlsx_rows(data)
    elif b"\x00" in data[:8192] or data[:5] == b"%PDF-":
        raise RosterRefused("format")  # a binary file (or UTF-16), no CSV of ours
    else:
        table = _csv_rows(data)
    return _check(table, today)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: Sequence[str] = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterRefused("encoding")


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    if "\x00" in text:
        raise RosterRefused("format")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        yield from reader
    except csv.Error as exc:
        raise RosterRefused("format") from exc


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    # Imported here: only an XLSX needs it, and it is slow to import.
    from openpyxl import load_workbook

    try:
        unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise RosterRefused("format") from exc
    if unpacked > MAX_UNPACKED:
        raise RosterRefused("size")  # a ZIP bomb, or a workbook far beyond any roster
    # openpyxl's failures on a hostile or damaged workbook are no closed set (KeyError,
    # TypeError, XML errors…): any of them means "not an XLSX I can read".
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:
        raise RosterRefused("format") from exc
    try:
        if not book.worksheets:
            raise RosterRefused("empty")
        rows = book.worksheets[0].iter_rows()
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise RosterRefused("format") from exc
            values = []
            for cell in cells:
                if getattr(cell, "data_type", None) == "f":
                    raise RosterRefused("formula", getattr(cell, "coordinate", ""))
                values.append(getattr(cell, "value", None))
            yield values
    finally:
        book.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header(cells: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = " ".join(_text(cell).replace("\ufeff", "").split()).lower()
        column = HEADERS.get(key)
        if column is None:
            continue
        if column in found:
            raise RosterRefused("header", _text(cell))
        found[column] = index
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise RosterRefused("header", ", ".join(missing))
    return found


def _check(table: Iterator[list[Any]], today: date) -> list[RosterRow]:
    header: dict[str, int] | None = None
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    for number, cells in enumerate(table, start=1):
        if header is None:
            if not any(_text(c).strip() for c in cells):
                continue  # blank lines above the header
            header = _header(cells)
            header_row = number
            continue
        if number - header_row > MAX_ROWS:
            raise RosterRefused("rows")
        values = {c: _text(cells[i]) if i < len(cells) else "" for c, i in header.items()}
        if not any(v.strip() for v in values.values()):
            continue  # blank line
        row = _row(number, values, today, errors, seen)
        if row is not None:
            rows.append(row)
    if header is None:
        raise RosterRefused("empty")
    if errors:
        raise RosterInvalid(errors)
    if not rows:
        raise RosterRefused("empty")
    return rows


def _row(
    number: int, values: dict[str, str], today: date, errors: list[RowError], seen: set[str]
) -> RosterRow | None:
    before = len(errors)

    def clean(column: str, rule: Any, *args: Any) -> Any:
        try:
            return rule(values.get(column, ""), *args)
        except InvalidInput as error:
            errors.append(RowError(number, column, error.code))
            return None

    employee_no = clean(EMPLOYEE_NO, clean_label, EMPLOYEE_NO_MAX)
    if employee_no is not None:
        key = employee_no.casefold()
        if key in seen:
            errors.append(RowError(number, EMPLOYEE_NO, "duplicate"))
        seen.add(key)
    name = clean(NAME, clean_name)
    department = clean(DEPARTMENT, clean_department)
    birthday = None
    if values.get(BIRTHDAY, "").strip():
        birthday = clean(BIRTHDAY, parse_birthday, today)
    tags: list[str] = []
    for part in values.get(TAGS, "").replace("，", ",").replace("、", ",").split(","):
        if part.strip():
            tag = clean(TAGS, lambda _unused, p=part: clean_tag(p))
            if tag is not None and tag not in tags:
                tags.append(tag)
    if len(tags) > MAX_TAGS:
        errors.append(RowError(number, TAGS, "too_many_tags"))
    if len(errors) > before:
        return None
    return RosterRow(employee_no, name, department, birthday, tuple(sorted(tags)))
