"""End to end over real HTTP: `iubledger serve` on a loopback port, keys made with
`iubledger keys create`, driven with httpx.

Done when (issue: HTTP API): with keys for an utförare, a nämnd and tillsyn, the utförare
appends a simulated month, the nämnd reads the participation report, tillsyn runs verify
and reads the compliance report — and each is refused where its role ends. Also: SIGTERM
while an append is in flight lets it finish, then the server exits cleanly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from iubledger import catalogs
from iubledger.cli import app as cli_app
from iubledger.config import Settings
from iubledger.integrity.merkle import leaf_hash, verify_consistency, verify_inclusion
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services.integrity import verify
from iubledger.simulate import simulate
from iubledger.store.ledger import Ledger

UTFORARE = "familjebehandlingen"
INSATSER = ["alingsas/3.4.1", "alingsas/3.4.2", "alingsas/3.4.4"]
IDENTITY = ("personnummer", "namn", "adress", "telefon", "epost")


def _stream(fran: date, till: date) -> list[dict[str, Any]]:
    fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
    return [e for e in simulate(fil, fran, till, 1, 1.0) if e["utforare"] == UTFORARE]


def _identity_values(events: list[dict[str, Any]]) -> set[str]:
    return {
        str(e["deltagare"][f])
        for e in events
        if isinstance(e.get("deltagare"), dict)
        for f in IDENTITY
        if f in e["deltagare"]
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    settings: Settings

    def client(self, role: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def _cli(settings: Settings, *args: str) -> dict[str, Any]:
    base = ["--data-dir", str(settings.data_dir), "--db", settings.database_url, "--json"]
    result = CliRunner().invoke(cli_app, [*base, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def server(tmp_path: Path, _initialised_data_dir: Path) -> Iterator[Server]:
    root = tmp_path / "d"
    shutil.copytree(_initialised_data_dir, root)
    settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")
    insats_args = [a for i in INSATSER for a in ("--insats", i)]
    tokens = {
        "utforare": _cli(
            settings, "keys", "create", "--role", "utforare", "--utforare", UTFORARE, *insats_args
        )["nyckel"],
        "namnd": _cli(settings, "keys", "create", "--role", "namnd", "--katalog", "alingsas")[
            "nyckel"
        ],
        "tillsyn": _cli(settings, "keys", "create", "--role", "tillsyn")["nyckel"],
        "admin": _cli(settings, "keys", "create", "--role", "admin")["nyckel"],
    }
    port = _free_port()
    log = tmp_path / "server.log"
    exe = Path(sys.executable).with_name("iubledger")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "iubledger.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IUBLEDGER_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *command,
                "--data-dir",
                str(root),
                "--db",
                settings.database_url,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    s = Server(url, tokens, proc, log, settings)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)
        yield s
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _import_decisions(s: Server) -> None:
    with s.client("namnd") as namnd:
        r = namnd.post(
            "/v1/decisions",
            content=catalogs.read("alingsas").encode(),
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 201, r.text
    assert len(r.json()["imported"]) == 25


def test_done_when_each_role_over_http(server: Server) -> None:
    s = server
    _import_decisions(s)
    month = _stream(date(2025, 10, 1), date(2025, 10, 31))
    assert len(month) > 40
    pii = _identity_values(month)
    assert pii
    seen: list[str] = []  # every response body, checked for identity at the end

    with s.client("utforare") as utf, s.client("namnd") as namnd, s.client("tillsyn") as tillsyn:
        early = tillsyn.get("/v1/checkpoint").json()

        # -- the utförare appends the month: a few one by one, the rest in batches --------
        results = []
        for ev in month[:5]:
            r = utf.post("/v1/events", json=ev)
            assert r.status_code == 201, r.text
            seen.append(r.text)
            results.append(r.json())
        rest = month[5:]
        for i in range(0, len(rest), 20):
            last = i + 20 >= len(rest)
            r = utf.post(
                "/v1/events/batch", json={"events": rest[i : i + 20]}, params={"sign": last}
            )
            assert r.status_code == 200, r.text
            seen.append(r.text)
            body = r.json()
            assert body["refused"] == 0, body
            results.extend(body["results"])
        assert len(results) == len(month)
        signed = results[-1]["receipt"]
        assert signed is not None
        assert verify_inclusion(
            bytes.fromhex(signed["leaf_hash"]),
            signed["position"],
            signed["checkpoint"]["tree_size"],
            [bytes.fromhex(h) for h in signed["proof"]],
            bytes.fromhex(signed["checkpoint"]["root"]),
        )
        again = utf.post("/v1/events/batch", json={"events": rest[:20]}).json()
        assert [x["position"] for x in again["results"]] == [x["position"] for x in results[5:25]]

        # Concurrent appends from many connections: serialised, none lost, none doubled.
        contacts = [
            {
                "id": str(uuid.uuid4()),
                "type": "kontakt",
                "insats": INSATSER[1],
                "utforare": UTFORARE,
                "datum": "2025-10-31",
                "informerad_om_ansokan": True,
            }
            for _ in range(24)
        ]

        def post(ev: dict[str, Any]) -> httpx.Response:
            with s.client("utforare") as c:
                return c.post("/v1/events", json=ev)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(post, contacts))
        assert [a.status_code for a in answers] == [201] * len(contacts)
        assert len({a.json()["position"] for a in answers}) == len(contacts)

        first = results[0]["position"]
        receipt = utf.get(f"/v1/receipts/{first}")
        assert receipt.status_code == 200
        assert receipt.json()["leaf_hash"] != leaf_hash(b"").hex()

        # -- where the utförare's role ends ---------------------------------------------
        other = {**month[0], "utforare": "medling", "insats": "alingsas/3.1.12"}
        assert utf.post("/v1/events", json=other).status_code == 403
        not_registered = {**month[0], "insats": "alingsas/3.4.6"}
        assert utf.post("/v1/events", json=not_registered).status_code == 403
        assert utf.get("/v1/reports/participation").status_code == 403
        assert utf.get("/v1/reports/compliance").status_code == 403
        assert utf.post("/v1/verify").status_code == 403
        assert utf.get("/v1/export").status_code == 403
        assert utf.get("/v1/receipts/0").status_code == 403  # a decision record, not its own

        # -- the nämnd reads the participation report -------------------------------------
        report = namnd.get("/v1/reports/participation", params={"from": "2025-10-01"})
        assert report.status_code == 200, report.text
        seen.append(report.text)
        data = report.json()
        assert data["skydd"]["exakta_tal"] is False
        ids = {i["insats"] for i in data["insatser"]}
        assert set(INSATSER) <= ids
        html = namnd.get(
            "/v1/reports/participation", params={"from": "2025-10-01", "format": "html"}
        )
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        assert "<html" in html.text
        seen.append(html.text)
        effect = namnd.get("/v1/reports/effect")
        assert effect.status_code == 200
        seen.append(effect.text)
        # -- where the nämnd's role ends -------------------------------------------------
        assert namnd.post("/v1/events", json=month[0]).status_code == 403
        own = namnd.get("/v1/reports/compliance")  # its egenkontroll: its own katalog only
        assert own.status_code == 200, own.text
        assert {i["insats"].split("/")[0] for i in own.json()["insatser"]} == {"alingsas"}
        seen.append(own.text)
        assert namnd.post("/v1/verify").status_code == 403
        assert namnd.get("/v1/export").status_code == 403
        deltagande = results[0]["deltagande"]
        assert (
            namnd.post(f"/v1/identity/{deltagande}", json={"skal": "Vill veta vem."}).status_code
            == 403
        )

        # -- tillsyn verifies and reads the compliance report -------------------------------
        v = tillsyn.post("/v1/verify", json={"checkpoint": early})
        assert v.status_code == 200, v.text
        assert v.json()["ok"] is True, v.json()
        later = tillsyn.get("/v1/checkpoint").json()
        assert v.json()["records"] >= later["tree_size"] - 1
        proof = tillsyn.get(
            "/v1/consistency", params={"old": early["tree_size"], "new": later["tree_size"]}
        ).json()["proof"]
        assert verify_consistency(
            early["tree_size"],
            later["tree_size"],
            bytes.fromhex(early["root"]),
            bytes.fromhex(later["root"]),
            [bytes.fromhex(h) for h in proof],
        )
        compliance = tillsyn.get("/v1/reports/compliance", params={"from": "2025-10-01"})
        assert compliance.status_code == 200, compliance.text
        assert compliance.json()["rapport"] == "efterlevnad"
        seen.append(compliance.text)
        chtml = tillsyn.get("/v1/reports/compliance", params={"format": "html"})
        assert chtml.status_code == 200
        seen.append(chtml.text)
        exported = tillsyn.get("/v1/export")
        assert exported.headers["content-type"].startswith("application/x-ndjson")
        assert len(exported.text.splitlines()) >= later["tree_size"]
        seen.append(exported.text)
        replayed = tillsyn.get("/v1/replay", params={"as_of": "2025-10-15"})
        assert replayed.status_code == 200
        seen.append(replayed.text)
        # -- where tillsyn's role ends ---------------------------------------------------------
        assert tillsyn.post("/v1/events", json=month[0]).status_code == 403
        assert (
            tillsyn.post(
                "/v1/decisions",
                content=catalogs.read("alingsas").encode(),
                headers={"Content-Type": "application/json"},
            ).status_code
            == 403
        )
        assert (
            tillsyn.post(f"/v1/identity/{deltagande}", json={"skal": "Granskning."}).status_code
            == 403
        )
        assert tillsyn.get("/v1/keys").status_code == 403

    with s.client(None) as anonymous:
        r = anonymous.get("/v1/checkpoint")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"

    # G1 over HTTP: no identity value from the month in any response, nor in the log.
    text = "\n".join(seen)
    assert not sorted(v for v in pii if v in text)
    log = s.log.read_text(encoding="utf-8")
    assert not sorted(v for v in pii if v in log)
    assert "Traceback" not in log
    assert '"route": "/v1/events/batch"' in log
    assert "sign=" not in log  # no query strings in the access log


def test_sigterm_finishes_the_append_in_flight(server: Server) -> None:
    s = server
    _import_decisions(s)
    events = _stream(date(2025, 10, 1), date(2025, 11, 30))
    payload = json.dumps({"events": events}).encode()
    started, go_on = threading.Event(), threading.Event()
    answer: dict[str, Any] = {}

    def body() -> Iterator[bytes]:
        yield payload[:200]
        started.set()
        go_on.wait(20)
        yield payload[200:]

    def send() -> None:
        try:
            with s.client("utforare") as utf:
                answer["r"] = utf.post(
                    "/v1/events/batch",
                    content=body(),
                    headers={"Content-Type": "application/json"},
                )
        except Exception as e:  # reported below
            answer["error"] = e

    t = threading.Thread(target=send)
    t.start()
    assert started.wait(10)
    time.sleep(0.5)  # the server has the request's head: the request is in flight
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    go_on.set()
    t.join(60)
    assert "error" not in answer, answer.get("error")
    r = answer["r"]
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(events)
    # uvicorn shuts down gracefully, then re-raises the signal: exit by SIGTERM.
    assert s.proc.wait(30) in (0, -signal.SIGTERM)
    log = s.log.read_text(encoding="utf-8")
    assert "Traceback" not in log
    answered = log.index('"route": "/v1/events/batch"')
    assert log.index("Shutting down") < answered < log.index("Application shutdown complete")

    ledger = Ledger(s.settings)
    try:
        result = verify(ledger)
        assert result.ok
        positions = [x["position"] for x in r.json()["results"]]
        assert result.records > max(positions)
    finally:
        ledger.close()
