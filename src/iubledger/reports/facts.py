"""Read the participation projection into plain counts for the reports."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from iubledger.projections.deltagande import aktiv, matt, person

Indelning = Literal["dag", "vecka", "manad", "kvartal", "ar"]
#: The calendar periods in which a participant is counted once (unique participants).
KALENDERPERIODER: tuple[Indelning, ...] = ("dag", "vecka", "manad", "kvartal", "ar")


def period_of(day: date, indelning: Indelning) -> str:
    """The label of the period a day falls in (ISO week; quarters as 2025-K4)."""
    match indelning:
        case "dag":
            return day.isoformat()
        case "vecka":
            y, w, _ = day.isocalendar()
            return f"{y}-V{w:02d}"
        case "manad":
            return f"{day.year}-{day.month:02d}"
        case "kvartal":
            return f"{day.year}-K{(day.month - 1) // 3 + 1}"
        case "ar":
            return str(day.year)
    raise ValueError("unknown period kind")


def first_day(day: date, indelning: Indelning) -> date:
    """The first day of the calendar period `day` falls in."""
    match indelning:
        case "dag":
            return day
        case "vecka":
            return day - timedelta(days=day.weekday())
        case "manad":
            return day.replace(day=1)
        case "kvartal":
            return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        case "ar":
            return day.replace(month=1, day=1)
    raise ValueError("unknown period kind")


def tiling(fran: date, till: date) -> Indelning:
    """The coarsest calendar period of which [fran, till] is a union of whole ones."""
    for kind in reversed(KALENDERPERIODER):
        after = till + timedelta(days=1)
        if first_day(fran, kind) == fran and first_day(after, kind) == after:
            return kind
    return "dag"


def periods(fran: date, till: date, indelning: Indelning) -> list[str]:
    out: list[str] = []
    day = fran
    while day <= till:
        label = period_of(day, indelning)
        if not out or out[-1] != label:
            out.append(label)
        day += timedelta(days=1)
    return out


@dataclass
class Facts:
    """Counts per insats: totals by (measure, value), and per period and measure. Unique
    participants are exact within each calendar period; over a window of several (the
    coarsest that tiles it, `tiling`), a participant is counted once in each."""

    totals: dict[str, Counter[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    series: dict[str, Counter[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    unique: Counter[str] = field(default_factory=Counter)
    #: Counts per insats by utförare: (utförare, measure) → n, for the provider breakdown.
    per_utforare: dict[str, Counter[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(Counter)
    )


def load(
    session: Session,
    fran: date,
    till: date,
    insatser: set[str] | None,
    indelning: Indelning = "manad",
) -> Facts:
    """Counts for [fran, till] from the projection (which must be caught up first)."""
    facts = Facts()
    by_utforare = session.execute(
        select(matt.c.insats, matt.c.utforare, matt.c.matt, matt.c.varde, func.sum(matt.c.antal))
        .where(matt.c.dag >= fran, matt.c.dag <= till)
        .group_by(matt.c.insats, matt.c.utforare, matt.c.matt, matt.c.varde)
    )
    for insats, utforare, m, v, n in by_utforare:
        if insatser is None or insats in insatser:
            series_key = f"tillfalle_{v}" if m == "tillfalle" else m
            facts.per_utforare[insats][(utforare, series_key)] += n
    rows = session.execute(
        select(matt.c.dag, matt.c.insats, matt.c.matt, matt.c.varde, func.sum(matt.c.antal))
        .where(matt.c.dag >= fran, matt.c.dag <= till)
        .group_by(matt.c.dag, matt.c.insats, matt.c.matt, matt.c.varde)
    )
    for dag, insats, m, v, n in rows:
        if insatser is not None and insats not in insatser:
            continue
        facts.totals[insats][(m, v)] += n
        series_key = f"tillfalle_{v}" if m == "tillfalle" else m
        facts.series[insats][(period_of(dag, indelning), series_key)] += n
    participant = func.coalesce(person.c.pseudonym, aktiv.c.nyckel)
    uniq = session.execute(
        select(aktiv.c.insats, func.count(func.distinct(participant)))
        .select_from(aktiv.outerjoin(person, person.c.nyckel == aktiv.c.nyckel))
        .where(aktiv.c.dag >= fran, aktiv.c.dag <= till)
        .group_by(aktiv.c.insats)
    )
    for insats, n in uniq:
        if insatser is None or insats in insatser:
            facts.unique[insats] = n
    # Participants documented under 14 kap. 3 §, counted once per calendar period by the
    # fact their records carry (the log holds nothing that links them).
    kind = tiling(fran, till)
    for insats, counts in facts.totals.items():
        facts.unique[insats] += counts[("unik", kind)]
    return facts
