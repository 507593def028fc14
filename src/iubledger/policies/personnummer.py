"""Personnummer (folkbokföringslagen 18 §) and samordningsnummer (lag 2022:1697).

Errors state the broken rule and never the value (DESIGN G6): 14 kap. 5 § SoL,
uppgifter som kan röja den enskildes identitet.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

__all__ = ["Personnummer", "PersonnummerError", "age_on", "parse"]

_FORM = re.compile(r"(?P<sekel>[0-9]{2})?(?P<datum>[0-9]{6})(?P<sep>[-+]?)(?P<nummer>[0-9]{4})")
_SAMORDNING_OFFSET = 60


class PersonnummerError(ValueError):
    """Invalid personnummer; `rule` is a short code, the message names the rule only."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"not a valid personnummer: {reason}")
        self.rule = rule


@dataclass(frozen=True, slots=True, repr=False)
class Personnummer:
    """A checked personnummer or samordningsnummer; `birth_date` is the real date."""

    birth_date: date
    serial: str
    check: int
    samordning: bool

    def __repr__(self) -> str:
        return "Personnummer(<redacted>)"

    @property
    def normalized(self) -> str:
        """Twelve digits, no separator; samordningsnummer keep day + 60."""
        day = self.birth_date.day + (_SAMORDNING_OFFSET if self.samordning else 0)
        born = self.birth_date
        return f"{born.year:04d}{born.month:02d}{day:02d}{self.serial}{self.check}"

    def age_on(self, day: date) -> int:
        """Completed years on `day`."""
        return age_on(self.birth_date, day)


def age_on(birth_date: date, day: date) -> int:
    """Completed years on `day`.

    A 29 February birthday is reached on 28 February in common years, the month-end
    rule of lag (1930:173) om beräkning av lagstadgad tid.
    """
    if day < birth_date:
        raise ValueError("day is before the birth date")
    if (birth_date.month, birth_date.day) == (2, 29) and not calendar.isleap(day.year):
        birthday = date(day.year, 2, 28)
    else:
        birthday = birth_date.replace(year=day.year)
    return day.year - birth_date.year - (day < birthday)


def parse(text: str, *, today: date) -> Personnummer:
    """Parse YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC, YYYYMMDD-NNNC or YYYYMMDDNNNC.

    Folkbokföringslagen 18 §: the ten-digit form ends in a Luhn check digit and its '-'
    becomes '+' from the calendar year of `today` in which the holder turns 100.
    Samordningsnummer (lag 2022:1697) carry the birth day + 60.
    """
    match = _FORM.fullmatch(text.strip())
    if match is None or (match["sekel"] and match["sep"] == "+"):
        raise PersonnummerError("format", "unrecognised format")
    datum, nummer = match["datum"], match["nummer"]
    if luhn_check_digit(datum + nummer[:3]) != int(nummer[3]):
        raise PersonnummerError("luhn", "checksum (Luhn) fails")
    month, day = int(datum[2:4]), int(datum[4:6])
    samordning = day > _SAMORDNING_OFFSET
    if samordning:
        day -= _SAMORDNING_OFFSET
    if match["sekel"]:
        year = int(match["sekel"] + datum[:2])
    else:
        year = _resolve_year(int(datum[:2]), plus=match["sep"] == "+", today=today)
    try:
        birth_date = date(year, month, day)
    except ValueError:
        raise PersonnummerError("date", "date does not exist") from None
    if birth_date > today:
        raise PersonnummerError("future", "birth date is after the reference date")
    return Personnummer(birth_date, nummer[:3], int(nummer[3]), samordning)


def _resolve_year(yy: int, *, plus: bool, today: date) -> int:
    """Folkbokföringslagen 18 §: '+' from the year the holder turns 100, '-' before it."""
    year = today.year - (today.year - yy) % 100
    return year - 100 if plus else year


def luhn_check_digit(digits: str) -> int:
    """Luhn (mod 10) check digit, weights 2, 1, 2, … from the left over nine digits."""
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (2 - position % 2)
        total += product // 10 + product % 10
    return -total % 10
