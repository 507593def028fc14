"""API keys: created once by the operator, shown once, stored only as a keyed hash.

A key reads `iub_<id>_<secret>`: the id is public (listed, logged), the secret is
`secrets.token_urlsafe(32)`. The ledger database keeps, per key, only a BLAKE2b hash keyed
with the keystore's `("*", "api-nyckel")` key, which never enters the database — so the
table alone cannot be used to test guesses (G2). Each row carries a MAC over its hash,
role, scope and revocation under another keystore key, and revocations are also kept in
the keystore: a row edited in the database (a role promoted, a scope widened, a
revocation taken back) is refused like an unknown key (G5). Keys are compared with
`hmac.compare_digest`, and a revoked key is refused within `CACHE_SECONDS`.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, get_args

from sqlalchemy import Column, LargeBinary, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import Engine

from iubledger.policies.crypto import keyed_hash
from iubledger.policies.textscan import scan
from iubledger.roles import Actor, Roll
from iubledger.schemas.base import Problem, Rejected
from iubledger.store.keys import KeyStore

PREFIX = "iub"
ROLES: tuple[str, ...] = get_args(Roll)
#: A revocation made by another process (the command line) is seen within this time.
CACHE_SECONDS = 5.0

_ID = re.compile(r"^[0-9a-f]{12}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_INSATS = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}/[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")
_MAX_TOKEN = 120

metadata = MetaData()

api_nyckel = Table(
    "iub_api_nyckel",
    metadata,
    Column("nyckel_id", String(12), primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
    Column("roll", String(16), nullable=False),
    Column("organisation", String(40)),
    Column("katalog", String(40)),
    Column("insatser", Text),
    Column("beskrivning", String(200)),
    Column("skapad", String(40), nullable=False),
    Column("aterkallad", String(40)),
    Column("mac", LargeBinary(32)),
)


@dataclass(frozen=True)
class ApiKey:
    """A key as stored, without its hash: who it is for and what it may reach."""

    nyckel_id: str
    roll: Roll
    organisation: str | None
    katalog: str | None
    insatser: tuple[str, ...] | None
    beskrivning: str | None
    skapad: str
    aterkallad: str | None

    @property
    def actor(self) -> Actor:
        return Actor(
            roll=self.roll,
            katalog=self.katalog,
            organisation=self.organisation,
            insatser=frozenset(self.insatser) if self.insatser is not None else None,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "nyckel_id": self.nyckel_id,
            "roll": self.roll,
            "utforare": self.organisation,
            "katalog": self.katalog,
            "insatser": list(self.insatser) if self.insatser is not None else None,
            "beskrivning": self.beskrivning,
            "skapad": self.skapad,
            "aterkallad": self.aterkallad,
        }


def _row_key(row: Any) -> ApiKey:
    return ApiKey(
        nyckel_id=row.nyckel_id,
        roll=row.roll,
        organisation=row.organisation,
        katalog=row.katalog,
        insatser=tuple(json.loads(row.insatser)) if row.insatser is not None else None,
        beskrivning=row.beskrivning,
        skapad=row.skapad,
        aterkallad=row.aterkallad,
    )


def check_key_spec(
    roll: str,
    organisation: str | None,
    katalog: str | None,
    insatser: list[str] | None,
    beskrivning: str | None,
) -> list[Problem]:
    """What is wrong with a key request, by field and rule (never the value)."""
    p: list[Problem] = []
    if roll not in ROLES:
        p.append(Problem("okand_roll", "roll", f"the role is one of: {', '.join(ROLES)}"))
        return p
    if roll == "utforare":
        if organisation is None:
            p.append(Problem("utforare_saknas", "utforare", "an utförare key names its utförare"))
        elif not _SLUG.match(organisation):
            p.append(Problem("string_pattern_mismatch", "utforare", "the utförare is a slug"))
    elif organisation is not None:
        p.append(Problem("endast_utforare", "utforare", "only an utförare key names an utförare"))
    if roll == "namnd":
        if katalog is None:
            p.append(Problem("katalog_saknas", "katalog", "a nämnd key names its katalog"))
        elif not _SLUG.match(katalog):
            p.append(Problem("string_pattern_mismatch", "katalog", "the katalog is a slug"))
    elif katalog is not None:
        p.append(Problem("endast_namnd", "katalog", "only a nämnd key names a katalog"))
    if insatser is not None:
        if roll != "utforare":
            p.append(Problem("endast_utforare", "insatser", "only an utförare key lists insatser"))
        elif not insatser or any(not _INSATS.match(i) for i in insatser):
            p.append(
                Problem(
                    "string_pattern_mismatch",
                    "insatser",
                    "insatser are given as <katalog>/<insats-id>, at least one",
                )
            )
    if beskrivning is not None:
        if not 0 < len(beskrivning) <= 200:
            p.append(Problem("string_too_long", "beskrivning", "1 to 200 characters"))
        elif scan(beskrivning, today=date.today()):
            p.append(
                Problem(
                    "identitet_i_text",
                    "beskrivning",
                    "a key's description must not hold a personnummer, phone number or e-mail",
                )
            )
    return p


class ApiKeys:
    """The key table beside the ledger's own tables; the hash key stays in the keystore."""

    def __init__(self, engine: Engine, keystore: KeyStore) -> None:
        self.engine = engine
        self.keystore = keystore
        metadata.create_all(engine)
        self._cache: dict[str, tuple[float, ApiKey | None, bytes | None]] = {}
        self._lock = threading.Lock()
        self._dummy = secrets.token_bytes(32)

    @classmethod
    def of(cls, ledger: Any) -> ApiKeys:
        return cls(ledger.recorder.datastore.engine, ledger.keys)

    def _hash(self, token: str) -> bytes:
        key = self.keystore.namnd_key("*", "api-nyckel")
        return keyed_hash(key, token.encode())

    def _mac(self, key: ApiKey, hashed: bytes) -> bytes:
        """MAC over what a row grants: its hash, role, scope and revocation."""
        fields = [
            key.nyckel_id,
            key.roll,
            key.organisation,
            key.katalog,
            None if key.insatser is None else list(key.insatser),
            key.aterkallad,
        ]
        data = hashed + json.dumps(fields).encode()
        return keyed_hash(self.keystore.mac_key("api-nyckel-mac"), data)

    def create(
        self,
        roll: str,
        *,
        organisation: str | None = None,
        katalog: str | None = None,
        insatser: list[str] | None = None,
        beskrivning: str | None = None,
    ) -> tuple[str, ApiKey]:
        """A new key: returns the plaintext (shown once, never stored) and what is stored."""
        if problems := check_key_spec(roll, organisation, katalog, insatser, beskrivning):
            raise Rejected(problems)
        nyckel_id = secrets.token_hex(6)
        token = f"{PREFIX}_{nyckel_id}_{secrets.token_urlsafe(32)}"
        skapad = datetime.now(UTC).isoformat(timespec="seconds")
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_nyckel).values(
                    nyckel_id=nyckel_id,
                    hash=self._hash(token),
                    roll=roll,
                    organisation=organisation,
                    katalog=katalog,
                    insatser=json.dumps(sorted(set(insatser))) if insatser is not None else None,
                    beskrivning=beskrivning,
                    skapad=skapad,
                )
            )
        stored = self.get(nyckel_id)
        assert stored is not None
        self._seal(stored)
        return token, stored

    def _seal(self, key: ApiKey) -> None:
        """Store the row's MAC (after it was written or revoked)."""
        with self.engine.begin() as conn:
            hashed = conn.execute(
                select(api_nyckel.c.hash).where(api_nyckel.c.nyckel_id == key.nyckel_id)
            ).scalar_one()
            conn.execute(
                update(api_nyckel)
                .where(api_nyckel.c.nyckel_id == key.nyckel_id)
                .values(mac=self._mac(key, bytes(hashed)))
            )

    def get(self, nyckel_id: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_nyckel).where(api_nyckel.c.nyckel_id == nyckel_id)
            ).first()
        return None if row is None else _row_key(row)

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_nyckel).order_by(api_nyckel.c.skapad)).all()
        return [_row_key(r) for r in rows]

    def revoke(self, nyckel_id: str) -> ApiKey | None:
        """Revoke a key for good (idempotent); None when there is no such key."""
        when = datetime.now(UTC).isoformat(timespec="seconds")
        with self.engine.begin() as conn:
            conn.execute(
                update(api_nyckel)
                .where(api_nyckel.c.nyckel_id == nyckel_id, api_nyckel.c.aterkallad.is_(None))
                .values(aterkallad=when)
            )
        with self._lock:
            self._cache.pop(nyckel_id, None)
        revoked = self.get(nyckel_id)
        if revoked is not None:
            self.keystore.revoke(nyckel_id)
            self._seal(revoked)
        return revoked

    def _lookup(self, nyckel_id: str) -> tuple[ApiKey | None, bytes | None]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(nyckel_id)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_nyckel).where(api_nyckel.c.nyckel_id == nyckel_id)
            ).first()
        found: tuple[ApiKey | None, bytes | None] = (None, None)
        if row is not None and (key := self._genuine(row)) is not None:
            found = (key, bytes(row.hash))
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[nyckel_id] = (now + CACHE_SECONDS, *found)
        return found

    def _genuine(self, row: Any) -> ApiKey | None:
        """The row's key when its MAC holds and the keystore has not revoked it; an edited
        row is as good as none."""
        try:
            key = _row_key(row)
        except (ValueError, TypeError):
            return None
        mac = self._mac(key, bytes(row.hash))
        if row.mac is None or not hmac.compare_digest(bytes(row.mac), mac):
            return None
        return None if self.keystore.revoked(key.nyckel_id) else key

    def authenticate(self, token: str) -> ApiKey | None:
        """The key a presented token belongs to, or None (unknown, malformed or revoked).
        The hash is always computed and compared, so a miss takes as long as a hit."""
        parts = token.split("_", 2) if len(token) <= _MAX_TOKEN else []
        well_formed = len(parts) == 3 and parts[0] == PREFIX and bool(_ID.match(parts[1]))
        computed = self._hash(token if len(token) <= _MAX_TOKEN else "")
        key, stored = self._lookup(parts[1]) if well_formed else (None, None)
        matches = hmac.compare_digest(stored if stored is not None else self._dummy, computed)
        if not matches or key is None or key.aterkallad is not None:
            return None
        return key
