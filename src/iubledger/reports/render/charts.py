"""A report's charts as inline SVG drawn with matplotlib, for the HTML document."""

from __future__ import annotations

import io
import math
import re
import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory
from matplotlib.typing import RcKeyType

from iubledger.reports.render.document import markeringar
from iubledger.reports.render.labels import DOLD, VARDEN, andring, is_table, regim, tal, varde

#: At most this many charts of each kind in one HTML document.
MAX_DIAGRAM = 30

_REGIM_KORT: dict[str | None, str] = {
    "full_14_3": "dokumentation 3 §",
    "deltagardata": "deltagardata 3 §",
    "radgivning_14_4": "rådgivning 4 §",
    "undantag_14_5": "undantag 5 §",
    "aggregat": "endast antal",
}

_INDELNING_AXEL = {
    "dag": "Dag",
    "vecka": "Vecka",
    "manad": "Månad",
    "kvartal": "Kvartal",
    "ar": "År",
}

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


def diagram(report: dict[str, Any]) -> list[Diagramgrupp]:
    """The report's charts, drawn with the document's fonts, sizes and SVG settings."""
    kind = report.get("rapport")
    with mpl.rc_context(_SVG_RC):
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
    if not is_table(tab) or not tab["celler"]:
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
        markers = [m for m, _ in markeringar(report, i)]
        fig = _serie_figure(label, cols, values, markers, indelning)
        text = f"{label}: tillfällen och närvaro per {VARDEN.get(indelning, indelning)}."
        if any(v is None for v in values):
            text += f" Perioder som inte redovisas ({DOLD}) visas som streckade fält."
        if markers:
            text += " Streckade linjer: " + "; ".join(
                f"version {m.get('version')} från {m.get('datum')} "
                f"({'upphävt' if m.get('handelse') == 'upphävt' else regim(m.get('regim'))})"
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
            ax.axvspan(
                x - 0.4, x + 0.4, fill=False, hatch=_DOLD_HATCH, edgecolor=_GRA, linewidth=0.6
            )
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


#: How a suppressed value is drawn: a hatched, unfilled bar over the whole height, so it
#: reads as "not shown", never as zero or as missing.
_DOLD_HATCH = "////"
_DOLD_ETIKETT = f"Redovisas inte ({DOLD})"


def _grouped_bars(
    ax: Axes, labels: list[str], series: list[tuple[str, list[int | None], str]]
) -> bool:
    """Grouped bars; a suppressed value is a hatched bar over the whole height, labelled
    '..' (its size is not shown). True if any was suppressed."""
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
                ax.add_patch(
                    Rectangle(
                        (i + offset - width / 2, 0),
                        width,
                        0.9,
                        transform=low,
                        fill=False,
                        hatch=_DOLD_HATCH,
                        edgecolor=color,
                        linewidth=0.6,
                    )
                )
                ax.text(
                    i + offset,
                    0.91,
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
    handles, names = ax.get_legend_handles_labels()
    if hidden:
        handles.append(Patch(fill=False, hatch=_DOLD_HATCH, edgecolor=_MORK, linewidth=0.6))
        names.append(_DOLD_ETIKETT)
    ax.legend(handles, names, loc="upper right")
    return hidden


def _alder_kon(report: dict[str, Any]) -> Diagramgrupp | None:
    tab = (report.get("tabeller") or {}).get("alder_kon")
    if not is_table(tab):
        return None
    group = Diagramgrupp(rubrik=str(tab.get("titel") or "Ålder och kön"), bred=True)
    cells = tab["celler"]
    if not cells or all(v is None for r in cells for v in r):
        group.not_ = "Inga redovisade värden att visa."
        return group
    fig = Figure(figsize=(6.4, 3.0), layout="constrained")
    ax = fig.add_subplot()
    series = [
        (varde(g), [r[c] for r in cells], _FARGER[c % len(_FARGER)])
        for c, g in enumerate(tab["kolumner"])
    ]
    hidden = _grouped_bars(ax, list(tab["rader"]), series)
    ax.set_xlabel("Åldersgrupp")
    ax.set_ylabel("Antal")
    ax.set_title(str(tab.get("titel") or "Ålder och kön"))
    text = "Antal efter åldersgrupp och kön, alla insatser."
    if hidden:
        text += (
            f" Celler som inte redovisas ({DOLD}) visas som streckade staplar (antalet visas inte)."
        )
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
        if not is_table(tab) or not tab["celler"]:
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
            (varde(str(label)), tab["celler"][r], (_GRA, _BLA)[r % 2])
            for r, label in enumerate(tab["rader"])
        ]
        labels = [textwrap.fill(str(k), 14) for k in tab["kolumner"]]
        hidden = _grouped_bars(ax, labels, series)
        ax.set_ylabel("Antal")
        name = textwrap.fill(f"{c.get('namn')} ({c.get('insats')})", 70)
        ax.set_title(f"{name}\n{andring(a)}")
        text = (
            f"{andring(a)}. Före: {' – '.join(f.get('fore') or [])}; efter: "
            f"{' – '.join(f.get('efter') or [])}; {tal(f.get('kvartal'))} hela kvartal vardera."
        )
        if hidden:
            text += f" Mått som inte redovisas ({DOLD}) visas som streckade staplar."
        group.diagram.append(Diagram(_svg(fig, 2000 + len(group.diagram)), text))
    if over:
        group.not_ = (
            f"Diagram visas för de {MAX_DIAGRAM} första ändringarna; övriga finns i tabellerna."
        )
    if not group.diagram and not group.not_:
        group.not_ = "Inga redovisade värden att visa."
    return group
