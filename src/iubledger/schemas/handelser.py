"""Utförare events as input: what an utförare application sends when an insats is carried out.

14 kap. 3 § SoL: executing every insats is documented. Identity fields arrive here and
go straight to the policy layer, which alone decides what of them may be stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, TypeAdapter, model_validator

from iubledger.schemas.base import Input, ShortText, Slug, Text
from iubledger.schemas.villkor import Fakta, Kon, Utfall

InsatsRef = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}/[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")
]
Besokskod = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4}-[0-9A-Z]{4}$")]
Aldersgrupp = Annotated[str, StringConstraints(pattern=r"^(\d{1,3}-\d{1,3}|\d{1,3}\+)$")]
Maende = Annotated[int, Field(ge=1, le=5)]

#: Reasons for dropping out: coded, so they can be counted (14 kap. 5 § SoL: dropout reasons).
AVBROTTSORSAKER = (
    "behov_tillgodosett",
    "annan_insats",
    "flyttat",
    "ej_motiverad",
    "ej_nadd",
    "praktiska_hinder",
    "ohalsa",
    "annat",
)
Avbrottsorsak = Literal[AVBROTTSORSAKER]  # type: ignore[valid-type]


class Deltagare(Input):
    """Who the participant is. Never stored as given: the regime decides (DESIGN.md)."""

    personnummer: Annotated[str, StringConstraints(max_length=20)] | None = None
    namn: ShortText | None = None
    adress: ShortText | None = None
    fodelsedatum: date | None = None
    alder: int | None = Field(default=None, ge=0, le=120)
    kon: Kon | None = None
    folkbokford_kommun: ShortText | None = None
    telefon: Annotated[str, StringConstraints(max_length=30)] | None = None
    epost: Annotated[str, StringConstraints(max_length=200)] | None = None


class Samtycke(Input):
    """Consent for a child: how many vårdnadshavare consented, and the child's own will;
    `antal_vardnadshavare` records how many the child has (1 under ensam vårdnad)."""

    vardnadshavare: int = Field(ge=0, le=2)
    barnet_vill: bool
    antal_vardnadshavare: int | None = Field(default=None, ge=1, le=2)

    @model_validator(mode="after")
    def _at_most_all(self) -> Samtycke:
        antal = self.antal_vardnadshavare
        if antal is not None and self.vardnadshavare > antal:
            raise ValueError("more vårdnadshavare consented than the child has")
        return self


class Gruppantal(Input):
    """Attendance at a group session by age band and gender: counts, never persons."""

    aldersgrupp: Aldersgrupp
    kon: Kon
    antal: int = Field(ge=0, le=10_000)


class _Common(Input):
    id: UUID
    insats: InsatsRef
    utforare: Slug
    datum: date
    deltagande: UUID | None = None
    besokskod: Besokskod | None = None
    oppnad_av: UUID | None = None
    deltagare: Deltagare | None = None
    anteckning: Text | None = None

    @model_validator(mode="after")
    def _one_link(self) -> _Common:
        links = (self.deltagande, self.besokskod, self.oppnad_av)
        if sum(x is not None for x in links) > 1:
            raise ValueError(
                "link a follow-up by one of 'deltagande', 'besokskod' or 'oppnad_av', not several"
            )
        return self

    @property
    def linked(self) -> bool:
        return any(x is not None for x in (self.deltagande, self.besokskod, self.oppnad_av))


class Kontakt(_Common):
    """Someone contacts the utförare; 11 kap. 6 § SoL: they must be told of the right to apply."""

    type: Literal["kontakt"]
    informerad_om_ansokan: bool
    #: The person stays anonymous (e.g. a telephone call): no identity and no villkor facts
    #: are given; the villkor are then not checked, and compliance counts such contacts.
    anonym: bool | None = None

    @model_validator(mode="after")
    def _anonymous(self) -> Kontakt:
        if self.anonym and self.deltagare is not None:
            raise ValueError("an anonymous contact gives no 'deltagare'")
        return self


class Villkorskontroll(_Common):
    """The summary check of the decision's villkor (11 kap. 5 § SoL)."""

    type: Literal["villkorskontroll"]
    utfall: Utfall
    fakta: Fakta | None = None


class Start(_Common):
    """The insats starts for a participant."""

    type: Literal["start"]
    maende: Maende | None = None
    samtycke: Samtycke | None = None
    fakta: Fakta | None = None


class Tillfalle(_Common):
    """One session: for one participation, or a group session given as counts."""

    type: Literal["tillfalle"]
    grupp: list[Gruppantal] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _individual_or_group(self) -> Tillfalle:
        if self.linked == (self.grupp is not None):
            raise ValueError(
                "a tillfalle is either for one participation (linked by 'deltagande', "
                "'besokskod' or 'oppnad_av') "
                "or a group session ('grupp'), not both or neither"
            )
        return self


class Handelse(_Common):
    """An event of significance during the insats (14 kap. 3 § SoL)."""

    type: Literal["handelse"]
    anteckning: Text


class Avbrott(_Common):
    """The participant drops out; the reason is documented even under undantag (14 kap. 5 §)."""

    type: Literal["avbrott"]
    orsak: Avbrottsorsak


class Avslut(_Common):
    """The insats is completed."""

    type: Literal["avslut"]
    maende: Maende | None = None


class Hanvisning(_Common):
    """Referral to the nämnd, e.g. after doubt about the villkor (11 kap. 1 § SoL remains)."""

    type: Literal["hanvisning"]


UtforarHandelse = Annotated[
    Kontakt | Villkorskontroll | Start | Tillfalle | Handelse | Avbrott | Avslut | Hanvisning,
    Field(discriminator="type"),
]
HANDELSE = TypeAdapter(UtforarHandelse)

#: Event types that need an existing participation.
FOLJER_DELTAGANDE = frozenset({"avbrott", "avslut"})
