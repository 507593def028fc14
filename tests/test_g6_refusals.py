"""G6 bad input: every refusal names the field and the rule, never the value, and nothing
is persisted. Also the follow-up links (deltagande, besokskod, oppnad_av), the automatic
hänvisning on doubt (11 kap. 5 § SoL), idempotency on the client id, and `append -`."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from identities import personnummer
from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import resolve
from iubledger.policies.common import future_date
from iubledger.roles import Actor, Forbidden
from iubledger.schemas.base import Rejected
from iubledger.services import append, decisions
from iubledger.store import tables
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

KATALOG = "g6-namnd"
UTFORARE = "g6-utforare"
DATUM = "2025-11-15"


PNR = personnummer("850312")  # 40 years old on DATUM
PNR_CHILD = personnummer("130505", sekel="20")  # 12
PNR_YOUTH = personnummer("090101", sekel="20")  # 16
SAMORDNING = personnummer("850372", "456")  # day 12 + 60
NAMN = "Björn Sjöström"
ADRESS = "Storgatan 12"
TELEFON = "070-123 45 67"
EPOST = "bjorn.sjostrom@example.se"
DELTAGARE = {
    "personnummer": PNR,
    "namn": NAMN,
    "adress": ADRESS,
    "telefon": TELEFON,
    "epost": EPOST,
    "kon": "man",
    "folkbokford_kommun": "Alingsås",
}
#: Identity values that must never be echoed by a refusal.
NEEDLES = [
    PNR,
    PNR.replace("-", ""),
    PNR[2:],
    PNR[2:].replace("-", ""),
    SAMORDNING,
    SAMORDNING[2:],
    NAMN,
    "Björn",
    "Sjöström",
    ADRESS,
    "Storgatan",
    TELEFON,
    "0701234567",
    EPOST,
    "bjorn.sjostrom",
]


# -- decisions --------------------------------------------------------------------------------


def _insats(insats_id: str, regim: str, villkor: list[dict[str, Any]], **kw: Any) -> dict:
    fil = json.loads(catalogs.read("alingsas"))
    insats = copy.deepcopy(next(i for i in fil["insatser"] if i["id"] == "3.1.1"))
    insats.update(id=insats_id, villkor=villkor, dokumentation={"regim": regim}, **kw)
    insats["tillhandahalls_av"] = {"namnd": "Socialnämnden", "utforare": [UTFORARE]}
    if regim == "undantag_14_5":
        insats["dokumentation"]["sarskilda_skal"] = (
            "Målgruppens behov av anonymitet väger tyngre än nyttan av personakter, "
            "eftersom många annars avstår från stöd."
        )
        insats["dokumentation"]["riskanalys"] = "Risk- och konsekvensanalys"
    return insats


VUXEN = [{"typ": "alder", "fran": 18}, {"typ": "folkbokford", "vem": "deltagare"}]
INGA = [{"typ": "inga_villkor"}]


def decision_file() -> str:
    fil = {k: v for k, v in json.loads(catalogs.read("alingsas")).items() if k != "insatser"}
    fil["katalog"] = KATALOG
    annan = _insats("annan", "radgivning_14_4", INGA)
    annan["tillhandahalls_av"]["utforare"] = ["annan-utforare"]
    fil["insatser"] = [
        _insats("radgivning", "radgivning_14_4", VUXEN),
        _insats("undantag", "undantag_14_5", VUXEN),
        _insats("aggregat", "aggregat", INGA),
        _insats("full", "full_14_3", VUXEN),
        _insats("deltagardata", "deltagardata", VUXEN),
        _insats("barn", "radgivning_14_4", INGA),
        _insats("ungdom", "radgivning_14_4", INGA, barn_utan_samtycke_fran_15=True),
        annan,
    ]
    return json.dumps(fil, ensure_ascii=False)


G1_INSATSER = ("radgivning", "undantag", "aggregat")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("g6") / "data"


@pytest.fixture(scope="module")
def ledger(data_dir: Path) -> Iterator[Ledger]:
    s = resolve(str(data_dir), f"sqlite:///{data_dir / 'ledger.sqlite'}")
    KeyStore(s.key_dir).init()
    opened = Ledger(s)
    decisions.import_files(opened, [("g6", decision_file())])
    try:
        yield opened
    finally:
        opened.close()


def event(kind: str, insats: str = "radgivning", **kw: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": f"{KATALOG}/{insats}",
        "utforare": UTFORARE,
        "datum": DATUM,
    }
    if kind == "kontakt":
        e["informerad_om_ansokan"] = True
    if kind == "start":
        e["fakta"] = {"folkbokford_i_kommunen": True}
    e.update(kw)
    return {k: v for k, v in e.items() if v is not None}


def _stored(ledger: Ledger) -> tuple[int | None, int]:
    with ledger.transaction() as session:
        clients = session.execute(select(func.count()).select_from(tables.klient_id)).scalar()
    return ledger.recorder.max_notification_id(), int(clients or 0)


def _text(err: Rejected) -> str:
    return " | ".join([str(err), *(f"{p.code} {p.field} {p.message}" for p in err.problems)])


def refuse(ledger: Ledger, raw: dict[str, Any] | str, *extra_needles: str) -> Rejected:
    """Append `raw`, expect a refusal that stores nothing, names field and rule for every
    problem, and echoes no identity value."""
    before = _stored(ledger)
    with pytest.raises(Rejected) as refused:
        append.event(ledger, raw)
    assert _stored(ledger) == before
    err = refused.value
    assert err.problems
    for p in err.problems:
        assert p.code and p.field and p.message, p
    text = _text(err).lower()
    echoed = [n for n in (*NEEDLES, *extra_needles) if n.lower() in text]
    assert echoed == [], text
    return err


def codes(err: Rejected) -> list[str]:
    return [p.code for p in err.problems]


def accept(ledger: Ledger, raw: dict[str, Any]) -> dict[str, Any]:
    result = append.event(ledger, raw)
    assert set(result) >= {"event_id", "position", "deltagande"}
    return result


def participation(ledger: Ledger, insats: str = "radgivning", *, started: bool = True) -> str:
    opened = accept(ledger, event("kontakt", insats, deltagare=DELTAGARE))
    if started:
        accept(ledger, event("start", insats, deltagande=opened["deltagande"], deltagare=DELTAGARE))
    return opened["deltagande"]


# -- the schema ---------------------------------------------------------------------------


def test_invalid_json(ledger: Ledger) -> None:
    raw = json.dumps(event("kontakt", deltagare=DELTAGARE), ensure_ascii=False)[:-40]
    err = refuse(ledger, raw)
    assert codes(err) == ["json_invalid"]
    assert err.problems[0].field == "(dokument)"


def test_not_an_object(ledger: Ledger) -> None:
    err = refuse(ledger, json.dumps([NAMN, PNR], ensure_ascii=False))
    assert err.problems[0].field == "(dokument)"


def test_unknown_field(ledger: Ledger) -> None:
    err = refuse(ledger, event("kontakt", deltagare=DELTAGARE, okand_falt="x"), "okand_falt")
    (problem,) = err.problems
    assert problem.code == "extra_forbidden"
    assert problem.field.startswith("kontakt.")  # where, never the key itself


@pytest.mark.parametrize(
    "where, key",
    [
        ("top", PNR.replace("-", "")),
        ("top", PNR[2:]),
        ("deltagare", PNR),
        ("deltagare", SAMORDNING[2:]),
        ("deltagare", NAMN),
    ],
)
def test_unknown_key_that_is_an_identity_value_is_masked(
    ledger: Ledger, where: str, key: str
) -> None:
    e = event("kontakt", deltagare=dict(DELTAGARE))
    (e if where == "top" else e["deltagare"])[key] = True
    err = refuse(ledger, e, key, key.replace("-", ""))
    assert codes(err) == ["extra_forbidden"]
    prefix = "kontakt." if where == "top" else "kontakt.deltagare."
    assert err.problems[0].field.startswith(prefix)


def test_unknown_key_embedding_a_personnummer_is_masked(ledger: Ledger) -> None:
    key = "pnr_" + PNR.replace("-", "")
    e = event("kontakt", deltagare=dict(DELTAGARE))
    e["deltagare"][key] = True
    err = refuse(ledger, e, PNR.replace("-", ""), key)
    assert codes(err) == ["extra_forbidden"]
    assert err.problems[0].field.startswith("kontakt.deltagare.")


@pytest.mark.parametrize(
    "patch, code, field",
    [
        ({"deltagare": {**DELTAGARE, "alder": "40"}}, "int_type", "kontakt.deltagare.alder"),
        ({"deltagare": {**DELTAGARE, "alder": PNR}}, "int_type", "kontakt.deltagare.alder"),
        ({"deltagare": {**DELTAGARE, "kon": NAMN}}, "literal_error", "kontakt.deltagare.kon"),
        ({"informerad_om_ansokan": "ja"}, "bool_type", "kontakt.informerad_om_ansokan"),
        ({"datum": PNR}, "date_parsing", "kontakt.datum"),
        ({"id": NAMN}, "uuid_parsing", "kontakt.id"),
        ({"deltagande": PNR}, "uuid_parsing", "kontakt.deltagande"),
        ({"deltagare": NAMN}, "model_type", "kontakt.deltagare"),
        ({"type": NAMN}, "union_tag_invalid", "(dokument)"),
        ({"insats": NAMN}, "string_pattern_mismatch", "kontakt.insats"),
    ],
)
def test_wrong_type(ledger: Ledger, patch: dict[str, Any], code: str, field: str) -> None:
    err = refuse(ledger, event("kontakt", deltagare=DELTAGARE) | patch)
    assert (code, field) in [(p.code, p.field) for p in err.problems]


def test_one_link_only(ledger: Ledger) -> None:
    e = event("tillfalle", deltagande=str(uuid.uuid4()), besokskod="ABCD-EFGH")
    assert codes(refuse(ledger, e)) == ["value_error"]


def test_tillfalle_needs_a_participation_or_a_group(ledger: Ledger) -> None:
    assert codes(refuse(ledger, event("tillfalle"))) == ["value_error"]


# -- personnummer and birth date -------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code",
    [
        (PNR[:-1] + str((int(PNR[-1]) + 1) % 10), "personnummer_luhn"),
        (personnummer("850231"), "personnummer_date"),  # Luhn-valid, 31 February
        (personnummer("851312"), "personnummer_date"),  # month 13
        ("1985-03-12", "personnummer_format"),
        (personnummer("300101", sekel="20"), "personnummer_future"),
    ],
)
def test_invalid_personnummer(ledger: Ledger, value: str, code: str) -> None:
    e = event("kontakt", "full", deltagare={**DELTAGARE, "personnummer": value})
    err = refuse(ledger, e, value, value.replace("-", ""))
    assert [(p.code, p.field) for p in err.problems] == [(code, "deltagare.personnummer")]


def test_birth_date_contradicting_personnummer(ledger: Ledger) -> None:
    e = event("kontakt", "full", deltagare={**DELTAGARE, "fodelsedatum": "1985-03-13"})
    err = refuse(ledger, e, "1985-03-13", "1985-03-12", "850312")
    assert [(p.code, p.field) for p in err.problems] == [
        ("motstridiga_uppgifter", "deltagare.fodelsedatum")
    ]


def test_birth_date_after_the_event_is_refused(ledger: Ledger) -> None:
    for deltagare in (
        {"fodelsedatum": "2030-01-01", "kon": "man", "namn": NAMN},
        {"personnummer": personnummer("300101", sekel="20"), "kon": "man", "namn": NAMN},
    ):
        err = refuse(ledger, event("kontakt", "radgivning", deltagare=deltagare), "2030-01-01")
        assert all(p.field.startswith("deltagare") for p in err.problems), err.problems


# -- free text -------------------------------------------------------------------------------

NOTES = {
    "personnummer": (f"Ringde om {PNR[2:]} i morgon.", PNR[2:]),
    "samordningsnummer": (f"Har samordningsnummer {SAMORDNING}.", SAMORDNING),
    "telefon": (f"Nås på {TELEFON} efter lunch.", TELEFON),
    "epost": (f"Skriv till {EPOST} vid behov.", EPOST),
    "namn": ("Björn berättade om sin oro.", "Björn"),
    "adress": (f"Vi träffades på {ADRESS} idag.", ADRESS),
}


@pytest.mark.parametrize("insats", G1_INSATSER)
@pytest.mark.parametrize("kind", sorted(NOTES))
def test_identity_in_free_text_is_refused(ledger: Ledger, insats: str, kind: str) -> None:
    note, value = NOTES[kind]
    e = event("kontakt", insats, deltagare=DELTAGARE, anteckning=note)
    err = refuse(ledger, e, value)
    if insats == "aggregat":  # counts only: any free text is refused
        assert [(p.code, p.field) for p in err.problems] == [("fritext_ej_tillaten", "anteckning")]
    else:
        # An e-mail address holding the name is also a name hit: one problem per kind found.
        assert {(p.code, p.field) for p in err.problems} == {("identitet_i_fritext", "anteckning")}
        assert any(f"contains a {kind}" in p.message for p in err.problems)
    assert all("SoL" in p.message for p in err.problems)


@pytest.mark.parametrize("insats", ["full", "deltagardata"])
def test_identity_in_free_text_is_sealed_where_documented(ledger: Ledger, insats: str) -> None:
    """Sealed where identity is documented (14 kap. 3 §), except a personnummer or
    samordningsnummer under deltagardata, which is never documented there (G1)."""
    for kind, (note, value) in NOTES.items():
        e = event("kontakt", insats, deltagare=DELTAGARE, anteckning=note)
        if insats == "deltagardata" and kind in ("personnummer", "samordningsnummer"):
            err = refuse(ledger, e, value)
            assert {(p.code, p.field) for p in err.problems} == {
                ("personnummer_i_fritext", "anteckning")
            }
            continue
        accept(ledger, e)


@pytest.mark.parametrize("insats", [i for i in G1_INSATSER if i != "aggregat"])
def test_de_identified_note_is_accepted(ledger: Ledger, insats: str) -> None:
    note = "Samtal om sömn, stress och oro; nästa träff om två veckor."
    accept(ledger, event("kontakt", insats, deltagare=DELTAGARE, anteckning=note))


# -- start: required data, villkor, children -------------------------------------------------


@pytest.mark.parametrize("insats", ["radgivning", "undantag", "full", "deltagardata"])
def test_start_needs_gender_and_age(ledger: Ledger, insats: str) -> None:
    fakta = {"alder": 40, "folkbokford_i_kommunen": True}
    no_gender = event("start", insats, deltagare={"alder": 40}, fakta=fakta)
    assert ("uppgift_saknas", "deltagare.kon") in [
        (p.code, p.field) for p in refuse(ledger, no_gender).problems
    ]
    no_age = event("start", insats, deltagare={"kon": "kvinna", "namn": NAMN}, fakta=fakta)
    assert ("uppgift_saknas", "deltagare.alder") in [
        (p.code, p.field) for p in refuse(ledger, no_age).problems
    ]


def test_start_under_aggregat_needs_neither(ledger: Ledger) -> None:
    accept(ledger, event("start", "aggregat", fakta=None))


@pytest.mark.parametrize(
    "fakta, code",
    [
        (None, "villkor_ej_kontrollerade"),
        ({"folkbokford_i_kommunen": False}, "villkor_ej_uppfyllda"),
        ({"alder": 40}, "villkor_oklart"),  # folkbokföring not checked
    ],
)
def test_start_needs_villkor_met(ledger: Ledger, fakta: dict[str, Any] | None, code: str) -> None:
    e = event("start", deltagare=DELTAGARE)
    e.pop("fakta")
    if fakta is not None:
        e["fakta"] = fakta
    err = refuse(ledger, e)
    assert [(p.code, p.field) for p in err.problems] == [(code, "fakta")]
    assert "11 kap. 5 §" in err.problems[0].message


def test_start_after_villkorskontroll(ledger: Ledger) -> None:
    fakta_ok = {"alder": 40, "folkbokford_i_kommunen": True}
    ok = accept(ledger, event("villkorskontroll", utfall="uppfyllda", fakta=fakta_ok))
    accept(ledger, event("start", deltagande=ok["deltagande"], deltagare=DELTAGARE, fakta=None))
    fakta_no = {"alder": 40, "folkbokford_i_kommunen": False}
    no = accept(ledger, event("villkorskontroll", utfall="ej_uppfyllda", fakta=fakta_no))
    e = event("start", deltagande=no["deltagande"], deltagare=DELTAGARE, fakta=None)
    assert codes(refuse(ledger, e)) == ["villkor_ej_uppfyllda"]


@pytest.mark.parametrize(
    "utfall, fakta",
    [
        ("uppfyllda", {"alder": 40, "folkbokford_i_kommunen": False}),
        ("uppfyllda", {"alder": 16, "folkbokford_i_kommunen": True}),
        ("ej_uppfyllda", {"alder": 40, "folkbokford_i_kommunen": True}),
    ],
)
def test_villkorskontroll_contradicting_its_facts(
    ledger: Ledger, utfall: str, fakta: dict[str, Any]
) -> None:
    e = event("villkorskontroll", deltagare=DELTAGARE, utfall=utfall, fakta=fakta)
    err = refuse(ledger, e)
    assert [(p.code, p.field) for p in err.problems] == [("utfall_motsager_villkor", "utfall")]


def test_oklart_stores_villkorskontroll_and_hanvisning(ledger: Ledger) -> None:
    before = ledger.recorder.max_notification_id() or 0
    e = event("villkorskontroll", "undantag", deltagare=DELTAGARE, utfall="oklart", fakta={})
    result = accept(ledger, e)
    assert (ledger.recorder.max_notification_id() or 0) - before == 2
    # Under undantag every record is its own (G8): the referral is the next record.
    stored = [r for _, r in ledger.records()][-2:]
    assert [s.post["type"] for s in stored] == ["villkorskontroll", "hanvisning"]
    assert result["event_id"] == f"{stored[0].originator_id}/1"
    assert stored[0].originator_id != stored[1].originator_id
    kontroll, hanvisning = (s.post for s in stored)
    assert kontroll["utfall"] == "oklart"
    assert hanvisning["beslut"] == kontroll["beslut"]
    assert hanvisning["policy_version"] == kontroll["policy_version"]
    assert hanvisning["datum"] == kontroll["datum"]


@pytest.mark.parametrize(
    "insats, personnummer, samtycke, expected",
    [
        ("barn", PNR_CHILD, None, {"barnets_vilja", "vardnadshavares_samtycke"}),
        (
            "barn",
            PNR_CHILD,
            {"vardnadshavare": 0, "barnet_vill": False},
            {"barnets_vilja", "vardnadshavares_samtycke"},
        ),
        ("barn", PNR_CHILD, {"vardnadshavare": 1, "barnet_vill": False}, {"barnets_vilja"}),
        (
            "barn",
            PNR_CHILD,
            {"vardnadshavare": 0, "barnet_vill": True},
            {"vardnadshavares_samtycke"},
        ),
        (
            "barn",
            PNR_YOUTH,
            {"vardnadshavare": 0, "barnet_vill": True},
            {"vardnadshavares_samtycke"},
        ),
        ("ungdom", PNR_YOUTH, {"vardnadshavare": 0, "barnet_vill": False}, {"barnets_vilja"}),
        (
            "ungdom",
            PNR_CHILD,
            {"vardnadshavare": 0, "barnet_vill": True},
            {"vardnadshavares_samtycke"},
        ),
    ],
)
def test_children_need_consent_and_their_own_will(
    ledger: Ledger,
    insats: str,
    personnummer: str,
    samtycke: dict[str, Any] | None,
    expected: set[str],
) -> None:
    deltagare = {**DELTAGARE, "personnummer": personnummer}
    e = event("start", insats, deltagare=deltagare, samtycke=samtycke)
    err = refuse(ledger, e, personnummer)
    assert set(codes(err)) == expected


@pytest.mark.parametrize(
    "insats, personnummer, vardnadshavare",
    [("barn", PNR_CHILD, 1), ("barn", PNR_YOUTH, 2), ("ungdom", PNR_YOUTH, 0)],
)
def test_children_with_consent_and_will_start(
    ledger: Ledger, insats: str, personnummer: str, vardnadshavare: int
) -> None:
    deltagare = {**DELTAGARE, "personnummer": personnummer}
    samtycke = {"vardnadshavare": vardnadshavare, "barnet_vill": True}
    accept(ledger, event("start", insats, deltagare=deltagare, samtycke=samtycke))


# -- follow-ups ------------------------------------------------------------------------------


def test_follow_up_with_unknown_links(ledger: Ledger) -> None:
    cases = [
        (event("avslut", deltagande=str(uuid.uuid4())), "okant_deltagande", "deltagande"),
        (event("tillfalle", "undantag", besokskod="ABCD-EFGH"), "okand_besokskod", "besokskod"),
        (
            event("avbrott", oppnad_av=str(uuid.uuid4()), orsak="flyttat"),
            "okant_oppnande",
            "oppnad_av",
        ),
        (event("avslut"), "deltagande_saknas", "deltagande"),
    ]
    for raw, code, field in cases:
        assert [(p.code, p.field) for p in refuse(ledger, raw).problems] == [(code, field)]


def test_follow_up_on_another_insats(ledger: Ledger) -> None:
    pid = participation(ledger, "radgivning")
    err = refuse(ledger, event("tillfalle", "undantag", deltagande=pid))
    assert codes(err) == ["fel_insats"]


def test_event_after_avslut(ledger: Ledger) -> None:
    pid = participation(ledger)
    accept(ledger, event("avslut", deltagande=pid, maende=4))
    for raw in (
        event("tillfalle", deltagande=pid),
        event("handelse", deltagande=pid, anteckning="Hörde av sig igen."),
        event("avbrott", deltagande=pid, orsak="annat"),
        event("avslut", deltagande=pid),
    ):
        assert codes(refuse(ledger, raw)) == ["deltagande_avslutat"]


def test_tillfalle_before_start(ledger: Ledger) -> None:
    pid = participation(ledger, started=False)
    assert codes(refuse(ledger, event("tillfalle", deltagande=pid))) == ["ej_startad"]
    assert codes(refuse(ledger, event("avslut", deltagande=pid))) == ["ej_startad"]


def test_follow_up_dated_before_the_start_is_refused(ledger: Ledger) -> None:
    pid = participation(ledger)  # started on DATUM
    for kind in ("tillfalle", "avslut", "handelse"):
        e = event(kind, deltagande=pid, datum="2025-10-20", anteckning="Samtal.")
        assert [(p.code, p.field) for p in refuse(ledger, e).problems] == [("fore_start", "datum")]
    accept(ledger, event("tillfalle", deltagande=pid))  # the start day itself is fine


def test_utforare_not_registered(ledger: Ledger) -> None:
    for utforare in ("annan-utforare", "okand-utforare"):
        err = refuse(ledger, event("kontakt", deltagare=DELTAGARE, utforare=utforare))
        assert [(p.code, p.field) for p in err.problems] == [
            ("utforare_ej_registrerad", "utforare")
        ]


@pytest.mark.parametrize(
    "actor",
    [
        Actor("utforare", organisation="annan-utforare"),
        Actor("utforare"),
        Actor("namnd", katalog=KATALOG),
        Actor("tillsyn"),
    ],
)
def test_only_the_utforare_itself_may_append(ledger: Ledger, actor: Actor) -> None:
    before = _stored(ledger)
    with pytest.raises(Forbidden) as forbidden:
        append.event(ledger, event("kontakt", deltagare=DELTAGARE), actor)
    assert _stored(ledger) == before
    assert NAMN not in str(forbidden.value)


def test_the_utforare_appends_for_itself(ledger: Ledger) -> None:
    accept(ledger, event("kontakt"))
    result = append.event(ledger, event("kontakt"), Actor("utforare", organisation=UTFORARE))
    assert result["position"] >= 0


# -- idempotency and links ------------------------------------------------------------------


def test_same_client_id_is_stored_once(ledger: Ledger) -> None:
    e = event("kontakt", deltagare=DELTAGARE, anteckning="Första kontakten.")
    first = accept(ledger, e)
    before = _stored(ledger)
    assert append.event(ledger, e) == first
    assert append.event(ledger, json.dumps(e)) == first
    changed = {**e, "type": "hanvisning", "anteckning": "Något helt annat."}
    changed.pop("informerad_om_ansokan")
    assert append.event(ledger, changed) == first
    assert _stored(ledger) == before
    (stored,) = ledger.events.get(uuid.UUID(first["deltagande"]))
    assert stored.post["type"] == "kontakt"
    assert stored.post["anteckning"] == "Första kontakten."


@pytest.mark.parametrize(
    "actor",
    [
        Actor("tillsyn"),
        Actor("namnd", katalog=KATALOG),
        Actor("utforare", organisation="annan-utforare"),
    ],
)
def test_repeated_client_id_still_checks_the_role(ledger: Ledger, actor: Actor) -> None:
    e = event("kontakt", deltagare=DELTAGARE)
    accept(ledger, e)
    with pytest.raises(Forbidden):
        append.event(ledger, e, actor)


def test_repeated_client_id_from_another_utforare_gets_nothing_of_the_first(
    ledger: Ledger,
) -> None:
    e = event("kontakt", deltagare=DELTAGARE)
    first = accept(ledger, e)
    theirs = {**e, "insats": f"{KATALOG}/annan", "utforare": "annan-utforare"}
    try:
        result = append.event(ledger, theirs, Actor("utforare", organisation="annan-utforare"))
    except (Rejected, Forbidden):
        return
    assert result["deltagande"] != first["deltagande"]


def test_refused_client_id_is_not_taken(ledger: Ledger) -> None:
    e = event("kontakt", deltagare=DELTAGARE, anteckning=f"Ring {TELEFON}.")
    refuse(ledger, e)
    accept(ledger, {**e, "anteckning": "Ring tillbaka."})


def test_oppnad_av_and_besokskod_link_to_the_right_participation(ledger: Ledger) -> None:
    kontakt = event("kontakt", "undantag", deltagare=DELTAGARE)
    pid = accept(ledger, kontakt)["deltagande"]
    other = accept(ledger, event("kontakt", "undantag", deltagare=DELTAGARE))["deltagande"]
    started = accept(
        ledger, event("start", "undantag", oppnad_av=kontakt["id"], deltagare=DELTAGARE)
    )
    assert started["deltagande"] == pid
    kod = started["besokskod"]
    assert accept(ledger, event("tillfalle", "undantag", besokskod=kod))["deltagande"] == pid
    assert accept(ledger, event("tillfalle", "undantag", besokskod=kod))["deltagande"] == pid
    assert accept(ledger, event("avslut", "undantag", oppnad_av=kontakt["id"]))["deltagande"] == pid
    # Each record is its own (G8): the participation's course is kept outside the log.
    records = [r for _, r in ledger.records() if hasattr(r, "post")][-6:]
    assert [r.post["type"] for r in records] == [
        "kontakt",
        "kontakt",
        "start",
        "tillfalle",
        "tillfalle",
        "avslut",
    ]
    assert len({r.originator_id for r in records}) == 6
    assert str(records[0].originator_id) == pid and str(records[1].originator_id) == other
    # Ended: the link state is deleted, the besökskod names nothing any more.
    assert codes(refuse(ledger, event("tillfalle", "undantag", besokskod=kod))) == [
        "okand_besokskod"
    ]


# -- the command line ------------------------------------------------------------------------


def _cli_append(data_dir: Path, lines: list[str]) -> tuple[int, list[dict[str, Any]], str]:
    ledger_url = f"sqlite:///{data_dir / 'ledger.sqlite'}"
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(data_dir), "--db", ledger_url, "append", "-"],
        input="\n".join(lines) + "\n",
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    out = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.exit_code, out, result.output


@pytest.fixture
def closed(tmp_path: Path) -> Path:
    """A store of its own with the decisions imported, closed before the CLI opens it."""
    root = tmp_path / "cli"
    s = resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")
    KeyStore(s.key_dir).init()
    opened = Ledger(s)
    try:
        decisions.import_files(opened, [("g6", decision_file())])
    finally:
        opened.close()
    return root


def test_cli_append_reports_each_line(closed: Path) -> None:
    kontakt = event("kontakt", deltagare=DELTAGARE)
    lines = [
        json.dumps(kontakt, ensure_ascii=False),
        json.dumps(
            event("kontakt", deltagare=DELTAGARE, anteckning="Björn mår bättre."),
            ensure_ascii=False,
        ),
        "",
        '{"id": "' + PNR + '", "type": "kontakt"',
        json.dumps(event("start", oppnad_av=kontakt["id"], deltagare=DELTAGARE)),
        json.dumps(kontakt),  # repeated client id: the first result again
    ]
    exit_code, out, output = _cli_append(closed, lines)
    assert exit_code == 1
    assert [(r["line"], r["ok"]) for r in out] == [
        (1, True),
        (2, False),
        (4, False),
        (5, True),
        (6, True),
    ]
    for r in out:
        if r["ok"]:
            assert {"event_id", "position", "deltagande"} <= set(r)
        else:
            assert set(r["error"]) == {"code", "field", "message"}
    assert out[1]["error"]["code"] == "identitet_i_fritext"
    assert out[1]["error"]["field"] == "anteckning"
    assert out[2]["error"]["code"] == "json_invalid"
    assert out[4]["event_id"] == out[0]["event_id"]
    assert out[3]["deltagande"] == out[0]["deltagande"]
    assert [n for n in NEEDLES if n.lower() in output.lower()] == []


def test_cli_append_all_accepted_exits_zero(closed: Path) -> None:
    lines = [json.dumps(event("kontakt", deltagare=DELTAGARE)) for _ in range(3)]
    exit_code, out, _ = _cli_append(closed, lines)
    assert exit_code == 0
    assert [(r["line"], r["ok"]) for r in out] == [(1, True), (2, True), (3, True)]


def test_cli_append_reports_a_future_birth_date_as_a_line(closed: Path) -> None:
    deltagare = {"fodelsedatum": "2030-01-01", "kon": "man"}
    lines = [
        json.dumps(event("kontakt", deltagare=deltagare)),
        json.dumps(event("kontakt", deltagare=DELTAGARE)),
    ]
    exit_code, out, output = _cli_append(closed, lines)
    assert exit_code == 1
    assert [(r["line"], r["ok"]) for r in out] == [(1, False), (2, True)]
    assert out[0]["error"]["field"].startswith("deltagare")
    assert "2030-01-01" not in output


def test_cli_append_says_how_many_lines_were_already_stored(closed: Path) -> None:
    """A resend (the same client ids) stores nothing new, and says so on stderr."""
    lines = [json.dumps(event("kontakt", deltagare=DELTAGARE)) for _ in range(3)]
    ledger_url = f"sqlite:///{closed / 'ledger.sqlite'}"
    args = ["--data-dir", str(closed), "--db", ledger_url, "append", "-"]
    first = CliRunner().invoke(app, args, input="\n".join(lines) + "\n")
    assert first.exit_code == 0
    assert first.stderr.strip() == "3 line(s) stored now"
    again = CliRunner().invoke(
        app, args, input="\n".join([*lines, json.dumps(event("kontakt"))]) + "\n"
    )
    assert again.exit_code == 0
    said = " ".join(again.stderr.split())
    assert said.startswith("1 line(s) stored now; 3 already stored before (the same client id")
    results = [json.loads(x) for x in again.stdout.splitlines()]
    assert [r["position"] for r in results[:3]] == [
        json.loads(x)["position"] for x in first.stdout.splitlines()
    ]


@pytest.mark.parametrize("insats", ["radgivning", "undantag", "aggregat", "full", "deltagardata"])
def test_an_event_dated_after_tomorrow_is_refused_under_every_regime(
    ledger: Ledger, insats: str
) -> None:
    """Only what has happened is documented: more than a day ahead is refused, naming
    `datum` and the rule; tomorrow (time zones, midnight) is not."""
    today = datetime.now(UTC).date()
    for ahead in (2, 365 * 4):
        day = (today + timedelta(days=ahead)).isoformat()
        err = refuse(ledger, event("kontakt", insats, datum=day), day)
        assert [(p.code, p.field) for p in err.problems] == [("datum_i_framtiden", "datum")]
    tomorrow = event("kontakt", insats, datum=(today + timedelta(days=1)).isoformat())
    assert append.event(ledger, tomorrow)["position"] is not None


@given(st.dates(), st.integers(-10_000, 10_000))
def test_the_future_date_rule(today: date, ahead: int) -> None:
    try:
        day = today + timedelta(days=ahead)
    except OverflowError:
        return
    refused = future_date(day, today)
    assert bool(refused) == (ahead > 1)
    assert all(p.code == "datum_i_framtiden" and day.isoformat() not in p.message for p in refused)
