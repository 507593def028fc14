"""Nämnd decision files: which insatser are IUB, with villkor and documentation regime.

11 kap. 5 § SoL (IUB by nämnd decision, with villkor), 14 kap. 3–5 § SoL (documentation).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import Field, StringConstraints, model_validator

from iubledger.schemas.base import Input, ShortText, Slug, Text
from iubledger.schemas.period import Datumprecision
from iubledger.schemas.villkor import Villkor

InsatsId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")]


class Regim(StrEnum):
    """Documentation regimes; the policy layer is keyed by them (DESIGN.md)."""

    full_14_3 = "full_14_3"
    deltagardata = "deltagardata"
    radgivning_14_4 = "radgivning_14_4"
    undantag_14_5 = "undantag_14_5"
    aggregat = "aggregat"


#: Regimes under which no identity value may reach storage (G1).
IDENTITY_FREE = frozenset({Regim.radgivning_14_4, Regim.undantag_14_5, Regim.aggregat})

PARAGRAF = {
    Regim.full_14_3: "14 kap. 3 § SoL",
    Regim.deltagardata: "14 kap. 3 § SoL",
    Regim.radgivning_14_4: "14 kap. 4 § SoL",
    Regim.undantag_14_5: "14 kap. 5 § SoL",
    Regim.aggregat: "14 kap. 3 och 5 §§ SoL",
}

Kategori = Literal["radgivning", "stod_i_grupp", "individuellt_stod", "motesplats"]

#: Forms of insats that 11 kap. 5 § SoL never allows without needs assessment.
Utesluten = Literal[
    "kontaktperson",
    "kontaktfamilj",
    "kvalificerad_kontaktperson",
    "familjehem",
    "lvm_hem",
    "sarskilt_ungdomshem",
    "jourhem_barn",
    "stodboende_barn",
    "skyddat_boende_barn",
    "hvb_barn",
    "boende_aldre",
    "boende_funktionsnedsattning",
    "heldygnsvard",
    "ekonomiskt_bistand",
]
UTESLUTNA_FORMER: frozenset[str] = frozenset(get_args(Utesluten))
Tillaten = Literal[
    "radgivning",
    "samtalsstod",
    "behandling",
    "stod_i_grupp",
    "motesplats",
    "praktiskt_stod",
    "sysselsattning",
    "skyddat_boende",
]
#: Every form a decision file may name; the excluded ones are named so they can be refused.
Insatsform = Literal[Tillaten, Utesluten]


class Dokumentation(Input):
    """How execution of the insats is documented (14 kap. 3–5 § SoL)."""

    regim: Regim
    aldersintervall: int = Field(default=5, ge=1, le=20)
    #: How finely the date of an event is stored under an identity-free regime (G8).
    datumprecision: Datumprecision | None = None
    #: Months without activity after which a participation's link state is deleted.
    lank_gallras_manader: int = Field(default=6, ge=1, le=24)
    sarskilda_skal: Text | None = None
    riskanalys: ShortText | None = None
    journalsystem: ShortText | None = None

    @property
    def precision(self) -> Datumprecision:
        """The decision's datumprecision; by default a week under 14 kap. 5 § SoL and the
        day otherwise."""
        if self.datumprecision is not None:
            return self.datumprecision
        return "vecka" if self.regim is Regim.undantag_14_5 else "dag"

    @property
    def lankfri(self) -> bool:
        """Records link nothing: each is its own, linkage lives outside the log (14 kap.
        5 § SoL, and the counts-only aggregat)."""
        return self.regim in (Regim.undantag_14_5, Regim.aggregat)


class Tillhandahallare(Input):
    """Who provides the insats: the nämnd or stadsområde, and the utförare registered for it."""

    namnd: ShortText
    utforare: list[Slug] = Field(min_length=1)


class InsatsBeslut(Input):
    """One insats made IUB: its villkor and documentation regime."""

    id: InsatsId
    namn: ShortText
    kategori: Kategori
    insatsform: Insatsform
    behov: Literal["personliga", "ekonomiska"] = "personliga"
    malgrupp: Text
    villkor: list[Villkor] = Field(min_length=1)
    dokumentation: Dokumentation
    uppfoljning: Literal["besoksstatistik", "individbaserad"]
    tillhandahalls_av: Tillhandahallare
    barn_utan_samtycke_fran_15: bool = False


class BeslutsFil(Input):
    """A nämnd decision document: header plus the insatser it makes IUB."""

    format: Literal["iubledger.beslut/1"]
    katalog: Slug
    namnd: ShortText
    kommun: ShortText
    diarienummer: ShortText
    paragraf: ShortText
    beslutsdatum: date
    giltig_fran: date
    giltig_till: date | None = None
    revideras_senast: date | None = None
    andring: bool = False
    insatser: list[InsatsBeslut] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self) -> BeslutsFil:
        if self.giltig_till is not None and self.giltig_till < self.giltig_fran:
            raise ValueError("'giltig_till' is before 'giltig_fran'")
        if self.giltig_fran < self.beslutsdatum:
            raise ValueError("'giltig_fran' is before 'beslutsdatum'")
        ids = [i.id for i in self.insatser]
        if len(ids) != len(set(ids)):
            raise ValueError("an insats id occurs more than once")
        return self
