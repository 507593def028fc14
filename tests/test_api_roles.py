"""Role matrix of the HTTP API: every endpoint × every role, allowed or refused (401/403).

Least privilege (issue: HTTP API, 3.): utförare append only for their own organisation and
the insatser of their key and read only their own receipts; a nämnd manages its own
decisions and reads suppressed reports; tillsyn reads and verifies everything but sealed
identity and cannot write; admin manages keys and recovers identity, and every recovery is
itself an event in the ledger. The expectations are written out here, independently of
`roles.PERMISSIONS`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from api_support import (
    ANNAN_KATALOG,
    ANNAN_UTFORARE,
    KATALOG,
    PERSON,
    amendment,
    client_for,
    decision_file,
    event,
    seed,
)
from iubledger.api.app import create_app
from iubledger.config import Settings
from iubledger.integrity import note
from iubledger.integrity.note import Verifier
from iubledger.roles import Actor, may

ROLES = ["admin", "namnd", "namnd_annan", "utforare", "utforare_begransad", "utforare_annan"]
ROLES.append("tillsyn")
READERS = {"utforare", "utforare_begransad", "utforare_annan", "namnd", "namnd_annan", "tillsyn"}


@dataclass
class Api:
    client: Any
    tokens: dict[str, str]
    ids: dict[str, str]
    position: int
    deltagande: str
    spare_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def call(
        self,
        role: str | None,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        content = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self.client.request(method, path, headers=headers, content=content, params=params)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, _initialised_data_dir: Path) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api-roles") / "d"
    shutil.copytree(_initialised_data_dir, root)
    settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")
    seeded = seed(settings)
    with client_for(create_app(settings)) as client:
        a = Api(client, seeded["tokens"], seeded["ids"], seeded["position"], seeded["deltagande"])
        created = a.call("admin", "POST", "/v1/keys", body={"roll": "tillsyn"})
        assert created.status_code == 201, created.text
        a.spare_key = created.json()["nyckel_id"]
        cp = a.call("tillsyn", "GET", "/v1/checkpoint").json()
        COSIGNED.update(note=cosign(cp["note"]), witness=WITNESS.text())
        yield a


#: A witness's cosignature of the seeded store's checkpoint (filled by the fixture).
WITNESS_KEY = nacl.signing.SigningKey.generate()
WITNESS = Verifier("ivo.se/test", WITNESS_KEY.verify_key, note.COSIGNATURE_V1)
COSIGNED: dict[str, str] = {}


def cosign(checkpoint_note: str) -> str:
    text = checkpoint_note.split("\n\n")[0] + "\n"
    sig = note.cosign(text, WITNESS.name, WITNESS_KEY, 1_764_547_200)  # a Monday, 00:00 UTC
    return checkpoint_note + sig.line()


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Callable[[], Any] | None = None
    raw: Callable[[], str] | None = None
    params: dict[str, Any] | None = None


ENDPOINTS: dict[str, tuple[Call, set[str]]] = {
    "append": (
        Call("POST", "/v1/events", body=lambda: event("kontakt")),
        {"utforare", "utforare_begransad"},
    ),
    "append_batch": (
        Call("POST", "/v1/events/batch", body=lambda: {"events": [event("kontakt")]}),
        {"utforare", "utforare_begransad"},
    ),
    "receipt": (
        Call("GET", "/v1/receipts/{position}"),
        {"utforare", "utforare_begransad", "namnd", "tillsyn"},
    ),
    "checkpoint": (Call("GET", "/v1/checkpoint"), READERS),
    "consistency": (Call("GET", "/v1/consistency", params={"old": 1, "new": 2}), READERS),
    "decisions_list": (Call("GET", "/v1/decisions"), READERS),
    "decisions_add": (Call("POST", "/v1/decisions", raw=amendment), {"namnd"}),
    "decisions_revoke": (
        Call(
            "POST",
            f"/v1/decisions/{KATALOG}/radgivning/revoke",
            body=lambda: {"fran": "2030-01-01", "skal": "Insatsen ersätts av en annan."},
        ),
        {"namnd"},
    ),
    "report_participation": (
        Call("GET", "/v1/reports/participation"),
        {"namnd", "namnd_annan", "tillsyn"},
    ),
    "report_participation_html": (
        Call("GET", "/v1/reports/participation", params={"format": "html"}),
        {"namnd", "namnd_annan", "tillsyn"},
    ),
    "report_effect": (Call("GET", "/v1/reports/effect"), {"namnd", "namnd_annan", "tillsyn"}),
    "report_compliance": (
        Call("GET", "/v1/reports/compliance"),
        {"namnd", "namnd_annan", "tillsyn"},
    ),
    "report_compliance_html": (
        Call("GET", "/v1/reports/compliance", params={"format": "html"}),
        {"namnd", "namnd_annan", "tillsyn"},
    ),
    "verify": (Call("POST", "/v1/verify"), {"tillsyn"}),
    "cosign": (Call("POST", "/v1/cosignatures", body=lambda: dict(COSIGNED)), {"tillsyn"}),
    "replay": (Call("GET", "/v1/replay", params={"as_of": "2025-12-01"}), {"tillsyn"}),
    "export": (Call("GET", "/v1/export"), {"tillsyn"}),
    "identity_access_log": (Call("GET", "/v1/audit/identity-access"), {"tillsyn"}),
    "identity_recover": (
        Call(
            "POST",
            "/v1/identity/{deltagande}",
            body=lambda: {"skal": "Begäran från IVO i tillsynsärende."},
        ),
        {"admin"},
    ),
    "keys_list": (Call("GET", "/v1/keys"), {"admin"}),
    "keys_create": (Call("POST", "/v1/keys", body=lambda: {"roll": "tillsyn"}), {"admin"}),
    "keys_revoke": (Call("POST", "/v1/keys/{spare}/revoke"), {"admin"}),
    "whoami": (Call("GET", "/v1/whoami"), set(ROLES)),
}

#: The utförare of another organisation passes the role check for a batch; each event of
#: another organisation is refused on its own (403 inside the 200).
ITEM_REFUSED = {("append_batch", "utforare_annan")}


def _send(api: Api, role: str | None, name: str) -> Any:
    call, _ = ENDPOINTS[name]
    path = call.path.format(position=api.position, deltagande=api.deltagande, spare=api.spare_key)
    return api.call(
        role,
        call.method,
        path,
        body=call.body() if call.body else None,
        raw=call.raw() if call.raw else None,
        params=call.params,
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_role_matrix(api: Api, name: str, role: str) -> None:
    _, allowed = ENDPOINTS[name]
    r = _send(api, role, name)
    if (name, role) in ITEM_REFUSED:
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["status"] == 403
        assert r.json()["accepted"] == 0
    elif role in allowed:
        assert 200 <= r.status_code < 300, (name, role, r.status_code, r.text[:500])
    else:
        assert r.status_code == 403, (name, role, r.status_code, r.text[:500])
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "behorighet"


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_every_endpoint_needs_a_valid_key(api: Api, name: str) -> None:
    missing = _send(api, None, name)
    assert missing.status_code == 401, missing.text
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"
    api.tokens["fel"] = "iub_000000000000_" + "x" * 43
    api.tokens["basic"] = api.tokens["tillsyn"]
    assert _send(api, "fel", name).status_code == 401
    call, _ = ENDPOINTS[name]
    path = call.path.format(position=api.position, deltagande=api.deltagande, spare=api.spare_key)
    basic = api.client.request(
        call.method, path, headers={"Authorization": f"Basic {api.tokens['tillsyn']}"}
    )
    assert basic.status_code == 401


def test_health_needs_no_key(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").status_code == 200


# -- where each role ends ---------------------------------------------------------------------


def _size(api: Api) -> int:
    return api.call("tillsyn", "GET", "/v1/checkpoint").json()["tree_size"]


def test_utforare_cannot_append_for_another_organisation(api: Api) -> None:
    before = _size(api)
    other = event("kontakt", katalog=ANNAN_KATALOG, utforare=ANNAN_UTFORARE)
    r = api.call("utforare", "POST", "/v1/events", body=other)
    assert r.status_code == 403
    assert r.json()["code"] == "behorighet"
    # Naming itself as the utförare of another nämnd's insats is refused too (the decision
    # does not register it): 422 with the rule.
    posing = event("kontakt", katalog=ANNAN_KATALOG)
    r = api.call("utforare", "POST", "/v1/events", body=posing)
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "utforare_ej_registrerad"
    assert _size(api) == before


def test_utforare_key_limited_to_its_insatser(api: Api) -> None:
    before = _size(api)
    r = api.call("utforare_begransad", "POST", "/v1/events", body=event("kontakt", "undantag"))
    assert r.status_code == 403
    assert "insats" in r.json()["detail"]
    assert _size(api) == before
    ok = api.call("utforare_begransad", "POST", "/v1/events", body=event("kontakt", "full"))
    assert ok.status_code == 201, ok.text
    batch = api.call(
        "utforare_begransad",
        "POST",
        "/v1/events/batch",
        body={"events": [event("kontakt", "full"), event("kontakt", "undantag")]},
    )
    assert [x["ok"] for x in batch.json()["results"]] == [True, False]
    assert batch.json()["results"][1]["status"] == 403


def test_utforare_reads_only_its_own_receipts(api: Api) -> None:
    own = api.call(
        "utforare_annan",
        "POST",
        "/v1/events",
        body=event("kontakt", katalog=ANNAN_KATALOG, utforare=ANNAN_UTFORARE),
    )
    assert own.status_code == 201, own.text
    p = own.json()["position"]
    assert api.call("utforare_annan", "GET", f"/v1/receipts/{p}").status_code == 200
    assert api.call("utforare", "GET", f"/v1/receipts/{p}").status_code == 403
    assert api.call("utforare_annan", "GET", f"/v1/receipts/{api.position}").status_code == 403
    assert api.call("namnd", "GET", f"/v1/receipts/{p}").status_code == 403
    assert api.call("namnd_annan", "GET", f"/v1/receipts/{p}").status_code == 200
    assert api.call("tillsyn", "GET", f"/v1/receipts/{p}").status_code == 200
    receipt = api.call("utforare_annan", "GET", f"/v1/receipts/{p}").json()
    assert receipt["position"] == p
    assert receipt["checkpoint"]["tree_size"] > p


def test_a_repeated_client_id_answers_only_its_own_utforare(api: Api) -> None:
    first = event("kontakt")
    r1 = api.call("utforare", "POST", "/v1/events", body=first)
    assert r1.status_code == 201
    again = api.call("utforare", "POST", "/v1/events", body=first)
    assert again.status_code == 200
    assert again.json() == r1.json()
    # The same client id from another utförare never returns the first one's result.
    same_id = event("kontakt", katalog=ANNAN_KATALOG, utforare=ANNAN_UTFORARE, id=first["id"])
    r = api.call("utforare_annan", "POST", "/v1/events", body=same_id)
    assert r.status_code in (201, 403)
    assert r1.json()["deltagande"] not in r.text


def test_namnd_manages_only_its_own_katalog(api: Api) -> None:
    listed = api.call("namnd", "GET", "/v1/decisions").json()
    assert listed
    assert {d["beslut"].split("/")[0] for d in listed} == {KATALOG}
    foreign = decision_file(ANNAN_KATALOG, ANNAN_UTFORARE)
    assert api.call("namnd", "POST", "/v1/decisions", raw=foreign).status_code == 403
    revoke = {"fran": "2031-01-01", "skal": "Insatsen upphör helt."}
    path = f"/v1/decisions/{ANNAN_KATALOG}/full/revoke"
    assert api.call("namnd", "POST", path, body=revoke).status_code == 403
    report = api.call("namnd", "GET", "/v1/reports/participation").json()
    assert report["insatser"]
    assert {i["insats"].split("/")[0] for i in report["insatser"]} == {KATALOG}
    assert report["skydd"]["exakta_tal"] is False


def test_namnd_reads_the_compliance_report_of_its_own_katalog(api: Api) -> None:
    """The compliance report is the nämnd's egenkontroll too: its own katalog only, and
    without the refusal counts, which are kept for the whole ledger."""
    own = api.call("namnd", "GET", "/v1/reports/compliance").json()
    assert own["insatser"]
    assert {i["insats"].split("/")[0] for i in own["insatser"]} == {KATALOG}
    assert {a["insats"].split("/")[0] for a in own["avvikelser"]} <= {KATALOG}
    assert "avvisade_handelser" not in own
    every = api.call("tillsyn", "GET", "/v1/reports/compliance").json()
    assert {i["insats"].split("/")[0] for i in every["insatser"]} > {KATALOG}
    assert "avvisade_handelser" in every
    assert may(Actor("namnd", katalog=KATALOG), "read_compliance")
    assert not may(Actor("utforare", organisation="x"), "read_compliance")


def test_utforare_sees_the_decisions_naming_it(api: Api) -> None:
    mine = {d["beslut"] for d in api.call("utforare", "GET", "/v1/decisions").json()}
    assert mine == {f"{KATALOG}/full", f"{KATALOG}/radgivning", f"{KATALOG}/undantag"}
    limited = api.call("utforare_begransad", "GET", "/v1/decisions").json()
    assert {d["beslut"] for d in limited} == {f"{KATALOG}/full"}
    everything = {
        d["beslut"].split("/")[0] for d in api.call("tillsyn", "GET", "/v1/decisions").json()
    }
    assert everything == {KATALOG, ANNAN_KATALOG}


def test_tillsyn_cannot_recover_identity_or_write(api: Api) -> None:
    before = api.call("tillsyn", "GET", "/v1/audit/identity-access").json()
    r = api.call(
        "tillsyn",
        "POST",
        f"/v1/identity/{api.deltagande}",
        body={"skal": "Vill se vem det gäller."},
    )
    assert r.status_code == 403
    for value in ("personnummer", "namn", "adress", "telefon", "epost"):
        assert PERSON[value] not in r.text
    assert api.call("tillsyn", "GET", "/v1/audit/identity-access").json() == before
    assert api.call("tillsyn", "POST", "/v1/events", body=event("kontakt")).status_code == 403
    assert api.call("tillsyn", "POST", "/v1/decisions", raw=amendment()).status_code == 403


def test_identity_recovery_is_recorded_and_visible_to_tillsyn(api: Api) -> None:
    reason = "Begäran om utlämnande, dnr 2025.123."
    r = api.call("admin", "POST", f"/v1/identity/{api.deltagande}", body={"skal": reason})
    assert r.status_code == 200, r.text
    assert r.json()["identitet"]["personnummer"] == PERSON["personnummer"]
    log = api.call("tillsyn", "GET", "/v1/audit/identity-access").json()
    mine = [x for x in log if x["skal"] == reason]
    assert len(mine) == 1
    assert mine[0]["roll"] == "admin"
    assert mine[0]["nyckel_id"] == api.ids["admin"]
    assert mine[0]["deltagande"] == api.deltagande
    assert mine[0]["utfall"] == "oppnad"
    assert api.tokens["admin"] not in json.dumps(log)
    exported = api.call("tillsyn", "GET", "/v1/export").text
    assert '"aggregat": "Identitetsatkomst"' in exported
    assert reason in exported
    for value in ("personnummer", "namn", "adress", "telefon", "epost"):
        assert PERSON[value] not in exported
    assert api.call("tillsyn", "POST", "/v1/verify").json()["ok"] is True


def test_a_refused_recovery_is_recorded_too(api: Api) -> None:
    radgivning = api.call(
        "utforare", "POST", "/v1/events", body=event("kontakt", "radgivning")
    ).json()
    reason = "Kontroll av vad som lagrats."
    r = api.call("admin", "POST", f"/v1/identity/{radgivning['deltagande']}", body={"skal": reason})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "ingen_forsegling"
    log = api.call("tillsyn", "GET", "/v1/audit/identity-access").json()
    assert [x["utfall"] for x in log if x["skal"] == reason] == ["ingen_forsegling"]


def test_a_reason_holding_identity_is_refused(api: Api) -> None:
    r = api.call(
        "admin",
        "POST",
        f"/v1/identity/{api.deltagande}",
        body={"skal": f"Gäller {PERSON['personnummer']}"},
    )
    assert r.status_code == 422
    assert PERSON["personnummer"] not in r.text


def test_a_revoked_key_is_refused(api: Api) -> None:
    made = api.call("admin", "POST", "/v1/keys", body={"roll": "tillsyn"}).json()
    api.tokens["kort"] = made["nyckel"]
    assert api.call("kort", "GET", "/v1/whoami").status_code == 200
    revoked = api.call("admin", "POST", f"/v1/keys/{made['nyckel_id']}/revoke")
    assert revoked.json()["aterkallad"]
    r = api.call("kort", "GET", "/v1/whoami")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    listed = api.call("admin", "GET", "/v1/keys").json()
    assert made["nyckel"] not in json.dumps(listed)
