"""Legal guardrails on nämnd decisions (G7), as pure checks over a decision file.

11 kap. 5 § SoL: IUB only by nämnd decision, only for personliga behov, never for the
insatser the law excludes. 14 kap. 5 § SoL: undantag only for särskilda skäl, stated,
per specific insats; and, under every regime that documents no identity (14 kap. 4 §,
14 kap. 5 §, counts only), age bands at least MINSTA_ALDERSINTERVALL years wide (G8).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from iubledger.decisions.index import DecisionIndex, Upphavande
from iubledger.schemas.base import Problem
from iubledger.schemas.beslut import (
    IDENTITY_FREE,
    PARAGRAF,
    UTESLUTNA_FORMER,
    BeslutsFil,
    InsatsBeslut,
    Regim,
)
from iubledger.schemas.villkor import Alder, UtanMedfoljandeBarn

#: SFS 2025:400 entered into force on this day; no IUB decision can take effect before it.
LAGENS_IKRAFTTRADANDE = date(2025, 7, 1)

_EKONOMISKT = re.compile(r"ekonomiskt\s+bist[aå]nd|f[oö]rs[oö]rjningsst[oö]d", re.IGNORECASE)
_UTESLUTEN_BENAMNING = re.compile(r"\bkontakt(person|familj)", re.IGNORECASE)
#: 14 kap. 5 § SoL (G8): the narrowest age band where no identity is documented. A band of
#: one year is an exact age, which with gender and date can single a person out ("ensamt
#: eller tillsammans med övriga uppgifter"). The same floor holds for 14 kap. 4 § and for
#: counts only: their records and group counts carry the same age bands.
MINSTA_ALDERSINTERVALL = 5


def _plain(text: str) -> str:
    """Composed form without soft hyphens, so look-alike spellings match too."""
    return unicodedata.normalize("NFKC", text).replace("\u00ad", "")


def _insats_problems(n: int, i: InsatsBeslut) -> list[Problem]:
    at = f"insatser.{n}"
    out: list[Problem] = []
    if i.behov == "ekonomiska" or _EKONOMISKT.search(_plain(i.namn)):
        out.append(
            Problem(
                "ekonomiskt_bistand",
                f"{at}.behov",
                f"insats {i.id}: insatser för ekonomiska behov kan inte ges utan individuell "
                "behovsprövning (11 kap. 5 § SoL)",
            )
        )
    if i.insatsform in UTESLUTNA_FORMER or _UTESLUTEN_BENAMNING.search(_plain(i.namn)):
        out.append(
            Problem(
                "utesluten_insats",
                f"{at}.insatsform",
                f"insats {i.id}: insatsformen '{i.insatsform}' får aldrig ges utan individuell "
                "behovsprövning (11 kap. 5 § SoL)",
            )
        )
    if i.insatsform == "skyddat_boende" and not _adult_21_without_children(i):
        out.append(
            Problem(
                "skyddat_boende_21_utan_barn",
                f"{at}.villkor",
                f"insats {i.id}: skyddat boende kan ges utan behovsprövning endast till den som "
                "fyllt 21 år och saknar medföljande barn; villkoren måste säga det",
            )
        )
    if i.dokumentation.regim is Regim.undantag_14_5 and not i.dokumentation.sarskilda_skal:
        out.append(
            Problem(
                "sarskilda_skal_saknas",
                f"{at}.dokumentation.sarskilda_skal",
                f"insats {i.id}: undantag enligt 14 kap. 5 § SoL kräver att nämnden anger "
                "särskilda skäl",
            )
        )
    bredd = i.dokumentation.aldersintervall
    if i.dokumentation.regim in IDENTITY_FREE and bredd < MINSTA_ALDERSINTERVALL:
        out.append(
            Problem(
                "aldersintervall_for_smalt",
                f"{at}.dokumentation.aldersintervall",
                f"insats {i.id}: under {i.dokumentation.regim.value} "
                f"({PARAGRAF[i.dokumentation.regim]}) dokumenteras åldern bara i åldersgrupper "
                f"om minst {MINSTA_ALDERSINTERVALL} år (14 kap. 5 § SoL: uppgifter som ensamma "
                f"eller tillsammans med andra kan röja identitet); beslutet anger {bredd} år",
            )
        )
    out += _date_precision_problems(at, i)
    return out


def _date_precision_problems(at: str, i: InsatsBeslut) -> list[Problem]:
    """G8: under 14 kap. 5 § SoL no stored date is a day; a precision is set only where
    identity is not documented (14 kap. 4–5 §)."""
    dok = i.dokumentation
    if dok.datumprecision is None:
        return []
    field = f"{at}.dokumentation.datumprecision"
    if dok.regim not in IDENTITY_FREE:
        return [
            Problem(
                "datumprecision_ej_tillamplig",
                field,
                f"insats {i.id}: datumprecision gäller bara regimer utan identitet "
                "(14 kap. 4–5 § SoL)",
            )
        ]
    if dok.regim is Regim.undantag_14_5 and dok.datumprecision == "dag":
        return [
            Problem(
                "datumprecision_dag",
                field,
                f"insats {i.id}: under undantag enligt 14 kap. 5 § SoL lagras inget datum "
                "finare än en vecka (vecka eller manad)",
            )
        ]
    return []


def _adult_21_without_children(i: InsatsBeslut) -> bool:
    return any(isinstance(v, Alder) and (v.fran or 0) >= 21 for v in i.villkor) and any(
        isinstance(v, UtanMedfoljandeBarn) for v in i.villkor
    )


def _overlap_problem(
    n: int, fil: BeslutsFil, i: InsatsBeslut, index: DecisionIndex
) -> Problem | None:
    beslut_id = f"{fil.katalog}/{i.id}"
    history = index.histories.get(beslut_id, [])
    at = f"insatser.{n}"
    if fil.andring:
        latest = index.latest(beslut_id)
        if latest is None:
            return Problem(
                "andring_utan_beslut",
                at,
                f"insats {i.id}: en ändring kräver ett tidigare beslut för samma insats",
            )
        if isinstance(history[-1], Upphavande):
            return Problem(
                "andring_av_upphavt_beslut",
                at,
                f"insats {i.id}: beslutet är upphävt; fatta ett nytt beslut i stället",
            )
        if fil.giltig_fran <= latest.giltig_fran:
            return Problem(
                "andring_bakdaterad",
                "giltig_fran",
                f"insats {i.id}: en ändring måste börja gälla efter den gällande versionen "
                f"(från {latest.giltig_fran.isoformat()}); historiken skrivs aldrig om",
            )
        return None
    if not history:
        return None
    last = history[-1]
    if isinstance(last, Upphavande):
        overlaps = fil.giltig_fran < last.fran
    else:
        overlaps = last.giltig_till is None or fil.giltig_fran <= last.giltig_till
    if overlaps:
        return Problem(
            "overlappande_giltighet",
            "giltig_fran",
            f"insats {i.id}: ett beslut gäller redan för insatsen under perioden; "
            "ange 'andring': true för att ändra det",
        )
    return None


def check(fil: BeslutsFil, index: DecisionIndex) -> list[Problem]:
    """Every guardrail a decision file breaks; empty means it may be imported."""
    out: list[Problem] = []
    if fil.giltig_fran < LAGENS_IKRAFTTRADANDE:
        out.append(
            Problem(
                "fore_lagens_ikrafttradande",
                "giltig_fran",
                "IUB-beslut kan inte gälla före socialtjänstlagens (2025:400) ikraftträdande "
                "2025-07-01",
            )
        )
    for n, i in enumerate(fil.insatser):
        out.extend(_insats_problems(n, i))
        if (p := _overlap_problem(n, fil, i, index)) is not None:
            out.append(p)
    return out
