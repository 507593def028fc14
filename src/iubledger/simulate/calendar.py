"""The simulator's calendar: Swedish holidays, working days, seasons and course breaks."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


def _easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def _helgdagar(year: int) -> frozenset[date]:
    """Swedish public holidays and the eves offices keep closed."""
    easter = _easter(year)
    midsommar = next(date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4)
    fixed = [(1, 1), (1, 6), (5, 1), (6, 6), (12, 24), (12, 25), (12, 26), (12, 31)]
    return frozenset(
        [date(year, m, d) for m, d in fixed]
        + [easter + timedelta(days=n) for n in (-2, 1, 39)]
        + [midsommar]
    )


def working(d: date) -> bool:
    return d.weekday() < 5 and d not in _helgdagar(d.year)


def next_working(d: date) -> date:
    while not working(d):
        d += timedelta(days=1)
    return d


def season(d: date) -> float:
    """Relative activity: low in July and around Christmas, reduced around them."""
    if (d.month == 12 and d.day >= 20) or (d.month == 1 and d.day <= 6):
        return 0.3
    if d.month == 7:
        return 0.35
    if (d.month == 6 and d.day >= 20) or (d.month == 8 and d.day <= 10):
        return 0.7
    return 1.0


def kursuppehall(d: date) -> bool:
    """Group courses pause over the summer and Christmas holidays."""
    return season(d) < 0.5
