"""The main job end to end on the embedded default: what a kommun's first year looks like.

init → import the shipped catalogs → a mid-period amendment (Beroenderådgivning moves
from 14 kap. 4 § to an undantag under 14 kap. 5 §) → a simulated year appended → projections
→ key tables → verify → HTML reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from iubledger import catalogs
from iubledger.integrity.verify import Result
from iubledger.reports.render import render
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, integrity, reports
from iubledger.simulate import main_lines
from iubledger.store.batch import rule_of
from iubledger.store.ledger import Ledger

FRAN, TILL = date(2025, 10, 1), date(2026, 9, 30)
AMENDED = "3.1.5"
AMENDED_FROM = date(2026, 4, 1)
SEED = 1
BATCH = 500
#: The HTML reports the demo writes, by file name (without .html).
REPORTS = ("deltagande", "effekt", "efterlevnad")


def report_paths(out_dir: Path) -> list[Path]:
    """Where the demo writes its reports (known before it starts)."""
    return [out_dir / f"{name}.html" for name in REPORTS]


def amendment() -> tuple[str, str]:
    """The nämnd decides that Beroenderådgivning is documented without identity from
    2026-04-01 (14 kap. 5 § SoL), stating its särskilda skäl."""
    fil = json.loads(catalogs.read("alingsas"))
    insats = next(i for i in fil["insatser"] if i["id"] == AMENDED)
    insats["dokumentation"] = {
        "regim": "undantag_14_5",
        "sarskilda_skal": (
            "Målgruppen avstår från rådgivning när uppgifter kan kopplas till dem; anonymitet "
            "bedöms nödvändig för att nå personer med skadligt bruk tidigt. Uppföljning sker "
            "med avidentifierade uppgifter."
        ),
        "riskanalys": "Risk- och konsekvensanalys SN 2026.011",
    }
    fil.update(
        andring=True,
        diarienummer="2026.011",
        paragraf="SN § 12",
        beslutsdatum="2026-03-17",
        giltig_fran=AMENDED_FROM.isoformat(),
        insatser=[insats],
    )
    return ("ändring SN 2026.011 § 12", json.dumps(fil, ensure_ascii=False))


@dataclass
class Outcome:
    appended: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    verify: Result | None = None
    reports: list[Path] = field(default_factory=list)
    participation: dict[str, Any] | None = None
    effect: dict[str, Any] | None = None
    compliance: dict[str, Any] | None = None


def stream() -> list[str]:
    lines: list[tuple[str, str]] = []
    for name in ("alingsas", "ks-2025-510"):
        fil = BeslutsFil.model_validate_json(catalogs.read(name))
        lines.extend(
            (json.loads(line)["datum"], line) for line in main_lines(fil, FRAN, TILL, SEED, 1.0)
        )
    lines.sort(key=lambda dl: dl[0])
    return [line for _, line in lines]


def run(
    ledger: Ledger,
    out_dir: Path,
    tick: Callable[[int], None] = lambda n: None,
    lines: list[str] | None = None,
) -> Outcome:
    result = Outcome()
    decisions.import_files(ledger, [(n, catalogs.read(n)) for n in ("alingsas", "ks-2025-510")])
    decisions.import_files(ledger, [amendment()])
    todo = lines if lines is not None else stream()
    for start in range(0, len(todo), BATCH):
        outcomes = append.batch(ledger, todo[start : start + BATCH])
        for r in outcomes:
            if isinstance(r, dict):
                result.appended += 1
            else:
                code = rule_of(r)
                result.refused[code] = result.refused.get(code, 0) + 1
        tick(len(outcomes))
    integrity.checkpoint(ledger)
    result.participation = reports.build(ledger, reports.Request("participation", FRAN, TILL))
    result.effect = reports.build(ledger, reports.Request("effect", FRAN, TILL))
    result.compliance = reports.build(ledger, reports.Request("compliance", FRAN, TILL))
    result.verify = integrity.verify(ledger)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = (result.participation, result.effect, result.compliance)
    for path, report in zip(report_paths(out_dir), data, strict=True):
        path.write_text(render(report, "html"), encoding="utf-8")
        result.reports.append(path)
    return result
