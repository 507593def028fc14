"""One participation: a contact and what follows from it, from the villkor check to the end."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from iubledger.schemas.villkor import Utfall
from iubledger.simulate.calendar import kursuppehall, next_working
from iubledger.simulate.facts import kontroll
from iubledger.simulate.people import Person
from iubledger.simulate.plan import Plan
from iubledger.simulate.vocabulary import AVBROTT_VIKT, TEMA_ORD, TEMAN


def deltagande(plan: Plan, d0: date) -> list[tuple[date, dict[str, Any]]]:
    """One contact and what follows from it, in causal order with non-decreasing dates."""
    rng = plan.rng
    utf = plan.utforare()
    p = plan.personer.person(d0)
    out: list[tuple[date, dict[str, Any]]] = []

    def add(typ: str, d: date, **fields: Any) -> dict[str, Any]:
        assert not out or d >= out[-1][0]
        ev = plan.event(typ, d, utf, **fields)
        out.append((d, ev))
        return ev

    utfall = Utfall.uppfyllda
    d = d_check = d0
    fakta: dict[str, Any] = {}
    repeat: dict[str, Any] | None = None
    if plan.har_villkor:
        d_check = d0 if rng.random() < 0.65 else next_working(d0 + timedelta(rng.randint(1, 7)))
        p, utfall, fakta, repeat = kontroll(plan.personer, p, d_check)
    kontakt = add(
        "kontakt",
        d0,
        deltagare=plan.personer.deltagare(p, d0),
        informerad_om_ansokan=rng.random() < 0.96,
    )
    link = {"oppnad_av": kontakt["id"]}
    if plan.har_villkor:
        d = d_check
        extra = {"deltagare": repeat} if repeat else {}
        add("villkorskontroll", d, **link, **extra, utfall=utfall.value, fakta=fakta)
    if utfall is Utfall.ej_uppfyllda:
        if rng.random() < 0.25:
            add("hanvisning", d, **link)
        return out
    if utfall is not Utfall.uppfyllda or rng.random() < 0.06:
        return out

    d = d if rng.random() < 0.4 else next_working(d + timedelta(rng.randint(2, 14)))
    start: dict[str, Any] = {"deltagare": kort(p, d)}
    if rng.random() < 0.85:
        start["maende"] = rng.choices((1, 2, 3, 4, 5), (8, 27, 37, 22, 6))[0]
    alder = p.alder(d)
    if alder < 18:
        start["samtycke"] = {"vardnadshavare": p.samtycke_vh, "barnet_vill": True}
    add("start", d, **link, **start)

    sessions = sessionsdatum(plan, d)[: plan.insats.max_tillfallen]  # "max 5 samtal"
    avbrott = rng.random() < 0.3
    if avbrott and len(sessions) > 1:
        sessions = sessions[: rng.randint(1, len(sessions) - 1)]
    handelser = Counter(
        rng.randrange(len(sessions)) for _ in range(rng.choices((0, 1, 2), (66, 26, 8))[0])
    )
    hanvisning_vid = rng.randrange(len(sessions)) if rng.random() < 0.02 else None
    for n, s in enumerate(sessions):
        extra = {"deltagare": kort(p, s)} if rng.random() < 0.05 else {}
        add("tillfalle", s, **link, **extra)
        if plan.slag == "grupp" and plan.sessionsdag(s):
            plan.narvaro.setdefault(s, []).append((p.alder(s), p.kon))
        for _ in range(handelser[n]):
            add("handelse", s, **link, anteckning=rng.choice(anteckningar(plan, p, s)))
        if hanvisning_vid == n:
            add("hanvisning", s, **link)
            avbrott = True
            break
    last = sessions[-1] if hanvisning_vid is None else sessions[hanvisning_vid]
    if avbrott:
        gap = 0 if hanvisning_vid is not None else rng.randint(7, 35)
        orsak = (
            "annan_insats"
            if hanvisning_vid is not None
            else rng.choices(list(AVBROTT_VIKT), list(AVBROTT_VIKT.values()))[0]
        )
        add("avbrott", next_working(last + timedelta(gap)), **link, orsak=orsak)
    else:
        end = last if rng.random() < 0.6 else next_working(last + timedelta(rng.randint(1, 14)))
        fields: dict[str, Any] = dict(link)
        if rng.random() < 0.05:
            fields["deltagare"] = kort(p, end)
        if rng.random() < 0.8:
            before = start.get("maende", 3)
            delta = rng.choices((-1, 0, 1, 2), (10, 35, 40, 15))[0]
            fields["maende"] = min(5, max(1, before + delta))
        add("avslut", end, **fields)
    return out


def sessionsdatum(plan: Plan, start: date) -> list[date]:
    """Dates of the participant's sessions: weekly-ish, or the group's session days."""
    rng = plan.rng
    if plan.slag == "grupp":
        planned = rng.randint(4, 10)
        out: list[date] = []
        d = start
        for _ in range(400):
            if plan.sessionsdag(d) and not kursuppehall(d):
                if rng.random() < 0.85:
                    out.append(d)
                planned -= 1
                if planned == 0:
                    break
            d += timedelta(days=1)
        return out or [start]
    if plan.insats.kategori == "radgivning":
        n = rng.choices(range(1, 11), (45, 22, 12, 8, 5, 3, 2, 1, 1, 1))[0]
        gaps: tuple[int, ...] = (7, 7, 10, 14, 14, 21)
    else:
        n = rng.choices(range(1, 11), (11, 14, 15, 14, 12, 10, 8, 7, 5, 4))[0]
        gaps = (5, 6, 7, 7, 7, 7, 8, 9, 10, 14)
    d = start if rng.random() < 0.55 else next_working(start + timedelta(rng.randint(2, 7)))
    out = [d]
    for _ in range(n - 1):
        d = next_working(d + timedelta(rng.choice(gaps)))
        out.append(d)
    return out


def anteckningar(plan: Plan, p: Person, d: date) -> tuple[str, ...]:
    """Notes that fit the insats and the participant (a child, a parent, a group)."""
    text = f"{plan.insats.namn} {plan.insats.malgrupp}".lower()
    teman = {tema for word, tema in TEMA_ORD if word in text}
    if p.barn:
        teman.add("foralder")
    if plan.slag == "grupp":
        teman.add("grupp")
    if p.alder(d) < 18:
        teman = {"barn"}
    else:
        teman.add("allman")
    return tuple(n for tema in sorted(teman) for n in TEMAN[tema])


def kort(p: Person, d: date) -> dict[str, Any]:
    """The deltagare repeated minimally: gender and age (what start requires)."""
    return {"kon": p.kon, "alder": p.alder(d)}
