"""Reports for the nämnd: every published number is the projection's, and disclosure
control holds in every table (14 kap. 5 § SoL: aggregates must not re-identify).

The effect report compares equal windows around each decision change (here the
amendment that moves Beroenderådgivning, alingsas/3.1.5, from 14 kap. 4 § to an undantag
under 14 kap. 5 § from 2026-04-01).
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import distinct, func, select

from iubledger import catalogs
from iubledger.config import Settings, resolve
from iubledger.projections.deltagande import aktiv, matt
from iubledger.reports import effect, participation
from iubledger.reports.protect import STANDARD, Skydd, share
from iubledger.schemas.beslut import BeslutsFil
from iubledger.schemas.handelser import AVBROTTSORSAKER
from iubledger.services import append, decisions, demo, reports
from iubledger.simulate import simulate
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

FRAN, TILL = date(2026, 2, 1), date(2026, 5, 31)
#: The whole calendar quarters a report with disclosure control over FRAN..TILL covers.
PUBLISHED = (date(2026, 1, 1), date(2026, 6, 30))
CHANGE = date(2026, 4, 1)
AMENDED = "alingsas/3.1.5"
K = 5
assert STANDARD.k == K
EXAKT_FOR = "Socialnämndens utredare för uppföljning av Beroenderådgivningen"


def settings_for(data_dir: Path) -> Settings:
    return resolve(str(data_dir), f"sqlite:///{(data_dir / 'ledger.sqlite').resolve()}")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alingsas with the amendment, a simulated stream over the period, projected."""
    root = tmp_path_factory.mktemp("reports") / "d"
    s = settings_for(root)
    KeyStore(s.key_dir).init()
    ledger = Ledger(s)
    try:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
        decisions.import_files(ledger, [demo.amendment()])
        fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
        for e in simulate(fil, FRAN, TILL, seed=3, scale=0.3):
            append.event(ledger, e)
        reports.project(ledger)
    finally:
        ledger.close()
    return root


@pytest.fixture(scope="module")
def ledger(store: Path) -> Iterator[Ledger]:
    """The module store, read only."""
    opened = Ledger(settings_for(store))
    try:
        yield opened
    finally:
        opened.close()


def build(ledger: Ledger, skydd: Skydd = STANDARD) -> dict[str, Any]:
    with ledger.transaction() as session:
        return participation.build(session, ledger.decision_index(), FRAN, TILL, skydd=skydd)


@pytest.fixture(scope="module")
def report(ledger: Ledger) -> dict[str, Any]:
    return build(ledger)


# -- the projection, read without the report code ----------------------------------------


def whole_periods(fran: date, till: date) -> str:
    """The coarsest calendar period [fran, till] is a union of whole ones of."""
    after = till + timedelta(days=1)
    starts = {
        "ar": lambda d: d.month == 1 and d.day == 1,
        "kvartal": lambda d: d.month in (1, 4, 7, 10) and d.day == 1,
        "manad": lambda d: d.day == 1,
        "vecka": lambda d: d.isoweekday() == 1,
    }
    return next((k for k, first in starts.items() if first(fran) and first(after)), "dag")


class Counts:
    """Counts straight from the projection tables: by insats, and by insats and month.
    `parts`: unique participants summed over these periods (the calendar quarters a report
    with disclosure control is composed of), else over the window."""

    def __init__(
        self,
        ledger: Ledger,
        fran: date = FRAN,
        till: date = TILL,
        parts: list[tuple[date, date]] | None = None,
    ) -> None:
        self.by: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        self.monthly: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        with ledger.transaction() as session:
            rows = session.execute(
                select(matt.c.dag, matt.c.insats, matt.c.matt, matt.c.varde, matt.c.antal).where(
                    matt.c.dag >= fran, matt.c.dag <= till
                )
            ).all()
            self.by_utforare = session.execute(
                select(
                    matt.c.insats, matt.c.utforare, matt.c.matt, matt.c.varde, matt.c.antal
                ).where(matt.c.dag >= fran, matt.c.dag <= till)
            ).all()
            unique = session.execute(
                select(aktiv.c.insats, func.count(distinct(aktiv.c.nyckel)))
                .where(aktiv.c.dag >= fran, aktiv.c.dag <= till)
                .group_by(aktiv.c.insats)
            ).all()
        for dag, insats, m, v, n in rows:
            self.by[insats][(m, v)] += n
            month = f"{dag.year}-{dag.month:02d}"
            if (m, v) == ("tillfalle", "individ") or m in ("narvaro", "start"):
                self.monthly[insats][(month, "start" if m == "start" else "aktivitet")] += n
            if m in ("maende_start", "maende_slut"):
                self.monthly[insats][(month, m)] += n
        self.unique = Counter({insats: n for insats, n in unique})
        # Under 14 kap. 3 § a participant counts once per calendar period: the coarsest
        # period of which the window is made of whole ones.
        kind = whole_periods(fran, till)
        for insats, c in self.by.items():
            self.unique[insats] += c[("unik", kind)]
        if parts is not None:
            self.unique = Counter()
            for lo, hi in parts:
                self.unique.update(Counts(ledger, lo, hi).unique)

    def total(self, insats: str, m: str) -> int:
        return sum(n for (mm, _), n in self.by[insats].items() if mm == m)

    def key(self, insats: str, key: str) -> int:
        c = self.by[insats]
        return {
            "kontakter": c[("kontakt", "")],
            "starter": c[("start", "")],
            "unika": self.unique[insats],
            "tillfallen": c[("tillfalle", "individ")],
            "gruppsessioner": c[("tillfalle", "grupp")],
            "gruppnarvaro": self.total(insats, "narvaro"),
            "avslut": c[("avslut", "")],
            "avbrott": self.total(insats, "avbrott"),
            "hanvisningar": c[("hanvisning", "")],
            "villkor_ej_uppfyllda": c[("villkor", "ej_uppfyllda")],
        }[key]


@pytest.fixture(scope="module")
def counts(ledger: Ledger) -> Counts:
    """The counts of the period the controlled report publishes: whole calendar quarters."""
    return Counts(
        ledger,
        *PUBLISHED,
        parts=[(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 30))],
    )


def published_tables(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every table the report publishes. A key figure is a one-column table of insatser
    whose total is in `summor` (the row total of a one-column table is the cell itself)."""
    out: dict[str, dict[str, Any]] = {}
    for key, _ in participation.NYCKELTAL:
        cells = [[i["nyckeltal"][key]] for i in report["insatser"]]
        out[f"nyckeltal:{key}"] = {
            "rader": [i["insats"] for i in report["insatser"]],
            "kolumner": [key],
            "celler": cells,
            "radsummor": [c[0] for c in cells],
            "kolumnsummor": [report["summor"][key]],
            "totalt": report["summor"][key],
        }
    out.update(report["tabeller"])
    return out


#: Genders published under disclosure control in a table of their own, all ages together
#: (sparse: a small count of one would hide large cells of the age table).
SPARSE = ("annat", "uppgift_saknas")


def true_tables(report: dict[str, Any], counts: Counts) -> dict[str, list[list[int]]]:
    """The exact cells of every published table, from the projection."""
    ids = [i["insats"] for i in report["insatser"]]
    out = {
        f"nyckeltal:{key}": [[counts.key(i, key)] for i in ids]
        for key, _ in participation.NYCKELTAL
    }
    months = report["tabeller"]["aktivitet"]["kolumner"]
    period = report["period"]
    assert (period["fran"], period["till"]) == (
        tuple(d.isoformat() for d in PUBLISHED)
        if not report["skydd"]["exakta_tal"]
        else (FRAN.isoformat(), TILL.isoformat())
    )
    expected = ["2026-02", "2026-03", "2026-04", "2026-05"]
    if not report["skydd"]["exakta_tal"]:
        expected = ["2026-01", *expected, "2026-06"]
    assert months == expected
    out["aktivitet"] = [[counts.monthly[i][(p, "aktivitet")] for p in months] for i in ids]
    out["starter"] = [[counts.monthly[i][(p, "start")] for p in months] for i in ids]
    kon_alder: Counter[tuple[str, str]] = Counter()
    for i in ids:
        for (m, v), n in counts.by[i].items():
            if m in ("start_kon_alder", "narvaro"):
                kon, band = v.split("|")
                kon_alder[(band, kon)] += n
    if not report["skydd"]["exakta_tal"]:  # sparse genders: their own table, all ages
        out["kon_ovrigt"] = [[sum(n for (_, g), n in kon_alder.items() if g in SPARSE)]]
        kon_alder = Counter({(b, g): n for (b, g), n in kon_alder.items() if g not in SPARSE})
    tab = report["tabeller"]["alder_kon"]
    assert set(tab["rader"]) == {b for b, _ in +kon_alder}
    assert set(tab["kolumner"]) == {g for _, g in +kon_alder}
    out["alder_kon"] = [[kon_alder[(b, g)] for g in tab["kolumner"]] for b in tab["rader"]]
    assert report["tabeller"]["avbrottsorsaker"]["kolumner"] == list(AVBROTTSORSAKER)
    out["avbrottsorsaker"] = [[counts.by[i][("avbrott", o)] for o in AVBROTTSORSAKER] for i in ids]
    # Each shipped insats has one provider: its records are its provider's.
    rows = {r["insats"]: r for r in report["insatser"]}
    measures = {("kontakt", ""): 0, ("start", ""): 1, ("tillfalle", "individ"): 2}
    for name, of in (("per_tillhandahallare", "tillhandahallare"), ("per_kategori", "kategori")):
        cells: dict[str, list[int]] = {}
        for insats, _, m, v, n in counts.by_utforare:
            if insats in rows and (m, v) in measures:
                assert ";" not in rows[insats]["tillhandahallare"]
                cells.setdefault(rows[insats][of], [0, 0, 0])[measures[(m, v)]] += n
        tab = report["tabeller"][name]
        assert tab["kolumner"] == ["Kontakter", "Starter", "Tillfällen"]
        assert set(tab["rader"]) >= set(cells)
        out[name] = [cells.get(r, [0, 0, 0]) for r in tab["rader"]]
    return out


def bordered(cells: list[list[int]]) -> list[list[int]]:
    """Cells with row totals, column totals and the grand total on the border."""
    rows = [[*r, sum(r)] for r in cells]
    return [*rows, [sum(col) for col in zip(*rows, strict=True)]]


def published_bordered(tab: dict[str, Any]) -> list[list[int | None]]:
    """The table as published, bordered; margins it does not publish (the row sums of a
    table of different measures) are unknown to the reader."""
    sums = tab.get("radsummor", [None] * len(tab["celler"]))
    rows = [[*r, t] for r, t in zip(tab["celler"], sums, strict=True)]
    return [*rows, [*tab["kolumnsummor"], tab.get("totalt")]]


def recoverable(true: list[list[int]], shown: list[list[int | None]]) -> set[tuple[int, int]]:
    """Hidden positions a reader can compute back, by brute force over the table's lines:
    a line (row or column, totals included) with one unknown gives it away; a line whose
    known total equals its known cells says every unknown cell in it is 0. What is found
    becomes known and the lines are read again, until nothing changes."""
    m, n = len(true) - 1, len(true[0]) - 1
    known = {(i, j) for i in range(m + 1) for j in range(n + 1) if shown[i][j] is not None}
    hidden = {(i, j) for i in range(m + 1) for j in range(n + 1)} - known
    lines = [([(i, j) for j in range(n)], (i, n)) for i in range(m + 1)]
    lines += [([(i, j) for i in range(m)], (m, j)) for j in range(n + 1)]
    changed = True
    while changed:
        changed = False
        for parts, margin in lines:
            unknown = [p for p in [*parts, margin] if p not in known]
            found: list[tuple[int, int]] = []
            if len(unknown) == 1:
                found = unknown
            elif unknown and margin in known:
                rest = true[margin[0]][margin[1]] - sum(
                    true[i][j] for i, j in parts if (i, j) in known
                )
                if rest == 0:
                    found = unknown
            if found:
                known.update(found)
                changed = True
    return hidden & known


def test_recoverable_finds_what_a_reader_could_compute() -> None:
    """The brute force itself: one hidden cell in a row with a published total is found;
    a 2x2 block of hidden cells is not; a hidden total next to published cells is."""
    true = bordered([[3, 7], [6, 8]])
    one = [[None, 7, 10], [6, 8, 14], [9, 15, 24]]
    assert recoverable(true, one) == {(0, 0)}
    block = [[None, None, 10], [None, None, 14], [9, 15, 24]]
    assert recoverable(true, block) == set()
    total = [[3, 7, None], [6, 8, 14], [9, 15, 24]]
    assert recoverable(true, total) == {(0, 2)}
    zeros = bordered([[0, 0, 9], [5, 6, 9]])
    shown = [[None, None, 9, 9], [5, 6, 9, 20], [5, 6, 18, 29]]
    assert recoverable(zeros, shown) == {(0, 0), (0, 1)}


# -- the participation report -----------------------------------------------------------


def test_every_published_count_is_the_projection_count(
    report: dict[str, Any], counts: Counts
) -> None:
    truth = true_tables(report, counts)
    tables = published_tables(report)
    assert set(truth) == set(tables)
    for name, cells in truth.items():
        shown = published_bordered(tables[name])
        full = bordered(cells)
        assert len(shown) == len(full), name
        for i, row in enumerate(full):
            for j, value in enumerate(row):
                assert shown[i][j] in (None, value), (name, i, j)
    published = sum(v is not None for t in tables.values() for r in t["celler"] for v in r)
    assert published > 100


def test_every_small_count_is_suppressed_in_every_table(
    report: dict[str, Any], counts: Counts
) -> None:
    truth = true_tables(report, counts)
    tables = published_tables(report)
    small = 0
    for name, cells in truth.items():
        shown = published_bordered(tables[name])
        for i, row in enumerate(bordered(cells)):
            for j, value in enumerate(row):
                if 0 < value < K:
                    small += 1
                    assert shown[i][j] is None, (name, i, j, value)
    assert small > 10  # not vacuous
    assert report["skydd"]["undertryckt"] is True
    assert report["skydd"]["troskel"] == K
    assert "14 kap. 5 § SoL" in report["skydd"]["text"]


def test_no_suppressed_count_can_be_computed_back(report: dict[str, Any], counts: Counts) -> None:
    truth = true_tables(report, counts)
    for name, tab in published_tables(report).items():
        shown = published_bordered(tab)
        assert recoverable(bordered(truth[name]), shown) == set(), name


def test_shares_and_means_are_hidden_when_they_could_reveal_a_small_count(
    report: dict[str, Any], counts: Counts
) -> None:
    checked = Counter[str]()
    for row in report["insatser"]:
        i = row["insats"]
        c = counts.by[i]
        for name, part, whole in (
            ("andel_informerade", c[("informerad", "ja")], c[("kontakt", "")]),
            (
                "avbrottsandel",
                counts.total(i, "avbrott"),
                counts.total(i, "avbrott") + c[("avslut", "")],
            ),
        ):
            if whole == 0 or whole < K or 0 < whole - part < K:
                assert row[name] is None, (i, name)
                checked["hidden"] += 1
            elif row[name] is not None:
                assert row[name] == round(100 * part / whole, 1), (i, name)
                checked["shown"] += 1
        for name, m in (("maende_start", "maende_start"), ("maende_slut", "maende_slut")):
            ratings = {int(v): n for (mm, v), n in c.items() if mm == m}
            n = sum(ratings.values())
            quarterly: Counter[int] = Counter()
            for (month, mm), x in counts.monthly[i].items():
                if mm == m:
                    quarterly[(int(month[5:]) - 1) // 3] += x
            if n < K or any(0 < x < K for x in quarterly.values()):
                assert row[name] is None, (i, name)
            else:
                assert row[name] == round(sum(v * k for v, k in ratings.items()) / n, 2)
    assert checked["hidden"] > 0 and checked["shown"] > 0


@given(part=st.integers(0, 60), extra=st.integers(0, 60), k=st.integers(3, 12))
def test_a_share_never_reveals_a_small_complement(part: int, extra: int, k: int) -> None:
    whole = part + extra
    got = share(part, whole, Skydd(k=k))
    if whole == 0 or whole < k or 0 < extra < k:
        assert got is None
    else:
        assert got == round(100 * part / whole, 1)
    assert share(None, whole, Skydd(k=k)) is None
    assert share(part, None, Skydd(k=k)) is None


@pytest.mark.parametrize("k", [-1, 0, 1, 2])
def test_a_threshold_below_three_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match="at least"):
        Skydd(k=k)


@pytest.mark.parametrize("exakt_for", [None, ""])
def test_exact_counts_without_a_named_use_are_refused(exakt_for: str | None) -> None:
    with pytest.raises(ValueError, match="who may use"):
        Skydd(k=None, exakt_for=exakt_for)


def test_the_command_line_refuses_a_threshold_below_three(run_cli: Any) -> None:
    result = run_cli(["report", "participation", "--threshold", "2"])
    assert result.exit_code == 2


def test_exact_counts_say_who_may_use_them(ledger: Ledger) -> None:
    exact = build(ledger, Skydd(k=None, exakt_for=EXAKT_FOR))
    assert exact["skydd"]["exakta_tal"] is True
    assert EXAKT_FOR in exact["skydd"]["text"]
    truth = true_tables(exact, Counts(ledger))
    small = 0
    for name, tab in published_tables(exact).items():
        shown, want = published_bordered(tab), bordered(truth[name])
        if name in participation.OLIKA_MATT:  # no sums across different measures
            want = [[*r[:-1], None] for r in want]
        assert shown == want, name
        small += sum(0 < v < K for r in truth[name] for v in r)
    assert small > 0


def test_markers_list_both_versions_of_the_amended_insats(report: dict[str, Any]) -> None:
    row = next(r for r in report["insatser"] if r["insats"] == AMENDED)
    assert row["markeringar"] == [
        {"datum": "2025-10-01", "version": 1, "regim": "radgivning_14_4", "handelse": "beslut"},
        {"datum": "2026-04-01", "version": 2, "regim": "undantag_14_5", "handelse": "beslut"},
    ]
    assert row["regim"] == "undantag_14_5"  # the version in force at the end of the period
    others = [r for r in report["insatser"] if r["insats"] != AMENDED]
    assert len(others) == 24
    assert all(len(r["markeringar"]) == 1 for r in others)


# -- the effect report ------------------------------------------------------------------


def effect_of(ledger: Ledger, fran: date = FRAN, till: date = TILL) -> dict[str, Any]:
    with ledger.transaction() as session:
        return effect.build(session, ledger.decision_index(), fran, till)


def quarter_start(d: date) -> bool:
    return d.day == 1 and d.month in (1, 4, 7, 10)


def check_windows(change: dict[str, Any], fran: date, till: date, days: list[date]) -> int:
    """Equally many whole calendar quarters on each side, before ending before the change
    day and after starting on or after it, inside the quarters that cover the period, with
    no other change inside them; returns how many quarters each side has."""
    f = change["fonster"]
    b0, b1 = (date.fromisoformat(d) for d in f["fore"])
    a0, a1 = (date.fromisoformat(d) for d in f["efter"])
    day = date.fromisoformat(change["andring"]["datum"])
    one = timedelta(days=1)
    assert all(quarter_start(d) for d in (b0, b1 + one, a0, a1 + one))
    assert b1 < day <= a0
    months = [(d.year * 12 + d.month) for d in (b0, b1, a0, a1)]
    assert months[1] - months[0] + 1 == months[3] - months[2] + 1 == 3 * f["kvartal"]
    assert 1 <= f["kvartal"] <= effect.MAX_KVARTAL
    assert b0 > fran - timedelta(days=92) and a1 < till + timedelta(days=92)
    assert not [d for d in days if d != day and b0 < d <= a1]
    return int(f["kvartal"])


def test_effect_has_exactly_the_amendment(ledger: Ledger) -> None:
    report = effect_of(ledger)
    assert [c["insats"] for c in report["andringar"]] == [AMENDED]
    (change,) = report["andringar"]
    assert change["andring"] == {
        "datum": "2026-04-01",
        "version": 2,
        "slag": "ny version",
        "regim_fore": "radgivning_14_4",
        "regim_efter": "undantag_14_5",
    }
    assert check_windows(change, FRAN, TILL, [CHANGE]) == 1  # the first against the second
    assert change["fonster"]["fore"] == ["2026-01-01", "2026-03-31"]
    assert change["fonster"]["overgangskvartal"] is None  # the change opens a quarter


def test_effect_counts_are_the_projection_counts_of_each_window(ledger: Ledger) -> None:
    (change,) = effect_of(ledger)["andringar"]
    tab = change["jamforelse"]
    assert tab["rader"] == ["före", "efter"]
    for row, window in zip(tab["celler"], ("fore", "efter"), strict=True):
        lo, hi = (date.fromisoformat(d) for d in change["fonster"][window])
        c = Counts(ledger, lo, hi)
        truth = {
            "kontakter": c.key(AMENDED, "kontakter"),
            "starter": c.key(AMENDED, "starter"),
            "unika": c.key(AMENDED, "unika"),
            "aktivitet": c.key(AMENDED, "tillfallen") + c.key(AMENDED, "gruppnarvaro"),
            "avbrott": c.key(AMENDED, "avbrott"),
            "avslut": c.key(AMENDED, "avslut"),
        }
        assert [k for k, _ in effect.MATT] == list(truth)
        for got, want in zip(row, truth.values(), strict=True):
            assert got in (None, want)
            assert got is None or not 0 < want < K
        assert truth["kontakter"] > 0
    assert "radsummor" not in tab and "totalt" not in tab  # no sums of different measures


def test_effect_windows_never_cross_another_change(
    store: Path, tmp_path: Path, ledger: Ledger
) -> None:
    """With a second change (the decision revoked from 2026-05-01, inside the quarter
    after the first) no whole quarter lies between the two, so neither is compared; with
    the revocation from 2026-07-01 the first is compared as before."""
    shutil.copytree(store, tmp_path / "d")
    copy = Ledger(settings_for(tmp_path / "d"))
    try:
        decisions.revoke(copy, AMENDED, date(2026, 7, 1), "Nämnden avslutar insatsen.")
        (change,) = effect_of(copy)["andringar"]
        assert check_windows(change, FRAN, TILL, [CHANGE, date(2026, 7, 1)]) == 1
    finally:
        copy.close()
    shutil.copytree(store, tmp_path / "e")
    copy = Ledger(settings_for(tmp_path / "e"))
    try:
        decisions.revoke(copy, AMENDED, date(2026, 5, 1), "Nämnden avslutar insatsen.")
        assert effect_of(copy)["andringar"] == []
    finally:
        copy.close()
