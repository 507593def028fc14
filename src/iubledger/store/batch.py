"""One transaction of appends (`Ledger.append_batch`; a single append is a batch of one).

Read once per batch under the log's write lock: the stored results of the lines' client
ids and the stored versions of the participations they name. Lines are then checked and
staged in memory, in order, and the batch's records, Merkle nodes, idempotency rows,
courses and subject keys are written once at the end (14 kap. 3 § SoL documentation, G5, G6).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from iubledger.aggregates.deltagande import Deltagande
from iubledger.decisions.index import DecisionIndex
from iubledger.projections.upsert import add_counts
from iubledger.roles import Forbidden
from iubledger.schemas.base import Rejected
from iubledger.schemas.handelser import UtforarHandelse
from iubledger.store import tables
from iubledger.store.keys import PendingKeys
from iubledger.store.kurs import Kurser


@dataclass(frozen=True)
class Parsed:
    """A line that passed validation and the role check, with its client-id keys."""

    h: UtforarHandelse
    nyckel: bytes
    opened_by: bytes | None

    @property
    def nycklar(self) -> list[bytes]:
        return [self.nyckel] if self.opened_by is None else [self.nyckel, self.opened_by]


@dataclass
class Work:
    """One transaction of appends, under the log's write lock: the results by client-id key
    (stored before, or staged now), the stored versions of the participations its lines
    name, the participations it changed and the records it will store, in line order."""

    session: Session
    decisions: DecisionIndex
    keys: PendingKeys
    results: dict[bytes, dict[str, Any]]
    versions: dict[UUID, int]
    aggregates: dict[UUID, Deltagande] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    #: Per accepted line: client-id key, result as stored, first record, result as answered.
    klient: list[tuple[bytes, dict[str, Any], int, dict[str, Any]]] = field(default_factory=list)
    #: The courses kept beside the log (14 kap. 3 §) that the lines read and change.
    kurser: Kurser = field(init=False)

    def __post_init__(self) -> None:
        self.kurser = Kurser(self.session, self.keys)

    def stage(
        self,
        nyckel: bytes,
        targets: Sequence[Aggregate],
        result: dict[str, Any],
        *,
        shown_once: Sequence[str] = (),
    ) -> None:
        """Take the targets' pending events as one line's records, and its result (whose
        position is filled in once the records are stored). The keys `shown_once` are
        answered now and never stored with the result (they would link records)."""
        stored = {k: v for k, v in result.items() if k not in shown_once}
        self.klient.append((nyckel, stored, len(self.events), result))
        self.results[nyckel] = stored
        for target in targets:
            self.events.extend(target.collect_events())
            if isinstance(target, Deltagande):
                self.aggregates[target.id] = target


def _pages(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """The distinct values in sorted pages, for `IN (…)` look-ups of bounded length."""
    unique = sorted(set(values))
    for i in range(0, len(unique), size):
        yield unique[i : i + size]


def stored_results(session: Session, nycklar: Sequence[bytes]) -> dict[bytes, dict[str, Any]]:
    """The stored results of earlier events with these client-id keys."""
    found: dict[bytes, dict[str, Any]] = {}
    for page in _pages(nycklar):
        q = select(tables.klient_id.c.nyckel, tables.klient_id.c.resultat).where(
            tables.klient_id.c.nyckel.in_(page)
        )
        found.update((bytes(k), json.loads(r)) for k, r in session.execute(q))
    return found


def named(lines: Sequence[Parsed | Rejected | Forbidden], results: dict[bytes, Any]) -> set[UUID]:
    """The participations the lines name, by id or by the client id that opened them."""
    ids = set()
    for line in lines:
        if not isinstance(line, Parsed):
            continue
        if line.h.deltagande is not None:
            ids.add(line.h.deltagande)
        if (opened := results.get(line.opened_by or b"")) is not None and "deltagande" in opened:
            ids.add(UUID(opened["deltagande"]))
    return ids


def stored_versions(session: Session, recorder: Any, ids: set[UUID]) -> dict[UUID, int]:
    """The stored version of each of these participations (to check cached ones)."""
    record = recorder.events_record_cls
    found: dict[UUID, int] = {}
    for page in _pages(ids):
        q = (
            select(record.originator_id, func.max(record.originator_version))
            .where(record.originator_id.in_(page))
            .group_by(record.originator_id)
        )
        found.update((oid, v) for oid, v in session.execute(q))
    return found


def rule_of(refusal: Rejected | Forbidden) -> str:
    return refusal.problems[0].code if isinstance(refusal, Rejected) else Forbidden.CODE


def count_refusals(session: Session, rules: Counter[str], mac_key: bytes) -> None:
    """Refusals are counted per rule and day of refusal, never stored (compliance); each
    count row's MAC is renewed with it."""
    if rules:
        today = datetime.now(UTC).date()
        counts = {(today, rule): n for rule, n in rules.items()}
        add_counts(session, tables.avvisning, ["dag", "regel"], "antal", counts)
        t = tables.avvisning
        rows = session.execute(
            select(t.c.regel, t.c.antal).where(t.c.dag == today, t.c.regel.in_(list(rules)))
        ).all()
        for regel, antal in rows:
            session.execute(
                update(t)
                .where(t.c.dag == today, t.c.regel == regel)
                .values(mac=tables.avvisning_mac(mac_key, today, regel, antal))
            )


def store_results(
    session: Session,
    klient: list[tuple[bytes, dict[str, Any], int, dict[str, Any]]],
    mac_key: bytes,
) -> None:
    """The result of each accepted line under its client-id key (idempotency), MACed."""
    rows = [(k, json.dumps(r)) for k, r, _, _ in klient]
    session.execute(
        insert(tables.klient_id),
        [{"nyckel": k, "resultat": r, "mac": tables.klient_mac(mac_key, k, r)} for k, r in rows],
    )
