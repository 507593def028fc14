"""The log of identity access: every opening of sealed identity, and every gallring, is
itself an event.

14 kap. 3 § SoL and G3: under full_14_3 identity is recoverable by an authorised role, and
forgotten at gallring. Each recovery and each gallring (HTTP API or command line) is
recorded here — who (role and key id, never the key), when (the event's timestamp), which
participation, why, and the outcome — so it enters the Merkle log and tillsyn can see it.
The record holds no identity value.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate, event

from iubledger.aggregates import NAMESPACE

ATKOMSTLOGG_ID = uuid5(NAMESPACE, "identitetsatkomst")


class Identitetsatkomst(Aggregate):
    """One stream holding every identity recovery, so listing them reads one stream."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return ATKOMSTLOGG_ID

    @event("Skapad")
    def __init__(self) -> None:
        self.antal = 0

    @event("Registrerad")
    def registrera(
        self, roll: str, nyckel_id: str | None, deltagande: str, skal: str, utfall: str
    ) -> None:
        """`utfall` is "oppnad" or the code of the refusal (e.g. "gallrad")."""
        self.antal += 1

    @event("Gallrad")
    def gallra(
        self, roll: str, nyckel_id: str | None, deltagande: str, skal: str, regel: str | None
    ) -> None:
        """Gallring of one participation: its subject key, course and look-up deleted.
        `regel` names the retention rule when gallring ran by rule."""
        self.antal += 1


def logg(repository: Repository[UUID]) -> Identitetsatkomst:
    """The access log as stored, or a new one when nothing was recorded yet."""
    try:
        found: Identitetsatkomst = repository.get(ATKOMSTLOGG_ID)
    except AggregateNotFoundError:
        return Identitetsatkomst()
    return found
