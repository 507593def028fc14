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
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from iubledger.decisions.start import villkor_outcome
from iubledger.decisions.villkor import (
    Alder,
    BarnIFskola,
    Fakta,
    Folkbokford,
    ForalderTillBarn,
    GemensamBegaran,
    HandlingUppvisad,
    IngaVillkor,
    NagotAv,
    UppdragExternPart,
    UtanMedfoljandeBarn,
    Utfall,
    VardnadshavaresSamtycke,
    Villkor,
)
from iubledger.policies.personnummer import age_on, luhn_check_digit
from iubledger.policies.regimes import aldersgrupp
from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut, Regim
from iubledger.simulate.calendar import kursuppehall, next_working, season, working
from iubledger.simulate.vocabulary import (
    AGE_RANGE_TEXT,
    ANDRA_KOMMUNER,
    ANTECKNINGAR,
    AVBROTT_VIKT,
    EFTERNAMN,
    EPOSTDOMAN,
    FIKTIVA_TELEFON,
    FORNAMN,
    GATOR,
    MALGRUPP_KVINNOR,
    MALGRUPP_MODE,
    TEMA_ORD,
    TEMAN,
)

__all__ = ["ANTECKNINGAR", "main_lines", "simulate"]

# -- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Roll:
    """Who a participant is in the target group: the person themself in an age range, or a
    parent of a child in an age range (optionally a child at school)."""

    typ: Literal["sjalv", "foralder"]
    fran: int
    till: int
    mode: float | None = None


@dataclass
class _Person:
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


def _personnummer(p: _Person, form: Literal[10, 12], dash: bool) -> str:
    """Luhn-valid personnummer for the birth date (folkbokföringslagen 18 §)."""
    datum = p.fodd.strftime("%y%m%d")
    check = luhn_check_digit(datum + p.serial)
    if form == 10:
        return f"{datum}-{p.serial}{check}"
    return f"{p.fodd.year:04d}{datum[2:]}{'-' if dash else ''}{p.serial}{check}"


def _born(rng: random.Random, alder: int, on: date) -> date:
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


def _skola(barn_alder: int) -> tuple[str, int | None] | None:
    """The school form and year (grade 0 = förskoleklass) a child of that age is in."""
    if 1 <= barn_alder <= 5:
        return ("forskola", None)
    if 6 <= barn_alder <= 15:
        return ("grundskola", barn_alder - 6)
    if 16 <= barn_alder <= 18:
        return ("gymnasieskola", barn_alder - 6)
    return None


# -- villkor ----------------------------------------------------------------------------------


def _walk(villkor: list[Villkor]) -> Iterator[Villkor]:
    for v in villkor:
        yield v
        if isinstance(v, NagotAv):
            yield from _walk(v.villkor)


def _skolalder(v: BarnIFskola) -> list[tuple[int, int]]:
    ranges = []
    for form in v.skolformer:
        if form == "forskola":
            ranges.append((1, 5))
        else:
            base, top = (0, 9) if form == "grundskola" else (10, 12)
            lo = max(base, v.arskurs_fran if v.arskurs_fran is not None else base)
            hi = min(top, v.arskurs_till if v.arskurs_till is not None else top)
            if lo <= hi:
                ranges.append((lo + 6, hi + 6))
    return ranges


def _roller(insats: InsatsBeslut) -> list[_Roll]:
    """The target group as roles with age ranges, read from the villkor (and the malgrupp
    text where the villkor are silent, e.g. 'Föräldrar med barn 0-6 år')."""
    top = insats.villkor
    malgrupp = insats.malgrupp.lower()
    lo_adult = 18
    hi_adult = 80
    for v in top:
        if isinstance(v, Alder):
            lo_adult = max(lo_adult if v.fran is None else v.fran, 0)
            if v.fran is None and v.till is not None and v.till < 18:
                lo_adult = max(0, v.till - 8)
            hi_adult = min(hi_adult, v.till if v.till is not None else hi_adult)
    if (
        not any(isinstance(v, Alder) for v in top)
        and re.search(r"\bbarn\b", malgrupp)
        and "vuxna" in malgrupp
        and "föräld" not in malgrupp
    ):
        lo_adult = 10
    mode = next((m for word, m in MALGRUPP_MODE if word in malgrupp), 40)
    sjalv = _Roll("sjalv", lo_adult, max(lo_adult, hi_adult), mode)

    foralder = [v for v in top if isinstance(v, ForalderTillBarn)]
    if foralder:
        v = foralder[0]
        return [_Roll("foralder", v.fran or 0, v.till if v.till is not None else 17)]
    options: list[_Roll] = []
    for v in top:
        if isinstance(v, NagotAv):
            for w in v.villkor:
                if isinstance(w, Alder):
                    lo = w.fran if w.fran is not None else max(0, (w.till or 17) - 8)
                    options.append(_Roll("sjalv", lo, w.till if w.till is not None else 80, mode))
                elif isinstance(w, ForalderTillBarn):
                    options.append(
                        _Roll("foralder", w.fran or 0, w.till if w.till is not None else 17)
                    )
    if options:
        return options
    skola = [r for v in _walk(top) if isinstance(v, BarnIFskola) for r in _skolalder(v)]
    if skola or "föräld" in malgrupp:
        if skola:
            return [_Roll("foralder", lo, hi) for lo, hi in skola]
        m = AGE_RANGE_TEXT.search(malgrupp)
        lo, hi = (int(m[1]), min(int(m[2]), 17)) if m else (0, 17)
        return [_Roll("foralder", lo, max(lo, hi))]
    return [sjalv]


def _draw_age(rng: random.Random, roll: _Roll) -> int:
    lo, hi = roll.fran, roll.till
    if hi - lo <= 12 or roll.mode is None:
        return rng.randint(lo, hi)
    mode = min(max(roll.mode, lo), hi)
    return min(hi, int(rng.triangular(lo, hi + 1, mode)))


def _fakta(
    villkor: list[Villkor], p: _Person, d: date, okanda: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The facts the utförare checks for these villkor (only those relevant), as they are
    for the person on `d`; a fact named in `okanda` could not be settled."""
    f: dict[str, Any] = {}
    alder = p.alder(d)

    def visit(v: Villkor) -> None:
        match v:
            case Alder():
                f["alder"] = alder
            case Folkbokford(vem="deltagare"):
                f["folkbokford_i_kommunen"] = p.folkbokford
            case Folkbokford():
                f["barn_folkbokford_i_kommunen"] = p.barn_folkbokford
            case BarnIFskola():
                skola = p.skola or (_skola(p.barn_alder(d)[0]) if p.barn else None)
                if skola is not None:
                    f["barn_skolform"] = skola[0]
                    if skola[1] is not None:
                        f["barn_arskurs"] = skola[1]
            case ForalderTillBarn():
                if p.barn:
                    f["barn_alder"] = p.barn_alder(d)
            case GemensamBegaran():
                f["gemensam_begaran"] = p.gemensam
            case UppdragExternPart():
                f["uppdrag_fran_extern_part"] = p.uppdrag
            case VardnadshavaresSamtycke():
                f["alder"] = alder
                if alder < v.under_alder:
                    f["vardnadshavare_samtycker"] = p.samtycke_vh
            case UtanMedfoljandeBarn():
                f["medfoljande_barn"] = p.medfoljande_barn
            case HandlingUppvisad():
                f["handlingar"] = list(p.handlingar or v.handlingar[:1])
            case NagotAv():
                for w in v.villkor:
                    visit(w)
            case IngaVillkor():
                pass

    for v in villkor:
        visit(v)
    for name in okanda:
        if name == "handlingar":
            f["handling_oklar"] = True
        else:
            f.pop(name, None)
    return f


def _utfall(insats: InsatsBeslut, fakta: dict[str, Any], alder: int | None) -> Utfall:
    """The outcome the ledger computes for these facts (decisions.start.villkor_outcome)."""
    result = villkor_outcome(insats, Fakta(**fakta), alder)
    return Utfall.oklart if result is None else result


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
    roller: list[_Roll] = field(default_factory=list)
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
        self.roller = _roller(i)
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

    def person(self, d: date) -> _Person:
        rng = self.rng
        roll = rng.choice(self.roller)
        kon = self.kon()
        barn: list[date] = []
        if roll.typ == "foralder":
            ages = [rng.randint(roll.fran, roll.till)]
            for _ in range(rng.choices((0, 1, 2), (45, 40, 15))[0]):
                ages.append(max(0, ages[0] + rng.choice((-1, 1)) * rng.randint(1, 7)))
            alder = max(18, max(ages) + int(rng.triangular(20, 44, 30)))
            barn = [_born(rng, a, d) for a in ages]
        else:
            alder = _draw_age(rng, roll)
        return self._identitet(alder, kon, d, barn)

    def _identitet(self, alder: int, kon: str, d: date, barn: list[date]) -> _Person:
        rng = self.rng
        fodd = _born(rng, alder, d)
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
        return _Person(
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
            for v in _walk(self.insats.villkor)
        )

    def _samtycke_kravs(self, alder: int) -> bool:
        return any(
            isinstance(v, VardnadshavaresSamtycke) and alder < v.under_alder
            for v in _walk(self.insats.villkor)
        )

    def _handling(self) -> list[str]:
        for v in _walk(self.insats.villkor):
            if isinstance(v, HandlingUppvisad):
                return [self.rng.choice(v.handlingar)]
        return []

    # -- villkor outcome ----------------------------------------------------------------------

    def _ej_uppfyllda(self, p: _Person, d: date) -> list[_Person]:
        """Variants of the person for whom the villkor fail (not folkbokförd, wrong age, ...)."""
        rng = self.rng
        out: list[_Person] = []
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
                        out.append(replace(p, barn=[_born(rng, a, d)]))
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
        self, p: _Person, d: date
    ) -> tuple[_Person, Utfall, dict[str, Any], dict[str, Any] | None]:
        """Person, outcome, facts and the deltagare repeated on the check (or None): the
        outcome is the one the facts give, ~85 % uppfyllda, ~8 % ej, ~7 % oklart."""
        rng = self.rng
        r = rng.random()
        if r >= 0.85 and r < 0.93:
            for variant in self._ej_uppfyllda(p, d):
                fakta = _fakta(self.insats.villkor, variant, d)
                if _utfall(self.insats, fakta, None) is Utfall.ej_uppfyllda:
                    return variant, Utfall.ej_uppfyllda, fakta, None
        elif r >= 0.93:
            fakta = _fakta(self.insats.villkor, p, d)
            keys = sorted(k for k in fakta if k != "vardnadshavare_samtycker")
            rng.shuffle(keys)
            for key in keys:
                doubt = _fakta(self.insats.villkor, p, d, frozenset({key}))
                if _utfall(self.insats, doubt, None) is Utfall.oklart:
                    return p, Utfall.oklart, doubt, None
        fakta = _fakta(self.insats.villkor, p, d)
        repeat = None
        if rng.random() < 0.1:
            repeat = {"kon": p.kon, "alder": p.alder(d)}
        utfall = _utfall(self.insats, fakta, repeat["alder"] if repeat else None)
        return p, utfall, fakta, repeat

    # -- deltagare as sent ----------------------------------------------------------------------

    def deltagare(self, p: _Person, d: date) -> dict[str, Any]:
        """The identity an utförare application sends with a contact; the regime decides what
        of it is stored (DESIGN.md)."""
        rng = self.rng
        if self.regim in (Regim.radgivning_14_4, Regim.undantag_14_5) and rng.random() < 0.45:
            return {"kon": p.kon, "alder": p.alder(d)}
        out: dict[str, Any] = {}
        r = rng.random()
        if r < 0.85:
            form = 12 if rng.random() < 0.15 else 10
            out["personnummer"] = _personnummer(p, form, rng.random() < 0.5)
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

    def anteckningar(self, p: _Person, d: date) -> tuple[str, ...]:
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

    def kort(self, p: _Person, d: date) -> dict[str, Any]:
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
                out.append((_draw_age(rng, roll), self.kon()))
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
