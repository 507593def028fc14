"""The villkor language as data: the kinds of villkor, the facts checked, the outcome.

11 kap. 5 § SoL: the nämnd decides the villkor of an insats given without individual
needs assessment. Villkor must be simple facts the utförare can check (a summary
check, never a needs assessment). Outcomes: uppfyllda, ej_uppfyllda, or oklart
(doubt), in which case the person is referred to the nämnd. The evaluation is
`iubledger.decisions.villkor`.
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
