"""Keyed look-ups and per-subject seals (G2, G3).

A hash of a personnummer is not anonymous (~10^10 candidates), so a look-up of a person is
keyed BLAKE2b with a key per nämnd and purpose kept outside the event store, and it is kept
only in the key store, never in the log: gallring deletes it. Seals are
XChaCha20-Poly1305 under a key per subject; deleting that key (gallring) shreds them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import nacl.exceptions
import nacl.secret

UPPSLAG_PERSON = b"iub-uppslag-1"


def keyed_hash(key: bytes, data: bytes, *, size: int = 32, person: bytes = b"") -> bytes:
    """Keyed BLAKE2b (RFC 7693), the same function as libsodium's generichash."""
    return hashlib.blake2b(data, key=key, digest_size=size, person=person).digest()


def uppslag(key: bytes, normalised: str) -> bytes:
    """Keyed BLAKE2b of a normalised identifier: the key store's look-up of a person
    within one nämnd; never stored in the log."""
    return keyed_hash(key, normalised.encode(), person=UPPSLAG_PERSON)


def seal(key: bytes, subject: str, payload: dict[str, Any]) -> str:
    """Encrypt `payload` for one subject; the subject id is bound as associated data."""
    box = nacl.secret.Aead(key)
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    return base64.b64encode(box.encrypt(data, aad=subject.encode())).decode()


class SealError(ValueError):
    """A seal does not open: wrong subject key, or the seal was altered."""


def open_seal(key: bytes, subject: str, sealed: str) -> dict[str, Any]:
    box = nacl.secret.Aead(key)
    try:
        data = box.decrypt(base64.b64decode(sealed), aad=subject.encode())
    except nacl.exceptions.CryptoError:
        raise SealError("the seal does not open with this subject key") from None
    payload: dict[str, Any] = json.loads(data)  # `seal` wrote a JSON object
    return payload
