"""apply(regime, input) → documentation: what of an utförare event may be stored.

Per regime (DESIGN.md): full_14_3 seals identity and personal circumstances under a
per-subject key and links the stream with a keyed pseudonym (14 kap. 3 § SoL);
deltagardata keeps name (sealed), gender and age, never the personnummer; under
radgivning_14_4 (14 kap. 4 §) and undantag_14_5 (14 kap. 5 §) identity is dropped and
age generalised to a band, free text is scanned and refused on any identifier; under
aggregat only counts remain. Nothing here writes anything: keys come in through `Keys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from iubledger.decisions.index import Version
from iubledger.policies import POLICY_VERSION
from iubledger.policies.crypto import pseudonym, seal
from iubledger.policies.personnummer import Personnummer, PersonnummerError, age_on, parse
from iubledger.policies.textscan import Kind, scan
from iubledger.schemas.base import Problem, Rejected
from iubledger.schemas.beslut import IDENTITY_FREE, PARAGRAF, Regim
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


def aldersgrupp(alder: int, bredd: int) -> str:
    """Generalise an exact age to a band of the decision's width (default 5 years)."""
    lo = alder // bredd * bredd
    return f"{lo}-{lo + bredd - 1}"


def _age(d: Deltagare, pn: Personnummer | None, day: date) -> int | None:
    if pn is not None:
        return pn.age_on(day)
    if d.fodelsedatum is not None:
        return age_on(d.fodelsedatum, day)
    return d.alder


def _check(
    h: UtforarHandelse, regim: Regim, d: Deltagare
) -> tuple[Personnummer | None, list[Problem]]:
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
    if regim in IDENTITY_FREE and h.anteckning is not None:
        given: list[tuple[Kind, str]] = [
            (kind, v)
            for kind, v in (
                ("telefon", d.telefon),
                ("epost", d.epost),
                ("personnummer", d.personnummer),
                ("fodelsedatum", d.fodelsedatum.isoformat() if d.fodelsedatum else None),
            )
            if v
        ]
        hits = scan(
            h.anteckning,
            names=[d.namn] if d.namn else [],
            addresses=[d.adress] if d.adress else [],
            given=given,
            today=h.datum,
        )
        for kind in sorted({hit.kind for hit in hits}):
            problems.append(
                Problem(
                    "identitet_i_fritext",
                    "anteckning",
                    f"the free text contains a {kind}; under {regim.value} ({PARAGRAF[regim]}) "
                    "nothing that can reveal identity may be documented",
                )
            )
    if h.type == "start" and regim is not Regim.aggregat:
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
    return pn, problems


def apply(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """The documentation of one event under the regime of the decision in force (G1–G4)."""
    dok = version.insats.dokumentation
    regim = dok.regim
    d = h.deltagare or Deltagare()
    pn, problems = _check(h, regim, d)
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
    redigering: list[dict[str, str]] = []

    def mark(field: str, atgard: str) -> None:
        redigering.append({"falt": field, "atgard": atgard})

    person: dict[str, Any] = {}
    sealed: dict[str, Any] = {}
    if regim is not Regim.aggregat:
        if d.kon is not None:
            person["kon"] = d.kon
        if alder is not None:
            person["aldersgrupp"] = aldersgrupp(alder, dok.aldersintervall)
    if regim is Regim.full_14_3:
        sealed = dict(given)
        if pn is not None:
            key = keys.namnd_key(version.katalog, "pseudonym")
            person["pseudonym"] = pseudonym(key, pn.normalized)
            mark("deltagare.personnummer", "pseudonymiserad")
        if h.anteckning is not None:
            sealed["anteckning"] = h.anteckning
    elif regim is Regim.deltagardata:
        if alder is not None:
            person["alder"] = alder
        if "namn" in given:
            sealed["namn"] = given["namn"]
        if h.anteckning is not None:
            sealed["anteckning"] = h.anteckning
        for f in given:
            if f not in ("namn", "alder"):
                mark(
                    f"deltagare.{f}",
                    "generaliserad" if f in ("personnummer", "fodelsedatum") else "borttagen",
                )
    else:
        if h.anteckning is not None:
            falt["anteckning"] = h.anteckning
        for f in given:
            generalised = regim is not Regim.aggregat and f in (
                "personnummer",
                "fodelsedatum",
                "alder",
            )
            mark(f"deltagare.{f}", "generaliserad" if generalised else "borttagen")
        if regim is Regim.aggregat and d.kon is not None:
            mark("deltagare.kon", "borttagen")
    if sealed:
        key = keys.subject_key_for(subjekt)
        falt["forsegling"] = {"subjekt": subjekt, "data": seal(key, subjekt, sealed)}
        for f in sealed:
            mark(f"deltagare.{f}" if f != "anteckning" else f, "forseglad")
    if getattr(h, "fakta", None) is not None:
        mark("fakta", "borttagen")
    if person:
        falt["deltagare"] = person
    if redigering:
        falt["redigering"] = redigering
    return Dokumentation(falt=falt, alder=alder)
