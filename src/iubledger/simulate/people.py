"""Generated persons: who a participant is, with a fake identity and Luhn-valid personnummer."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from iubledger.policies.personnummer import age_on, luhn_check_digit


@dataclass
class Person:
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
