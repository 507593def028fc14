"""The effect of the nämnd's decisions: equally many whole calendar quarters before and
after each new version of an insats's decision (above all an undantag under 14 kap. 5 §
SoL introduced, ended or its regime altered), so the nämnd can follow up and evaluate its
decisions.

Each side is a sum of the same base units (quarter × insats, each protected on its own) as
the participation report, so its numbers are that report's published numbers for the
insats over those quarters, and no pair of reports reveals what either hides
(`protect.METOD`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from iubledger.decisions.index import DecisionIndex, Upphavande, Version
from iubledger.reports import begrepp
from iubledger.reports import facts as F
from iubledger.reports.participation import (
    ALDER_KON_UTELAMNAD,
    KON,
    age_tables,
    band_key,
    base_units,
    composed,
    dropout_share,
    scope,
    summa,
)
from iubledger.reports.protect import STANDARD, Skydd, publication_periods

#: The most whole quarters compared on either side of a change.
MAX_KVARTAL = 2

MATT: list[tuple[str, str]] = [
    ("kontakter", "Kontakter"),
    ("starter", "Nya deltagare"),
    ("unika", "Unika deltagare"),
    ("aktivitet", "Aktivitet (tillfällen och närvaro)"),
    ("avbrott", "Avbrott"),
    ("avslut", "Avslutade"),
]
#: The measures the one-line verdict speaks of.
BEDOMS = ("starter", "kontakter")
#: Below this many, a count is small: one person more or less moves the percentage a lot.
SMA_TAL = 20
MANADER = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)

Kvartal = tuple[date, date]
#: The column of the sparse genders (the participation report's `kon_ovrigt`).
SPARSAM = "annat_eller_saknas|alla åldrar"


def changes(
    index: DecisionIndex, beslut_id: str
) -> list[tuple[date, Version | Upphavande, Version | None]]:
    """(day, new entry, version before) for every change after the first version."""
    out: list[tuple[date, Version | Upphavande, Version | None]] = []
    previous: Version | None = None
    for e in index.histories.get(beslut_id, []):
        day = e.giltig_fran if isinstance(e, Version) else e.fran
        if previous is not None:
            out.append((day, e, previous))
        if isinstance(e, Version):
            previous = e
    return out


@dataclass(frozen=True)
class Fonster:
    """The whole quarters compared around a change, oldest first, and the quarter the
    change fell in mid-way (övergångskvartal), which belongs to neither side."""

    fore: list[Kvartal]
    efter: list[Kvartal]
    overgang: Kvartal | None


def windows(day: date, fran: date, till: date, boundaries: list[date]) -> Fonster | None:
    """Equally many (at most MAX_KVARTAL) whole calendar quarters entirely before `day`
    and starting on or after it, among the quarters that cover [fran, till], none of them
    crossing a neighbouring change; None when either side would be empty."""
    quarters = publication_periods(fran, till)
    previous = max((b for b in boundaries if b < day), default=date.min)
    following = min((b for b in boundaries if b > day), default=date.max)
    fore = [q for q in quarters if previous <= q[0] and q[1] < day]
    efter = [q for q in quarters if day <= q[0] and q[1] < following]
    n = min(len(fore), len(efter), MAX_KVARTAL)
    if n == 0:
        return None
    overgang = next((q for q in quarters if q[0] < day <= q[1]), None)
    return Fonster(fore[-n:], efter[:n], overgang)


def _side(tables: dict[str, dict[str, Any]]) -> dict[str, int | None]:
    """The measures of one side from its composed key figures (activity: sessions and
    group attendance, each a published number)."""

    def shown(key: str) -> int | None:
        value: int | None = tables[f"nyckeltal:{key}"]["celler"][0][0]
        return value

    out = {key: shown(key) for key, _ in MATT if key != "aktivitet"}
    out["aktivitet"] = summa(shown("tillfallen"), shown("gruppnarvaro"))
    return out


def _kon_alder(sides: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The age and gender tables of each side (exact counts), one row per side; its
    margins sum one measure (a side's total, a cell's before and after)."""
    values: list[dict[str, int | None]] = []
    totals: list[int | None] = []
    for tables in sides:
        grid = tables["alder_kon"]
        v = {
            f"{kon}|{band}": grid["celler"][r][c]
            for r, band in enumerate(grid["rader"])
            for c, kon in enumerate(grid["kolumner"])
        }
        total = grid["totalt"]
        other = tables.get("kon_ovrigt")
        if other is not None and other["rader"]:
            v[SPARSAM] = other["celler"][0][0]
            total = summa(total, other["totalt"])
        values.append(v)
        totals.append(total)

    def order(col: str) -> tuple[int, int]:
        kon, band = col.split("|", 1)
        return (KON.index(kon) if kon in KON else len(KON), band_key(band))

    cols = sorted({c for v in values for c in v}, key=order)
    cells = [[v.get(c, 0) for c in cols] for v in values]
    return {
        "titel": "Ålder och kön (start och gruppnärvaro)"
        + ("; annat eller uppgift saknas om kön för alla åldrar" if SPARSAM in cols else ""),
        "rader": ["före", "efter"],
        "kolumner": cols,
        "celler": cells,
        "radsummor": totals,
        "kolumnsummor": [summa(*col) for col in zip(*cells, strict=True)],
        "totalt": summa(*totals),
        "undertryckt": any(v is None for row in cells for v in row) or None in totals,
    }


def _iso(q: list[Kvartal]) -> list[str]:
    return [q[0][0].isoformat(), q[-1][1].isoformat()]


def build(
    session: Any,
    index: DecisionIndex,
    fran: date,
    till: date,
    *,
    insatser: list[str] | None = None,
    namnd: str | None = None,
    skydd: Skydd = STANDARD,
) -> dict[str, Any]:
    """The effect report as data: one comparison per decision change inside the period."""
    out: list[dict[str, Any]] = []
    for beslut_id, version in scope(index, till, insatser, namnd).items():
        found = changes(index, beslut_id)
        boundaries = [d for d, _, _ in found]
        for day, entry, before_version in found:
            if not fran < day <= till:
                continue
            w = windows(day, fran, till, boundaries)
            if w is None:
                continue
            one = {beslut_id: version}
            loaded = [
                [(lo, hi, F.load(session, lo, hi, {beslut_id}, "manad")) for lo, hi in qs]
                for qs in (w.fore, w.efter)
            ]
            units = [
                [base_units(f, one, lo, hi, "manad", skydd)[beslut_id] for lo, hi, f in side]
                for side in loaded
            ]
            sides = [composed([u.tables for u in side]) for side in units]
            # Age and gender per insats only with exact counts (`ALDER_KON_UTELAMNAD`).
            mix = None
            if skydd.k is None:
                mix = _kon_alder(
                    [
                        composed([age_tables(f, [beslut_id], skydd) for _, _, f in side])
                        for side in loaded
                    ]
                )
            figures = [_side(t) for t in sides]
            cells = [[f[key] for key, _ in MATT] for f in figures]
            tab = {
                "titel": "Före och efter",
                "rader": ["före", "efter"],
                "kolumner": [label for _, label in MATT],
                "celler": cells,
                "undertryckt": any(v is None for row in cells for v in row),
            }
            rates = [dropout_share(u, skydd) for u in units]
            change = forandring(cells, rates)
            new_regim = (
                entry.insats.dokumentation.regim.value if isinstance(entry, Version) else None
            )
            fore, efter = (w.fore[0][0], w.fore[-1][1]), (w.efter[0][0], w.efter[-1][1])
            out.append(
                {
                    "insats": beslut_id,
                    "namn": version.insats.namn,
                    "kategori": version.insats.kategori,
                    "tillhandahallare": version.insats.tillhandahallare_text,
                    "andring": {
                        "datum": day.isoformat(),
                        "version": entry.version,
                        "slag": "upphävande" if isinstance(entry, Upphavande) else "ny version",
                        "regim_fore": before_version.insats.dokumentation.regim.value
                        if before_version
                        else None,
                        "regim_efter": new_regim,
                    },
                    "fonster": {
                        "fore": _iso(w.fore),
                        "efter": _iso(w.efter),
                        "kvartal": len(w.fore),
                        "overgangskvartal": _iso([w.overgang]) if w.overgang else None,
                    },
                    "jamforelse": tab,
                    "avbrottsandel": {"fore": rates[0], "efter": rates[1]},
                    "forandring": change,
                    "bedomning": bedomning(
                        change,
                        fore,
                        efter,
                        regim_andrad=before_version is not None
                        and new_regim != before_version.insats.dokumentation.regim.value,
                        overgang=w.overgang,
                    ),
                    "kon_alder": mix,
                }
            )
    suppressed = any(c["jamforelse"]["undertryckt"] for c in out)
    return {
        "rapport": "effekt",
        "period": {"fran": fran.isoformat(), "till": till.isoformat()},
        "skydd": skydd.as_json(suppressed),
        "andringar": out,
        "utelamnat": [ALDER_KON_UTELAMNAD] if out and skydd.k is not None else [],
        "begrepp": begrepp.definitions(
            *(k for k, _ in MATT), "avbrottsandel", "forandring", "dold"
        ),
    }


def forandring(celler: list[list[int | None]], rates: list[float | None]) -> list[dict[str, Any]]:
    """Per measure: before, after, the change and the change in percent of before — only
    where both sides are published (a difference of published counts reveals nothing
    more); the dropout share's change in percentage points. `procent` is None when a side
    is suppressed and absent when it has no meaning (nothing before, or a share)."""
    out: list[dict[str, Any]] = []
    for n, (key, label) in enumerate(MATT):
        fore, efter = celler[0][n], celler[1][n]
        diff = None if fore is None or efter is None else efter - fore
        line: dict[str, Any] = {
            "matt": key,
            "namn": label,
            "fore": fore,
            "efter": efter,
            "skillnad": diff,
        }
        if diff is None:
            line["procent"] = None
        elif fore:
            line["procent"] = round(100 * diff / fore, 1)
        out.append(line)
    r0, r1 = rates
    out.append(
        {
            "matt": "avbrottsandel",
            "namn": "Avbrottsandel (%)",
            "fore": r0,
            "efter": r1,
            "skillnad": None if r0 is None or r1 is None else round(r1 - r0, 1),
        }
    )
    return out


def _months(lo: date, hi: date) -> str:
    first, last = MANADER[lo.month - 1], MANADER[hi.month - 1]
    return first if (lo.year, lo.month) == (hi.year, hi.month) else f"{first}–{last}"


def bedomning(
    change: list[dict[str, Any]],
    fore: tuple[date, date],
    efter: tuple[date, date],
    *,
    regim_andrad: bool,
    overgang: Kvartal | None,
) -> dict[str, Any]:
    """A one-line verdict on the main measures, with its caveats: the two windows are
    different times of year, small numbers move percentages, a changed documentation
    regime changes what is counted, and the quarter of a change made mid-way is left out."""
    by = {c["matt"]: c for c in change}
    said = []
    for key in BEDOMS:
        c = by[key]
        if c["skillnad"] is None:
            continue
        name = c["namn"].lower()
        if c["skillnad"] == 0:
            said.append(f"{name} var oförändrade ({c['fore']})")
            continue
        way = "ökade" if c["skillnad"] > 0 else "minskade"
        pct = c.get("procent")
        pct_text = "" if pct is None else f", {pct:+.1f} %".replace(".", ",").replace("-", "\u2212")
        said.append(f"{name} {way} från {c['fore']} till {c['efter']}{pct_text}")
    text = (
        "Efter ändringen: " + " och ".join(said) + "."
        if said
        else "Antalen är för små för att redovisas; ingen slutsats kan dras."
    )
    caveats = [
        f"Perioderna ligger vid olika tider på året ({_months(*fore)} jämfört med "
        f"{_months(*efter)}); säsong kan förklara en del av skillnaden.",
    ]
    counted = [by[k][side] for k in BEDOMS for side in ("fore", "efter")]
    if any(v is None or v < SMA_TAL for v in counted):
        caveats.append(
            f"Små tal (under {SMA_TAL}) eller dolda värden: en eller ett par personer kan "
            "ändra procentsatserna mycket."
        )
    if overgang is not None:
        caveats.append(
            f"Ändringen gällde från mitten av kvartalet {overgang[0].isoformat()} – "
            f"{overgang[1].isoformat()}; det kvartalet (övergångskvartal) ingår varken före "
            "eller efter, eftersom jämförelsen bara görs mellan hela kvartal."
        )
    if regim_andrad:
        caveats.append(
            "Dokumentationen ändrades samtidigt; mått som registreras på olika sätt före och "
            "efter (t.ex. unika deltagare) är inte fullt jämförbara."
        )
    caveats.append(
        "Jämförelsen visar vad som hände före och efter, inte att beslutet orsakade det."
    )
    return {"text": text, "forbehall": caveats}
