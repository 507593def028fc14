"""At-rest cipher for the event store: XChaCha20-Poly1305 (PyNaCl) over each stored state.

Plugged into eventsourcing via CIPHER_TOPIC; the key lives in the data dir, never in
the database.
"""

from __future__ import annotations

import base64
import binascii

import nacl.exceptions
import nacl.utils
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt as _decrypt,
)
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_encrypt as _encrypt,
)
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_KEYBYTES as KEY_BYTES,
)
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES as NONCE_BYTES,
)

ENV_KEY = "CIPHER_KEY"


class CipherKeyError(RuntimeError):
    """The at-rest key is missing, malformed, or does not open the store."""


class XChaCha20Cipher(Cipher):
    """Authenticated encryption with a random 24-byte nonce prefixed to every ciphertext."""

    def __init__(self, environment: Environment):
        encoded = environment.get(ENV_KEY)
        if not encoded:
            raise CipherKeyError("the at-rest key is missing: run 'iubledger init'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise CipherKeyError("the at-rest key is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise CipherKeyError(f"the at-rest key must be {KEY_BYTES} bytes")
        self._key = key

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = nacl.utils.random(NONCE_BYTES)
        return nonce + _encrypt(plaintext, None, nonce, self._key)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return _decrypt(ciphertext[NONCE_BYTES:], None, ciphertext[:NONCE_BYTES], self._key)
        except nacl.exceptions.CryptoError:
            raise CipherKeyError(
                "a stored record does not open with the at-rest key (a wrong key file, a "
                "database of another data dir, or an altered record: run 'iubledger verify')"
            ) from None

    @staticmethod
    def create_key() -> str:
        return base64.b64encode(nacl.utils.random(KEY_BYTES)).decode()
