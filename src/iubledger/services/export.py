"""Export for tillsyn: every stored record as JSON, at-rest cipher opened, identity seals
kept closed (14 kap. 3 § SoL: sealed data is opened only by identity recovery)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from iubledger.store.ledger import Ledger

_LIBRARY_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")


def record(position: int, e: Any) -> dict[str, Any]:
    """One stored record as exported: its position, aggregate, event, id, version, time
    and data."""
    return {
        "position": position,
        "aggregat": type(e).__qualname__.split(".")[0],
        "handelse": type(e).__name__,
        "id": str(e.originator_id),
        "version": e.originator_version,
        "tidpunkt": e.timestamp.isoformat(),
        "data": {k: v for k, v in e.__dict__.items() if k not in _LIBRARY_FIELDS},
    }


def lines(ledger: Ledger) -> Iterator[str]:
    """Every record as one JSON line (without the newline), in log order."""
    for position, e in ledger.records():
        yield json.dumps(record(position, e), ensure_ascii=False, default=str)
