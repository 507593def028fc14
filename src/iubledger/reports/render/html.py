"""A report as one self-contained HTML document: summary, inline SVG charts and tables."""

from __future__ import annotations

import html
from typing import Any

from iubledger.reports.render.charts import diagram
from iubledger.reports.render.document import (
    Block,
    Grid,
    Rubrik,
    Stycke,
    Uppgifter,
    blocks,
    markeringar,
    visa,
)
from iubledger.reports.render.labels import (
    DOLD,
    andring,
    antal,
    etikett,
    flat,
    period,
    rapportnamn,
    skydd,
    tal,
)

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
.diagram { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(260px, 100%), 1fr));
  gap: 1rem; }
.diagram.bred { grid-template-columns: repeat(auto-fill, minmax(min(420px, 100%), 1fr)); }
figure { margin: 0; border: 1px solid #ddd; border-radius: 4px; padding: .4rem; background: #fff;
  min-width: 0; }
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
td.dold { color: #595959; }
tfoot th, tfoot td { font-weight: 600; background: #f6f6f6; }
dl { display: grid; grid-template-columns: minmax(0, max-content) minmax(0, 1fr);
  gap: .2rem 1rem; }
dt { font-weight: 600; overflow-wrap: anywhere; }
dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 600px) { body { padding: .75rem; } dl { grid-template-columns: 1fr; } }
footer { margin-top: 3rem; border-top: 1px solid #ccc; padding-top: .8rem; font-size: .85rem;
  color: #444; }
@media print { @page { size: A4 landscape; margin: 12mm; } .tabell { overflow: visible; }
  table { width: 100%; font-size: 7.5pt; } th, td { padding: 1pt 3pt; overflow-wrap: anywhere; }
  tr, figure, dl { break-inside: avoid; } thead { display: table-header-group; }
  h2, h3, h4, caption { break-after: avoid; } }
"""


def _e(s: Any) -> str:
    return html.escape(str(s))


def render(report: dict[str, Any]) -> str:
    namn = rapportnamn(report)
    perioden = period(report)
    p = report.get("period") or {}
    title = f"{namn}, {p.get('fran')} – {p.get('till')}" if p else namn
    grupper = diagram(report)
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
        f'<p class="period">{_e(perioden)}</p>' if perioden else "",
        "</header>",
        "<main>",
        '<section id="sammanfattning">',
        "<h2>Sammanfattning</h2>",
        *(f"<p>{_e(s)}</p>" for s in _sammanfattning(report)),
        f'<p class="skydd"><strong>Röjandeskydd:</strong> {_e(skydd(report))}</p>',
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
    parts += [_html_block(b) for b in blocks(report, html=True)]
    parts += [
        f"<p>{_e(DOLD)} = uppgiften redovisas inte (röjandeskydd).</p>",
        "</section>",
        "</main>",
        f"<footer><p>{_e(_sidfot(report))}</p><p>{_e(skydd(report))}</p></footer>",
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
        text = (
            f"Rapporten följer upp {antal(len(insatser), 'insats', 'insatser')} under perioden "
            f"{span}."
        )
        figures = []
        summor = report.get("summor")
        if isinstance(summor, dict) and "kontakter" in summor:
            figures.append(f"kontakter: {tal(summor['kontakter'])}")
        if "starter" in tabeller:
            figures.append(f"nya deltagare: {tal(tabeller['starter'].get('totalt'))}")
        if "aktivitet" in tabeller:
            figures.append(
                "aktivitet (individuella tillfällen och närvaro i grupp): "
                f"{tal(tabeller['aktivitet'].get('totalt'))}"
            )
        if figures:
            text += " Totalt för perioden – " + "; ".join(figures) + "."
        n = sum(1 for i in insatser for _ in markeringar(report, i))
        out = [text]
        if n:
            mark = (
                "det markeras med en streckad linje"
                if n == 1
                else "de markeras med streckade linjer"
            )
            out.append(
                f"Under perioden trädde {antal(n, 'nytt beslut', 'nya beslut')} av nämnden i "
                f"kraft; {mark} i diagrammen."
            )
        return out
    if kind == "effekt":
        andringar = report.get("andringar") or []
        if not andringar:
            return [f"Inga beslutsändringar under perioden {span} kunde jämföras."]
        out = [
            f"Rapporten jämför lika långa perioder före och efter "
            f"{antal(len(andringar), 'ändring', 'ändringar')} av nämndens beslut under perioden "
            f"{span}."
        ]
        for c in andringar:
            bedomning = c.get("bedomning") or {}
            verdict = bedomning.get("text")
            caveats = " ".join(bedomning.get("forbehall") or [])
            out.append(
                f"{c.get('namn')} ({andring(c.get('andring') or {})})"
                + (f": {verdict}" if verdict else ".")
                + (f" Förbehåll: {caveats}" if caveats else "")
            )
        return out
    lines = [f"Perioden {span}."] if p else []
    summary = report.get("sammanfattning")
    if isinstance(summary, dict):
        lines += [
            tal(v) if k == "text" else f"{etikett(k)}: {visa(k, v)}"
            for k, v in summary.items()
            if flat(v)
        ]
    elif flat(summary) and summary is not None:
        lines.append(tal(summary))
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
    # Focusable: a table wider than the screen scrolls, and a keyboard must reach it.
    out = [f'<div class="tabell" tabindex="0"><table><caption>{_e(g.titel)}</caption>']
    out.append(f"<thead><tr>{head}</tr></thead>")
    out.append(f"<tbody>{body}</tbody>")
    if g.summa:
        out.append(f'<tfoot><tr><th scope="row">{_e(g.summa[0])}</th>{cells(g.summa)}</tr></tfoot>')
    out.append("</table></div>")
    if g.not_:
        out.append(f"<p>{_e(g.not_)}</p>")
    return "".join(out)
