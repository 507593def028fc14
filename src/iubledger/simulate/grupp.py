"""Group sessions documented as counts by age band and gender, never as persons."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from iubledger.policies.common import aldersgrupp
from iubledger.simulate.calendar import kursuppehall, season
from iubledger.simulate.malgrupp import draw_age
from iubledger.simulate.plan import Plan


def grupp(plan: Plan, kands: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Attendance by age band and gender (counts only, never persons)."""
    bredd = plan.insats.dokumentation.aldersintervall
    antal = Counter((aldersgrupp(a, bredd), k) for a, k in kands)
    order = {"kvinna": 0, "man": 1, "annat": 2, "uppgift_saknas": 3}
    return [
        {"aldersgrupp": g, "kon": k, "antal": n}
        for (g, k), n in sorted(
            antal.items(), key=lambda item: (int(item[0][0].split("-")[0]), order[item[0][1]])
        )
    ]


def besokare(plan: Plan, n: int) -> list[tuple[int, str]]:
    """Anonymous attendees drawn from the target group: (age, gender)."""
    rng = plan.rng
    out = []
    for _ in range(n):
        roll = rng.choice(plan.personer.roller)
        if roll.typ == "foralder" and plan.slag == "oppen" and rng.random() < 0.45:
            out.append((rng.randint(roll.fran, roll.till), rng.choice(("kvinna", "man"))))
        elif roll.typ == "foralder":
            out.append((max(18, roll.fran + int(rng.triangular(20, 44, 31))), plan.personer.kon()))
        else:
            out.append((draw_age(rng, roll), plan.personer.kon()))
    return out


def sessioner(plan: Plan, d: date) -> list[dict[str, Any]]:
    """Group sessions held on `d`, documented as counts by age band and gender
    (14 kap. 5 § SoL: number of participants, age band, gender); a course's registered
    participants are among those counted."""
    rng = plan.rng
    if not plan.sessionsdag(d):
        return []
    if plan.slag == "grupp":
        registrerade = plan.narvaro.pop(d, [])
        if kursuppehall(d):
            return []
        parallel = max(1 if registrerade else 0, plan.stochastic_round(plan.scale))
        out = []
        for g in range(parallel):
            kands = registrerade[g::parallel]
            size = max(len(kands), int(rng.triangular(4, 15, 7)))
            kands = kands + besokare(plan, min(40, size) - len(kands))
            if kands:
                out.append(plan.event("tillfalle", d, plan.utforare(), grupp=grupp(plan, kands)))
        return out
    out = []
    for _ in range(plan.stochastic_round(plan.scale)):
        size = int(rng.triangular(3, 41, 12) * (0.5 + season(d) / 2))
        kands = besokare(plan, min(40, max(3, size)))
        out.append(plan.event("tillfalle", d, plan.utforare(), grupp=grupp(plan, kands)))
    return out
