"""The effect of the nämnd's decisions: equal windows before and after each new version
of an insats's decision (above all an undantag under 14 kap. 5 § SoL introduced, ended or
its regime altered), so the nämnd can follow up and evaluate its decisions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from iubledger.decisions.index import DecisionIndex, Upphavande, Version
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
                    "kon_alder": mix,
                }
            )
    suppressed = any(c["jamforelse"]["undertryckt"] or c["kon_alder"]["undertryckt"] for c in out)
    return {
        "rapport": "effekt",
        "period": {"fran": fran.isoformat(), "till": till.isoformat()},
        "skydd": skydd.as_json(suppressed),
        "andringar": out,
    }
