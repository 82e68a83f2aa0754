"""Every export is safe to open: text people typed never becomes a formula.

Each file is written by the bot's own export function, then read back the way a
cadre's spreadsheet program would read it — openpyxl for XLSX, the csv module
for CSV — and searched for a cell that would run.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.i18n import translator
from display import activities as activity_display
from display import grievances as grievance_display
from display import polls as poll_display
from display import sheets
from display import trainings as training_display
from storage.activities import RosterLine
from storage.disclosure import Totals, protect
from storage.grievances import DepartmentMonth, Stats
from storage.models import Activity, GrievanceCategory, Poll, SignupStatus, Training
from storage.poll_rules import Tally, breakdown
from storage.polls import NamedVote, PollView
from storage.trainings import EnrolmentLine

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
HOSTILE = (
    '=HYPERLINK("https://e.vil/?x","点我")',
    "=1+2",
    "+86 138 0013 8000",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
)


def _xml(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _formula_cells(data: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(data))
    found = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                text = cell.value
                if cell.data_type == "f" or (isinstance(text, str) and text.startswith("=")):
                    found.append(f"{sheet.title}!{cell.coordinate}: {text!r}")
    return found


def _texts(data: bytes) -> set[str]:
    book = load_workbook(io.BytesIO(data))
    return {
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


def _assert_safe(data: bytes) -> None:
    assert _formula_cells(data) == []
    texts = _texts(data)
    for hostile in HOSTILE:
        # Still there for the cadre to read, but as text (XML reads \r as \n).
        assert _xml("'" + hostile) in texts


def test_activity_roster_xlsx_and_csv() -> None:
    t = translator("zh_CN")
    lines = [
        RosterLine(i, i, name, department, AT, SignupStatus.SEATED.value, None, 0, None)
        for i, (name, department) in enumerate(zip(HOSTILE, reversed(HOSTILE), strict=True))
    ]
    activity = Activity(id=1, title="=cmd|' /C calc'!A0")
    _assert_safe(activity_display.roster_xlsx(t, ZONE, activity, lines).to_bytes())
    rows = list(csv.reader(io.StringIO(activity_display.roster_csv(t, ZONE, lines).decode())))
    for row in rows:
        for value in row:
            assert not value.lstrip("\ufeff").startswith(sheets.FORMULA_STARTS)


def test_training_enrolment_xlsx() -> None:
    t = translator("en")
    lines = [
        EnrolmentLine(i, i, name, name, AT, SignupStatus.SEATED.value, None, 1, 2.0, True, name)
        for i, name in enumerate(HOSTILE)
    ]
    training = Training(id=1, title="=1")
    _assert_safe(training_display.enrolment_xlsx(t, ZONE, training, [], lines).to_bytes())


def test_named_poll_export() -> None:
    t = translator("zh_CN")
    poll = Poll(id=3, question="=2*3", multiple=False, max_choices=1, anonymous=False, recipients=9)
    view = PollView(poll, ("=A1", "@B2"))
    votes = [NamedVote(name, name, (0,), AT) for name in HOSTILE]
    departments = breakdown({name: [1] * 5 + [2] * 6 for name in HOSTILE}, 2, departments=HOSTILE)
    book = poll_display.export_xlsx(t, view, Tally((4, 3), 7), ZONE, votes, departments)
    data = book.to_bytes()
    _assert_safe(data)
    assert {"'=2*3", "'=A1", "'@B2"} <= _texts(data)


def test_grievance_statistics_export() -> None:
    t = translator("zh_CN")
    category = GrievanceCategory(id=1, slug=None, name="=WEBSERVICE(1)")
    stats = Stats(
        total=12,
        by_category_status=Counter({(1, "new"): 12}),
        categories={1: category},
        ratings=Counter(),
        by_department=[
            DepartmentMonth(
                "2026-03", HOSTILE, protect([[6] for _ in HOSTILE], column_totals=Totals.KNOWN)
            )
        ],
    )
    data = grievance_display.stats_workbook(t, stats).to_bytes()
    _assert_safe(data)
    assert "'=WEBSERVICE(1)" in _texts(data)


@given(st.text(max_size=40))
def test_any_text_reads_back_as_typed_or_quoted_never_as_a_formula(text: str) -> None:
    book = sheets.Book()
    book.sheet("x").row([text])
    data = book.to_bytes()
    cell = load_workbook(io.BytesIO(data)).active["A1"]  # type: ignore[index]
    assert cell.data_type != "f"
    expected = str(sheets.xlsx_cell(text))
    assert not expected.startswith(sheets.FORMULA_STARTS)
    # openpyxl drops an empty cell and XML cannot carry some control characters.
    if cell.value is not None:
        assert str(cell.value) == _xml(expected)
