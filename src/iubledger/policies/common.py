"""What every documentation regime shares (14 kap. 3–5 § SoL).

The checks every event passes before any regime looks at it (a date not in the future,
a personnummer that parses, a birth date not after the event, a group session's age bands
among the decision's bands), the rules a regime chooses from (the free-text scan of the
identity-free regimes; gender and age documented at start, 14 kap. 3 § SoL), and the
record being built: the event's own fields, the decision stamp (G4) and a note, by field
name only, of what was done to each identity field. Nothing here writes anything: keys
come in through `Keys`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Protocol
from uuid import uuid4

from iubledger.decisions.index import Version
from iubledger.policies import POLICY_VERSION
from iubledger.policies.crypto import seal
from iubledger.policies.personnummer import Personnummer, PersonnummerError, age_on, parse
from iubledger.policies.textscan import Kind, scan
from iubledger.schemas import period
from iubledger.schemas.base import Problem, Rejected
from iubledger.schemas.beslut import PARAGRAF, Regim
from iubledger.schemas.handelser import Deltagare, UtforarHandelse

IDENTITETSFALT = (
    "personnummer",
    "namn",
    "adress",
    "fodelsedatum",
    "alder",
    "folkbokford_kommun",
    "telefon",
    "epost",
)
#: Fields of the input that never reach the documentation as given.
_NOT_AS_GIVEN = {"id", "deltagare", "anteckning", "fakta", "besokskod", "deltagande", "oppnad_av"}


class Keys(Protocol):
    def namnd_key(self, namnd: str, syfte: str) -> bytes: ...
    def subject_key_for(self, subjekt: str) -> bytes: ...


@dataclass(frozen=True)
class Dokumentation:
    """What may be stored (with the record of what was done to each field, by name only),
    and the age the rules use (villkor, children's consent), stored only as the regime allows."""

    falt: dict[str, Any]
    alder: int | None
    #: The keyed look-up of the person (full_14_3, with a personnummer): used to find the
    #: person's entry in the key store, never stored in the log (G2).
    uppslag: bytes | None = None


#: One regime: the documentation of an event under the decision in force, for a subject.
Policy = Callable[[Version, UtforarHandelse, str, Keys], Dokumentation]

#: A rule of a regime on the input, checked after the personnummer and birth date.
Check = Callable[[UtforarHandelse, Deltagare, Personnummer | None, Regim], list[Problem]]


#: The oldest age the ledger accepts (`Deltagare.alder`); no band starts above it.
HOGSTA_ALDER = 120


def aldersgrupp(alder: int, bredd: int) -> str:
    """Generalise an exact age to a band of the decision's width (default 5 years)."""
    lo = alder // bredd * bredd
    return f"{lo}-{lo + bredd - 1}"


@cache
def beslutets_aldersgrupper(bredd: int) -> frozenset[str]:
    """14 kap. 5 § SoL (G8): the age bands a decision of width `bredd` allows.

    A band is `lo-(lo+bredd-1)` with `lo` a multiple of `bredd` up to HOGSTA_ALDER, written
    as `aldersgrupp` writes it; an open top band `lo+` is allowed at such a multiple too
    (the union of the decision's bands from `lo` up: coarser than any one of them, never
    finer). Nothing else: not `37-37`, not `30-39` under width 5, not `05-09`.
    """
    starts = range(0, HOGSTA_ALDER + 1, bredd)
    return frozenset({aldersgrupp(lo, bredd) for lo in starts} | {f"{lo}+" for lo in starts})


def _age_band_problems(h: UtforarHandelse, bredd: int) -> list[Problem]:
    """A group session's counts only in the decision's age bands (14 kap. 5 § SoL, G8):
    a free label could carry an exact age ("37-37"). The message names the rule and the
    width, never the label."""
    grupp = getattr(h, "grupp", None) or []
    return [
        Problem(
            "aldersgrupp_ej_i_beslutet",
            f"grupp.{n}.aldersgrupp",
            f"the age band is not one of the decision's bands: aldersintervall {bredd} years, "
            f"each band from a multiple of {bredd} to the year before the next (an open top "
            f"band 'N+' only with N a multiple of {bredd}); 14 kap. 5 § SoL: age is "
            "documented only in the decision's bands",
        )
        for n, g in enumerate(grupp)
        if g.aldersgrupp not in beslutets_aldersgrupper(bredd)
    ]


def _age(d: Deltagare, pn: Personnummer | None, day: date) -> int | None:
    if pn is not None:
        return pn.age_on(day)
    if d.fodelsedatum is not None:
        return age_on(d.fodelsedatum, day)
    return d.alder


#: How far ahead of today (UTC) an event's date may be: a day, for time zones and midnight.
FRAMTID = timedelta(days=1)


def future_date(datum: date, today: date) -> list[Problem]:
    """14 kap. 3 § SoL documents what was done: an event dated more than a day after today
    has not happened, and is refused (rule `datum_i_framtiden`, never the date itself)."""
    if datum - today <= FRAMTID:
        return []
    return [
        Problem(
            "datum_i_framtiden",
            "datum",
            "the event's date is more than a day after today; only what has happened is "
            "documented (14 kap. 3 § SoL)",
        )
    ]


def _identity_problems(
    h: UtforarHandelse, d: Deltagare
) -> tuple[Personnummer | None, list[Problem]]:
    """The personnummer parses; the birth date is not after the event and agrees with it."""
    problems: list[Problem] = []
    pn = None
    if d.personnummer is not None:
        try:
            pn = parse(d.personnummer, today=h.datum)
        except PersonnummerError as e:
            problems.append(Problem(f"personnummer_{e.rule}", "deltagare.personnummer", str(e)))
    born = pn.birth_date if pn is not None else d.fodelsedatum
    if born is not None and born > h.datum:
        problems.append(
            Problem("fodd_efter_datum", "deltagare", "the birth date is after the event's date")
        )
    if pn is not None and d.fodelsedatum is not None and pn.birth_date != d.fodelsedatum:
        problems.append(
            Problem(
                "motstridiga_uppgifter",
                "deltagare.fodelsedatum",
                "the birth date does not match the personnummer",
            )
        )
    return pn, problems


def identity_in_free_text(
    h: UtforarHandelse, d: Deltagare, pn: Personnummer | None, regim: Regim
) -> list[Problem]:
    """Free text is refused when it holds an identifier: one of a known shape or a value
    given in the same event, in any spelling a person could use (G1)."""
    if h.anteckning is None:
        return []
    candidates: tuple[tuple[Kind, str | None], ...] = (
        ("telefon", d.telefon),
        ("epost", d.epost),
        ("personnummer", d.personnummer),
        ("fodelsedatum", d.fodelsedatum.isoformat() if d.fodelsedatum else None),
    )
    hits = scan(
        h.anteckning,
        names=[d.namn] if d.namn else [],
        addresses=[d.adress] if d.adress else [],
        given=[(kind, v) for kind, v in candidates if v],
        today=h.datum,
    )
    return [
        Problem(
            "identitet_i_fritext",
            "anteckning",
            f"the free text contains a {kind}; under {regim.value} ({PARAGRAF[regim]}) "
            "nothing that can reveal identity may be documented",
        )
        for kind in sorted({hit.kind for hit in hits})
    ]


def person_at_start(
    h: UtforarHandelse, d: Deltagare, pn: Personnummer | None, regim: Regim
) -> list[Problem]:
    """14 kap. 3 § SoL: gender and age (stored as an age band) are documented at start."""
    if h.type != "start":
        return []
    problems: list[Problem] = []
    if d.kon is None:
        problems.append(
            Problem(
                "uppgift_saknas",
                "deltagare.kon",
                "14 kap. 3 § SoL: gender is documented at start",
            )
        )
    if pn is None and d.fodelsedatum is None and d.alder is None:
        problems.append(
            Problem(
                "uppgift_saknas",
                "deltagare.alder",
                "14 kap. 3 § SoL: age (stored as an age band) is documented at start",
            )
        )
    return problems


@dataclass
class Underlag:
    """An event that passed its regime's checks, and the record being built from it."""

    version: Version
    h: UtforarHandelse
    d: Deltagare
    pn: Personnummer | None
    alder: int | None
    #: The identity fields given in the input (gender is not one), in the input's order.
    given: dict[str, Any]
    falt: dict[str, Any]
    person: dict[str, Any] = field(default_factory=dict)
    redigering: list[dict[str, str]] = field(default_factory=list)

    def mark(self, name: str, atgard: str) -> None:
        """Record what was done to a field of the input, by its name only."""
        self.redigering.append({"falt": name, "atgard": atgard})

    def keep_gender_and_age_band(self) -> None:
        """Gender as given, age generalised to a band of the decision's width."""
        if self.d.kon is not None:
            self.person["kon"] = self.d.kon
        if self.alder is not None:
            bredd = self.version.insats.dokumentation.aldersintervall
            self.person["aldersgrupp"] = aldersgrupp(self.alder, bredd)

    def mark_not_kept(
        self, *, kept: Collection[str] = (), generalised: Collection[str] = ()
    ) -> None:
        """Record each given identity field not kept: generalised (into the age or its band)
        or dropped."""
        for f in self.given:
            if f not in kept:
                self.mark(f"deltagare.{f}", "generaliserad" if f in generalised else "borttagen")

    def seal_fields(self, keys: Keys, subjekt: str, sealed: dict[str, Any]) -> None:
        """Seal the fields under the subject's own key, so gallring can forget them (G3).
        The seal is bound to a label of its own, random, so it names no subject and no
        other record: which seals are a participation's is known only outside the log."""
        if not sealed:
            return
        key = keys.subject_key_for(subjekt)
        etikett = str(uuid4())
        self.falt["forsegling"] = {"subjekt": etikett, "data": seal(key, etikett, sealed)}
        for f in sealed:
            self.mark(f"deltagare.{f}" if f != "anteckning" else f, "forseglad")

    def dokumentation(self, uppslag: bytes | None = None) -> Dokumentation:
        """The finished record: facts checked for the villkor are never stored."""
        if getattr(self.h, "fakta", None) is not None:
            self.mark("fakta", "borttagen")
        if self.person:
            self.falt["deltagare"] = self.person
        if self.redigering:
            self.falt["redigering"] = self.redigering
        return Dokumentation(falt=self.falt, alder=self.alder, uppslag=uppslag)


def checked(version: Version, h: UtforarHandelse, *checks: Check) -> Underlag:
    """The event's date, personnummer and birth date and a group session's age bands checked,
    then the regime's own checks in order; refused (naming field and rule, never the value,
    G6) on any problem. The record starts with the event's own fields and the decision
    stamp (G4)."""
    regim = version.insats.dokumentation.regim
    d = h.deltagare or Deltagare()
    problems = future_date(h.datum, datetime.now(UTC).date())
    pn, identity = _identity_problems(h, d)
    problems += identity
    problems += _age_band_problems(h, version.insats.dokumentation.aldersintervall)
    for check in checks:
        problems += check(h, d, pn, regim)
    if problems:
        raise Rejected(problems)
    alder = _age(d, pn, h.datum)  # the birth date is not after the event: checked above
    given = {
        f: v for f, v in d.model_dump(mode="json", exclude_none=True).items() if f in IDENTITETSFALT
    }
    falt: dict[str, Any] = h.model_dump(mode="json", exclude=_NOT_AS_GIVEN, exclude_none=True)
    falt["beslut"] = {
        "id": version.beslut_id,
        "version": version.version,
        "regim": regim.value,
        "paragraf": PARAGRAF[regim],
    }
    falt["policy_version"] = POLICY_VERSION
    falt["datum"] = period.label(h.datum, version.insats.dokumentation.precision)
    return Underlag(version, h, d, pn, alder, given, falt)


def referral(post: dict[str, Any]) -> dict[str, Any]:
    """The referral the ledger adds itself after a villkorskontroll in doubt (11 kap. 5 §
    SoL): the decision stamp and context of that post (G4), nothing else."""
    keep = ("datum", "insats", "utforare", "beslut", "policy_version")
    return {**{k: post[k] for k in keep}, "type": "hanvisning", "orsak": "villkor_oklart"}
