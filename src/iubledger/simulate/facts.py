"""Villkor facts: what the utförare checks for a person, and the outcome the ledger gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from iubledger.decisions.start import villkor_outcome
from iubledger.schemas.beslut import InsatsBeslut
from iubledger.schemas.villkor import (
    Alder,
    AllaAv,
    BarnIFskola,
    Fakta,
    Faktum,
    Folkbokford,
    ForalderTillBarn,
    GemensamBegaran,
    HandlingUppvisad,
    IngaVillkor,
    Inte,
    KonVillkor,
    NagotAv,
    Omrade,
    Relation,
    Situation,
    SynnerligaSkal,
    UppdragExternPart,
    UtanMedfoljandeBarn,
    Utfall,
    VardnadshavaresSamtycke,
    Villkor,
)
from iubledger.simulate.people import Person, Personer, born, skola_for_alder
from iubledger.simulate.vocabulary import ANDRA_KOMMUNER


def villkorsfakta(
    villkor: list[Villkor], p: Person, d: date, okanda: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The facts the utförare checks for these villkor (only those relevant), as they are
    for the person on `d`; a fact named in `okanda` could not be settled."""
    f: dict[str, Any] = {}
    alder = p.alder(d)

    def visit(v: Villkor) -> None:
        match v:
            case Alder():
                f["alder"] = alder
            case Folkbokford(vem="deltagare"):
                f["folkbokford_i_kommunen"] = p.folkbokford
            case Folkbokford():
                f["barn_folkbokford_i_kommunen"] = p.barn_folkbokford
            case BarnIFskola():
                skola = p.skola or (skola_for_alder(p.barn_alder(d)[0]) if p.barn else None)
                if skola is not None:
                    f["barn_skolform"] = skola[0]
                    if skola[1] is not None:
                        f["barn_arskurs"] = skola[1]
            case ForalderTillBarn():
                if p.barn:
                    f["barn_alder"] = p.barn_alder(d)
            case GemensamBegaran():
                f["gemensam_begaran"] = p.gemensam
            case UppdragExternPart():
                f["uppdrag_fran_extern_part"] = p.uppdrag
            case VardnadshavaresSamtycke():
                f["alder"] = alder
                if alder < v.under_alder:
                    f["vardnadshavare_samtycker"] = p.samtycke_vh
            case UtanMedfoljandeBarn():
                f["medfoljande_barn"] = p.medfoljande_barn
            case HandlingUppvisad():
                f["handlingar"] = list(p.handlingar or v.handlingar[:1])
            case NagotAv() | AllaAv():
                for w in v.villkor:
                    visit(w)
            case KonVillkor():
                f["kon"] = p.kon
            case Relation():
                lo = v.fran if v.fran is not None else 0
                hi = v.till if v.till is not None else lo + 40
                known = v.fran is not None or v.till is not None
                f.setdefault("relationer", []).append(
                    {"roll": v.roll, "alder": (lo + hi) // 2 if known else None}
                )
            case Omrade():
                f["omrade"] = v.omraden[0]
            case Situation():
                f.setdefault("situationer", []).append(v.situation)
            case SynnerligaSkal():
                f["alder"] = alder
                f["synnerliga_skal"] = alder >= v.under_alder
            case Faktum():
                bound = v.fran if v.fran is not None else v.till
                ok = v.ar if v.ar is not None else v.i[0] if v.i is not None else bound
                f.setdefault("deklarerade", {})[v.namn] = ok
            case IngaVillkor() | Inte():
                pass

    for v in villkor:
        visit(v)
    for name in okanda:
        if name == "handlingar":
            f["handling_oklar"] = True
        else:
            f.pop(name, None)
    return f


def villkorsutfall(insats: InsatsBeslut, fakta: dict[str, Any], alder: int | None) -> Utfall:
    """The outcome the ledger computes for these facts (decisions.start.villkor_outcome)."""
    result = villkor_outcome(insats, Fakta(**fakta), alder)
    return Utfall.oklart if result is None else result


def _ej_uppfyllda(personer: Personer, p: Person, d: date) -> list[Person]:
    """Variants of the person for whom the villkor fail (not folkbokförd, wrong age, ...)."""
    rng = personer.rng
    out: list[Person] = []
    for v in personer.insats.villkor:
        match v:
            case Folkbokford(vem="deltagare"):
                out.append(replace(p, folkbokford=False, kommun=rng.choice(ANDRA_KOMMUNER)))
            case Folkbokford() if p.barn:
                out.append(replace(p, barn_folkbokford=False))
            case Folkbokford():  # the participant is the child
                kommun = rng.choice(ANDRA_KOMMUNER)
                out.append(replace(p, barn_folkbokford=False, folkbokford=False, kommun=kommun))
            case Alder():
                ages: list[int] = []
                if v.fran is not None and v.fran > 0:
                    ages += range(max(0, v.fran - 3), v.fran)
                if v.till is not None:
                    ages += range(v.till + 1, v.till + 5)
                if ages:
                    a = rng.choice(ages)
                    barn = p.barn if a >= 18 + max(p.barn_alder(d), default=0) else []
                    out.append(personer.identitet(a, p.kon, d, barn))
            case ForalderTillBarn():
                lo, hi = v.fran or 0, v.till if v.till is not None else 120
                oldest = p.alder(d) - 18
                ages = [a for a in range(0, min(26, oldest + 1)) if not lo <= a <= hi]
                if ages:
                    a = rng.choice(ages)
                    out.append(replace(p, barn=[born(rng, a, d)]))
            case GemensamBegaran():
                out.append(replace(p, gemensam=False))
            case UppdragExternPart():
                out.append(replace(p, uppdrag=False))
            case UtanMedfoljandeBarn():
                out.append(replace(p, medfoljande_barn=True))
            case VardnadshavaresSamtycke():
                if p.alder(d) < v.under_alder:
                    out.append(replace(p, samtycke_vh=1 if v.antal == "bada" else 0))
            case BarnIFskola():
                out.append(replace(p, skola=("gymnasieskola", 11)))
                out.append(replace(p, skola=("grundskola", 9)))
            case HandlingUppvisad():
                other = [
                    h
                    for h in ("id_handling", "hyresavtal", "lakarintyg", "intyg_extern_part")
                    if h not in v.handlingar
                ]
                if other:
                    out.append(replace(p, handlingar=[rng.choice(other)]))
            case _:
                pass
    rng.shuffle(out)
    return out


def kontroll(
    personer: Personer, p: Person, d: date
) -> tuple[Person, Utfall, dict[str, Any], dict[str, Any] | None]:
    """Person, outcome, facts and the deltagare repeated on the check (or None): the
    outcome is the one the facts give, ~85 % uppfyllda, ~8 % ej, ~7 % oklart."""
    rng = personer.rng
    r = rng.random()
    if r >= 0.85 and r < 0.93:
        for variant in _ej_uppfyllda(personer, p, d):
            fakta = villkorsfakta(personer.insats.villkor, variant, d)
            if villkorsutfall(personer.insats, fakta, None) is Utfall.ej_uppfyllda:
                return variant, Utfall.ej_uppfyllda, fakta, None
    elif r >= 0.93:
        fakta = villkorsfakta(personer.insats.villkor, p, d)
        keys = sorted(k for k in fakta if k != "vardnadshavare_samtycker")
        rng.shuffle(keys)
        for key in keys:
            doubt = villkorsfakta(personer.insats.villkor, p, d, frozenset({key}))
            if villkorsutfall(personer.insats, doubt, None) is Utfall.oklart:
                return p, Utfall.oklart, doubt, None
    fakta = villkorsfakta(personer.insats.villkor, p, d)
    repeat: dict[str, Any] | None = None
    if rng.random() < 0.1:
        repeat = {"kon": p.kon, "alder": p.alder(d)}
    utfall = villkorsutfall(personer.insats, fakta, repeat["alder"] if repeat else None)
    return p, utfall, fakta, repeat
