"""Pull-based projection runner: read the notification log, write view rows and the
tracking position in one transaction — exactly once, restart-safe, rebuildable.

On SQLite the log is pulled with `select_notifications`; the same `catch_up` runs after a
PostgreSQL subscription wakes it, since the tracking row guards against double work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar, Protocol

import sqlalchemy.exc
from sqlalchemy import (
    BigInteger,
    Column,
    CursorResult,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

metadata = MetaData()

tracking = Table(
    "iub_tracking",
    metadata,
    Column("projektion", String(40), primary_key=True),
    Column("notifikation", BigInteger, nullable=False),
)

Transaction = Callable[[], AbstractContextManager[Session]]


class Projection(Protocol):
    name: str
    tables: ClassVar[list[Table]]

    def apply(self, session: Session, events: list[Any]) -> None:
        """Fold a page of domain events into the view rows."""


class ConcurrentUpdate(RuntimeError):
    """Another runner advanced the tracking position first; this page was rolled back."""


def position(session: Session, name: str) -> int:
    return (
        session.execute(
            select(tracking.c.notifikation).where(tracking.c.projektion == name)
        ).scalar()
        or 0
    )


def _advance(session: Session, name: str, old: int, new: int) -> None:
    """Move the tracking position first in the transaction (taking the write lock);
    if another runner moved it, roll back rather than count twice."""
    if old == 0:  # a concurrent first insert fails on the primary key and rolls back
        try:
            session.execute(insert(tracking).values(projektion=name, notifikation=new))
        except sqlalchemy.exc.IntegrityError:
            raise ConcurrentUpdate(name) from None
        return
    done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(tracking)
        .where(tracking.c.projektion == name, tracking.c.notifikation == old)
        .values(notifikation=new)
    )
    if done.rowcount != 1:
        raise ConcurrentUpdate(name)


def pages(
    ledger: Any, after: int, page: int, until: datetime | None = None, stop: int | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """(last notification id, decoded events) pages after `after`, optionally only records
    made by `until` or within the first `stop` log positions (for replay)."""
    seen = 0
    while batch := ledger.recorder.select_notifications(after, page, inclusive_of_start=False):
        if stop is not None:
            batch = batch[: max(0, stop - seen)]
        events = [ledger.mapper.to_domain_event(n) for n in batch]
        if until is not None:
            events = [e for e in events if e.timestamp <= until]
        if not batch:
            return
        seen += len(batch)
        after = batch[-1].id
        yield after, events


def catch_up(
    ledger: Any,
    projection: Projection,
    transaction: Transaction,
    *,
    page: int = 2000,
    tick: Callable[[int], None] = lambda n: None,
    until: datetime | None = None,
    stop: int | None = None,
) -> int:
    """Bring `projection` up to date; returns the number of records processed."""
    with transaction() as session:
        last = position(session, projection.name)
    processed = 0
    for new_last, events in pages(ledger, last, page, until=until, stop=stop):
        with transaction() as session:
            _advance(session, projection.name, last, new_last)
            projection.apply(session, events)
        processed += len(events)
        tick(len(events))
        last = new_last
    return processed


def reset(projection: Projection, transaction: Transaction) -> None:
    """Drop the projection's rows and position (the log is untouched): rebuild from zero."""
    with transaction() as session:
        for t in projection.tables:
            session.execute(delete(t))
        session.execute(delete(tracking).where(tracking.c.projektion == projection.name))
