"""Generates `exempel.json` (see `api/exempel.py`): a throw-away store with the Alingsås
decisions and a simulated October of utförare events, every operation called as its role
would. A developer's tool: `python -m iubledger.api.exempel_generator`."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from iubledger.api.exempel import FIL

#: List entries kept in an example.
KORT = 2


def _cut(v: Any) -> Any:
    if isinstance(v, list):
        return [_cut(x) for x in v[:KORT]]
    if isinstance(v, dict):
        return {k: _cut(x) for k, x in v.items()}
    return v


def generate() -> dict[str, dict[str, Any]]:
    """Call every operation on a simulated store and keep request and answer."""
    import warnings

    from iubledger import catalogs
    from iubledger.api.app import create_app
    from iubledger.config import resolve
    from iubledger.schemas.beslut import BeslutsFil
    from iubledger.services import apikeys, append, decisions, integrity
    from iubledger.simulate import main_lines
    from iubledger.store.keys import KeyStore
    from iubledger.store.ledger import Ledger

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    root = Path(tempfile.mkdtemp()) / "d"
    settings = resolve(str(root), None)
    KeyStore(settings.key_dir).init()
    fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
    lines = list(main_lines(fil, date(2025, 10, 1), date(2025, 10, 31), 1, 0.3))
    ledger = Ledger(settings)
    try:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
        first = [append.event(ledger, line) for line in lines[:-3]]
        integrity.checkpoint(ledger)
        keys = apikeys.ApiKeys.of(ledger)
        event = json.loads(lines[-3])
        tokens = {
            "utforare": keys.create("utforare", organisation=event["utforare"])[0],
            "namnd": keys.create("namnd", katalog="alingsas")[0],
            "tillsyn": keys.create("tillsyn")[0],
            "admin": keys.create("admin")[0],
        }
        revoked = keys.create("tillsyn")[1].nyckel_id
    finally:
        ledger.close()
    sealed = {
        f"alingsas/{i.id}" for i in fil.insatser if i.dokumentation.regim.value == "full_14_3"
    }
    full = next(
        r
        for r, line in zip(first, lines, strict=False)
        if json.loads(line)["insats"] in sealed and json.loads(line).get("deltagare")
    )
    amendment = json.loads(catalogs.read("alingsas"))
    amendment.update(andring=True, giltig_fran="2026-01-01", insatser=amendment["insatser"][:1])
    calls: list[tuple[str, str, str, str | None, Any, dict[str, Any] | None]] = [
        ("GET", "/healthz", "/healthz", None, None, None),
        ("GET", "/readyz", "/readyz", None, None, None),
        ("POST", "/v1/events", "/v1/events", "utforare", event, None),
        (
            "POST",
            "/v1/events/batch",
            "/v1/events/batch",
            "utforare",
            {"events": [json.loads(x) for x in lines[-2:]]},
            None,
        ),
        ("GET", "/v1/receipts/{position}", "/v1/receipts/40", "tillsyn", None, None),
        ("GET", "/v1/checkpoint", "/v1/checkpoint", "tillsyn", None, None),
        ("GET", "/v1/consistency", "/v1/consistency", "tillsyn", None, {"old": 30, "new": 60}),
        ("POST", "/v1/verify", "/v1/verify", "tillsyn", {}, None),
        (
            "GET",
            "/v1/replay",
            "/v1/replay",
            "tillsyn",
            None,
            {"as_of": "2025-10-15", "by": "occurred"},
        ),
        ("GET", "/v1/export", "/v1/export", "tillsyn", None, None),
        ("GET", "/v1/decisions", "/v1/decisions", "namnd", None, None),
        ("POST", "/v1/decisions", "/v1/decisions", "namnd", amendment, None),
        (
            "POST",
            "/v1/decisions/{katalog}/{insats}/revoke",
            "/v1/decisions/alingsas/3.4.7/revoke",
            "namnd",
            {"fran": "2026-07-01", "skal": "Insatsen ersätts av en ny mötesplats."},
            None,
        ),
        (
            "GET",
            "/v1/reports/participation",
            "/v1/reports/participation",
            "namnd",
            None,
            {"from": "2025-10-01", "to": "2025-10-31", "indelning": "vecka"},
        ),
        (
            "GET",
            "/v1/reports/effect",
            "/v1/reports/effect",
            "namnd",
            None,
            {"from": "2025-10-01", "to": "2025-10-31"},
        ),
        (
            "GET",
            "/v1/reports/compliance",
            "/v1/reports/compliance",
            "namnd",
            None,
            {"from": "2025-10-01", "to": "2025-10-31"},
        ),
        (
            "POST",
            "/v1/identity/{deltagande}",
            f"/v1/identity/{full['deltagande']}",
            "admin",
            {"skal": "Begäran från IVO i tillsynsärende."},
            None,
        ),
        ("GET", "/v1/audit/identity-access", "/v1/audit/identity-access", "tillsyn", None, None),
        ("GET", "/v1/whoami", "/v1/whoami", "namnd", None, None),
        ("GET", "/v1/keys", "/v1/keys", "admin", None, None),
        ("POST", "/v1/keys", "/v1/keys", "admin", {"roll": "tillsyn", "beskrivning": "IVO"}, None),
        ("POST", "/v1/keys/{nyckel_id}/revoke", f"/v1/keys/{revoked}/revoke", "admin", None, None),
    ]
    out: dict[str, dict[str, Any]] = {}
    with TestClient(create_app(settings)) as client:

        def auth(role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[role]}"}

        for method, template, url, role, body, params in calls:
            headers = auth(role) if role else {}
            r = client.request(method, url, headers=headers, json=body, params=params)
            if r.headers.get("content-type", "").startswith("application/x-ndjson"):
                answer: Any = "\n".join(r.text.splitlines()[:KORT]) + "\n"
            else:
                answer = _cut(r.json())
            if template == "/v1/identity/{deltagande}":  # simulated, but shown as a shape only
                answer["identitet"] = {k: "…" for k in answer["identitet"]}
            entry: dict[str, Any] = {"status": r.status_code, "response": answer}
            if body is not None:
                entry["request"] = _cut(body) if template != "/v1/decisions" else body
            out[f"{method} {template}"] = entry
        cosigned = _cosigned(client.get("/v1/checkpoint", headers=auth("tillsyn")).json()["note"])
        r = client.post("/v1/cosignatures", headers=auth("tillsyn"), json=cosigned)
        out["POST /v1/cosignatures"] = {"status": r.status_code, "response": r.json()}
        out["POST /v1/cosignatures"]["request"] = cosigned
        reason = {"skal": "Gallringsfristen enligt nämndens beslut har löpt ut."}
        url = f"/v1/identity/{full['deltagande']}/gallring"
        r = client.post(url, headers=auth("admin"), json=reason)
        out["POST /v1/identity/{deltagande}/gallring"] = {
            "status": r.status_code,
            "response": r.json(),
            "request": reason,
        }
    return out


def _cosigned(checkpoint_note: str) -> dict[str, str]:
    """A witness's cosignature of the checkpoint (C2SP tlog-cosignature), dated at the
    start of its week as the ledger requires."""
    import nacl.signing

    from iubledger.integrity import note

    key = nacl.signing.SigningKey.generate()
    witness = note.Verifier("kommun.example/vittne", key.verify_key, note.COSIGNATURE_V1)
    body = checkpoint_note.split("\n\n")[0] + "\n"
    sig = note.cosign(body, witness.name, key, 1_764_547_200)  # a Monday, 00:00 UTC
    return {"note": checkpoint_note + sig.line(), "witness": witness.text()}


if __name__ == "__main__":
    Path(str(FIL)).write_text(
        json.dumps(generate(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
