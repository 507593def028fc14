"""The villkor language: nämnd conditions as data, evaluated over checkable facts.

11 kap. 5 § SoL: the nämnd decides the villkor of an insats given without individual
needs assessment. Villkor must be simple facts the utförare can check (a summary
check, never a needs assessment). Outcomes: uppfyllda, ej_uppfyllda, or oklart
(doubt), in which case the person is referred to the nämnd.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from iubledger.schemas.base import Input, ShortText

Skolform = Literal["forskola", "grundskola", "gymnasieskola"]
Handling = Literal["id_handling", "hyresavtal", "lakarintyg", "intyg_extern_part"]


class Utfall(StrEnum):
    """Outcome of the utförare's summary check (11 kap. 5 § SoL)."""

    uppfyllda = "uppfyllda"
    ej_uppfyllda = "ej_uppfyllda"
    oklart = "oklart"


class _Range(Input):
    fran: int | None = Field(default=None, ge=0, le=120)
    till: int | None = Field(default=None, ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.fran is None and self.till is None:
            raise ValueError("an age range needs 'fran', 'till' or both")
        if self.fran is not None and self.till is not None and self.fran > self.till:
            raise ValueError("'fran' must not be greater than 'till'")
        return self

    def covers(self, age: int) -> bool:
        return (self.fran is None or age >= self.fran) and (self.till is None or age <= self.till)


class Alder(_Range):
    """The participant's age in completed years, inclusive ("Vuxna från 18 år", "15 till 21 år")."""

    typ: Literal["alder"]


class Folkbokford(Input):
    """Folkbokförd in the kommun of the decision: the participant, or the child."""

    typ: Literal["folkbokford"]
    vem: Literal["deltagare", "barnet"] = "deltagare"


class BarnIFskola(Input):
    """The child is enrolled in the kommun's förskola/grundskola, optionally within a year range."""

    typ: Literal["barn_i_skola"]
    skolformer: list[Skolform] = Field(min_length=1)
    arskurs_fran: int | None = Field(default=None, ge=0, le=12)
    arskurs_till: int | None = Field(default=None, ge=0, le=12)

    @model_validator(mode="after")
    def _ordered(self) -> BarnIFskola:
        if (
            self.arskurs_fran is not None
            and self.arskurs_till is not None
            and self.arskurs_fran > self.arskurs_till
        ):
            raise ValueError("'arskurs_fran' must not be greater than 'arskurs_till'")
        return self


class ForalderTillBarn(_Range):
    """Parent or guardian of a child whose age is in the range ("Föräldrar till barn 3-12 år")."""

    typ: Literal["foralder_till_barn"]


class GemensamBegaran(Input):
    """Both parents' joint request (samarbetssamtal)."""

    typ: Literal["gemensam_begaran"]


class UppdragExternPart(Input):
    """The assignment comes from an external party (e.g. an employer)."""

    typ: Literal["uppdrag_extern_part"]
    part: ShortText | None = None


class VardnadshavaresSamtycke(Input):
    """Vårdnadshavares samtycke below an age, from one or both guardians (11 kap. SoL, barn)."""

    typ: Literal["vardnadshavares_samtycke"]
    under_alder: int = Field(ge=1, le=18)
    antal: Literal["en", "bada"] = "en"


class UtanMedfoljandeBarn(Input):
    """No accompanying children (skyddat boende can be IUB only for adults 21+ without children)."""

    typ: Literal["utan_medfoljande_barn"]


class IngaVillkor(Input):
    """Open to all ("inga villkor")."""

    typ: Literal["inga_villkor"]


class HandlingUppvisad(Input):
    """Target-group membership shown by a document; any one of those listed suffices."""

    typ: Literal["handling"]
    handlingar: list[Handling] = Field(min_length=1)


class NagotAv(Input):
    """At least one of the listed villkor holds ("för vuxna eller barn")."""

    typ: Literal["nagot_av"]
    villkor: list[Villkor] = Field(min_length=2)


Villkor = Annotated[
    Alder
    | Folkbokford
    | BarnIFskola
    | ForalderTillBarn
    | GemensamBegaran
    | UppdragExternPart
    | VardnadshavaresSamtycke
    | UtanMedfoljandeBarn
    | IngaVillkor
    | HandlingUppvisad
    | NagotAv,
    Field(discriminator="typ"),
]
NagotAv.model_rebuild()


class Fakta(Input):
    """What an utförare can check on the spot; None means not checked (→ oklart)."""

    alder: int | None = Field(default=None, ge=0, le=120)
    folkbokford_i_kommunen: bool | None = None
    barn_folkbokford_i_kommunen: bool | None = None
    barn_alder: list[int] | None = None
    barn_skolform: Skolform | None = None
    barn_arskurs: int | None = Field(default=None, ge=0, le=12)
    gemensam_begaran: bool | None = None
    uppdrag_fran_extern_part: bool | None = None
    vardnadshavare_samtycker: int | None = Field(default=None, ge=0, le=2)
    medfoljande_barn: bool | None = None
    handlingar: list[Handling] | None = None
    handling_oklar: bool = False


def _holds(v: Villkor, f: Fakta) -> bool | None:
    """True, False, or None when the facts do not settle it."""
    match v:
        case Alder():
            return None if f.alder is None else v.covers(f.alder)
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
            return None if f.barn_alder is None else any(v.covers(a) for a in f.barn_alder)
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
