"""Evaluating the villkor language over checkable facts (pure functions).

11 kap. 5 § SoL: the utförare's summary check of the nämnd's villkor (the models are
`iubledger.schemas.villkor`). All hold → uppfyllda; any fails → ej_uppfyllda; otherwise
oklart (doubt), in which case the person is referred to the nämnd.
"""

from __future__ import annotations

from iubledger.schemas.villkor import (
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


def _covers(r: Alder | ForalderTillBarn, age: int) -> bool:
    """The age is within the range, bounds included."""
    return (r.fran is None or age >= r.fran) and (r.till is None or age <= r.till)


def _holds(v: Villkor, f: Fakta) -> bool | None:
    """True, False, or None when the facts do not settle it."""
    match v:
        case Alder():
            return None if f.alder is None else _covers(v, f.alder)
        case Folkbokford(vem="deltagare"):
            return f.folkbokford_i_kommunen
        case Folkbokford():
            return f.barn_folkbokford_i_kommunen
        case BarnIFskola():
            if f.barn_skolform is None:
                return None
            if f.barn_skolform not in v.skolformer:
                return False
            if v.arskurs_fran is None and v.arskurs_till is None:
                return True
            if f.barn_arskurs is None:
                return None
            lo = v.arskurs_fran if v.arskurs_fran is not None else 0
            hi = v.arskurs_till if v.arskurs_till is not None else 12
            return lo <= f.barn_arskurs <= hi
        case ForalderTillBarn():
            return None if f.barn_alder is None else any(_covers(v, a) for a in f.barn_alder)
        case GemensamBegaran():
            return f.gemensam_begaran
        case UppdragExternPart():
            return f.uppdrag_fran_extern_part
        case VardnadshavaresSamtycke():
            if f.alder is None:
                return None
            if f.alder >= v.under_alder:
                return True
            if f.vardnadshavare_samtycker is None:
                return None
            return f.vardnadshavare_samtycker >= (2 if v.antal == "bada" else 1)
        case UtanMedfoljandeBarn():
            return None if f.medfoljande_barn is None else not f.medfoljande_barn
        case IngaVillkor():
            return True
        case HandlingUppvisad():
            if f.handling_oklar or f.handlingar is None:
                return None
            return any(h in v.handlingar for h in f.handlingar)
        case NagotAv():
            results = [_holds(w, f) for w in v.villkor]
            if any(r is True for r in results):
                return True
            return None if any(r is None for r in results) else False
    raise TypeError("unknown villkor kind")  # unreachable: the union is closed


def evaluate(villkor: list[Villkor], fakta: Fakta) -> Utfall:
    """The summary check of 11 kap. 5 § SoL: all hold → uppfyllda; any fails → ej_uppfyllda;
    otherwise oklart, and the person is referred to the nämnd."""
    results = [_holds(v, fakta) for v in villkor]
    if any(r is False for r in results):
        return Utfall.ej_uppfyllda
    if all(r is True for r in results):
        return Utfall.uppfyllda
    return Utfall.oklart
