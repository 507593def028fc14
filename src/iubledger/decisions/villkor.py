"""Evaluating the villkor language over checkable facts (pure functions).

11 kap. 5 § SoL: the utförare's summary check of the nämnd's villkor (the models are
`iubledger.schemas.villkor`). All hold → uppfyllda; any fails → ej_uppfyllda; otherwise
oklart (doubt), in which case the person is referred to the nämnd.

The combinators follow three-valued (Kleene) logic, with None for "not settled":
`alla_av` is false if any member is false, `nagot_av` true if any member is true, `inte`
swaps true and false and leaves doubt as doubt.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

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


def all_of(results: Iterable[bool | None]) -> bool | None:
    """Kleene conjunction: false wins, then doubt."""
    rs = list(results)
    if any(r is False for r in rs):
        return False
    return True if all(r is True for r in rs) else None


def any_of(results: Iterable[bool | None]) -> bool | None:
    """Kleene disjunction: true wins, then doubt."""
    rs = list(results)
    if any(r is True for r in rs):
        return True
    return None if any(r is None for r in rs) else False


def _covers(r: Alder | ForalderTillBarn | Relation, age: int) -> bool:
    """The age is within the range, bounds included."""
    return (r.fran is None or age >= r.fran) and (r.till is None or age <= r.till)


def holds(v: Villkor, f: Fakta) -> bool | None:
    """One villkor over the facts: True, False, or None when the facts do not settle it."""
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
            return f.vardnadshavare_samtycker >= samtycken_som_kravs(
                v.antal, f.antal_vardnadshavare
            )
        case UtanMedfoljandeBarn():
            return None if f.medfoljande_barn is None else not f.medfoljande_barn
        case IngaVillkor():
            return True
        case HandlingUppvisad():
            if f.handling_oklar or f.handlingar is None:
                return None
            return any(h in v.handlingar for h in f.handlingar)
        case KonVillkor():
            return None if f.kon is None or f.kon == "uppgift_saknas" else f.kon in v.kon
        case Relation():
            return _relation(v, f)
        case Omrade():
            return None if f.omrade is None else f.omrade in v.omraden
        case Situation():
            return None if f.situationer is None else v.situation in f.situationer
        case SynnerligaSkal():
            if f.alder is None:
                return None
            return True if f.alder >= v.under_alder else f.synnerliga_skal
        case Faktum():
            return _faktum(v, f)
        case AllaAv():
            return all_of(holds(w, f) for w in v.villkor)
        case NagotAv():
            return any_of(holds(w, f) for w in v.villkor)
        case Inte():
            inner = holds(v.villkor, f)
            return None if inner is None else not inner
    raise TypeError("unknown villkor kind")  # unreachable: the union is closed


def samtycken_som_kravs(antal: str, antal_vardnadshavare: int | None) -> int:
    """How many vårdnadshavare must consent: one, or both, which is one where the child
    has a single vårdnadshavare (ensam vårdnad)."""
    if antal == "en":
        return 1
    return antal_vardnadshavare if antal_vardnadshavare is not None else 2


def _relation(v: Relation, f: Fakta) -> bool | None:
    """Some person the participant stands in the role to is in the age range; doubt when
    such a person's age is unknown."""
    if f.relationer is None:
        return None
    ages = [r.alder for r in f.relationer if r.roll == v.roll]
    if v.fran is None and v.till is None:
        return bool(ages)
    return any_of(None if a is None else _covers(v, a) for a in ages)


def _faktum(v: Faktum, f: Fakta) -> bool | None:
    """A declared fact against its villkor; the values were checked against the declaration
    when the event was read (`decisions.fakta`)."""
    value = None if f.deklarerade is None else f.deklarerade.get(v.namn)
    if value is None:
        return None
    if v.ar is not None:
        return type(value) is type(v.ar) and value == v.ar
    if v.i is not None:
        return value in v.i
    if isinstance(value, bool) or not isinstance(value, int | date):
        return None
    lo, hi = v.fran, v.till
    if any(b is not None and type(b) is not type(value) for b in (lo, hi)):
        return None
    return (lo is None or lo <= value) and (hi is None or value <= hi)  # type: ignore[operator]


def evaluate(villkor: list[Villkor], fakta: Fakta) -> Utfall:
    """The summary check of 11 kap. 5 § SoL: all hold → uppfyllda; any fails → ej_uppfyllda;
    otherwise oklart, and the person is referred to the nämnd."""
    result = all_of(holds(v, fakta) for v in villkor)
    if result is None:
        return Utfall.oklart
    return Utfall.uppfyllda if result else Utfall.ej_uppfyllda


def required(villkor: list[Villkor]) -> Iterator[Villkor]:
    """The villkor that must hold whatever else holds: the top level and inside `alla_av`
    (not those in `nagot_av` or under `inte`)."""
    for v in villkor:
        yield v
        if isinstance(v, AllaAv):
            yield from required(v.villkor)
