"""Disclosure control for count tables shown to the socialnämnd (14 kap. 5 § SoL).

DOMAIN: aggregates shown to the nämnd must not re-identify: small cells are suppressed,
and so is whatever would let a reader compute a suppressed number back.

The published table is modelled as its cells bordered by the margins: an (m+1) x (n+1) grid
whose last column holds the row totals, last row the column totals, corner the grand total.
Every suppressed position (cell or total) is an edge between its row and its column in a
bipartite graph. Changing published-consistent values means moving along a cycle of
suppressed edges, alternately adding and subtracting 1 (a total counts with the opposite
sign of its cells); a position holding 0 can only go up. A suppressed number is therefore
recoverable by a reader who knows the counts are non-negative integers exactly when no such
cycle passes through it. The constraint matrix is totally unimodular, so this reachability
test is exact: there is no rounding, and a feasible step is always a whole unit.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_THRESHOLD = 5
MIN_THRESHOLD = 3

Pos = tuple[int, int]
"""(row, column) in the bordered grid; index m is the total row, n the total column."""

Cost = tuple[int, int, int]
"""Price of suppressing more: (totals, zero cells, sum of counts), compared in that order."""

Arc = tuple[int, int, Pos]
"""(from node, to node, position) in the bipartite graph of rows and columns."""

_FREE: Cost = (0, 0, 0)


@dataclass(frozen=True)
class Table:
    """Non-negative integer counts, ``cells[r][c]`` for row label ``rows[r]``, column ``cols[c]``.

    A one-way table is a table with a single row or a single column.
    """

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if not self.rows or not self.cols:
            raise ValueError("a table needs at least one row and one column")
        if len(set(self.rows)) != len(self.rows) or len(set(self.cols)) != len(self.cols):
            raise ValueError("row and column labels must be unique")
        if len(self.cells) != len(self.rows) or any(len(r) != len(self.cols) for r in self.cells):
            raise ValueError("cells must have one row per row label and one count per column")
        for row in self.cells:
            for count in row:
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise ValueError("every cell must be a non-negative integer count")


@dataclass(frozen=True)
class SuppressedTable:
    """A table fit to publish: ``None`` marks a suppressed cell or total, every number is exact.

    ``primary`` holds the (row, column) indices of cells suppressed for being small,
    ``secondary`` those suppressed so the primary ones cannot be computed back.
    """

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    k: int
    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    col_totals: tuple[int | None, ...]
    grand_total: int | None
    primary: frozenset[Pos]
    secondary: frozenset[Pos]

    @property
    def has_suppression(self) -> bool:
        """Whether any cell or total is withheld, so the report must say so."""
        return (
            self.grand_total is None
            or None in self.row_totals
            or None in self.col_totals
            or any(None in row for row in self.cells)
        )

    @property
    def notice(self) -> str | None:
        """The note the report carries when numbers are withheld; ``None`` when none are."""
        if not self.has_suppression:
            return None
        return (
            f"Antal mellan 1 och {self.k - 1} redovisas inte, inte heller celler eller summor "
            "som skulle röja dem."
        )


def suppress(
    table: Table, k: int = DEFAULT_THRESHOLD, *, hide_total: bool = False
) -> SuppressedTable:
    """Suppress small counts and every number that would reveal one.

    DOMAIN: aggregates shown to the nämnd must not re-identify: small cells are suppressed
    (14 kap. 5 § SoL).

    Primary: every cell and every total with ``0 < count < k``. A zero is shown as 0: it
    says that nobody is in the group, which identifies no one. Secondary: until no suppressed
    number is determined by the published ones and non-negativity, take the exposed position
    (first in row-major order over the bordered grid) and suppress the cheapest set of
    published positions that closes a cycle through it: fewest totals, then fewest zero
    cells, then smallest sum of counts; ties are broken by position. Totals are only chosen
    when no set of cells can protect it.

    ``hide_total``: the grand total is hidden and protected as a small count is, for a
    table whose total another published table would turn into a small count.
    """
    if k < MIN_THRESHOLD:
        raise ValueError("threshold must be at least 3")
    m, n = len(table.rows), len(table.cols)
    values = _bordered(table)
    hidden = {pos for pos, v in values.items() if 0 < v < k}
    if hide_total:
        hidden |= _linked((m, n), m, n)
    while (exposed := _first_exposed(values, hidden, m, n)) is not None:
        for pos in _cheapest_cover(exposed, values, hidden, m, n):
            hidden.update(_linked(pos, m, n))

    def shown(pos: Pos) -> int | None:
        return None if pos in hidden else values[pos]

    primary = frozenset(
        (i, j) for i, row in enumerate(table.cells) for j, v in enumerate(row) if 0 < v < k
    )
    return SuppressedTable(
        rows=table.rows,
        cols=table.cols,
        k=k,
        cells=tuple(tuple(shown((i, j)) for j in range(n)) for i in range(m)),
        row_totals=tuple(shown((i, n)) for i in range(m)),
        col_totals=tuple(shown((m, j)) for j in range(n)),
        grand_total=shown((m, n)),
        primary=primary,
        secondary=frozenset((i, j) for i, j in hidden if i < m and j < n) - primary,
    )


def _bordered(table: Table) -> dict[Pos, int]:
    """Cells with their row totals, column totals and grand total on the border."""
    m, n = len(table.rows), len(table.cols)
    values = {(i, j): v for i, row in enumerate(table.cells) for j, v in enumerate(row)}
    for i, row in enumerate(table.cells):
        values[i, n] = sum(row)
    for j in range(n):
        values[m, j] = sum(row[j] for row in table.cells)
    values[m, n] = sum(values[i, n] for i in range(m))
    return values


def _linked(pos: Pos, m: int, n: int) -> set[Pos]:
    """Positions that always hold the same number: in a one-way table a margin repeats a cell."""
    i, j = pos
    rows = {0, m} if m == 1 else {i}
    cols = {0, n} if n == 1 else {j}
    return {(r, c) for r in rows for c in cols}


def _arcs(pos: Pos, value: int, m: int, n: int) -> tuple[Arc, ...]:
    """Directed steps along ``pos``; the first one adds 1 to its number, the second subtracts."""
    i, j = pos
    row, col = i, m + 1 + j
    is_cell_or_grand = (i < m) == (j < n)
    up: Arc = (row, col, pos) if is_cell_or_grand else (col, row, pos)
    return (up,) if value == 0 else (up, (up[1], up[0], pos))


def _first_exposed(values: Mapping[Pos, int], hidden: set[Pos], m: int, n: int) -> Pos | None:
    """First suppressed position whose number a reader can compute back, if any."""
    for pos in sorted(hidden):
        others = [a for p in hidden - {pos} for a in _arcs(p, values[p], m, n)]
        if not any(_reaches(head, tail, others) for tail, head, _ in _arcs(pos, values[pos], m, n)):
            return pos
    return None


def _reaches(start: int, goal: int, arcs: Iterable[Arc]) -> bool:
    """Whether a directed path over ``arcs`` leads from ``start`` to ``goal``."""
    succ: defaultdict[int, set[int]] = defaultdict(set)
    for tail, head, _ in arcs:
        succ[tail].add(head)
    seen, todo = {start}, [start]
    while todo:
        for nxt in succ[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return goal in seen


def _cheapest_cover(
    exposed: Pos, values: Mapping[Pos, int], hidden: set[Pos], m: int, n: int
) -> tuple[Pos, ...]:
    """Published positions to suppress so that a cycle runs through ``exposed``.

    Some direction always exists: adding 1 to a number and to the totals that contain it
    (or, for a total, to one cell and the totals around it) breaks no constraint.
    """
    arcs = [a for p in values if p != exposed for a in _arcs(p, values[p], m, n)]
    price = {p: _FREE if p in hidden else _price(p, values[p], m, n) for p in values}
    found = (
        _shortest_path(head, tail, arcs, price)
        for tail, head, _ in _arcs(exposed, values[exposed], m, n)
    )
    _, path = min(f for f in found if f is not None)
    return tuple(p for p in path if p not in hidden)


def _price(pos: Pos, value: int, m: int, n: int) -> Cost:
    """Cost of suppressing one published position (a margin repeating a cell is a cell)."""
    is_total = all(i == m or j == n for i, j in _linked(pos, m, n))
    return (int(is_total), int(value == 0), value)


def _shortest_path(
    start: int, goal: int, arcs: Iterable[Arc], price: Mapping[Pos, Cost]
) -> tuple[Cost, tuple[Pos, ...]] | None:
    """Dijkstra from ``start`` to ``goal``; the positions walked, or ``None`` if unreachable."""
    succ: defaultdict[int, list[tuple[int, Pos]]] = defaultdict(list)
    for tail, head, pos in sorted(arcs, key=lambda a: a[2]):
        succ[tail].append((head, pos))
    best: dict[int, Cost] = {start: _FREE}
    via: dict[int, tuple[int, Pos]] = {}
    queue: list[tuple[Cost, int]] = [(_FREE, start)]
    done: set[int] = set()
    while queue:
        cost, node = heapq.heappop(queue)
        if node in done:
            continue
        done.add(node)
        for head, pos in succ[node]:
            step = price[pos]
            new = (cost[0] + step[0], cost[1] + step[1], cost[2] + step[2])
            if head not in best or new < best[head]:
                best[head] = new
                via[head] = (node, pos)
                heapq.heappush(queue, (new, head))
    if goal not in done:
        return None
    path: list[Pos] = []
    node = goal
    while node != start:
        node, pos = via[node]
        path.append(pos)
    return best[goal], tuple(reversed(path))
