"""Nämnd decision files: which insatser are IUB, with villkor and documentation regime.

11 kap. 5 § SoL (IUB by nämnd decision, with villkor), 14 kap. 3–5 § SoL (documentation).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StringConstraints, field_validator, model_validator

from iubledger.schemas.base import Input, ShortText, Slug, Text
from iubledger.schemas.period import Datumprecision
from iubledger.schemas.villkor import Faktum, Namn, Villkor, walk

#: The format this version writes; `iubledger.beslut/1` files (and stored versions) are
#: read too: their single `tillhandahalls_av` object becomes a list of one provider.
FORMAT = "iubledger.beslut/2"

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
    #: The nämnd decided the undantag without a risk analysis: importable, and counted as
    #: a deviation in compliance (14 kap. 5 § SoL).
    riskanalys_saknas: bool = False
    journalsystem: ShortText | None = None

    @model_validator(mode="after")
    def _riskanalys(self) -> Dokumentation:
        if self.riskanalys is not None and self.riskanalys_saknas:
            raise ValueError("'riskanalys' and 'riskanalys_saknas' contradict each other")
        return self

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
    """One provider of the insats and the utförare registered for it: a nämnd or
    stadsområde (egen regi), the city as a whole (stadengemensamt), or an external
    utförare under an avtal. `tillsammans_med` names those it provides the insats jointly
    with."""

    typ: Literal["namnd", "stadsomrade", "stadengemensamt", "extern"] = "namnd"
    namn: ShortText
    utforare: list[Slug] = Field(min_length=1)
    avtal: ShortText | None = None
    tillsammans_med: list[ShortText] = Field(default_factory=list)

    @model_validator(mode="after")
    def _avtal(self) -> Tillhandahallare:
        if self.typ == "extern" and self.avtal is None:
            raise ValueError("an external utförare needs the 'avtal' it provides under")
        return self

    @property
    def text(self) -> str:
        """The provider in words: "Grannstaden (extern utförare, avtal 2025/17)"."""
        parts = [TYP_TEXT[self.typ]] if self.typ != "namnd" else []
        parts += [f"avtal {self.avtal}"] if self.avtal else []
        parts += (
            [f"tillsammans med {', '.join(self.tillsammans_med)}"] if self.tillsammans_med else []
        )
        return self.namn + (f" ({', '.join(parts)})" if parts else "")


TYP_TEXT = {
    "namnd": "nämnd",
    "stadsomrade": "stadsområde",
    "stadengemensamt": "stadengemensamt",
    "extern": "extern utförare",
}


class FaktumDeklaration(Input):
    """A fact the utförare checks, declared by the decision and named by `faktum` villkor."""

    namn: Namn
    typ: Literal["bool", "enum", "int", "date"]
    etikett: ShortText
    #: Who attests it: the person themself, a document shown, an external party.
    intygas_av: Literal["personen", "handling", "extern_part"]
    varden: list[Namn] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _varden(self) -> FaktumDeklaration:
        if (self.typ == "enum") != (self.varden is not None):
            raise ValueError("'varden' lists the values of an enum fact, and only of one")
        return self


class Uppfoljningsplikt(Input):
    """A follow-up duty of the decision: what is reported, how often, to whom."""

    slag: Literal["rapport", "enkat", "statistik", "verksamhetsberattelse"]
    frekvens: Literal["manad", "kvartal", "halvar", "ar"]
    mottagare: ShortText


def _provider_list(value: Any) -> Any:
    """Format 1 had one provider object `{namnd, utforare}`; read it as a list of one."""
    if isinstance(value, dict) and "namnd" in value and "namn" not in value:
        return [{"namn": value["namnd"], **{k: v for k, v in value.items() if k != "namnd"}}]
    return value


class InsatsBeslut(Input):
    """One insats made IUB: its villkor and documentation regime."""

    id: InsatsId
    namn: ShortText
    kategori: Kategori
    insatsform: Insatsform
    behov: Literal["personliga", "ekonomiska"] = "personliga"
    malgrupp: Text
    #: The facts its `faktum` villkor name (the file's declarations are copied in on import).
    fakta: list[FaktumDeklaration] = Field(default_factory=list)
    villkor: list[Villkor] = Field(min_length=1)
    dokumentation: Dokumentation
    uppfoljning: Literal["besoksstatistik", "individbaserad"]
    uppfoljningsplikter: list[Uppfoljningsplikt] = Field(default_factory=list)
    tillhandahalls_av: list[Tillhandahallare] = Field(min_length=1)
    barn_utan_samtycke_fran_15: bool = False
    #: This insats (e.g. an undantag decided for an initial period) ends before the file.
    giltig_till: date | None = None
    #: The nämnd reviews this insats by this day (the file's `revideras_senast` otherwise).
    omprovas_senast: date | None = None
    #: At most this many sessions per participation ("max 5 samtal").
    max_tillfallen: int | None = Field(default=None, ge=1, le=1000)
    #: A closed group: no one starts once its first session has been held.
    sluten_grupp: bool = False

    @field_validator("tillhandahalls_av", mode="before")
    @classmethod
    def _format_1(cls, value: Any) -> Any:
        return _provider_list(value)

    @property
    def utforare(self) -> list[str]:
        """Every utförare registered for the insats, over all its providers."""
        return [u for p in self.tillhandahalls_av for u in p.utforare]

    @property
    def tillhandahallare_text(self) -> str:
        """Who provides the insats, as the reports show it."""
        return "; ".join(p.text for p in self.tillhandahalls_av)


class BeslutsFil(Input):
    """A nämnd decision document: header plus the insatser it makes IUB."""

    format: Literal["iubledger.beslut/1", "iubledger.beslut/2"]
    katalog: Slug
    namnd: ShortText
    kommun: ShortText
    #: A proposal, not (yet) decided: importable for testing, never in force in compliance;
    #: only a proposal may leave out diarienummer, paragraf and beslutsdatum.
    forslag: bool = False
    diarienummer: ShortText | None = None
    paragraf: ShortText | None = None
    beslutsdatum: date | None = None
    giltig_fran: date
    giltig_till: date | None = None
    revideras_senast: date | None = None
    andring: bool = False
    #: The facts the utförare check, named by `faktum` villkor of any insats in the file.
    fakta: list[FaktumDeklaration] = Field(default_factory=list)
    insatser: list[InsatsBeslut] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self) -> BeslutsFil:
        if not self.forslag:
            missing = [
                k for k in ("diarienummer", "paragraf", "beslutsdatum") if getattr(self, k) is None
            ]
            if missing:
                raise ValueError(
                    f"a decision needs {', '.join(missing)}; mark a proposal 'forslag': true"
                )
        if self.giltig_till is not None and self.giltig_till < self.giltig_fran:
            raise ValueError("'giltig_till' is before 'giltig_fran'")
        if self.beslutsdatum is not None and self.giltig_fran < self.beslutsdatum:
            raise ValueError("'giltig_fran' is before 'beslutsdatum'")
        self._declare()
        ids = [i.id for i in self.insatser]
        if len(ids) != len(set(ids)):
            raise ValueError("an insats id occurs more than once")
        return self

    def _declare(self) -> None:
        """Copy the file's declared facts into each insats that names them, so each stored
        version holds the declarations its villkor need."""
        names = [d.namn for d in self.fakta]
        if len(names) != len(set(names)):
            raise ValueError("a fact is declared more than once in 'fakta'")
        for n, i in enumerate(self.insatser):
            own = {d.namn for d in i.fakta}
            if own & set(names):
                raise ValueError(f"insats {i.id} declares again a fact the file declares")
            named = {v.namn for _, v in walk(i.villkor) if isinstance(v, Faktum)}
            extra = [d for d in self.fakta if d.namn in named]
            if extra:
                self.insatser[n] = i.model_copy(update={"fakta": [*i.fakta, *extra]})
