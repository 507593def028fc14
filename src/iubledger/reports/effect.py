"""The effect of the nämnd's decisions: equal windows before and after each new version
of an insats's decision (above all an undantag under 14 kap. 5 § SoL introduced, ended or
its regime altered), so the nämnd can follow up and evaluate its decisions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from iubledger.decisions.index import DecisionIndex, Upphavande, Version
from iubledger.reports import begrepp
from iubledger.reports import facts as F
from iubledger.reports.participation import key_figures, scope
from iubledger.reports.protect import STANDARD, Skydd, share, table

#: The longest window on either side of a change.
MAX_WINDOW = timedelta(days=182)

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


def windows(
    day: date, fran: date, till: date, boundaries: list[date]
) -> tuple[date, date, date, date] | None:
    """Equal-length windows [day-L, day-1] and [day, day+L-1] inside the period and between
    the neighbouring changes; None when either side would be empty."""
    before = [b for b in boundaries if b < day]
    after = [b for b in boundaries if b > day]
    start = max([fran, *before])
    end = min([till + timedelta(days=1), *after])
    length = min(day - start, end - day, MAX_WINDOW)
    if length.days <= 0:
        return None
    return day - length, day - timedelta(days=1), day, day + length - timedelta(days=1)


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
            b0, b1, a0, a1 = w
            sides = []
            for lo, hi in ((b0, b1), (a0, a1)):
                f = F.load(session, lo, hi, {beslut_id}, "manad")
                k = key_figures(f.totals[beslut_id], f.unique[beslut_id])
                k["aktivitet"] = k["tillfallen"] + k["gruppnarvaro"]
                sides.append((k, f.totals[beslut_id]))
            tab = table(
                "Före och efter",
                ["före", "efter"],
                [label for _, label in MATT],
                [[s[0][key] for key, _ in MATT] for s in sides],
                skydd,
            )
            mix_keys = sorted({v for _, c in sides for (m, v) in c if m == "start_kon_alder"})
            mix = table(
                "Nya deltagare efter kön och ålder",
                ["före", "efter"],
                mix_keys,
                [[c[("start_kon_alder", v)] for v in mix_keys] for _, c in sides],
                skydd,
            )
            rates = []
            for row in tab["celler"]:
                avbrott, avslut = row[4], row[5]
                total = None if avbrott is None or avslut is None else avbrott + avslut
                rates.append(share(avbrott, total, skydd))
            change = forandring(tab["celler"], rates)
            new_regim = (
                entry.insats.dokumentation.regim.value if isinstance(entry, Version) else None
            )
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
                        "fore": [b0.isoformat(), b1.isoformat()],
                        "efter": [a0.isoformat(), a1.isoformat()],
                        "dagar": (b1 - b0).days + 1,
                    },
                    "jamforelse": tab,
                    "avbrottsandel": {"fore": rates[0], "efter": rates[1]},
                    "forandring": change,
                    "bedomning": bedomning(
                        change,
                        (b0, b1),
                        (a0, a1),
                        regim_andrad=before_version is not None
                        and new_regim != before_version.insats.dokumentation.regim.value,
                    ),
                    "kon_alder": mix,
                }
            )
    suppressed = any(c["jamforelse"]["undertryckt"] or c["kon_alder"]["undertryckt"] for c in out)
    return {
        "rapport": "effekt",
        "period": {"fran": fran.isoformat(), "till": till.isoformat()},
        "skydd": skydd.as_json(suppressed),
        "andringar": out,
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
) -> dict[str, Any]:
    """A one-line verdict on the main measures, with its caveats: the two windows are
    different times of year, small numbers move percentages, and a changed documentation
    regime changes what is counted."""
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
    if regim_andrad:
        caveats.append(
            "Dokumentationen ändrades samtidigt; mått som registreras på olika sätt före och "
            "efter (t.ex. unika deltagare) är inte fullt jämförbara."
        )
    caveats.append(
        "Jämförelsen visar vad som hände före och efter, inte att beslutet orsakade det."
    )
    return {"text": text, "forbehall": caveats}
