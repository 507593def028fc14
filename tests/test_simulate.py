"""The simulator: a reproducible, realistic stream of utförare events that the ledger accepts.

Everything the ledger refuses on its own (villkor facts that contradict the outcome,
missing consent for a child, identity in free text under 14 kap. 4–5 §§ SoL) must
never be produced, so the stream works as an "everything succeeds" demo.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from iubledger import catalogs
from iubledger.config import resolve
from iubledger.decisions.start import villkor_outcome
from iubledger.policies.personnummer import age_on, parse
from iubledger.policies.textscan import scan
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import BeslutsFil
from iubledger.schemas.handelser import HANDELSE
from iubledger.schemas.villkor import Fakta
from iubledger.services import append, decisions
from iubledger.simulate import main_lines, simulate
from iubledger.simulate.vocabulary import ANTECKNINGAR, EFTERNAMN, FORNAMN, GATOR
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

YEAR = (date(2025, 10, 1), date(2026, 9, 30))
TWO_MONTHS = (date(2025, 10, 1), date(2025, 11, 30))

#: A small decision file that reaches the paths the shipped catalogs do not: consent of
#: both guardians under 15, 15–17 without guardian consent, documents, no children,
#: an external party's assignment, and a group insats without villkor.
SIMTEST: dict[str, Any] = {
    "format": "iubledger.beslut/1",
    "katalog": "simtest",
    "namnd": "Socialnämnden",
    "kommun": "Testkommun",
    "diarienummer": "SN 2025/9",
    "paragraf": "SN § 9",
    "beslutsdatum": "2025-08-01",
    "giltig_fran": "2025-09-01",
    "insatser": [
        {
            "id": "u1",
            "namn": "Samtalsstöd för unga",
            "kategori": "individuellt_stod",
            "insatsform": "samtalsstod",
            "malgrupp": "Unga 12-17 år.",
            "villkor": [
                {"typ": "alder", "fran": 12, "till": 17},
                {"typ": "vardnadshavares_samtycke", "under_alder": 15, "antal": "bada"},
            ],
            "barn_utan_samtycke_fran_15": True,
            "dokumentation": {"regim": "deltagardata"},
            "uppfoljning": "besoksstatistik",
            "tillhandahalls_av": {"namnd": "Socialnämnden", "utforare": ["ungdomsmottagning"]},
        },
        {
            "id": "u2",
            "namn": "Rådgivning vid bostadslöshet",
            "kategori": "radgivning",
            "insatsform": "radgivning",
            "malgrupp": "Vuxna med osäker bostadssituation.",
            "villkor": [
                {"typ": "handling", "handlingar": ["hyresavtal", "intyg_extern_part"]},
                {"typ": "uppdrag_extern_part", "part": "hyresvärd"},
            ],
            "dokumentation": {
                "regim": "undantag_14_5",
                "sarskilda_skal": (
                    "Målgruppens behov av anonymitet väger tyngre än nyttan av personakter, "
                    "eftersom många annars avstår från stöd."
                ),
                "riskanalys": "Risk- och konsekvensanalys",
            },
            "uppfoljning": "besoksstatistik",
            "tillhandahalls_av": {"namnd": "Socialnämnden", "utforare": ["bostadsradgivning"]},
        },
        {
            "id": "u3",
            "namn": "Skyddat boende",
            "kategori": "individuellt_stod",
            "insatsform": "skyddat_boende",
            "malgrupp": "Vuxna från 21 år utan medföljande barn som utsatts för våld.",
            "villkor": [{"typ": "alder", "fran": 21}, {"typ": "utan_medfoljande_barn"}],
            "dokumentation": {"regim": "full_14_3", "journalsystem": "Journalsystem"},
            "uppfoljning": "individbaserad",
            "tillhandahalls_av": {"namnd": "Socialnämnden", "utforare": ["skyddat-boende"]},
        },
        {
            "id": "u4",
            "namn": "Samtalsgrupp för föräldrar",
            "kategori": "stod_i_grupp",
            "insatsform": "samtalsstod",
            "malgrupp": "Föräldrar med barn i skolåldern.",
            "villkor": [
                {"typ": "barn_i_skola", "skolformer": ["grundskola"], "arskurs_fran": 1},
            ],
            "dokumentation": {"regim": "radgivning_14_4"},
            "uppfoljning": "besoksstatistik",
            "tillhandahalls_av": {"namnd": "Socialnämnden", "utforare": ["foraldragrupp"]},
        },
        {
            "id": "u5",
            "namn": "Öppen samtalsgrupp",
            "kategori": "stod_i_grupp",
            "insatsform": "samtalsstod",
            "malgrupp": "Vuxna.",
            "villkor": [{"typ": "inga_villkor"}],
            "dokumentation": {"regim": "radgivning_14_4"},
            "uppfoljning": "besoksstatistik",
            "tillhandahalls_av": {"namnd": "Socialnämnden", "utforare": ["oppen-grupp"]},
        },
    ],
}


def fil_of(name: str) -> BeslutsFil:
    if name == "simtest":
        return BeslutsFil.model_validate(SIMTEST, strict=False)
    return BeslutsFil.model_validate_json(catalogs.read(name))


def text_of(name: str) -> str:
    return json.dumps(SIMTEST) if name == "simtest" else catalogs.read(name)


@pytest.fixture(scope="module")
def alingsas_year() -> list[dict[str, Any]]:
    return list(simulate(fil_of("alingsas"), *YEAR, seed=1))


@pytest.fixture(scope="module")
def simtest_year() -> list[dict[str, Any]]:
    return list(simulate(fil_of("simtest"), *YEAR, seed=3))


# -- determinism --------------------------------------------------------------------------


def test_same_arguments_give_identical_output() -> None:
    fil = fil_of("alingsas")
    a = list(main_lines(fil, *TWO_MONTHS, seed=7))
    b = list(main_lines(fil, *TWO_MONTHS, seed=7))
    assert a == b
    assert len(a) > 500


def test_another_seed_gives_another_stream() -> None:
    fil = fil_of("alingsas")
    a = list(main_lines(fil, *TWO_MONTHS, seed=7))
    b = list(main_lines(fil, *TWO_MONTHS, seed=8))
    assert a != b
    ids_a = {json.loads(x)["id"] for x in a}
    ids_b = {json.loads(x)["id"] for x in b}
    assert not ids_a & ids_b


def test_ids_are_unique(alingsas_year: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in alingsas_year]
    assert len(ids) == len(set(ids))


def test_main_lines_are_compact_json_of_the_stream() -> None:
    fil = fil_of("ks-2025-510")
    lines = list(main_lines(fil, *TWO_MONTHS, seed=2))
    events = list(simulate(fil, *TWO_MONTHS, seed=2))
    assert [json.loads(line) for line in lines] == events
    assert all("\n" not in line and ", " not in line[:40] for line in lines)
    assert any("å" in line or "ä" in line or "ö" in line for line in lines)  # ensure_ascii=False


# -- the input contract -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alingsas", "ks-2025-510", "simtest"])
def test_every_line_validates_against_the_input_schema(name: str) -> None:
    for line in main_lines(fil_of(name), date(2025, 9, 1), date(2026, 2, 28), seed=5):
        HANDELSE.validate_json(line)


@pytest.mark.parametrize("name", ["alingsas", "ks-2025-510", "simtest"])
def test_dates_are_in_order_and_inside_the_period(name: str) -> None:
    start, end = date(2025, 11, 10), date(2026, 1, 20)
    days = [date.fromisoformat(e["datum"]) for e in simulate(fil_of(name), start, end, seed=4)]
    assert days
    assert days == sorted(days)
    assert start <= days[0] and days[-1] <= end


def test_only_days_on_which_the_decision_is_in_force() -> None:
    fil = fil_of("alingsas")  # giltig_fran 2025-10-01
    days = [date.fromisoformat(e["datum"]) for e in simulate(fil, date(2025, 8, 1), *YEAR[1:], 1)]
    assert min(days) >= fil.giltig_fran
    assert list(simulate(fil, date(2025, 1, 1), date(2025, 9, 30), seed=1)) == []


def test_follow_ups_come_after_the_contact_that_opened_them(
    alingsas_year: list[dict[str, Any]],
) -> None:
    seen: dict[str, dict[str, Any]] = {}
    ended: set[str] = set()
    started: set[str] = set()
    for e in alingsas_year:
        ref = e.get("oppnad_av")
        if ref is None:
            assert e["type"] in ("kontakt", "tillfalle")
            if e["type"] == "tillfalle":
                assert 3 <= sum(g["antal"] for g in e["grupp"]) <= 40
            seen[e["id"]] = e
            continue
        assert seen[ref]["type"] == "kontakt"
        assert e["utforare"] == seen[ref]["utforare"]
        assert e["datum"] >= seen[ref]["datum"]
        assert ref not in ended
        if e["type"] == "start":
            started.add(ref)
        if e["type"] in ("tillfalle", "avslut", "avbrott"):
            assert ref in started
        if e["type"] in ("avslut", "avbrott"):
            ended.add(ref)


# -- consistency with the ledger's rules ----------------------------------------------------


@pytest.mark.parametrize("fixture", ["alingsas_year", "simtest_year"])
def test_villkor_facts_agree_with_the_outcome(fixture: str, request: pytest.FixtureRequest) -> None:
    events = request.getfixturevalue(fixture)
    fil = fil_of("alingsas" if fixture == "alingsas_year" else "simtest")
    insatser = {f"{fil.katalog}/{i.id}": i for i in fil.insatser}
    checks = [e for e in events if e["type"] == "villkorskontroll"]
    assert checks
    for e in checks:
        alder = (e.get("deltagare") or {}).get("alder")
        computed = villkor_outcome(insatser[e["insats"]], Fakta(**e["fakta"]), alder)
        assert computed is not None and computed.value == e["utfall"], e["insats"]
    shares = Counter(e["utfall"] for e in checks)
    assert 0.78 <= shares["uppfyllda"] / len(checks) <= 0.92
    assert 0.03 <= shares["ej_uppfyllda"] / len(checks) <= 0.14
    assert 0.03 <= shares["oklart"] / len(checks) <= 0.12


def test_children_starting_have_the_consent_required(simtest_year: list[dict[str, Any]]) -> None:
    starts = [e for e in simtest_year if e["type"] == "start" and e["insats"] == "simtest/u1"]
    assert starts
    without_guardian = 0
    for e in starts:
        alder = e["deltagare"]["alder"]
        samtycke = e.get("samtycke")
        if alder < 18:
            assert samtycke is not None and samtycke["barnet_vill"] is True
            if alder < 15:
                assert samtycke["vardnadshavare"] == 2  # 'bada' under 15 in this decision
            without_guardian += samtycke["vardnadshavare"] == 0
    assert without_guardian > 0  # barn_utan_samtycke_fran_15 is used


def test_identity_is_fake_but_consistent(alingsas_year: list[dict[str, Any]]) -> None:
    kontakter = [e for e in alingsas_year if e["type"] == "kontakt" and "deltagare" in e]
    with_pn = 0
    twelve = 0
    for e in kontakter:
        d = e["deltagare"]
        day = date.fromisoformat(e["datum"])
        assert d["kon"] in ("kvinna", "man", "annat")
        if "personnummer" in d:
            pn = parse(d["personnummer"], today=day)  # Luhn and date valid
            with_pn += 1
            twelve += len(d["personnummer"].replace("-", "")) == 12
            if d["kon"] != "annat":
                assert (int(pn.serial[2]) % 2 == 1) == (d["kon"] == "man")
        if "fodelsedatum" in d:
            assert age_on(date.fromisoformat(d["fodelsedatum"]), day) >= 0
    assert with_pn > len(kontakter) / 3
    assert 0 < twelve < with_pn / 2
    names = [e["deltagare"]["namn"] for e in kontakter if "namn" in e["deltagare"]]
    assert any(ch in n for n in names for ch in "åäöÅÄÖ")


def test_age_at_start_matches_the_villkor_and_the_contact(
    alingsas_year: list[dict[str, Any]],
) -> None:
    by_id = {e["id"]: e for e in alingsas_year}
    for e in alingsas_year:
        if e["type"] != "start":
            continue
        kontakt = by_id[e["oppnad_av"]]["deltagare"]
        day = date.fromisoformat(e["datum"])
        if "personnummer" in kontakt:
            born = parse(kontakt["personnummer"], today=day).birth_date
            assert age_on(born, day) == e["deltagare"]["alder"]
        if e["insats"] == "alingsas/3.4.5":  # Beroendestöd vid Mini Maria, 15–21 år
            assert 15 <= e["deltagare"]["alder"] <= 22


def test_notes_carry_no_identity() -> None:
    """14 kap. 4–5 §§ SoL: the ledger scans free text for the names and addresses given;
    the notes must pass even against every name and street the simulator can write."""
    names = [n for pool in FORNAMN.values() for n in pool] + list(EFTERNAMN)
    for note in ANTECKNINGAR:
        assert not any(ch.isdigit() for ch in note)
        assert "@" not in note
        assert scan(note, names=names, addresses=list(GATOR), today=date(2026, 1, 1)) == []


# -- volumes ----------------------------------------------------------------------------------


def test_counts_are_roughly_as_specified(alingsas_year: list[dict[str, Any]]) -> None:
    types = Counter(e["type"] for e in alingsas_year)
    assert 8_000 <= len(alingsas_year) <= 15_000
    kontakter = [e for e in alingsas_year if e["type"] == "kontakt"]
    informed = sum(e["informerad_om_ansokan"] for e in kontakter) / len(kontakter)
    assert 0.90 <= informed < 1.0
    ends = types["avslut"] + types["avbrott"]
    assert 0.15 <= types["avbrott"] / ends <= 0.45
    anonymous = [e for e in kontakter if "deltagare" not in e]
    assert 0.72 <= types["start"] / (len(kontakter) - len(anonymous)) <= 0.85
    assert types["handelse"] > 0 and types["hanvisning"] > 0
    assert {e["insats"] for e in anonymous} == {"alingsas/3.3.1"}  # the open activity
    groups = [e for e in alingsas_year if e["type"] == "tillfalle" and "grupp" in e]
    assert {e["insats"] for e in groups} >= {"alingsas/3.2.1", "alingsas/3.3.1"}


def test_scale_multiplies_volume() -> None:
    fil = fil_of("ks-2025-510")
    base = sum(1 for _ in simulate(fil, *TWO_MONTHS, seed=1))
    triple = sum(1 for _ in simulate(fil, *TWO_MONTHS, seed=1, scale=3.0))
    assert 2.4 <= triple / base <= 3.6
    assert list(simulate(fil, *TWO_MONTHS, seed=1, scale=0.0)) == []


# -- end to end: the ledger accepts every line -------------------------------------------------


@pytest.mark.parametrize("name", ["alingsas", "ks-2025-510", "simtest"])
def test_the_ledger_accepts_every_line(name: str, tmp_path: Path) -> None:
    settings = resolve(str(tmp_path / "d"), None)
    KeyStore(settings.key_dir).init()
    ledger = Ledger(settings)
    try:
        decisions.import_files(ledger, [(name, text_of(name))])
        period = TWO_MONTHS if name != "simtest" else (date(2025, 9, 1), date(2025, 9, 30))
        accepted = 0
        for n, line in enumerate(main_lines(fil_of(name), *period, seed=11)):
            try:
                append.event(ledger, line)
            except Rejected as e:  # the problems name field and rule, never a value (G6)
                event = json.loads(line)
                where = f"line {n + 1} ({event['type']} {event['insats']})"
                pytest.fail(f"{where} rejected: {[p.as_dict() for p in e.problems]}")
            accepted += 1
        assert accepted > 100
    finally:
        ledger.close()
