"""The report's pure rules: which period the words name, and the withheld medians."""

from __future__ import annotations

import math
import statistics
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.report import BadPeriod, Period, month_period, parse_period, shifted, spread

TODAY = date(2026, 12, 2)


def test_the_periods_the_words_name() -> None:
    assert parse_period([], TODAY) == month_period(2026, 11)
    assert parse_period([], date(2026, 1, 15)) == month_period(2025, 12)
    assert parse_period(["2026-02"], TODAY) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert parse_period(["2026-10-01", "2026-11-30"], TODAY) == Period(
        date(2026, 10, 1), date(2026, 11, 30)
    )
    assert month_period(2026, 11).month == "2026-11"
    assert Period(date(2026, 10, 1), date(2026, 11, 30)).month is None


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        (["2026-13"], BadPeriod.Reason.FORMAT),
        (["november"], BadPeriod.Reason.FORMAT),
        (["2026-02-30", "2026-03-01"], BadPeriod.Reason.FORMAT),
        (["２０２６-11"], BadPeriod.Reason.FORMAT),  # other scripts' digits
        (["2026-11-30", "2026-10-01"], BadPeriod.Reason.ORDER),
        (["2024-01-01", "2026-01-01"], BadPeriod.Reason.LONG),
        (["1", "2", "3"], BadPeriod.Reason.FORMAT),
        (["x" * 5000], BadPeriod.Reason.FORMAT),
    ],
)
def test_bad_periods_are_refused_with_a_reason(words: list[str], reason: BadPeriod.Reason) -> None:
    with pytest.raises(BadPeriod) as refused:
        parse_period(words, TODAY)
    assert refused.value.reason is reason


@given(st.integers(2000, 2100), st.integers(1, 12), st.integers(-30, 30))
def test_shifting_months_round_trips(year: int, month: int, by: int) -> None:
    there = shifted(month_period(year, month), by)
    assert there.first.day == 1 and there.month is not None
    assert shifted(there, -by) == month_period(year, month)


@given(st.lists(st.floats(0, 10_000, allow_nan=False), max_size=60))
def test_medians_only_over_five_values(hours: list[float]) -> None:
    found = spread(hours)
    assert found.count == len(hours)
    if len(hours) < 5:
        assert found.median is None and found.p90 is None
        return
    assert found.median == pytest.approx(round(statistics.median(hours), 1), abs=0.051)
    ordered = sorted(hours)
    assert found.p90 == round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)
