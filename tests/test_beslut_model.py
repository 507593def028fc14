"""The decision model as real decisions need it, through import (11 kap. 5 §, 14 kap. 4–5 §
SoL): declared facts, errors by insats id, the rådgivning-only exemption, särskilda skäl in
substance, the risk analysis, proposals and per-insats time."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from iubledger.decisions.guardrails import substantial
from iubledger.schemas.base import Rejected
from iubledger.services import decisions
from iubledger.store.ledger import Ledger

Fil = dict[str, Any]
BeslutDict = Callable[..., Fil]

SKOLSTATUS = {
    "namn": "skolstatus",
    "typ": "enum",
    "etikett": "Den unges skolsituation",
    "intygas_av": "extern_part",
    "varden": ["skolgang", "hog_franvaro", "ej_skolgang"],
}


def importera(ledger: Ledger, fil: Fil, name: str = "sdn.json") -> list[tuple[str, int]]:
    return decisions.import_files(ledger, [(name, json.dumps(fil, ensure_ascii=False))]).imported


def refused(ledger: Ledger, fil: Fil) -> Rejected:
    with pytest.raises(Rejected) as caught:
        importera(ledger, fil)
    assert caught.value.source == "sdn.json"
    assert ledger.decision_index().histories == {}
    return caught.value


def with_villkor(beslut_dict: BeslutDict, *villkor: dict[str, Any], **kw: Any) -> Fil:
    fil = beslut_dict("deltagardata", insats_id="4.2", **kw)
    fil["insatser"][0]["villkor"] = list(villkor)
    return fil


def test_a_declared_fact_is_imported_and_stored_with_the_insats(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = with_villkor(
        beslut_dict,
        {"typ": "faktum", "namn": "skolstatus", "i": ["hog_franvaro", "ej_skolgang"]},
        fakta=[SKOLSTATUS],
    )
    assert importera(ledger, fil) == [("testkommun/4.2", 1)]
    stored = ledger.decision_index().latest("testkommun/4.2")
    assert stored is not None
    assert [d.namn for d in stored.insats.fakta] == ["skolstatus"]


@pytest.mark.parametrize(
    ("villkor", "rule"),
    [
        ({"typ": "faktum", "namn": "skolgang", "ar": "skolgang"}, "okant_faktum"),
        ({"typ": "faktum", "namn": "skolstatus", "ar": "sjukskriven"}, "faktum_fel_jamforelse"),
        ({"typ": "faktum", "namn": "skolstatus", "ar": True}, "faktum_fel_jamforelse"),
        ({"typ": "faktum", "namn": "skolstatus", "fran": 3}, "faktum_fel_jamforelse"),
        (
            {"typ": "faktum", "namn": "skolstatus", "i": ["skolgang", "annat"]},
            "faktum_fel_jamforelse",
        ),
    ],
)
def test_an_unknown_or_wrongly_compared_fact_names_file_insats_and_rule(
    ledger: Ledger, beslut_dict: BeslutDict, villkor: dict[str, Any], rule: str
) -> None:
    nested = {
        "typ": "nagot_av",
        "villkor": [{"typ": "alder", "fran": 18}, {"typ": "inte", "villkor": villkor}],
    }
    err = refused(ledger, with_villkor(beslut_dict, nested, fakta=[SKOLSTATUS]))
    assert [(p.code, p.field) for p in err.problems] == [
        (rule, "insatser[4.2].villkor.0.villkor.1.villkor")
    ]
    assert "insats 4.2" in err.problems[0].message
    assert str(err).startswith("sdn.json: insatser[4.2].")


def test_an_unknown_kind_is_named_by_insats_id_never_by_list_index(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = beslut_dict("deltagardata", insats_id="3.1.5")
    second = copy.deepcopy(fil["insatser"][0])
    second["id"] = "3.1.6"
    second["villkor"] = [{"typ": "alla_av", "villkor": [{"typ": "behovsbedomning"}]}]
    third = copy.deepcopy(fil["insatser"][0])
    third["id"] = "3.1.7"
    third["namn"] = "x" * 201
    fil["insatser"] += [second, third]
    err = refused(ledger, fil)
    assert {p.field for p in err.problems} == {
        "insatser[3.1.6].villkor.0.alla_av.villkor.0",
        "insatser[3.1.7].namn",
    }
    assert "behovsbedomning" not in str(err)


def test_a_file_declaring_a_fact_twice_is_refused(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    fil = with_villkor(beslut_dict, {"typ": "inga_villkor"}, fakta=[SKOLSTATUS, SKOLSTATUS])
    refused(ledger, fil)
    enum_without_values = {k: v for k, v in SKOLSTATUS.items() if k != "varden"}
    refused(ledger, with_villkor(beslut_dict, {"typ": "inga_villkor"}, fakta=[enum_without_values]))


# --- 14 kap. 4 § SoL: rådgivning only -------------------------------------------------------


@pytest.mark.parametrize("form", ["behandling", "stod_i_grupp", "motesplats", "sysselsattning"])
def test_radgivning_14_4_refused_for_other_forms(
    ledger: Ledger, beslut_dict: BeslutDict, form: str
) -> None:
    fil = beslut_dict("radgivning_14_4", insats_id="9")
    fil["insatser"][0]["insatsform"] = form
    err = refused(ledger, fil)
    assert [(p.code, p.field) for p in err.problems] == [
        ("radgivning_14_4_fel_insatsform", "insatser[9].dokumentation.regim")
    ]
    assert "14 kap. 4 §" in err.problems[0].message


@pytest.mark.parametrize("form", ["radgivning", "samtalsstod"])
def test_radgivning_14_4_accepted_for_radgivning(
    ledger: Ledger, beslut_dict: BeslutDict, form: str
) -> None:
    fil = beslut_dict("radgivning_14_4")
    fil["insatser"][0]["insatsform"] = form
    assert importera(ledger, fil) == [("testkommun/1", 1)]


# --- 14 kap. 5 § SoL: särskilda skäl in substance, and the risk analysis ---------------------


@pytest.mark.parametrize(
    "skal",
    [
        ".",
        "Särskilda skäl finns.",
        "Särskilda skäl enligt 14 kap. 5 § SoL för undantag från dokumentationen, särskilda skäl "
        "enligt 14 kap. 5 § SoL för undantag från dokumentationen.",
        "anonymitet " * 20,
    ],
    ids=["dot", "short", "only-the-law", "one-word-repeated"],
)
def test_sarskilda_skal_without_substance_refused(
    ledger: Ledger, beslut_dict: BeslutDict, skal: str
) -> None:
    fil = beslut_dict("undantag_14_5")
    fil["insatser"][0]["dokumentation"]["sarskilda_skal"] = skal
    assert not substantial(skal)
    assert [p.code for p in refused(ledger, fil).problems] == ["sarskilda_skal_innehallslosa"]


def test_the_shipped_sarskilda_skal_are_substantial() -> None:
    from iubledger import catalogs

    fil = json.loads(catalogs.read("alingsas"))
    skal = {i["dokumentation"].get("sarskilda_skal") for i in fil["insatser"]} - {None}
    assert skal and all(substantial(s) for s in skal)


def test_undantag_needs_its_risk_analysis_or_its_absence_recorded(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = beslut_dict("undantag_14_5")
    del fil["insatser"][0]["dokumentation"]["riskanalys"]
    err = refused(ledger, fil)
    assert [(p.code, p.field) for p in err.problems] == [
        ("riskanalys_saknas", "insatser[1].dokumentation.riskanalys")
    ]
    fil["insatser"][0]["dokumentation"]["riskanalys_saknas"] = True
    assert importera(ledger, fil) == [("testkommun/1", 1)]
    both = beslut_dict("undantag_14_5", katalog="annan")
    both["insatser"][0]["dokumentation"]["riskanalys_saknas"] = True
    with pytest.raises(Rejected):
        importera(ledger, both)


# --- proposals and per-insats time ---------------------------------------------------------


def test_only_a_proposal_may_leave_out_diarienummer_paragraf_and_beslutsdatum(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = beslut_dict()
    for key in ("diarienummer", "paragraf", "beslutsdatum"):
        del fil[key]
    err = refused(ledger, fil)
    assert "forslag" in str(err)
    fil["forslag"] = True
    assert importera(ledger, fil) == [("testkommun/1", 1)]
    version = ledger.decision_index().latest("testkommun/1")
    assert version is not None and version.forslag


def test_an_insats_ends_by_its_own_giltig_till(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    """An undantag decided "i ett inledande skede" ends by itself."""
    from datetime import date

    fil = beslut_dict("undantag_14_5", giltig_till="2026-12-31")
    fil["insatser"][0]["giltig_till"] = "2025-12-31"
    fil["insatser"][0]["omprovas_senast"] = "2025-11-30"
    importera(ledger, fil)
    index = ledger.decision_index()
    assert index.in_force("testkommun/1", date(2025, 12, 31)) is not None
    assert index.in_force("testkommun/1", date(2026, 1, 1)) is None
    version = index.latest("testkommun/1")
    assert version is not None and version.omprovas_senast == date(2025, 11, 30)


def test_an_insats_cannot_end_before_the_decision_starts(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = beslut_dict()
    fil["insatser"][0]["giltig_till"] = "2025-07-01"
    err = refused(ledger, fil)
    assert [p.code for p in err.problems] == ["giltig_till_fore_giltig_fran"]


# --- format 1 still reads -------------------------------------------------------------------


def test_format_1_with_one_provider_object_reads_as_a_list(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    fil = beslut_dict()
    assert fil["format"] == "iubledger.beslut/1"
    assert isinstance(fil["insatser"][0]["tillhandahalls_av"], dict)
    importera(ledger, fil)
    version = ledger.decision_index().latest("testkommun/1")
    assert version is not None
    (provider,) = version.insats.tillhandahalls_av
    assert (provider.typ, provider.namn, provider.utforare) == (
        "namnd",
        "Socialnämnden",
        ["samtalsstod"],
    )


def test_a_store_with_decisions_of_format_1_still_reads(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    """A version stored before format 2 (one provider object, no status in the header) is
    read as it was decided, and events are still judged under it."""
    from datetime import date

    from iubledger.aggregates.beslut import Beslut

    fil = beslut_dict()
    insats = fil["insatser"][0]
    innehall = {
        "header": {
            "katalog": "testkommun",
            "namnd": "Socialnämnden",
            "kommun": "Testkommun",
            "diarienummer": "SN 2025/1",
            "paragraf": "SN § 1",
            "beslutsdatum": "2025-06-15",
            "revideras_senast": None,
        },
        "insats": {**insats, "dokumentation": {"regim": "radgivning_14_4", "aldersintervall": 5}},
        "giltig_fran": "2025-08-01",
        "giltig_till": None,
        "kalla_sha256": "0" * 64,
    }
    with ledger.locked() as (session, locked):
        register = ledger.register()
        register.registrera("testkommun/1")
        agg = Beslut(beslut_id="testkommun/1", innehall=innehall)
        ledger.write_decisions(session, locked, register, agg)
    version = ledger.decision_index().in_force("testkommun/1", date(2025, 9, 1))
    assert version is not None and not version.forslag
    assert version.insats.utforare == ["samtalsstod"]
    assert version.insats.tillhandahalls_av[0].namn == "Socialnämnden"
    amended = beslut_dict(andring=True, giltig_fran="2026-01-01")
    amended["format"] = "iubledger.beslut/2"
    amended["insatser"][0]["tillhandahalls_av"] = [
        {"typ": "stadengemensamt", "namn": "Staden", "utforare": ["samtalsstod", "ny"]}
    ]
    assert importera(ledger, amended) == [("testkommun/1", 2)]
