"""The endpoints, versioned under /v1. Each names the action its role needs
(`roles.PERMISSIONS`); the service checks ownership where the data is known.

| endpoint | roles |
|---|---|
| POST /v1/events, POST /v1/events/batch | utforare (own organisation, own insatser) |
| GET /v1/receipts/{position} | utforare (own records), namnd (own katalog), tillsyn |
| GET /v1/checkpoint, GET /v1/consistency | utforare, namnd, tillsyn |
| GET /v1/decisions | utforare (decisions naming it), namnd (own katalog), tillsyn |
| POST /v1/decisions, POST /v1/decisions/{katalog}/{insats}/revoke | namnd (own katalog) |
| GET /v1/reports/participation, /effect | namnd (own katalog, suppressed), tillsyn |
| GET /v1/reports/compliance | tillsyn |
| POST /v1/verify, GET /v1/replay, GET /v1/export, GET /v1/audit/identity-access | tillsyn |
| POST /v1/identity/{deltagande} | admin (recorded in the ledger) |
| GET/POST /v1/keys, POST /v1/keys/{id}/revoke | admin |
| GET /v1/whoami | every valid key |
"""

from __future__ import annotations

from fastapi import APIRouter

from iubledger.api.routes import decisions, events, identity, integrity, keys, ops, reports

__all__ = ["ops", "v1"]

# Each resource router carries the /v1 prefix itself: the access log names a request by the
# path its route was declared with, and an including router's prefix is not part of it.
v1 = APIRouter()
for resource in (events, integrity, decisions, reports, identity, keys):
    v1.include_router(resource.router)
