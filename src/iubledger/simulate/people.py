"""Generated persons: who a participant is, with a fake identity and Luhn-valid personnummer."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from iubledger.policies.personnummer import age_on, luhn_check_digit
from iubledger.schemas.beslut import InsatsBeslut, Regim
from iubledger.schemas.villkor import HandlingUppvisad, VardnadshavaresSamtycke
from iubledger.simulate.malgrupp import Roll, draw_age, walk
from iubledger.simulate.vocabulary import EFTERNAMN, EPOSTDOMAN, FIKTIVA_TELEFON, FORNAMN, GATOR


@dataclass
class Person:
    """A generated participant: identity, children and the facts the villkor ask about."""

    fodd: date
    kon: str
    fornamn: str
    efternamn: str
    adress: str
    folkbokford: bool
    kommun: str
    serial: str
    telefon: str | None
    epost: str | None
    barn: list[date] = field(default_factory=list)
    barn_folkbokford: bool = True
    gemensam: bool = True
    uppdrag: bool = True
    samtycke_vh: int = 0
    medfoljande_barn: bool = False
    handlingar: list[str] = field(default_factory=list)
    skola: tuple[str, int | None] | None = None

    def alder(self, d: date) -> int:
        return age_on(self.fodd, d)

    def barn_alder(self, d: date) -> list[int]:
        return [age_on(b, d) for b in self.barn]

    @property
    def namn(self) -> str:
        return f"{self.fornamn} {self.efternamn}"


def personnummer(p: Person, form: Literal[10, 12], dash: bool) -> str:
    """Luhn-valid personnummer for the birth date (folkbokföringslagen 18 §)."""
    datum = p.fodd.strftime("%y%m%d")
    check = luhn_check_digit(datum + p.serial)
    if form == 10:
        return f"{datum}-{p.serial}{check}"
    return f"{p.fodd.year:04d}{datum[2:]}{'-' if dash else ''}{p.serial}{check}"


def born(rng: random.Random, alder: int, on: date) -> date:
    """A birth date that makes the person exactly `alder` on `on`."""
    for _ in range(8):
        last_birthday = on - timedelta(days=rng.randrange(365))
        try:
            fodd = last_birthday.replace(year=last_birthday.year - alder)
        except ValueError:  # 29 February in a common year
            continue
        if fodd <= on and age_on(fodd, on) == alder:
            return fodd
    return date(on.year - alder, 1, 1)


def skola_for_alder(barn_alder: int) -> tuple[str, int | None] | None:
    """The school form and year (grade 0 = förskoleklass) a child of that age is in."""
    if 1 <= barn_alder <= 5:
        return ("forskola", None)
    if 6 <= barn_alder <= 15:
        return ("grundskola", barn_alder - 6)
    if 16 <= barn_alder <= 18:
        return ("gymnasieskola", barn_alder - 6)
    return None


@dataclass
class Personer:
    """The persons who come to one insats: drawn from its target group, with fake identities."""

    insats: InsatsBeslut
    kommun: str
    rng: random.Random
    roller: list[Roll]
    andel_kvinnor: float

    def kon(self) -> str:
        """A gender: 1 % annat, otherwise women at the target group's share."""
        r = self.rng.random()
        if r < 0.01:
            return "annat"
        return "kvinna" if r < 0.01 + 0.99 * self.andel_kvinnor else "man"

    def person(self, d: date) -> Person:
        """A new participant on `d`: a role in the target group, an age in it, an identity."""
        rng = self.rng
        roll = rng.choice(self.roller)
        kon = self.kon()
        barn: list[date] = []
        if roll.typ == "foralder":
            ages = [rng.randint(roll.fran, roll.till)]
            for _ in range(rng.choices((0, 1, 2), (45, 40, 15))[0]):
                ages.append(max(0, ages[0] + rng.choice((-1, 1)) * rng.randint(1, 7)))
            alder = max(18, max(ages) + int(rng.triangular(20, 44, 30)))
            barn = [born(rng, a, d) for a in ages]
        else:
            alder = draw_age(rng, roll)
        return self.identitet(alder, kon, d, barn)

    def identitet(self, alder: int, kon: str, d: date, barn: list[date]) -> Person:
        """A fake identity of that age and gender on `d`, with the guardians' consent and the
        documents the villkor ask for."""
        rng = self.rng
        fodd = born(rng, alder, d)
        generation = 0 if fodd.year < 1970 else 1 if fodd.year < 2000 else 2
        if rng.random() < 0.15:
            generation = rng.randrange(3)
        fornamn = rng.choice(FORNAMN[kon, generation])
        efternamn = rng.choice(EFTERNAMN)
        if rng.random() < 0.08:
            efternamn = f"{efternamn}-{rng.choice(EFTERNAMN)}"
        gender_digit = rng.randrange(10)
        if kon == "man":
            gender_digit |= 1
        elif kon == "kvinna":
            gender_digit &= ~1
        serial = f"{rng.randint(0, 99):02d}{gender_digit}"
        nr = f"{rng.randint(1, 120)}{rng.choice(('', '', '', 'A', 'B'))}"
        adress = f"{rng.choice(GATOR)} {nr}"
        if rng.random() < 0.3:
            adress += f", lgh {rng.randint(10, 16)}{rng.randint(1, 9):02d}"
        telefon = epost = None
        if alder >= 13 and rng.random() < 0.4:
            prefix, numbers = rng.choice(FIKTIVA_TELEFON)
            telefon = f"{prefix}{rng.choice(numbers):02d}"
        if alder >= 16 and rng.random() < 0.25:
            local = f"{fornamn}.{efternamn}".lower()
            for a, b in (("å", "a"), ("ä", "a"), ("ö", "o"), ("é", "e")):
                local = local.replace(a, b)
            epost = f"{local}@{rng.choice(EPOSTDOMAN)}"
        samtycke = 0
        if alder < 18:
            samtycke = rng.choices((1, 2), (55, 45))[0]
            if (
                alder >= 15
                and self.insats.barn_utan_samtycke_fran_15
                and not self._samtycke_kravs(alder)
                and rng.random() < 0.35
            ):
                samtycke = 0
            if self._kraver_bada(alder):
                samtycke = 2
        return Person(
            fodd=fodd,
            kon=kon,
            fornamn=fornamn,
            efternamn=efternamn,
            adress=adress,
            folkbokford=True,
            kommun=self.kommun,
            serial=serial,
            telefon=telefon,
            epost=epost,
            barn=barn,
            barn_folkbokford=True,
            samtycke_vh=samtycke,
            handlingar=self._handling(),
        )

    def _kraver_bada(self, alder: int) -> bool:
        return any(
            isinstance(v, VardnadshavaresSamtycke) and v.antal == "bada" and alder < v.under_alder
            for v in walk(self.insats.villkor)
        )

    def _samtycke_kravs(self, alder: int) -> bool:
        return any(
            isinstance(v, VardnadshavaresSamtycke) and alder < v.under_alder
            for v in walk(self.insats.villkor)
        )

    def _handling(self) -> list[str]:
        for v in walk(self.insats.villkor):
            if isinstance(v, HandlingUppvisad):
                return [self.rng.choice(v.handlingar)]
        return []

    def deltagare(self, p: Person, d: date) -> dict[str, Any]:
        """The identity an utförare application sends with a contact; the regime decides what
        of it is stored (DESIGN.md)."""
        rng = self.rng
        if (
            self.insats.dokumentation.regim in (Regim.radgivning_14_4, Regim.undantag_14_5)
            and rng.random() < 0.45
        ):
            return {"kon": p.kon, "alder": p.alder(d)}
        out: dict[str, Any] = {}
        r = rng.random()
        if r < 0.85:
            form: Literal[10, 12] = 12 if rng.random() < 0.15 else 10
            out["personnummer"] = personnummer(p, form, rng.random() < 0.5)
        elif r < 0.95:
            out["fodelsedatum"] = p.fodd.isoformat()
        else:
            out["alder"] = p.alder(d)
        out["namn"] = p.namn
        if rng.random() < 0.9:
            out["adress"] = p.adress
        out["kon"] = p.kon
        out["folkbokford_kommun"] = p.kommun
        if p.telefon:
            out["telefon"] = p.telefon
        if p.epost:
            out["epost"] = p.epost
        return out
