"""The participation report for the nämnd: follow-up of every insats (besöksstatistik and
individbaserad uppföljning), with disclosure control on every count.

11 kap. 6 § SoL (share informed of the right to apply), 14 kap. 3 § (what was done),
14 kap. 5 § (dropout reasons, wellbeing at start and end, age band and gender).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from iubledger.decisions.index import DecisionIndex, Version, natural_key
from iubledger.reports import begrepp
from iubledger.reports import facts as F
from iubledger.reports.protect import STANDARD, Skydd, mean, share, table
from iubledger.schemas.handelser import AVBROTTSORSAKER

NYCKELTAL: list[tuple[str, str]] = [
    ("kontakter", "Kontakter"),
    ("starter", "Nya deltagare (start)"),
    ("unika", "Unika deltagare"),
    ("tillfallen", "Individuella tillfällen"),
    ("gruppsessioner", "Gruppträffar"),
    ("gruppnarvaro", "Närvaro i grupp"),
    ("avslut", "Avslutade"),
    ("avbrott", "Avbrott"),
    ("hanvisningar", "Hänvisningar till nämnden"),
    ("villkor_ej_uppfyllda", "Villkor ej uppfyllda"),
]


def key_figures(c: Counter[tuple[str, str]], unique: int) -> dict[str, int]:
    """The counts of one insats (or window) from its measures."""

    def total(m: str) -> int:
        return sum(n for (mm, _), n in c.items() if mm == m)

    return {
        "kontakter": c[("kontakt", "")],
        "informerade": c[("informerad", "ja")],
        "starter": c[("start", "")],
        "unika": unique,
        "tillfallen": c[("tillfalle", "individ")],
        "gruppsessioner": c[("tillfalle", "grupp")],
        "gruppnarvaro": total("narvaro"),
        "avslut": c[("avslut", "")],
        "avbrott": total("avbrott"),
        "hanvisningar": c[("hanvisning", "")],
        "villkor_ej_uppfyllda": c[("villkor", "ej_uppfyllda")],
    }


def _ratings(c: Counter[tuple[str, str]], m: str) -> dict[int, int]:
    return {int(v): n for (mm, v), n in c.items() if mm == m}


def scope(
    index: DecisionIndex, till: date, insatser: list[str] | None, namnd: str | None
) -> dict[str, Version]:
    """The insatser a report covers, with the decision version of the end of the period
    (or the latest one that was in force in it)."""
    out: dict[str, Version] = {}
    for beslut_id in index.histories:
        if insatser and beslut_id not in insatser:
            continue
        if namnd and beslut_id.split("/", 1)[0] != namnd:
            continue
        v = index.in_force(beslut_id, till) or index.latest(beslut_id)
        if v is not None:
            out[beslut_id] = v
    return dict(sorted(out.items(), key=lambda kv: natural_key(kv[0])))


def markers(index: DecisionIndex, beslut_id: str) -> list[dict[str, Any]]:
    """Decision versions to mark on time series: when each took effect, and its regime."""
    out = []
    for e in index.histories.get(beslut_id, []):
        if isinstance(e, Version):
            out.append(
                {
                    "datum": e.giltig_fran.isoformat(),
                    "version": e.version,
                    "regim": e.insats.dokumentation.regim.value,
                    "handelse": "beslut",
                }
            )
        else:
            out.append(
                {
                    "datum": e.fran.isoformat(),
                    "version": e.version,
                    "regim": None,
                    "handelse": "upphävt",
                }
            )
    return out


def build(
    session: Any,
    index: DecisionIndex,
    fran: date,
    till: date,
    *,
    insatser: list[str] | None = None,
    namnd: str | None = None,
    indelning: F.Indelning = "manad",
    skydd: Skydd = STANDARD,
) -> dict[str, Any]:
    """The participation report as data; renderers turn it into table, CSV, JSON or HTML."""
    covered = scope(index, till, insatser, namnd)
    facts = F.load(session, fran, till, set(covered), indelning)
    ids = list(covered)
    names = [f"{covered[i].insats.namn} ({i})" for i in ids]
    figures = {i: key_figures(facts.totals[i], facts.unique[i]) for i in ids}

    per_measure = {
        key: table(label, names, [label], [[figures[i][key]] for i in ids], skydd)
        for key, label in NYCKELTAL
    }
    published = {
        i: {key: per_measure[key]["celler"][n][0] if ids else None for key, _ in NYCKELTAL}
        for n, i in enumerate(ids)
    }
    insats_rows = []
    for n, i in enumerate(ids):
        v = covered[i]
        c = facts.totals[i]
        pub = published[i]
        informerade = table(
            "",
            ["ja", "nej"],
            ["antal"],
            [[c[("informerad", "ja")]], [c[("informerad", "nej")]]],
            skydd,
        )
        insats_rows.append(
            {
                "insats": i,
                "namn": v.insats.namn,
                "namnd": v.header.get("namnd"),
                "tillhandahallare": v.insats.tillhandahallare_text,
                "kategori": v.insats.kategori,
                "regim": v.insats.dokumentation.regim.value,
                "uppfoljning": v.insats.uppfoljning,
                "nyckeltal": pub,
                "andel_informerade": share(informerade["celler"][0][0], pub["kontakter"], skydd),
                "avbrottsandel": share(pub["avbrott"], _sum(pub["avbrott"], pub["avslut"]), skydd),
                "maende_start": mean(_ratings(c, "maende_start"), skydd),
                "maende_slut": mean(_ratings(c, "maende_slut"), skydd),
                "markeringar": markers(index, i),
                "rad": n,
            }
        )

    cols = F.periods(fran, till, indelning)
    aktivitet = table(
        "Aktivitet per period (tillfällen och närvaro)",
        names,
        cols,
        [
            [
                facts.series[i][(p, "tillfalle_individ")] + facts.series[i][(p, "narvaro")]
                for p in cols
            ]
            for i in ids
        ],
        skydd,
    )
    starter = table(
        "Nya deltagare per period",
        names,
        cols,
        [[facts.series[i][(p, "start")] for p in cols] for i in ids],
        skydd,
    )
    kon_alder: Counter[tuple[str, ...]] = Counter()
    for i in ids:
        for (m, value), n in facts.totals[i].items():
            if m in ("start_kon_alder", "narvaro"):
                kon_alder[tuple(value.split("|", 1))] += n
    bands = sorted({a for _, a in kon_alder}, key=_band_key)
    genders = [
        g for g in ("kvinna", "man", "annat", "uppgift_saknas") if any(k == g for k, _ in kon_alder)
    ]
    alder = table(
        "Ålder och kön (start och gruppnärvaro)",
        bands,
        genders,
        [[kon_alder[(g, b)] for g in genders] for b in bands],
        skydd,
    )
    orsaker = table(
        "Avbrott efter orsak",
        names,
        list(AVBROTTSORSAKER),
        [[facts.totals[i][("avbrott", o)] for o in AVBROTTSORSAKER] for i in ids],
        skydd,
    )
    per_provider, per_category = _breakdowns(covered, facts, skydd)
    tables = [*per_measure.values(), aktivitet, starter, alder, orsaker, per_provider, per_category]
    suppressed = any(t["undertryckt"] for t in tables)
    return {
        "rapport": "deltagande",
        "period": {"fran": fran.isoformat(), "till": till.isoformat(), "indelning": indelning},
        "skydd": skydd.as_json(suppressed),
        "insatser": insats_rows,
        "summor": {key: per_measure[key]["totalt"] for key, _ in NYCKELTAL},
        "tabeller": {
            "aktivitet": aktivitet,
            "starter": starter,
            "alder_kon": alder,
            "avbrottsorsaker": orsaker,
            "per_tillhandahallare": per_provider,
            "per_kategori": per_category,
        },
        "begrepp": begrepp.definitions(
            *(k for k, _ in NYCKELTAL), "informerade", "avbrottsandel", "maende", "dold"
        ),
    }


#: The measures the provider and kategori breakdowns show: (series key, column label).
FORDELNING = (("kontakt", "Kontakter"), ("start", "Starter"), ("tillfalle_individ", "Tillfällen"))


def _breakdowns(
    covered: dict[str, Version], facts: F.Facts, skydd: Skydd
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Contacts, starts and sessions per provider (its utförare's records) and per kategori."""
    provider: Counter[tuple[str, str]] = Counter()
    kategori: Counter[tuple[str, str]] = Counter()
    for i, v in covered.items():
        for (utforare, key), n in facts.per_utforare[i].items():
            p = next((p for p in v.insats.tillhandahalls_av if utforare in p.utforare), None)
            provider[(p.text if p else utforare, key)] += n
            kategori[(v.insats.kategori, key)] += n
    cols = [label for _, label in FORDELNING]
    out = []
    for title, counts in (("Per tillhandahållare", provider), ("Per kategori", kategori)):
        rows = sorted({r for r, _ in counts})
        out.append(
            table(title, rows, cols, [[counts[(r, k)] for k, _ in FORDELNING] for r in rows], skydd)
        )
    return out[0], out[1]


def _sum(*xs: int | None) -> int | None:
    return None if any(x is None for x in xs) else sum(x for x in xs if x is not None)


def _band_key(band: str) -> int:
    head = band.split("-", 1)[0].rstrip("+")
    return int(head) if head.isdigit() else 10_000
