"""Render a report (the plain data of `participation.build`, `effect.build` or
`audit.compliance.build`) as console text, JSON, tidy CSV or one self-contained HTML document.

Renderers show what the report holds and nothing else: they look nothing up and compute no
new statistic (a count of list entries, such as the number of insatser, is the most they
derive). A suppressed number (None) is always shown as ".." (the Swedish statistics
convention), never as 0 or blank, and plotted as a gap; the report's röjandeskydd text is
part of every rendering.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, TypeGuard

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory
from matplotlib.typing import RcKeyType
from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

__all__ = ["DOLD", "MAX_DIAGRAM", "Format", "render"]

Format = Literal["table", "json", "csv", "html"]

#: How a suppressed number is shown.
DOLD = ".."
#: At most this many charts of each kind in one HTML document.
MAX_DIAGRAM = 30
#: Numeric columns per console table before it is split.
_CHUNK = 8

RAPPORTER = {
    "deltagande": "Deltagande i insatser utan individuell behovsprövning",
    "effekt": "Effekt av nämndens beslut",
    "efterlevnad": "Efterlevnad – underlag för tillsyn",
}

REGIMER = {
    "full_14_3": "Dokumentation enligt 14 kap. 3 §",
    "deltagardata": "Deltagaruppgifter 14 kap. 3 § (namn, kön, ålder)",
    "radgivning_14_4": "Rådgivning 14 kap. 4 § (ej identitet)",
    "undantag_14_5": "Undantag 14 kap. 5 § (ej identitet)",
    "aggregat": "Endast antal 14 kap. 3 och 5 §§ (ej identitet)",
}
_REGIM_KORT: dict[str | None, str] = {
    "full_14_3": "dokumentation 3 §",
    "deltagardata": "deltagardata 3 §",
    "radgivning_14_4": "rådgivning 4 §",
    "undantag_14_5": "undantag 5 §",
    "aggregat": "endast antal",
}

ETIKETTER = {
    "kontakter": "Kontakter",
    "informerade": "Informerade",
    "starter": "Nya deltagare (start)",
    "unika": "Unika deltagare",
    "tillfallen": "Individuella tillfällen",
    "gruppsessioner": "Gruppträffar",
    "gruppnarvaro": "Närvaro i grupp",
    "avslut": "Avslutade",
    "avbrott": "Avbrott",
    "hanvisningar": "Hänvisningar till nämnden",
    "villkor_ej_uppfyllda": "Villkor ej uppfyllda",
    "andel_informerade": "Andel informerade (%)",
    "avbrottsandel": "Avbrottsandel (%)",
    "maende_start": "Mående vid start",
    "maende_slut": "Mående vid slut",
    "aktivitet": "Aktivitet",
    "alder_kon": "Ålder och kön",
    "avbrottsorsaker": "Avbrottsorsaker",
    "insats": "Insats",
    "insatser": "Insatser",
    "namn": "Namn",
    "namnd": "Nämnd",
    "kategori": "Kategori",
    "regim": "Dokumentation",
    "uppfoljning": "Uppföljning",
    "paragraf": "Lagrum",
    "fran": "Från",
    "till": "Till",
    "indelning": "Indelning",
    "datum": "Datum",
    "version": "Version",
    "handelse": "Händelse",
    "slag": "Slag",
    "text": "Text",
    "troskel": "Tröskel",
    "exakta_tal": "Exakta tal",
    "undertryckt": "Tal dolda",
    "sammanfattning": "Sammanfattning",
    "avvikelser": "Avvikelser",
    "kontroller": "Kontroller",
    "kontroll": "Kontroll",
    "resultat": "Resultat",
    "detalj": "Detalj",
    "poster": "Poster",
    "antal": "Antal",
    "regel": "Regel",
    "per_regel": "Per regel",
    "avvisade_handelser": "Avvisade händelser",
    "k_anonymitet": "k-anonymitet",
    "k": "k",
    "celler": "Celler",
    "sma_celler": "Små celler",
    "summor": "Summor",
}

VARDEN = {
    "kvinna": "Kvinnor",
    "man": "Män",
    "annat": "Annat",
    "uppgift_saknas": "Uppgift saknas",
    "behov_tillgodosett": "Behov tillgodosett",
    "annan_insats": "Annan insats",
    "flyttat": "Flyttat",
    "ej_motiverad": "Ej motiverad",
    "ej_nadd": "Ej nådd",
    "praktiska_hinder": "Praktiska hinder",
    "ohalsa": "Ohälsa",
    "radgivning": "Rådgivning",
    "stod_i_grupp": "Stöd i grupp",
    "individuellt_stod": "Individuellt stöd",
    "motesplats": "Mötesplats",
    "besoksstatistik": "Besöksstatistik",
    "individbaserad": "Individbaserad uppföljning",
    "före": "Före",
    "efter": "Efter",
    "beslut": "Beslut",
    "upphävt": "Upphävt",
    "uppfyllt": "Uppfyllt",
    "avvikelse": "Avvikelse",
    "manad": "månad",
    "vecka": "vecka",
    "dag": "dag",
    "kvartal": "kvartal",
    "ar": "år",
}

_INDELNING_AXEL = {
    "dag": "Dag",
    "vecka": "Vecka",
    "manad": "Månad",
    "kvartal": "Kvartal",
    "ar": "År",
}

#: Per-insats figures of the participation report shown besides `nyckeltal`.
_KVOTER = ("andel_informerade", "avbrottsandel", "maende_start", "maende_slut")
#: Insats fields described in the CSV.
_INSATS_FALT = ("namn", "namnd", "kategori", "regim", "uppfoljning")
_TABELL_NYCKLAR = {"titel", "rader", "kolumner", "celler"}

_BLA = "#1f5fa8"
_GRA = "#8c8c8c"
_MORK = "#555555"
_ORANGE = "#c0620b"
_FARGER = ("#1f5fa8", "#c0620b", "#3a8a3a", "#7a4aa0", "#8c8c8c", "#b03a48")
_SVG_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "iubledger",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
}
_SVG_FONTS = "'DejaVu Sans', 'Arial', 'Helvetica', sans-serif"
_SVG_META = {"Date": None, "Creator": None, "Format": None, "Type": None}


def render(report: dict[str, Any], fmt: Format) -> str:
    """The report as `fmt`: "table" (console text, 120 columns), "json", "csv" (tidy: one
    row per number) or "html" (one self-contained document with charts)."""
    match fmt:
        case "json":
            return json.dumps(report, ensure_ascii=False, indent=2)
        case "table":
            return _console(report)
        case "csv":
            return _csv(report)
        case "html":
            return _html(report)
    raise ValueError(f"unknown format {fmt!r}; use table, json, csv or html")


# -- values and labels -------------------------------------------------------------------------


def _tal(v: Any) -> str:
    """A value for a reader: None is '..', decimals with a comma, thousands with a space."""
    if v is None:
        return DOLD
    if isinstance(v, bool):
        return "ja" if v else "nej"
    if isinstance(v, int):
        return f"{v:,}".replace(",", "\u00a0")
    if isinstance(v, float):
        return str(v).replace(".", ",")
    if isinstance(v, list):
        return ", ".join(_tal(x) for x in v) if v else "inga"
    return str(v)


def _etikett(key: str) -> str:
    return ETIKETTER.get(key) or key.replace("_", " ").capitalize()


def _varde(label: str) -> str:
    """A row or column label of a table for a reader ('kvinna|20-24' → 'Kvinnor 20-24')."""
    if "|" in label:
        return " ".join(VARDEN.get(p, p) for p in label.split("|"))
    return VARDEN.get(label, label)


def _regim(regim: str | None) -> str:
    return "upphävt" if regim is None else REGIMER.get(regim, regim)


def _rapportnamn(report: dict[str, Any]) -> str:
    kind = str(report.get("rapport", ""))
    return RAPPORTER.get(kind) or (f"Rapport: {kind}" if kind else "Rapport")


def _period(report: dict[str, Any]) -> str:
    p = report.get("period")
    if not isinstance(p, dict):
        return ""
    text = f"Period {p.get('fran', '?')} – {p.get('till', '?')}"
    if p.get("indelning"):
        text += f", redovisat per {VARDEN.get(p['indelning'], p['indelning'])}"
    return text


def _skydd(report: dict[str, Any]) -> str:
    s = report.get("skydd")
    if isinstance(s, dict) and s.get("text"):
        return str(s["text"])
    return "Rapporten saknar uppgift om röjandeskydd."


def _andring(a: dict[str, Any]) -> str:
    """'2026-03-01: version 2, radgivning_14_4 → undantag_14_5'."""
    fore = a.get("regim_fore") or "okänd"
    efter = a.get("regim_efter") or "upphävt"
    return f"{a.get('datum')}: version {a.get('version')}, {fore} → {efter}"


def _is_table(v: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(v, dict) and v.keys() >= _TABELL_NYCKLAR


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _in_period(report: dict[str, Any], datum: str) -> bool:
    """After the first day and up to the last (as `effect.build`): a decision in force from
    the first day is no change within the period."""
    p = report.get("period") or {}
    return str(p.get("fran", "")) < datum <= str(p.get("till", "9999"))


# -- a renderer-neutral document -------------------------------------------------------------


@dataclass
class Rubrik:
    text: str
    niva: int = 2


@dataclass
class Stycke:
    text: str


@dataclass
class Uppgifter:
    """Key/value lines."""

    rader: list[tuple[str, str]]


@dataclass
class Grid:
    """A table as shown: the first column holds row labels, the others values."""

    titel: str
    kolumner: list[str]
    rader: list[list[str]]
    summa: list[str] | None = None
    not_: str | None = None
    #: Indices of the numeric (right-aligned) columns; None: all but the first.
    tal: frozenset[int] | None = None

    def numeric(self, n: int) -> bool:
        return n > 0 and (self.tal is None or n in self.tal)


Block = Rubrik | Stycke | Uppgifter | Grid


def _grid(
    tab: dict[str, Any],
    *,
    titel: str | None = None,
    horn: str = "",
    marginaler: bool = True,
    extra: list[tuple[str, list[Any]]] | None = None,
) -> Grid:
    """A published count table: its cells, margins ('Summa') and optional extra columns."""
    kolumner = [horn, *(_varde(c) for c in tab["kolumner"])]
    has_rows = bool(tab.get("celler"))
    rowsums = tab.get("radsummor") or []
    if marginaler and has_rows:
        kolumner.append("Summa")
    for label, _ in extra or []:
        kolumner.append(label)
    rader = []
    for r, label in enumerate(tab["rader"]):
        cells = tab["celler"][r] if r < len(tab["celler"]) else [None] * len(tab["kolumner"])
        row = [_varde(label), *(_tal(v) for v in cells)]
        if marginaler and has_rows:
            row.append(_tal(rowsums[r] if r < len(rowsums) else None))
        for _, values in extra or []:
            row.append(_tal(values[r] if r < len(values) else None))
        rader.append(row)
    summa = None
    if marginaler and has_rows:
        summa = [
            "Summa",
            *(_tal(v) for v in tab.get("kolumnsummor") or []),
            _tal(tab.get("totalt")),
        ]
        summa += [""] * len(extra or [])
    return Grid(
        titel=titel if titel is not None else str(tab.get("titel", "")),
        kolumner=kolumner,
        rader=rader,
        summa=summa,
        not_=None if has_rows else "Inga uppgifter att redovisa.",
    )


def _blocks(report: dict[str, Any], *, html: bool) -> list[Block]:
    """The report's body (after heading, period and skydd): for the console or for the
    tables part of the HTML document."""
    kind = report.get("rapport")
    if kind == "deltagande":
        body = _deltagande(report, html=html)
        handled = {"rapport", "period", "skydd", "insatser", "tabeller"}
    elif kind == "effekt":
        body = _effekt(report)
        handled = {"rapport", "period", "skydd", "andringar"}
    else:
        body = []
        handled = {"rapport", "period", "skydd"}
        summary = report.get("sammanfattning")
        if html and isinstance(summary, dict) and all(map(_flat, summary.values())):
            handled.add("sammanfattning")  # in the summary section already
    rest = {k: v for k, v in report.items() if k not in handled}
    if kind == "deltagande" and isinstance(report.get("tabeller"), dict):
        rest |= {
            f"tabeller/{k}": v for k, v in report["tabeller"].items() if k not in _DELTAGANDE_TAB
        }
    body += _generic(rest)
    return body


_DELTAGANDE_TAB = ("aktivitet", "starter", "alder_kon", "avbrottsorsaker")


def _deltagande(report: dict[str, Any], *, html: bool) -> list[Block]:
    out: list[Block] = []
    insatser = report.get("insatser") or []
    keys = _nyckeltal_keys(insatser)
    if html:
        out.append(Rubrik("Nyckeltal per insats", 3))
        out.append(
            Grid(
                titel="Nyckeltal per insats",
                kolumner=["Insats", "Dokumentation", *(_etikett(k) for k in keys)],
                rader=[
                    [
                        f"{i.get('namn')} ({i.get('insats')})",
                        _regim(i.get("regim")),
                        *(_tal(_figur(i, k)) for k in keys),
                    ]
                    for i in insatser
                ],
                tal=frozenset(range(2, 2 + len(keys))),
            )
        )
    else:
        out.append(Rubrik("Insatser"))
        for i in insatser:
            pairs = [(_etikett(k), _tal(_figur(i, k))) for k in keys]
            half = math.ceil(len(pairs) / 2)
            left, right = pairs[:half], pairs[half:]
            rows = [[*left[n], *(right[n] if n < len(right) else ("", ""))] for n in range(half)]
            note = f"Dokumentation: {_regim(i.get('regim'))}"
            if i.get("uppfoljning"):
                note += f". Uppföljning: {_varde(str(i['uppfoljning']))}"
            beslut = _beslut_i_perioden(report, i)
            if beslut:
                note += ". Beslut under perioden: " + "; ".join(beslut)
            out.append(
                Grid(
                    titel=f"{i.get('namn')} ({i.get('insats')})",
                    kolumner=["Nyckeltal", "Värde", "Nyckeltal", "Värde"],
                    rader=rows,
                    not_=note + ".",
                    tal=frozenset({1, 3}),
                )
            )
    markers = [
        [f"{i.get('namn')} ({i.get('insats')})", str(m.get("datum")), _tal(m.get("version")), t]
        for i in insatser
        for m, t in _markeringar(report, i)
    ]
    if html and markers:
        out.append(Rubrik("Beslut under perioden", 3))
        out.append(
            Grid(
                titel="Nämndens beslut som trädde i kraft under perioden",
                kolumner=["Insats", "Datum", "Version", "Dokumentation"],
                rader=markers,
                tal=frozenset({2}),
            )
        )
    out.append(
        Rubrik("Tabeller" if not html else "Antal per period och grupp", 2 if not html else 3)
    )
    tabeller = report.get("tabeller") or {}
    for key in _DELTAGANDE_TAB:
        if key in tabeller:
            horn = {"alder_kon": "Åldersgrupp", "starter": "Insats", "aktivitet": "Insats"}
            out.append(_grid(tabeller[key], horn=horn.get(key, "Insats")))
    return out


def _nyckeltal_keys(insatser: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for i in insatser:
        keys |= dict.fromkeys(i.get("nyckeltal") or {})
    for k in _KVOTER:
        if any(k in i for i in insatser):
            keys[k] = None
    return list(keys)


def _figur(insats: dict[str, Any], key: str) -> Any:
    nyckeltal = insats.get("nyckeltal") or {}
    return nyckeltal[key] if key in nyckeltal else insats.get(key)


def _markeringar(
    report: dict[str, Any], insats: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], str]]:
    """Decision markers inside the period, with their description."""
    for m in insats.get("markeringar") or []:
        datum = str(m.get("datum", ""))
        if datum and _in_period(report, datum):
            text = "upphävt" if m.get("handelse") == "upphävt" else _regim(m.get("regim"))
            yield m, text


def _beslut_i_perioden(report: dict[str, Any], insats: dict[str, Any]) -> list[str]:
    return [
        f"{m.get('datum')} version {m.get('version')} ({t})"
        for m, t in _markeringar(report, insats)
    ]


def _effekt(report: dict[str, Any]) -> list[Block]:
    out: list[Block] = []
    andringar = report.get("andringar") or []
    if not andringar:
        out.append(Stycke("Inga beslutsändringar under perioden kunde jämföras."))
    for c in andringar:
        a = c.get("andring") or {}
        f = c.get("fonster") or {}
        out.append(Rubrik(f"{c.get('namn')} ({c.get('insats')}) – {_andring(a)}", 3))
        fore, efter = f.get("fore") or ["?", "?"], f.get("efter") or ["?", "?"]
        out.append(
            Stycke(
                f"{str(a.get('slag', 'ändring')).capitalize()}. Dokumentation före: "
                f"{_regim(a.get('regim_fore'))}; efter: {_regim(a.get('regim_efter'))}. "
                f"Jämförda perioder: {fore[0]} – {fore[1]} (före) och {efter[0]} – {efter[1]} "
                f"(efter), {_tal(f.get('dagar'))} dagar vardera."
            )
        )
        rates = c.get("avbrottsandel") or {}
        if c.get("jamforelse"):
            out.append(
                _grid(
                    c["jamforelse"],
                    titel="Före och efter",
                    horn="Period",
                    marginaler=False,
                    extra=[("Avbrottsandel (%)", [rates.get("fore"), rates.get("efter")])],
                )
            )
        if c.get("kon_alder"):
            out.append(
                _grid(c["kon_alder"], titel="Nya deltagare efter kön och ålder", horn="Period")
            )
    return out


def _generic(obj: dict[str, Any]) -> list[Block]:
    """Any other report content: key/value lines, count tables and lists of records."""
    out: list[Block] = []
    lines = [(_etikett(k), _visa(k, v)) for k, v in obj.items() if _flat(v)]
    if lines:
        out.append(Uppgifter(lines))
    for k, v in obj.items():
        if _flat(v):
            continue
        label = _etikett(k.rsplit("/", 1)[-1])
        if _is_table(v):
            out.append(_grid(v, titel=str(v.get("titel") or label)))
        elif isinstance(v, dict):
            out.append(Rubrik(label, 3))
            out += _generic(v)
        elif isinstance(v, list) and all(
            isinstance(x, dict) and all(map(_flat, x.values())) for x in v
        ):
            cols = list(dict.fromkeys(key for x in v for key in x))
            out.append(
                Grid(
                    titel=label,
                    kolumner=[_etikett(c) for c in cols],
                    rader=[[_visa(c, x.get(c)) for c in cols] for x in v],
                    not_=None if v else "Inga uppgifter att redovisa.",
                    tal=frozenset(
                        n
                        for n, c in enumerate(cols)
                        if any(isinstance(x.get(c), int | float) for x in v)
                        and all(x.get(c) is None or isinstance(x.get(c), int | float) for x in v)
                    ),
                )
            )
        elif isinstance(v, list):
            out.append(Rubrik(label, 3))
            for n, x in enumerate(v, 1):
                if isinstance(x, dict):
                    title = x.get("namn") or x.get("titel") or x.get("insats") or n
                    extra = f" ({x['insats']})" if x.get("namn") and x.get("insats") else ""
                    out.append(Rubrik(f"{title}{extra}", 4))
                    out += _generic(x)
                else:
                    out.append(Stycke(_tal(x)))
    return out


def _visa(key: str, v: Any) -> str:
    """A value of generic content for a reader: regimes and known codes in words."""
    if key in ("regim", "regim_fore", "regim_efter") and (v is None or isinstance(v, str)):
        return _regim(v)
    return VARDEN.get(v, _tal(v)) if isinstance(v, str) else _tal(v)


def _flat(v: Any) -> bool:
    return _scalar(v) or (isinstance(v, list) and all(map(_scalar, v)))


# -- console text ------------------------------------------------------------------------------


def _console(report: dict[str, Any]) -> str:
    console = Console(
        record=True,
        width=120,
        file=io.StringIO(),
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    console.print(Text(_rapportnamn(report), style="bold"))
    if _period(report):
        console.print(Text(_period(report)))
    console.print(Panel(Text(_skydd(report)), title=Text("Röjandeskydd"), title_align="left"))
    for b in _blocks(report, html=False):
        match b:
            case Rubrik(text, niva) if niva <= 2:
                console.print()
                console.print(Rule(Text(text), align="left"))
            case Rubrik(text, _):
                console.print()
                console.print(Text(text, style="bold"))
            case Stycke(text):
                console.print(Text(text))
            case Uppgifter(rader):
                grid = RichTable.grid(padding=(0, 2))
                grid.add_column(no_wrap=True)
                grid.add_column()
                for k, v in rader:
                    grid.add_row(Text(f"{k}:"), Text(v))
                console.print(grid)
            case Grid(titel, _, []):
                console.print(Text(f"{titel}: {b.not_ or 'Inga uppgifter att redovisa.'}"))
            case Grid():
                for part in _chunks(b):
                    console.print(_rich_table(part))
    console.print()
    console.print(Text(f"{DOLD} = uppgiften redovisas inte (röjandeskydd)."))
    return console.export_text()


def _chunks(g: Grid) -> list[Grid]:
    """Wide tables split into parts of at most _CHUNK value columns (row labels repeated)."""
    n = len(g.kolumner) - 1
    if n <= _CHUNK or g.tal is not None:
        return [g]
    parts = []
    for lo in range(1, n + 1, _CHUNK):
        hi = min(lo + _CHUNK, n + 1)
        parts.append(
            Grid(
                titel=g.titel if lo == 1 else f"{g.titel} (forts.)",
                kolumner=[g.kolumner[0], *g.kolumner[lo:hi]],
                rader=[[r[0], *r[lo:hi]] for r in g.rader],
                summa=[g.summa[0], *g.summa[lo:hi]] if g.summa else None,
                not_=g.not_ if hi > n else None,
            )
        )
    return parts


def _rich_table(g: Grid) -> RichTable:
    t = RichTable(
        title=Text(g.titel) if g.titel else None,
        title_justify="left",
        caption=Text(g.not_) if g.not_ else None,
        caption_justify="left",
        box=box.SQUARE,
        header_style="bold",
    )
    rows = [*g.rader, *([g.summa] if g.summa else [])]
    for n, c in enumerate(g.kolumner):
        widest = max((len(r[n]) for r in rows if n < len(r)), default=0)
        # numbers never wrap (headers may); row labels keep room for a word or two
        least = widest if g.numeric(n) else min(widest, 24 if n == 0 else 12)
        t.add_column(
            Text(c),
            justify="right" if g.numeric(n) else "left",
            min_width=max(least, 2),
            overflow="fold",
        )
    for n, r in enumerate(g.rader):
        t.add_row(*(Text(x) for x in r), end_section=g.summa is not None and n == len(g.rader) - 1)
    if g.summa:
        t.add_row(*(Text(x) for x in g.summa))
    return t


# -- CSV -----------------------------------------------------------------------------------------

#: Writes one CSV row: avsnitt, insats, rad, kolumn, varde.
_Row = Callable[[str, Any, Any, Any, Any], None]


def _csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["rapport", "avsnitt", "insats", "rad", "kolumn", "varde"])
    rapport = str(report.get("rapport", ""))

    def row(avsnitt: str, insats: Any, rad: Any, kolumn: Any, varde: Any) -> None:
        w.writerow([rapport, avsnitt, _cell(insats), _cell(rad), _cell(kolumn), _csv_value(varde)])

    p = report.get("period")
    if isinstance(p, dict):
        for k, v in p.items():
            row("period", "", "", k, v)
    kind = report.get("rapport")
    handled = {"rapport", "period", "skydd"}
    if kind == "deltagande":
        handled |= {"insatser", "tabeller"}
        _csv_deltagande(report, row)
    elif kind == "effekt":
        handled |= {"andringar"}
        _csv_effekt(report, row)
    for k, v in report.items():
        if k not in handled:
            _csv_walk(v, k, "", "", row)
    row("skydd", "", "", "text", _skydd(report))
    return buf.getvalue()


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


def _csv_value(v: Any) -> str:
    if v is None:
        return DOLD
    if isinstance(v, bool):
        return "ja" if v else "nej"
    if isinstance(v, list):
        return "; ".join(_csv_value(x) for x in v)
    return str(v)


def _csv_table(tab: dict[str, Any], avsnitt: str, insatser: dict[str, str], row: _Row) -> None:
    """Every cell, then (unless margins are None throughout) row, column and grand totals."""
    cols = tab["kolumner"]
    for r, label in enumerate(tab["rader"]):
        cells = tab["celler"][r] if r < len(tab["celler"]) else [None] * len(cols)
        for c, v in zip(cols, cells, strict=False):
            row(avsnitt, insatser.get(label, ""), label, c, v)
    if not tab.get("celler"):
        return
    for r, v in zip(tab["rader"], tab.get("radsummor") or [], strict=False):
        row(avsnitt, insatser.get(r, ""), r, "totalt", v)
    for c, v in zip(cols, tab.get("kolumnsummor") or [], strict=False):
        row(avsnitt, "", "totalt", c, v)
    row(avsnitt, "", "totalt", "totalt", tab.get("totalt"))


def _csv_deltagande(report: dict[str, Any], row: _Row) -> None:
    insatser = report.get("insatser") or []
    for i in insatser:
        ident = i.get("insats")
        for k in _INSATS_FALT:
            if i.get(k) is not None:
                row("insats", ident, "", k, i[k])
        for k, v in (i.get("nyckeltal") or {}).items():
            row("nyckeltal", ident, "", k, v)
        for k in _KVOTER:
            if k in i:
                row("nyckeltal", ident, "", k, i[k])
        for m in i.get("markeringar") or []:
            for k in ("version", "regim", "handelse"):
                if m.get(k) is not None:
                    row("beslut", ident, m.get("datum"), k, m[k])
    labels = {f"{i.get('namn')} ({i.get('insats')})": str(i.get("insats")) for i in insatser}
    for key, tab in (report.get("tabeller") or {}).items():
        if _is_table(tab):
            _csv_table(tab, key, labels, row)
        else:
            _csv_walk(tab, f"tabeller/{key}", "", "", row)


def _csv_effekt(report: dict[str, Any], row: _Row) -> None:
    for c in report.get("andringar") or []:
        ident = c.get("insats")
        a = c.get("andring") or {}
        f = c.get("fonster") or {}
        d = a.get("datum")
        meta = {
            "namn": c.get("namn"),
            **{k: a.get(k) for k in ("version", "slag", "regim_fore", "regim_efter")},
            "fore_fran": (f.get("fore") or [None, None])[0],
            "fore_till": (f.get("fore") or [None, None])[1],
            "efter_fran": (f.get("efter") or [None, None])[0],
            "efter_till": (f.get("efter") or [None, None])[1],
            "dagar": f.get("dagar"),
        }
        for k, v in meta.items():
            if v is not None:
                row("andring", ident, d, k, v)
        tab = c.get("jamforelse")
        if _is_table(tab):
            for r, label in enumerate(tab["rader"]):
                for col, v in zip(tab["kolumner"], tab["celler"][r], strict=False):
                    row(f"jamforelse {d}", ident, label, col, v)
        rates = c.get("avbrottsandel") or {}
        for side, label in (("fore", "före"), ("efter", "efter")):
            if side in rates:
                row(f"jamforelse {d}", ident, label, "Avbrottsandel (%)", rates[side])
        if _is_table(c.get("kon_alder")):
            _csv_table(c["kon_alder"], f"kon_alder {d}", {}, row)


def _csv_walk(obj: Any, avsnitt: str, insats: Any, rad: Any, row: _Row) -> None:
    """Generic content: scalars as (avsnitt, kolumn=key), tables cell by cell, list
    entries numbered in `rad`."""
    if _is_table(obj):
        _csv_table(obj, avsnitt, {}, row)
    elif isinstance(obj, dict):
        ident = obj.get("insats", insats) if _scalar(obj.get("insats", insats)) else insats
        for k, v in obj.items():
            if v == []:
                continue
            if _flat(v):
                row(avsnitt, ident, rad, k, v)
            else:
                _csv_walk(v, f"{avsnitt}/{k}" if avsnitt else k, ident, rad, row)
    elif isinstance(obj, list):
        for n, x in enumerate(obj, 1):
            place = f"{rad}.{n}" if rad else str(n)
            if isinstance(x, dict | list):
                _csv_walk(x, avsnitt, insats, place, row)
            else:
                row(avsnitt, insats, place, "", x)
    else:
        row(avsnitt, insats, rad, "", obj)


# -- HTML --------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  margin: 0 auto; max-width: 1200px; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #1f5fa8; padding-bottom: .2rem;
  margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
h4 { font-size: 1rem; margin-top: 1.2rem; }
.period { color: #444; margin: 0 0 1rem; }
.skydd { background: #fff7e0; border-left: 4px solid #c0620b; padding: .6rem .9rem; }
.diagram { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
  gap: 1rem; }
.diagram.bred { grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); }
figure { margin: 0; border: 1px solid #ddd; border-radius: 4px; padding: .4rem; background: #fff; }
figure svg { width: 100%; height: auto; }
figure svg * { stroke-linejoin: round; stroke-linecap: butt; }
figure svg text { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; }
figcaption { font-size: .85rem; color: #444; }
.tabell { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; vertical-align: top; }
thead th { background: #eef2f8; }
td.tal { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.dold { color: #777; }
tfoot th, tfoot td { font-weight: 600; background: #f6f6f6; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; }
footer { margin-top: 3rem; border-top: 1px solid #ccc; padding-top: .8rem; font-size: .85rem;
  color: #444; }
@media print { .tabell { overflow: visible; } figure { break-inside: avoid; } }
"""


@dataclass
class Diagram:
    svg: str
    text: str


@dataclass
class Diagramgrupp:
    rubrik: str
    diagram: list[Diagram] = field(default_factory=list)
    not_: str | None = None
    bred: bool = False


def _e(s: Any) -> str:
    return html.escape(str(s))


def _html(report: dict[str, Any]) -> str:
    namn = _rapportnamn(report)
    period = _period(report)
    p = report.get("period") or {}
    title = f"{namn}, {p.get('fran')} – {p.get('till')}" if p else namn
    with mpl.rc_context(_SVG_RC):
        grupper = _diagram(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="sv">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(namn)}</h1>",
        f'<p class="period">{_e(period)}</p>' if period else "",
        "</header>",
        "<main>",
        '<section id="sammanfattning">',
        "<h2>Sammanfattning</h2>",
        *(f"<p>{_e(s)}</p>" for s in _sammanfattning(report)),
        f'<p class="skydd"><strong>Röjandeskydd:</strong> {_e(_skydd(report))}</p>',
        "</section>",
    ]
    if grupper:
        parts += ['<section id="diagram">', "<h2>Diagram</h2>"]
        for g in grupper:
            parts.append(f"<h3>{_e(g.rubrik)}</h3>")
            if g.not_:
                parts.append(f"<p>{_e(g.not_)}</p>")
            if g.diagram:
                parts.append(f'<div class="diagram{" bred" if g.bred else ""}">')
                for d in g.diagram:
                    svg = d.svg.replace("<svg ", f'<svg role="img" aria-label="{_e(d.text)}" ', 1)
                    parts.append(f"<figure>{svg}<figcaption>{_e(d.text)}</figcaption></figure>")
                parts.append("</div>")
        parts.append("</section>")
    parts += ['<section id="tabeller">', "<h2>Tabeller</h2>"]
    parts += [_html_block(b) for b in _blocks(report, html=True)]
    parts += [
        f"<p>{_e(DOLD)} = uppgiften redovisas inte (röjandeskydd).</p>",
        "</section>",
        "</main>",
        f"<footer><p>{_e(_sidfot(report))}</p><p>{_e(_skydd(report))}</p></footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(x for x in parts if x) + "\n"


def _sammanfattning(report: dict[str, Any]) -> list[str]:
    p = report.get("period") or {}
    span = f"{p.get('fran')} – {p.get('till')}"
    kind = report.get("rapport")
    if kind == "deltagande":
        insatser = report.get("insatser") or []
        tabeller = report.get("tabeller") or {}
        text = f"Rapporten följer upp {len(insatser)} insatser under perioden {span}."
        figures = []
        summor = report.get("summor")
        if isinstance(summor, dict) and "kontakter" in summor:
            figures.append(f"kontakter: {_tal(summor['kontakter'])}")
        if "starter" in tabeller:
            figures.append(f"nya deltagare: {_tal(tabeller['starter'].get('totalt'))}")
        if "aktivitet" in tabeller:
            figures.append(
                "aktivitet (individuella tillfällen och närvaro i grupp): "
                f"{_tal(tabeller['aktivitet'].get('totalt'))}"
            )
        if figures:
            text += " Totalt för perioden – " + "; ".join(figures) + "."
        n = sum(1 for i in insatser for _ in _markeringar(report, i))
        out = [text]
        if n == 1:
            out.append(
                "Under perioden trädde 1 nytt beslut av nämnden i kraft; det markeras med en "
                "streckad linje i diagrammen."
            )
        elif n:
            out.append(
                f"Under perioden trädde {n} nya beslut av nämnden i kraft; de markeras med "
                "streckade linjer i diagrammen."
            )
        return out
    if kind == "effekt":
        andringar = report.get("andringar") or []
        if not andringar:
            return [f"Inga beslutsändringar under perioden {span} kunde jämföras."]
        return [
            f"Rapporten jämför lika långa perioder före och efter {len(andringar)} ändringar av "
            f"nämndens beslut under perioden {span}: "
            + "; ".join(f"{c.get('namn')} ({_andring(c.get('andring') or {})})" for c in andringar)
            + "."
        ]
    lines = [f"Perioden {span}."] if p else []
    summary = report.get("sammanfattning")
    if isinstance(summary, dict):
        lines += [
            _tal(v) if k == "text" else f"{_etikett(k)}: {_visa(k, v)}"
            for k, v in summary.items()
            if _flat(v)
        ]
    elif _flat(summary) and summary is not None:
        lines.append(_tal(summary))
    return lines


def _sidfot(report: dict[str, Any]) -> str:
    kind = report.get("rapport")
    if kind == "deltagande":
        what = (
            "Rapporten innehåller sammanräknade uppgifter per insats och period: antal "
            "kontakter, deltagare och aktiviteter, andelar och medelvärden, fördelning på ålder "
            "och kön samt vilka av nämndens beslut som gällde."
        )
    elif kind == "effekt":
        what = (
            "Rapporten innehåller sammanräknade antal för lika långa perioder före och efter "
            "ändringar av nämndens beslut."
        )
    else:
        what = "Rapporten innehåller sammanställda uppgifter för uppföljning och tillsyn."
    return (
        f"{what} Den innehåller inga uppgifter om enskildas identitet. "
        f"{DOLD} betyder att uppgiften inte redovisas för att skydda enskilda."
    )


def _html_block(b: Block) -> str:
    match b:
        case Rubrik(text, niva):
            n = min(max(niva, 3), 5)
            return f"<h{n}>{_e(text)}</h{n}>"
        case Stycke(text):
            return f"<p>{_e(text)}</p>"
        case Uppgifter(rader):
            inner = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rader)
            return f"<dl>{inner}</dl>"
        case Grid():
            return _html_table(b)
    raise TypeError(type(b))


def _html_table(g: Grid) -> str:
    if not g.rader:
        note = g.not_ or "Inga uppgifter att redovisa."
        return f"<p><strong>{_e(g.titel)}:</strong> {_e(note)}</p>"

    def td(n: int, v: str) -> str:
        if not g.numeric(n):
            return f"<td>{_e(v)}</td>"
        cls = "tal dold" if v == DOLD else "tal"
        extra = ' title="Redovisas inte"' if v == DOLD else ""
        return f'<td class="{cls}"{extra}>{_e(v)}</td>'

    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in g.kolumner)

    def cells(row: list[str]) -> str:
        return "".join(td(n, v) for n, v in enumerate(row[1:], 1))

    body = "".join(f'<tr><th scope="row">{_e(r[0])}</th>{cells(r)}</tr>' for r in g.rader)
    out = [f'<div class="tabell"><table><caption>{_e(g.titel)}</caption>']
    out.append(f"<thead><tr>{head}</tr></thead>")
    out.append(f"<tbody>{body}</tbody>")
    if g.summa:
        out.append(f'<tfoot><tr><th scope="row">{_e(g.summa[0])}</th>{cells(g.summa)}</tr></tfoot>')
    out.append("</table></div>")
    if g.not_:
        out.append(f"<p>{_e(g.not_)}</p>")
    return "".join(out)


# -- charts --------------------------------------------------------------------------------------


def _diagram(report: dict[str, Any]) -> list[Diagramgrupp]:
    kind = report.get("rapport")
    if kind == "deltagande":
        return [g for g in (_tidsserier(report), _alder_kon(report)) if g is not None]
    if kind == "effekt":
        g = _fore_efter(report)
        return [g] if g is not None else []
    return []


def _svg(fig: Figure, n: int) -> str:
    """The figure as inline SVG: no prolog, no metadata, ids unique in the document and
    unreferenced ids dropped."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_SVG_META)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    # matplotlib's "*{stroke-linejoin: round; stroke-linecap: butt}" is in the page's CSS
    svg = re.sub(r"<style[^>]*>.*?</style>\s*", "", svg, flags=re.DOTALL)
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
    prefix = f"d{n}-"

    def ident(m: re.Match[str]) -> str:
        return f' id="{prefix}{m[1]}"' if m[1] in refs else ""

    svg = re.sub(r' id="([^"]+)"', ident, svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', lambda m: f"{m[1]}{prefix}{m[2]}", svg)
    # smaller: the font list is in the page's CSS, whitespace between elements and in path
    # data is insignificant, and so are rotations by 0 degrees
    svg = svg.replace(f"font-family: {_SVG_FONTS}; ", "").replace(
        f"; font-family: {_SVG_FONTS}", ""
    )
    svg = re.sub(r' transform="rotate\(-0 [0-9.]+ [0-9.]+\)"', "", svg)
    svg = re.sub(r"\s*\n\s*", " ", svg)
    svg = re.sub(r">\s+<", "><", svg)
    return svg.strip()


def _period_bounds(label: str, indelning: str) -> tuple[date, date] | None:
    """[start, end) of a period label of `facts.period_of`."""
    try:
        match indelning:
            case "dag":
                d = date.fromisoformat(label)
                return d, d + timedelta(days=1)
            case "vecka":
                y, w = label.split("-V")
                d = date.fromisocalendar(int(y), int(w), 1)
                return d, d + timedelta(days=7)
            case "manad":
                year, month = map(int, label.split("-"))
                return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
            case "kvartal":
                y, q = label.split("-K")
                m = 3 * (int(q) - 1) + 1
                end = date(int(y) + 1, 1, 1) if m == 10 else date(int(y), m + 3, 1)
                return date(int(y), m, 1), end
            case "ar":
                return date(int(label), 1, 1), date(int(label) + 1, 1, 1)
    except ValueError:
        return None
    return None


def _marker_x(datum: str, kolumner: list[str], indelning: str) -> float | None:
    """Where a date falls on an axis with one point per period at 0, 1, ...: the period's
    span is [i - 0.5, i + 0.5)."""
    try:
        day = date.fromisoformat(datum)
    except ValueError:
        return None
    for i, label in enumerate(kolumner):
        bounds = _period_bounds(label, indelning)
        if bounds and bounds[0] <= day < bounds[1]:
            return i - 0.5 + (day - bounds[0]).days / (bounds[1] - bounds[0]).days
    return None


def _marker_label(m: dict[str, Any]) -> str:
    what = "upphävt" if m.get("handelse") == "upphävt" else _REGIM_KORT.get(m.get("regim"), "")
    return f"v{m.get('version')} {what}".strip()


def _tidsserier(report: dict[str, Any]) -> Diagramgrupp | None:
    tab = (report.get("tabeller") or {}).get("aktivitet")
    if not _is_table(tab) or not tab["celler"]:
        return None
    indelning = str((report.get("period") or {}).get("indelning", "manad"))
    cols = list(tab["kolumner"])
    group = Diagramgrupp(rubrik=f"Aktivitet per {VARDEN.get(indelning, indelning)} och insats")
    rows = {label: r for r, label in enumerate(tab["rader"])}
    utan, over = [], []
    for i in report.get("insatser") or []:
        label = f"{i.get('namn')} ({i.get('insats')})"
        r = i.get("rad") if isinstance(i.get("rad"), int) else rows.get(label)
        if r is None or r >= len(tab["celler"]):
            continue
        values = tab["celler"][r]
        if all(v is None for v in values):
            utan.append(label)
            continue
        if len(group.diagram) >= MAX_DIAGRAM:
            over.append(label)
            continue
        markers = [m for m, _ in _markeringar(report, i)]
        fig = _serie_figure(label, cols, values, markers, indelning)
        text = f"{label}: tillfällen och närvaro per {VARDEN.get(indelning, indelning)}."
        if any(v is None for v in values):
            text += f" Perioder som inte redovisas ({DOLD}) visas som luckor."
        if markers:
            text += " Streckade linjer: " + "; ".join(
                f"version {m.get('version')} från {m.get('datum')} "
                f"({'upphävt' if m.get('handelse') == 'upphävt' else _regim(m.get('regim'))})"
                for m in markers
            )
            text += "."
        group.diagram.append(Diagram(_svg(fig, len(group.diagram) + 1), text))
    notes = []
    if over:
        notes.append(
            f"Diagram visas för de {MAX_DIAGRAM} första insatserna; övriga ({len(over)} st.) "
            "finns i tabellerna."
        )
    if utan:
        notes.append("Inga redovisade värden att visa för: " + ", ".join(utan) + ".")
    group.not_ = " ".join(notes) or None
    return group


def _serie_figure(
    titel: str,
    cols: list[str],
    values: list[int | None],
    markers: list[dict[str, Any]],
    indelning: str,
) -> Figure:
    fig = Figure(figsize=(3.3, 2.3), layout="constrained")
    ax = fig.add_subplot()
    xs = list(range(len(cols)))
    ys = [math.nan if v is None else v for v in values]
    ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.4, color=_BLA)
    low = blended_transform_factory(ax.transData, ax.transAxes)
    for x, v in zip(xs, values, strict=True):
        if v is None:
            ax.text(x, 0.02, DOLD, transform=low, ha="center", va="bottom", color=_MORK, fontsize=8)
    for m in markers:
        at = _marker_x(str(m.get("datum")), cols, indelning)
        if at is None:
            continue
        ax.axvline(at, linestyle="--", linewidth=1, color=_ORANGE)
        ax.text(
            at,
            0.98,
            _marker_label(m),
            transform=low,
            rotation=90,
            ha="right",
            va="top",
            fontsize=6.5,
            color=_ORANGE,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.6},
        )
    step = max(1, math.ceil(len(cols) / 4))
    ax.set_xticks(xs[::step], labels=cols[::step])
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    ax.set_title(textwrap.fill(titel, 42))
    ax.set_xlabel(_INDELNING_AXEL.get(indelning, "Period"))
    ax.set_ylabel("Antal")
    return fig


def _grouped_bars(
    ax: Axes, labels: list[str], series: list[tuple[str, list[int | None], str]]
) -> bool:
    """Grouped bars; a suppressed value gets no bar, only '..'. True if any was suppressed."""
    width = 0.8 / max(1, len(series))
    low = blended_transform_factory(ax.transData, ax.transAxes)
    hidden = False
    for n, (name, values, color) in enumerate(series):
        offset = -0.4 + width * (n + 0.5)
        xs = [i + offset for i, v in enumerate(values) if v is not None]
        ax.bar(xs, [v for v in values if v is not None], width=width, color=color, label=name)
        for i, v in enumerate(values):
            if v is None:
                hidden = True
                ax.text(
                    i + offset,
                    0.01,
                    DOLD,
                    transform=low,
                    ha="center",
                    va="bottom",
                    color=_MORK,
                    fontsize=8,
                )
    ax.set_xticks(range(len(labels)), labels=labels)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.legend(loc="upper right")
    return hidden


def _alder_kon(report: dict[str, Any]) -> Diagramgrupp | None:
    tab = (report.get("tabeller") or {}).get("alder_kon")
    if not _is_table(tab):
        return None
    group = Diagramgrupp(rubrik=str(tab.get("titel") or "Ålder och kön"), bred=True)
    cells = tab["celler"]
    if not cells or all(v is None for r in cells for v in r):
        group.not_ = "Inga redovisade värden att visa."
        return group
    fig = Figure(figsize=(6.4, 3.0), layout="constrained")
    ax = fig.add_subplot()
    series = [
        (_varde(g), [r[c] for r in cells], _FARGER[c % len(_FARGER)])
        for c, g in enumerate(tab["kolumner"])
    ]
    hidden = _grouped_bars(ax, list(tab["rader"]), series)
    ax.set_xlabel("Åldersgrupp")
    ax.set_ylabel("Antal")
    ax.set_title(str(tab.get("titel") or "Ålder och kön"))
    text = "Antal efter åldersgrupp och kön, alla insatser."
    if hidden:
        text += f" Celler som inte redovisas ({DOLD}) är utelämnade."
    group.diagram.append(Diagram(_svg(fig, 1000), text))
    return group


def _fore_efter(report: dict[str, Any]) -> Diagramgrupp | None:
    andringar = report.get("andringar") or []
    if not andringar:
        return None
    group = Diagramgrupp(rubrik="Före och efter nämndens beslutsändringar", bred=True)
    over = 0
    for c in andringar:
        tab = c.get("jamforelse")
        if not _is_table(tab) or not tab["celler"]:
            continue
        if all(v is None for r in tab["celler"] for v in r):
            continue
        if len(group.diagram) >= MAX_DIAGRAM:
            over += 1
            continue
        a = c.get("andring") or {}
        f = c.get("fonster") or {}
        fig = Figure(figsize=(5.2, 2.8), layout="constrained")
        ax = fig.add_subplot()
        series = [
            (_varde(str(label)), tab["celler"][r], (_GRA, _BLA)[r % 2])
            for r, label in enumerate(tab["rader"])
        ]
        labels = [textwrap.fill(str(k), 14) for k in tab["kolumner"]]
        hidden = _grouped_bars(ax, labels, series)
        ax.set_ylabel("Antal")
        name = textwrap.fill(f"{c.get('namn')} ({c.get('insats')})", 70)
        ax.set_title(f"{name}\n{_andring(a)}")
        text = (
            f"{_andring(a)}. Före: {' – '.join(f.get('fore') or [])}; efter: "
            f"{' – '.join(f.get('efter') or [])}; {_tal(f.get('dagar'))} dagar vardera."
        )
        if hidden:
            text += f" Mått som inte redovisas ({DOLD}) är utelämnade."
        group.diagram.append(Diagram(_svg(fig, 2000 + len(group.diagram)), text))
    if over:
        group.not_ = (
            f"Diagram visas för de {MAX_DIAGRAM} första ändringarna; övriga finns i tabellerna."
        )
    if not group.diagram and not group.not_:
        group.not_ = "Inga redovisade värden att visa."
    return group
