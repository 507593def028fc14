"""The library's SQLAlchemy persistence, with the records of a transaction inserted by one
executemany of a Core INSERT instead of one ORM object and one INSERT per record; their
notification ids are then read back with one SELECT. Same table, same rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import insert, select
from sqlalchemy.orm import Session


class Recorder(SQLAlchemyApplicationRecorder):
    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        if not stored_events:
            return []
        if self._has_autoincrementing_ids:
            self._lock_table(session)  # PostgreSQL: ids in commit order, as the library does
        table = self.events_record_cls.__table__
        rows = [
            {
                "originator_id": e.originator_id,
                "originator_version": e.originator_version,
                "topic": e.topic,
                "state": e.state,
            }
            for e in stored_events
        ]
        session.execute(insert(table), rows)
        # The newest rows are these: the transaction holds the table's write lock (the
        # database's on SQLite, the table lock above on PostgreSQL) until it commits.
        newest = session.execute(
            select(table.c.id, table.c.originator_id, table.c.originator_version)
            .order_by(table.c.id.desc())
            .limit(len(rows))
        )
        ids = {(str(oid), version): i for i, oid, version in newest}
        self._notify_channel(session)
        return [ids[(str(e.originator_id), e.originator_version)] for e in stored_events]


class Factory(SQLAlchemyFactory):
    """The library's factory (`PERSISTENCE_MODULE`), with the recorder above."""

    application_recorder_class = Recorder
