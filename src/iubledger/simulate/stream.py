"""The stream: every insats's plan day by day, merged in date order, as dicts or JSON Lines."""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from iubledger.schemas.beslut import BeslutsFil
from iubledger.simulate.calendar import season, working
from iubledger.simulate.deltagande import deltagande
from iubledger.simulate.grupp import sessioner
from iubledger.simulate.plan import Plan


def dag(plan: Plan, d: date) -> Iterator[tuple[date, dict[str, Any]]]:
    """Everything that starts on `d`: new contacts with their flows, then group sessions."""
    if working(d):
        n = plan.count(plan.kontakter_per_vecka / 5 * season(d) * plan.scale)
        for _ in range(n):
            if plan.slag == "oppen":
                yield (
                    d,
                    plan.event(
                        "kontakt",
                        d,
                        plan.utforare(),
                        informerad_om_ansokan=plan.rng.random() < 0.96,
                    ),
                )
            else:
                yield from deltagande(plan, d)
    for ev in sessioner(plan, d):
        yield d, ev


def simulate(
    fil: BeslutsFil, start: date, end: date, seed: int, scale: float = 1.0
) -> Iterator[dict[str, Any]]:
    """Utförare events for every insats of `fil` from `start` to `end` (inclusive), in
    non-decreasing `datum` order, as JSON-ready dicts (schemas.handelser).

    Only days on which the decision file is in force are used (11 kap. 5 § SoL: no
    decision, no IUB). `scale` multiplies volumes (contacts and parallel group sessions).
    Deterministic in its arguments; pure.
    """
    if scale < 0:
        raise ValueError("scale must not be negative")
    first = max(start, fil.giltig_fran)
    last = min(end, fil.giltig_till) if fil.giltig_till is not None else end
    plans = [
        Plan(
            fil=fil,
            insats=i,
            rng=random.Random(f"iubledger.simulate/{seed}/{fil.katalog}/{i.id}"),  # noqa: S311 simulated data, not security
            scale=scale,
        )
        for i in fil.insatser
    ]
    heap: list[tuple[int, int, dict[str, Any]]] = []
    seq = 0
    d = first
    while d <= last:
        for plan in plans:
            for when, ev in dag(plan, d):
                if when <= last:
                    heapq.heappush(heap, (when.toordinal(), seq, ev))
                    seq += 1
            for gone in [k for k in plan.narvaro if k > last]:
                del plan.narvaro[gone]
        today = d.toordinal()
        while heap and heap[0][0] <= today:
            yield heapq.heappop(heap)[2]
        d += timedelta(days=1)
    while heap:  # nothing should remain: every event kept is dated on or before `last`
        yield heapq.heappop(heap)[2]


def main_lines(
    fil: BeslutsFil, start: date, end: date, seed: int, scale: float = 1.0
) -> Iterator[str]:
    """The stream as compact JSON Lines (for `iubledger simulate`)."""
    for ev in simulate(fil, start, end, seed, scale):
        yield json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
