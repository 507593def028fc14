"""Documentation of insats execution as aggregates (14 kap. 3 § SoL).

Every event holds one documentation post made by the policy layer: no raw identity.
A Deltagande is one person's participation in one insats (its id is random, never
derived from identity); a Gruppsession is one group session given as counts; an
Anonympost is one record that links to no other (14 kap. 5 § SoL and aggregat).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from iubledger.aggregates.forlopp import Forlopp


class Deltagande(Aggregate, Forlopp):
    """One participation: contacts, villkor check, start, sessions, events, end."""

    @event("Oppnad")
    def __init__(self, id: UUID, post: dict[str, Any]) -> None:
        self.insats = post["insats"]
        self.utforare: str = post["utforare"]
        self.typer = []
        self.villkor_utfall = None
        self.startdatum = None
        self.folj(post)

    @event("Registrerad")
    def registrera(self, post: dict[str, Any]) -> None:
        self.folj(post)


class Gruppsession(Aggregate):
    """One group session, documented as attendance counts by age band and gender."""

    @event("Oppnad")
    def __init__(self, post: dict[str, Any]) -> None:
        self.insats: str = post["insats"]


class Anonympost(Aggregate):
    """One record under a regime whose records link nothing (14 kap. 5 § SoL, aggregat):
    its own aggregate with a random id and one event, timestamped at the start of the
    period its date is stored at; whatever connects a participant's visits lives outside
    the log."""

    class Registrerad(Aggregate.Created):
        post: dict[str, Any]

    def __init__(self, post: dict[str, Any]) -> None:
        self.insats: str = post["insats"]

    @classmethod
    def registrera(cls, post: dict[str, Any], tidpunkt: datetime) -> Anonympost:
        return cls._create(cls.Registrerad, id=uuid4(), post=post, timestamp=tidpunkt)
