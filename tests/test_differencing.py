"""Reports that resist differencing (14 kap. 5 § SoL, G8): two participation reports over
overlapping periods, for any role that sees disclosure-controlled tables, reveal no count
the control hides.

The method is fixed publication periods: a controlled report is the sum of the calendar
quarters that cover its period, each protected on its own (`reports/protect.py`). So for two
nested periods, every number published in both differs by a sum of published monthly
numbers (0 or at least k), and their difference — a table of its own — gives the exact
reader of `test_disclosure` nothing it could compute back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from iubledger import catalogs
from iubledger.config import Settings, resolve
from iubledger.reports import participation
from iubledger.reports.disclosure import SuppressedTable
from iubledger.reports.protect import Skydd
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, reports
from iubledger.simulate import simulate
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger
from test_disclosure import Intractable, Reader
from test_reports import published_tables

FRAN, TILL = date(2025, 12, 1), date(2026, 4, 30)
EXACT = Skydd(k=None, exakt_for="kontroll av röjandeskyddet")
#: What the roles that see controlled tables get: nämnd and tillsyn over HTTP (k = 5), the
#: command line's lowest allowed threshold (3).
SKYDD = [Skydd(k=5), Skydd(k=3)]
TOTAL = "Σ"
SPARSE = ("annat", "uppgift_saknas")

Grid = dict[tuple[str, str], int | None]


def settings_for(data_dir: Path) -> Settings:
    return resolve(str(data_dir), f"sqlite:///{(data_dir / 'ledger.sqlite').resolve()}")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    root = tmp_path_factory.mktemp("differencing") / "d"
    s = settings_for(root)
    KeyStore(s.key_dir).init()
    opened = Ledger(s)
    try:
        decisions.import_files(opened, [("alingsas", catalogs.read("alingsas"))])
        fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
        for e in simulate(fil, FRAN, TILL, seed=3, scale=0.3):
            append.event(opened, e)
        reports.project(opened)
        yield opened
    finally:
        opened.close()


def build(ledger: Ledger, fran: date, till: date, skydd: Skydd) -> dict[str, Any]:
    with ledger.transaction() as session:
        return participation.build(session, ledger.decision_index(), fran, till, skydd=skydd)


def grids(report: dict[str, Any]) -> dict[str, Grid]:
    """Every published table as positions (row, column) → number, margins under Σ."""
    out: dict[str, Grid] = {}
    for name, tab in published_tables(report).items():
        g: Grid = {}
        for r, row, t in zip(tab["rader"], tab["celler"], tab["radsummor"], strict=True):
            g.update({(r, c): v for c, v in zip(tab["kolumner"], row, strict=True)})
            g[(r, TOTAL)] = t
        g.update({(TOTAL, c): v for c, v in zip(tab["kolumner"], tab["kolumnsummor"], strict=True)})
        g[(TOTAL, TOTAL)] = tab["totalt"]
        out[name] = g
    return out


def as_table(shown: Grid, truth: Grid, k: int) -> tuple[SuppressedTable, list[list[int]]]:
    """A grid as the reader's input: the published table and its true cells."""
    rows = sorted({r for r, _ in truth} - {TOTAL})
    cols = sorted({c for _, c in truth} - {TOTAL})
    s = SuppressedTable(
        rows=tuple(rows),
        cols=tuple(cols),
        k=k,
        cells=tuple(tuple(shown.get((r, c), 0) for c in cols) for r in rows),
        row_totals=tuple(shown.get((r, TOTAL), 0) for r in rows),
        col_totals=tuple(shown.get((TOTAL, c), 0) for c in cols),
        grand_total=shown.get((TOTAL, TOTAL), 0),
        primary=frozenset(),
        secondary=frozenset(),
    )
    return s, [[truth.get((r, c), 0) or 0 for c in cols] for r in rows]


def controlled_shape(exact: dict[str, Grid]) -> dict[str, Grid]:
    """Exact tables in the shape a controlled report publishes: the sparse genders out of
    the age table, in a table of their own over all ages."""
    age = exact["alder_kon"]
    sparse = sum(v or 0 for (r, c), v in age.items() if c in SPARSE and r != TOTAL)
    kept = {(r, c): v for (r, c), v in age.items() if c not in SPARSE and TOTAL not in (r, c)}
    rows = {r for r, _ in kept}
    cols = {c for _, c in kept}
    shaped: Grid = dict(kept)
    shaped.update({(r, TOTAL): sum(kept[(r, c)] or 0 for c in cols) for r in rows})
    shaped.update({(TOTAL, c): sum(kept[(r, c)] or 0 for r in rows) for c in cols})
    shaped[(TOTAL, TOTAL)] = sum(v or 0 for v in kept.values())
    own = ("alla åldrar", "annat_eller_saknas")
    other: Grid = {
        own: sparse,
        (own[0], TOTAL): sparse,
        (TOTAL, own[1]): sparse,
        (TOTAL, TOTAL): sparse,
    }
    return {**exact, "alder_kon": shaped, "kon_ovrigt": other}


def difference(a: Grid, b: Grid) -> Grid:
    """What subtracting the smaller report from the larger shows: a number where both are
    published (a position the smaller one lacks holds 0 there)."""
    out: Grid = {}
    for pos, va in a.items():
        vb = b.get(pos, 0)
        out[pos] = None if va is None or vb is None else va - vb
    return out


days = st.integers(0, (TILL - FRAN).days)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@example(inner=(31, 61), outer=(0, 1), k_index=0)  # 2026-01-01..31 and ..02-01
@example(inner=(0, 60), outer=(0, 35), k_index=1)  # across a quarter's end
@given(
    inner=st.tuples(days, days).map(sorted),
    outer=st.tuples(st.integers(0, 40), st.integers(0, 40)),
    k_index=st.integers(0, len(SKYDD) - 1),
)
def test_no_protected_count_is_recoverable_by_subtraction(
    ledger: Ledger, inner: list[int], outer: tuple[int, int], k_index: int
) -> None:
    skydd = SKYDD[k_index]
    k = skydd.k
    assert k is not None
    b0, b1 = FRAN + timedelta(days=inner[0]), FRAN + timedelta(days=inner[1])
    a0, a1 = b0 - timedelta(days=outer[0]), b1 + timedelta(days=outer[1])
    big, small = build(ledger, a0, a1, skydd), build(ledger, b0, b1, skydd)
    for r in (big, small):
        assert r["skydd"]["metod"] in r["skydd"]["text"]  # every report states its method
    same = big["period"] == small["period"]
    exact_big = controlled_shape(grids(build(ledger, *_period(big), EXACT)))
    exact_small = controlled_shape(grids(build(ledger, *_period(small), EXACT)))
    shown_big, shown_small = grids(big), grids(small)
    for name, a in shown_big.items():
        b = shown_small[name]
        d = difference(a, b)
        if same:
            assert a == b, name  # the same publication periods: the same report
            continue
        for pos, v in d.items():
            assert v is None or v == 0 or v >= k, (name, pos, v)
        truth = difference(exact_big[name], exact_small[name])
        s, cells = as_table(d, truth, k)
        if not any(v is None for row in s.cells for v in row):
            continue
        try:
            found = Reader(s, cells).recoverable()
        except Intractable:
            continue  # too large to search: proves nothing either way
        revealed = [x for x in found if 0 < value_of(x, cells) < k]
        assert revealed == [], name


def value_of(found: object, cells: list[list[int]]) -> int:
    """The true value of what the reader computed back: a cell (i, j), a row or column
    total, or the grand total."""
    match found:
        case ("row", int(i)):
            return sum(cells[i])
        case ("col", int(j)):
            return sum(row[j] for row in cells)
        case ("all",):
            return sum(map(sum, cells))
        case (int(i), int(j)):
            return cells[i][j]
    raise AssertionError(found)


def _period(report: dict[str, Any]) -> tuple[date, date]:
    p = report["period"]
    return date.fromisoformat(p["fran"]), date.fromisoformat(p["till"])


def test_the_one_day_attack_of_the_old_reports_finds_nothing(ledger: Ledger) -> None:
    """January against January plus 1 February: both are published as the first quarter,
    the same report; the quarter before and after differ by its own protected table."""
    jan = build(ledger, date(2026, 1, 1), date(2026, 1, 31), Skydd())
    more = build(ledger, date(2026, 1, 1), date(2026, 2, 1), Skydd())
    assert jan["period"] == {"fran": "2026-01-01", "till": "2026-03-31", "indelning": "manad"}
    assert more["begard_period"] == {"fran": "2026-01-01", "till": "2026-02-01"}
    assert grids(jan) == grids(more)
    hidden = sum(v is None for g in grids(jan).values() for v in g.values())
    assert hidden > 0  # the control had something to hide


def test_exact_counts_are_for_the_period_asked(ledger: Ledger) -> None:
    r = build(ledger, date(2026, 1, 10), date(2026, 2, 3), EXACT)
    assert r["period"]["fran"] == "2026-01-10" and r["period"]["till"] == "2026-02-03"
    assert r["skydd"]["exakta_tal"] is True
