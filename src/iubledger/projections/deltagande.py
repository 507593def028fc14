"""Participation: daily counts per insats and utförare, and who was active (besöksstatistik
and individbaserad uppföljning; the nämnd's follow-up of every insats).

Rows hold counts and random or keyed ids only: the posts they come from hold no identity.
A participant is counted as unique by the fact the record carries under 14 kap. 3 §
(`ny_i_period`: the calendar periods it is the person's first in), by the keyed pseudonym
of records stored before that (`iub_p_person` maps each such participation to it, so a
person is one participant also on the days a record carries no pseudonym), otherwise by
the participation (once, at start, under the regimes whose records link nothing).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from sqlalchemy import Column, Date, Integer, MetaData, String, Table
from sqlalchemy.orm import Session

from iubledger.aggregates.deltagande import Anonympost, Deltagande
from iubledger.projections.upsert import add_counts, insert_ignore
from iubledger.schemas.beslut import Regim
from iubledger.schemas.post import Post, post_of

metadata = MetaData()

matt = Table(
    "iub_p_matt",
    metadata,
    Column("dag", Date, primary_key=True),
    Column("insats", String(81), primary_key=True),
    Column("utforare", String(40), primary_key=True),
    Column("matt", String(24), primary_key=True),
    Column("varde", String(40), primary_key=True),
    Column("antal", Integer, nullable=False),
)
aktiv = Table(
    "iub_p_aktiv",
    metadata,
    Column("dag", Date, primary_key=True),
    Column("insats", String(81), primary_key=True),
    Column("nyckel", String(40), primary_key=True),
)
#: The keyed pseudonym of a participation whose records carry one.
person = Table(
    "iub_p_person",
    metadata,
    Column("nyckel", String(40), primary_key=True),
    Column("pseudonym", String(64), nullable=False),
)


def measures(post: Post) -> list[tuple[str, str, int]]:
    """(measure, value, count) of one post: the facts every report is built from."""
    t = post.type
    person = post.person
    kon_alder = f"{person.kon or 'uppgift_saknas'}|{person.aldersgrupp or 'okand'}"
    out: list[tuple[str, str, int]] = [("beslutsversion", str(post.beslut.version), 1)]
    out += [("unik", kind, 1) for kind in post.ny_i_period or ()]
    if t == "kontakt":
        out += [
            ("kontakt", "", 1),
            ("informerad", "ja" if post.informerad_om_ansokan else "nej", 1),
        ]
    elif t == "villkorskontroll":
        out.append(("villkor", str(post.utfall), 1))
    elif t == "start":
        out += [("start", "", 1), ("start_kon_alder", kon_alder, 1)]
        if post.maende is not None:
            out.append(("maende_start", str(post.maende), 1))
        if post.samtycke is not None:
            out.append(("samtycke", str(post.samtycke.vardnadshavare), 1))
    elif t == "tillfalle" and post.grupp is not None:
        out.append(("tillfalle", "grupp", 1))
        out += [("narvaro", f"{g.kon}|{g.aldersgrupp}", g.antal) for g in post.grupp]
    elif t == "tillfalle":
        out.append(("tillfalle", "individ", 1))
    elif t == "avbrott":
        out.append(("avbrott", str(post.orsak), 1))
    elif t == "avslut":
        out.append(("avslut", "", 1))
        if post.maende is not None:
            out.append(("maende_slut", str(post.maende), 1))
    elif t in ("hanvisning", "handelse"):
        out.append((t, "", 1))
    return out


class Participation:
    """The participation projection (tables `iub_p_matt`, `iub_p_aktiv`)."""

    name = "deltagande"
    tables: ClassVar[list[Table]] = [matt, aktiv, person]

    def apply(self, session: Session, events: list[Any]) -> None:
        counts: Counter[tuple[Any, ...]] = Counter()
        active: set[tuple[Any, ...]] = set()
        pseudonyms: dict[str, str] = {}
        for e in events:
            fold(e, counts, active, pseudonyms)
        add_counts(session, matt, ["dag", "insats", "utforare", "matt", "varde"], "antal", counts)
        insert_ignore(
            session, aktiv, [dict(zip(("dag", "insats", "nyckel"), k, strict=True)) for k in active]
        )
        insert_ignore(
            session, person, [{"nyckel": k, "pseudonym": p} for k, p in pseudonyms.items()]
        )


def fold(
    e: Any,
    counts: Counter[tuple[Any, ...]],
    active: set[tuple[Any, ...]],
    pseudonyms: dict[str, str],
) -> None:
    """Add one record to the rows of `iub_p_matt` (counts), `iub_p_aktiv` (active) and
    `iub_p_person` (a participation's pseudonym)."""
    post = post_of(e)
    if post is None:
        return
    for m, v, n in measures(post):
        counts[(post.dag, post.insats, post.utforare, m, v)] += n
    if _active(e, post):
        active.add((post.dag, post.insats, str(e.originator_id)))
    if post.person.pseudonym is not None:
        pseudonyms[str(e.originator_id)] = post.person.pseudonym


_RAKNAS_I_PERIOD = (Regim.full_14_3, Regim.deltagardata)


def _active(e: object, post: Post) -> bool:
    """Whether a record marks its participant active that day: any record of a
    participation but its contacts; under the regimes whose records link nothing, the start
    (a participant is counted once, when the participation starts)."""
    if isinstance(e, Anonympost.Registrerad):
        # Under 14 kap. 3 § counted by its `ny_i_period` instead.
        return post.type == "start" and post.beslut.regim not in _RAKNAS_I_PERIOD
    return isinstance(e, Deltagande.Oppnad | Deltagande.Registrerad) and post.type != "kontakt"  # type: ignore[attr-defined]
