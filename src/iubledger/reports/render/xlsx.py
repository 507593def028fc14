"""A report as an Excel workbook (XLSX): the blocks of `document` on one sheet, numbers as
numbers, a suppressed number as the text ".." (never 0 or blank)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from iubledger.reports.render.document import Grid, Rubrik, Stycke, Uppgifter, blocks
from iubledger.reports.render.labels import DOLD, period, rapportnamn, skydd

_BOLD = Font(bold=True)


def number(text: str) -> int | float | str:
    """A number as `labels.tal` wrote it ('1 234', '12,5') back as a number; any other
    text (a label, '..') as it is."""
    plain = text.replace("\u00a0", "").replace(" ", "")
    try:
        return int(plain)
    except ValueError:
        pass
    try:
        return float(plain.replace(",", "."))
    except ValueError:
        return text


def render(report: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws: Any = wb.active
    ws.title = "Rapport"
    ws.append([rapportnamn(report)])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=14)
    if period(report):
        ws.append([period(report)])
    ws.append([f"Röjandeskydd: {skydd(report)}"])
    ws.append([f"{DOLD} = uppgiften redovisas inte (röjandeskydd)."])
    widths: dict[int, int] = {1: 30}
    for b in blocks(report, html=True):
        match b:
            case Rubrik(text, _):
                ws.append([])
                ws.append([text])
                ws.cell(ws.max_row, 1).font = _BOLD
            case Stycke(text):
                ws.append([text])
                ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=False)
            case Uppgifter(rader):
                for k, v in rader:
                    ws.append([k, number(v)])
            case Grid():
                _grid(ws, b, widths)
    for col, width in widths.items():
        ws.column_dimensions[ws.cell(1, col).column_letter].width = min(width + 2, 60)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _grid(ws: Any, g: Grid, widths: dict[int, int]) -> None:
    ws.append([])
    ws.append([g.titel])
    ws.cell(ws.max_row, 1).font = _BOLD
    if not g.rader:
        ws.append([g.not_ or "Inga uppgifter att redovisa."])
        return
    ws.append(g.kolumner)
    for c in range(1, len(g.kolumner) + 1):
        ws.cell(ws.max_row, c).font = _BOLD
    for row in [*g.rader, *([g.summa] if g.summa else [])]:
        ws.append([number(v) if g.numeric(n) else v for n, v in enumerate(row)])
        for n, v in enumerate(row, 1):
            widths[n] = max(widths.get(n, 8), len(v))
    if g.summa:
        for c in range(1, len(g.summa) + 1):
            ws.cell(ws.max_row, c).font = _BOLD
    if g.not_:
        ws.append([g.not_])
