"""Free-text scan for identity data (DESIGN G6).

Under the regimes built on 14 kap. 4 § SoL (rådgivning) and 14 kap. 5 § SoL (uppgifter
som kan röja den enskildes identitet), free text is refused when it holds a personnummer,
samordningsnummer, telefonnummer, e-postadress, or the namn or adress given in the same
input. A `Hit` carries offsets only, never the matched value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from iubledger.policies.personnummer import PersonnummerError, parse

__all__ = ["Hit", "Kind", "scan"]

Kind = Literal[
    "personnummer", "samordningsnummer", "telefon", "epost", "namn", "adress", "fodelsedatum"
]

_PERSONNUMMER = re.compile(
    r"(?<![0-9])(?P<sekel>[0-9]{2})?(?P<datum>[0-9]{6})"
    r"(?:[\x20\xa0]?[-\u2013+][\x20\xa0]?|[\x20\xa0])?(?P<nummer>[0-9]{4})(?![0-9])"
)
_PHONE_SEP = r"(?:[\x20\xa0]?[-\u2013][\x20\xa0]?|[\x20\xa0])"
_TELEFON = re.compile(
    r"(?<![0-9+])(?<![0-9][-\u2013./:])"
    r"(?:(?P<landskod>(?:\+|00)46)[\x20\xa0-]?(?:\(0\)[\x20\xa0]?)?"
    r"|\((?P<riktnummer>0[0-9]{1,3})\)[\x20\xa0]?)?"
    rf"(?P<nummer>[0-9]{{1,10}}(?:{_PHONE_SEP}[0-9]{{1,10}}){{0,5}})(?![0-9])"
)
_DIGIT_GROUP = re.compile(r"[0-9]+")
_DATE_SHAPED = re.compile(
    r"(?:0[1-9]|[12][0-9]|3[01])[-\u2013\x20](?:0[1-9]|1[0-2])[-\u2013\x20](?:19|20)[0-9]{2}"
)
_EPOST = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_WORD = re.compile(r"[^\W\d_]+|[0-9]+")
_NAME_JOIN = re.compile(r"[\s\-\u2010\u2013]*")
_ADDRESS_PARTS = re.compile(r"[,;\n]")

_MIN_NAME_PART = 2
_MIN_STREET_ALONE = 5
_PHONE_DIGITS = range(8, 11)
_MIN_SUBSCRIBER = 5


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding: its kind and the half-open span [start, end) in the scanned text."""

    kind: Kind
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    start: int
    end: int


def scan(
    text: str,
    *,
    names: Iterable[str] = (),
    addresses: Iterable[str] = (),
    given: Iterable[tuple[Kind, str]] = (),
    today: date,
) -> list[Hit]:
    """All identity hits in `text`, sorted by position (14 kap. 4–5 §§ SoL, DESIGN G6).

    Personnummer and samordningsnummer count only when Luhn- and date-valid; `names`
    and `addresses` are those given in the same input and match case- and
    diacritics-insensitively as whole words; `given` are other values of the same input
    (phone, e-mail, birth date, personnummer), found whatever their separators.
    """
    hits = {*_personnummer_hits(text, today), *_telefon_hits(text), *_epost_hits(text)}
    for kind, value in given:
        hits.update(Hit(kind, m.start(), m.end()) for m in _literal(kind, value).finditer(text))
    name_parts = {
        part
        for name in names
        for part in _letter_words(_fold(name)[0])
        if len(part) >= _MIN_NAME_PART
    }
    streets = [street for address in addresses for street in _streets(address)]
    if name_parts or streets:
        tokens = _tokens(text)
        hits.update(_namn_hits(text, tokens, name_parts))
        for words, number in streets:
            hits.update(_adress_hits(tokens, words, number))
    return sorted(hits, key=lambda hit: (hit.start, hit.end, hit.kind))


_ANY_SEP = r"[\s\-\u2013/.()]*"


def _literal(kind: Kind, value: str) -> re.Pattern[str]:
    """A value given in the same input, as it may be written in free text: digits with
    any separators (a Swedish phone also in its national form), e-mail case-insensitively."""
    if kind == "epost":
        return re.compile(re.escape(value.strip()), re.IGNORECASE)
    digits = re.sub(r"[^0-9]", "", value)
    forms = {digits}
    if kind == "telefon" and value.strip().startswith(("+46", "0046")):
        forms.add("0" + digits.removeprefix("00").removeprefix("46"))
    if kind == "fodelsedatum" and len(digits) == 8:
        forms.add(digits[2:])
    if kind == "personnummer" and len(digits) == 12:
        forms.add(digits[2:])
    alternatives = "|".join(
        _ANY_SEP.join(map(re.escape, form))
        for form in sorted(forms, key=len, reverse=True)
        if len(form) >= 6
    )
    return re.compile(rf"(?<![0-9])(?:{alternatives})(?![0-9])" if alternatives else r"(?!)")


def _personnummer_hits(text: str, today: date) -> Iterator[Hit]:
    """Folkbokföringslagen 18 §: a hit is Luhn-valid with a real date in some century."""
    for match in _PERSONNUMMER.finditer(text):
        datum, nummer = match["datum"], match["nummer"]
        forms = [f"{datum}-{nummer}", f"{datum}+{nummer}"]
        if match["sekel"]:
            forms.insert(0, f"{match['sekel']}{datum}{nummer}")
        for form in forms:
            try:
                personnummer = parse(form, today=today)
            except PersonnummerError:
                continue
            kind: Kind = "samordningsnummer" if personnummer.samordning else "personnummer"
            yield Hit(kind, match.start(), match.end())
            break


def _telefon_hits(text: str) -> Iterator[Hit]:
    """Swedish numbers (PTS numbering plan): 0 + area code and subscriber, 8–10 digits."""
    position = 0
    while (match := _TELEFON.search(text, position)) is not None:
        end = _telefon_end(text, match)
        if end is None:
            position = match.start() + 1
        else:
            yield Hit("telefon", match.start(), end)
            position = end


def _telefon_end(text: str, match: re.Match[str]) -> int | None:
    """End of the longest leading run of digit groups that forms a Swedish number."""
    groups = list(_DIGIT_GROUP.finditer(text, match.start("nummer"), match.end("nummer")))
    digits = [group[0] for group in groups]
    if match["riktnummer"]:
        digits.insert(0, match["riktnummer"])
    elif match["landskod"]:
        digits[0] = digits[0] if digits[0].startswith("0") else "0" + digits[0]
    if not digits[0].startswith("0"):
        return None
    offset = len(digits) - len(groups)
    for count in range(len(digits), offset, -1):
        end = groups[count - offset - 1].end()
        if _is_telefon(digits[:count]) and not _DATE_SHAPED.fullmatch(text, match.start(), end):
            return end
    return None


def _is_telefon(groups: list[str]) -> bool:
    """0 + area code (08 the only two-digit one), a subscriber part of 5+ digits in groups of 2+."""
    national = "".join(groups)
    if len(national) not in _PHONE_DIGITS or national[1] == "0":
        return False
    if len(groups) == 1:
        return True
    area = groups[0]
    if not 2 <= len(area) <= 4 or (len(area) == 2 and area != "08"):
        return False
    if len(national) - len(area) < _MIN_SUBSCRIBER:
        return False
    return all(len(group) >= 2 for group in groups[1:])


def _epost_hits(text: str) -> Iterator[Hit]:
    """E-postadresser: local part, '@', dotted domain ending in a letter-only label."""
    for match in _EPOST.finditer(text):
        yield Hit("epost", match.start(), match.end())


def _namn_hits(text: str, tokens: list[_Token], parts: set[str]) -> Iterator[Hit]:
    """Whole-word name parts, genitive -s included; adjacent parts form one hit."""
    current: Hit | None = None
    for token in tokens:
        if not _same_word(token.value, parts):
            continue
        if current is not None and _NAME_JOIN.fullmatch(text, current.end, token.start):
            current = Hit("namn", current.start, token.end)
            continue
        if current is not None:
            yield current
        current = Hit("namn", token.start, token.end)
    if current is not None:
        yield current


def _adress_hits(
    tokens: list[_Token], street: tuple[str, ...], number: str | None
) -> Iterator[Hit]:
    """Street name + house number (a letter written against it included), or 5+ letters alone.

    The street words must be whole words; a house number must follow the street name and
    be the given one ("Storgatan 12" does not match "Storgatan 120").
    """
    size = len(street)
    alone = len("".join(street)) >= _MIN_STREET_ALONE
    for index in range(len(tokens) - size + 1):
        window = tokens[index : index + size]
        if any(token.value != word for token, word in zip(window[:-1], street[:-1], strict=True)):
            continue
        after = tokens[index + size : index + size + 2]
        if number is not None and window[-1].value == street[-1] and after[:1]:
            house = after[0]
            if house.value == number:
                end = house.end
                if len(after) == 2 and after[1].start == house.end and len(after[1].value) == 1:
                    end = after[1].end  # a letter written against the number
                yield Hit("adress", window[0].start, end)
                continue
        if alone and _same_word(window[-1].value, {street[-1]}):
            yield Hit("adress", window[0].start, window[-1].end)


def _streets(address: str) -> Iterator[tuple[tuple[str, ...], str | None]]:
    """Street words and house number of each comma-separated part of an adress.

    Parts up to the first one with a number count ("c/o Berg, Storgatan 12, Ort" gives
    c/o Berg and Storgatan 12); a postort after it or a part starting with its number
    (postnummer) gives nothing. Without any number only the first part counts.
    """
    parts = [_street_part(part) for part in _ADDRESS_PARTS.split(_fold(address)[0])]
    last = next((index for index, (_, number) in enumerate(parts) if number is not None), 0)
    for words, number in parts[: last + 1]:
        if words:
            yield words, number


def _street_part(part: str) -> tuple[tuple[str, ...], str | None]:
    """The words before the first number of a folded adress part, and that number."""
    words: list[str] = []
    for word in _WORD.findall(part):
        if word.isdigit():
            return tuple(words), word
        words.append(word)
    return tuple(words), None


def _same_word(word: str, forms: set[str]) -> bool:
    """Equal to one of `forms`, or its genitive with -s."""
    return word in forms or (word.endswith("s") and word[:-1] in forms)


def _letter_words(folded: str) -> list[str]:
    return [word for word in _WORD.findall(folded) if not word.isdigit()]


def _tokens(text: str) -> list[_Token]:
    """Words of the folded text, with spans in the original text."""
    folded, origin = _fold(text)
    return [
        _Token(match[0], origin[match.start()], origin[match.end() - 1] + 1)
        for match in _WORD.finditer(folded)
    ]


def _fold(text: str) -> tuple[str, list[int]]:
    """Casefolded, diacritics dropped (NFKD); `origin[i]` is the source index of char i."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for folded in unicodedata.normalize("NFKD", char.casefold()):
            if not unicodedata.combining(folded):
                chars.append(folded)
                origin.append(index)
    return "".join(chars), origin
