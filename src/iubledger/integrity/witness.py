"""A witness (C2SP tlog-witness, tlog-cosignature): a party other than the operator — a
kommun's egenkontroll, IVO — that keeps, per log origin, the size and root it last
cosigned, and cosigns a new checkpoint only when a consistency proof (RFC 9162 § 2.1.4)
shows it extends that one. A rewritten log can then no longer get a cosignature, and one
cosigned earlier contradicts it (G5).

The witness's own folder holds its Ed25519 key (`witness.key`, 0600), its name and its
state (`state.json`). Cosignature times are truncated to the start of the ISO week: no
stored or signed time dates records finer than a week (14 kap. 5 § SoL, G8).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nacl.signing

from iubledger.integrity import note
from iubledger.integrity.checkpoints import Checkpoint, signature_ok
from iubledger.integrity.merkle import verify_consistency

KEY = "witness.key"
NAME = "name"
STATE = "state.json"


class WitnessError(ValueError):
    """A checkpoint the witness will not cosign, or a witness folder it cannot use; the
    message says which, in one line."""


@dataclass(frozen=True)
class Seen:
    """The size and root a witness last cosigned for one origin."""

    size: int
    root: bytes


def week_timestamp(moment: datetime) -> int:
    """POSIX time of the start of the ISO week of `moment` (Monday 00:00 UTC)."""
    day = moment.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return int(datetime(monday.year, monday.month, monday.day, tzinfo=UTC).timestamp())


def check(
    seen: Seen | None, cp: Checkpoint, log_key: note.Verifier, proof: Sequence[bytes]
) -> None:
    """Raise WitnessError unless `cp` is signed by the log's key and extends what the
    witness cosigned before (the first checkpoint of an origin is taken as it is)."""
    if not signature_ok(cp, log_key) or cp.legacy:
        raise WitnessError("the checkpoint is not signed by the log's key")
    if seen is None:
        return
    if cp.tree_size < seen.size:
        raise WitnessError(
            f"the log shrank: size {cp.tree_size} after size {seen.size} was cosigned"
        )
    if not verify_consistency(seen.size, cp.tree_size, seen.root, bytes.fromhex(cp.root), proof):
        raise WitnessError(
            f"the checkpoint of size {cp.tree_size} does not extend the one cosigned at size "
            f"{seen.size}: the log was rewritten"
        )


class Witness:
    """The witness's folder: key, name, state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def init(self, name: str) -> bool:
        """Create the key and name (never overwrites); True when created."""
        if (self.folder / KEY).exists():
            return False
        if not name or any(c.isspace() or c == "+" for c in name):
            raise WitnessError("the witness name has no spaces and no '+'")
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write(self.folder / KEY, bytes(nacl.signing.SigningKey.generate()))
        _write(self.folder / NAME, name.encode())
        _write(self.folder / STATE, b"{}")
        return True

    def _read(self, name: str) -> bytes:
        path = self.folder / name
        try:
            if path.stat().st_mode & 0o077:
                raise WitnessError(f"{path} is readable by others: chmod 600 it")
            return path.read_bytes()
        except OSError as e:
            raise WitnessError(f"{path} cannot be read ({e.strerror})") from None

    def key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self._read(KEY))

    def verifier(self) -> note.Verifier:
        """The witness's public key (signature type 0x04, tlog-cosignature)."""
        name = self._read(NAME).decode().strip()
        return note.Verifier(name, self.key().verify_key, note.COSIGNATURE_V1)

    def seen(self, origin: str) -> Seen | None:
        try:
            entry = json.loads(self._read(STATE)).get(origin)
            return None if entry is None else Seen(entry["size"], bytes.fromhex(entry["root"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WitnessError(f"{self.folder / STATE} is malformed") from None

    def cosign(self, cp: Checkpoint, now: datetime) -> str:
        """Cosign `cp` (already checked) and remember it; returns the cosigned note."""
        v = self.verifier()
        sig = note.cosign(cp.body().text(), v.name, self.key(), week_timestamp(now))
        state = json.loads(self._read(STATE))
        state[cp.origin] = {"size": cp.tree_size, "root": cp.root}
        tmp = self.folder / (STATE + ".tmp")
        tmp.unlink(missing_ok=True)
        _write(tmp, json.dumps(state, indent=2).encode())
        os.replace(tmp, self.folder / STATE)
        return cp.note() + sig.line()


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
