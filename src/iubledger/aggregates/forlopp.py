"""The course of one participation (14 kap. 3 § SoL: the documentation follows the insats
as it is carried out): contacts, villkor check, start, sessions, end. The rules of its
order are here, shared by a logged Deltagande and the link state kept outside the log."""

from __future__ import annotations

from datetime import date
from typing import Any

from iubledger.schemas import period
from iubledger.schemas.base import Rejected


class Forlopp:
    """What a participation has been through; its subclasses hold `insats`, `typer`,
    `villkor_utfall` and `startdatum` (the first day of the start's stored period)."""

    insats: str
    typer: list[str]
    villkor_utfall: str | None
    startdatum: str | None

    def folj(self, post: dict[str, Any]) -> None:
        """Take one documentation post into the course."""
        self.typer.append(post["type"])
        if post["type"] == "villkorskontroll":
            self.villkor_utfall = post["utfall"]
        elif post["type"] == "start":
            self.startdatum = period.start(post["datum"]).isoformat()

    @property
    def startad(self) -> bool:
        return "start" in self.typer

    @property
    def avslutad(self) -> bool:
        return "avslut" in self.typer or "avbrott" in self.typer

    def kan_folja(self, typ: str, insats: str, datum: date) -> None:
        """Whether an event of `typ` for `insats` on `datum` may follow; raises Rejected
        naming the rule."""
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
