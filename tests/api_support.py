"""Run the API against a seeded ledger: two nämnder's decisions, one key per role.

Test support for the HTTP API tests.
"""

from __future__ import annotations

import copy
import json
import uuid
import warnings
from datetime import date
from typing import Any

from identities import personnummer
from iubledger import catalogs
from iubledger.config import Settings
from iubledger.services import append, decisions, integrity
from iubledger.services.apikeys import ApiKeys
from iubledger.store.ledger import Ledger

KATALOG = "api-namnd"
ANNAN_KATALOG = "api-annan"
UTFORARE = "samtalsstod"
ANNAN_UTFORARE = "annat-stod"
DATUM = date(2025, 11, 3)

#: Insats id in the test katalogs → the shipped insats it copies (its regime and villkor).
INSATSER = {"full": "3.4.6", "radgivning": "3.1.1", "undantag": "3.2.1"}

#: Every role key the tests use: (role, utförare, katalog, insatser).
KEYS: dict[str, tuple[str, str | None, str | None, list[str] | None]] = {
    "admin": ("admin", None, None, None),
    "namnd": ("namnd", None, KATALOG, None),
    "namnd_annan": ("namnd", None, ANNAN_KATALOG, None),
    "utforare": ("utforare", UTFORARE, None, None),
    "utforare_begransad": ("utforare", UTFORARE, None, [f"{KATALOG}/full"]),
    "utforare_annan": ("utforare", ANNAN_UTFORARE, None, None),
    "tillsyn": ("tillsyn", None, None, None),
}


#: Identity values that must never appear in an HTTP response outside identity recovery.
PERSON = {
    "personnummer": personnummer("850312", "123"),
    "namn": "Hélène Sjöström",
    "adress": "Storgatan 12",
    "telefon": "070-123 45 67",
    "epost": "helene@example.se",
    "kon": "kvinna",
    "folkbokford_kommun": "Alingsås",
}


def decision_file(katalog: str, utforare: str, insatser: dict[str, str] = INSATSER) -> str:
    fil = json.loads(catalogs.read("alingsas"))
    shipped = {i["id"]: i for i in fil.pop("insatser")}
    fil["katalog"] = katalog
    fil["insatser"] = []
    for own_id, shipped_id in insatser.items():
        i = copy.deepcopy(shipped[shipped_id])
        i["id"] = own_id
        i["tillhandahalls_av"][0]["utforare"] = [utforare]
        fil["insatser"].append(i)
    return json.dumps(fil, ensure_ascii=False)


def amendment(katalog: str = KATALOG, utforare: str = UTFORARE) -> str:
    """A new version of the `undantag` insats from 2026-01-01 (a decision file)."""
    fil = json.loads(decision_file(katalog, utforare, {"undantag": INSATSER["undantag"]}))
    fil.update(andring=True, diarienummer="2025.099", beslutsdatum="2025-12-01")
    fil["giltig_fran"] = "2026-01-01"
    return json.dumps(fil, ensure_ascii=False)


def event(
    kind: str,
    insats: str = "full",
    *,
    katalog: str = KATALOG,
    utforare: str = UTFORARE,
    datum: date = DATUM,
    **fields: Any,
) -> dict[str, Any]:
    """An utförare event; a `kontakt` says the person was informed (11 kap. 6 § SoL)."""
    ev: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": f"{katalog}/{insats}",
        "utforare": utforare,
        "datum": datum.isoformat(),
    }
    if kind == "kontakt":
        ev["informerad_om_ansokan"] = True
    ev.update(fields)
    return ev


def seed(settings: Settings) -> dict[str, Any]:
    """Decisions of two nämnder, one full_14_3 contact with identity, one key per role.
    Returns {"tokens": {name: key}, "ids": {name: key id}, "position", "deltagande"}."""
    ledger = Ledger(settings)
    try:
        decisions.import_files(
            ledger,
            [
                ("api-namnd", decision_file(KATALOG, UTFORARE)),
                ("api-annan", decision_file(ANNAN_KATALOG, ANNAN_UTFORARE)),
            ],
        )
        result = append.event(ledger, event("kontakt", deltagare=PERSON))
        integrity.checkpoint(ledger)
        keys = ApiKeys.of(ledger)
        tokens, ids = {}, {}
        for name, (roll, org, katalog, insatser) in KEYS.items():
            token, key = keys.create(roll, organisation=org, katalog=katalog, insatser=insatser)
            tokens[name] = token
            ids[name] = key.nyckel_id
    finally:
        ledger.close()
    return {
        "tokens": tokens,
        "ids": ids,
        "position": result["position"],
        "deltagande": result["deltagande"],
    }


def client_for(app: Any) -> Any:
    """Starlette's TestClient (enter it to run the lifespan), without its warning about
    httpx."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # StarletteDeprecationWarning: httpx2 is not pinned
        from fastapi.testclient import TestClient
    return TestClient(app)
