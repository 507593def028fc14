"""G4 decision-stamped: every stored post names the nämnd decision (id, version), the
regime and the policy version applied, chosen by the event's occurrence date (11 kap. 5 §,
14 kap. 3–5 §§ SoL). No decision in force, no IUB: the event is refused and nothing stored.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from identities import personnummer
from iubledger import catalogs
from iubledger.config import resolve
from iubledger.decisions.index import Upphavande
from iubledger.policies import POLICY_VERSION
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import Regim
from iubledger.schemas.period import label
from iubledger.services import append, decisions, identity
from iubledger.store import kurs
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

KATALOG = "g4-namnd"
UTFORARE = "familjeradgivningen"
SKAL = (
    "Målgruppens behov av anonymitet väger tyngre än nyttan av personakter, "
    "eftersom många annars avstår från stöd."
)


PNR = personnummer("850312", "123")
DELTAGARE = {"personnummer": PNR, "namn": "Björn Sjöström", "kon": "man"}
FAKTA = {"folkbokford_i_kommunen": True}


def _catalog(name: str) -> dict[str, Any]:
    return json.loads(catalogs.read(name))


def decision(regim: str, giltig_fran: str, *, andring: bool = False, **header: Any) -> str:
    """A decision file for insats `1`, made from the catalog's Familjerådgivning (3.1.1)."""
    fil = {k: v for k, v in _catalog("alingsas").items() if k != "insatser"}
    insats = copy.deepcopy(next(i for i in _catalog("alingsas")["insatser"] if i["id"] == "3.1.1"))
    insats["id"] = "1"
    insats["dokumentation"] = {"regim": regim}
    if regim == "undantag_14_5":
        insats["dokumentation"]["sarskilda_skal"] = SKAL
        insats["dokumentation"]["riskanalys"] = "Risk- och konsekvensanalys"
    if regim == "full_14_3":
        insats["dokumentation"]["journalsystem"] = "Lifecare IFO"
        insats["uppfoljning"] = "individbaserad"
    fil.update(
        katalog=KATALOG,
        beslutsdatum="2025-07-01",
        giltig_fran=giltig_fran,
        andring=andring,
        insatser=[insats],
        **header,
    )
    fil.pop("revideras_senast", None)
    return json.dumps(fil, ensure_ascii=False)


def event(kind: str, datum: str, insats: str = f"{KATALOG}/1", **kw: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": insats,
        "utforare": UTFORARE,
        "datum": datum,
        **kw,
    }


def start(datum: str, **kw: Any) -> dict[str, Any]:
    return event("start", datum, deltagare=DELTAGARE, fakta=FAKTA, **kw)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    root = tmp_path / "data"
    s = resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")
    KeyStore(s.key_dir).init()
    opened = Ledger(s)
    try:
        yield opened
    finally:
        opened.close()


def posts(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    """Participation id → its posts, in log order: a participation under 14 kap. 3 § by
    the records its course lists, any other by its stream (the opening
    record's id for a record that links nothing)."""
    own: dict[str, str] = {}
    with ledger.transaction() as session:
        for pid, course in kurs.opened(session, ledger.keys):
            own.update({r: pid for r in course.poster})
    out: dict[str, list[dict[str, Any]]] = {}
    for _, e in ledger.records():
        if hasattr(e, "post"):
            oid = str(e.originator_id)
            out.setdefault(own.get(oid, oid), []).append(e.post)
    return out


def stamp(post: dict[str, Any]) -> tuple[int, str]:
    return post["beslut"]["version"], post["beslut"]["regim"]


def test_every_post_names_decision_version_regime_and_policy(ledger: Ledger) -> None:
    decisions.import_files(ledger, [(n, catalogs.read(n)) for n in ("alingsas", "ks-2025-510")])
    targets = {
        "alingsas/3.1.1": "familjeradgivningen",
        "alingsas/3.2.1": "anhorigstod-beroende",
        "alingsas/3.4.6": "socialmedicinsk-mottagning",
        "ks-2025-510/r4": "femsamtal",
        "ks-2025-510/r7": "anhorigkonsulent",
    }
    for insats, utforare in targets.items():
        base = {"insats": insats, "utforare": utforare, "datum": "2025-11-15"}
        opened = append.event(
            ledger, {**event("kontakt", "2025-11-15"), **base, "informerad_om_ansokan": True}
        )
        link = {"deltagande": opened["deltagande"]}
        append.event(ledger, {**start("2025-11-15"), **base, **link})
        append.event(ledger, {**event("tillfalle", "2025-11-16"), **base, **link})
        append.event(ledger, {**event("avbrott", "2025-11-20"), **base, **link, "orsak": "flyttat"})
        # Doubt about the villkor: a villkorskontroll and the automatic hänvisning.
        append.event(
            ledger,
            {**event("villkorskontroll", "2025-11-15"), **base, "utfall": "oklart", "fakta": {}},
        )
        grupp = [{"aldersgrupp": "30-34", "kon": "kvinna", "antal": 4}]
        append.event(ledger, {**event("tillfalle", "2025-11-17"), **base, "grupp": grupp})

    index = ledger.decision_index()
    seen = []
    for _, e in ledger.records():
        post = getattr(e, "post", None)
        if post is None:
            continue
        beslut = post["beslut"]
        assert set(beslut) >= {"id", "version", "regim"}, post
        assert beslut["id"] == post["insats"]
        version = index.in_force(beslut["id"], date.fromisoformat(post["datum"]))
        assert version is not None
        assert beslut["version"] == version.version
        assert beslut["regim"] == version.insats.dokumentation.regim.value
        assert post["policy_version"] == POLICY_VERSION
        seen.append(post["type"])
    assert sorted(set(seen)) == [
        "avbrott",
        "hanvisning",
        "kontakt",
        "start",
        "tillfalle",
        "villkorskontroll",
    ]
    assert seen.count("hanvisning") == len(targets)
    regimes = {post["beslut"]["regim"] for ps in posts(ledger).values() for post in ps}
    assert regimes == {r.value for r in Regim}


def test_backdated_event_is_stored_under_the_version_then_in_force(ledger: Ledger) -> None:
    """radgivning_14_4 from 1 Aug, amended to undantag_14_5 from 1 Oct; events are appended
    after the amendment was imported, in mixed date order."""
    decisions.import_files(ledger, [("v1", decision("radgivning_14_4", "2025-08-01"))])
    decisions.import_files(ledger, [("v2", decision("undantag_14_5", "2025-10-01", andring=True))])

    cases = {
        "2025-10-15": (2, "undantag_14_5"),
        "2025-09-15": (1, "radgivning_14_4"),
        "2025-09-30": (1, "radgivning_14_4"),
        "2025-10-01": (2, "undantag_14_5"),
        "2025-08-01": (1, "radgivning_14_4"),
    }
    results = {datum: append.event(ledger, start(datum)) for datum in cases}
    stored = posts(ledger)
    for datum, expected in cases.items():
        (post,) = stored[results[datum]["deltagande"]]
        # Under undantag the date is stored at the decision's period, a week by default (G8).
        day = date.fromisoformat(datum)
        assert post["datum"] == (label(day, "vecka") if expected[1] == "undantag_14_5" else datum)
        assert stamp(post) == expected, datum
        assert post["beslut"]["id"] == f"{KATALOG}/1"
        # The regime was applied, not only named: besökskod only under undantag.
        assert ("besokskod" in results[datum]) == (expected[1] == "undantag_14_5")


def test_amendment_from_full_to_undantag_splits_one_participation(ledger: Ledger) -> None:
    decisions.import_files(ledger, [("v1", decision("full_14_3", "2025-08-01"))])
    opened = append.event(ledger, start("2025-09-10", anteckning="Första samtalet."))
    pid = opened["deltagande"]
    decisions.import_files(ledger, [("v2", decision("undantag_14_5", "2025-10-01", andring=True))])

    late = event("handelse", "2025-09-20", deltagande=pid, anteckning="Uppföljning.")
    append.event(ledger, late)  # appended after the amendment, dated before it
    after = event("handelse", "2025-10-05", deltagande=pid, anteckning="Fortsatt stöd.")
    append.event(ledger, after)

    # Under undantag the follow-up is a record of its own, linked to nothing (G8).
    s, before_amendment = posts(ledger)[pid]
    after_amendment = [r for _, r in ledger.records()][-1].post
    assert stamp(s) == (1, "full_14_3")
    assert stamp(before_amendment) == (1, "full_14_3")
    assert "forsegling" in before_amendment
    assert "anteckning" not in before_amendment  # sealed, not in clear
    assert stamp(after_amendment) == (2, "undantag_14_5")
    assert "forsegling" not in after_amendment
    assert after_amendment["anteckning"] == "Fortsatt stöd."
    assert "pseudonym" not in after_amendment.get("deltagare", {})
    sealed_notes = identity.open_sealed(ledger, uuid.UUID(pid))["anteckningar"]
    assert sealed_notes == ["Första samtalet.", "Uppföljning."]  # not the undantag one


def _refused_without_trace(ledger: Ledger, raw: dict[str, Any]) -> Rejected:
    before = ledger.recorder.max_notification_id()
    with pytest.raises(Rejected) as refused:
        append.event(ledger, raw)
    assert ledger.recorder.max_notification_id() == before
    return refused.value


def test_no_decision_in_force_is_refused_and_nothing_stored(ledger: Ledger) -> None:
    decisions.import_files(ledger, [("v1", decision("radgivning_14_4", "2025-08-01"))])
    early = start("2025-07-31")
    err = _refused_without_trace(ledger, early)
    assert [(p.code, p.field) for p in err.problems] == [("inget_beslut", "insats")]
    assert "11 kap. 5 § SoL" in err.problems[0].message
    unknown = _refused_without_trace(ledger, start("2025-09-01") | {"insats": f"{KATALOG}/9"})
    assert unknown.problems[0].code == "inget_beslut"
    # The refusal did not take the client id: the same id goes through once the date is right.
    fixed = append.event(ledger, {**early, "datum": "2025-08-01"})
    assert fixed["position"] >= 0


def test_revoked_decision_is_not_in_force_from_its_date(ledger: Ledger) -> None:
    decisions.import_files(ledger, [("v1", decision("radgivning_14_4", "2025-08-01"))])
    decisions.revoke(ledger, f"{KATALOG}/1", date(2025, 12, 1), "Insatsen upphör.")
    err = _refused_without_trace(ledger, start("2025-12-01"))
    assert err.problems[0].code == "inget_beslut"
    assert _refused_without_trace(ledger, start("2026-03-01")).problems[0].code == "inget_beslut"
    kept = append.event(ledger, start("2025-11-30"))  # before the revocation: still in force
    (post,) = posts(ledger)[kept["deltagande"]]
    assert stamp(post) == (1, "radgivning_14_4")


def test_decision_with_end_date(ledger: Ledger) -> None:
    decisions.import_files(
        ledger, [("v1", decision("radgivning_14_4", "2025-08-01", giltig_till="2025-12-31"))]
    )
    append.event(ledger, start("2025-12-31"))
    assert _refused_without_trace(ledger, start("2026-01-01")).problems[0].code == "inget_beslut"


def test_a_decision_changed_by_another_process_applies_at_once(ledger: Ledger) -> None:
    """A long-running process (the API server) holds the decisions in memory; an amendment
    or revocation made by another process (the command line) applies to its next event."""
    decisions.import_files(ledger, [("v1", decision("full_14_3", "2025-08-01"))])
    first = append.event(ledger, start("2025-10-10"))
    other = Ledger(ledger.settings)
    try:
        decisions.import_files(
            other, [("v2", decision("undantag_14_5", "2025-10-01", andring=True))]
        )
        amended = append.event(ledger, start("2025-10-12"))
        assert ledger.decision_index().latest(f"{KATALOG}/1").version == 2
        decisions.revoke(other, f"{KATALOG}/1", date(2025, 11, 1), "Insatsen upphör.")
    finally:
        other.close()
    by_pid = posts(ledger)
    assert stamp(by_pid[first["deltagande"]][0]) == (1, "full_14_3")
    assert stamp(by_pid[amended["deltagande"]][0]) == (2, "undantag_14_5")
    assert _refused_without_trace(ledger, start("2025-11-02")).problems[0].code == "inget_beslut"
    assert isinstance(ledger.decision_index().histories[f"{KATALOG}/1"][-1], Upphavande)
