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
    share_of_units,
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
class Bas:
    """The published tables of one base unit of protection — one insats over one
    publication period (the whole period asked for exact counts) — and the rating
    distributions behind the means. Every table a report shows is a sum of these."""

    tables: dict[str, dict[str, Any]]
    ratings: dict[str, dict[int, int]]


def base_units(
    facts: F.Facts,
    covered: dict[str, Version],
    fran: date,
    till: date,
    indelning: F.Indelning,
    skydd: Skydd,
) -> dict[str, Bas]:
    """The base units of one period (`facts` loaded for it), per insats, each protected on
    its own."""
    return {i: _unit(facts, i, v, fran, till, indelning, skydd) for i, v in covered.items()}


def _unit(
    facts: F.Facts,
    i: str,
    version: Version,
    fran: date,
    till: date,
    indelning: F.Indelning,
    skydd: Skydd,
) -> Bas:
    name = [f"{version.insats.namn} ({i})"]
    c = facts.totals[i]
    figures = key_figures(c, facts.unique[i])
    tables = {
        f"nyckeltal:{key}": table(label, name, [label], [[figures[key]]], skydd)
        for key, label in NYCKELTAL
    }
    tables["informerade"] = table(
        "", ["ja", "nej"], ["antal"], [[c[("informerad", "ja")]], [c[("informerad", "nej")]]], skydd
    )
    cols = F.periods(fran, till, indelning)
    series = facts.series[i]
    tables["aktivitet"] = table(
        "Aktivitet per period (tillfällen och närvaro)",
        name,
        cols,
        [[series[(p, "tillfalle_individ")] + series[(p, "narvaro")] for p in cols]],
        skydd,
    )
    tables["starter"] = table(
        "Nya deltagare per period", name, cols, [[series[(p, "start")] for p in cols]], skydd
    )
    tables["avbrottsorsaker"] = table(
        "Avbrott efter orsak",
        name,
        list(AVBROTTSORSAKER),
        [[c[("avbrott", o)] for o in AVBROTTSORSAKER]],
        skydd,
    )
    tables["per_tillhandahallare"], tables["per_kategori"] = _breakdowns(
        version, facts.per_utforare[i], skydd
    )
    ratings = {m: _ratings(c, m) for m in ("maende_start", "maende_slut")}
    return Bas(tables, ratings)


#: Under disclosure control the age and gender tables are published for whole nämnder
#: only (a nämnd's catalogue over a calendar quarter is their base unit): published per
#: insats as well, each nämnd cell would be the sum of its insatser's cells (linked tables,
#: one hidden cell computed from the others), and a sum of sparse per-insats tables hides
#: nearly every cell. With exact counts they cover the scope asked for.
ALDER_KON_UTELAMNAD = (
    "Ålder och kön redovisas med röjandeskydd bara för en hel nämnds insatser tillsammans: "
    "per insats eller för ett urval av insatser skulle tabellerna, tillsammans med "
    "nämndens, kunna ge dolda antal. Välj hela nämnden för att se dem."
)


def age_groups(
    index: DecisionIndex, till: date, covered: dict[str, Version], skydd: Skydd
) -> list[list[str]] | None:
    """The insatser of each base unit of the age and gender tables: the whole scope for
    exact counts; under disclosure control each nämnd in scope, or None when the scope
    holds part of a nämnd (the tables are then left out, `ALDER_KON_UTELAMNAD`)."""
    if skydd.k is None:
        return [list(covered)]
    groups = []
    for namnd in dict.fromkeys(i.split("/", 1)[0] for i in covered):
        whole = list(scope(index, till, None, namnd))
        if not set(whole) <= set(covered):
            return None
        groups.append(whole)
    return groups


def age_tables(
    facts: F.Facts, ids: list[str], skydd: Skydd, *, summa_dold: bool = False
) -> dict[str, dict[str, Any]]:
    """The age and gender tables of one base unit (start and group attendance): under
    disclosure control the sparse genders in a table of their own over all ages.
    `summa_dold`: a start or attendance count of one of the insatser is hidden in its own
    base unit, so the tables' totals (their sum is the insatser's starts and attendance)
    are hidden and protected too."""
    kon_alder: Counter[tuple[str, str]] = Counter()
    for i in ids:
        for (m, value), n in facts.totals[i].items():
            if m in ("start_kon_alder", "narvaro"):
                kon, band = value.split("|", 1)
                kon_alder[(kon, band)] += n
    sparse = SPARSAMMA if skydd.k is not None else ()
    bands = sorted({a for k, a in kon_alder if k not in sparse}, key=band_key)
    genders = [g for g in KON if g not in sparse and any(k == g for k, _ in kon_alder)]
    other = sum(n for (k, _), n in kon_alder.items() if k in sparse)
    # Every start and attendance is in one of the two tables, so the key figures and one
    # table's total give the other's: where either is hidden, both are.
    age = table(
        "Ålder och kön (start och gruppnärvaro)"
        + ("; annat och uppgift saknas i en egen tabell, alla åldrar" if sparse else ""),
        bands,
        genders,
        [[kon_alder[(g, b)] for g in genders] for b in bands],
        skydd,
        hide_total=skydd.k is not None and (summa_dold or 0 < other < skydd.k),
    )
    if not sparse:
        return {"alder_kon": age}
    return {
        "alder_kon": age,
        "kon_ovrigt": table(
            "Annat eller uppgift saknas om kön (start och gruppnärvaro), alla åldrar",
            ["alla åldrar"],
            ["annat_eller_saknas"],
            [[other]],
            skydd,
            hide_total=age["totalt"] is None,
        ),
    }


def _hidden(units: dict[str, Bas], ids: list[str]) -> bool:
    """Whether any of these insatser's starts or group attendance is hidden in its unit."""
    return any(
        _shown(units[i], f"nyckeltal:{key}") is None
        for i in ids
        for key in ("starter", "gruppnarvaro")
    )


def composed(parts: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Every table of a report (or of one side of an effect comparison) as the sum of its
    base units' tables (`protect.compose`): per insats, or the age and gender tables'."""
    keys: dict[str, tuple[Any, Any]] = {
        "aktivitet": (None, str),
        "starter": (None, str),
        "alder_kon": (band_key, KON.index),
        "per_tillhandahallare": (str, None),
        "per_kategori": (str, None),
    }
    return {
        name: compose([p[name] for p in parts], *keys.get(name, (None, None))) for name in parts[0]
    }


def _mean(parts: list[Bas], key: str, skydd: Skydd) -> float | None:
    """A mean rating over its base units; under disclosure control only when every unit
    that has ratings has at least k of them (so no difference of two means, over other
    periods or other insatser, rests on fewer)."""
    each = [p.ratings[key] for p in parts]
    if skydd.k is not None and any(0 < sum(r.values()) < skydd.k for r in each):
        return None
    total: Counter[int] = Counter()
    for r in each:
        total.update(r)
    return mean(dict(total), skydd)


def _shown(unit: Bas, name: str) -> int | None:
    """The one number of a one-cell table of a base unit (a key figure, informed: yes)."""
    value: int | None = unit.tables[name]["celler"][0][0]
    return value


def informed_share(units: list[Bas], skydd: Skydd) -> float | None:
    """Share of contacts informed of the right to apply (11 kap. 6 § SoL)."""
    return share_of_units(
        [(_shown(u, "informerade"), _shown(u, "nyckeltal:kontakter")) for u in units], skydd
    )


def dropout_share(units: list[Bas], skydd: Skydd) -> float | None:
    """Dropouts in percent of all insatser that ended (dropouts and completed)."""
    pairs = []
    for u in units:
        avbrott = _shown(u, "nyckeltal:avbrott")
        pairs.append((avbrott, summa(avbrott, _shown(u, "nyckeltal:avslut"))))
    return share_of_units(pairs, skydd)


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
    Under disclosure control every table is the sum of base units (calendar quarter ×
    insats) that cover the period and scope, each protected on its own (`protect.METOD`);
    exact counts are for the period as asked."""
    covered = scope(index, till, insatser, namnd)
    windows = [(fran, till)] if skydd.k is None else publication_periods(fran, till)
    groups = age_groups(index, till, covered, skydd)
    loaded = set(covered) | {i for g in groups or [] for i in g}
    units: list[dict[str, Bas]] = []
    ages = []
    for lo, hi in windows:
        facts = F.load(session, lo, hi, loaded, indelning)
        units.append(base_units(facts, covered, lo, hi, indelning, skydd))
        ages += [
            age_tables(facts, g, skydd, summa_dold=_hidden(units[-1], g)) for g in groups or []
        ]
    parts = [u[i] for u in units for i in covered]
    tables = composed([p.tables for p in parts]) if parts else {}
    if parts and ages:
        tables |= composed(ages)
    insats_rows = []
    for n, i in enumerate(covered):
        v = covered[i]
        own = [u[i] for u in units]
        pub = {key: tables[f"nyckeltal:{key}"]["celler"][n][0] for key, _ in NYCKELTAL}
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
                "andel_informerade": informed_share(own, skydd),
                "avbrottsandel": dropout_share(own, skydd),
                "maende_start": _mean(own, "maende_start", skydd),
                "maende_slut": _mean(own, "maende_slut", skydd),
                "markeringar": markers(index, i),
                "rad": n,
            }
        )
    shown = [
        *(tables[f"nyckeltal:{key}"] for key, _ in NYCKELTAL if tables),
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
        "summor": {
            key: tables[f"nyckeltal:{key}"]["totalt"] if tables else 0 for key, _ in NYCKELTAL
        },
        "tabeller": {name: _published(name, tables[name]) for name in _TABELLER if name in tables},
        "utelamnat": [] if groups is not None else [ALDER_KON_UTELAMNAD],
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
#: Tables whose columns are different measures: a row sum or grand total would add unlike
#: things (and, beside the key figures, give back a hidden one), so only the column sums,
#: one measure each, are published.
OLIKA_MATT = ("per_tillhandahallare", "per_kategori")


def _published(name: str, tab: dict[str, Any]) -> dict[str, Any]:
    if name not in OLIKA_MATT:
        return tab
    return {k: v for k, v in tab.items() if k not in ("radsummor", "totalt")}


#: The measures the provider and kategori breakdowns show: (series key, column label).
FORDELNING = (("kontakt", "Kontakter"), ("start", "Starter"), ("tillfalle_individ", "Tillfällen"))


def _breakdowns(
    version: Version, per_utforare: Counter[tuple[str, str]], skydd: Skydd
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Contacts, starts and sessions of one insats per provider (its utförare's records)
    and under its kategori."""
    provider: Counter[tuple[str, str]] = Counter()
    kategori: Counter[tuple[str, str]] = Counter()
    for (utforare, key), n in per_utforare.items():
        p = next((p for p in version.insats.tillhandahalls_av if utforare in p.utforare), None)
        provider[(p.text if p else utforare, key)] += n
        kategori[(version.insats.kategori, key)] += n
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


def summa(*xs: int | None) -> int | None:
    """The sum of published numbers; hidden (None) when any of them is."""
    return None if any(x is None for x in xs) else sum(x for x in xs if x is not None)


def band_key(band: str) -> int:
    head = band.split("-", 1)[0].rstrip("+")
    return int(head) if head.isdigit() else 10_000
