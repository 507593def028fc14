"""The opening of the compliance report: one line per paragraph (met, not met, with how
many deviations), then every deviation counted per insats and rule — never an identity.

Each check of `audit/compliance.py` names the area of law it belongs to (`Omrade`); this
module only groups the checks. A further breakdown (per utförare, say) is one more list
built from the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from iubledger.reports.render.labels import antal, tal

Resultat = Literal["uppfyllt", "avvikelse", "information"]


@dataclass(frozen=True)
class Omrade:
    """An area of the law the report answers for, with the paragraph it rests on."""

    nyckel: str
    paragraf: str
    fraga: str


BESLUT = Omrade(
    "beslut", "11 kap. 5 § SoL", "Insatsen ges utan behovsprövning bara efter nämndens beslut"
)
INFORMATION = Omrade(
    "information", "11 kap. 6 § SoL", "Den som tar kontakt informeras om rätten att ansöka"
)
DOKUMENTATION = Omrade(
    "dokumentation", "14 kap. 3 § SoL", "Genomförandet dokumenteras (kön, ålder, avbrott)"
)
RADGIVNING = Omrade(
    "radgivning", "14 kap. 4 § SoL", "Rådgivning: inga uppgifter om identitet lagras"
)
UNDANTAG = Omrade(
    "undantag",
    "14 kap. 5 § SoL",
    "Undantag: särskilda skäl, inga uppgifter som kan röja identitet, k-anonymitet",
)
BARN = Omrade("barn", "11 kap. SoL (barn)", "Barn: vårdnadshavares samtycke och barnets vilja")
VILLKOR = Omrade(
    "villkor", "11 kap. 5 § SoL (villkor)", "Villkor kontrolleras; vid tveksamhet hänvisning"
)
#: The overview's lines, in the order the report shows them.
OMRADEN = (BESLUT, INFORMATION, DOKUMENTATION, RADGIVNING, UNDANTAG, BARN, VILLKOR)


@dataclass(frozen=True)
class Kontroll:
    """One check of one insats: met, a deviation, or (information) no bar set by law.
    `avvikande` of `av` counts what deviated (e.g. 4 of 120 kontakter not informed)."""

    omrade: Omrade
    paragraf: str
    kontroll: str
    resultat: Resultat
    detalj: str
    avvikande: int | None = None
    av: int | None = None
    enhet: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "paragraf": self.paragraf,
            "kontroll": self.kontroll,
            "resultat": self.resultat,
            "detalj": self.detalj,
            "omrade": self.omrade.nyckel,
        }
        if self.avvikande is not None and self.av is not None:
            out |= {"avvikande": self.avvikande, "av": self.av, "enhet": self.enhet or "poster"}
        return out


def kontroll(
    omrade: Omrade,
    kontroll: str,
    ok: bool | None,
    detalj: str,
    *,
    paragraf: str | None = None,
    avvikande: int | None = None,
    av: int | None = None,
    enhet: str | None = None,
) -> Kontroll:
    """A check: met (True), a deviation (False), or information the law sets no bar for."""
    resultat: Resultat = "information" if ok is None else "uppfyllt" if ok else "avvikelse"
    return Kontroll(
        omrade, paragraf or omrade.paragraf, kontroll, resultat, detalj, avvikande, av, enhet
    )


#: The checks of one insats: (insats, its name, its checks).
Insats = tuple[str, str, list[Kontroll]]


def oversikt(per_insats: Iterable[Insats]) -> list[dict[str, Any]]:
    """One line per area of law: uppfyllt, ej uppfyllt (with how many deviations, in how
    many insatser, and what deviated in total), or ej tillämpligt when nothing was checked."""
    checks = [(i, k) for i, _, ks in per_insats for k in ks]
    out = []
    for o in OMRADEN:
        mine = [(i, k) for i, k in checks if k.omrade == o and k.resultat != "information"]
        bad = [(i, k) for i, k in mine if k.resultat == "avvikelse"]
        if not mine:
            resultat, text = "ej tillämpligt", "Inget att kontrollera under perioden."
        elif not bad:
            resultat = "uppfyllt"
            text = f"Uppfyllt i {antal(len(mine), 'kontroll', 'kontroller')}."
        else:
            resultat = "ej uppfyllt"
            insatser = len({i for i, _ in bad})
            rules = {k.kontroll for _, k in bad}
            totals = _totals(k for _, k in mine if k.kontroll in rules)
            text = (
                f"{antal(len(bad), 'avvikelse', 'avvikelser')} i "
                f"{antal(insatser, 'insats', 'insatser')}" + "".join(f"; {t}" for t in totals) + "."
            )
        out.append(
            {
                "paragraf": o.paragraf,
                "fraga": o.fraga,
                "resultat": resultat,
                "avvikelser": len(bad),
                "kontroller": len(mine),
                "text": text,
            }
        )
    return out


def _totals(checks: Iterable[Kontroll]) -> list[str]:
    """Per rule, what deviated over all insatser checked: '120 av 3182 kontakter'."""
    sums: dict[tuple[str, str], list[int]] = {}
    for k in checks:
        if k.avvikande is None or k.av is None:
            continue
        s = sums.setdefault((k.kontroll, k.enhet or "poster"), [0, 0])
        s[0] += k.avvikande
        s[1] += k.av
    return [
        f"{tal(n)} av {tal(whole)} {enhet} avviker ({kontroll[0].lower()}{kontroll[1:]})"
        for (kontroll, enhet), (n, whole) in sums.items()
    ]


def avvikelser(per_insats: Iterable[Insats]) -> list[dict[str, Any]]:
    """Every deviation: insats, paragraph, rule and how many of how many — counts only."""
    out = []
    for insats, namn, checks in per_insats:
        for k in checks:
            if k.resultat != "avvikelse":
                continue
            entry: dict[str, Any] = {
                "insats": insats,
                "namn": namn,
                "paragraf": k.paragraf,
                "kontroll": k.kontroll,
            }
            if k.avvikande is not None and k.av is not None:
                entry |= {"antal": k.avvikande, "av": k.av, "enhet": k.enhet or "poster"}
            out.append(entry)
    return out


def sammanfattning(lines: list[dict[str, Any]], insatser: int) -> dict[str, Any]:
    """The report's first words: which paragraphs are met and which are not."""
    deviations = sum(x["avvikelser"] for x in lines)
    ej = [x for x in lines if x["resultat"] == "ej uppfyllt"]
    ok = [x["paragraf"] for x in lines if x["resultat"] == "uppfyllt"]
    if not ej:
        text = "Inga avvikelser funna." + (f" Uppfyllt: {', '.join(ok)}." if ok else "")
    else:
        text = (
            f"{antal(deviations, 'avvikelse', 'avvikelser')}: "
            + "; ".join(f"{x['paragraf']} ({x['avvikelser']})" for x in ej)
            + "."
            + (f" Uppfyllt: {', '.join(ok)}." if ok else "")
        )
    return {"insatser": insatser, "avvikelser": deviations, "text": text}
