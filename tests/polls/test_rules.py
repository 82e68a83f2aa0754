"""The pure poll rules: taps, counting, breakdowns, reminders, closing times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.poll_rules import (
    MIN_GROUP,
    VoteRefused,
    breakdown,
    chosen,
    clean_option,
    count,
    parse_closing,
    remind_at,
    toggle,
)
from storage.profile_rules import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_single_choice_replaces_and_multiple_toggles_up_to_the_maximum() -> None:
    assert toggle(0b001, 2, options=3, multiple=False, max_choices=1) == 0b100
    assert toggle(0b100, 2, options=3, multiple=False, max_choices=1) == 0b100
    assert toggle(0b011, 0, options=3, multiple=True, max_choices=2) == 0b010
    with pytest.raises(VoteRefused, match="too_many"):
        toggle(0b011, 2, options=3, multiple=True, max_choices=2)
    for position in (-1, 3, 10):
        with pytest.raises(VoteRefused, match="no_such_option"):
            toggle(0, position, options=3, multiple=True, max_choices=3)


def test_count_and_percentages_are_of_voters() -> None:
    tally = count([0b011, 0b001, 0, 0b100], 3)
    assert tally.counts == (2, 1, 1) and tally.voters == 3
    assert [tally.percent(i) for i in range(3)] == [67, 33, 33]
    assert count([], 2).percent(0) == 0


def test_options_are_cleaned_and_checked() -> None:
    assert clean_option("  川菜  ", []) == "川菜"
    for text, existing, code in [
        ("川菜", ["川菜"], "duplicate"),
        ("Noodles", ["noodles"], "duplicate"),
        ("/start", [], "command"),
        ("", [], "empty"),
        ("长" * 101, [], "too_long"),
        ("新", [str(i) for i in range(10)], "too_many_options"),
    ]:
        with pytest.raises(InvalidInput) as error:
            clean_option(text, existing)
        assert error.value.code == code


def test_breakdown_lists_every_department_and_hides_small_counts() -> None:
    rows = breakdown(
        {"A": [1] * 6 + [2] * 7, "B": [2] * 3 + [1] * 6, "C": [2, 0, 2]}, 2, departments=["D"]
    )
    assert rows.departments == ("A", "B", "C", "D")
    cells = rows.table.cells
    assert cells[0] == (6, 7)
    assert cells[1][1] is None  # 3 votes
    assert cells[2] == (None, None) and cells[3] == (None, None)
    # B's 3 is not 13 − 7 − (C's hidden 2): a second count of that column is hidden.
    assert sum(row[1] is None for row in cells) >= 2


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=4), st.lists(st.integers(0, 7), max_size=12), max_size=5
    ),
    st.booleans(),
)
def test_no_breakdown_shows_a_count_under_five(
    groups: dict[str, list[int]], multiple: bool
) -> None:
    rows = breakdown(groups, 3, multiple=multiple)
    for row in rows.table.cells:
        assert all(value is None or value >= MIN_GROUP for value in row)
    totals = rows.table.row_totals
    if multiple:
        assert totals is None  # voters do not add up with several choices: not shown
    else:
        assert totals is not None and all(v is None or v >= MIN_GROUP for v in totals)


def test_reminder_a_day_before_or_halfway() -> None:
    assert remind_at(NOW, None) is None
    assert remind_at(NOW, NOW + timedelta(days=7)) == NOW + timedelta(days=6)
    assert remind_at(NOW, NOW + timedelta(hours=10)) == NOW + timedelta(hours=5)
    assert remind_at(NOW, NOW + timedelta(minutes=40)) is None


@pytest.mark.parametrize(
    ("text", "expected_local"),
    [
        ("2026-12-01 18:30", datetime(2026, 12, 1, 18, 30)),
        ("2026/12/1", datetime(2026, 12, 1, 18, 0)),
        ("12-01 09:00", datetime(2026, 12, 1, 9, 0)),
        ("12月1日18点", datetime(2026, 12, 1, 18, 0)),
        ("2026年12月1日 18:30", datetime(2026, 12, 1, 18, 30)),
        ("１２月３日", datetime(2026, 12, 3, 18, 0)),
        ("1-15", datetime(2027, 1, 15, 18, 0)),  # no year: the next such date
    ],
)
def test_closing_times_in_the_union_s_zone(text: str, expected_local: datetime) -> None:
    assert parse_closing(text, NOW, SHANGHAI) == expected_local.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("明天", "closing_format"),
        ("2026-02-30", "no_such_date"),
        ("2026-11-24 10:05", "closing_too_soon"),
        ("2028-01-01", "closing_too_far"),
        ("2026-11-24 25:00", "no_such_date"),
    ],
)
def test_bad_closing_times(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_closing(text, NOW, SHANGHAI)
    assert error.value.code == code


taps = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4)), max_size=60)


@given(taps, st.booleans(), st.integers(1, 5))
def test_totals_equal_each_member_s_final_choice(
    sequence: list[tuple[int, int]], multiple: bool, limit: int
) -> None:
    """Replaying taps through `toggle` and counting the masks gives exactly what a plain
    model of "each member's set of choices" gives."""
    masks: dict[int, int] = {}
    model: dict[int, set[int]] = {}
    for member, position in sequence:
        chosen_now = model.setdefault(member, set())
        try:
            masks[member] = toggle(
                masks.get(member, 0), position, options=5, multiple=multiple, max_choices=limit
            )
        except VoteRefused:
            assert multiple and position not in chosen_now and len(chosen_now) >= limit
            continue
        if not multiple:
            model[member] = {position}
        elif position in chosen_now:
            chosen_now.discard(position)
        else:
            chosen_now.add(position)
    for member, choices in model.items():
        assert set(chosen(masks.get(member, 0))) == choices
    tally = count(masks.values(), 5)
    assert tally.voters == sum(1 for c in model.values() if c)
    assert list(tally.counts) == [sum(p in c for c in model.values()) for p in range(5)]
