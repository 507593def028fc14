"""Free-text scan for identity data (DESIGN G6, 14 kap. 4–5 §§ SoL)."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from identities import luhn
from iubledger.policies.textscan import Hit, scan

FAST = settings(max_examples=100, deadline=None)
TODAY = date(2025, 11, 24)

WORDS = [
    "och",
    "samtal",
    "stöd",
    "grupp",
    "deltagare",
    "mötet",
    "hölls",
    "idag",
    "träff",
    "ekonomi",
    "boende",
    "familj",
    "skola",
    "oro",
    "kontakt",
    "uppföljning",
    "började",
    "avslutades",
    "kom",
    "inte",
    "till",
    "med",
    "för",
    "på",
    "i",
    "om",
    "att",
    "det",
    "var",
    "bra",
    "samtalet",
    "vecka",
    "måndag",
    "klockan",
    "st",
    "ungdomar",
    "föräldrar",
    "hemmet",
    "skolan",
    "kurator",
    "socialtjänsten",
    "stödgrupp",
    "mående",
    "förbättrat",
    "nästa",
    "gång",
    "rådgivning",
    "insats",
    "timmar",
    "personer",
    "minuter",
    "kvällen",
    "ringde",
    "mejlade",
    "berättade",
    "sömn",
    "ångest",
    "är",
    "års",
    "tillfällen",
]
BEFORE = [" ", ": ", " (", "\n", ", "]
AFTER = [" ", ") ", ". ", ", ", "\n"]


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded(text: str) -> str:
    return strip_diacritics(text).casefold()


fillers = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(" ".join)


@st.composite
def embedded(draw: st.DrawFn, value: str) -> tuple[str, int, int]:
    """`value` inside random prose; returns the text and the value's span."""
    head = draw(fillers) + draw(st.sampled_from(BEFORE))
    tail = draw(st.sampled_from(AFTER)) + draw(fillers)
    return head + value + tail, len(head), len(head) + len(value)


def kinds(text: str) -> set[str]:
    return {hit.kind for hit in scan(text, today=TODAY)}


# personnummer / samordningsnummer


@st.composite
def personnummer(draw: st.DrawFn) -> tuple[date, str, bool]:
    born = draw(st.dates(min_value=date(TODAY.year - 199, 1, 1), max_value=TODAY))
    serial = f"{draw(st.integers(0, 999)):03d}"
    samordning = draw(st.booleans())
    day = born.day + (60 if samordning else 0)
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial}"
    return born, nine + str(luhn(nine)), samordning


def renderings(born: date, number: str) -> list[str]:
    century = f"{born.year // 100}"
    separator = "+" if TODAY.year - born.year >= 100 else "-"
    head, tail = number[:6], number[6:]
    return [
        f"{century}{number}",
        f"{century}{head}-{tail}",
        f"{century}{head} {tail}",
        f"{head}{separator}{tail}",
        f"{head} {tail}",
        number,
    ]


@FAST
@given(data=st.data(), drawn=personnummer())
def test_personnummer_in_any_form_is_found(
    data: st.DataObject, drawn: tuple[date, str, bool]
) -> None:
    born, number, samordning = drawn
    kind = "samordningsnummer" if samordning else "personnummer"
    form = data.draw(st.sampled_from(renderings(born, number)))
    text, start, end = data.draw(embedded(form))
    assert Hit(kind, start, end) in scan(text, today=TODAY)


@FAST
@given(data=st.data(), drawn=personnummer(), wrong=st.integers(1, 9))
def test_wrong_check_digit_is_not_a_personnummer(
    data: st.DataObject, drawn: tuple[date, str, bool], wrong: int
) -> None:
    born, number, _ = drawn
    broken = number[:-1] + str((int(number[-1]) + wrong) % 10)
    form = data.draw(st.sampled_from(renderings(born, broken)))
    text, _, _ = data.draw(embedded(form))
    assert not kinds(text) & {"personnummer", "samordningsnummer"}


@pytest.mark.parametrize(
    "form",
    ["811218-9876", "811218+9876", "8112189876", "19811218-9876", "19811218 9876", "811218 - 9876"],
)
def test_classic_number_forms(form: str) -> None:
    text = f"Pnr {form} noterat."
    assert Hit("personnummer", 4, 4 + len(form)) in scan(text, today=TODAY)


def test_samordningsnummer_kind() -> None:
    assert scan("nr 701063-2391", today=TODAY) == [Hit("samordningsnummer", 3, 14)]


@pytest.mark.parametrize(
    "text",
    ["811218-9875", "851302-1234", "850230" + "123" + str(luhn("850230123")), "1234567890"],
)
def test_invalid_numbers_are_not_personnummer(text: str) -> None:
    assert not kinds(f"ärende {text} idag") & {"personnummer", "samordningsnummer"}


# telefon


def grouped(digits: str) -> str:
    """Swedish written grouping of a subscriber number."""
    shapes = {5: (3, 2), 6: (2, 2, 2), 7: (3, 2, 2), 8: (3, 3, 2)}
    parts, position = [], 0
    for size in shapes[len(digits)]:
        parts.append(digits[position : position + size])
        position += size
    return " ".join(parts)


@st.composite
def telefonnummer(draw: st.DrawFn) -> str:
    digit = st.sampled_from("0123456789")
    plan = draw(st.sampled_from(["mobil", "08", "0xx", "0xxx"]))
    if plan == "mobil":
        area, size = "07" + draw(st.sampled_from("02369")), 7
    elif plan == "08":
        area, size = "08", draw(st.integers(6, 8))
    else:
        extra = "".join(draw(st.lists(digit, min_size=len(plan) - 2, max_size=len(plan) - 2)))
        area = "0" + draw(st.sampled_from("1234569")) + extra
        size = draw(st.integers(5, 10 - len(area)))
    subscriber = draw(st.sampled_from("123456789")) + "".join(
        draw(st.lists(digit, min_size=size - 1, max_size=size - 1))
    )
    formats = [
        f"{area}-{grouped(subscriber)}",
        f"{area} {grouped(subscriber)}",
        f"{area}-{subscriber}",
        f"{area}{subscriber}",
        f"({area}) {grouped(subscriber)}",
        f"+46 {area[1:]} {grouped(subscriber)}",
        f"+46 (0){area[1:]} {grouped(subscriber)}",
        f"+46{area[1:]}{subscriber}",
        f"0046 {area[1:]}-{grouped(subscriber)}",
        f"0046{area[1:]}{subscriber}",
    ]
    return draw(st.sampled_from(formats))


@FAST
@given(data=st.data(), number=telefonnummer())
def test_telefon_is_found(data: st.DataObject, number: str) -> None:
    text, start, end = data.draw(embedded(number))
    assert Hit("telefon", start, end) in scan(text, today=TODAY)


@pytest.mark.parametrize(
    "number",
    [
        "070-123 45 67",
        "0701234567",
        "+46 70 123 45 67",
        "08-123 456 78",
        "031-12 34 56",
        "+46701234567",
        "0046 70 123 45 67",
        "0046701234567",
        "+46 (0)8 123 456 78",
        "(031) 12 34 56",
        "0380-123 45",
        "070 – 123 45 67",
    ],
)
def test_listed_telefon_formats(number: str) -> None:
    text = f"Ring {number} i morgon."
    assert Hit("telefon", 5, 5 + len(number)) in scan(text, today=TODAY)


def test_trailing_count_is_not_part_of_the_number() -> None:
    assert scan("nr 070-123 45 67 2 gånger", today=TODAY) == [Hit("telefon", 3, 16)]


@pytest.mark.parametrize(
    "text",
    [
        "Mötet 2025-10-01 kl 08:30 med 12 deltagare.",
        "Födda 1985 och 2007, 3 st, 0 återbud.",
        "Kl. 08.30–09.15 och 13.00-14.45, 0830-1000.",
        "Datum 01-10-2025 och 08-10-2025 samt 1/10.",
        "0,5 timmar, 070-12, 08-123 45 saknas.",
        "Ärende 2025-10-01 0 08:30 05 10 15 20.",
        "Summa 123456 7890 kr.",
    ],
)
def test_dates_times_and_counts_are_not_hits(text: str) -> None:
    assert scan(text, today=TODAY) == []


# epost


@st.composite
def epost(draw: st.DrawFn) -> str:
    local = draw(st.from_regex(r"[a-zåäö0-9][a-zåäö0-9._%+-]{0,12}", fullmatch=True))
    labels = draw(st.lists(st.from_regex(r"[a-zåäö0-9]{1,8}", fullmatch=True), min_size=1))
    tld = draw(st.from_regex(r"[a-z]{2,6}", fullmatch=True))
    return f"{local}@{'.'.join(labels)}.{tld}"


@FAST
@given(data=st.data(), address=epost())
def test_epost_is_found(data: st.DataObject, address: str) -> None:
    text, start, end = data.draw(embedded(address))
    assert Hit("epost", start, end) in scan(text, today=TODAY)


# namn


name_parts = st.text(alphabet="abdefghijklmnoprstuvyåäöé", min_size=2, max_size=9).map(
    str.capitalize
)


@st.composite
def disguised(draw: st.DrawFn, text: str) -> str:
    """Random case per letter, diacritics randomly dropped."""
    out = []
    for char in text:
        char = strip_diacritics(char) if draw(st.booleans()) else char
        out.append(char.upper() if draw(st.booleans()) else char.lower())
    return "".join(out)


@FAST
@given(data=st.data(), parts=st.lists(name_parts, min_size=1, max_size=3))
def test_given_name_is_found_in_any_case_and_spelling(
    data: st.DataObject, parts: list[str]
) -> None:
    fillers_and_genitives = {f for w in WORDS for f in (folded(w), folded(w).removesuffix("s"))}
    assume(not {folded(part) for part in parts} & fillers_and_genitives)
    shown = data.draw(st.sampled_from([parts, [parts[0], parts[-1]], [parts[-1]]]))
    gap = data.draw(st.sampled_from([" ", "  ", "\n"]))
    rendered = gap.join(data.draw(disguised(part)) for part in shown)
    text, start, end = data.draw(embedded(rendered))
    assert Hit("namn", start, end) in scan(text, names=[" ".join(parts)], today=TODAY)


@pytest.mark.parametrize(
    "written", ["asa oberg", "ÅSA ÖBERG", "Åsa  Öberg", "A\u030asa O\u0308berg"]
)
def test_diacritics_and_case_do_not_hide_a_name(written: str) -> None:
    text = f"Samtal med {written} idag."
    assert scan(text, names=["Åsa Öberg"], today=TODAY) == [Hit("namn", 11, 11 + len(written))]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Anna Svensson kom", ["Anna Svensson"]),
        ("Svensson kom", ["Svensson"]),
        ("Svenssons mamma kom", ["Svenssons"]),
        ("Anna kom, Maria också", ["Anna", "Maria"]),
        ("Anna-Maria kom", ["Anna-Maria"]),
        ("Svenssonska gården", []),
    ],
)
def test_every_name_part_is_a_whole_word_hit(text: str, found: list[str]) -> None:
    hits = scan(text, names=["Anna Maria Svensson"], today=TODAY)
    assert [text[hit.start : hit.end] for hit in hits] == found
    assert {hit.kind for hit in hits} <= {"namn"}


def test_short_name_is_never_a_substring() -> None:
    assert scan("Ekonomi och ekar", names=["Ek"], today=TODAY) == []
    assert scan("Familjen Ek kom", names=["Ek"], today=TODAY) == [Hit("namn", 9, 11)]


def test_one_letter_name_parts_are_ignored() -> None:
    assert scan("Det var B och A", names=["A B Lind"], today=TODAY) == []


# adress


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("bor på storgatan 12 nu", ["storgatan 12"]),
        ("bor på Storgatan 12B nu", ["Storgatan 12B"]),
        ("bor på STORGATAN 12 b nu", ["STORGATAN 12"]),
        ("bor på Storgatan 120 nu", ["Storgatan"]),
        ("bor nära Storgatan", ["Storgatan"]),
        ("Storgatans skola", ["Storgatans"]),
        ("Storgatanskolan", []),
    ],
)
def test_street_and_number(text: str, found: list[str]) -> None:
    hits = scan(text, addresses=["Storgatan 12"], today=TODAY)
    assert [text[hit.start : hit.end] for hit in hits] == found
    assert {hit.kind for hit in hits} <= {"adress"}


def test_multi_word_street_with_postal_part() -> None:
    address = "Sankt Eriksgatan 5 A, 112 39 Stockholm"
    text = "Hon bor på Sankt  Eriksgatan 5A sedan maj, nära Eriksgatan."
    hits = scan(text, addresses=[address], today=TODAY)
    assert [text[hit.start : hit.end] for hit in hits] == ["Sankt  Eriksgatan 5A"]


@pytest.mark.parametrize(
    "address",
    [
        "c/o Berg, Storgatan 12, 411 38 Göteborg",
        "c/o Berg, Storgatan 12, Göteborg",
        "c/o Berg\nStorgatan 12\n411 38 Göteborg",
    ],
)
def test_postal_address_parts_up_to_the_street_count(address: str) -> None:
    text = "Post till c/o Berg på Storgatan 12 i Göteborg, 411 38."
    hits = scan(text, addresses=[address], today=TODAY)
    assert [text[hit.start : hit.end] for hit in hits] == ["c/o Berg", "Storgatan 12"]


def test_without_a_number_only_the_first_part_counts() -> None:
    text = "Storgatan i Göteborg"
    hits = scan(text, addresses=["Storgatan, Göteborg"], today=TODAY)
    assert hits == [Hit("adress", 0, 9)]


def test_short_street_needs_its_number() -> None:
    assert scan("vid ån 3 och ån", addresses=["Ån 3"], today=TODAY) == [Hit("adress", 4, 8)]


# whole-text properties

ordinary = st.one_of(
    st.sampled_from(WORDS),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)).map(date.isoformat),
    st.integers(0, 999).map(str),
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}"),
)


@FAST
@given(
    tokens=st.lists(ordinary, max_size=40),
    gaps=st.lists(st.sampled_from([" ", ", ", ". ", "\n", " – "]), min_size=40, max_size=40),
)
def test_ordinary_text_has_no_hits(tokens: list[str], gaps: list[str]) -> None:
    text = "".join(token + gap for token, gap in zip(tokens, gaps, strict=False))
    names = ["Zlatan Ibrahimović", "Ek", "Bo Lind"]
    addresses = ["Kvarngatan 7", "Ån 3"]
    assert scan(text, names=names, addresses=addresses, today=TODAY) == []


@FAST
@given(
    text=st.text(),
    names=st.lists(st.text(max_size=12), max_size=3),
    addresses=st.lists(st.text(max_size=12), max_size=3),
)
def test_scan_never_raises_and_spans_are_in_range(
    text: str, names: list[str], addresses: list[str]
) -> None:
    for hit in scan(text, names=names, addresses=addresses, today=TODAY):
        assert 0 <= hit.start < hit.end <= len(text)


@pytest.mark.parametrize(
    "text",
    ["\ud800 070-123 45 67", "\x00", "0 " * 5000, "a" * 20000, "@" * 5000, "1-" * 5000],
)
def test_hostile_input(text: str) -> None:
    scan(text, names=["A", "", "\ud800"], addresses=["", "12", "\ud800 1"], today=TODAY)


def test_hit_holds_no_value() -> None:
    assert [field.name for field in dataclasses.fields(Hit)] == ["kind", "start", "end"]
    hit = scan("mejl anna@exempel.se", today=TODAY)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.start = 0  # type: ignore[misc]
