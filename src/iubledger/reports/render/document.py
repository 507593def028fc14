"""A report as renderer-neutral blocks (headings, text, key/value lines, tables) to show."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from iubledger.reports.render.labels import (
    KVOTER,
    VARDEN,
    andring,
    etikett,
    flat,
    is_table,
    regim,
    tal,
    varde,
)


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
    """A published count table: its cells, margins ('Summa') and optional extra columns. A
    table without row sums (its columns are different measures) has only column sums."""
    kolumner = [horn, *(varde(c) for c in tab["kolumner"])]
    has_rows = bool(tab.get("celler"))
    rowsums = tab.get("radsummor") or []
    across = "radsummor" in tab
    if marginaler and has_rows and across:
        kolumner.append("Summa")
    for label, _ in extra or []:
        kolumner.append(label)
    rader = []
    for r, label in enumerate(tab["rader"]):
        cells = tab["celler"][r] if r < len(tab["celler"]) else [None] * len(tab["kolumner"])
        row = [varde(label), *(tal(v) for v in cells)]
        if marginaler and has_rows and across:
            row.append(tal(rowsums[r] if r < len(rowsums) else None))
        for _, values in extra or []:
            row.append(tal(values[r] if r < len(values) else None))
        rader.append(row)
    summa = None
    if marginaler and has_rows:
        summa = [
            "Summa",
            *(tal(v) for v in tab.get("kolumnsummor") or []),
            *([tal(tab.get("totalt"))] if across else []),
        ]
        summa += [""] * len(extra or [])
    return Grid(
        titel=titel if titel is not None else str(tab.get("titel", "")),
        kolumner=kolumner,
        rader=rader,
        summa=summa,
        not_=None if has_rows else "Inga uppgifter att redovisa.",
    )


def blocks(report: dict[str, Any], *, html: bool) -> list[Block]:
    """The report's body (after heading, period and skydd): for the console or for the
    tables part of the HTML document."""
    kind = report.get("rapport")
    if kind == "deltagande":
        body = _deltagande(report, html=html)
        handled = {"rapport", "period", "skydd", "insatser", "tabeller"}
    elif kind == "effekt":
        body = _effekt(report)
        handled = {"rapport", "period", "skydd", "andringar", "begrepp"}
    else:
        body = _efterlevnad(report) if kind == "efterlevnad" else []
        handled = {"rapport", "period", "skydd", "oversikt", "avvikelser"}
        summary = report.get("sammanfattning")
        if html and isinstance(summary, dict) and all(map(flat, summary.values())):
            handled.add("sammanfattning")  # in the summary section already
    handled |= {"begrepp", "utelamnat"}  # the omissions are said with the skydd
    rest = {k: v for k, v in report.items() if k not in handled}
    if kind == "deltagande" and isinstance(report.get("tabeller"), dict):
        rest |= {
            f"tabeller/{k}": v for k, v in report["tabeller"].items() if k not in _DELTAGANDE_TAB
        }
    body += _generic(rest)
    return body + _begrepp(report)


def _begrepp(report: dict[str, Any]) -> list[Block]:
    """The glossary: what each measure of the report means."""
    entries = report.get("begrepp")
    if not isinstance(entries, list) or not entries:
        return []
    return [
        Rubrik("Begrepp", 3),
        Uppgifter([(str(e.get("begrepp")), str(e.get("definition"))) for e in entries]),
    ]


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
                kolumner=["Insats", "Dokumentation", *(etikett(k) for k in keys)],
                rader=[
                    [
                        f"{i.get('namn')} ({i.get('insats')})",
                        regim(i.get("regim")),
                        *(tal(_figur(i, k)) for k in keys),
                    ]
                    for i in insatser
                ],
                tal=frozenset(range(2, 2 + len(keys))),
            )
        )
    else:
        out.append(Rubrik("Insatser"))
        for i in insatser:
            pairs = [(etikett(k), tal(_figur(i, k))) for k in keys]
            half = math.ceil(len(pairs) / 2)
            left, right = pairs[:half], pairs[half:]
            rows = [[*left[n], *(right[n] if n < len(right) else ("", ""))] for n in range(half)]
            note = f"Dokumentation: {regim(i.get('regim'))}"
            if i.get("uppfoljning"):
                note += f". Uppföljning: {varde(str(i['uppfoljning']))}"
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
        [f"{i.get('namn')} ({i.get('insats')})", str(m.get("datum")), tal(m.get("version")), t]
        for i in insatser
        for m, t in markeringar(report, i)
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
    for k in KVOTER:
        if any(k in i for i in insatser):
            keys[k] = None
    return list(keys)


def _figur(insats: dict[str, Any], key: str) -> Any:
    nyckeltal = insats.get("nyckeltal") or {}
    return nyckeltal[key] if key in nyckeltal else insats.get(key)


def _in_period(report: dict[str, Any], datum: str) -> bool:
    """After the first day and up to the last (as `effect.build`): a decision in force from
    the first day is no change within the period."""
    p = report.get("period") or {}
    return str(p.get("fran", "")) < datum <= str(p.get("till", "9999"))


def markeringar(
    report: dict[str, Any], insats: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], str]]:
    """Decision markers inside the period, with their description."""
    for m in insats.get("markeringar") or []:
        datum = str(m.get("datum", ""))
        if datum and _in_period(report, datum):
            text = "upphävt" if m.get("handelse") == "upphävt" else regim(m.get("regim"))
            yield m, text


def _beslut_i_perioden(report: dict[str, Any], insats: dict[str, Any]) -> list[str]:
    return [
        f"{m.get('datum')} version {m.get('version')} ({t})" for m, t in markeringar(report, insats)
    ]


def _effekt(report: dict[str, Any]) -> list[Block]:
    out: list[Block] = []
    andringar = report.get("andringar") or []
    if not andringar:
        out.append(Stycke("Inga beslutsändringar under perioden kunde jämföras."))
    for c in andringar:
        a = c.get("andring") or {}
        f = c.get("fonster") or {}
        out.append(Rubrik(f"{c.get('namn')} ({c.get('insats')}) – {andring(a)}", 3))
        fore, efter = f.get("fore") or ["?", "?"], f.get("efter") or ["?", "?"]
        out.append(
            Stycke(
                f"{str(a.get('slag', 'ändring')).capitalize()}. Dokumentation före: "
                f"{regim(a.get('regim_fore'))}; efter: {regim(a.get('regim_efter'))}. "
                f"Jämförda perioder: {fore[0]} – {fore[1]} (före) och {efter[0]} – {efter[1]} "
                f"(efter), {tal(f.get('kvartal'))} hela kvartal vardera."
            )
        )
        bedomning = c.get("bedomning") or {}
        if bedomning.get("text"):
            out.append(Stycke(f"Bedömning: {bedomning['text']}"))
        for caveat in bedomning.get("forbehall") or []:
            out.append(Stycke(f"Förbehåll: {caveat}"))
        if c.get("forandring"):
            out.append(
                Grid(
                    titel="Före och efter, med förändring",
                    kolumner=["Mått", "Före", "Efter", "Förändring", "Förändring (%)"],
                    rader=[
                        [
                            str(x.get("namn")),
                            tal(x.get("fore")),
                            tal(x.get("efter")),
                            _signed(x.get("skillnad")),
                            _signed(x["procent"]) if "procent" in x else "–",
                        ]
                        for x in c["forandring"]
                    ],
                    not_="Avbrottsandelens förändring anges i procentenheter; – = ej tillämpligt.",
                )
            )
        if c.get("kon_alder"):
            out.append(_grid(c["kon_alder"], horn="Period"))
    return out


def _efterlevnad(report: dict[str, Any]) -> list[Block]:
    """The compliance report opens with one line per paragraph, then what deviated."""
    out: list[Block] = []
    if "oversikt" in report:
        out.append(Rubrik("Översikt per lagrum", 3))
        out.append(
            Grid(
                titel="Översikt per lagrum",
                kolumner=["Lagrum", "Vad kontrolleras", "Resultat", "Avvikelser", "Kommentar"],
                rader=[
                    [
                        str(x.get("paragraf")),
                        str(x.get("fraga")),
                        str(x.get("resultat")),
                        tal(x.get("avvikelser")),
                        str(x.get("text")),
                    ]
                    for x in report["oversikt"]
                ],
                tal=frozenset({3}),
            )
        )
    if "avvikelser" in report:
        out.append(Rubrik("Avvikelser", 3))
        out.append(
            Grid(
                titel="Avvikelser per insats och regel (antal, inga personuppgifter)",
                kolumner=["Insats", "Lagrum", "Regel", "Avvikande", "Av", "Avser"],
                rader=[
                    [
                        f"{x.get('namn')} ({x.get('insats')})",
                        str(x.get("paragraf")),
                        str(x.get("kontroll")),
                        tal(x.get("antal")) if x.get("antal") is not None else "–",
                        tal(x.get("av")) if x.get("av") is not None else "–",
                        str(x.get("enhet") or ""),
                    ]
                    for x in report["avvikelser"]
                ],
                not_=None if report["avvikelser"] else "Inga avvikelser.",
                tal=frozenset({3, 4}),
            )
        )
    return out


def _signed(v: Any) -> str:
    """A change with its sign: '+5', '−2,5', '0'; '..' when not published."""
    if isinstance(v, int | float) and not isinstance(v, bool) and v > 0:
        return "+" + tal(v)
    if isinstance(v, int | float) and not isinstance(v, bool) and v < 0:
        return "\u2212" + tal(-v)
    return tal(v)


def _generic(obj: dict[str, Any]) -> list[Block]:
    """Any other report content: key/value lines, count tables and lists of records."""
    out: list[Block] = []
    lines = [(etikett(k), visa(k, v)) for k, v in obj.items() if flat(v)]
    if lines:
        out.append(Uppgifter(lines))
    for k, v in obj.items():
        if flat(v):
            continue
        label = etikett(k.rsplit("/", 1)[-1])
        if is_table(v):
            out.append(_grid(v, titel=str(v.get("titel") or label)))
        elif isinstance(v, dict):
            out.append(Rubrik(label, 3))
            out += _generic(v)
        elif isinstance(v, list) and all(
            isinstance(x, dict) and all(map(flat, x.values())) for x in v
        ):
            cols = list(dict.fromkeys(key for x in v for key in x))
            out.append(
                Grid(
                    titel=label,
                    kolumner=[etikett(c) for c in cols],
                    rader=[[visa(c, x.get(c)) for c in cols] for x in v],
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
                    out.append(Stycke(tal(x)))
    return out


def visa(key: str, v: Any) -> str:
    """A value of generic content for a reader: regimes and known codes in words."""
    if key in ("regim", "regim_fore", "regim_efter") and (v is None or isinstance(v, str)):
        return regim(v)
    return VARDEN.get(v, tal(v)) if isinstance(v, str) else tal(v)
