"""Disclosure control: small counts are hidden, published numbers are true, and an independent
brute-force reader who knows the table holds non-negative integers computes nothing back."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from iubledger.reports.disclosure import SuppressedTable, Table, suppress

FAST = settings(max_examples=100, deadline=None)

Cells = Sequence[Sequence[int]]
Pos = tuple[int, int]


def table(cells: Cells) -> Table:
    return Table(
        rows=tuple(f"r{i}" for i in range(len(cells))),
        cols=tuple(f"c{j}" for j in range(len(cells[0]))),
        cells=tuple(tuple(row) for row in cells),
    )


def hidden_cells(s: SuppressedTable) -> set[Pos]:
    return {(i, j) for i, row in enumerate(s.cells) for j, v in enumerate(row) if v is None}


def published(
    cells: Cells, hide: Collection[Pos], hide_totals: Collection[str] = ()
) -> SuppressedTable:
    """A hand-made publication, to show what the reader finds in a careless one."""
    m, n = len(cells), len(cells[0])
    return SuppressedTable(
        rows=tuple(f"r{i}" for i in range(m)),
        cols=tuple(f"c{j}" for j in range(n)),
        k=5,
        cells=tuple(
            tuple(None if (i, j) in hide else v for j, v in enumerate(row))
            for i, row in enumerate(cells)
        ),
        row_totals=tuple(None if f"r{i}" in hide_totals else sum(r) for i, r in enumerate(cells)),
        col_totals=tuple(
            None if f"c{j}" in hide_totals else sum(r[j] for r in cells) for j in range(n)
        ),
        grand_total=None if "all" in hide_totals else sum(map(sum, cells)),
        primary=frozenset(hide),
        secondary=frozenset(),
    )


# --- the reader -------------------------------------------------------------------------------
#
# For each hidden number, a depth-first search over the non-negative integer tables that agree
# with every published cell and total, for one in which that number differs from the truth.
# It shares nothing with the implementation (no graph, no bordered grid, no cost). A hidden
# cell ranges up to the smallest published total containing it; with none, up to the true
# grand total + 1, which holds the truth and every table one unit away from it. Values are
# tried nearest the truth first: that only speeds the search, which stays exhaustive.


class Intractable(Exception):
    """The search went past its budget, so this example proves nothing either way."""


class Reader:
    def __init__(self, s: SuppressedTable, truth: Cells, budget: int = 50_000) -> None:
        self.truth, self.budget = truth, budget
        m, n = len(truth), len(truth[0])
        self.hidden = hidden_cells(s)
        self.open_cap = sum(map(sum, truth)) + 1
        known = {(i, j): v or 0 for i, row in enumerate(s.cells) for j, v in enumerate(row)}
        totals = [(("row", i), t, {(i, j) for j in range(n)}) for i, t in enumerate(s.row_totals)]
        totals += [(("col", j), t, {(i, j) for i in range(m)}) for j, t in enumerate(s.col_totals)]
        totals.append((("all",), s.grand_total, set(known)))
        # Published totals, as what is left to place in the hidden cells they contain.
        self.left = {
            key: t - sum(known[p] for p in area) for key, t, area in totals if t is not None
        }
        self.covers = {
            p: [key for key, t, area in totals if t is not None and p in area] for p in known
        }
        self.unpublished = [(name, area) for name, t, area in totals if t is None]
        self.known = known

    def recoverable(self) -> list[object]:
        """Every hidden cell and total whose value all consistent tables agree on."""
        targets: list[tuple[object, set[Pos]]] = [(p, {p}) for p in sorted(self.hidden)]
        targets += self.unpublished
        return [name for name, area in targets if not self.other_value_possible(area)]

    def other_value_possible(self, area: set[Pos]) -> bool:
        true_sum = sum(self.truth[i][j] for i, j in area)
        unknown = sorted(self.hidden, key=lambda p: (p not in area, p))
        in_area = sum(p in area for p in unknown)
        last = {
            key: max((x for x, p in enumerate(unknown) if key in self.covers[p]), default=-1)
            for key in self.left
        }
        left = dict(self.left)
        area_sum = [sum(self.known[p] for p in area)]

        def search(x: int) -> bool:
            self.budget -= 1
            if self.budget < 0:
                raise Intractable
            if x == in_area and area_sum[0] == true_sum:
                return False
            if x == len(unknown):
                return all(v == 0 for v in left.values())
            p = unknown[x]
            keys = self.covers[p]
            cap = min((left[key] for key in keys), default=self.open_cap)
            forced = {left[key] for key in keys if last[key] == x}
            if len(forced) > 1:
                return False
            options = [v for v in forced or range(cap + 1) if 0 <= v <= cap]
            for v in sorted(options, key=lambda v: abs(v - self.truth[p[0]][p[1]])):
                for key in keys:
                    left[key] -= v
                area_sum[0] += v if x < in_area else 0
                if search(x + 1):
                    return True
                for key in keys:
                    left[key] += v
                area_sum[0] -= v if x < in_area else 0
            return False

        return search(0)


def recoverable(s: SuppressedTable, truth: Cells) -> list[object]:
    return Reader(s, truth).recoverable()


# --- the reader is not blind -------------------------------------------------------------------


def test_reader_recovers_a_lone_hidden_cell() -> None:
    assert recoverable(published([[3, 10], [20, 8]], {(0, 0)}), [[3, 10], [20, 8]]) == [(0, 0)]


def test_reader_recovers_a_hidden_total_from_the_others() -> None:
    cells = [[1, 2], [10, 10]]
    s = published(cells, {(0, 0), (0, 1)}, {"r0", "c0", "c1"})
    assert ("row", 0) in recoverable(s, cells)


def test_reader_uses_non_negativity_not_only_linear_algebra() -> None:
    # A full 2x2 rectangle of hidden cells keeps one degree of freedom over the reals, but
    # row r1 totals 0, so both of its cells are 0 and the 3 follows from the row total.
    cells = [[3, 5], [0, 0]]
    s = published(cells, {(0, 0), (0, 1), (1, 0), (1, 1)})
    assert set(recoverable(s, cells)) == {(0, 0), (0, 1), (1, 0), (1, 1)}


# --- unit cases --------------------------------------------------------------------------------


def test_single_small_cell_gets_partners_in_its_row_and_column() -> None:
    cells = [[3, 10, 12], [20, 8, 9], [7, 30, 6]]
    s = suppress(table(cells))
    assert s.primary == {(0, 0)}
    assert s.secondary == {(0, 2), (2, 0), (2, 2)}  # cheapest rectangle: 12 + 7 + 6
    assert sum(v is None for v in s.cells[0]) >= 2
    assert sum(row[0] is None for row in s.cells) >= 2
    assert s.row_totals == (25, 37, 43) and s.col_totals == (30, 48, 27) and s.grand_total == 105
    assert s.has_suppression and s.notice is not None and "1 och 4" in s.notice
    assert recoverable(s, cells) == []


def test_zero_cells_stay_shown() -> None:
    cells = [[0, 3, 10], [0, 8, 9], [0, 7, 6]]
    s = suppress(table(cells))
    assert [row[0] for row in s.cells] == [0, 0, 0]
    assert s.col_totals[0] == 0
    assert s.primary == {(0, 1)}
    assert recoverable(s, cells) == []


def test_zero_cells_are_not_small() -> None:
    cells = [[0, 12], [9, 0]]
    s = suppress(table(cells))
    assert s.cells == ((0, 12), (9, 0)) and not s.has_suppression


@pytest.mark.parametrize("k", [2, 1, 0, -5])
def test_threshold_below_three_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="threshold must be at least 3"):
        suppress(table([[10]]), k)


def test_threshold_three_is_allowed() -> None:
    cells = [[2, 3, 10], [4, 2, 12], [9, 9, 9]]
    s = suppress(table(cells), k=3)
    assert s.primary == {(0, 0), (1, 1)}  # 2 is small at k=3, 3 and 4 are not
    assert s.cells == ((None, None, 10), (None, None, 12), (9, 9, 9))
    assert recoverable(s, cells) == []


def test_table_without_small_cells_is_unchanged() -> None:
    cells = [[10, 20, 0], [30, 40, 5]]
    s = suppress(table(cells))
    assert s.cells == ((10, 20, 0), (30, 40, 5))
    assert s.row_totals == (30, 75) and s.col_totals == (40, 60, 5) and s.grand_total == 105
    assert s.primary == s.secondary == frozenset()
    assert s.has_suppression is False and s.notice is None


def test_one_way_row_single_small_cell_gets_the_smallest_partner() -> None:
    cells = [[3, 10, 20, 0]]
    s = suppress(table(cells))
    assert s.cells == ((None, None, 20, 0),)
    assert s.secondary == {(0, 1)}
    assert s.row_totals == (33,) and s.grand_total == 33
    assert s.col_totals == (None, None, 20, 0)  # a column total repeats its cell
    assert recoverable(s, cells) == []


def test_one_way_column_single_small_cell_gets_a_partner() -> None:
    cells = [[12], [4], [30]]
    s = suppress(table(cells))
    assert s.cells == ((None,), (None,), (30,))
    assert s.row_totals == (None, None, 30) and s.col_totals == (46,)
    assert recoverable(s, cells) == []


def test_one_way_with_two_small_cells_needs_nothing_more() -> None:
    s = suppress(table([[3, 4, 20]]))
    assert s.cells == ((None, None, 20),) and s.secondary == frozenset() and s.grand_total == 27


def test_one_way_small_total_protects_the_lone_small_cell() -> None:
    cells = [[3, 0, 0]]
    s = suppress(table(cells))
    assert s.cells == ((None, 0, 0),) and s.secondary == frozenset()
    assert s.row_totals == (None,) and s.grand_total is None  # the total is 3, small too
    assert recoverable(s, cells) == []


def test_one_by_one() -> None:
    assert suppress(table([[2]])).grand_total is None
    assert not suppress(table([[7]])).has_suppression


def test_small_total_is_hidden_and_not_left_to_subtraction() -> None:
    cells = [[1, 2, 0], [10, 10, 10], [10, 10, 10]]
    s = suppress(table(cells))
    assert s.row_totals[0] is None
    assert s.row_totals.count(None) + (s.grand_total is None) >= 2
    assert recoverable(s, cells) == []


def test_a_zero_total_pins_its_cells_so_totals_are_hidden_instead() -> None:
    # Cells alone cannot help: the other row is all zeros and its total 0 is published.
    cells = [[3, 5], [0, 0]]
    s = suppress(table(cells))
    assert s.cells == ((None, None), (0, 0))
    assert s.col_totals == (None, None) and s.row_totals == (8, 0) and s.grand_total == 8
    assert recoverable(s, cells) == []


@pytest.mark.parametrize(
    "rows, cols, cells",
    [
        ((), ("a",), ()),
        (("a",), ("b",), ((-1,),)),
        (("a",), ("b",), ((True,),)),
        (("a",), ("b", "c"), ((1,),)),
        (("a", "a"), ("b",), ((1,), (2,))),
    ],
)
def test_malformed_tables_are_refused(
    rows: tuple[str, ...], cols: tuple[str, ...], cells: tuple[tuple[int, ...], ...]
) -> None:
    with pytest.raises(ValueError):
        Table(rows, cols, cells)


# --- properties --------------------------------------------------------------------------------

counts = st.one_of(st.just(0), st.integers(1, 9), st.integers(0, 30))
tables = st.integers(1, 6).flatmap(
    lambda m: st.integers(1, 6).flatmap(
        lambda n: st.lists(st.lists(counts, min_size=n, max_size=n), min_size=m, max_size=m)
    )
)
thresholds = st.integers(3, 10)


@FAST
@given(tables, thresholds)
def test_small_counts_are_hidden_and_published_numbers_are_true(cells: Cells, k: int) -> None:
    s = suppress(table(cells), k)
    m, n = len(cells), len(cells[0])
    small = {(i, j) for i in range(m) for j in range(n) if 0 < cells[i][j] < k}
    assert s.primary == small
    assert not s.primary & s.secondary
    assert hidden_cells(s) == s.primary | s.secondary
    for i in range(m):
        for j in range(n):
            assert s.cells[i][j] in (None, cells[i][j])
    shown_totals = [
        *zip(s.row_totals, map(sum, cells), strict=True),
        *zip(s.col_totals, map(sum, zip(*cells, strict=True)), strict=True),
        (s.grand_total, sum(map(sum, cells))),
    ]
    for shown, true in shown_totals:
        assert shown in (None, true)
        assert shown is None or not 0 < true < k
    if m == 1:  # one-way: a column total is its cell, so both are shown or neither
        assert s.col_totals == s.cells[0] and s.grand_total == s.row_totals[0]
    if n == 1:
        assert s.row_totals == tuple(row[0] for row in s.cells) and s.grand_total == s.col_totals[0]
    assert s.has_suppression == (bool(small) or any(v is None for v, _ in shown_totals))
    assert suppress(table(cells), k) == s


@FAST
@given(tables, thresholds)
def test_no_hidden_number_can_be_computed_back(cells: Cells, k: int) -> None:
    s = suppress(table(cells), k)
    try:
        leaks = recoverable(s, cells)
    except Intractable:
        reject()
    assert leaks == []


@FAST
@given(tables, thresholds)
def test_a_total_hidden_for_another_table_cannot_be_computed_back(cells: Cells, k: int) -> None:
    """`hide_total` (a total another published table would turn into a small count): the
    grand total is hidden, and neither it nor any other hidden number can be computed back."""
    s = suppress(table(cells), k, hide_total=True)
    assert s.grand_total is None
    try:
        leaks = recoverable(s, cells)
    except Intractable:
        reject()
    assert leaks == []
