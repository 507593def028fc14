"""Publishable tables: every count table meant for the nämnd goes through disclosure control.

With `k=None` counts are exact; that is only for a named, authorised use, and the report
says so (see `Skydd`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

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
                "metod": "Exakta tal för den begärda perioden och det begärda urvalet; "
                "effektrapporten jämför hela kalenderkvartal.",
            }
        text = (
            f"Antal mellan 1 och {self.k - 1} redovisas inte (visas som ..), inte heller tal "
            "som skulle göra det möjligt att räkna fram dem (14 kap. 5 § SoL)."
            if suppressed
            else f"Inga antal under {self.k} förekom; inga tal har behövt döljas."
        )
        return {
            "exakta_tal": False,
            "troskel": self.k,
            "undertryckt": suppressed,
            "text": f"{text} {METOD}",
            "metod": METOD,
        }


STANDARD = Skydd()

#: The fixed publication period of every report with disclosure control (calendar
#: quarters, as official statistics are published): a shorter one hides more of a long
#: report, since a number hidden in any period is hidden in every sum it enters.
PUBLICERINGSPERIOD: Literal["manad", "kvartal", "ar"] = "kvartal"

#: The method against differencing, stated in every report with disclosure control.
METOD = (
    "Skydd mot differensröjande: fasta publiceringsperioder och en minsta enhet. Varje tal är "
    "en summa av tabeller för ett kalenderkvartal och en insats, var och en skyddad för sig; "
    "ett tal som döljs i en sådan tabell döljs i varje summa det ingår i. Perioden utvidgas "
    "till hela kvartal, och ett urval av insatser eller en nämnd väljer bara vilka tabeller "
    "som summeras. Effektrapporten jämför hela kvartal före och efter en ändring med samma "
    "tabeller som deltagarrapporten. Två rapporter – över olika perioder, med olika urval, "
    "eller en effektrapport och en deltagarrapport – visar därför inget utöver dessa tabeller, "
    "och ett dolt tal kan inte räknas fram genom att dra den ena från den andra. Unika "
    "deltagare räknas per kalenderkvartal och insats; medelvärden och andelar visas bara när "
    "de inte kan ge tillbaka ett dolt antal i någon av tabellerna. Ålder och kön redovisas "
    "för en hel nämnds insatser tillsammans (kvartal och nämnd är dess minsta enhet), "
    "aldrig per insats: annars kunde nämndens tabell och insatsernas ge dolda antal."
)


def publication_periods(fran: date, till: date) -> list[tuple[date, date]]:
    """The calendar periods of kind PUBLICERINGSPERIOD that cover [fran, till]: the fixed
    publication periods of a report with disclosure control (each protected on its own)."""
    step = {"manad": 1, "kvartal": 3, "ar": 12}[PUBLICERINGSPERIOD]
    out = []
    first = date(fran.year, (fran.month - 1) // step * step + 1, 1)
    while first <= till:
        month = first.month - 1 + step
        after = date(first.year + month // 12, month % 12 + 1, 1)
        out.append((first, after - timedelta(days=1)))
        first = after
    return out


def compose(
    parts: Sequence[dict[str, Any]],
    row_key: Callable[[str], Any] | None = None,
    col_key: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """One published table from the published tables of disjoint periods: every number the
    sum of theirs, hidden when any of them is hidden. A row or column a period lacks holds
    zeros there. What the sum shows is a function of what the parts show, so no set of such
    sums reveals more than the parts (each protected on its own)."""
    used = [p for p in parts if p["rader"] and p["kolumner"]]
    if not used:
        return parts[0]
    rows = list(dict.fromkeys(r for p in used for r in p["rader"]))
    cols = list(dict.fromkeys(c for p in used for c in p["kolumner"]))
    if row_key is not None:
        rows.sort(key=row_key)
    if col_key is not None:
        cols.sort(key=col_key)

    def total(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(v for v in values if v is not None)

    def cell(p: dict[str, Any], r: str, c: str) -> int | None:
        if r not in p["rader"] or c not in p["kolumner"]:
            return 0
        value: int | None = p["celler"][p["rader"].index(r)][p["kolumner"].index(c)]
        return value

    def margin(p: dict[str, Any], labels: str, sums: str, label: str) -> int | None:
        if label not in p[labels]:
            return 0
        value: int | None = p[sums][p[labels].index(label)]
        return value

    return {
        "titel": used[0]["titel"],
        "rader": rows,
        "kolumner": cols,
        "celler": [[total([cell(p, r, c) for p in used]) for c in cols] for r in rows],
        "radsummor": [total([margin(p, "rader", "radsummor", r) for p in used]) for r in rows],
        "kolumnsummor": [
            total([margin(p, "kolumner", "kolumnsummor", c) for p in used]) for c in cols
        ],
        "totalt": total([p["totalt"] for p in used]),
        "undertryckt": any(p["undertryckt"] for p in used),
    }


def table(
    titel: str,
    rows: list[str],
    cols: list[str],
    cells: list[list[int]],
    skydd: Skydd,
    *,
    hide_total: bool = False,
) -> dict[str, Any]:
    """A two-way (or one-way) count table as published: suppressed numbers are None
    (`hide_total`: see `disclosure.suppress`)."""
    if not rows or not cols:
        return {
            "titel": titel,
            "rader": rows,
            "kolumner": cols,
            "celler": [[] for _ in rows],
            "radsummor": [0] * len(rows),
            "kolumnsummor": [0] * len(cols),
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
    s = suppress(raw, skydd.k, hide_total=hide_total)
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


def share_of_units(units: Sequence[tuple[int | None, int | None]], skydd: Skydd) -> float | None:
    """A percentage over base units, (part, whole) as each publishes them: under disclosure
    control shown only when every unit with a whole would show its own share, so that no
    difference of two shares (over other periods or insatser) rests on a hidden count or a
    small complement."""
    if skydd.k is not None and any(w != 0 and share(p, w, skydd) is None for p, w in units):
        return None
    parts, wholes = [p for p, _ in units], [w for _, w in units]
    if None in parts or None in wholes:
        return None
    return share(sum(p or 0 for p in parts), sum(w or 0 for w in wholes), skydd)


def mean(values: dict[int, int], skydd: Skydd) -> float | None:
    """Mean of a rating, shown only over at least k answers."""
    n = sum(values.values())
    if n == 0 or (skydd.k is not None and n < skydd.k):
        return None
    return round(sum(v * c for v, c in values.items()) / n, 2)
