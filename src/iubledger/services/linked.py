"""Appending under the regimes that document the person (14 kap. 3 § SoL: full_14_3 and
deltagardata) while the log links nothing once gallring has run (G2, G3).

Every event is its own record (an `Anonympost`: random id, one event); its identity is
sealed under the participation's subject key, bound to a label of the seal's own. What
connects a participation's records — its course, the ids of its records — and what links
a person's participations — the keyed look-up of the personnummer — live in the key store
(`store/keys.py`), never in the log. Each record carries instead the facts the follow-up
needs, derived now: at start whether the person is a returning participant of the insats,
and on every record after contact the calendar periods in which it is the person's first
(so unique participants are counted exactly per calendar period from the log alone).
Gallring deletes the subject key, the course and the look-up entry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from iubledger.aggregates.deltagande import Anonympost
from iubledger.aggregates.forlopp import Forlopp
from iubledger.decisions.index import Version
from iubledger.decisions.start import check_start, check_tillfalle, check_villkorskontroll
from iubledger.policies.common import referral
from iubledger.policies.regimes import apply
from iubledger.reports.facts import KALENDERPERIODER, period_of
from iubledger.schemas import period
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import Regim
from iubledger.schemas.handelser import FOLJER_DELTAGANDE
from iubledger.schemas.villkor import Utfall
from iubledger.store.batch import Parsed, Work
from iubledger.store.keys import PendingKeys
from iubledger.store.lank import Lank, Lankar, idle_until

#: The regimes whose courses live in the key store.
REGIMER = frozenset({Regim.full_14_3, Regim.deltagardata})


@dataclass
class Kurs(Forlopp):
    """One participation's course, in the key store: what the next event is checked
    against, the ids of its records (for identity recovery and gallring), the person's
    look-up (hex, full_14_3 with a personnummer) and, without one, the days it was active."""

    insats: str
    typer: list[str] = field(default_factory=list)
    villkor_utfall: str | None = None
    startdatum: str | None = None
    poster: list[str] = field(default_factory=list)
    person: str | None = None
    dagar: list[str] = field(default_factory=list)
    #: The latest date documented (for gallring by rule, after a retention period).
    senast: str = ""


def course(keys: PendingKeys, deltagande: UUID) -> Kurs | None:
    """The course of a participation kept in the key store (None: none, or gallrad)."""
    data = keys.course(str(deltagande))
    return None if data is None else Kurs(**data)


def stage(work: Work, line: Parsed, version: Version, ref: UUID | None) -> dict[str, Any]:
    """Check one event against its participation's course and stage its record; raises
    Rejected before anything is staged."""
    h = line.h
    insats = version.insats
    if h.besokskod is not None:
        raise Rejected.one("okand_besokskod", "besokskod", "no such besökskod")
    kurs = None if ref is None else course(work.keys, ref)
    if kurs is not None:
        kurs.kan_folja(h.type, h.insats, h.datum)
        if h.type == "tillfalle":
            check_tillfalle(insats, kurs.typer)
    elif h.type in FOLJER_DELTAGANDE or h.type == "tillfalle":
        raise Rejected.one("deltagande_saknas", "deltagande", f"a {h.type} needs a participation")
    deltagande = str(ref) if kurs is not None else str(uuid4())
    dok = apply(version, h, deltagande, work.keys)
    post = dok.falt
    extra: list[dict[str, Any]] = []
    if h.type == "start":
        check_start(insats, h, dok.alder, None if kurs is None else kurs.villkor_utfall)
    elif h.type == "villkorskontroll":
        check_villkorskontroll(insats, h, dok.alder)
        if h.utfall is Utfall.oklart:
            extra.append(referral(post))

    # Nothing can refuse the event now.
    work.keys.keep()
    opens = kurs is None
    if kurs is None:
        kurs = Kurs(insats=h.insats)
    if kurs.person is None and dok.uppslag is not None:
        kurs.person = dok.uppslag.hex()
    _derive(work.keys, kurs, post, h.datum)
    records = [Anonympost.registrera(p, period.moment(p["datum"])) for p in (post, *extra)]
    kurs.poster += [str(r.id) for r in records]
    work.keys.set_course(deltagande, asdict(kurs))
    answer = {"event_id": f"{records[0].id}/1", "position": None, "deltagande": deltagande}
    # Only the opening line's stored result names the participation (a follow-up may name
    # it by that line's client id); a follow-up's stored result would link its record.
    work.stage(line.nyckel, records, answer, shown_once=() if opens else ("deltagande",))
    return answer


def hand_over(work: Work, line: Parsed, months: int) -> None:
    """A participation begun under 14 kap. 3 § whose insats now links nothing (an amended
    decision, 14 kap. 5 §) continues from its course: the course is copied into the link
    state (`store/lank.py`), found by the participation id and the opening client id, as a
    participation logged as a stream is. Its course here stays for identity recovery."""
    ref = line.h.deltagande
    if ref is None and line.opened_by is not None:
        opened = work.results.get(line.opened_by) or {}
        ref = UUID(opened["deltagande"]) if "deltagande" in opened else None
    kurs = None if ref is None else course(work.keys, ref)
    if kurs is None:
        return
    lankar = Lankar(work.session, work.keys)
    keys = [lankar.nyckel("post", str(ref))]
    if line.opened_by is not None:
        keys.append(lankar.nyckel("klient", line.opened_by))
    if any(lankar.get(k) is not None for k in keys):
        return
    lank = Lank(
        insats=kurs.insats,
        typer=list(kurs.typer),
        villkor_utfall=kurs.villkor_utfall,
        startdatum=kurs.startdatum,
        oppnad=str(ref),
    )
    lankar.save(lank, keys, idle_until(datetime.now(UTC).date(), months))


def _derive(keys: PendingKeys, kurs: Kurs, post: dict[str, Any], datum: date) -> None:
    """Take the event into the course and add the facts that replace a link: at start,
    whether the person returns to the insats; after contact, the calendar periods in which
    this is the person's first record (unique participants, 14 kap. 3 § SoL follow-up)."""
    kurs.folj(post)
    kurs.senast = max(kurs.senast, datum.isoformat())
    typ = post["type"]
    entry: dict[str, Any] = {}
    if kurs.person is not None:
        entry = keys.person(bytes.fromhex(kurs.person)) or {"startade": {}, "dagar": {}}
        dagar: list[str] = entry["dagar"].setdefault(kurs.insats, [])
        dagar += [d for d in kurs.dagar if d not in dagar]  # before the person was known
        kurs.dagar = []
    else:
        dagar = kurs.dagar
    if typ == "start" and kurs.person is not None:
        startade = entry["startade"].get(kurs.insats, 0)
        post["aterkommande"] = startade > 0
        entry["startade"][kurs.insats] = startade + 1
    if typ != "kontakt":
        earlier = [date.fromisoformat(d) for d in dagar]
        ny = [
            kind
            for kind in KALENDERPERIODER
            if all(period_of(d, kind) != period_of(datum, kind) for d in earlier)
        ]
        if ny:
            post["ny_i_period"] = ny
        if datum.isoformat() not in dagar:
            dagar.append(datum.isoformat())
    if kurs.person is not None:
        keys.set_person(bytes.fromhex(kurs.person), entry)
