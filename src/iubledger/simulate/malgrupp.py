"""The target group of an insats: roles and age ranges read from its villkor and malgrupp text."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from iubledger.schemas.beslut import InsatsBeslut
from iubledger.schemas.villkor import Alder, BarnIFskola, ForalderTillBarn, NagotAv, Villkor
from iubledger.simulate.vocabulary import AGE_RANGE_TEXT, MALGRUPP_MODE


@dataclass(frozen=True)
class Roll:
    """Who a participant is in the target group: the person themself in an age range, or a
    parent of a child in an age range (optionally a child at school)."""

    typ: Literal["sjalv", "foralder"]
    fran: int
    till: int
    mode: float | None = None


def walk(villkor: list[Villkor]) -> Iterator[Villkor]:
    """Every villkor, with those nested in a NagotAv after it."""
    for v in villkor:
        yield v
        if isinstance(v, NagotAv):
            yield from walk(v.villkor)


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


def roller(insats: InsatsBeslut) -> list[Roll]:
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
    sjalv = Roll("sjalv", lo_adult, max(lo_adult, hi_adult), mode)

    foralder = [v for v in top if isinstance(v, ForalderTillBarn)]
    if foralder:
        v = foralder[0]
        return [Roll("foralder", v.fran or 0, v.till if v.till is not None else 17)]
    options: list[Roll] = []
    for v in top:
        if isinstance(v, NagotAv):
            for w in v.villkor:
                if isinstance(w, Alder):
                    lo = w.fran if w.fran is not None else max(0, (w.till or 17) - 8)
                    options.append(Roll("sjalv", lo, w.till if w.till is not None else 80, mode))
                elif isinstance(w, ForalderTillBarn):
                    options.append(
                        Roll("foralder", w.fran or 0, w.till if w.till is not None else 17)
                    )
    if options:
        return options
    skola = [r for v in walk(top) if isinstance(v, BarnIFskola) for r in _skolalder(v)]
    if skola or "föräld" in malgrupp:
        if skola:
            return [Roll("foralder", lo, hi) for lo, hi in skola]
        m = AGE_RANGE_TEXT.search(malgrupp)
        lo, hi = (int(m[1]), min(int(m[2]), 17)) if m else (0, 17)
        return [Roll("foralder", lo, max(lo, hi))]
    return [sjalv]


def draw_age(rng: random.Random, roll: Roll) -> int:
    """An age in the role's range: uniform in a narrow range, around its mode in a wide one."""
    lo, hi = roll.fran, roll.till
    if hi - lo <= 12 or roll.mode is None:
        return rng.randint(lo, hi)
    mode = min(max(roll.mode, lo), hi)
    return min(hi, int(rng.triangular(lo, hi + 1, mode)))
