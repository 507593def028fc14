"""Free text as the identity scan reads it (DESIGN G1; 14 kap. 4–5 §§ SoL).

A person can write a personnummer, a telefonnummer, an e-postadress or a name in many
spellings that look alike or mean the same; the scan matches on one normalised reading
and reports offsets in the text as written. `fold` gives that reading (`View`): every
character of it carries the index of the source character it came from.

Per character, in this order:

1. format characters (Unicode category Cf: zero-width space/joiner/non-joiner, soft
   hyphen, BOM, bidi marks) and control characters are dropped;
2. compatibility decomposition, the K of NFKC (full-width digits and letters,
   mathematical alphanumerics, ligatures, circled and superscript digits), with every
   combining mark dropped — diacritics, a combining mark typed into a number;
3. any decimal digit (Nd: Arabic-Indic, Devanagari, …) becomes its ASCII digit, any
   dash (Pd, and U+2212 MINUS SIGN) becomes "-", any space "␠", any line break "\\n";
4. a letter of another script that looks like a Latin letter (Cyrillic а/е/о/р/с,
   Greek ο/ν, Latin ı/ø/æ/ł) is folded to its Latin skeleton;
5. case folding.

Step 4 uses the Unicode confusables table (UTS #39, confusables.txt) as shipped by the
`confusable-homoglyphs` package, pinned in pyproject.toml. It was chosen over
`confusables` because it is the maintained one (3.3.1, 2024; `confusables` last released
in 2021), it ships the Unicode table unchanged with a documented per-character query
(`is_confusable(char, preferred_aliases=[])`, which this module calls once per distinct
character and caches), and it has no runtime dependencies. `confusables` mixes
non-Unicode "leet" pairs (a→@, e→3) into a transitive two-way map and its `normalize`
enumerates every combination, exponential in the length of the text. `unicodedata`
alone covers steps 1–3 and 5 (NFKC, categories, decimal values), so the library is used
for what unicodedata cannot know: which letters of different scripts look the same.

`digit_view` is the reading for numbers: letters the table lists as looking like a digit
(O→0, l→1, Cyrillic З→3) read as that digit inside a run of digits, and digits spaced out
one by one ("0 7 0 1 2 …") close up. `join_lines` removes line breaks between digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

__all__ = ["View", "digit_view", "fold", "join_lines"]

_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_DASHES = frozenset("\u2212\u2043\u02d7\u2796\ufe58")
#: Ideographic full stops, label separators like "." in domain names (IDNA, RFC 3490 3.1).
_FULL_STOPS = frozenset("\u3002\uff61")
_BREAK_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])[ \t]*\n[ \t\n]*(?=[0-9])")
_LONE_DIGITS = re.compile(r"(?<![0-9])[0-9](?P<sep>[ .,\-/])[0-9](?:(?P=sep)[0-9]){1,}(?![0-9])")
_LETTER_BY_DIGIT = re.compile(r"[0-9][^\W\d_]|[^\W\d_][0-9]")
_ALNUM_RUN = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"[0-9]")
_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e\n]")


@dataclass(frozen=True, slots=True)
class View:
    """A normalised reading of a text; `origin[i]` is the source index of `text[i]`."""

    text: str
    origin: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The source span [start, end) of the view's characters [start, end)."""
        return self.origin[start], self.origin[end - 1] + 1


def fold(text: str) -> View:
    """The normalised reading of `text` (steps 1–5 of the module docstring)."""
    chars: list[str] = []
    origin: list[int] = []
    plain = 0  # printable ASCII folds to its lower case, in bulk
    for special in _NOT_PLAIN_ASCII.finditer(text):
        index = special.start()
        chars.append(text[plain:index].lower())
        origin.extend(range(plain, index))
        folded = _fold_char(special[0])
        chars.append(folded)
        origin.extend([index] * len(folded))
        plain = index + 1
    chars.append(text[plain:].lower())
    origin.extend(range(plain, len(text)))
    return View("".join(chars), origin)


def digit_view(view: View, source: str) -> View:
    """`view` read for numbers: look-alike letters inside runs of digits as digits, three
    or more spaced-out single digits closed up.

    `source` is the text `view` was folded from (the case of a letter matters: O and 0
    look alike, o and 0 do not).
    """
    if not _DIGIT.search(view.text):
        return view
    chars: list[str] | None = None
    done = 0
    for pair in _LETTER_BY_DIGIT.finditer(view.text):
        if pair.start() < done:
            continue
        run = _ALNUM_RUN.match(view.text, _run_start(view.text, pair.start()))
        if run is None:  # pragma: no cover - a pair is inside a run
            continue
        done = run.end()
        digits = [_digit_like(source[view.origin[i]]) for i in range(run.start(), run.end())]
        if all(c.isdigit() or d for c, d in zip(run[0], digits, strict=True)):
            chars = chars or list(view.text)
            for offset, digit in enumerate(digits):
                if digit:
                    chars[run.start() + offset] = digit
    current = view if chars is None else View("".join(chars), view.origin)
    spaced = (
        (run.start() + offset, run.start() + offset + 1)
        for run in _LONE_DIGITS.finditer(current.text)
        for offset in range(1, len(run[0]), 2)
    )
    return _delete(current, spaced)


def _run_start(text: str, index: int) -> int:
    while index > 0 and text[index - 1].isalnum():
        index -= 1
    return index


def join_lines(view: View) -> View:
    """`view` without the line breaks (and the spaces around them) between two digits."""
    return _delete(view, (m.span() for m in _BREAK_BETWEEN_DIGITS.finditer(view.text)))


def _delete(view: View, spans: Iterable[tuple[int, int]]) -> View:
    """`view` without the characters of the (sorted, disjoint) `spans`."""
    dropped = list(spans)
    if not dropped:
        return view
    keep = [True] * len(view.text)
    for start, end in dropped:
        keep[start:end] = [False] * (end - start)
    text = "".join(c for c, k in zip(view.text, keep, strict=True) if k)
    origin = [o for o, k in zip(view.origin, keep, strict=True) if k]
    return View(text, origin)


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """One source character as it reads in the view (possibly empty or several)."""
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if char in _LINE_BREAKS:
        return "\n"
    if char.isspace():
        return " "
    if category == "Cc":
        return ""
    out: list[str] = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.combining(part) or unicodedata.category(part) in ("Mn", "Me", "Cf"):
            continue
        if part.isascii():
            out.append(part)
        elif unicodedata.category(part) == "Nd":
            out.append(str(unicodedata.decimal(part)))
        elif unicodedata.category(part) == "Pd" or part in _DASHES:
            out.append("-")
        elif part in _FULL_STOPS:
            out.append(".")
        elif part in _LINE_BREAKS:
            out.append("\n")
        elif part.isspace():
            out.append(" ")
        elif part.isalpha():
            out.append(_skeleton(part))
        else:
            out.append(part)
    return _strip_marks("".join(out).casefold())


def _strip_marks(text: str) -> str:
    return "".join(
        c
        for c in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(c) and unicodedata.category(c) not in ("Mn", "Me", "Cf")
    )


@lru_cache(maxsize=4096)
def _homoglyphs(char: str) -> tuple[str, ...]:
    """What the Unicode confusables table lists as looking like `char`, bidi marks and
    combining overlays removed ('ø' gives 'o', 'æ' gives 'ae')."""
    from confusable_homoglyphs import confusables  # type: ignore[import-untyped]  # no stubs

    found = confusables.is_confusable(char, greedy=False, preferred_aliases=[])
    if not found:
        return ()
    glyphs = cast(list[dict[str, str]], found[0]["homoglyphs"])
    return tuple(g for g in (_strip_marks(glyph["c"]) for glyph in glyphs) if g)


@lru_cache(maxsize=4096)
def _skeleton(letter: str) -> str:
    """A non-ASCII letter as the Latin letters it looks like, or itself."""
    for glyph in _homoglyphs(letter):
        if glyph.isascii() and glyph.isalpha():
            return glyph
    return letter


@lru_cache(maxsize=4096)
def _digit_like(char: str) -> str:
    """The ASCII digit a letter looks like (O → 0, l → 1), or ''."""
    if not char.isalpha():
        return ""
    for candidate in dict.fromkeys((char, _skeleton(char))):
        for glyph in _homoglyphs(candidate):
            if len(glyph) == 1 and glyph in "0123456789":
                return glyph
    return ""
