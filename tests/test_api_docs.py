"""The API's documentation: every field and parameter described (in Swedish), an example
per operation taken from the simulator, `/docs` and `/redoc` from files shipped in the
package (no other host), problem titles in Swedish with a stable `type` per rule."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api_support import KATALOG, UTFORARE, client_for, event, seed
from iubledger import catalogs
from iubledger.api import exempel
from iubledger.api.app import create_app
from iubledger.config import Settings
from iubledger.schemas.beslut import BeslutsFil
from iubledger.schemas.handelser import HANDELSE
from iubledger.simulate import main_lines


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, _initialised_data_dir: Path
) -> Iterator[tuple[Any, dict[str, str]]]:
    root = tmp_path_factory.mktemp("api-docs") / "d"
    shutil.copytree(_initialised_data_dir, root)
    settings = Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")
    tokens = seed(settings)["tokens"]
    with client_for(create_app(settings)) as client:
        yield client, tokens


@pytest.fixture(scope="module")
def doc(api: tuple[Any, dict[str, str]]) -> dict[str, Any]:
    client, _ = api
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def undescribed(name: str, schema: Any, path: str = "") -> Iterator[str]:
    """Every property (at any depth) without a description."""
    if not isinstance(schema, dict):
        return
    for prop, sub in (schema.get("properties") or {}).items():
        if not str(sub.get("description", "")).strip():
            yield f"{name}{path}.{prop}"
        yield from undescribed(name, sub, f"{path}.{prop}")
    for key in ("items", "additionalProperties"):
        yield from undescribed(name, schema.get(key), f"{path}[]")
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or []:
            yield from undescribed(name, sub, path)


def test_every_property_and_parameter_has_a_description(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    missing = [p for name, s in schemas.items() for p in undescribed(name, s)]
    assert not missing, missing
    counted = sum(1 for s in schemas.values() for _ in _properties(s))
    assert counted > 250  # the walk reached the nested shapes (events, decision files)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for p in op.get("parameters", []):
                assert p.get("description"), (method, path, p["name"])


def _properties(schema: Any) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    for prop, sub in (schema.get("properties") or {}).items():
        yield prop
        yield from _properties(sub)
    for key in ("items", "additionalProperties"):
        yield from _properties(schema.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or []:
            yield from _properties(sub)


def test_every_operation_has_an_example(doc: dict[str, Any]) -> None:
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            bodies = [
                media
                for part in (op.get("requestBody", {}), *op["responses"].values())
                for media in part.get("content", {}).values()
                if "example" in media
            ]
            assert bodies, f"{method.upper()} {path} has no example"
            if "requestBody" in op:
                content = op["requestBody"]["content"]["application/json"]
                assert "example" in content, f"{method.upper()} {path}: no request example"


def test_the_examples_come_from_the_simulator() -> None:
    """The event examples are lines the simulator makes, and valid events."""
    fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
    simulated = [
        json.loads(x) for x in main_lines(fil, date(2025, 10, 1), date(2025, 10, 31), 1, 0.3)
    ]
    stored = exempel.load()
    one = stored["POST /v1/events"]["request"]
    many = stored["POST /v1/events/batch"]["request"]["events"]
    for e in (one, *many):
        assert e in simulated
        HANDELSE.validate_json(json.dumps(e))
    assert stored["POST /v1/events"]["status"] == 201
    assert all(200 <= x["status"] < 300 for x in stored.values()), {
        k: x["status"] for k, x in stored.items()
    }


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_are_served_from_the_package(api: tuple[Any, dict[str, str]], page: str) -> None:
    client, _ = api
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in r.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs and all(ref.startswith("/docs/static/") for ref in refs), refs
    assert "//" not in "".join(refs)
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 1000, ref


def test_a_problem_has_a_swedish_title_and_a_type_per_rule(
    api: tuple[Any, dict[str, str]],
) -> None:
    client, tokens = api
    later = datetime.now(UTC).date() + timedelta(days=30)
    bad = event("kontakt", datum=later)
    assert bad["insats"].startswith(KATALOG) and bad["utforare"] == UTFORARE
    r = client.post(
        "/v1/events", json=bad, headers={"Authorization": f"Bearer {tokens['utforare']}"}
    )
    assert r.status_code == 422
    p = r.json()
    assert p["type"] == "urn:iubledger:problem:datum_i_framtiden"
    assert p["title"] == "Uppgifterna avvisades"
    assert [(e["code"], e["field"]) for e in p["errors"]] == [("datum_i_framtiden", "datum")]
    assert later.isoformat() not in r.text
    r = client.get("/v1/checkpoint")
    assert r.status_code == 401
    assert r.json()["title"] == "Giltig API-nyckel krävs"
    assert r.json()["type"] == "urn:iubledger:problem:autentisering"
