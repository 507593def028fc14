"""Signed notes (C2SP signed-note), checkpoints (C2SP tlog-checkpoint) and Ed25519
cosignatures (C2SP tlog-cosignature v1): the text forms any transparency-log tool reads.

Pure functions over text and keys; no store, no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

ED25519 = 0x01  # signed-note signature type of an Ed25519 note signature
COSIGNATURE_V1 = 0x04  # tlog-cosignature: Ed25519 cosignature/v1
DASH = "\u2014 "  # EM DASH and space open every signature line

_NAME = re.compile(r"^[^\s+]+$")


class NoteError(ValueError):
    """Text that is not a well-formed signed note, checkpoint or verifier key."""


def key_hash(name: str, kind: int, public: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || type || public key)[:4] (signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key of a given signature type (0x01 log, 0x04 cosigner)."""

    name: str
    key: nacl.signing.VerifyKey
    kind: int = ED25519

    @property
    def key_id(self) -> bytes:
        return key_hash(self.name, self.kind, bytes(self.key))

    def text(self) -> str:
        """The verifier key string: <name>+<hex key ID>+<base64(type || public key)>."""
        material = base64.b64encode(bytes([self.kind]) + bytes(self.key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """A verifier key string; NoteError when malformed or its key ID does not match."""
        parts = text.strip().split("+", 2)  # the name and key id hold no '+', the key may
        if len(parts) != 3 or not _NAME.match(parts[0]):
            raise NoteError("not a verifier key: expected <name>+<key id>+<key>")
        try:
            material = base64.b64decode(parts[2], validate=True)
            key_id = bytes.fromhex(parts[1])
        except (binascii.Error, ValueError):
            raise NoteError("not a verifier key: key id or key not encoded") from None
        if len(material) != 33 or material[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("not a verifier key: only Ed25519 keys are supported")
        v = cls(parts[0], nacl.signing.VerifyKey(material[1:]), material[0])
        if v.key_id != key_id:
            raise NoteError("not a verifier key: the key id does not match the key")
        return v


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    """A note: its text (every line newline-terminated) and its signature lines."""

    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    @classmethod
    def parse(cls, data: str) -> Note:
        """Split a signed note at its last blank line; NoteError when malformed."""
        text, sep, sigs = data.rpartition("\n\n")
        if not sep or not text or "\r" in data:
            raise NoteError("not a signed note: no blank line before the signatures")
        text += "\n"
        lines = sigs.split("\n")
        if lines[-1] != "" or len(lines) < 2:
            raise NoteError("not a signed note: the last signature line has no newline")
        parsed = []
        for line in lines[:-1]:
            if not line.startswith(DASH):
                raise NoteError("not a signed note: a signature line must start with an em dash")
            name, _, b64 = line[len(DASH) :].partition(" ")
            try:
                raw = base64.b64decode(b64, validate=True)
            except binascii.Error:
                raise NoteError("not a signed note: a signature is not base64") from None
            if not _NAME.match(name) or len(raw) < 5:
                raise NoteError("not a signed note: a signature line is malformed")
            parsed.append(Signature(name, raw[:4], raw[4:]))
        return cls(text, tuple(parsed))

    def signed_by(self, verifier: Verifier) -> bool:
        """Whether a signature line of `verifier` (name and key ID) verifies."""
        for s in self.signatures:
            if s.name == verifier.name and s.key_id == verifier.key_id:
                try:
                    verifier.key.verify(self.text.encode(), s.signature)
                except (nacl.exceptions.BadSignatureError, ValueError):
                    return False
                return True
        return False


def sign(text: str, name: str, key: nacl.signing.SigningKey) -> Signature:
    """An Ed25519 note signature over the note text."""
    return Signature(
        name, key_hash(name, ED25519, bytes(key.verify_key)), key.sign(text.encode()).signature
    )


# -- tlog-checkpoint ------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """The note text of a checkpoint: origin, tree size, base64 root, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(f"{line}\n" for line in [*lines, *self.extensions])

    @classmethod
    def parse(cls, text: str) -> Body:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
            raise NoteError("not a checkpoint: origin, size, root and newline-ended lines")
        origin, size, root = lines[:3]
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error:
            digest = b""
        if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size) or len(digest) != 32:
            raise NoteError("not a checkpoint: size is a decimal, root 32 bytes in base64")
        return cls(origin, int(size), digest, tuple(lines[3:-1]))


# -- tlog-cosignature -----------------------------------------------------------------------


def cosigned_message(body_text: str, timestamp: int) -> bytes:
    """What an Ed25519 cosignature/v1 signs: header, time line, the whole checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body_text.encode()


def cosign(body_text: str, name: str, key: nacl.signing.SigningKey, timestamp: int) -> Signature:
    """A cosignature line: key ID (type 0x04) and timestamped_signature (u64 time || sig)."""
    sig = key.sign(cosigned_message(body_text, timestamp)).signature
    return Signature(
        name,
        key_hash(name, COSIGNATURE_V1, bytes(key.verify_key)),
        struct.pack(">Q", timestamp) + sig,
    )


def cosignature_time(sig: Signature, body_text: str, verifier: Verifier) -> int | None:
    """The timestamp of a valid cosignature of `verifier` over this checkpoint, else None."""
    if sig.name != verifier.name or sig.key_id != verifier.key_id or len(sig.signature) != 72:
        return None
    (timestamp,) = struct.unpack(">Q", sig.signature[:8])
    try:
        verifier.key.verify(cosigned_message(body_text, timestamp), sig.signature[8:])
    except (nacl.exceptions.BadSignatureError, ValueError):
        return None
    return int(timestamp)
