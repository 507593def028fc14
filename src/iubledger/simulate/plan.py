"""The plan of one insats: its volumes, session days, target group and random helpers."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut, Regim
from iubledger.schemas.villkor import IngaVillkor
from iubledger.simulate.calendar import working
from iubledger.simulate.malgrupp import roller
from iubledger.simulate.people import Personer
from iubledger.simulate.vocabulary import MALGRUPP_KVINNOR

Slag = Literal["oppen", "grupp", "individ"]


@dataclass
class Plan:
    """How one insats is carried out over the period: volumes, calendar, target group."""

    fil: BeslutsFil
    insats: InsatsBeslut
    rng: random.Random
    scale: float
    slag: Slag = "individ"
    kontakter_per_vecka: float = 0.0
    sessionsdagar: tuple[int, ...] = ()
    har_villkor: bool = True
    narvaro: dict[date, list[tuple[int, str]]] = field(default_factory=dict)
    personer: Personer = field(init=False)

    def __post_init__(self) -> None:
        i, rng = self.insats, self.rng
        aggregat = i.dokumentation.regim is Regim.aggregat
        if aggregat or i.kategori == "motesplats":
            self.slag = "oppen"
        elif i.kategori == "stod_i_grupp" or i.insatsform == "stod_i_grupp":
            self.slag = "grupp"
        if self.slag == "oppen":
            self.kontakter_per_vecka = rng.uniform(1, 3)
            self.sessionsdagar = tuple(sorted(rng.sample(range(5), rng.randint(1, 3))))
        elif i.kategori == "radgivning":  # 2–6 new contacts a week, most services near 2–3
            self.kontakter_per_vecka = 2 + 4 * rng.betavariate(1, 5)
        elif self.slag == "grupp":  # a group takes in a few new participants a week
            self.kontakter_per_vecka = 1 + rng.betavariate(1, 3)
        else:  # individuellt stöd: 1–3 a week
            self.kontakter_per_vecka = 1 + 2 * rng.betavariate(1, 4)
        if self.slag == "grupp":
            self.sessionsdagar = (rng.randrange(5),)
        malgrupp = i.malgrupp.lower()
        self.personer = Personer(
            insats=i,
            kommun=self.fil.kommun,
            rng=rng,
            roller=roller(i),
            andel_kvinnor=next((a for w, a in MALGRUPP_KVINNOR if w in malgrupp), 0.55),
        )
        self.har_villkor = not all(isinstance(v, IngaVillkor) for v in i.villkor)

    @property
    def ref(self) -> str:
        return f"{self.fil.katalog}/{self.insats.id}"

    # -- helpers --------------------------------------------------------------------------

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def count(self, mean: float) -> int:
        """A Poisson count (normal approximation for large means)."""
        if mean <= 0:
            return 0
        if mean > 50:
            return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))
        limit, k, prod = math.exp(-mean), 0, self.rng.random()
        while prod > limit:
            k += 1
            prod *= self.rng.random()
        return k

    def stochastic_round(self, x: float) -> int:
        whole = math.floor(x)
        return whole + (1 if self.rng.random() < x - whole else 0)

    def event(self, typ: str, datum: date, utforare: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": self.uuid(),
            "type": typ,
            "insats": self.ref,
            "utforare": utforare,
            "datum": datum.isoformat(),
            **fields,
        }

    def utforare(self) -> str:
        return self.rng.choice(self.insats.utforare)

    def sessionsdag(self, d: date) -> bool:
        return d.weekday() in self.sessionsdagar and working(d)
