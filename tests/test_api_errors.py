"""Errors of the HTTP API: RFC 9457 problem+json naming field and rule, never an input
value (not even an unknown key shaped like a personnummer), never a stack trace; bodies
size-limited; unknown fields refused; API keys stored only as a keyed hash; access logs
without bodies, query strings or identity."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api_support import KATALOG, PERSON, client_for, event, seed
from iubledger.api.app import ApiSettings, create_app
from iubledger.api.service import Service
from iubledger.config import Settings

PNR = PERSON["personnummer"]
SECRETS = [PNR, PERSON["namn"], PERSON["adress"], PERSON["telefon"], PERSON["epost"]]
LIMITS = ApiSettings(max_body=4096, max_batch=3)


def _settings(root: Path) -> Settings:
    return Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, _initialised_data_dir: Path) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("api-errors") / "d"
    shutil.copytree(_initialised_data_dir, root)
    s = _settings(root)
    seeded = seed(s)
    with client_for(create_app(s, LIMITS)) as client:
        yield client, seeded, root


def _auth(seeded: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded['tokens'][role]}"}


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    p = r.json()
    assert set(p) == {"type", "title", "status", "detail", "code", "errors"}
    assert p["status"] == status
    assert p["type"].startswith("urn:iubledger:problem:")
    for e in p["errors"]:
        assert set(e) == {"code", "field", "message"}
    assert "Traceback" not in r.text
    assert 'File "' not in r.text
    for secret in SECRETS:
        assert secret not in r.text
    return p


def test_refused_event_names_field_and_rule_never_the_value(env: Any) -> None:
    client, seeded, _ = env
    bad = event("kontakt", deltagare={**PERSON, "alder": "trettio"})
    bad[PNR] = PERSON["namn"]  # an unknown key shaped like a personnummer
    bad["anteckning"] = f"Ringde från {PERSON['telefon']}"
    r = client.post("/v1/events", headers=_auth(seeded, "utforare"), content=json.dumps(bad))
    p = assert_problem(r, 422)
    fields = {e["field"] for e in p["errors"]}
    assert "kontakt.deltagare.alder" in fields
    assert any("okänt fält" in f for f in fields)
    assert {"int_type", "extra_forbidden"} <= {e["code"] for e in p["errors"]}


def test_identity_in_free_text_refused_without_echo(env: Any) -> None:
    client, seeded, _ = env
    note = f"Samtal med {PERSON['namn']}, {PNR}, {PERSON['epost']}"
    ev = event("kontakt", "radgivning", deltagare=PERSON, anteckning=note)
    r = client.post("/v1/events", headers=_auth(seeded, "utforare"), content=json.dumps(ev))
    p = assert_problem(r, 422)
    assert p["errors"][0]["field"] == "anteckning"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        json.dumps([PNR]).encode(),
        json.dumps({"id": PNR, "type": "kontakt"}).encode(),
        json.dumps({"type": PNR}).encode(),
        json.dumps({PNR: PERSON["namn"]}).encode(),
    ],
    ids=["not-json", "array", "id-is-pnr", "type-is-pnr", "key-is-pnr"],
)
def test_malformed_bodies(env: Any, body: bytes) -> None:
    client, seeded, _ = env
    r = client.post("/v1/events", headers=_auth(seeded, "utforare"), content=body)
    assert_problem(r, 422)


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("tillsyn", "GET", f"/v1/replay?as_of={PNR}"),
        ("tillsyn", "GET", f"/v1/receipts/{PNR}"),
        ("tillsyn", "GET", f"/v1/consistency?old={PNR}&new=2"),
        ("admin", "POST", f"/v1/identity/{PNR}"),
        ("namnd", "GET", f"/v1/reports/participation?insats={PNR}"),
        ("namnd", "GET", f"/v1/reports/participation?from={PNR}"),
        ("tillsyn", "GET", f"/v1/{PNR}"),
        ("admin", "POST", f"/v1/keys/{PNR}/revoke"),
    ],
)
def test_parameters_are_never_echoed(env: Any, role: str, method: str, path: str) -> None:
    client, seeded, _ = env
    r = client.request(method, path, headers=_auth(seeded, role))
    assert r.status_code in (404, 422), r.text
    assert_problem(r, r.status_code)


def test_unknown_fields_refused_everywhere(env: Any) -> None:
    client, seeded, _ = env
    revoke = {"fran": "2030-01-01", "skal": "Insatsen upphör.", "extra": 1}
    r = client.post(
        f"/v1/decisions/{KATALOG}/full/revoke",
        headers=_auth(seeded, "namnd"),
        content=json.dumps(revoke),
    )
    p = assert_problem(r, 422)
    assert p["errors"] == [
        {"code": "extra_forbidden", "field": "(okänt fält)", "message": p["errors"][0]["message"]}
    ]
    batch = {"events": [event("kontakt")], "sign": True}
    r = client.post(
        "/v1/events/batch", headers=_auth(seeded, "utforare"), content=json.dumps(batch)
    )
    assert_problem(r, 422)
    key = {"roll": "tillsyn", "namn": PERSON["namn"]}
    r = client.post("/v1/keys", headers=_auth(seeded, "admin"), content=json.dumps(key))
    assert_problem(r, 422)
    key = {"roll": "tillsyn", "beskrivning": f"Nyckel för {PNR}"}
    r = client.post("/v1/keys", headers=_auth(seeded, "admin"), content=json.dumps(key))
    assert assert_problem(r, 422)["errors"][0]["code"] == "identitet_i_text"


def test_http_errors_are_problems(env: Any) -> None:
    client, seeded, _ = env
    assert_problem(client.get("/v1/checkpoint"), 401)
    assert_problem(client.get("/nothing-here"), 404)
    assert_problem(client.delete("/v1/checkpoint", headers=_auth(seeded, "tillsyn")), 405)
    r = client.post(
        "/v1/events",
        headers={**_auth(seeded, "utforare"), "Content-Type": "text/plain"},
        content=json.dumps(event("kontakt")),
    )
    assert_problem(r, 415)
    r = client.post("/v1/events", headers=_auth(seeded, "utforare"))
    assert assert_problem(r, 422)["errors"][0]["code"] == "missing"


def test_body_size_limit(env: Any) -> None:
    client, seeded, _ = env
    big = event("kontakt", anteckning="x" * 2000)
    body = json.dumps({"events": [big, big, big]})
    assert len(body) > LIMITS.max_body
    headers = {**_auth(seeded, "utforare"), "Content-Type": "application/json"}
    assert_problem(client.post("/v1/events/batch", headers=headers, content=body), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000].encode()

    assert_problem(client.post("/v1/events/batch", headers=headers, content=chunks()), 413)
    four = json.dumps({"events": [event("kontakt") for _ in range(4)]})
    p = assert_problem(client.post("/v1/events/batch", headers=headers, content=four), 422)
    assert p["errors"][0]["field"] == "events"


def test_internal_errors_show_no_stack_trace(
    env: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client, seeded, _ = env

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"kraschade på {PNR}")

    monkeypatch.setattr(Service, "checkpoint", boom)
    with caplog.at_level(logging.INFO):
        r = client.get("/v1/checkpoint", headers=_auth(seeded, "tillsyn"))
    p = assert_problem(r, 500)
    assert p["code"] == "internt_fel"
    assert "RuntimeError" not in r.text
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "RuntimeError" in logged  # the type only, for the operator
    assert PNR not in logged
    assert "Traceback" not in logged


def test_access_log_has_no_bodies_queries_or_identity(
    env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, seeded, _ = env
    ev = event("kontakt", deltagare=PERSON)
    with caplog.at_level(logging.INFO, logger="iubledger.access"):
        client.post("/v1/events", headers=_auth(seeded, "utforare"), content=json.dumps(ev))
        client.get(f"/v1/replay?as_of={PNR}", headers=_auth(seeded, "tillsyn"))
        client.post(f"/v1/identity/{seeded['deltagande']}", headers=_auth(seeded, "tillsyn"))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "iubledger.access"]
    assert [x["route"] for x in lines] == [
        "/v1/events",
        "/v1/replay",
        "/v1/identity/{deltagande}",
    ]
    assert [x["status"] for x in lines] == [201, 422, 403]
    assert [x["roll"] for x in lines] == ["utforare", "tillsyn", "tillsyn"]
    assert lines[0]["nyckel_id"] == seeded["ids"]["utforare"]
    text = json.dumps(lines, ensure_ascii=False)
    for secret in [*SECRETS, ev["id"], seeded["deltagande"], *seeded["tokens"].values()]:
        assert secret not in text
    assert set(lines[0]) == {
        "tid",
        "request_id",
        "method",
        "route",
        "status",
        "ms",
        "roll",
        "nyckel_id",
        "bytes_in",
    }


def test_api_keys_are_stored_only_as_keyed_hashes(env: Any) -> None:
    client, seeded, root = env
    made = client.post("/v1/keys", headers=_auth(seeded, "admin"), content='{"roll": "tillsyn"}')
    tokens = [*seeded["tokens"].values(), made.json()["nyckel"]]
    stored = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    for token in tokens:
        secret = token.split("_", 2)[2]
        assert token.encode() not in stored
        assert secret.encode() not in stored
    listed = client.get("/v1/keys", headers=_auth(seeded, "admin")).text
    for token in tokens:
        assert token.split("_", 2)[2] not in listed


def test_cli_keys_create_list_revoke(
    settings: Settings, _initialised_data_dir: Path, run_cli: Any
) -> None:
    shutil.copytree(_initialised_data_dir, settings.data_dir)
    made = run_cli(
        [
            "--json",
            "keys",
            "create",
            "--role",
            "utforare",
            "--utforare",
            "samtalsstod",
            "--insats",
            f"{KATALOG}/full",
        ]
    )
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["nyckel"].startswith(f"iub_{key['nyckel_id']}_")
    assert key["insatser"] == [f"{KATALOG}/full"]
    listed = run_cli(["--json", "keys", "list"])
    assert key["nyckel"] not in listed.stdout
    assert json.loads(listed.stdout)[0]["nyckel_id"] == key["nyckel_id"]
    assert run_cli(["keys", "revoke", key["nyckel_id"]]).exit_code == 0
    assert json.loads(run_cli(["--json", "keys", "list"]).stdout)[0]["aterkallad"]
    assert run_cli(["keys", "revoke", "000000000000"]).exit_code == 1
    refused = run_cli(["keys", "create", "--role", "utforare"])
    assert refused.exit_code == 1
    assert "utforare_saknas" in refused.output
    refused = run_cli(["keys", "create", "--role", "tillsyn", "--katalog", "x"])
    assert refused.exit_code == 1
    stored = b"".join(p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file())
    assert key["nyckel"].split("_", 2)[2].encode() not in stored
