"""One example per operation of the HTTP API, in the OpenAPI document.

The examples are generated once from the simulator (`exempel_generator`: a store of its
own with the Alingsås decisions, a simulated October of utförare events, one key per role,
every operation called as its role would) and kept as the static file `exempel.json`
beside this module, so the document is the same on every server. Regenerate after a
change of the API: `python -m iubledger.api.exempel_generator` (needs the dev
dependencies). Long lists are cut to their first entries; keys and ids are those of the
throw-away store.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

FIL = files("iubledger.api").joinpath("exempel.json")


def load() -> dict[str, dict[str, Any]]:
    """The stored examples: "METHOD path" → {"request"?, "status", "response"}."""
    data: dict[str, dict[str, Any]] = json.loads(FIL.read_text(encoding="utf-8"))
    return data


def attach(doc: dict[str, Any]) -> None:
    """Put each stored example on its operation: the request body's and the response's."""
    examples = load()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            ex = examples.get(f"{method.upper()} {path}")
            if ex is None:
                continue
            if "request" in ex and "requestBody" in op:
                op["requestBody"]["content"]["application/json"]["example"] = ex["request"]
            response = op.get("responses", {}).get(str(ex["status"]))
            if response is not None:
                content = response.setdefault("content", {})
                media = next(iter(content), "application/json")
                content.setdefault(media, {})["example"] = ex["response"]
