"""Disclosure control: the one place that decides which counts of a table may be shown.

Every table the bot publishes that splits people by something about them
(department, say) comes through :func:`protect`: grievance statistics, poll
breakdowns, reports. Two rules make a table safe to show a curious cadre:

1. **Primary suppression.** A count under ``threshold`` (5), zero included, is
   hidden: a 1 in "装配车间 × 工作量" points at someone, and telling 0 from
   "hidden" would say whether anyone there wrote at all.
2. **Secondary suppression.** A hidden count must not be computable from what
   is shown. Totals are the danger: "工作量: 8 cases" minus the shown
   departments' 7 gives the hidden 1. So for every hidden count the attacker's
   best bounds are computed exactly, and while a primary count is pinned to a
   single value, more cells (or a published total) are hidden.

The reader is taken to know every shown count, every published total, and
the totals they know anyway (a cadre sees every case card, so counts per
category are never secret); of a hidden count only that it is not negative
(a hidden cell does not say whether it is small or was hidden to protect
another — the a-priori bounds of statistical offices' cell suppression). The
row and column equations then form a transportation polytope, whose matrix
is totally unimodular, so a linear programme's least and greatest value for a
cell are whole numbers, exactly what an integer search would find. That is
why a plain LP is enough; the property tests check it against an integer
solver written apart from this module (SciPy's MILP, a test dependency only).

The LPs go straight to HiGHS through `highspy`'s thin binding: SciPy's
``linprog`` calls the same solver but importing ``scipy.optimize`` costs about
40 MB of resident memory, a fifth of the bot's budget, against 5 MB here. Both
are imported when the first table is protected, not when the bot starts.

A count pinned by the known totals alone (one department: its counts are the
category totals) is the reader's own knowledge; no table is needed for it.

Tables are given with a fixed list of rows (every department, not only those
that have a count), so a row's existence says nothing either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

THRESHOLD = 5


class Totals(Enum):
    """What is known of one direction's totals (per row, or per column)."""

    NONE = "none"  # not published, not otherwise known
    PUBLISHED = "published"  # shown beside the table, so subject to suppression too
    KNOWN = "known"  # known to the reader anyway: always shown, never a secret


@dataclass(frozen=True)
class Protected:
    """The table as it may be shown: ``None`` marks a hidden count.

    ``row_totals`` / ``column_totals`` are ``None`` where that direction is not
    published; ``grand_total`` likewise. ``withheld``: no count of the table
    itself could be shown.
    """

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...] | None
    column_totals: tuple[int | None, ...] | None
    grand_total: int | None
    withheld: bool = False

    @property
    def hidden(self) -> int:
        return sum(value is None for row in self.cells for value in row)


# A cell of the extended table: inner cells are (row, column); a row total is
# (row, -1), a column total (-1, column), the grand total (-1, -1).
Key = tuple[int, int]


@dataclass
class _Model:
    counts: dict[Key, int]
    lines: list[list[Key]]  # each: [total key, *inner keys]; sum(inner) == total

    def pinned(self, key: Key, shown: set[Key]) -> bool:
        """Whether the attacker's exact bounds leave the hidden ``key`` only one value."""
        hidden = sorted({k for line in self.lines for k in line if k not in shown})
        if key not in hidden:
            return False  # on no line at all: nothing pins it
        index = {k: i for i, k in enumerate(hidden)}
        rows: list[dict[int, float]] = []
        rhs: list[float] = []
        for total, *inner in self.lines:
            coefficients: dict[int, float] = {}
            constant = 0.0
            for k in inner:
                if k in index:
                    coefficients[index[k]] = coefficients.get(index[k], 0.0) + 1
                else:
                    constant += self.counts[k]
            if total in index:
                coefficients[index[total]] = coefficients.get(index[total], 0.0) - 1
            else:
                constant -= self.counts[total]
            coefficients = {i: v for i, v in coefficients.items() if v}
            if coefficients:
                rows.append(coefficients)
                rhs.append(-constant)
        if not rows:
            return False
        # The true table is one solution, so the cell is free as soon as one side of
        # its true value is reachable: most cells need a single programme, not two.
        solver = _Programme(len(hidden), rows, rhs)
        true = self.counts[key]
        for sign in (-1.0, 1.0):
            value = solver.minimum(index[key], sign)
            if value is None or round(sign * value) != true:
                return False  # unbounded, or another value fits
        return True


class _Programme:
    """``min sign·x[i]`` subject to the line equations, every hidden count ``x ≥ 0``.

    Counts are never negative; beyond that the reader knows nothing of a hidden one.
    """

    def __init__(self, width: int, rows: list[dict[int, float]], rhs: list[float]) -> None:
        import numpy as np
        from highspy import _core as highs

        self._highs = highs
        self._solver: Any = highs._Highs()
        self._solver.setOptionValue("output_flag", False)
        lp = highs.HighsLp()
        lp.num_col_ = width
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(width)
        lp.col_lower_ = np.zeros(width)
        lp.col_upper_ = np.full(width, highs.kHighsInf)
        lp.row_lower_ = np.array(rhs)
        lp.row_upper_ = np.array(rhs)
        lp.a_matrix_.format_ = highs.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.cumsum([0, *(len(row) for row in rows)], dtype=np.int32)
        lp.a_matrix_.index_ = np.array([i for row in rows for i in row], dtype=np.int32)
        lp.a_matrix_.value_ = np.array([v for row in rows for v in row.values()])
        self._solver.passModel(lp)
        self._column: int | None = None

    def minimum(self, column: int, sign: float) -> float | None:
        """The least value of ``sign·x[column]``; None when unbounded or not solved."""
        solver = self._solver
        if self._column not in (None, column):
            solver.changeColCost(self._column, 0.0)
        self._column = column
        solver.changeColCost(column, sign)
        solver.run()
        if solver.getModelStatus() != self._highs.HighsModelStatus.kOptimal:
            return None
        return float(solver.getInfo().objective_function_value)


def protect(
    counts: Sequence[Sequence[int]],
    *,
    row_totals: Totals = Totals.NONE,
    column_totals: Totals = Totals.NONE,
    threshold: int = THRESHOLD,
) -> Protected:
    """The table of ``counts`` (rows × columns) as it may be published.

    ``row_totals`` and ``column_totals`` say what is published or known beside
    it; the grand total is published or known with whichever side is.
    """
    height = len(counts)
    width = len(counts[0]) if height else 0
    values: dict[Key, int] = {}
    for r, row in enumerate(counts):
        if len(row) != width:
            raise ValueError("every row needs the same number of columns")
        for c, value in enumerate(row):
            if value < 0:
                raise ValueError("counts cannot be negative")
            values[(r, c)] = int(value)
    for r in range(height):
        values[(r, -1)] = sum(values[(r, c)] for c in range(width))
    for c in range(width):
        values[(-1, c)] = sum(values[(r, c)] for r in range(height))
    values[(-1, -1)] = sum(values[(r, -1)] for r in range(height))

    known: set[Key] = set()
    published: set[Key] = {(r, c) for r in range(height) for c in range(width)}
    for side, keys in (
        (row_totals, [(r, -1) for r in range(height)]),
        (column_totals, [(-1, c) for c in range(width)]),
    ):
        if side is Totals.KNOWN:
            known.update(keys)
            known.add((-1, -1))
        elif side is Totals.PUBLISHED:
            published.update(keys)
            if (-1, -1) not in known:
                published.add((-1, -1))
    published -= known

    lines: list[list[Key]] = []
    for r in range(height):
        lines.append([(r, -1), *((r, c) for c in range(width))])
    for c in range(width):
        lines.append([(-1, c), *((r, c) for r in range(height))])
    lines.append([(-1, -1), *((r, -1) for r in range(height))])
    lines.append([(-1, -1), *((-1, c) for c in range(width))])
    model = _Model(values, lines)

    primary = {key for key in published if values[key] < threshold}
    shown = (published - primary) | known
    # One pass is enough: hiding a count only widens what the others could be, so a
    # cell that is no longer pinned stays so while later ones are mended.
    for key in sorted(primary):
        if model.pinned(key, known):
            continue  # the known totals alone give it: the reader's own knowledge
        while model.pinned(key, shown):
            shown.discard(_next_to_hide(key, shown - known, values, lines))

    def show(key: Key) -> int | None:
        return values[key] if key in shown else None

    cells = tuple(tuple(show((r, c)) for c in range(width)) for r in range(height))
    return Protected(
        cells=cells,
        row_totals=None
        if row_totals is Totals.NONE
        else tuple(show((r, -1)) for r in range(height)),
        column_totals=None
        if column_totals is Totals.NONE
        else tuple(show((-1, c)) for c in range(width)),
        grand_total=None
        if row_totals is Totals.NONE and column_totals is Totals.NONE
        else show((-1, -1)),
        withheld=all(value is None for row in cells for value in row),
    )


def _next_to_hide(
    pinned: Key, hideable: set[Key], values: dict[Key, int], lines: list[list[Key]]
) -> Key:
    """The smallest shown count on a line through the pinned cell: the least lost.

    Only called while something shown pins the cell, so ``hideable`` is not empty.
    """
    near = [key for line in lines if pinned in line for key in line if key in hideable]
    if not near:
        # Pinned through a chain of lines: widen to any line that has a hidden count.
        near = [
            key
            for line in lines
            if any(key not in hideable for key in line)
            for key in line
            if key in hideable
        ] or sorted(hideable)
    return min(near, key=lambda key: (values[key], key[0] < 0 or key[1] < 0, key))
