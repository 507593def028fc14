"""A report as console text, 120 columns wide: headings, key/value lines and tables."""

from __future__ import annotations

import io
from typing import Any

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table as RichTable
from rich.text import Text

from iubledger.reports.render.document import Grid, Rubrik, Stycke, Uppgifter, blocks
from iubledger.reports.render.labels import DOLD, period, rapportnamn, skydd

#: Numeric columns per console table before it is split.
_CHUNK = 8


def render(report: dict[str, Any]) -> str:
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
    console.print(Text(rapportnamn(report), style="bold"))
    if period(report):
        console.print(Text(period(report)))
    console.print(Panel(Text(skydd(report)), title=Text("Röjandeskydd"), title_align="left"))
    for b in blocks(report, html=False):
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
