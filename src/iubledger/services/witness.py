"""Tillsyn's witness: fetch the ledger's latest checkpoint and a consistency proof from
the size it cosigned last, verify both, cosign, and hand the cosignature back (C2SP
tlog-witness, tlog-cosignature; G5). Runs on the witness's machine with its own key and
state; it reads the ledger only over HTTP (`/v1/checkpoint`, `/v1/consistency`,
`POST /v1/cosignatures`) or from files the operator hands over."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.note import Verifier
from iubledger.integrity.witness import Witness, WitnessError, check

TIMEOUT = 30


@dataclass(frozen=True)
class Cosigned:
    origin: str
    tree_size: int
    previous: int | None
    note: str
    submitted: bool


class Ledger:
    """The ledger as the witness reaches it: its HTTP API with a tillsyn key."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(  # noqa: S310 - the operator gives the URL
            self.url + path,
            data=data,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
            method="GET" if body is None else "POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise WitnessError(f"the ledger answered {e.code} to {path.split('?')[0]}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise WitnessError(f"the ledger cannot be reached ({type(e).__name__})") from None

    def checkpoint(self) -> Checkpoint:
        try:
            return Checkpoint.from_json(self._call("/v1/checkpoint"))
        except ValueError as e:
            raise WitnessError(f"the ledger's checkpoint: {e}") from None

    def proof(self, old: int, new: int) -> list[bytes]:
        if old in (0, new):
            return []
        data = self._call(f"/v1/consistency?old={old}&new={new}")
        try:
            return [bytes.fromhex(h) for h in data["proof"]]
        except (KeyError, TypeError, ValueError):
            raise WitnessError("the ledger's consistency proof is malformed") from None

    def submit(self, cosigned: str, witness: Verifier) -> None:
        self._call("/v1/cosignatures", {"note": cosigned, "witness": witness.text()})


def cosign_http(folder: Path, log_key: Verifier, ledger: Ledger, *, submit: bool) -> Cosigned:
    """Fetch, verify and cosign the ledger's latest checkpoint; optionally hand it back."""
    witness = Witness(folder)
    cp = ledger.checkpoint()
    seen = witness.seen(cp.origin)
    proof = ledger.proof(seen.size, cp.tree_size) if seen is not None else []
    return _cosign(witness, seen.size if seen else None, cp, log_key, proof, ledger, submit)


def cosign_files(folder: Path, log_key: Verifier, cp: Checkpoint, proof: list[bytes]) -> Cosigned:
    """Verify and cosign a checkpoint handed over as files (with the consistency proof
    from the size the witness cosigned last)."""
    witness = Witness(folder)
    seen = witness.seen(cp.origin)
    return _cosign(witness, seen.size if seen else None, cp, log_key, proof, None, False)


def _cosign(
    witness: Witness,
    previous: int | None,
    cp: Checkpoint,
    log_key: Verifier,
    proof: list[bytes],
    ledger: Ledger | None,
    submit: bool,
) -> Cosigned:
    check(witness.seen(cp.origin), cp, log_key, proof)
    cosigned = witness.cosign(cp, datetime.now(UTC))
    if submit and ledger is not None:
        ledger.submit(cosigned, witness.verifier())
    return Cosigned(cp.origin, cp.tree_size, previous, cosigned, submit)
