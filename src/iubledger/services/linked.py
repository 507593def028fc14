"""Appending under the regimes that document the person (14 kap. 3 § SoL: full_14_3 and
deltagardata) while the log links nothing once gallring has run (G2, G3).

Every event is its own record (an `Anonympost`: random id, one event); its identity is
sealed under the participation's subject key, bound to a label of the seal's own. What
connects a participation's records — its course, the ids of its records — and what links
a person's participations live beside the log, never in it (`store/kurs.py`): written in
the transaction that stores the records, sealed under keys in the key store, found by the
participation id or a random person id; the keyed look-up of the personnummer is in the key
store. Each record carries instead the facts the follow-up needs, derived now: at start
whether the person is a returning participant of the insats, and on every record after
contact the calendar periods in which it is the person's first (so unique participants are
counted exactly per calendar period from the log alone). Gallring deletes the keys: what is
left of the course and the person's entry cannot be read, and nothing links the records.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from iubledger.aggregates.deltagande import Anonympost
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
from iubledger.store.kurs import Kurs, Kurser
from iubledger.store.lank import Lank, Lankar, idle_until

#: The regimes whose courses are kept sealed beside the log.
REGIMER = frozenset({Regim.full_14_3, Regim.deltagardata})


def stage(work: Work, line: Parsed, version: Version, ref: UUID | None) -> dict[str, Any]:
    """Check one event against its participation's course and stage its record; raises
    Rejected before anything is staged."""
    h = line.h
    insats = version.insats
    if h.besokskod is not None:
        raise Rejected.one("okand_besokskod", "besokskod", "no such besökskod")
    kurs = None if ref is None else work.kurser.get(str(ref))
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

    work.keys.subject_key_for(deltagande)  # seals the course
    # Nothing can refuse the event now.
    work.keys.keep()
    opens = kurs is None
    if kurs is None:
        kurs = Kurs(insats=h.insats)
    _person(work, deltagande, kurs, dok.uppslag)
    _derive(work.kurser, kurs, post, h.datum)
    records = [Anonympost.registrera(p, period.moment(p["datum"])) for p in (post, *extra)]
    kurs.poster += [str(r.id) for r in records]
    work.kurser.set(deltagande, kurs)
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
    kurs = None if ref is None else work.kurser.get(str(ref))
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


def _person(work: Work, deltagande: str, kurs: Kurs, uppslag: bytes | None) -> None:
    """The person the participation documents, found by the keyed look-up of the
    personnummer; one forgotten by the gallring of another of their participations is
    found (or made) anew."""
    if kurs.person is not None and work.kurser.person(kurs.person) is None:
        kurs.person = None
    if kurs.person is None and uppslag is not None:
        kurs.person = work.keys.person_for(uppslag)
        work.keys.link(deltagande, kurs.person)


def _derive(kurser: Kurser, kurs: Kurs, post: dict[str, Any], datum: date) -> None:
    """Take the event into the course and add the facts that replace a link: at start,
    whether the person returns to the insats; after contact, the calendar periods in which
    this is the person's first record (unique participants, 14 kap. 3 § SoL follow-up)."""
    kurs.folj(post)
    kurs.senast = max(kurs.senast, datum.isoformat())
    typ = post["type"]
    person = None if kurs.person is None else kurser.person(kurs.person)
    if person is not None:
        dagar = person.dagar.setdefault(kurs.insats, [])
        dagar += [d for d in kurs.dagar if d not in dagar]  # before the person was known
        kurs.dagar = []
    else:
        dagar = kurs.dagar
    if typ == "start" and person is not None:
        startade = person.startade.get(kurs.insats, 0)
        post["aterkommande"] = startade > 0
        person.startade[kurs.insats] = startade + 1
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
    if kurs.person is not None and person is not None:
        kurser.set_person(kurs.person, person)
