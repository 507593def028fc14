"""Personnummer and samordningsnummer parsing (folkbokföringslagen 18 §, lag 2022:1697)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identities import luhn
from iubledger.policies.personnummer import Personnummer, PersonnummerError, age_on, parse

FAST = settings(max_examples=150, deadline=None)
TODAY = date(2025, 11, 24)


def ten_digits(born: date, serial: str, *, samordning: bool = False) -> str:
    day = born.day + (60 if samordning else 0)
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial}"
    return nine + str(luhn(nine))


def luhn_valid(nine: str) -> str:
    return nine + str(luhn(nine))


def digit_runs(text: str) -> set[str]:
    """The input's digit run and each of its substrings of four or more digits."""
    digits = "".join(re.findall(r"\d", text))
    return {digits[i:j] for i in range(len(digits)) for j in range(i + 4, len(digits) + 1)}


def assert_value_free(err: PersonnummerError, text: str) -> None:
    message = str(err)
    assert message.startswith("not a valid personnummer: ")
    for run in digit_runs(text):
        assert run not in message


@pytest.mark.parametrize(
    "text",
    ["811218-9876", "8112189876", "19811218-9876", "198112189876", " 811218-9876 "],
)
def test_classic_test_number_in_every_form(text: str) -> None:
    pnr = parse(text, today=TODAY)
    assert pnr == Personnummer(date(1981, 12, 18), "987", 6, samordning=False)
    assert pnr.normalized == "198112189876"
    assert pnr.age_on(TODAY) == 43


def test_published_examples() -> None:
    assert parse("811228-9841", today=TODAY).birth_date == date(1981, 12, 28)
    assert parse("880320-0016", today=TODAY).birth_date == date(1988, 3, 20)


def test_samordningsnummer_skatteverket_example() -> None:
    pnr = parse("701063-2391", today=TODAY)
    assert pnr.samordning
    assert pnr.birth_date == date(1970, 10, 3)
    assert pnr.normalized == "197010632391"


def test_samordningsnummer_twelve_digits() -> None:
    number = ten_digits(date(2003, 2, 28), "123", samordning=True)
    pnr = parse("20" + number, today=TODAY)
    assert pnr.samordning
    assert pnr.birth_date == date(2003, 2, 28)
    assert pnr.normalized == "20" + number


def test_plus_means_the_year_of_the_hundredth_birthday_or_later() -> None:
    number = ten_digits(date(1925, 12, 31), "456")
    plus = parse(f"{number[:6]}+{number[6:]}", today=TODAY)
    assert plus.birth_date == date(1925, 12, 31)
    assert plus.age_on(TODAY) == 99
    minus = ten_digits(date(1926, 1, 1), "456")
    assert parse(minus, today=TODAY).birth_date == date(1926, 1, 1)


def test_plus_on_a_classic_number() -> None:
    pnr = parse("811218+9876", today=TODAY)
    assert pnr.birth_date == date(1881, 12, 18)
    assert pnr.normalized == "188112189876"


def test_minus_resolves_to_the_last_hundred_years() -> None:
    number = ten_digits(date(2025, 11, 24), "111")
    assert parse(number, today=TODAY).birth_date == date(2025, 11, 24)
    with pytest.raises(PersonnummerError) as info:
        parse(number, today=TODAY - timedelta(days=1))
    assert info.value.rule == "future"


def test_leap_day_depends_on_the_century() -> None:
    number = ten_digits(date(2000, 2, 29), "222")
    assert parse(number, today=TODAY).birth_date == date(2000, 2, 29)
    with pytest.raises(PersonnummerError) as info:
        parse(f"{number[:6]}+{number[6:]}", today=TODAY)
    assert info.value.rule == "date"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("811218-9875", "luhn"),
        ("198112189870", "luhn"),
        (luhn_valid("850230123"), "date"),
        (luhn_valid("851301123"), "date"),
        (luhn_valid("850100123"), "date"),
        (luhn_valid("850260123"), "date"),
        (luhn_valid("850192123"), "date"),
        ("20" + luhn_valid("850312123"), "future"),
        ("", "format"),
        ("abcdef-ghij", "format"),
        ("81121-89876", "format"),
        ("811218--9876", "format"),
        ("811218 9876", "format"),
        ("19811218+9876", "format"),
        ("81121898761", "format"),
        ("١٩٨١١٢١٨٩٨٧٦", "format"),
    ],
)
def test_invalid_input_names_the_rule_never_the_value(text: str, rule: str) -> None:
    with pytest.raises(PersonnummerError) as info:
        parse(text, today=TODAY)
    assert info.value.rule == rule
    assert isinstance(info.value, ValueError)
    assert info.value.__cause__ is None
    assert_value_free(info.value, text)


def test_repr_hides_the_number() -> None:
    pnr = parse("811218-9876", today=TODAY)
    for shown in (repr(pnr), str(pnr), f"{pnr}"):
        assert "9876" not in shown
        assert "1981" not in shown


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2000, 5, 10), date(2000, 5, 10), 0),
        (date(2000, 5, 10), date(2018, 5, 9), 17),
        (date(2000, 5, 10), date(2018, 5, 10), 18),
        (date(2008, 2, 29), date(2026, 2, 27), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 18),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_age_on_counts_completed_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def test_age_before_birth_is_refused() -> None:
    with pytest.raises(ValueError, match="before the birth date"):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


birth_dates = st.dates(min_value=date(TODAY.year - 199, 1, 1), max_value=TODAY)
serials = st.integers(0, 999).map(lambda n: f"{n:03d}")


@FAST
@given(born=birth_dates, serial=serials, samordning=st.booleans())
def test_every_form_round_trips(born: date, serial: str, samordning: bool) -> None:
    number = ten_digits(born, serial, samordning=samordning)
    expected = Personnummer(born, serial, int(number[-1]), samordning)
    separator = "+" if TODAY.year - born.year >= 100 else "-"
    forms = [f"{born.year // 100}{number}", f"{born.year // 100}{number[:6]}-{number[6:]}"]
    forms.append(f"{number[:6]}{separator}{number[6:]}")
    if separator == "-":
        forms.append(number)
    for form in forms:
        pnr = parse(form, today=TODAY)
        assert pnr == expected
        assert pnr.normalized == f"{born.year // 100}{number}"
        assert parse(pnr.normalized, today=TODAY) == pnr


@FAST
@given(born=birth_dates, serial=serials, wrong=st.integers(1, 9))
def test_a_wrong_check_digit_is_always_caught(born: date, serial: str, wrong: int) -> None:
    number = ten_digits(born, serial)
    broken = number[:-1] + str((int(number[-1]) + wrong) % 10)
    with pytest.raises(PersonnummerError) as info:
        parse(broken, today=TODAY)
    assert info.value.rule == "luhn"
    assert_value_free(info.value, broken)


@FAST
@given(text=st.text(alphabet="0123456789-+ ", max_size=16) | st.text(max_size=16))
def test_any_text_parses_or_fails_without_echo(text: str) -> None:
    try:
        pnr = parse(text, today=TODAY)
    except PersonnummerError as err:
        assert err.rule in {"format", "luhn", "date", "future"}
        assert_value_free(err, text)
    else:
        assert pnr.birth_date <= TODAY
