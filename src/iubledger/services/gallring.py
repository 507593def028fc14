"""Gallring under 14 kap. 3 § SoL (G3): a recorded act that forgets.

Gallring of a participation is recorded in the ledger — who, when, which participation,
why, by which rule — in the log of identity access that tillsyn reads, in the transaction
that deletes its course (which records are its own) and its person's entry (what links the
person's participations); then its subject key (its seals can never be opened) and the
person's key and look-up are deleted from the key store. The record holds no identity
value. A gallring cut short between the two steps is completed by the next one. After
it, a follow-up naming the participation is refused and a new participation of the same
person starts a new subject.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from iubledger.aggregates import atkomst
from iubledger.aggregates.atkomst import ATKOMSTLOGG_ID, Identitetsatkomst
from iubledger.policies.textscan import scan
from iubledger.schemas.base import Rejected
from iubledger.schemas.post import post_of
from iubledger.store import kurs as kept
from iubledger.store.ledger import Ledger


def checked_reason(skal: str) -> str:
    """The reason is required and holds no identifier (it is stored and shown to tillsyn)."""
    if not skal.strip():
        raise Rejected.one("skal_saknas", "skal", "a reason is required (it is recorded)")
    if scan(skal, today=date.today()):
        raise Rejected.one(
            "identitet_i_skal",
            "skal",
            "the reason must not hold a personnummer, phone number, e-mail address or name",
        )
    return skal


def gallrade(ledger: Ledger) -> set[str]:
    """The participations whose gallring the log records."""
    return {
        e.deltagande
        for e in ledger.events.get(ATKOMSTLOGG_ID)
        if isinstance(e, Identitetsatkomst.Gallrad)  # type: ignore[attr-defined]
    }


def gallrad(ledger: Ledger, deltagande: UUID) -> bool:
    """Whether the log records gallring of this participation."""
    return str(deltagande) in gallrade(ledger)


def shred(
    ledger: Ledger,
    deltaganden: Sequence[UUID],
    skal: str,
    roll: str,
    nyckel_id: str | None,
    regel: str | None = None,
    tick: Callable[[int], None] = lambda n: None,
) -> int:
    """Gallring of these participations: recorded in the ledger with their courses and
    person entries deleted (one transaction), then their keys deleted. How many had a key
    to delete. Raises Rejected for an unknown participation or one already gallrad (one
    whose keys a gallring cut short left behind is completed, as are the keys every earlier
    one left); nothing is recorded then."""
    checked_reason(skal)
    done_before = gallrade(ledger)
    for d in deltaganden:
        remains = ledger.keys.subject_key(str(d)) is not None
        if str(d) in done_before and not remains:
            raise Rejected.one(
                "redan_gallrad", "deltagande", "the participation is already gallrad"
            )
        if not remains and not _logged(ledger, d):
            raise Rejected.one("okant_deltagande", "deltagande", "no such participation")
    with ledger.locked() as (session, locked):
        logg = atkomst.logg(ledger.repository)
        for d in deltaganden:
            kept.forget(session, str(d), ledger.keys.person_of(str(d)))
            if str(d) not in done_before:
                logg.gallra(
                    roll=roll, nyckel_id=nyckel_id, deltagande=str(d), skal=skal, regel=regel
                )
        ledger.write(session, locked.tree, logg)
    done = 0
    for d in deltaganden:
        done += ledger.keys.subject_key(str(d)) is not None
        ledger.keys.shred(str(d))
        tick(1)
    for left in done_before - {str(d) for d in deltaganden}:
        ledger.keys.shred(left)  # the keys a gallring cut short left behind
    return done


def _logged(ledger: Ledger, deltagande: UUID) -> bool:
    """A participation kept as a stream in the log (14 kap. 4 §, or begun before the key
    store kept courses)."""
    return any(post_of(e) is not None for e in ledger.events.get(deltagande))


@dataclass(frozen=True)
class Urval:
    """Gallring by rule: the participations of these insatser whose last record is dated
    before `fore` (a retention period ended)."""

    fore: date
    insatser: tuple[str, ...]

    @property
    def regel(self) -> str:
        return f"senaste post före {self.fore.isoformat()} i {', '.join(self.insatser)}"


def selected(ledger: Ledger, urval: Urval) -> list[UUID]:
    """The participations whose courses are kept that the rule selects, oldest first."""
    fore = urval.fore.isoformat()
    with ledger.transaction() as session:
        found = [
            (k.senast, UUID(deltagande))
            for deltagande, k in kept.opened(session, ledger.keys)
            if k.insats in urval.insatser and k.senast < fore
        ]
    return [d for _, d in sorted(found)]
