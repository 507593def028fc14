"""The villkor language as data: the kinds of villkor, the facts checked, the outcome.

11 kap. 5 § SoL: the nämnd decides the villkor of an insats given without individual
needs assessment. Villkor must be simple facts the utförare can check (a summary
check, never a needs assessment). Outcomes: uppfyllda, ej_uppfyllda, or oklart
(doubt), in which case the person is referred to the nämnd. The evaluation is
`iubledger.decisions.villkor`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints, model_validator

from iubledger.schemas.base import Input, ShortText

Skolform = Literal["forskola", "grundskola", "gymnasieskola"]
#: A name the nämnd chooses: a declared fact, a document, a role, an area, a situation.
Namn = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
#: Documents an utförare may see; the built-in ones, or any other the decision names
#: (e.g. "diagnosintyg").
Handling = Namn
Kon = Literal["kvinna", "man", "annat", "uppgift_saknas"]


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


class _OptionalRange(Input):
    """An inclusive age range where both bounds may be left out (any age)."""

    fran: int | None = Field(default=None, ge=0, le=120)
    till: int | None = Field(default=None, ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> _OptionalRange:
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


class KonVillkor(Input):
    """The participant's gender is one of those listed ("kvinnor och icke-binära")."""

    typ: Literal["kon"]
    kon: list[Kon] = Field(min_length=1)


class Relation(_OptionalRange):
    """The participant stands in `roll` to another person whose age is in the range
    ("anhörig till", "förälder till placerat barn upp till 18 år", "syskon till ung person")."""

    typ: Literal["relation"]
    roll: Namn


class Omrade(Input):
    """The participant lives in one of the listed areas within the kommun (stadsdel,
    stadsområde)."""

    typ: Literal["omrade"]
    omraden: list[Namn] = Field(min_length=1)


class Situation(Input):
    """A situation the person attests ("utsatt för brott", "självupplevd psykisk ohälsa")."""

    typ: Literal["situation"]
    situation: Namn


class SynnerligaSkal(Input):
    """Below `under_alder` only for synnerliga skäl, documented by the utförare ("barn under
    12 år endast om synnerliga skäl finns"); from that age it always holds."""

    typ: Literal["synnerliga_skal"]
    under_alder: int = Field(ge=1, le=120)


#: The value of a declared fact: yes/no, a number, a date, or an enum value.
Varde = StrictBool | int | date | Namn


class Faktum(Input):
    """A fact the decision file declares (`fakta`), compared with one of: `ar` (equals),
    `i` (one of), `fran`/`till` (an int or date range, inclusive)."""

    typ: Literal["faktum"]
    namn: Namn
    ar: Varde | None = None
    i: list[Namn] | None = Field(default=None, min_length=1)
    fran: int | date | None = None
    till: int | date | None = None

    @model_validator(mode="after")
    def _one_comparison(self) -> Faktum:
        forms = [self.ar is not None, self.i is not None, (self.fran, self.till) != (None, None)]
        if sum(forms) != 1:
            raise ValueError("a faktum villkor compares with one of 'ar', 'i' or 'fran'/'till'")
        if self.fran is not None and self.till is not None:
            if type(self.fran) is not type(self.till):
                raise ValueError("'fran' and 'till' must both be numbers or both dates")
            if self.fran > self.till:  # type: ignore[operator]
                raise ValueError("'fran' must not be greater than 'till'")
        return self


class AllaAv(Input):
    """Every listed villkor holds ("A och B" inside an either/or)."""

    typ: Literal["alla_av"]
    villkor: list[Villkor] = Field(min_length=1)


class NagotAv(Input):
    """At least one of the listed villkor holds ("för vuxna eller barn")."""

    typ: Literal["nagot_av"]
    villkor: list[Villkor] = Field(min_length=2)


class Inte(Input):
    """The villkor does not hold ("som inte uppbär ekonomiskt bistånd")."""

    typ: Literal["inte"]
    villkor: Villkor


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
    | KonVillkor
    | Relation
    | Omrade
    | Situation
    | SynnerligaSkal
    | Faktum
    | AllaAv
    | NagotAv
    | Inte,
    Field(discriminator="typ"),
]
AllaAv.model_rebuild()
NagotAv.model_rebuild()
Inte.model_rebuild()


def walk(villkor: list[Villkor], at: str = "villkor") -> Iterator[tuple[str, Villkor]]:
    """Every villkor with its path in the file, those nested in a combinator after it."""
    for n, v in enumerate(villkor):
        yield from _walk_one(v, f"{at}.{n}")


def _walk_one(v: Villkor, here: str) -> Iterator[tuple[str, Villkor]]:
    yield here, v
    match v:
        case AllaAv() | NagotAv():
            yield from walk(v.villkor, f"{here}.villkor")
        case Inte():
            yield from _walk_one(v.villkor, f"{here}.villkor")
        case _:
            pass


class RelationFakta(Input):
    """A person the participant stands in a role to, with that person's age if known."""

    roll: Namn
    alder: int | None = Field(default=None, ge=0, le=120)


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
    #: How many vårdnadshavare the child has (1 under ensam vårdnad).
    antal_vardnadshavare: int | None = Field(default=None, ge=1, le=2)
    medfoljande_barn: bool | None = None
    handlingar: list[Handling] | None = None
    handling_oklar: bool = False
    kon: Kon | None = None
    relationer: list[RelationFakta] | None = None
    omrade: Namn | None = None
    situationer: list[Namn] | None = None
    synnerliga_skal: bool | None = None
    #: Values of the facts the decision file declares, by their name.
    deklarerade: dict[Namn, Varde] | None = None
