"""Free-text scan for identity data (DESIGN G1, G6).

Under the regimes built on 14 kap. 4 § SoL (rådgivning) and 14 kap. 5 § SoL (uppgifter
som kan röja den enskildes identitet), free text is refused when it holds a personnummer,
samordningsnummer, telefonnummer, e-postadress, or the namn or adress given in the same
input — in any spelling a person could use to get it past a scan: the text is matched on
its normalised reading (`iubledger.policies.normalize`: NFKC, format characters dropped,
look-alike letters of other scripts folded, case and diacritics ignored), numbers with
any separators, e-mail with "(at)"/"[dot]"/"snabel-a"/"punkt" spelled out. A `Hit`
carries offsets in the text as written only, never the matched value.

Not found, to keep ordinary notes clean: numbers written in words; letters standing for
digits other than those the confusables table lists (O for 0, l for 1); an ISO birth
date and the number after a space ("1985-04-12 1230", read as a date and a count); a
line break inside a group of a landline number; a name spelled differently ("Anderson"),
in digits ("K4rin"), with ASCII look-alikes (I for l, rn for m) or split by a plain space
between pieces of two letters or more ("Ny man").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Literal

from iubledger.policies.normalize import View, digit_view, fold, join_lines
from iubledger.policies.personnummer import PersonnummerError, parse

__all__ = ["Hit", "Kind", "scan"]

Kind = Literal[
    "personnummer", "samordningsnummer", "telefon", "epost", "namn", "adress", "fodelsedatum"
]

_DIGIT_GROUP = re.compile(r"[0-9]+")
#: What may stand between the digit groups of one personnummer: one or two punctuation
#: marks or symbols, or spaces or line breaks around at most two of - + / _ (any dash is
#: "-" in the view); not ". " or ", " (a sentence goes on there).
_PNR_GAP = re.compile(r"[^\w\s]{1,2}|[ \t\n]{0,2}(?:[-+/_][ \t\n]{0,2}){0,2}")
#: The gaps that may repeat inside a regrouped personnummer ("85 04 12 12 30").
_REGROUP_GAPS = frozenset({" ", ".", "-", "/"})
_DASHES = frozenset({"-", " - ", "+", " + "})
_PNR_LENGTHS = (10, 12)
_PNR_NUMBER = 4

#: Between the digit groups of a phone number: a space or line break, a dash or slash
#: (spaces around it allowed), a dot (none: "0830. 2024" is a sentence end).
_PHONE_SEP = r"(?: ?[-/] ?|\.|[ \n])"
_TELEFON = re.compile(
    r"(?<![0-9+])(?<![0-9][-./:])"
    rf"(?:(?P<landskod>\((?:\+ ?|00 ?)46\)|(?:\+ ?|00 ?)46){_PHONE_SEP}?"
    rf"(?:\(0\){_PHONE_SEP}?|\((?P<omrade>0?[1-9][0-9]{{0,2}})\){_PHONE_SEP}?)?"
    rf"|\((?P<riktnummer>0[0-9]{{1,3}})\){_PHONE_SEP}?)?"
    r"(?(landskod)|(?(riktnummer)|(?=0)))"
    rf"(?P<nummer>[0-9]{{1,10}}(?:{_PHONE_SEP}[0-9]{{1,10}}){{0,5}})(?![0-9])"
)
#: Dates and times that have the shape of a number: "08-10-2025", "08.15", "08/04",
#: "1995-11" inside a run of digit groups.
_DATE_SHAPED = re.compile(
    r"(?:0[1-9]|[12][0-9]|3[01]) ?[-./ ] ?(?:0[1-9]|1[0-2]) ?[-./ ]? ?(?:19|20)[0-9]{2}"
    r"|(?<![0-9])(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])(?![0-9])"
)
_CLOCK_OR_DAY = re.compile(r"0[0-9][.:/] ?[0-9]{2}(?![0-9])")
_MOBILE = re.compile(r"07[02369][0-9]{7}")

_LOCAL = r"[\w.%+-]+"
_AT = (
    r"(?:\s*@\s*"
    r"|\s*[(\[{<]\s*(?:at|a|@|snabel-?a)\s*[)\]}>]\s*"
    r"|\s+(?:at|snabel-?a)\s+)"
)
_DOT = r"(?:\.| \. |\s*[(\[{<]\s*(?:dot|punkt|\.)\s*[)\]}>]\s*|\s+(?:dot|punkt)\s+)"
_EPOST = re.compile(rf"(?<![\w.%+-]){_LOCAL}{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[^\W\d_]{{2,}}")
#: Every e-mail form has one of these; text without them is not searched further.
_EPOST_HINT = re.compile(r"@|[\W_](?:at|a|snabel-?a)[\W_]")
_WORD = re.compile(r"[^\W\d_]+|[0-9]+")
_NAME_JOIN = re.compile(r"[\s\-]*")
#: Between the pieces of a name broken up to hide it: a hyphen, dot or the like, or a
#: hyphen at a line break ("Svens-\\nson", "A.n.n.a"); spaces only between single letters.
_SPLIT_GAP = re.compile(r"[-._*/·]|-?[ \t]*\n[ \t]*")
_SPACED_GAP = re.compile(r"[ \t\n]{1,2}")
_ADDRESS_PARTS = re.compile(r"[,;\n]")

_MIN_NAME_PART = 2
_MIN_SPLIT_NAME = 3
#: A name part inside a longer word counts from this length, when the rest of the word
#: is itself a word (4+ letters): "Anderssonfamiljen", not "Svenssonska".
_MIN_NAME_IN_COMPOUND = 5
_MIN_COMPOUND_REST = 4
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
    start: int  # in the view
    end: int


def scan(
    text: str,
    *,
    names: Iterable[str] = (),
    addresses: Iterable[str] = (),
    given: Iterable[tuple[Kind, str]] = (),
    today: date,
) -> list[Hit]:
    """All identity hits in `text`, sorted by position (14 kap. 4–5 §§ SoL, DESIGN G1, G6).

    Personnummer and samordningsnummer count only when Luhn- and date-valid; `names`
    and `addresses` are those given in the same input and match case-, diacritics- and
    look-alike-insensitively as whole words (a name part of five letters or more also
    inside a compound); `given` are other values of the same input (phone, e-mail, birth
    date, personnummer), found whatever their separators.
    """
    view = fold(text)
    numbers = digit_view(view, text)
    lines_joined = join_lines(numbers)
    hits = {
        *_personnummer_hits(numbers, today, regrouped=True),
        *_telefon_hits(numbers),
        *_epost_hits(view),
    }
    if lines_joined is not numbers:
        hits.update(_personnummer_hits(lines_joined, today, regrouped=False))
        hits.update(_telefon_hits(lines_joined, mobile_only=True))
    for kind, value in given:
        searched = view if kind == "epost" else lines_joined
        hits.update(
            Hit(kind, *searched.span(*m.span()))
            for m in _literal(kind, value).finditer(searched.text)
            if m.end() > m.start()
        )
    name_parts = {
        part
        for name in names
        for part in _letter_words(fold(name).text)
        if len(part) >= _MIN_NAME_PART
    }
    streets = [street for address in addresses for street in _streets(address)]
    if name_parts or streets:
        tokens = _tokens(view.text)
        hits.update(_namn_hits(view, tokens, name_parts))
        for words, number in streets:
            hits.update(
                Hit("adress", *view.span(start, end))
                for start, end in _adress_spans(tokens, words, number)
            )
    return sorted(hits, key=lambda hit: (hit.start, hit.end, hit.kind))


_ANY_SEP = r"[\s\-/.()+_:,]*"


def _literal(kind: Kind, value: str) -> re.Pattern[str]:
    """A value given in the same input, as it may be written in free text: digits with
    any separators (a Swedish phone also in its national form), e-mail folded like the
    text."""
    if kind == "epost":
        folded = fold(value.strip()).text
        return re.compile(re.escape(folded) if folded else r"(?!)")
    digits = re.sub(r"[^0-9]", "", fold(value).text)
    forms = {digits}
    if kind == "telefon":
        national = digits
        if value.strip().startswith(("+46", "0046")):
            national = "0" + digits.removeprefix("00").removeprefix("46")
        if national.startswith("0"):
            forms |= {national, national[1:], "46" + national[1:]}
    if kind == "fodelsedatum" and len(digits) == 8:
        forms.add(digits[2:])
    if kind == "personnummer" and len(digits) == 12:
        forms.add(digits[2:])
    alternatives = "|".join(
        _ANY_SEP.join(map(re.escape, form))
        for form in sorted(forms, key=len, reverse=True)
        if len(form) >= 6
    )
    plus = r"(?:\+ ?)?" if kind == "telefon" else ""
    pattern = rf"(?<![0-9]){plus}(?:{alternatives})(?![0-9])"
    return re.compile(pattern if alternatives else r"(?!)")


# personnummer / samordningsnummer


def _personnummer_hits(view: View, today: date, *, regrouped: bool) -> Iterator[Hit]:
    """Folkbokföringslagen 18 §: a hit is Luhn-valid with a real date in some century.

    Date and number are together or apart with any separator ("850412.1230",
    "850412 / 1230"); with `regrouped` also in further groups ("85 04 12-12 30") when all
    gaps but the one before the number are alike and the run does not go on in the same
    style (a list of counts is not one number). No run goes on without a space
    ("150320 2002-01-01" is a count and a date).
    """
    text = view.text
    groups = [m.span() for m in _DIGIT_GROUP.finditer(text)]
    for chain in _chains(text, groups):
        if sum(end - start for start, end in chain) < min(_PNR_LENGTHS):
            continue
        gaps = [_gap_kind(text[a[1] : b[0]]) for a, b in pairwise(chain)]
        for first in range(len(chain)):
            digits = ""
            for last in range(first, len(chain)):
                digits += text[chain[last][0] : chain[last][1]]
                if len(digits) > max(_PNR_LENGTHS):
                    break
                if len(digits) not in _PNR_LENGTHS:
                    continue
                sizes = [end - start for start, end in chain[first : last + 1]]
                before = gaps[first - 1] if first > 0 else None
                after = gaps[last] if last < len(gaps) else None
                inner = gaps[first:last]
                if not regrouped and (len(inner) > 1 or (inner and sizes[-1] != _PNR_NUMBER)):
                    continue
                if not _one_number(sizes, inner, before, after):
                    continue
                kind = _pnr_kind(digits, today)
                if kind is not None:
                    yield Hit(kind, *view.span(chain[first][0], chain[last][1]))


def _chains(text: str, groups: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    """Runs of digit groups joined by personnummer gaps."""
    chain: list[tuple[int, int]] = []
    for group in groups:
        if chain and not _PNR_GAP.fullmatch(text, chain[-1][1], group[0]):
            yield chain
            chain = []
        chain.append(group)
    if chain:
        yield chain


def _gap_kind(gap: str) -> str:
    return re.sub(r"\s+", " ", gap)


def _one_number(sizes: list[int], gaps: list[str], before: str | None, after: str | None) -> bool:
    """Whether digit groups of these sizes, with these gaps, read as one personnummer."""
    if any(gap is not None and " " not in gap for gap in (before, after)):
        return False  # the run goes on without a space ("150320 2002-01-01")
    if not gaps:
        return True
    number_at = sum(sizes) - _PNR_NUMBER
    positions = [sum(sizes[: index + 1]) for index in range(len(gaps))]
    if number_at not in positions:
        return False  # the date runs into the number ("85 04 121230")
    boundary = positions.index(number_at)
    others = {gap for index, gap in enumerate(gaps) if index != boundary}
    if not others:
        return True  # date and number, any separator between them
    if len(others) > 1 or not others <= _REGROUP_GAPS:
        return False
    if any(position % 2 for position in positions):
        return False  # grouped in pairs (YY MM DD NN NN), not "85041 21230"
    if positions[0] >= number_at:
        return False  # the date whole, the number split: a date and a time ("19960415 20.00")
    if gaps[boundary] not in others | _DASHES:
        return False  # a date then another number ("1985-04-12 1500 kr")
    return not others & {before, after}  # a list of counts in the same style goes on


def _pnr_kind(digits: str, today: date) -> Kind | None:
    if len(digits) == 12:
        forms = [digits]
    else:
        forms = [f"{digits[:6]}-{digits[6:]}", f"{digits[:6]}+{digits[6:]}"]
    for form in forms:
        try:
            personnummer = parse(form, today=today)
        except PersonnummerError:
            continue
        return "samordningsnummer" if personnummer.samordning else "personnummer"
    return None


# telefon


def _telefon_hits(view: View, *, mobile_only: bool = False) -> Iterator[Hit]:
    """Swedish numbers (PTS numbering plan): 0 + area code and subscriber, 8–10 digits,
    national or +46/0046 (optionally "(0)"), space, dash, slash or dot between the
    groups; with `mobile_only`, only ten-digit mobile numbers (07x)."""
    position = 0
    while (match := _TELEFON.search(view.text, position)) is not None:
        end = _telefon_end(view.text, match, mobile_only=mobile_only)
        if end is None:
            position = match.start() + 1
        else:
            yield Hit("telefon", *view.span(match.start(), end))
            position = end


def _telefon_end(text: str, match: re.Match[str], *, mobile_only: bool) -> int | None:
    """End of the longest leading run of digit groups that forms a Swedish number.

    The subscriber's groups are all apart the same way ("070-123 45 67", "070.123.45.67",
    not "08.30-09.15"), a landline subscriber number does not start with 0, and no date
    or time is read as a number.
    """
    groups = list(_DIGIT_GROUP.finditer(text, match.start("nummer"), match.end("nummer")))
    digits = [group[0] for group in groups]
    seps = [text[a.end() : b.start()].strip() or " " for a, b in pairwise(groups)]
    if match["riktnummer"] or match["omrade"]:
        digits.insert(0, match["riktnummer"] or "0" + match["omrade"].removeprefix("0"))
        seps.insert(0, "")
    elif match["landskod"]:
        digits[0] = digits[0] if digits[0].startswith("0") else "0" + digits[0]
    if not digits[0].startswith("0") or _CLOCK_OR_DAY.match(text, match.start()):
        return None
    offset = len(digits) - len(groups)
    for count in range(len(digits), offset, -1):
        end = groups[count - offset - 1].end()
        national = "".join(digits[:count])
        if (
            _is_telefon(digits[:count])
            and (not mobile_only or _MOBILE.fullmatch(national))
            and len(set(seps[1 : count - 1])) <= 1
            and not _DATE_SHAPED.search(text, match.start(), end)
        ):
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
    if groups[1].startswith("0") and not area.startswith("07"):
        return False
    return all(len(group) >= 2 for group in groups[1:])


# epost


def _epost_hits(view: View) -> Iterator[Hit]:
    """E-postadresser: local part, '@', dotted domain ending in a letter-only label; '@'
    and '.' also spelled out: (at) [at] {at} (a) " at " snabel-a, (dot) [dot] " dot "
    punkt."""
    if not _EPOST_HINT.search(view.text):
        return
    for match in _EPOST.finditer(view.text):
        yield Hit("epost", *view.span(match.start(), match.end()))


# namn


def _namn_hits(view: View, tokens: list[_Token], parts: set[str]) -> Iterator[Hit]:
    """Name parts as whole words (genitive -s included), inside compounds, or broken up
    with hyphens, dots or spaces between letters; adjacent finds form one hit."""
    if not parts:
        return
    long_parts = [part for part in parts if len(part) >= _MIN_NAME_IN_COMPOUND]
    spans = sorted(
        {
            *(
                (t.start, t.end)
                for t in tokens
                if _same_word(t.value, parts) or _in_compound(t.value, long_parts)
            ),
            *_split_spans(view.text, tokens, parts),
        }
    )
    current: tuple[int, int] | None = None
    for start, end in spans:
        if current is not None and (
            start <= current[1] or _NAME_JOIN.fullmatch(view.text, current[1], start)
        ):
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            yield Hit("namn", *view.span(*current))
        current = (start, end)
    if current is not None:
        yield Hit("namn", *view.span(*current))


def _in_compound(word: str, parts: list[str]) -> bool:
    """A long name part inside a compound whose other pieces are words themselves."""
    for part in parts:
        if len(word) < len(part) + _MIN_COMPOUND_REST:
            continue
        index = word.find(part)
        while index >= 0:
            head, tail = word[:index], word[index + len(part) :]
            if all(not piece or len(piece) >= _MIN_COMPOUND_REST for piece in (head, tail)):
                return True
            index = word.find(part, index + 1)
    return False


def _split_spans(text: str, tokens: list[_Token], parts: set[str]) -> Iterator[tuple[int, int]]:
    """Runs of tokens that spell a name part when put together ("Svens-son", "A n n a")."""
    longest = max(len(part) for part in parts) + 1
    for first in range(len(tokens)):
        joined = tokens[first].value
        for last in range(first + 1, len(tokens)):
            previous, token = tokens[last - 1], tokens[last]
            gap = text[previous.end : token.start]
            single = len(previous.value) == 1 and len(token.value) == 1
            if not (_SPLIT_GAP.fullmatch(gap) or (single and _SPACED_GAP.fullmatch(gap))):
                break
            joined += token.value
            if len(joined) > longest:
                break
            if len(joined) >= _MIN_SPLIT_NAME and _same_word(joined, parts):
                yield tokens[first].start, token.end


# adress


def _adress_spans(
    tokens: list[_Token], street: tuple[str, ...], number: str | None
) -> Iterator[tuple[int, int]]:
    """Street name + house number (a letter written against it included), or 5+ letters alone.

    The street words must be whole words; a house number must follow the street name and
    be the given one ("Storgatan 12" does not match "Storgatan 120").
    """
    size = len(street)
    alone = len("".join(street)) >= _MIN_STREET_ALONE
    first = {street[0], street[0] + "s"} if size == 1 else {street[0]}
    for index in range(len(tokens) - size + 1):
        if tokens[index].value not in first:
            continue
        window = tokens[index : index + size]
        if any(token.value != word for token, word in zip(window[:-1], street[:-1], strict=True)):
            continue
        after = tokens[index + size : index + size + 2]
        if number is not None and window[-1].value == street[-1] and after[:1]:
            house = after[0]
            if house.value == number:
                suffix = after[1] if len(after) == 2 else None
                letter = suffix is not None and suffix.start == house.end and len(suffix.value) == 1
                end = suffix.end if suffix is not None and letter else house.end
                yield window[0].start, end
                continue
        if alone and _same_word(window[-1].value, {street[-1]}):
            yield window[0].start, window[-1].end


def _streets(address: str) -> Iterator[tuple[tuple[str, ...], str | None]]:
    """Street words and house number of each comma-separated part of an adress.

    Parts up to the first one with a number count ("c/o Berg, Storgatan 12, Ort" gives
    c/o Berg and Storgatan 12); a postort after it or a part starting with its number
    (postnummer) gives nothing. Without any number only the first part counts.
    """
    parts = [_street_part(part) for part in _ADDRESS_PARTS.split(fold(address).text)]
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


def _tokens(folded: str) -> list[_Token]:
    """Words of the folded text, with spans in the view."""
    return [_Token(m[0], m.start(), m.end()) for m in _WORD.finditer(folded)]
