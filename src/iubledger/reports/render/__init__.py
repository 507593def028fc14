"""Render a report as console text, JSON, tidy CSV or one self-contained HTML document.

The report is the plain data of `participation.build`, `effect.build` or
`audit.compliance.build`. Renderers show what the report holds and nothing else: they look
nothing up and compute no new statistic (a count of list entries, such as the number of
insatser, is the most they derive). A suppressed number (None) is always shown as ".." (the
Swedish statistics convention), never as 0 or blank, and plotted as a gap; the report's
röjandeskydd text is part of every rendering.

`labels` names keys and values for a reader, `document` lays a report out as blocks that
`console` and `html` show, `csvfile` writes the tidy CSV and `charts` draws the HTML
document's SVG charts.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from iubledger.reports.render import console, csvfile, html
from iubledger.reports.render.labels import DOLD

__all__ = ["DOLD", "FILE_FORMATS", "FileFormat", "Format", "render", "render_file"]

Format = Literal["table", "json", "csv", "html"]
#: Files people open: XLSX, PDF, and CSV as Excel in Sweden reads it.
FileFormat = Literal["xlsx", "pdf", "csv-excel"]
FILE_FORMATS: tuple[FileFormat, ...] = ("xlsx", "pdf", "csv-excel")


def render(report: dict[str, Any], fmt: Format) -> str:
    """The report as `fmt`: "table" (console text, 120 columns), "json", "csv" (tidy: one
    row per number) or "html" (one self-contained document with charts)."""
    match fmt:
        case "json":
            return json.dumps(report, ensure_ascii=False, indent=2)
        case "table":
            return console.render(report)
        case "csv":
            return csvfile.render(report)
        case "html":
            return html.render(report)
    raise ValueError(f"unknown format {fmt!r}; use table, json, csv or html")


def render_file(report: dict[str, Any], fmt: FileFormat) -> bytes:
    """The report as a file: "xlsx" (one sheet), "pdf" (A4 landscape) or "csv-excel"
    (semicolons, decimal commas, UTF-8 with byte order mark)."""
    match fmt:
        case "xlsx":
            from iubledger.reports.render import xlsx

            return xlsx.render(report)
        case "pdf":
            from iubledger.reports.render import pdf

            return pdf.render(report)
        case "csv-excel":
            return csvfile.render(report, excel=True).encode("utf-8")
    raise ValueError(f"unknown file format {fmt!r}; use xlsx, pdf or csv-excel")
