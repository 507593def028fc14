"""The nämnd decision for one insats, as an event-sourced aggregate (11 kap. 5 § SoL).

Amending adds a version and revoking ends it; no event is ever edited, so every
earlier version stays in the history.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from iubledger.aggregates import NAMESPACE

REGISTER_ID = uuid5(NAMESPACE, "beslutsregister")


class Beslut(Aggregate):
    """One insats made IUB by a nämnd; `beslut_id` is `<katalog>/<insats-id>`."""

    @staticmethod
    def create_id(beslut_id: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE, f"beslut/{beslut_id}")

    @event("Fattat")
    def __init__(self, beslut_id: str, innehall: dict[str, Any]) -> None:
        self.beslut_id = beslut_id
        self.upphavt = False

    @event("Andrat")
    def andra(self, innehall: dict[str, Any]) -> None:
        """A new version: an amendment, or a new decision after a revocation."""
        self.upphavt = False

    @event("Upphavt")
    def upphav(self, fran: str, skal: str) -> None:
        self.upphavt = True


class Beslutsregister(Aggregate):
    """The list of decision ids, so the decision index loads without scanning the log."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return REGISTER_ID

    @event("Skapat")
    def __init__(self) -> None:
        self.beslut_ids: list[str] = []

    @event("Registrerat")
    def registrera(self, beslut_id: str) -> None:
        self.beslut_ids.append(beslut_id)
