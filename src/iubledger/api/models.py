"""Request and response shapes of the HTTP API, and the OpenAPI document built from them.

Request bodies are read as bytes and validated by the ledger's own strict models
(`validate_json`: strict, unknown fields refused, input hidden in errors), exactly as the
command line does; their JSON Schema is added to the OpenAPI document here, so the
document describes what is enforced.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from iubledger.schemas.base import Input, ShortText, Slug
from iubledger.schemas.beslut import BeslutsFil
from iubledger.schemas.handelser import HANDELSE, InsatsRef

REF = "#/components/schemas/{model}"
#: JSON Schemas of the request bodies, merged into the OpenAPI components.
SCHEMAS: dict[str, dict[str, Any]] = {}


def _register(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    for k, v in schema.pop("$defs", {}).items():
        if SCHEMAS.setdefault(k, v) != v:
            raise RuntimeError(f"two request schemas are called {k}")
    SCHEMAS[name] = schema
    return {"$ref": REF.format(model=name)}


def body(
    name: str, model: type[BaseModel] | TypeAdapter[Any], *, required: bool = True
) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON request body validated by `model`."""
    schema = (
        model.json_schema(ref_template=REF)
        if isinstance(model, TypeAdapter)
        else model.model_json_schema(ref_template=REF)
    )
    ref = _register(name, schema)
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": ref}},
        }
    }


EVENT_BODY = body("UtforarHandelse", HANDELSE)
DECISION_BODY = body("BeslutsFil", BeslutsFil)


#: The batch envelope; `maxItems` is set from the server's `--max-batch` in the document.
BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": _register(
                    "Batch",
                    {
                        "title": "Batch",
                        "type": "object",
                        "properties": {
                            "events": {
                                "type": "array",
                                "items": {"$ref": REF.format(model="UtforarHandelse")},
                                "minItems": 1,
                                "maxItems": 1000,
                            }
                        },
                        "required": ["events"],
                        "additionalProperties": False,
                    },
                )
            }
        },
    }
}


# -- requests ----------------------------------------------------------------------------


class Batch(Input):
    """Many utförare events; each is validated and stored on its own (atomic per event)."""

    events: list[Any] = Field(min_length=1)


Skal = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]


class RevokeRequest(Input):
    """Revoke a decision from `fran` (the first day no longer in force), with the reason."""

    fran: date
    skal: Skal


class IdentityRequest(Input):
    """Why the sealed identity is opened: recorded in the ledger, visible to tillsyn."""

    skal: Skal


class GallringRequest(Input):
    """Why the participation is gallrad: recorded in the ledger, visible to tillsyn."""

    skal: Skal


class CheckpointIn(Input):
    """A checkpoint an auditor saved earlier (`GET /v1/checkpoint`): its signed note, or
    the fields of the earlier form."""

    origin: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    tree_size: int | None = Field(default=None, ge=1)
    root: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    timestamp: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}([0-9a-f]{8})?$")] | None = None
    signature: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{86}==$")] | None = None
    every: int | None = Field(default=None, ge=1)
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class CosignatureIn(Input):
    """A witness's cosignature: the cosigned checkpoint note and the witness's verifier
    key (C2SP tlog-cosignature)."""

    note: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    witness: Annotated[str, StringConstraints(min_length=1, max_length=400)]


class VerifyRequest(Input):
    checkpoint: CheckpointIn | None = None


class KeyRequest(Input):
    """A new API key (admin): the role and what it is limited to."""

    roll: Literal["admin", "namnd", "utforare", "tillsyn"]
    utforare: Slug | None = None
    katalog: Slug | None = None
    insatser: list[InsatsRef] | None = Field(default=None, min_length=1, max_length=200)
    beskrivning: ShortText | None = None


REVOKE_BODY = body("RevokeRequest", RevokeRequest)
IDENTITY_BODY = body("IdentityRequest", IdentityRequest)
GALLRING_BODY = body("GallringRequest", GallringRequest)
VERIFY_BODY = body("VerifyRequest", VerifyRequest, required=False)
COSIGNATURE_BODY = body("CosignatureIn", CosignatureIn)
KEY_BODY = body("KeyRequest", KeyRequest)


# -- responses ---------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemItem(Out):
    code: str
    field: str
    message: str


class ProblemOut(Out):
    """RFC 9457 problem details; `errors` name field and rule, never a value."""

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str
    errors: list[ProblemItem] = []


class Health(Out):
    status: Literal["ok", "ej_redo"]


class CheckpointOut(Out):
    origin: str
    tree_size: int
    root: str
    timestamp: str
    key_id: str
    signature: str
    every: int | None = None
    note: str | None = None


class CosignatureOut(Out):
    witness: str
    tree_size: int


class ReceiptOut(Out):
    """Inclusion proof (RFC 9162) of the record at `position` against a signed checkpoint."""

    position: int
    leaf_hash: str
    proof: list[str]
    checkpoint: CheckpointOut


class Appended(Out):
    ok: Literal[True] = True
    event_id: str
    position: int
    #: The participation, for follow-ups; under 14 kap. 5 § and aggregat answered once.
    deltagande: str | None = None
    #: Under 14 kap. 5 § SoL, the code handed to the participant at start; shown once.
    besokskod: str | None = None
    receipt: ReceiptOut | None = None


class BatchItem(Out):
    index: int
    ok: bool
    event_id: str | None = None
    position: int | None = None
    deltagande: str | None = None
    besokskod: str | None = None
    receipt: ReceiptOut | None = None
    status: int | None = None
    error: ProblemItem | None = None
    problems: list[ProblemItem] | None = None


class BatchOut(Out):
    accepted: int
    refused: int
    results: list[BatchItem]


class ConsistencyOut(Out):
    old_size: int
    new_size: int
    proof: list[str]


class DecisionEntry(Out):
    typ: Literal["version", "upphavande"]
    beslut: str
    version: int
    giltig_fran: str | None = None
    giltig_till: str | None = None
    beslut_header: dict[str, str | None] | None = None
    insats: dict[str, Any] | None = None
    registrerad: str | None = None
    fran: str | None = None
    skal: str | None = None


class DecisionVersion(Out):
    beslut: str
    version: int


class ImportOut(Out):
    imported: list[DecisionVersion]


class FindingOut(Out):
    position: int | None
    rule: str
    message: str


class VerifyOut(Out):
    ok: bool
    records: int
    logged: int
    checkpoints_checked: int
    witnessed: dict[str, int]
    notes: list[str]
    first_bad_position: int | None
    findings: list[FindingOut]


class AccessOut(Out):
    """One recorded identity recovery or gallring (`atgard`): who (role, key id), when,
    which, why, outcome, and the retention rule of a gallring by rule."""

    tidpunkt: str
    atgard: Literal["oppning", "gallring"]
    roll: str
    nyckel_id: str | None
    deltagande: str
    skal: str
    utfall: str
    regel: str | None


class GallringOut(Out):
    deltagande: str
    gallrad: bool


class IdentityOut(Out):
    deltagande: str
    identitet: dict[str, Any]
    atkomst: AccessOut


class KeyOut(Out):
    nyckel_id: str
    roll: str
    utforare: str | None
    katalog: str | None
    insatser: list[str] | None
    beskrivning: str | None
    skapad: str
    aterkallad: str | None


class KeyCreated(KeyOut):
    nyckel: str = Field(description="The key itself: shown once, stored only as a keyed hash")
