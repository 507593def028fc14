"""Documentation of insats execution as aggregates (14 kap. 3 § SoL).

Every event holds one documentation post made by the policy layer: no raw identity.
A Deltagande is one person's participation in one insats (its id is random, never
derived from identity); a Gruppsession is one group session given as counts. The rules
of a participation's course (started, ended, dated before its start) are its methods.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from iubledger.schemas.base import Rejected


class Deltagande(Aggregate):
    """One participation: contacts, villkor check, start, sessions, events, end."""

    @event("Oppnad")
    def __init__(self, id: UUID, post: dict[str, Any]) -> None:
        self.insats: str = post["insats"]
        self.utforare: str = post["utforare"]
        self.typer: list[str] = []
        self.villkor_utfall: str | None = None
        self.startdatum: str | None = None
        self._folj(post)

    @event("Registrerad")
    def registrera(self, post: dict[str, Any]) -> None:
        self._folj(post)

    def _folj(self, post: dict[str, Any]) -> None:
        self.typer.append(post["type"])
        if post["type"] == "villkorskontroll":
            self.villkor_utfall = post["utfall"]
        elif post["type"] == "start":
            self.startdatum = post["datum"]

    @property
    def startad(self) -> bool:
        return "start" in self.typer

    @property
    def avslutad(self) -> bool:
        return "avslut" in self.typer or "avbrott" in self.typer

    def kan_folja(self, typ: str, insats: str, datum: date) -> None:
        """Whether an event of `typ` for `insats` on `datum` may follow in this participation
        (14 kap. 3 § SoL: the documentation follows the insats as it is carried out); raises
        Rejected naming the rule."""
        if insats != self.insats:
            raise Rejected.one(
                "fel_insats", "deltagande", "the participation belongs to another insats"
            )
        if self.avslutad:
            raise Rejected.one("deltagande_avslutat", "deltagande", "the participation has ended")
        if typ in ("tillfalle", "avslut", "avbrott") and not self.startad:
            raise Rejected.one("ej_startad", "deltagande", f"a {typ} needs a started participation")
        if typ == "start" and self.startad:
            raise Rejected.one(
                "redan_startad", "deltagande", "the participation has already started"
            )
        if self.startdatum is not None and datum.isoformat() < self.startdatum:
            raise Rejected.one(
                "fore_start", "datum", "the date is before the participation started"
            )


class Gruppsession(Aggregate):
    """One group session, documented as attendance counts by age band and gender."""

    @event("Oppnad")
    def __init__(self, post: dict[str, Any]) -> None:
        self.insats: str = post["insats"]
