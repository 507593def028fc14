"""Time, proposals and providers in compliance (11 kap. 5 §, 14 kap. 5 § SoL): an overdue
review, an undantag that lapsed, a missing risk analysis and a proposal are deviations or
shown; follow-up duties fall due; records are broken down by provider and kategori."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iubledger.audit import compliance
from iubledger.config import resolve
from iubledger.decisions.tid import forfaller
from iubledger.reports import participation
from iubledger.reports.protect import Skydd
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import Uppfoljningsplikt
from iubledger.services import append, decisions, reports
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

Fil = dict[str, Any]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Ledger]:
    s = resolve(str(tmp_path / "d"), f"sqlite:///{tmp_path / 'd' / 'l.sqlite'}")
    KeyStore(s.key_dir).init()
    ledger = Ledger(s)
    try:
        yield ledger
    finally:
        ledger.close()


def report(ledger: Ledger, till: date) -> dict[str, Any]:
    return compliance.build(ledger, ledger.decision_index(), date(2025, 8, 1), till)


def line(rep: dict[str, Any], insats: str, kontroll: str) -> dict[str, Any]:
    row = next(r for r in rep["insatser"] if r["insats"] == insats)
    return next(c for c in row["kontroller"] if c["kontroll"].startswith(kontroll))


def importera(ledger: Ledger, fil: Fil) -> None:
    decisions.import_files(ledger, [("f.json", json.dumps(fil, ensure_ascii=False))])


def test_an_overdue_review_and_a_lapsed_undantag_are_listed(
    store: Ledger, beslut_dict: Callable[..., Fil]
) -> None:
    fil = beslut_dict("undantag_14_5")
    fil["insatser"][0].update(giltig_till="2025-12-31", omprovas_senast="2025-11-30")
    importera(store, fil)
    early = report(store, date(2025, 10, 31))
    assert line(early, "testkommun/1", "Beslutet omprövat i tid")["resultat"] == "uppfyllt"
    assert early["forsenade_omprovningar"] == early["upphorda_undantag"] == []
    late = report(store, date(2026, 3, 31))
    assert line(late, "testkommun/1", "Beslutet omprövat i tid")["resultat"] == "avvikelse"
    assert "2025-12-31" in line(late, "testkommun/1", "Beslutets giltighet")["detalj"]
    assert late["forsenade_omprovningar"] == late["upphorda_undantag"] == ["testkommun/1"]
    with pytest.raises(Rejected) as caught:
        append.event(
            store,
            {
                "id": str(uuid.uuid4()),
                "type": "kontakt",
                "insats": "testkommun/1",
                "utforare": "samtalsstod",
                "datum": "2026-01-05",
                "informerad_om_ansokan": True,
            },
        )
    assert [p.code for p in caught.value.problems] == ["inget_beslut"]


def test_a_missing_risk_analysis_is_a_deviation(
    store: Ledger, beslut_dict: Callable[..., Fil]
) -> None:
    fil = beslut_dict("undantag_14_5")
    dok = fil["insatser"][0]["dokumentation"]
    del dok["riskanalys"]
    dok["riskanalys_saknas"] = True
    importera(store, fil)
    rep = report(store, date(2025, 12, 31))
    assert line(rep, "testkommun/1", "Risk- och konsekvensanalys")["resultat"] == "avvikelse"
    assert rep["sammanfattning"]["avvikelser"] >= 1


def test_a_proposal_is_never_in_force_for_compliance(
    store: Ledger, beslut_dict: Callable[..., Fil]
) -> None:
    fil = beslut_dict(forslag=True)
    del fil["diarienummer"]
    importera(store, fil)
    checked = line(report(store, date(2025, 12, 31)), "testkommun/1", "Beslut av nämnden i kraft")
    assert checked["resultat"] == "avvikelse"
    assert "förslag" in checked["detalj"]
    importera(store, beslut_dict(katalog="annan"))
    decided = line(report(store, date(2025, 12, 31)), "annan/1", "Beslut av nämnden i kraft")
    assert decided["resultat"] == "uppfyllt"


def test_follow_up_duties_fall_due_by_frequency() -> None:
    halvar = Uppfoljningsplikt(slag="rapport", frekvens="halvar", mottagare="Socialnämnden")
    start = date(2025, 10, 1)
    assert forfaller(halvar, date(2025, 10, 1), date(2026, 12, 31), start) == [
        date(2026, 3, 31),
        date(2026, 9, 30),
    ]
    manad = halvar.model_copy(update={"frekvens": "manad"})
    assert forfaller(manad, date(2025, 11, 1), date(2025, 12, 31), start) == [
        date(2025, 11, 30),
        date(2025, 12, 31),
    ]
    ar = halvar.model_copy(update={"frekvens": "ar"})
    assert forfaller(ar, date(2025, 10, 1), date(2026, 9, 29), start) == []


def test_providers_and_their_records(store: Ledger, beslut_dict: Callable[..., Fil]) -> None:
    fil = beslut_dict("deltagardata")
    fil["format"] = "iubledger.beslut/2"
    fil["insatser"][0]["tillhandahalls_av"] = [
        {"typ": "stadsomrade", "namn": "Stadsområde Nordost", "utforare": ["samtalsstod"]},
        {
            "typ": "extern",
            "namn": "Grannstadens familjecentral",
            "avtal": "Avtal 2025/17",
            "tillsammans_med": ["Region"],
            "utforare": ["grannstaden"],
        },
    ]
    fil["insatser"][0]["uppfoljningsplikter"] = [
        {"slag": "statistik", "frekvens": "ar", "mottagare": "Socialstyrelsen"}
    ]
    importera(store, fil)
    for utforare in ("samtalsstod", "samtalsstod", "grannstaden"):
        append.event(
            store,
            {
                "id": str(uuid.uuid4()),
                "type": "kontakt",
                "insats": "testkommun/1",
                "utforare": utforare,
                "datum": "2025-09-05",
                "informerad_om_ansokan": True,
            },
        )
    rep = report(store, date(2025, 12, 31))
    row = rep["insatser"][0]
    assert [(p["typ"], p["namn"], p["poster"]) for p in row["tillhandahallare"]] == [
        ("stadsomrade", "Stadsområde Nordost", 2),
        ("extern", "Grannstadens familjecentral", 1),
    ]
    assert row["tillhandahallare"][1]["avtal"] == "Avtal 2025/17"
    assert rep["per_kategori"] == {"radgivning": 3}
    duty = line(rep, "testkommun/1", "Uppföljning enligt beslutet: statistik")
    assert duty["resultat"] == "information"
    reports.project(store)
    with store.transaction() as session:
        deltagande = participation.build(
            session,
            store.decision_index(),
            date(2025, 8, 1),
            date(2025, 12, 31),
            skydd=Skydd(k=None, exakt_for="nämndens egenkontroll"),
        )
    per_provider = deltagande["tabeller"]["per_tillhandahallare"]
    assert per_provider["rader"] == [
        "Grannstadens familjecentral "
        "(extern utförare, avtal Avtal 2025/17, tillsammans med Region)",
        "Stadsområde Nordost (stadsområde)",
    ]
    assert [row[0] for row in per_provider["celler"]] == [1, 2]
    assert deltagande["tabeller"]["per_kategori"]["celler"] == [[3, 0, 0]]
    (insats,) = deltagande["insatser"]
    assert insats["tillhandahallare"] == (
        "Stadsområde Nordost (stadsområde); Grannstadens familjecentral "
        "(extern utförare, avtal Avtal 2025/17, tillsammans med Region)"
    )
    assert insats["kategori"] == "radgivning"


def test_an_external_provider_needs_its_avtal(
    store: Ledger, beslut_dict: Callable[..., Fil]
) -> None:
    fil = beslut_dict()
    fil["insatser"][0]["tillhandahalls_av"] = [
        {"typ": "extern", "namn": "Grannstaden", "utforare": ["grannstaden"]}
    ]
    with pytest.raises(Rejected) as caught:
        importera(store, fil)
    assert caught.value.problems[0].field.startswith("insatser[1].tillhandahalls_av")
