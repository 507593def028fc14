"""The participation report for the nämnd: follow-up of every insats (besöksstatistik and
individbaserad uppföljning), with disclosure control on every count.

11 kap. 6 § SoL (share informed of the right to apply), 14 kap. 3 § (what was done),
14 kap. 5 § (dropout reasons, wellbeing at start and end, age band and gender).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from iubledger.decisions.index import DecisionIndex, Version, natural_key
from iubledger.reports import begrepp
from iubledger.reports import facts as F
from iubledger.reports.protect import (
    STANDARD,
    Skydd,
    compose,
    mean,
    publication_periods,
    share,
    table,
)
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


@dataclass
class _Window:
    """The published tables of one period (the whole period for exact counts, one calendar
    quarter under disclosure control) and the rating distributions behind the means."""

    tables: dict[str, dict[str, Any]]
    ratings: dict[tuple[str, str], dict[int, int]]


def _window(
    session: Any,
    covered: dict[str, Version],
    fran: date,
    till: date,
    indelning: F.Indelning,
    skydd: Skydd,
) -> _Window:
    facts = F.load(session, fran, till, set(covered), indelning)
    ids = list(covered)
    names = [f"{covered[i].insats.namn} ({i})" for i in ids]
    figures = {i: key_figures(facts.totals[i], facts.unique[i]) for i in ids}
    tables = {
        f"nyckeltal:{key}": table(label, names, [label], [[figures[i][key]] for i in ids], skydd)
        for key, label in NYCKELTAL
    }
    for i in ids:
        c = facts.totals[i]
        tables[f"informerade:{i}"] = table(
            "",
            ["ja", "nej"],
            ["antal"],
            [[c[("informerad", "ja")]], [c[("informerad", "nej")]]],
            skydd,
        )
    cols = F.periods(fran, till, indelning)
    tables["aktivitet"] = table(
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
    tables["starter"] = table(
        "Nya deltagare per period",
        names,
        cols,
        [[facts.series[i][(p, "start")] for p in cols] for i in ids],
        skydd,
    )
    kon_alder: Counter[tuple[str, str]] = Counter()
    for i in ids:
        for (m, value), n in facts.totals[i].items():
            if m in ("start_kon_alder", "narvaro"):
                kon, band = value.split("|", 1)
                kon_alder[(kon, band)] += n
    sparse = SPARSAMMA if skydd.k is not None else ()
    bands = sorted({a for k, a in kon_alder if k not in sparse}, key=_band_key)
    genders = [g for g in KON if g not in sparse and any(k == g for k, _ in kon_alder)]
    tables["alder_kon"] = table(
        "Ålder och kön (start och gruppnärvaro)"
        + ("; annat och uppgift saknas i en egen tabell, alla åldrar" if sparse else ""),
        bands,
        genders,
        [[kon_alder[(g, b)] for g in genders] for b in bands],
        skydd,
    )
    if sparse:
        tables["kon_ovrigt"] = table(
            "Annat eller uppgift saknas om kön (start och gruppnärvaro), alla åldrar",
            ["alla åldrar"],
            ["annat_eller_saknas"],
            [[sum(n for (k, _), n in kon_alder.items() if k in sparse)]],
            skydd,
        )
    tables["avbrottsorsaker"] = table(
        "Avbrott efter orsak",
        names,
        list(AVBROTTSORSAKER),
        [[facts.totals[i][("avbrott", o)] for o in AVBROTTSORSAKER] for i in ids],
        skydd,
    )
    tables["per_tillhandahallare"], tables["per_kategori"] = _breakdowns(covered, facts, skydd)
    ratings = {
        (i, m): _ratings(facts.totals[i], m) for i in ids for m in ("maende_start", "maende_slut")
    }
    return _Window(tables, ratings)


def _mean(parts: list[_Window], key: tuple[str, str], skydd: Skydd) -> float | None:
    """A mean rating over the period; under disclosure control only when every quarter that
    has ratings has at least k of them (so no difference of two means rests on fewer)."""
    each = [p.ratings[key] for p in parts]
    if skydd.k is not None and any(0 < sum(r.values()) < skydd.k for r in each):
        return None
    total: Counter[int] = Counter()
    for r in each:
        total.update(r)
    return mean(dict(total), skydd)


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
    """The participation report as data; renderers turn it into table, CSV, JSON or HTML.
    Under disclosure control it is composed of the calendar quarters that cover the period,
    each protected on its own (`protect.METOD`); exact counts are for the period as asked."""
    covered = scope(index, till, insatser, namnd)
    windows = [(fran, till)] if skydd.k is None else publication_periods(fran, till)
    parts = [_window(session, covered, lo, hi, indelning, skydd) for lo, hi in windows]
    keys: dict[str, tuple[Any, Any]] = {
        "aktivitet": (None, str),
        "starter": (None, str),
        "alder_kon": (_band_key, KON.index),
        "per_tillhandahallare": (str, None),
        "per_kategori": (str, None),
    }
    tables = {
        name: compose([p.tables[name] for p in parts], *keys.get(name, (None, None)))
        for name in parts[0].tables
    }
    ids = list(covered)
    published = {
        i: {key: tables[f"nyckeltal:{key}"]["celler"][n][0] for key, _ in NYCKELTAL}
        for n, i in enumerate(ids)
    }
    insats_rows = []
    for n, i in enumerate(ids):
        v = covered[i]
        pub = published[i]
        informerade = tables[f"informerade:{i}"]
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
                "maende_start": _mean(parts, (i, "maende_start"), skydd),
                "maende_slut": _mean(parts, (i, "maende_slut"), skydd),
                "markeringar": markers(index, i),
                "rad": n,
            }
        )
    shown = [
        *(tables[f"nyckeltal:{key}"] for key, _ in NYCKELTAL),
        *(tables[name] for name in _TABELLER if name in tables),
    ]
    suppressed = any(t["undertryckt"] for t in shown)
    period = {"fran": windows[0][0].isoformat(), "till": windows[-1][1].isoformat()}
    return {
        "rapport": "deltagande",
        "period": {**period, "indelning": indelning},
        "begard_period": {"fran": fran.isoformat(), "till": till.isoformat()},
        "skydd": skydd.as_json(suppressed),
        "insatser": insats_rows,
        "summor": {key: tables[f"nyckeltal:{key}"]["totalt"] for key, _ in NYCKELTAL},
        "tabeller": {name: tables[name] for name in _TABELLER if name in tables},
        "begrepp": begrepp.definitions(
            *(k for k, _ in NYCKELTAL), "informerade", "avbrottsandel", "maende", "dold"
        ),
    }


_TABELLER = (
    "aktivitet",
    "starter",
    "alder_kon",
    "kon_ovrigt",
    "avbrottsorsaker",
    "per_tillhandahallare",
    "per_kategori",
)
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


KON = ("kvinna", "man", "annat", "uppgift_saknas")
#: Sparse genders, published under disclosure control together and for all ages (adjacent
#: categories merged, as the question "how many, of which gender and age" allows), so that
#: their small counts do not force large cells of the age table to be hidden (secondary
#: suppression); the same in every quarter, so the quarters compose.
SPARSAMMA = ("annat", "uppgift_saknas")


def _sum(*xs: int | None) -> int | None:
    return None if any(x is None for x in xs) else sum(x for x in xs if x is not None)


def _band_key(band: str) -> int:
    head = band.split("-", 1)[0].rstrip("+")
    return int(head) if head.isdigit() else 10_000
