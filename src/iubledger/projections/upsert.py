"""Dialect-aware bulk writes for view rows (SQLite and PostgreSQL both speak ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def add_counts(
    session: Session,
    table: Table,
    keys: list[str],
    counter: str,
    counts: Mapping[tuple[Any, ...], int],
) -> None:
    """Add each count to its row, creating rows as needed."""
    if not counts:
        return
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={counter: table.c[counter] + stmt.excluded[counter]}
    )
    session.execute(
        stmt, [dict(zip(keys, k, strict=True)) | {counter: n} for k, n in counts.items()]
    )


def insert_ignore(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(_insert(session, table).on_conflict_do_nothing(), rows)
