"""The ledger's own rows beside the event store: client-id idempotency and besökskoder."""

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

#: Random besökskod → participation (14 kap. 5 § SoL: links visits without identity).
besokskod = Table(
    "iub_besokskod",
    metadata,
    Column("kod", String(9), primary_key=True),
    Column("deltagande", Uuid, nullable=False),
)

#: Refused events counted by day and rule — never their content (compliance report).
avvisning = Table(
    "iub_avvisning",
    metadata,
    Column("dag", Date, primary_key=True),
    Column("regel", String(60), primary_key=True),
    Column("antal", Integer, nullable=False),
)
