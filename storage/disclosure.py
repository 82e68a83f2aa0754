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
another — the a-priori bounds of statistical offices' cell suppression).

The row and column equations are those of a flow: a row total runs from a
source to its row, a cell from its row to its column, a column total from its
column to a sink, and the grand total from the sink back to the source, each
node taking in what it gives out. The reader's tables are the circulations
that agree with what is shown. A hidden count can take another value exactly
when a cycle through it can carry flow: to raise it, a way back from its head
to its tail along hidden counts (forward always, backward only through one
that is above 0, since it cannot go below); to lower it (if above 0), a way
from its tail to its head. So whether a count is pinned is a search in a graph
of a few dozen nodes, in whole numbers, exactly what an integer programme
would find; the property tests check it against one written apart from this
module (SciPy's MILP, a test dependency only). Earlier this was a pair of
linear programmes per count on HiGHS, whose NumPy and solver took about 24 MiB
of the bot's memory from the first report on.

A count pinned by the known totals alone (one department: its counts are the
category totals) is the reader's own knowledge; no table is needed for it.

Tables are given with a fixed list of rows (every department, not only those
that have a count), so a row's existence says nothing either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

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


# The flow's nodes: the source and the sink, and a node per row and per column.
_SOURCE: tuple[str, int] = ("source", 0)
_SINK: tuple[str, int] = ("sink", 0)


def _arc(key: Key) -> tuple[tuple[str, int], tuple[str, int]]:
    """The count ``key`` as an arc of the flow: (from, to)."""
    r, c = key
    if r >= 0 and c >= 0:
        return ("row", r), ("column", c)
    if r >= 0:
        return _SOURCE, ("row", r)
    if c >= 0:
        return ("column", c), _SINK
    return _SINK, _SOURCE


@dataclass
class _Model:
    counts: dict[Key, int]
    lines: list[list[Key]]  # each: [total key, *inner keys]; sum(inner) == total

    def pinned(self, key: Key, shown: set[Key]) -> bool:
        """Whether the attacker's exact bounds leave the hidden ``key`` only one value."""
        hidden = {k for line in self.lines for k in line if k not in shown}
        if key not in hidden:
            return False  # on no line at all: nothing pins it
        tail, head = _arc(key)
        raised = self._reaches(head, tail, hidden - {key})
        lowered = self.counts[key] > 0 and self._reaches(tail, head, hidden - {key})
        return not (raised or lowered)

    def _reaches(self, start: tuple[str, int], goal: tuple[str, int], free: set[Key]) -> bool:
        """Whether flow can go round from ``start`` to ``goal`` through the ``free`` counts:
        along an arc always, against it only while its count is above 0."""
        ways: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for k in free:
            tail, head = _arc(k)
            ways.setdefault(tail, []).append(head)
            if self.counts[k] > 0:
                ways.setdefault(head, []).append(tail)
        seen = {start}
        todo = [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            for following in ways.get(node, ()):
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        return False


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
