"""Simulated utförare events: a realistic, reproducible stream for a nämnd decision file.

What an utförare application would send while the insatser of the file are carried
out (14 kap. 3 § SoL): contacts with the information of 11 kap. 6 § SoL, the summary
villkor check of 11 kap. 5 § SoL, starts with children's consent, sessions, events of
significance, dropouts and completions, referrals to the nämnd, and, for open
activities, group sessions given as counts only. Every event is meant to be accepted by
the ledger under the regime of its insats: villkor facts agree with the outcome claimed,
consent is present where required and free text never carries identity.

Pure and deterministic: no I/O, no clock, no global random state. The same arguments give
the same events in the same order; every UUID comes from a seeded `random.Random`.
Identities are fake, drawn from name lists, with Luhn-valid personnummer.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from iubledger.decisions.villkor import (
    Alder,
    BarnIFskola,
    Folkbokford,
    ForalderTillBarn,
    GemensamBegaran,
    HandlingUppvisad,
    IngaVillkor,
    UppdragExternPart,
    UtanMedfoljandeBarn,
    Utfall,
    VardnadshavaresSamtycke,
)
from iubledger.policies.regimes import aldersgrupp
from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut, Regim
from iubledger.simulate.calendar import kursuppehall, next_working, season, working
from iubledger.simulate.facts import villkorsfakta, villkorsutfall
from iubledger.simulate.malgrupp import Roll, draw_age, roller, walk
from iubledger.simulate.people import Person, born, personnummer
from iubledger.simulate.vocabulary import (
    ANDRA_KOMMUNER,
    ANTECKNINGAR,
    AVBROTT_VIKT,
    EFTERNAMN,
    EPOSTDOMAN,
    FIKTIVA_TELEFON,
    FORNAMN,
    GATOR,
    MALGRUPP_KVINNOR,
    TEMA_ORD,
    TEMAN,
)

__all__ = ["ANTECKNINGAR", "main_lines", "simulate"]

# -- plans ----------------------------------------------------------------------------------

Slag = Literal["oppen", "grupp", "individ"]


@dataclass
class _Plan:
    """How one insats is carried out over the period: volumes, calendar, target group."""

    fil: BeslutsFil
    insats: InsatsBeslut
    rng: random.Random
    scale: float
    slag: Slag = "individ"
    kontakter_per_vecka: float = 0.0
    sessionsdagar: tuple[int, ...] = ()
    roller: list[Roll] = field(default_factory=list)
    andel_kvinnor: float = 0.5
    har_villkor: bool = True
    narvaro: dict[date, list[tuple[int, str]]] = field(default_factory=dict)

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
        self.roller = roller(i)
        malgrupp = i.malgrupp.lower()
        self.andel_kvinnor = next((a for w, a in MALGRUPP_KVINNOR if w in malgrupp), 0.55)
        self.har_villkor = not all(isinstance(v, IngaVillkor) for v in i.villkor)

    @property
    def ref(self) -> str:
        return f"{self.fil.katalog}/{self.insats.id}"

    @property
    def regim(self) -> Regim:
        return self.insats.dokumentation.regim

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
        return self.rng.choice(self.insats.tillhandahalls_av.utforare)

    def kon(self) -> str:
        r = self.rng.random()
        if r < 0.01:
            return "annat"
        return "kvinna" if r < 0.01 + 0.99 * self.andel_kvinnor else "man"

    def sessionsdag(self, d: date) -> bool:
        return d.weekday() in self.sessionsdagar and working(d)

    # -- people -----------------------------------------------------------------------------

    def person(self, d: date) -> Person:
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
        return self._identitet(alder, kon, d, barn)

    def _identitet(self, alder: int, kon: str, d: date, barn: list[date]) -> Person:
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
            kommun=self.fil.kommun,
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

    # -- villkor outcome ----------------------------------------------------------------------

    def _ej_uppfyllda(self, p: Person, d: date) -> list[Person]:
        """Variants of the person for whom the villkor fail (not folkbokförd, wrong age, ...)."""
        rng = self.rng
        out: list[Person] = []
        for v in self.insats.villkor:
            match v:
                case Folkbokford(vem="deltagare"):
                    out.append(replace(p, folkbokford=False, kommun=rng.choice(ANDRA_KOMMUNER)))
                case Folkbokford() if p.barn:
                    out.append(replace(p, barn_folkbokford=False))
                case Folkbokford():  # the participant is the child
                    kommun = rng.choice(ANDRA_KOMMUNER)
                    out.append(replace(p, barn_folkbokford=False, folkbokford=False, kommun=kommun))
                case Alder():
                    ages = []
                    if v.fran is not None and v.fran > 0:
                        ages += range(max(0, v.fran - 3), v.fran)
                    if v.till is not None:
                        ages += range(v.till + 1, v.till + 5)
                    if ages:
                        a = rng.choice(ages)
                        barn = p.barn if a >= 18 + max(p.barn_alder(d), default=0) else []
                        out.append(self._identitet(a, p.kon, d, barn))
                case ForalderTillBarn():
                    lo, hi = v.fran or 0, v.till if v.till is not None else 120
                    oldest = p.alder(d) - 18
                    ages = [a for a in range(0, min(26, oldest + 1)) if not lo <= a <= hi]
                    if ages:
                        a = rng.choice(ages)
                        out.append(replace(p, barn=[born(rng, a, d)]))
                case GemensamBegaran():
                    out.append(replace(p, gemensam=False))
                case UppdragExternPart():
                    out.append(replace(p, uppdrag=False))
                case UtanMedfoljandeBarn():
                    out.append(replace(p, medfoljande_barn=True))
                case VardnadshavaresSamtycke():
                    if p.alder(d) < v.under_alder:
                        out.append(replace(p, samtycke_vh=1 if v.antal == "bada" else 0))
                case BarnIFskola():
                    out.append(replace(p, skola=("gymnasieskola", 11)))
                    out.append(replace(p, skola=("grundskola", 9)))
                case HandlingUppvisad():
                    other = [
                        h
                        for h in ("id_handling", "hyresavtal", "lakarintyg", "intyg_extern_part")
                        if h not in v.handlingar
                    ]
                    if other:
                        out.append(replace(p, handlingar=[rng.choice(other)]))
                case _:
                    pass
        rng.shuffle(out)
        return out

    def kontroll(
        self, p: Person, d: date
    ) -> tuple[Person, Utfall, dict[str, Any], dict[str, Any] | None]:
        """Person, outcome, facts and the deltagare repeated on the check (or None): the
        outcome is the one the facts give, ~85 % uppfyllda, ~8 % ej, ~7 % oklart."""
        rng = self.rng
        r = rng.random()
        if r >= 0.85 and r < 0.93:
            for variant in self._ej_uppfyllda(p, d):
                fakta = villkorsfakta(self.insats.villkor, variant, d)
                if villkorsutfall(self.insats, fakta, None) is Utfall.ej_uppfyllda:
                    return variant, Utfall.ej_uppfyllda, fakta, None
        elif r >= 0.93:
            fakta = villkorsfakta(self.insats.villkor, p, d)
            keys = sorted(k for k in fakta if k != "vardnadshavare_samtycker")
            rng.shuffle(keys)
            for key in keys:
                doubt = villkorsfakta(self.insats.villkor, p, d, frozenset({key}))
                if villkorsutfall(self.insats, doubt, None) is Utfall.oklart:
                    return p, Utfall.oklart, doubt, None
        fakta = villkorsfakta(self.insats.villkor, p, d)
        repeat = None
        if rng.random() < 0.1:
            repeat = {"kon": p.kon, "alder": p.alder(d)}
        utfall = villkorsutfall(self.insats, fakta, repeat["alder"] if repeat else None)
        return p, utfall, fakta, repeat

    # -- deltagare as sent ----------------------------------------------------------------------

    def deltagare(self, p: Person, d: date) -> dict[str, Any]:
        """The identity an utförare application sends with a contact; the regime decides what
        of it is stored (DESIGN.md)."""
        rng = self.rng
        if self.regim in (Regim.radgivning_14_4, Regim.undantag_14_5) and rng.random() < 0.45:
            return {"kon": p.kon, "alder": p.alder(d)}
        out: dict[str, Any] = {}
        r = rng.random()
        if r < 0.85:
            form = 12 if rng.random() < 0.15 else 10
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

    def anteckningar(self, p: Person, d: date) -> tuple[str, ...]:
        """Notes that fit the insats and the participant (a child, a parent, a group)."""
        text = f"{self.insats.namn} {self.insats.malgrupp}".lower()
        teman = {tema for word, tema in TEMA_ORD if word in text}
        if p.barn:
            teman.add("foralder")
        if self.slag == "grupp":
            teman.add("grupp")
        if p.alder(d) < 18:
            teman = {"barn"}
        else:
            teman.add("allman")
        return tuple(n for tema in sorted(teman) for n in TEMAN[tema])

    def kort(self, p: Person, d: date) -> dict[str, Any]:
        """The deltagare repeated minimally: gender and age (what start requires)."""
        return {"kon": p.kon, "alder": p.alder(d)}

    # -- one participation ----------------------------------------------------------------------

    def deltagande(self, d0: date) -> list[tuple[date, dict[str, Any]]]:
        """One contact and what follows from it, in causal order with non-decreasing dates."""
        rng = self.rng
        utf = self.utforare()
        p = self.person(d0)
        out: list[tuple[date, dict[str, Any]]] = []

        def add(typ: str, d: date, **fields: Any) -> dict[str, Any]:
            assert not out or d >= out[-1][0]
            ev = self.event(typ, d, utf, **fields)
            out.append((d, ev))
            return ev

        utfall = Utfall.uppfyllda
        d = d_check = d0
        fakta: dict[str, Any] = {}
        repeat: dict[str, Any] | None = None
        if self.har_villkor:
            d_check = d0 if rng.random() < 0.65 else next_working(d0 + timedelta(rng.randint(1, 7)))
            p, utfall, fakta, repeat = self.kontroll(p, d_check)
        kontakt = add(
            "kontakt",
            d0,
            deltagare=self.deltagare(p, d0),
            informerad_om_ansokan=rng.random() < 0.96,
        )
        link = {"oppnad_av": kontakt["id"]}
        if self.har_villkor:
            d = d_check
            extra = {"deltagare": repeat} if repeat else {}
            add("villkorskontroll", d, **link, **extra, utfall=utfall.value, fakta=fakta)
        if utfall is Utfall.ej_uppfyllda:
            if rng.random() < 0.25:
                add("hanvisning", d, **link)
            return out
        if utfall is not Utfall.uppfyllda or rng.random() < 0.06:
            return out

        d = d if rng.random() < 0.4 else next_working(d + timedelta(rng.randint(2, 14)))
        start: dict[str, Any] = {"deltagare": self.kort(p, d)}
        if rng.random() < 0.85:
            start["maende"] = rng.choices((1, 2, 3, 4, 5), (8, 27, 37, 22, 6))[0]
        alder = p.alder(d)
        if alder < 18:
            start["samtycke"] = {"vardnadshavare": p.samtycke_vh, "barnet_vill": True}
        add("start", d, **link, **start)

        sessions = self.sessionsdatum(d)
        avbrott = rng.random() < 0.3
        if avbrott and len(sessions) > 1:
            sessions = sessions[: rng.randint(1, len(sessions) - 1)]
        handelser = Counter(
            rng.randrange(len(sessions)) for _ in range(rng.choices((0, 1, 2), (66, 26, 8))[0])
        )
        hanvisning_vid = rng.randrange(len(sessions)) if rng.random() < 0.02 else None
        for n, s in enumerate(sessions):
            extra = {"deltagare": self.kort(p, s)} if rng.random() < 0.05 else {}
            add("tillfalle", s, **link, **extra)
            if self.slag == "grupp" and self.sessionsdag(s):
                self.narvaro.setdefault(s, []).append((p.alder(s), p.kon))
            for _ in range(handelser[n]):
                add("handelse", s, **link, anteckning=rng.choice(self.anteckningar(p, s)))
            if hanvisning_vid == n:
                add("hanvisning", s, **link)
                avbrott = True
                break
        last = sessions[-1] if hanvisning_vid is None else sessions[hanvisning_vid]
        if avbrott:
            gap = 0 if hanvisning_vid is not None else rng.randint(7, 35)
            orsak = (
                "annan_insats"
                if hanvisning_vid is not None
                else rng.choices(list(AVBROTT_VIKT), list(AVBROTT_VIKT.values()))[0]
            )
            add("avbrott", next_working(last + timedelta(gap)), **link, orsak=orsak)
        else:
            end = last if rng.random() < 0.6 else next_working(last + timedelta(rng.randint(1, 14)))
            fields: dict[str, Any] = dict(link)
            if rng.random() < 0.05:
                fields["deltagare"] = self.kort(p, end)
            if rng.random() < 0.8:
                before = start.get("maende", 3)
                delta = rng.choices((-1, 0, 1, 2), (10, 35, 40, 15))[0]
                fields["maende"] = min(5, max(1, before + delta))
            add("avslut", end, **fields)
        return out

    def sessionsdatum(self, start: date) -> list[date]:
        """Dates of the participant's sessions: weekly-ish, or the group's session days."""
        rng = self.rng
        if self.slag == "grupp":
            planned = rng.randint(4, 10)
            out: list[date] = []
            d = start
            for _ in range(400):
                if self.sessionsdag(d) and not kursuppehall(d):
                    if rng.random() < 0.85:
                        out.append(d)
                    planned -= 1
                    if planned == 0:
                        break
                d += timedelta(days=1)
            return out or [start]
        if self.insats.kategori == "radgivning":
            n = rng.choices(range(1, 11), (45, 22, 12, 8, 5, 3, 2, 1, 1, 1))[0]
            gaps = (7, 7, 10, 14, 14, 21)
        else:
            n = rng.choices(range(1, 11), (11, 14, 15, 14, 12, 10, 8, 7, 5, 4))[0]
            gaps = (5, 6, 7, 7, 7, 7, 8, 9, 10, 14)
        d = start if rng.random() < 0.55 else next_working(start + timedelta(rng.randint(2, 7)))
        out = [d]
        for _ in range(n - 1):
            d = next_working(d + timedelta(rng.choice(gaps)))
            out.append(d)
        return out

    # -- group sessions as counts ------------------------------------------------------------

    def grupp(self, d: date, kands: list[tuple[int, str]]) -> list[dict[str, Any]]:
        """Attendance by age band and gender (counts only, never persons)."""
        bredd = self.insats.dokumentation.aldersintervall
        antal = Counter((aldersgrupp(a, bredd), k) for a, k in kands)
        order = {"kvinna": 0, "man": 1, "annat": 2, "uppgift_saknas": 3}
        return [
            {"aldersgrupp": g, "kon": k, "antal": n}
            for (g, k), n in sorted(
                antal.items(), key=lambda item: (int(item[0][0].split("-")[0]), order[item[0][1]])
            )
        ]

    def besokare(self, n: int) -> list[tuple[int, str]]:
        """Anonymous attendees drawn from the target group: (age, gender)."""
        rng = self.rng
        out = []
        for _ in range(n):
            roll = rng.choice(self.roller)
            if roll.typ == "foralder" and self.slag == "oppen" and rng.random() < 0.45:
                out.append((rng.randint(roll.fran, roll.till), rng.choice(("kvinna", "man"))))
            elif roll.typ == "foralder":
                out.append((max(18, roll.fran + int(rng.triangular(20, 44, 31))), self.kon()))
            else:
                out.append((draw_age(rng, roll), self.kon()))
        return out

    def sessioner(self, d: date) -> list[dict[str, Any]]:
        """Group sessions held on `d`, documented as counts by age band and gender
        (14 kap. 5 § SoL: number of participants, age band, gender); a course's registered
        participants are among those counted."""
        rng = self.rng
        if not self.sessionsdag(d):
            return []
        if self.slag == "grupp":
            registrerade = self.narvaro.pop(d, [])
            if kursuppehall(d):
                return []
            parallel = max(1 if registrerade else 0, self.stochastic_round(self.scale))
            out = []
            for g in range(parallel):
                kands = registrerade[g::parallel]
                size = max(len(kands), int(rng.triangular(4, 15, 7)))
                kands = kands + self.besokare(min(40, size) - len(kands))
                if kands:
                    out.append(
                        self.event("tillfalle", d, self.utforare(), grupp=self.grupp(d, kands))
                    )
            return out
        out = []
        for _ in range(self.stochastic_round(self.scale)):
            size = int(rng.triangular(3, 41, 12) * (0.5 + season(d) / 2))
            kands = self.besokare(min(40, max(3, size)))
            out.append(self.event("tillfalle", d, self.utforare(), grupp=self.grupp(d, kands)))
        return out

    def dag(self, d: date) -> Iterator[tuple[date, dict[str, Any]]]:
        """Everything that starts on `d`: new contacts with their flows, then group sessions."""
        if working(d):
            n = self.count(self.kontakter_per_vecka / 5 * season(d) * self.scale)
            for _ in range(n):
                if self.slag == "oppen":
                    yield (
                        d,
                        self.event(
                            "kontakt",
                            d,
                            self.utforare(),
                            informerad_om_ansokan=self.rng.random() < 0.96,
                        ),
                    )
                else:
                    yield from self.deltagande(d)
        for ev in self.sessioner(d):
            yield d, ev


# -- the stream -----------------------------------------------------------------------------


def simulate(
    fil: BeslutsFil, start: date, end: date, seed: int, scale: float = 1.0
) -> Iterator[dict[str, Any]]:
    """Utförare events for every insats of `fil` from `start` to `end` (inclusive), in
    non-decreasing `datum` order, as JSON-ready dicts (schemas.handelser).

    Only days on which the decision file is in force are used (11 kap. 5 § SoL: no
    decision, no IUB). `scale` multiplies volumes (contacts and parallel group sessions).
    Deterministic in its arguments; pure.
    """
    if scale < 0:
        raise ValueError("scale must not be negative")
    first = max(start, fil.giltig_fran)
    last = min(end, fil.giltig_till) if fil.giltig_till is not None else end
    plans = [
        _Plan(
            fil=fil,
            insats=i,
            rng=random.Random(f"iubledger.simulate/{seed}/{fil.katalog}/{i.id}"),  # noqa: S311 simulated data, not security
            scale=scale,
        )
        for i in fil.insatser
    ]
    heap: list[tuple[int, int, dict[str, Any]]] = []
    seq = 0
    d = first
    while d <= last:
        for plan in plans:
            for when, ev in plan.dag(d):
                if when <= last:
                    heapq.heappush(heap, (when.toordinal(), seq, ev))
                    seq += 1
            for gone in [k for k in plan.narvaro if k > last]:
                del plan.narvaro[gone]
        today = d.toordinal()
        while heap and heap[0][0] <= today:
            yield heapq.heappop(heap)[2]
        d += timedelta(days=1)
    while heap:  # nothing should remain: every event kept is dated on or before `last`
        yield heapq.heappop(heap)[2]


def main_lines(
    fil: BeslutsFil, start: date, end: date, seed: int, scale: float = 1.0
) -> Iterator[str]:
    """The stream as compact JSON Lines (for `iubledger simulate`)."""
    for ev in simulate(fil, start, end, seed, scale):
        yield json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
