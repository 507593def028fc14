"""Legal guardrails on nämnd decisions (G7), as pure checks over a decision file.

11 kap. 5 § SoL: IUB only by nämnd decision, only for personliga behov, never for the
insatser the law excludes. 14 kap. 4 § SoL: the exemption is for rådgivning only.
14 kap. 5 § SoL: undantag only for särskilda skäl, stated in substance, per specific
insats, with its risk analysis (or its absence recorded); and, under every regime that
documents no identity (14 kap. 4 §, 14 kap. 5 §, counts only), age bands at least
MINSTA_ALDERSINTERVALL years wide (G8). Every problem names the insats by its id.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from iubledger.decisions.index import DecisionIndex, Upphavande
from iubledger.decisions.villkor import required
from iubledger.schemas.base import Problem
from iubledger.schemas.beslut import (
    IDENTITY_FREE,
    PARAGRAF,
    UTESLUTNA_FORMER,
    BeslutsFil,
    FaktumDeklaration,
    InsatsBeslut,
    Regim,
)
from iubledger.schemas.villkor import Alder, Faktum, UtanMedfoljandeBarn, walk

#: SFS 2025:400 entered into force on this day; no IUB decision can take effect before it.
LAGENS_IKRAFTTRADANDE = date(2025, 7, 1)

_EKONOMISKT = re.compile(r"ekonomiskt\s+bist[aå]nd|f[oö]rs[oö]rjningsst[oö]d", re.IGNORECASE)
_UTESLUTEN_BENAMNING = re.compile(r"\bkontakt(person|familj)", re.IGNORECASE)
#: 14 kap. 5 § SoL (G8): the narrowest age band where no identity is documented. A band of
#: one year is an exact age, which with gender and date can single a person out ("ensamt
#: eller tillsammans med övriga uppgifter"). The same floor holds for 14 kap. 4 § and for
#: counts only: their records and group counts carry the same age bands.
MINSTA_ALDERSINTERVALL = 5
#: 14 kap. 4 § SoL exempts rådgivning only: these forms, and no others, may use it.
RADGIVNINGSFORMER = frozenset({"radgivning", "samtalsstod"})
#: Särskilda skäl (14 kap. 5 § SoL) must say something: at least this many characters and
#: words, and this many different words of four letters or more that are not the law's own
#: words (a repeated "särskilda skäl enligt 14 kap. 5 §" states no reason).
SKAL_MIN_TECKEN = 80
SKAL_MIN_ORD = 12
SKAL_MIN_EGNA_ORD = 8
_LAGENS_ORD = frozenset(
    {
        "särskilda",
        "skäl",
        "skälen",
        "undantag",
        "undantaget",
        "enligt",
        "socialtjänstlagen",
        "dokumentation",
        "dokumentationen",
        "dokumentationsskyldigheten",
        "nämnden",
        "insatsen",
    }
)
_ORD = re.compile(r"[^\W\d_]{2,}")


def _plain(text: str) -> str:
    """Composed form without soft hyphens, so look-alike spellings match too."""
    return unicodedata.normalize("NFKC", text).replace("\u00ad", "")


def substantial(skal: str) -> bool:
    """Whether särskilda skäl state a reason (the rule of SKAL_MIN_*; docs/decisions.md)."""
    text = _plain(skal).strip()
    words = [w.lower() for w in _ORD.findall(text)]
    own = {w for w in words if len(w) >= 4 and w not in _LAGENS_ORD}
    return (
        len(text) >= SKAL_MIN_TECKEN
        and len(words) >= SKAL_MIN_ORD
        and len(own) >= SKAL_MIN_EGNA_ORD
    )


def insats_at(i: InsatsBeslut) -> str:
    """Where in a decision file an insats is: by its id, never by its place in the list."""
    return f"insatser[{i.id}]"


def _insats_problems(fil: BeslutsFil, i: InsatsBeslut) -> list[Problem]:
    at = insats_at(i)
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
    if i.dokumentation.regim is Regim.radgivning_14_4 and i.insatsform not in RADGIVNINGSFORMER:
        out.append(
            Problem(
                "radgivning_14_4_fel_insatsform",
                f"{at}.dokumentation.regim",
                f"insats {i.id}: undantaget i 14 kap. 4 § SoL gäller bara rådgivning "
                f"(insatsform radgivning eller samtalsstod), inte '{i.insatsform}'",
            )
        )
    out += _undantag_problems(at, i)
    out += _time_problems(fil, at, i)
    out += _faktum_problems(at, i)
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


def _undantag_problems(at: str, i: InsatsBeslut) -> list[Problem]:
    """14 kap. 5 § SoL: särskilda skäl in substance, and the risk analysis they rest on."""
    dok = i.dokumentation
    if dok.regim is not Regim.undantag_14_5:
        return []
    out: list[Problem] = []
    if not dok.sarskilda_skal:
        out.append(
            Problem(
                "sarskilda_skal_saknas",
                f"{at}.dokumentation.sarskilda_skal",
                f"insats {i.id}: undantag enligt 14 kap. 5 § SoL kräver att nämnden anger "
                "särskilda skäl",
            )
        )
    elif not substantial(dok.sarskilda_skal):
        out.append(
            Problem(
                "sarskilda_skal_innehallslosa",
                f"{at}.dokumentation.sarskilda_skal",
                f"insats {i.id}: de särskilda skälen (14 kap. 5 § SoL) måste ange skälen i sak: "
                f"minst {SKAL_MIN_TECKEN} tecken, {SKAL_MIN_ORD} ord och {SKAL_MIN_EGNA_ORD} "
                "olika egna ord utöver lagens",
            )
        )
    if dok.riskanalys is None and not dok.riskanalys_saknas:
        out.append(
            Problem(
                "riskanalys_saknas",
                f"{at}.dokumentation.riskanalys",
                f"insats {i.id}: ange risk- och konsekvensanalysen som undantaget enligt "
                "14 kap. 5 § SoL vilar på, eller 'riskanalys_saknas': true (räknas som avvikelse)",
            )
        )
    return out


def _time_problems(fil: BeslutsFil, at: str, i: InsatsBeslut) -> list[Problem]:
    """An insats's own end and review day lie within the decision's validity."""
    out: list[Problem] = []
    for name, day in (("giltig_till", i.giltig_till), ("omprovas_senast", i.omprovas_senast)):
        if day is not None and day < fil.giltig_fran:
            out.append(
                Problem(
                    f"{name}_fore_giltig_fran",
                    f"{at}.{name}",
                    f"insats {i.id}: '{name}' ligger före beslutets giltig_fran",
                )
            )
    return out


def _faktum_problems(at: str, i: InsatsBeslut) -> list[Problem]:
    """Every `faktum` villkor names a declared fact and compares it as its type allows."""
    declared = {d.namn: d for d in i.fakta}
    out: list[Problem] = []
    for path, v in walk(i.villkor):
        if not isinstance(v, Faktum):
            continue
        d = declared.get(v.namn)
        if d is None:
            out.append(
                Problem(
                    "okant_faktum",
                    f"{at}.{path}",
                    f"insats {i.id}: villkoret nämner ett faktum som beslutet inte deklarerar "
                    "(fältet fakta)",
                )
            )
        elif not _comparable(d, v):
            out.append(
                Problem(
                    "faktum_fel_jamforelse",
                    f"{at}.{path}",
                    f"insats {i.id}: villkoret jämför faktumet '{d.namn}' ({d.typ}) på ett sätt "
                    "som dess typ inte tillåter",
                )
            )
    return out


def _comparable(d: FaktumDeklaration, v: Faktum) -> bool:
    """`ar` with a value of the fact's type; `i` only for an enum; a range only for int/date."""
    if v.ar is not None:
        match d.typ:
            case "bool":
                return isinstance(v.ar, bool)
            case "int":
                return isinstance(v.ar, int) and not isinstance(v.ar, bool)
            case "date":
                return isinstance(v.ar, date)
            case "enum":
                return isinstance(v.ar, str) and v.ar in (d.varden or [])
    if v.i is not None:
        return d.typ == "enum" and set(v.i) <= set(d.varden or [])
    bound = v.fran if v.fran is not None else v.till
    if d.typ == "int":
        return isinstance(bound, int)
    return d.typ == "date" and isinstance(bound, date)


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
    must = list(required(i.villkor))
    return any(isinstance(v, Alder) and (v.fran or 0) >= 21 for v in must) and any(
        isinstance(v, UtanMedfoljandeBarn) for v in must
    )


def _overlap_problem(fil: BeslutsFil, i: InsatsBeslut, index: DecisionIndex) -> Problem | None:
    beslut_id = f"{fil.katalog}/{i.id}"
    history = index.histories.get(beslut_id, [])
    at = insats_at(i)
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
    for i in fil.insatser:
        out.extend(_insats_problems(fil, i))
        if (p := _overlap_problem(fil, i, index)) is not None:
            out.append(p)
    return out
