"""A report as PDF (the nämnd's handlingar): the HTML document of `html`, laid out by
WeasyPrint on A4 landscape: a wide table shrinks to the page's width (small type, words
wrapped) rather than losing its right-hand columns, no row is split across pages, and
table headings repeat on every page.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0, libpangoft2-1.0-0); without
it `render` raises `PdfUnavailable`.
"""

from __future__ import annotations

from typing import Any

from iubledger.reports.render import html

PRINT_CSS = """
@page { size: A4 landscape; margin: 12mm;
  @bottom-right { content: "Sida " counter(page) " av " counter(pages); font-size: 8pt; } }
body { max-width: none; padding: 0; font-size: 9.5pt; }
.tabell { overflow: visible; }
table { width: 100%; font-size: 7.5pt; }
th, td { padding: 1pt 3pt; hyphens: auto; overflow-wrap: anywhere; }
th:first-child { overflow-wrap: normal; hyphens: manual; }
tr, figure, dl, .skydd { break-inside: avoid; }
thead { display: table-header-group; }
tfoot { display: table-footer-group; }
h2, h3, h4, caption { break-after: avoid; }
.diagram, .diagram.bred { display: block; }
figure { margin-bottom: 6mm; max-width: 180mm; }
"""


class PdfUnavailable(RuntimeError):
    """The system libraries WeasyPrint needs are missing."""


def render(report: dict[str, Any]) -> bytes:
    try:
        from weasyprint import CSS, HTML
    except OSError:
        raise PdfUnavailable(
            "PDF needs Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
        ) from None
    document = html.render(report)
    out: bytes = HTML(string=document).write_pdf(stylesheets=[CSS(string=PRINT_CSS)])
    return out
