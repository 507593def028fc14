"""The store as verify reads it: one read transaction over everything, so records,
nodes, checkpoints and read models all stand as of one commit — appends committed while
verify runs are not seen and never raise a finding (G5).

SQLite (WAL): an explicit BEGIN holds one snapshot until the end; PostgreSQL: REPEATABLE
READ. The rows are read as stored, without the recorder's type conversions, so a
malformed field becomes a finding at its position rather than a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.engine import Connection, Engine

from iubledger.integrity import checkpoints, cosignatures
from iubledger.integrity import log as merkle_log
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.cosignatures import Cosignature
from iubledger.integrity.merkle import CompactRange
from iubledger.integrity.verify import Node

PAGE = 2000


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one commit of the database throughout."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("SELECT 1 FROM iub_merkle_state LIMIT 1").all()
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()


class StoreSource:
    """verify's `Source` over a snapshot connection; `events` is the recorder's table."""

    interior = True

    def __init__(self, conn: Connection, events: str) -> None:
        self.conn = conn
        self.events = events

    def checkpoints(self) -> list[Checkpoint]:
        return checkpoints.all_checkpoints(self.conn)

    def cosignatures(self) -> tuple[list[Cosignature], int]:
        return cosignatures.all_cosignatures(self.conn), cosignatures.count(self.conn)

    def logged(self) -> CompactRange | int:
        try:
            return merkle_log.load(self.conn)
        except ValueError:
            return int(
                self.conn.execute(
                    select(func.count()).where(merkle_log.nodes.c.level == 0)
                ).scalar_one()
            )

    def pages(self) -> Iterator[list[Any]]:
        after = 0
        columns = "id, originator_id, originator_version, topic, state"
        # The table name is the recorder's own.
        sql = f"SELECT {columns} FROM {self.events} WHERE id > :after ORDER BY id LIMIT :n"  # noqa: S608
        query = text(sql)
        while rows := list(self.conn.execute(query, {"after": after, "n": PAGE})):
            yield rows
            after = rows[-1].id

    def nodes(self, start: int, end: int) -> dict[Node, bytes]:
        """Nodes (level, idx) whose last leaf (idx + 1) * 2**level - 1 is in [start, end)."""
        n = merkle_log.nodes.c
        ranges = [
            and_(n.level == level, n.idx >= start >> level, n.idx < end >> level)
            for level in range(end.bit_length())
            if end >> level > start >> level
        ]
        if not ranges:
            return {}
        rows = self.conn.execute(select(n.level, n.idx, n.hash).where(or_(*ranges)))
        return {(r.level, r.idx): bytes(r.hash) for r in rows}
