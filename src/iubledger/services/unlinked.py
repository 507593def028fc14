"""Appending under the regimes whose records link nothing: undantag (14 kap. 5 § SoL) and
the counts-only aggregat (G2, G8).

Every event is its own record (an `Anonympost`: random id, one event, timestamped at the
start of its period, its date stored at the decision's datumprecision). What connects a
participant's events — the opening event's client id, the besökskod handed out at start
(14 kap. 5 §), the opening record's id — finds the participation's course in the link
state outside the log (`store/lank.py`), which is deleted when the participation ends or
lies idle. Each record carries, instead of a link, the non-identifying facts the law asks
for: the visit number band, at the end the number of visits and the change in wellbeing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate

from iubledger.aggregates.deltagande import Anonympost, Deltagande
from iubledger.decisions.index import Version
from iubledger.decisions.start import check_start, check_tillfalle, check_villkorskontroll
from iubledger.policies.common import referral
from iubledger.policies.regimes import apply
from iubledger.policies.undantag_14_5 import new_besokskod
from iubledger.schemas import period
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import Regim
from iubledger.schemas.handelser import FOLJER_DELTAGANDE
from iubledger.schemas.villkor import Utfall
from iubledger.store.batch import Parsed, Work
from iubledger.store.lank import Lank, Lankar, idle_until

#: Visit numbers as stored: bands, so a count does not single out a participant.
BESOKSBAND = ((1, "1"), (2, "2"), (3, "3-5"), (6, "6-10"), (11, "11+"))


def band(n: int) -> str:
    """The band of a visit number or count (0 is its own)."""
    label = "0"
    for lo, name in BESOKSBAND:
        if n >= lo:
            label = name
    return label


def stage(
    work: Work, line: Parsed, version: Version, logged: Callable[[], Deltagande | None]
) -> dict[str, Any]:
    """Check one event against its participation's course and stage its record; raises
    Rejected before anything is staged. `logged` finds a participation the log links, for
    one that began under a linking regime before the decision changed."""
    h = line.h
    insats = version.insats
    lankar = Lankar(work.session, work.keys)
    lank, new_keys = _course(lankar, line, logged)
    if lank is not None:
        lank.kan_folja(h.type, h.insats, h.datum)
        if h.type == "tillfalle":
            check_tillfalle(insats, lank.typer)
    elif h.type in FOLJER_DELTAGANDE or (h.type == "tillfalle" and h.grupp is None):
        raise Rejected.one("deltagande_saknas", "deltagande", f"a {h.type} needs a participation")
    dok = apply(version, h, str(uuid4()), work.keys)
    post = dok.falt
    extra: list[dict[str, Any]] = []
    if h.type == "start":
        check_start(insats, h, dok.alder, None if lank is None else lank.villkor_utfall)
    elif h.type == "villkorskontroll":
        check_villkorskontroll(insats, h, dok.alder)
        if h.utfall is Utfall.oklart:
            extra.append(referral(post))

    # Nothing can refuse the event now.
    work.keys.keep()
    opens = lank is None and h.type in ("kontakt", "villkorskontroll", "start")
    if opens:
        lank = Lank(insats=h.insats)
        new_keys.append(lankar.nyckel("klient", line.nyckel))
    result: dict[str, Any] = {}
    if lank is not None:
        _derive(lank, post, getattr(h, "maende", None))
    if h.type == "start" and insats.dokumentation.regim is Regim.undantag_14_5:
        kod = new_besokskod()
        new_keys.append(lankar.nyckel("besokskod", kod))
        result["besokskod"] = kod
    records: list[Aggregate] = [
        Anonympost.registrera(p, period.moment(p["datum"])) for p in (post, *extra)
    ]
    if opens:
        assert lank is not None
        lank.oppnad = str(records[0].id)
        new_keys.append(lankar.nyckel("post", lank.oppnad))
    if lank is not None:
        if lank.avslutad:
            lankar.end(lank)
        else:
            months = insats.dokumentation.lank_gallras_manader
            lankar.save(lank, new_keys, idle_until(datetime.now(UTC).date(), months))
        result["deltagande"] = lank.oppnad
    answer = {"event_id": f"{records[0].id}/1", "position": None, **result}
    work.stage(line.nyckel, records, answer, shown_once=("deltagande", "besokskod"))
    return answer


def _course(
    lankar: Lankar, line: Parsed, logged: Callable[[], Deltagande | None]
) -> tuple[Lank | None, list[bytes]]:
    """The participation's course the event names, by besökskod, opening event or
    participation id (None when it names none), and the keys to store it under when it is
    taken over from the log."""
    h = line.h
    if h.besokskod is not None:
        found = lankar.get(lankar.nyckel("besokskod", h.besokskod))
        if found is None:
            raise Rejected.one("okand_besokskod", "besokskod", "no such besökskod")
        return found, []
    keys = []
    if line.opened_by is not None:
        keys.append(lankar.nyckel("klient", line.opened_by))
    if h.deltagande is not None:
        keys.append(lankar.nyckel("post", str(h.deltagande)))
    for key in keys:
        if (found := lankar.get(key)) is not None:
            return found, []
    agg = logged()
    if agg is None:
        return None, []
    course = Lank.of_logged(agg)
    return course, list(dict.fromkeys([lankar.nyckel("post", str(agg.id)), *keys]))


def _derive(lank: Lank, post: dict[str, Any], maende: int | None) -> None:
    """Take the event into the course and add the facts that replace a link (14 kap. 5 §
    SoL: dropout reasons, wellbeing at start and end; counts, never a path)."""
    typ = post["type"]
    lank.folj(post)
    if typ == "start":
        lank.maende_start = maende
    elif typ == "tillfalle":
        lank.besok += 1
        post["besok_nr"] = band(lank.besok)
    elif typ in ("avslut", "avbrott"):
        post["antal_besok"] = band(lank.besok)
        if typ == "avslut" and maende is not None and lank.maende_start is not None:
            post["maende_forandring"] = maende - lank.maende_start
