"""Who may do what (least privilege). G7: an utförare can never create or change decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from iubledger.schemas.base import Problem

Roll = Literal["admin", "namnd", "utforare", "tillsyn"]


@dataclass(frozen=True)
class Actor:
    """The caller: a role, and for a nämnd its katalog, for an utförare its organisation
    (and, when its key is limited, the insatser it may append for)."""

    roll: Roll
    katalog: str | None = None
    organisation: str | None = None
    insatser: frozenset[str] | None = None


#: The local operator of the command line, who holds the data dir and its keys.
OPERATOR = Actor("admin")


class Forbidden(PermissionError):
    """The actor's role does not allow the action; refused under the rule `CODE`."""

    CODE = "behorighet"

    def problem(self) -> Problem:
        """The refusal as a problem of an utförare event (the field its role is checked on)."""
        return Problem(self.CODE, "utforare", str(self))


def may_decide(actor: Actor, katalog: str) -> bool:
    """11 kap. 5 § and 14 kap. 5 § SoL: decisions belong to the nämnd, never to an utförare."""
    return actor.roll == "admin" or (actor.roll == "namnd" and actor.katalog == katalog)


def may_append(actor: Actor, utforare: str) -> bool:
    """Only an utförare appends, and only for its own organisation (the operator may too)."""
    return actor.roll == "admin" or (actor.roll == "utforare" and actor.organisation == utforare)


def may_append_insats(actor: Actor, insats: str) -> bool:
    """An utförare key may be limited to the insatser it is registered for (`Actor.insatser`);
    the nämnd's decision must name the utförare as well (checked by the ledger)."""
    return actor.insatser is None or insats in actor.insatser


def owns_record(actor: Actor, insats: str, utforare: str | None) -> bool:
    """Whether a record documenting `insats` (`<katalog>/<id>`) by `utforare` is the actor's
    to read: an utförare its own organisation's, a nämnd its own katalog's, tillsyn all."""
    if actor.roll == "tillsyn":
        return True
    if actor.roll == "utforare":
        return utforare is not None and utforare == actor.organisation
    if actor.roll == "namnd":
        return actor.katalog is not None and insats.split("/", 1)[0] == actor.katalog
    return False


def sees_decision(actor: Actor, beslut_id: str, *, named_utforare: bool) -> bool:
    """Whether the actor may read a decision: a nämnd its own katalog's, an utförare those
    naming it (within its key's insatser), tillsyn all."""
    if actor.roll == "tillsyn":
        return True
    if actor.roll == "namnd":
        return actor.katalog is not None and beslut_id.split("/", 1)[0] == actor.katalog
    if actor.roll == "utforare":
        return named_utforare and (actor.insatser is None or beslut_id in actor.insatser)
    return False


#: What each role may do over HTTP (least privilege). The command line is the operator's.
#: utforare: append for itself, read its own receipts and the decisions naming it;
#: namnd: its own decisions, suppressed reports and the compliance report of its own
#: katalog (its egenkontroll); tillsyn: read and verify everything but sealed identity,
#: never write but a witness cosignature; admin: keys and identity recovery, nothing else.
PERMISSIONS: dict[str, frozenset[Roll]] = {
    "append": frozenset({"utforare"}),
    "read_receipts": frozenset({"utforare", "namnd", "tillsyn"}),
    "read_checkpoints": frozenset({"utforare", "namnd", "tillsyn"}),
    "read_decisions": frozenset({"utforare", "namnd", "tillsyn"}),
    "decide": frozenset({"namnd"}),
    "read_reports": frozenset({"namnd", "tillsyn"}),
    "read_compliance": frozenset({"namnd", "tillsyn"}),
    "verify": frozenset({"tillsyn"}),
    "cosign": frozenset({"tillsyn"}),
    "replay": frozenset({"tillsyn"}),
    "export": frozenset({"tillsyn"}),
    "read_identity_access": frozenset({"tillsyn"}),
    "recover_identity": frozenset({"admin"}),
    "shred_identity": frozenset({"admin"}),
    "manage_keys": frozenset({"admin"}),
}


def may(actor: Actor, action: str) -> bool:
    """Whether the actor's role allows `action` (a key of PERMISSIONS) at all; ownership
    (own organisation, own katalog, own receipts) is checked where the data is known."""
    return actor.roll in PERMISSIONS[action]
