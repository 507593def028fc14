"""The ledger's own rows beside the event store: client-id idempotency, the link state of
participations whose records link nothing, refusal counts."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, String, Table, Text, Uuid

metadata = MetaData()

#: Keyed hash of the utförare's client event id → the first result (idempotent append).
klient_id = Table(
    "iub_klient_id",
    metadata,
    Column("nyckel", LargeBinary(32), primary_key=True),
    Column("resultat", Text, nullable=False),
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

#: Refused events counted by day and rule — never their content (compliance report).
avvisning = Table(
    "iub_avvisning",
    metadata,
    Column("dag", Date, primary_key=True),
    Column("regel", String(60), primary_key=True),
    Column("antal", Integer, nullable=False),
)
