"""The stored documentation of one utförare event, as the policy layer made it (14 kap.
3–5 § SoL): a typed, read-only view of the post each Deltagande or Gruppsession event
holds. The stored JSON is the post itself; readers (projections, compliance, identity
recovery, ownership) read it through `Post`, with the regime as its enum.

Unknown keys are kept (`extra="allow"`), never dropped: compliance reads exactly what is
stored, including what the policy layer would never have written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from iubledger.schemas import period
from iubledger.schemas.beslut import Regim


class _Stored(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class Stampel(_Stored):
    """The decision in force on the event's date and the paragraph of its regime (G4)."""

    id: str
    version: int
    regim: Regim
    paragraf: str


class Person(_Stored):
    """What of the participant the regime allows: gender, age band, age (deltagardata).
    `pseudonym` is read only in records stored before the look-up of a person moved to
    the key store (full_14_3): no record is written with one."""

    kon: str | None = None
    aldersgrupp: str | None = None
    alder: int | None = None
    pseudonym: str | None = None


class Forsegling(_Stored):
    """Identity and personal circumstances sealed with the subject's key (14 kap. 3 § SoL)."""

    subjekt: str
    data: str


class Samtycke(_Stored):
    vardnadshavare: int
    barnet_vill: bool
    antal_vardnadshavare: int | None = None


class Grupp(_Stored):
    aldersgrupp: str
    kon: str
    antal: int


class Redigering(_Stored):
    """What was done to an input field, by name only."""

    falt: str
    atgard: str


class Post(_Stored):
    """One stored post: the event's own facts, its decision stamp and what the regime kept."""

    type: str
    insats: str
    utforare: str
    datum: str
    beslut: Stampel
    policy_version: str
    informerad_om_ansokan: bool | None = None
    anonym: bool | None = None
    utfall: str | None = None
    maende: int | None = None
    samtycke: Samtycke | None = None
    grupp: list[Grupp] | None = None
    orsak: str | None = None
    anteckning: str | None = None
    besok_nr: str | None = None
    antal_besok: str | None = None
    maende_forandring: int | None = None
    #: 14 kap. 3 § SoL follow-up, derived when stored: a returning participant of the
    #: insats (at start), and the calendar periods this record is the person's first in.
    aterkommande: bool | None = None
    ny_i_period: list[str] | None = None
    deltagare: Person | None = None
    forsegling: Forsegling | None = None
    redigering: list[Redigering] | None = None

    @property
    def dag(self) -> date:
        """The first day of the stored date's period (the day itself at precision dag)."""
        return period.start(self.datum)

    @property
    def katalog(self) -> str:
        return self.insats.split("/", 1)[0]

    @property
    def person(self) -> Person:
        """The participant's stored data; empty when the regime kept none."""
        return self.deltagare or Person()


def post_of(event: object) -> Post | None:
    """The typed post of a stored event; None for events that hold no documentation post
    (decisions, the identity-access log)."""
    raw: dict[str, Any] | None = getattr(event, "post", None)
    return None if raw is None else Post.model_validate(raw)
