"""The ledger's own rows beside the event store: client-id idempotency, the link state of
participations whose records link nothing, the sealed courses of those documented under
14 kap. 3 §, refusal counts.

Client-id results and refusal counts carry a MAC under a keystore key (outside the
database), so an edit is found by `verify` (G5). The link state is deliberately mutable
and deletable and carries none."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, String, Table, Text, Uuid

from iubledger.policies.crypto import keyed_hash

#: The keystore purpose of the MAC key over rows outside the log.
MAC_SYFTE = "rad-mac"

metadata = MetaData()

#: Keyed hash of the utförare's client event id → the first result (idempotent append).
klient_id = Table(
    "iub_klient_id",
    metadata,
    Column("nyckel", LargeBinary(32), primary_key=True),
    Column("resultat", Text, nullable=False),
    Column("mac", LargeBinary(32), nullable=False),
)

#: The course of a participation whose records link nothing (14 kap. 5 § SoL, aggregat),
#: sealed with a key outside the database; never in the Merkle log, deleted when the
#: participation ends or from `gallras` on (the decision's months of inactivity).
lank = Table(
    "iub_lank",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("data", Text, nullable=False),
    Column("gallras", Date, nullable=False, index=True),
)

#: Keyed hashes that find a link state: the opening event's client id, the besökskod
#: handed to the participant, the opening record's id.
lank_nyckel = Table(
    "iub_lank_nyckel",
    metadata,
    Column("nyckel", LargeBinary(32), primary_key=True),
    Column("lank", Uuid, nullable=False, index=True),
)

#: The course of a participation documented under 14 kap. 3 § SoL (`store/kurs.py`),
#: sealed under its subject key, written with its records; deleted by gallring.
kurs = Table(
    "iub_kurs",
    metadata,
    Column("deltagande", String(36), primary_key=True),
    Column("data", Text, nullable=False),
)

#: What a person's participations imply (new or returning participant), by a random person
#: id, sealed under the person's key in the key store; deleted by gallring.
person = Table(
    "iub_person",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("data", Text, nullable=False),
)

#: Refused events counted by day and rule — never their content (compliance report).
avvisning = Table(
    "iub_avvisning",
    metadata,
    Column("dag", Date, primary_key=True),
    Column("regel", String(60), primary_key=True),
    Column("antal", Integer, nullable=False),
    Column("mac", LargeBinary(32)),
)


def klient_mac(key: bytes, nyckel: bytes, resultat: str) -> bytes:
    """MAC of one client-id row: its key and its first result."""
    return keyed_hash(key, b"klient-id\x00" + nyckel + resultat.encode())


def avvisning_mac(key: bytes, dag: date, regel: str, antal: int) -> bytes:
    """MAC of one refusal count: day, rule and count."""
    return keyed_hash(key, f"avvisning\x00{dag.isoformat()}\x00{regel}\x00{antal}".encode())
