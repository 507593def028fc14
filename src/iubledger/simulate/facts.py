"""Villkor facts: what the utförare checks for a person, and the outcome the ledger gives."""

from __future__ import annotations

from datetime import date
from typing import Any

from iubledger.decisions.start import villkor_outcome
from iubledger.decisions.villkor import (
    Alder,
    BarnIFskola,
    Fakta,
    Folkbokford,
    ForalderTillBarn,
    GemensamBegaran,
    HandlingUppvisad,
    IngaVillkor,
    NagotAv,
    UppdragExternPart,
    UtanMedfoljandeBarn,
    Utfall,
    VardnadshavaresSamtycke,
    Villkor,
)
from iubledger.schemas.beslut import InsatsBeslut
from iubledger.simulate.people import Person, skola_for_alder


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
            case NagotAv():
                for w in v.villkor:
                    visit(w)
            case IngaVillkor():
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
