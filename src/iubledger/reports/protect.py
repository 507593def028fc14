"""Publishable tables: every count table meant for the nämnd goes through disclosure control.

With `k=None` counts are exact; that is only for a named, authorised use, and the report
says so (see `Skydd`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iubledger.reports.disclosure import DEFAULT_THRESHOLD, MIN_THRESHOLD, Table, suppress


@dataclass(frozen=True)
class Skydd:
    """Disclosure control of one report: a threshold, or exact counts for a named use."""

    k: int | None = DEFAULT_THRESHOLD
    exakt_for: str | None = None

    def __post_init__(self) -> None:
        if self.k is None and not self.exakt_for:
            raise ValueError("exact counts need a statement of who may use them")
        if self.k is not None and self.k < MIN_THRESHOLD:
            raise ValueError(f"the threshold must be at least {MIN_THRESHOLD}")

    def as_json(self, suppressed: bool) -> dict[str, Any]:
        if self.k is None:
            return {
                "exakta_tal": True,
                "text": f"Exakta tal utan röjandeskydd – får endast användas av: {self.exakt_for}.",
            }
        text = (
            f"Antal mellan 1 och {self.k - 1} redovisas inte (visas som ..), inte heller tal "
            "som skulle göra det möjligt att räkna fram dem (14 kap. 5 § SoL)."
            if suppressed
            else f"Inga antal under {self.k} förekom; inga tal har behövt döljas."
        )
        return {"exakta_tal": False, "troskel": self.k, "undertryckt": suppressed, "text": text}


STANDARD = Skydd()


def table(
    titel: str, rows: list[str], cols: list[str], cells: list[list[int]], skydd: Skydd
) -> dict[str, Any]:
    """A two-way (or one-way) count table as published: suppressed numbers are None."""
    if not rows or not cols:
        return {
            "titel": titel,
            "rader": rows,
            "kolumner": cols,
            "celler": [],
            "radsummor": [],
            "kolumnsummor": [],
            "totalt": 0,
            "undertryckt": False,
        }
    raw = Table(tuple(rows), tuple(cols), tuple(tuple(r) for r in cells))
    if skydd.k is None:
        return {
            "titel": titel,
            "rader": rows,
            "kolumner": cols,
            "celler": cells,
            "radsummor": [sum(r) for r in cells],
            "kolumnsummor": [sum(c) for c in zip(*cells, strict=True)],
            "totalt": sum(map(sum, cells)),
            "undertryckt": False,
        }
    s = suppress(raw, skydd.k)
    return {
        "titel": titel,
        "rader": rows,
        "kolumner": cols,
        "celler": [list(r) for r in s.cells],
        "radsummor": list(s.row_totals),
        "kolumnsummor": list(s.col_totals),
        "totalt": s.grand_total,
        "undertryckt": s.has_suppression,
    }


def share(part: int | None, whole: int | None, skydd: Skydd) -> float | None:
    """A percentage, shown only when it cannot give back a suppressed count: both counts
    published and the complement either zero or at least the threshold."""
    if part is None or whole is None or whole == 0:
        return None
    if skydd.k is not None and (whole < skydd.k or 0 < whole - part < skydd.k):
        return None
    return round(100 * part / whole, 1)


def mean(values: dict[int, int], skydd: Skydd) -> float | None:
    """Mean of a rating, shown only over at least k answers."""
    n = sum(values.values())
    if n == 0 or (skydd.k is not None and n < skydd.k):
        return None
    return round(sum(v * c for v, c in values.items()) / n, 2)
