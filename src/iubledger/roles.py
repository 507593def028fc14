"""Who may do what (least privilege). G7: an utförare can never create or change decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Roll = Literal["admin", "namnd", "utforare", "tillsyn"]


@dataclass(frozen=True)
class Actor:
    """The caller: a role, and for a nämnd its katalog, for an utförare its organisation."""

    roll: Roll
    katalog: str | None = None
    organisation: str | None = None


#: The local operator of the command line, who holds the data dir and its keys.
OPERATOR = Actor("admin")


class Forbidden(PermissionError):
    """The actor's role does not allow the action."""


def may_decide(actor: Actor, katalog: str) -> bool:
    """11 kap. 5 § and 14 kap. 5 § SoL: decisions belong to the nämnd, never to an utförare."""
    return actor.roll == "admin" or (actor.roll == "namnd" and actor.katalog == katalog)


def may_append(actor: Actor, utforare: str) -> bool:
    """Only an utförare appends, and only for its own organisation (the operator may too)."""
    return actor.roll == "admin" or (actor.roll == "utforare" and actor.organisation == utforare)
