"""The main job end to end (`iubledger demo`), on a short stream around the amendment:
import both catalogs and the amendment of Beroenderådgivning (alingsas/3.1.5, an undantag
under 14 kap. 5 § SoL from 2026-04-01), append, project, verify, write the HTML reports.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from iubledger import catalogs
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import demo
from iubledger.simulate import main_lines
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

STREAM = (date(2026, 3, 1), date(2026, 4, 30))


def short_stream() -> list[str]:
    """Two months of both catalogs at a third of the volume, in date order (as
    `demo.stream` builds the full year)."""
    lines: list[tuple[str, str]] = []
    for name in ("alingsas", "ks-2025-510"):
        fil = BeslutsFil.model_validate_json(catalogs.read(name))
        lines.extend(
            (json.loads(line)["datum"], line)
            for line in main_lines(fil, *STREAM, seed=demo.SEED, scale=0.3)
        )
    lines.sort(key=lambda dl: dl[0])
    return [line for _, line in lines]


def test_the_demo_runs_end_to_end(ledger: Ledger, tmp_path: Path) -> None:
    assert STREAM[0] < demo.AMENDED_FROM <= STREAM[1]
    lines = short_stream()
    ticks: list[None] = []
    out = demo.run(
        ledger, tmp_path / "rapporter", tick=lambda n: ticks.extend([None] * n), lines=lines
    )

    assert out.refused == {}
    assert out.appended == len(lines) == len(ticks)
    assert 500 < len(lines) < 1500
    assert out.verify is not None and out.verify.ok, out.verify.findings[:3]
    assert out.verify.records > out.appended

    assert sorted(p.name for p in out.reports) == [
        "deltagande.html",
        "effekt.html",
        "efterlevnad.html",
    ]
    for path in out.reports:
        assert path.parent == tmp_path / "rapporter"
        text = path.read_text(encoding="utf-8")
        assert text.lstrip().lower().startswith("<!doctype html")
        assert len(text) > 1000

    assert out.effect is not None
    amended = f"alingsas/{demo.AMENDED}"
    changes = [c for c in out.effect["andringar"] if c["insats"] == amended]
    assert len(changes) == 1
    assert changes[0]["andring"]["datum"] == demo.AMENDED_FROM.isoformat()
    assert changes[0]["andring"]["regim_fore"] == "radgivning_14_4"
    assert changes[0]["andring"]["regim_efter"] == "undantag_14_5"

    assert out.participation is not None
    row = next(r for r in out.participation["insatser"] if r["insats"] == amended)
    assert [m["version"] for m in row["markeringar"]] == [1, 2]
    html = (tmp_path / "rapporter" / "deltagande.html").read_text(encoding="utf-8")
    day = demo.AMENDED_FROM.isoformat()
    assert f"version 2 från {day}" in html  # the dashed marker on the time series
    assert re.search(  # and the table of decisions in the period
        rf"<th scope=\"row\">[^<]*\({amended}\)</th><td>{day}</td><td class=\"tal\">2</td>", html
    )

    assert out.compliance is not None
    assert out.compliance["avvisade_handelser"]["per_regel"] == []
