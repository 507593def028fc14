"""A report as tidy CSV: one row per number, with its section, insats, row and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from iubledger.reports.render.labels import DOLD, KVOTER, flat, is_table, scalar, skydd

#: Insats fields described in the CSV.
_INSATS_FALT = ("namn", "namnd", "tillhandahallare", "kategori", "regim", "uppfoljning")
#: Writes one CSV row: avsnitt, insats, rad, kolumn, varde.
_Row = Callable[[str, Any, Any, Any, Any], None]


def render(report: dict[str, Any], *, excel: bool = False) -> str:
    """Tidy CSV; with `excel`, as Excel in Sweden opens it: semicolons, decimal commas and
    a UTF-8 byte order mark."""
    buf = io.StringIO()
    if excel:
        buf.write("\ufeff")
    w = csv.writer(buf, delimiter=";" if excel else ",", lineterminator="\r\n" if excel else "\n")
    w.writerow(["rapport", "avsnitt", "insats", "rad", "kolumn", "varde"])
    rapport = str(report.get("rapport", ""))

    def row(avsnitt: str, insats: Any, rad: Any, kolumn: Any, varde: Any) -> None:
        value = _csv_value(varde)
        if excel and isinstance(varde, float):
            value = value.replace(".", ",")
        w.writerow([rapport, avsnitt, _cell(insats), _cell(rad), _cell(kolumn), value])

    p = report.get("period")
    if isinstance(p, dict):
        for k, v in p.items():
            row("period", "", "", k, v)
    kind = report.get("rapport")
    handled = {"rapport", "period", "skydd", "utelamnat"}  # the omissions: with the skydd
    if kind == "deltagande":
        handled |= {"insatser", "tabeller"}
        _csv_deltagande(report, row)
    elif kind == "effekt":
        handled |= {"andringar"}
        _csv_effekt(report, row)
    for k, v in report.items():
        if k not in handled:
            _csv_walk(v, k, "", "", row)
    row("skydd", "", "", "text", skydd(report))
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
    """Every cell, then the row, column and grand totals the table publishes."""
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
    if "totalt" in tab:
        row(avsnitt, "", "totalt", "totalt", tab["totalt"])


def _csv_deltagande(report: dict[str, Any], row: _Row) -> None:
    insatser = report.get("insatser") or []
    for i in insatser:
        ident = i.get("insats")
        for k in _INSATS_FALT:
            if i.get(k) is not None:
                row("insats", ident, "", k, i[k])
        for k, v in (i.get("nyckeltal") or {}).items():
            row("nyckeltal", ident, "", k, v)
        for k in KVOTER:
            if k in i:
                row("nyckeltal", ident, "", k, i[k])
        for m in i.get("markeringar") or []:
            for k in ("version", "regim", "handelse"):
                if m.get(k) is not None:
                    row("beslut", ident, m.get("datum"), k, m[k])
    labels = {f"{i.get('namn')} ({i.get('insats')})": str(i.get("insats")) for i in insatser}
    for key, tab in (report.get("tabeller") or {}).items():
        if is_table(tab):
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
            "kvartal": f.get("kvartal"),
            "overgangskvartal": f.get("overgangskvartal"),
        }
        for k, v in meta.items():
            if v is not None:
                row("andring", ident, d, k, v)
        tab = c.get("jamforelse")
        if is_table(tab):
            for r, label in enumerate(tab["rader"]):
                for col, v in zip(tab["kolumner"], tab["celler"][r], strict=False):
                    row(f"jamforelse {d}", ident, label, col, v)
        rates = c.get("avbrottsandel") or {}
        for side, label in (("fore", "före"), ("efter", "efter")):
            if side in rates:
                row(f"jamforelse {d}", ident, label, "Avbrottsandel (%)", rates[side])
        for x in c.get("forandring") or []:
            for k in ("skillnad", "procent"):
                if k in x:
                    row(f"forandring {d}", ident, x.get("namn"), k, x[k])
        bedomning = c.get("bedomning") or {}
        if bedomning.get("text"):
            row(f"bedomning {d}", ident, "", "text", bedomning["text"])
        for n, caveat in enumerate(bedomning.get("forbehall") or [], 1):
            row(f"bedomning {d}", ident, n, "forbehall", caveat)
        if is_table(c.get("kon_alder")):
            _csv_table(c["kon_alder"], f"kon_alder {d}", {}, row)


def _csv_walk(obj: Any, avsnitt: str, insats: Any, rad: Any, row: _Row) -> None:
    """Generic content: scalars as (avsnitt, kolumn=key), tables cell by cell, list
    entries numbered in `rad`."""
    if is_table(obj):
        _csv_table(obj, avsnitt, {}, row)
    elif isinstance(obj, dict):
        ident = obj.get("insats", insats) if scalar(obj.get("insats", insats)) else insats
        for k, v in obj.items():
            if v == []:
                continue
            if flat(v):
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
