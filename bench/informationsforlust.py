"""Information loss of disclosure control: how many cells of the participation report over
a simulated year are hidden, and how many counts they hold, table by table.

The store: the shipped `alingsas` decisions and `simulate --seed 1 --from 2025-10-01 --to
2026-09-30` appended (built in DATA_DIR unless it already holds records). The report: the
participation report over that year with k = 5; the truth: the same report with exact
counts. A cell is counted where the controlled report shows it (sparse genders in their
own table, as under control); a key figure is one cell per insats; shares and means are
counted as hidden where the exact report has one and the controlled report does not.

    python -m bench.informationsforlust [DATA_DIR] [--json]
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from iubledger import catalogs
from iubledger.config import resolve
from iubledger.reports import participation
from iubledger.reports.protect import Skydd
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, reports
from iubledger.simulate import simulate
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

FRAN, TILL = date(2025, 10, 1), date(2026, 9, 30)
K = 5
SPARSE = ("annat", "uppgift_saknas")
KVOTER = ("andel_informerade", "avbrottsandel", "maende_start", "maende_slut")


@dataclass
class Loss:
    """One table: its cells and counts, and how many of them are hidden."""

    tabell: str
    celler: int
    dolda_celler: int
    antal: int
    dolda_antal: int


def open_store(data_dir: Path) -> Ledger:
    """The ledger in data_dir, with the simulated year appended the first time."""
    settings = resolve(str(data_dir), f"sqlite:///{(data_dir / 'ledger.sqlite').resolve()}")
    fresh = not (data_dir / "ledger.sqlite").exists()
    if fresh:
        KeyStore(settings.key_dir).init()
    ledger = Ledger(settings)
    if fresh:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
        fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
        for event in simulate(fil, FRAN, TILL, seed=1):
            append.event(ledger, event)
    reports.project(ledger)
    return ledger


def tables(report: dict[str, Any]) -> dict[str, dict[tuple[str, str], int | None]]:
    """Every published count table as (row, column) → number, key figures one per insats."""
    out: dict[str, dict[tuple[str, str], int | None]] = {}
    for key, _ in participation.NYCKELTAL:
        out[f"nyckeltal:{key}"] = {
            (i["insats"], key): i["nyckeltal"][key] for i in report["insatser"]
        }
    for name, tab in report["tabeller"].items():
        out[name] = {
            (r, c): v
            for r, row in zip(tab["rader"], tab["celler"], strict=True)
            for c, v in zip(tab["kolumner"], row, strict=True)
        }
    return out


def truth(exact: dict[str, dict[tuple[str, str], int | None]]) -> dict[str, Any]:
    """The exact tables, the sparse genders also summed over all ages (their own table)."""
    age = exact.get("alder_kon", {})
    sparse = sum(v or 0 for (_, c), v in age.items() if c in SPARSE)
    return {**exact, "kon_ovrigt": {("alla åldrar", "annat_eller_saknas"): sparse}}


def measure(ledger: Ledger) -> list[Loss]:
    with ledger.transaction() as session:
        index = ledger.decision_index()
        shown = participation.build(session, index, FRAN, TILL, skydd=Skydd(k=K))
        exact = participation.build(
            session, index, FRAN, TILL, skydd=Skydd(k=None, exakt_for="mätning av förlusten")
        )
    true = truth(tables(exact))
    out = []
    for name, cells in tables(shown).items():
        counts = [(v, true[name].get(pos, 0) or 0) for pos, v in cells.items()]
        out.append(
            Loss(
                tabell=name,
                celler=len(counts),
                dolda_celler=sum(v is None for v, _ in counts),
                antal=sum(t for _, t in counts),
                dolda_antal=sum(t for v, t in counts if v is None),
            )
        )
    by_insats = {i["insats"]: i for i in exact["insatser"]}
    for kvot in KVOTER:
        pairs = [(i[kvot], by_insats[i["insats"]][kvot]) for i in shown["insatser"]]
        had = [p for p in pairs if p[1] is not None]
        out.append(Loss(f"kvot:{kvot}", len(had), sum(s is None for s, _ in had), 0, 0))
    return out


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    data_dir = Path(args[0] if args else "bench-informationsforlust").resolve()
    ledger = open_store(data_dir)
    try:
        losses = measure(ledger)
    finally:
        ledger.close()
    if "--json" in argv:
        print(json.dumps([asdict(x) for x in losses], ensure_ascii=False, indent=1))
        return
    print(f"{'tabell':32} {'celler':>7} {'dolda':>6} {'antal':>8} {'dolt antal':>10}")
    for x in losses:
        print(f"{x.tabell:32} {x.celler:7} {x.dolda_celler:6} {x.antal:8} {x.dolda_antal:10}")
    total = [x for x in losses if not x.tabell.startswith("kvot:")]
    print(
        f"{'summa (tabeller)':32} {sum(x.celler for x in total):7} "
        f"{sum(x.dolda_celler for x in total):6} {sum(x.antal for x in total):8} "
        f"{sum(x.dolda_antal for x in total):10}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
