"""Disclosure control, attacked: no hidden count can be worked out from what is shown.

The attack here is written independently of `storage.disclosure`: from the
published table alone (shown cells, shown totals, known totals) and that no
count is negative, an integer programme finds the least and greatest value
each hidden small count could have. It is safe only if that is a range.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from storage.disclosure import THRESHOLD, Protected, Totals, protect

SIDES = st.sampled_from(list(Totals))


def _attack(
    counts: list[list[int]], published: Protected, rows: Totals, columns: Totals
) -> dict[tuple[int, int], tuple[int, int]]:
    """Each small hidden count's [least, greatest] value, as an attacker would find it.


    Keys: (r, c) inner cells, (r, -1) row totals, (-1, c) column totals."""
    height, width = len(counts), len(counts[0])
    names: list[tuple[int, int]] = []
    names += [(r, c) for r in range(height) for c in range(width)]
    names += [(r, -1) for r in range(height)] + [(-1, c) for c in range(width)] + [(-1, -1)]
    where = {name: i for i, name in enumerate(names)}

    def true(name: tuple[int, int]) -> int:
        r, c = name
        if r >= 0 and c >= 0:
            return counts[r][c]
        if c < 0 <= r:
            return sum(counts[r])
        if r < 0 <= c:
            return sum(row[c] for row in counts)
        return sum(map(sum, counts))

    def shown(name: tuple[int, int]) -> int | None:
        r, c = name
        if r >= 0 and c >= 0:
            return published.cells[r][c]
        if c < 0 <= r:
            return None if published.row_totals is None else published.row_totals[r]
        if r < 0 <= c:
            return None if published.column_totals is None else published.column_totals[c]
        return published.grand_total

    def is_published(name: tuple[int, int]) -> bool:
        r, c = name
        if r >= 0 and c >= 0:
            return True
        if c < 0 <= r:
            return rows is not Totals.NONE
        if r < 0 <= c:
            return columns is not Totals.NONE
        return rows is not Totals.NONE or columns is not Totals.NONE

    low = np.zeros(len(names))
    high = np.full(len(names), np.inf)
    small: list[tuple[int, int]] = []
    for name in names:
        value = shown(name)
        if value is not None:
            low[where[name]] = high[where[name]] = value
        elif is_published(name) and true(name) < THRESHOLD:
            small.append(name)  # hidden, and what the reader wants: bounds only [0, ∞)
    equations = []
    for r in range(height):
        equations.append([(r, -1), *((r, c) for c in range(width))])
    for c in range(width):
        equations.append([(-1, c), *((r, c) for r in range(height))])
    equations.append([(-1, -1), *((r, -1) for r in range(height))])
    equations.append([(-1, -1), *((-1, c) for c in range(width))])
    matrix = np.zeros((len(equations), len(names)))
    for i, (total, *parts) in enumerate(equations):
        matrix[i, where[total]] = -1
        for part in parts:
            matrix[i, where[part]] = 1
    constraint = LinearConstraint(matrix, 0, 0)
    integral = np.ones(len(names))
    found = {}
    for name in small:
        objective = np.zeros(len(names))
        objective[where[name]] = 1
        least = milp(
            objective, constraints=constraint, integrality=integral, bounds=Bounds(low, high)
        )
        most = milp(
            -objective, constraints=constraint, integrality=integral, bounds=Bounds(low, high)
        )
        assert least.status == 0, "the true table is always a solution"
        # Without a bound above (no total over it) the greatest is unlimited.
        found[name] = (round(least.fun), round(-most.fun) if most.status == 0 else 10**9)
    return found


def _nothing_shown(counts: list[list[int]], rows: Totals, columns: Totals) -> Protected:
    """The publication that shows no count: only the totals the reader knows anyway."""
    height, width = len(counts), len(counts[0])
    column_sums = tuple(sum(row[c] for row in counts) for c in range(width))
    row_sums = tuple(sum(row) for row in counts)
    known = rows is Totals.KNOWN or columns is Totals.KNOWN

    def side(kind: Totals, sums: tuple[int, ...]) -> tuple[int | None, ...] | None:
        if kind is Totals.NONE:
            return None
        return sums if kind is Totals.KNOWN else tuple(None for _ in sums)

    return Protected(
        cells=tuple(tuple(None for _ in range(width)) for _ in range(height)),
        row_totals=side(rows, row_sums),
        column_totals=side(columns, column_sums),
        grand_total=sum(row_sums) if known else None,
        withheld=True,
    )


tables = st.integers(1, 4).flatmap(
    lambda height: st.integers(1, 4).flatmap(
        lambda width: st.lists(
            st.lists(
                st.one_of(st.integers(0, 4), st.integers(5, 14)), min_size=width, max_size=width
            ),
            min_size=height,
            max_size=height,
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables, SIDES, SIDES)
def test_no_small_count_can_be_worked_out(
    counts: list[list[int]], rows: Totals, columns: Totals
) -> None:
    published = protect(counts, row_totals=rows, column_totals=columns)
    # What the reader knows with no table at all (the known totals alone) is not ours
    # to hide: with one department, its counts are the category totals.
    nothing = _nothing_shown(counts, rows, columns)
    already = {
        name
        for name, (least, most) in _attack(counts, nothing, rows, columns).items()
        if least == most
    }
    for name, (least, most) in _attack(counts, published, rows, columns).items():
        if name in already:
            continue
        assert least < most, f"hidden count {name} is pinned to {least} in {counts}: {published}"


@settings(max_examples=100, deadline=None)
@given(tables, SIDES, SIDES)
def test_shown_counts_are_true_and_never_small(
    counts: list[list[int]], rows: Totals, columns: Totals
) -> None:
    published = protect(counts, row_totals=rows, column_totals=columns)
    for r, row in enumerate(published.cells):
        for c, value in enumerate(row):
            assert value is None or value == counts[r][c] >= THRESHOLD
    if published.row_totals is not None:
        for r, value in enumerate(published.row_totals):
            assert value is None or value == sum(counts[r])
            if rows is Totals.PUBLISHED:
                assert value is None or value >= THRESHOLD
    if published.column_totals is not None:
        for c, value in enumerate(published.column_totals):
            assert value is None or value == sum(row[c] for row in counts)
            if columns is Totals.KNOWN:
                assert value is not None, "a total the reader knows anyway is always shown"
    if published.withheld:
        assert published.hidden == len(counts) * len(counts[0])


def test_the_subtraction_from_the_issue_is_closed() -> None:
    """工作量: 8 cases in all; 装配车间 1 (hidden), the others 7 — shown before, 8 − 7 = 1."""
    counts = [[1, 6], [7, 9], [0, 12]]  # departments × (工作量, 工资)
    published = protect(counts, column_totals=Totals.KNOWN)
    assert published.column_totals == (8, 27)
    assert published.cells[0][0] is None
    # With the column total known, a second count of 工作量 must be hidden too.
    assert sum(value is None for value in (row[0] for row in published.cells)) >= 2


def test_a_comfortable_table_is_shown_whole() -> None:
    counts = [[12, 9], [7, 30]]
    published = protect(counts, row_totals=Totals.PUBLISHED, column_totals=Totals.KNOWN)
    assert published.cells == ((12, 9), (7, 30))
    assert published.row_totals == (21, 37)
    assert published.grand_total == 58


def test_zeros_are_hidden_too_and_cannot_be_worked_out() -> None:
    # 装配车间 holds all 6 votes for 甲: shown, it would pin every other department's 0.
    counts = [[6, 9], [0, 7], [0, 8]]
    published = protect(counts, column_totals=Totals.KNOWN, row_totals=Totals.PUBLISHED)
    assert published.cells[1][0] is None and published.cells[2][0] is None
    assert published.cells[0][0] is None


def test_one_department_is_the_totals_and_withheld() -> None:
    published = protect([[3, 2]], column_totals=Totals.KNOWN)
    assert published.withheld and published.column_totals == (3, 2)
