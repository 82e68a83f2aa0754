"""The roster file rules, directly: encodings, headers, every row checked, never a crash."""

from __future__ import annotations

import contextlib
import io
import zipfile
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from display import links
from storage.roster import ALPHABET, clean_code, new_code
from storage.roster_rules import (
    MAX_BYTES,
    MAX_ROWS,
    MAX_UNPACKED,
    RosterInvalid,
    RosterRefused,
    RosterRow,
    read_roster,
)
from tests.support.roster import HEADER_EN, PEOPLE, roster_csv, roster_xlsx

TODAY = date(2026, 11, 24)
EXPECTED = [
    RosterRow("A001", "张伟", "装配车间", date(1988, 3, 15), ("新员工",)),
    RosterRow("A002", "李娜", "质检部", None, ()),
    RosterRow("A003", "王芳", "装配车间", date(1990, 5, 3), ("困难职工", "女工")),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding(encoding: str) -> None:
    assert read_roster(roster_csv(encoding=encoding), TODAY) == EXPECTED


def test_xlsx_and_english_headers_and_semicolons() -> None:
    assert read_roster(roster_xlsx(header=HEADER_EN), TODAY) == EXPECTED
    text = "name;department;employee no\n张伟;装配车间;A001\n"
    assert read_roster(text.encode(), TODAY) == [RosterRow("A001", "张伟", "装配车间")]


def test_xlsx_dates_and_numbers_are_read_as_typed() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "部门", "工号", "生日"])
    sheet.append(["张伟", "装配车间", 1001, date(1988, 3, 15)])
    out = io.BytesIO()
    book.save(out)
    assert read_roster(out.getvalue(), TODAY) == [
        RosterRow("1001", "张伟", "装配车间", date(1988, 3, 15))
    ]


def test_a_formula_is_refused_never_evaluated() -> None:
    with pytest.raises(RosterRefused) as refused:
        read_roster(roster_xlsx(formula="=1+1"), TODAY)
    assert refused.value.reason == "formula" and refused.value.detail == "A2"


def test_errors_come_by_row_and_column() -> None:
    rows = [*PEOPLE, ["", "x", "A001", "2030-01-01", "a b c,d!"]]
    with pytest.raises(RosterInvalid) as invalid:
        read_roster(roster_csv(rows), TODAY)
    assert {(e.row, e.column, e.code) for e in invalid.value.errors} == {
        (5, "name", "empty"),
        (5, "employee_no", "duplicate"),
        (5, "birthday", "future"),
        (5, "tags", "tag_chars"),
    }


def test_too_many_rows() -> None:
    rows = [[f"人{i}", "车间", f"N{i}"] for i in range(MAX_ROWS + 1)]
    with pytest.raises(RosterRefused) as refused:
        read_roster(roster_csv(rows, ["姓名", "部门", "工号"]), TODAY)
    assert refused.value.reason == "rows"


def test_codes_are_unambiguous_and_typed_any_way() -> None:
    code = new_code()
    assert len(code) == 8 and set(code) <= set(ALPHABET) and not set(code) & set("0O1I")
    assert clean_code(f" {code[:4].lower()}-{code[4:]} ") == code
    assert clean_code("ABCD1234") is None  # 1 is not in the alphabet
    assert links.parse_code(f"join_{code}") == links.CodeLink(links.JOIN, code)
    assert links.parse_code(code) == links.CodeLink(links.JOIN, code)
    assert links.parse_code("act_12") is None and links.parse_code("join_") is None
    assert links.parse_code("12345678") is None


cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["张伟", "A001", "1990-05-03", "1990年5月3日", "新员工,女工", "", "=1+1"]),
)
table = st.lists(st.lists(cell, min_size=0, max_size=6), min_size=0, max_size=8)
header = st.lists(
    st.sampled_from(["姓名", "部门", "工号", "生日", "标签", "name", "x"]), max_size=6
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=header, rows=table, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_fuzz_csv_all_or_nothing(header: list[str], rows: list[list[str]], encoding: str) -> None:
    """Whatever the table: every data row clean, or a typed refusal; never a crash."""
    try:
        data = roster_csv(rows, header, encoding=encoding)
    except UnicodeEncodeError:
        return
    try:
        result = read_roster(data, TODAY)
    except (RosterRefused, RosterInvalid):
        return
    numbers = [r.employee_no.casefold() for r in result]
    assert len(numbers) == len(set(numbers))
    assert all(r.name and r.department and r.employee_no for r in result)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000))
def test_fuzz_any_bytes(data: bytes) -> None:
    for sent in (data, b"PK\x03\x04" + data):
        with contextlib.suppress(RosterRefused, RosterInvalid):
            read_roster(sent, TODAY)


def test_a_zip_bomb_is_refused_unopened() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("xl/sharedStrings.xml", b"\0" * (MAX_UNPACKED + 1))
    assert len(out.getvalue()) < MAX_BYTES
    with pytest.raises(RosterRefused) as refused:
        read_roster(out.getvalue(), TODAY)
    assert refused.value.reason == "size"
