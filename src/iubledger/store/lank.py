"""Linkage outside the log (14 kap. 5 § SoL, G2, G8): the course of a participation whose
records link nothing to each other, kept in a mutable, deletable table beside the event
store — sealed with a keystore key, found only by keyed hashes (of the opening event's
client id, the besökskod, the opening record's id), deleted when the participation ends
or has been idle for the decision's months. Nothing here enters the Merkle log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Protocol
from uuid import UUID, uuid4

from sqlalchemy import Connection, delete, insert, inspect, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from iubledger.aggregates.deltagande import Deltagande
from iubledger.aggregates.forlopp import Forlopp
from iubledger.policies.crypto import keyed_hash, open_seal, seal
from iubledger.schemas.beslut import Dokumentation
from iubledger.store import tables

_SUBJECT = "iub-lank"
#: The table of besökskoder in clear that stores made before this module kept.
OLD_TABLE = "iub_besokskod"


class NamndKeys(Protocol):
    def namnd_key(self, namnd: str, syfte: str) -> bytes: ...


@dataclass
class Lank(Forlopp):
    """One participation's course, outside the log: what the next event needs to be
    checked and to carry its derived facts (visit number, change in wellbeing)."""

    insats: str
    typer: list[str] = field(default_factory=list)
    villkor_utfall: str | None = None
    startdatum: str | None = None
    maende_start: int | None = None
    besok: int = 0
    #: The id of the participation's first record: what `deltagande` names in a follow-up.
    oppnad: str = ""
    id: UUID = field(default_factory=uuid4)

    @classmethod
    def of_logged(cls, agg: Deltagande) -> Lank:
        """The course of a participation the log links (one begun under a linking regime
        before the decision changed), to go on outside the log."""
        return cls(
            insats=agg.insats,
            typer=list(agg.typer),
            villkor_utfall=agg.villkor_utfall,
            startdatum=agg.startdatum,
            oppnad=str(agg.id),
        )


class Lankar:
    """The link states of one transaction: found, changed, created, and ended."""

    def __init__(self, session: Session | Connection, keys: NamndKeys) -> None:
        self.session = session
        self._seal = keys.namnd_key("*", "lank")
        self._find = keys.namnd_key("*", "lank-nyckel")

    def nyckel(self, kind: str, value: str | bytes) -> bytes:
        """The keyed hash a link state is found by."""
        data = value if isinstance(value, bytes) else value.encode()
        return keyed_hash(self._find, kind.encode() + b"\x00" + data)

    def get(self, nyckel: bytes) -> Lank | None:
        q = (
            select(tables.lank.c.id, tables.lank.c.data)
            .join(tables.lank_nyckel, tables.lank_nyckel.c.lank == tables.lank.c.id)
            .where(tables.lank_nyckel.c.nyckel == nyckel)
        )
        row = self.session.execute(q).first()
        if row is None:
            return None
        data = open_seal(self._seal, _SUBJECT, row.data)
        return Lank(**{**data, "id": row.id})

    def save(self, lank: Lank, new_keys: list[bytes], idle_until: date) -> None:
        """Store the state (created or changed) and the keys that find it."""
        data = {k: v for k, v in asdict(lank).items() if k != "id"}
        sealed = seal(self._seal, _SUBJECT, data)
        done = self.session.execute(
            update(tables.lank)
            .where(tables.lank.c.id == lank.id)
            .values(data=sealed, gallras=idle_until)
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            self.session.execute(
                insert(tables.lank).values(id=lank.id, data=sealed, gallras=idle_until)
            )
        if new_keys:
            self.session.execute(
                insert(tables.lank_nyckel), [{"nyckel": k, "lank": lank.id} for k in new_keys]
            )

    def end(self, lank: Lank) -> None:
        """The participation ended: its state and every key that found it are deleted."""
        self.session.execute(delete(tables.lank_nyckel).where(tables.lank_nyckel.c.lank == lank.id))
        self.session.execute(delete(tables.lank).where(tables.lank.c.id == lank.id))


#: Months of inactivity after which a link state is deleted, unless the decision says.
DEFAULT_MONTHS: int = Dokumentation.model_fields["lank_gallras_manader"].default


def idle_until(activity: date, months: int) -> date:
    """The day a state idle since `activity` is deleted (months counted as 30 days)."""
    return activity + timedelta(days=30 * months)


def purge_idle(session: Session, today: date) -> int:
    """Delete the states idle past their decision's months (and the keys that find them);
    how many. Run by every append transaction, before its lines look anything up."""
    idle = select(tables.lank.c.id).where(tables.lank.c.gallras <= today)
    session.execute(delete(tables.lank_nyckel).where(tables.lank_nyckel.c.lank.in_(idle)))
    done = session.execute(delete(tables.lank).where(tables.lank.c.gallras <= today))
    n: int = done.rowcount  # type: ignore[attr-defined]
    return n


def migrate_besokskoder(
    conn: Connection, keys: NamndKeys, logged: Callable[[UUID], Deltagande | None], today: date
) -> int:
    """Stores made before linkage moved out of the log kept each besökskod in clear beside
    its participation id (`iub_besokskod`). Each still-open participation's course moves
    into the link state, found by the keyed hashes of its besökskod and its id, and the
    table is dropped; how many moved. (Records written then keep what they hold: the log
    is never rewritten — docs/guarantees.md.)"""
    if OLD_TABLE not in inspect(conn).get_table_names():
        return 0
    lankar = Lankar(conn, keys)
    moved = 0
    rows = conn.execute(sql_text("SELECT kod, deltagande FROM iub_besokskod")).all()
    for kod, deltagande in rows:
        agg = logged(UUID(str(deltagande)))
        if agg is None or agg.avslutad:
            continue
        course = Lank.of_logged(agg)
        wanted = [lankar.nyckel("besokskod", kod), lankar.nyckel("post", course.oppnad)]
        found = [k for k in wanted if lankar.get(k) is not None]
        if found:
            continue
        lankar.save(course, wanted, idle_until(today, DEFAULT_MONTHS))
        moved += 1
    conn.execute(sql_text("DROP TABLE iub_besokskod"))
    return moved
