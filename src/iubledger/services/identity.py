"""Sealed identity under 14 kap. 3 § SoL: recovered only by an authorised role, each
recovery recorded in the ledger first; gallring is `services/gallring.py` (G3)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from iubledger.aggregates import atkomst
from iubledger.aggregates.atkomst import ATKOMSTLOGG_ID, Identitetsatkomst
from iubledger.policies.crypto import SealError, open_seal
from iubledger.policies.textscan import Kind, scan
from iubledger.schemas.base import Rejected
from iubledger.schemas.post import post_of
from iubledger.services import gallring
from iubledger.store import kurs as kept
from iubledger.store.ledger import Ledger


def recover(
    ledger: Ledger, deltagande: UUID, skal: str, roll: str, nyckel_id: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Authorised recovery of sealed identity (14 kap. 3 § SoL). Every attempt is first
    recorded in the ledger — role, key id, participation, reason, outcome — so tillsyn
    sees it; if that record cannot be stored, nothing is shown."""
    gallring.checked_reason(skal)
    refusal: Rejected | None = None
    opened: dict[str, Any] = {}
    try:
        opened = open_sealed(ledger, deltagande)
    except Rejected as e:
        refusal = e
    _check_reason(skal, opened)
    utfall = "oppnad" if refusal is None else refusal.problems[0].code
    with ledger.locked() as (session, locked):
        logg = atkomst.logg(ledger.repository)
        logg.registrera(
            roll=roll, nyckel_id=nyckel_id, deltagande=str(deltagande), skal=skal, utfall=utfall
        )
        ledger.write(session, locked.tree, logg)
    if refusal is not None:
        raise refusal
    access = {
        "tidpunkt": logg.modified_on.isoformat(),
        "atgard": "oppning",
        "roll": roll,
        "nyckel_id": nyckel_id,
        "deltagande": str(deltagande),
        "skal": skal,
        "utfall": utfall,
        "regel": None,
    }
    return opened, access


def _check_reason(skal: str, opened: dict[str, Any]) -> None:
    """The reason goes to tillsyn, so it holds no identity (G1): no personnummer, phone
    number or e-mail address of any shape, and none of the participant's own sealed values
    (name, address, numbers) in any spelling — checked before anything is shown."""
    given: list[tuple[Kind, str]] = [
        (kind, str(opened[kind]))
        for kind in ("personnummer", "telefon", "epost", "fodelsedatum")
        if opened.get(kind)
    ]
    hits = scan(
        skal,
        names=[str(opened["namn"])] if opened.get("namn") else [],
        addresses=[str(opened["adress"])] if opened.get("adress") else [],
        given=given,
        today=date.today(),
    )
    if hits:
        raise Rejected.one(
            "identitet_i_skal",
            "skal",
            "the reason must not hold a personnummer, phone number, e-mail address "
            "or the participant's name or address",
        )


def open_sealed(ledger: Ledger, deltagande: UUID) -> dict[str, Any]:
    """Open the sealed identity of a participation (full_14_3, deltagardata names): its
    records are found through its course (`store/kurs.py`), or as a stream in the log for
    one begun before courses were kept beside the log. Raises Rejected when there is none, or
    when gallring deleted the key (G3)."""
    with ledger.transaction() as session:
        kurs = kept.course(session, ledger.keys, str(deltagande))
    ids = [deltagande] if kurs is None else [UUID(p) for p in kurs.poster]
    posts = [p for i in ids for e in ledger.events.get(i) if (p := post_of(e)) is not None]
    seals = [p.forsegling for p in posts if p.forsegling is not None]
    if not posts:
        if gallring.gallrad(ledger, deltagande):
            raise Rejected.one("gallrad", "deltagande", "the participation has been gallrad")
        raise Rejected.one("okant_deltagande", "deltagande", "no such participation")
    if not seals:
        raise Rejected.one(
            "ingen_forsegling",
            "deltagande",
            f"nothing is sealed for this participation (regime {posts[0].beslut.regim.value}): "
            "identity was never stored",
        )
    key = ledger.keys.subject_key(str(deltagande))
    if key is None:
        raise Rejected.one("gallrad", "deltagande", "the subject key was deleted (gallring)")
    opened: dict[str, Any] = {}
    notes: list[str] = []
    for seal_ in seals:
        try:
            fields = open_seal(key, seal_.subjekt, seal_.data)
        except SealError:
            raise Rejected.one(
                "forsegling_oppnas_ej",
                "deltagande",
                "a seal of this participation does not open with its subject key",
            ) from None
        if "anteckning" in fields:
            notes.append(fields.pop("anteckning"))
        opened.update(fields)
    if notes:
        opened["anteckningar"] = notes
    return opened


def accesses(ledger: Ledger) -> list[dict[str, Any]]:
    """Every recorded identity recovery and gallring, for tillsyn (no identity value)."""
    out: list[dict[str, Any]] = []
    for e in ledger.events.get(ATKOMSTLOGG_ID):
        if isinstance(e, Identitetsatkomst.Registrerad):  # type: ignore[attr-defined]
            atgard, utfall, regel = "oppning", e.utfall, None
        elif isinstance(e, Identitetsatkomst.Gallrad):  # type: ignore[attr-defined]
            atgard, utfall, regel = "gallring", "gallrad", e.regel
        else:
            continue
        out.append(
            {
                "tidpunkt": e.timestamp.isoformat(),
                "atgard": atgard,
                "roll": e.roll,
                "nyckel_id": e.nyckel_id,
                "deltagande": e.deltagande,
                "skal": e.skal,
                "utfall": utfall,
                "regel": regel,
            }
        )
    return out
