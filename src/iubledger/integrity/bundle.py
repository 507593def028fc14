"""Audit bundles: the records exactly as stored (ciphertext included), the signed
checkpoints and the witness cosignatures, in a folder an auditor verifies offline with
the ledger's public key alone — no data dir, no database, no private key (G5).

Files: `records.jsonl` (one stored row per line: id, originator_id, originator_version,
topic, base64 state, and the leaf hash the log holds for it, in log order),
`checkpoints.jsonl` (one checkpoint per line, as `checkpoint --json` prints it),
`cosignatures.jsonl` (the cosigned checkpoint text, the cosignature line and the
witness's verifier key).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.cosignatures import Cosignature
from iubledger.integrity.merkle import CompactRange
from iubledger.integrity.note import Body, Note, NoteError, Verifier
from iubledger.integrity.verify import Node, Source

RECORDS = "records.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
COSIGNATURES = "cosignatures.jsonl"
PAGE = 2000


class BundleError(ValueError):
    """A bundle folder that cannot be read: the message names the file and line."""


class Row(NamedTuple):
    id: int
    originator_id: Any
    originator_version: Any
    topic: Any
    state: Any


def write(out: Path, source: Source) -> int:
    """Write the bundle of `source` (the store's snapshot) into the new folder `out`;
    returns the number of records."""
    out.mkdir(parents=True, exist_ok=False)
    n = 0
    with (out / RECORDS).open("w", encoding="utf-8") as f:
        for rows in source.pages():
            logged = source.nodes(n, n + len(rows)) or {}
            for r in rows:
                oid = r.originator_id
                oid = UUID(bytes=bytes(oid)) if isinstance(oid, bytes | memoryview) else oid
                line = {
                    "id": r.id,
                    "originator_id": str(oid),
                    "originator_version": r.originator_version,
                    "topic": r.topic,
                    "state": base64.b64encode(bytes(r.state)).decode(),
                    "leaf": logged[(0, n)].hex() if (0, n) in logged else None,
                }
                f.write(json.dumps(line) + "\n")
                n += 1
    with (out / CHECKPOINTS).open("w", encoding="utf-8") as f:
        for cp in source.checkpoints():
            f.write(json.dumps(cp.as_json(), ensure_ascii=False) + "\n")
    with (out / COSIGNATURES).open("w", encoding="utf-8") as f:
        for c in source.cosignatures()[0]:
            line = {
                "checkpoint": c.body.text(),
                "cosignature": c.line(),
                "verifier": c.witness.text(),
            }
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return n


class BundleSource:
    """verify's `Source` over a bundle folder: the leaves the log held, nothing to decode."""

    interior = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for name in (RECORDS, CHECKPOINTS, COSIGNATURES):
            if not (folder / name).is_file():
                raise BundleError(f"{folder}: not an audit bundle ({name} is missing)")
        self._leaves: dict[int, bytes] = {}

    def _lines(self, name: str) -> Iterator[tuple[int, Any]]:
        try:
            with (self.folder / name).open(encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    yield number, json.loads(line)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise BundleError(f"{name} cannot be read ({type(e).__name__})") from None

    def checkpoints(self) -> list[Checkpoint]:
        found = []
        for number, data in self._lines(CHECKPOINTS):
            try:
                found.append(Checkpoint.from_json(data))
            except (ValueError, AttributeError):
                raise BundleError(f"{CHECKPOINTS} line {number}: not a checkpoint") from None
        return sorted(found, key=lambda cp: cp.tree_size)

    def cosignatures(self) -> tuple[list[Cosignature], int]:
        found, lines = [], 0
        for _, data in self._lines(COSIGNATURES):
            lines += 1
            try:
                witness = Verifier.parse(data["verifier"])
                body = Body.parse(data["checkpoint"])
                (sig,) = Note.parse(data["checkpoint"] + "\n" + data["cosignature"]).signatures
            except (NoteError, KeyError, TypeError, ValueError):
                continue
            found.append(Cosignature(body, witness, sig))
        return found, lines

    def logged(self) -> CompactRange | int | None:
        """The tree over the leaves the bundle says the log held (streamed once)."""
        tree = CompactRange()
        for _, d in self._lines(RECORDS):
            tree.append(_hash(d.get("leaf") if isinstance(d, dict) else None))
        return tree

    def pages(self) -> Iterator[list[Any]]:
        page: list[Row] = []
        for number, d in self._lines(RECORDS):
            self._leaves[number - 1] = _hash(d.get("leaf") if isinstance(d, dict) else None)
            try:
                page.append(
                    Row(
                        number,
                        d["originator_id"],
                        d["originator_version"],
                        d["topic"],
                        base64.b64decode(d["state"], validate=True),
                    )
                )
            except (KeyError, TypeError, ValueError):
                page.append(Row(number, None, None, None, None))
            if len(page) == PAGE:
                yield page
                page = []
        if page:
            yield page

    def nodes(self, start: int, end: int) -> dict[Node, bytes] | None:
        """The logged leaves of the page just read (then forgotten: memory stays flat)."""
        found = {(0, i): self._leaves.pop(i) for i in range(start, end) if i in self._leaves}
        return found


def _hash(value: Any) -> bytes:
    """A logged leaf as given (hex), or 32 zero bytes when missing or malformed."""
    try:
        h = bytes.fromhex(value)
    except (TypeError, ValueError):
        return bytes(32)
    return h if len(h) == 32 else bytes(32)
