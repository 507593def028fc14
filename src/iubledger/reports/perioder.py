"""The report periods a reader of the web interface may choose: whole calendar quarters,
half-years and years that have ended (14 kap. 5 § SoL; DESIGN G8, reports resist
differencing).

A period that is still running, or one that starts or ends on any day, would let a reader
subtract two reports that differ by a day or a week and so see counts that disclosure
control hides in each of them. Ended calendar periods never change after they are
published, and their edges are the same for every reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Slag = Literal["ar", "halvar", "kvartal"]
SLAG: tuple[Slag, ...] = ("halvar", "kvartal", "ar")
_MANADER: dict[Slag, int] = {"kvartal": 3, "halvar": 6, "ar": 12}


@dataclass(frozen=True)
class Period:
    """One choosable report period, named in Swedish."""

    slag: Slag
    fran: date
    till: date

    @property
    def namn(self) -> str:
        if self.slag == "ar":
            return f"År {self.fran.year}"
        n = (self.fran.month - 1) // _MANADER[self.slag] + 1
        what = "kvartal" if self.slag == "kvartal" else "halvår"
        return f"{self.fran.year} {what} {n} ({self.fran.isoformat()} – {self.till.isoformat()})"


def _end(year: int, month: int, months: int) -> date:
    """The last day of the period of `months` months starting at (year, month)."""
    nxt = month + months
    year_after, month_after = year + (nxt - 1) // 12, (nxt - 1) % 12 + 1
    return date.fromordinal(date(year_after, month_after, 1).toordinal() - 1)


def choosable(first: date, today: date) -> list[Period]:
    """Every ended period of each kind that has a day on or after `first` (the first
    decision), newest first within each kind, kinds in `SLAG` order."""
    out: list[Period] = []
    for slag in SLAG:
        months = _MANADER[slag]
        found: list[Period] = []
        year, month = first.year, (first.month - 1) // months * months + 1
        while True:
            p = Period(slag, date(year, month, 1), _end(year, month, months))
            if p.till >= today:
                break
            found.append(p)
            month += months
            if month > 12:
                year, month = year + 1, month - 12
        out += reversed(found)
    return out


def allowed(fran: date, till: date, first: date, today: date) -> bool:
    """Whether (fran, till) is one of the choosable periods."""
    return any(p.fran == fran and p.till == till for p in choosable(first, today))
