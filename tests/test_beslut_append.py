"""The decision's rules where an utförare appends: declared facts, the consent of both
vårdnadshavare against the consent the start stores (and compliance reading the same), and
`max_tillfallen` (11 kap. 5 § SoL)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iubledger import catalogs
from iubledger.audit import compliance
from iubledger.config import resolve
from iubledger.schemas.base import Rejected
from iubledger.services import append, decisions
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

KATALOG = "sdn-test"
UTFORARE = "mottagningen"
DATUM = "2025-11-15"
SKAL = (
    "Målgruppens behov av anonymitet väger tyngre än nyttan av personakter, "
    "eftersom många annars avstår från stöd."
)
BADA = {"typ": "vardnadshavares_samtycke", "under_alder": 15, "antal": "bada"}
SKOLSTATUS = {
    "namn": "skolstatus",
    "typ": "enum",
    "etikett": "Den unges skolsituation",
    "intygas_av": "extern_part",
    "varden": ["skolgang", "hog_franvaro", "ej_skolgang"],
}


def _insats(insats_id: str, regim: str, villkor: list[dict[str, Any]], **kw: Any) -> dict:
    fil = json.loads(catalogs.read("alingsas"))
    insats = copy.deepcopy(next(i for i in fil["insatser"] if i["id"] == "3.1.1"))
    insats.update(id=insats_id, villkor=villkor, dokumentation={"regim": regim}, **kw)
    insats["tillhandahalls_av"] = [{"namn": "Socialnämnden", "utforare": [UTFORARE]}]
    if regim == "undantag_14_5":
        insats["dokumentation"].update(sarskilda_skal=SKAL, riskanalys="RKA 2025/1")
    return insats


def decision_file() -> str:
    fil = {k: v for k, v in json.loads(catalogs.read("alingsas")).items() if k != "insatser"}
    fil.update(katalog=KATALOG, fakta=[SKOLSTATUS])
    fil["insatser"] = [
        _insats("barn", "radgivning_14_4", [BADA]),
        _insats("fem", "deltagardata", [{"typ": "inga_villkor"}], max_tillfallen=2),
        _insats("fem-u", "undantag_14_5", [{"typ": "inga_villkor"}], max_tillfallen=2),
        _insats(
            "skola",
            "deltagardata",
            [{"typ": "faktum", "namn": "skolstatus", "i": ["hog_franvaro", "ej_skolgang"]}],
        ),
        _insats("kvinnor", "deltagardata", [{"typ": "kon", "kon": ["kvinna", "annat"]}]),
    ]
    return json.dumps(fil, ensure_ascii=False)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    data_dir: Path = tmp_path_factory.mktemp("beslut") / "data"
    s = resolve(str(data_dir), f"sqlite:///{data_dir / 'ledger.sqlite'}")
    KeyStore(s.key_dir).init()
    opened = Ledger(s)
    decisions.import_files(opened, [("sdn", decision_file())])
    try:
        yield opened
    finally:
        opened.close()


def event(kind: str, insats: str, **kw: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": f"{KATALOG}/{insats}",
        "utforare": UTFORARE,
        "datum": DATUM,
    }
    if kind == "kontakt":
        e["informerad_om_ansokan"] = True
    e.update(kw)
    return e


def refused(ledger: Ledger, raw: dict[str, Any]) -> list[str]:
    with pytest.raises(Rejected) as caught:
        append.event(ledger, raw)
    return [p.code for p in caught.value.problems]


def start(insats: str, alder: int, **kw: Any) -> dict[str, Any]:
    return event("start", insats, deltagare={"alder": alder, "kon": "kvinna"}, **kw)


# --- children: both vårdnadshavare, judged on the stored consent ----------------------------


def test_both_guardians_are_checked_on_the_stored_consent_not_on_a_fact(ledger: Ledger) -> None:
    """The facts said two while the stored consent said one: refused, whichever is sent."""
    one = {"vardnadshavare": 1, "barnet_vill": True}
    assert refused(ledger, start("barn", 12, samtycke=one, fakta={})) == [
        "villkor_ej_uppfyllda",
        "vardnadshavares_samtycke",
    ]
    contradicting = start("barn", 12, samtycke=one, fakta={"vardnadshavare_samtycker": 2})
    assert refused(ledger, contradicting) == ["samtycke_motsager_fakta"]
    append.event(ledger, start("barn", 12, samtycke={**one, "vardnadshavare": 2}, fakta={}))


def test_a_checked_villkor_does_not_excuse_a_start_with_one_consent(ledger: Ledger) -> None:
    """An earlier villkorskontroll said uppfyllda with two consents; the start stores one."""
    check = append.event(
        ledger,
        event(
            "villkorskontroll",
            "barn",
            utfall="uppfyllda",
            fakta={"alder": 12, "vardnadshavare_samtycker": 2},
        ),
    )
    one = {"vardnadshavare": 1, "barnet_vill": True}
    assert refused(ledger, start("barn", 12, samtycke=one, deltagande=check["deltagande"])) == [
        "vardnadshavares_samtycke"
    ]


def test_sole_custody_is_lawful_with_the_number_of_guardians_recorded(ledger: Ledger) -> None:
    ensam = {"vardnadshavare": 1, "barnet_vill": True, "antal_vardnadshavare": 1}
    append.event(ledger, start("barn", 11, samtycke=ensam, fakta={}))
    too_many = {"vardnadshavare": 2, "barnet_vill": True, "antal_vardnadshavare": 1}
    assert refused(ledger, start("barn", 11, samtycke=too_many, fakta={})) == ["value_error"]


def test_compliance_counts_consent_by_the_same_rule(tmp_path: Path) -> None:
    """Stored consent and the compliance line agree: one consent where both are required
    cannot be stored, and what is stored is counted as meeting the requirement."""
    s = resolve(str(tmp_path / "d"), f"sqlite:///{tmp_path / 'd' / 'l.sqlite'}")
    KeyStore(s.key_dir).init()
    ledger = Ledger(s)
    try:
        decisions.import_files(ledger, [("sdn", decision_file())])
        both = {"vardnadshavare": 2, "barnet_vill": True}
        ensam = {"vardnadshavare": 1, "barnet_vill": True, "antal_vardnadshavare": 1}
        one = {"vardnadshavare": 1, "barnet_vill": True}
        append.event(ledger, start("barn", 12, samtycke=both, fakta={}))
        append.event(ledger, start("barn", 12, samtycke=ensam, fakta={}))
        refused(ledger, start("barn", 12, samtycke=one, fakta={}))
        report = compliance.build(
            ledger, ledger.decision_index(), date(2025, 10, 1), date(2025, 12, 31)
        )
        row = next(r for r in report["insatser"] if r["insats"] == f"{KATALOG}/barn")
        line = next(c for c in row["kontroller"] if "samtycke" in c["kontroll"])
        assert line["resultat"] == "uppfyllt"
        assert line["detalj"].startswith("samtycke: 2 av 2")
    finally:
        ledger.close()


# --- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("insats", ["fem", "fem-u"])
def test_max_tillfallen_per_participation(ledger: Ledger, insats: str) -> None:
    """ "Max 2 samtal": a third session is refused, naming the rule, linked or not."""
    started = append.event(ledger, start(insats, 30, fakta={}))
    link = (
        {"besokskod": started["besokskod"]}
        if "besokskod" in started
        else {"deltagande": started["deltagande"]}
    )
    for _ in range(2):
        append.event(ledger, event("tillfalle", insats, **link))
    assert refused(ledger, event("tillfalle", insats, **link)) == ["max_tillfallen"]


# --- declared facts and built-ins at append -------------------------------------------------


def test_a_declared_fact_decides_the_start(ledger: Ledger) -> None:
    def fakta(value: Any) -> dict[str, Any]:
        return {"deklarerade": {"skolstatus": value}}

    append.event(
        ledger,
        start(
            "skola",
            15,
            samtycke={"vardnadshavare": 1, "barnet_vill": True},
            fakta=fakta("hog_franvaro"),
        ),
    )
    assert refused(ledger, start("skola", 30, fakta=fakta("skolgang"))) == ["villkor_ej_uppfyllda"]
    assert refused(ledger, start("skola", 30, fakta=fakta("sjukskriven"))) == ["faktum_fel_typ"]
    assert refused(ledger, start("skola", 30, fakta=fakta(3))) == ["faktum_fel_typ"]
    unknown = {"deklarerade": {"skolgang": True}}
    assert refused(ledger, start("skola", 30, fakta=unknown)) == ["okant_faktum"]


def test_gender_from_the_participant_fills_the_villkor(ledger: Ledger) -> None:
    """A man is not let into the group for women and non-binary people."""
    man = event("start", "kvinnor", deltagare={"alder": 30, "kon": "man"}, fakta={})
    assert refused(ledger, man) == ["villkor_ej_uppfyllda"]
    append.event(
        ledger, event("start", "kvinnor", deltagare={"alder": 30, "kon": "annat"}, fakta={})
    )


# --- anonymous contact ----------------------------------------------------------------------


def test_an_anonymous_contact_is_recorded_and_counted(tmp_path: Path) -> None:
    """A telephone call from someone who gives neither identity nor facts is recorded where
    a folkbokföring villkor applies; its villkor are not checked, and compliance counts it."""
    s = resolve(str(tmp_path / "d"), f"sqlite:///{tmp_path / 'd' / 'l.sqlite'}")
    KeyStore(s.key_dir).init()
    ledger = Ledger(s)
    try:
        fil = json.loads(decision_file())
        fil["insatser"] = [
            _insats("tel", "radgivning_14_4", [{"typ": "folkbokford", "vem": "deltagare"}])
        ]
        decisions.import_files(ledger, [("sdn", json.dumps(fil, ensure_ascii=False))])
        append.event(ledger, event("kontakt", "tel", anonym=True))
        append.event(ledger, event("kontakt", "tel"))
        with_identity = event("kontakt", "tel", anonym=True, deltagare={"kon": "man"})
        assert refused(ledger, with_identity) == ["value_error"]
        report = compliance.build(
            ledger, ledger.decision_index(), date(2025, 10, 1), date(2025, 12, 31)
        )
        (row,) = report["insatser"]
        line = next(c for c in row["kontroller"] if c["kontroll"].startswith("Anonyma"))
        assert line["resultat"] == "information"
        assert line["detalj"].startswith("1 av 2")
    finally:
        ledger.close()
