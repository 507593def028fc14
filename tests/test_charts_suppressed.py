"""Charts draw a suppressed value as suppressed: a hatched bar labelled '..' over the
whole height — never as a zero, never left out (a reader would conclude there are none)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iubledger.reports.render import charts

PATH = re.compile(r'<path d="([^"]+)"[^>]*style="([^"]*)"')


def _report(cells: list[list[int | None]]) -> dict[str, Any]:
    rows = [f"{5 * i}-{5 * i + 4}" for i in range(len(cells))]
    tab = {
        "titel": "Ålder och kön",
        "rader": rows,
        "kolumner": ["kvinna", "man", "annat_eller_saknas"],
        "celler": cells,
        "radsummor": [None] * len(cells),
        "kolumnsummor": [None] * 3,
        "totalt": None,
        "undertryckt": True,
    }
    return {"rapport": "deltagande", "tabeller": {"alder_kon": tab}, "insatser": []}


def _hatched_heights(svg: str) -> list[float]:
    """The height of every shape filled with a pattern (a hatch) in the SVG."""
    heights = []
    for d, style in PATH.findall(svg):
        if "url(#" not in style:
            continue
        ys = [float(y) for y in re.findall(r"[ML] [-0-9.]+ ([-0-9.]+)", d)]
        heights.append(max(ys) - min(ys))
    return heights


def test_a_suppressed_large_cell_is_a_hatched_bar_not_a_gap() -> None:
    """The ~430 boys aged 0-4 hidden to protect a small cell: drawn as suppressed."""
    svg = charts.diagram(_report([[412, None, None], [300, 250, 7]]))[0].diagram[0].svg
    heights = _hatched_heights(svg)
    bars, legend = sorted(heights, reverse=True)[:2], sorted(heights)[0]
    assert len(heights) == 2 + 1  # the two hidden cells and the legend's key
    assert all(h > 100 for h in bars)  # over the whole height, not a zero bar
    assert legend < 20
    assert svg.count(">..<") == 2  # each labelled '..'
    assert "Redovisas inte (..)" in svg


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 500)), min_size=3, max_size=3),
        min_size=1,
        max_size=5,
    )
)
def test_every_suppressed_value_is_drawn_and_no_published_one_is_hatched(
    cells: list[list[int | None]],
) -> None:
    if all(v is None for r in cells for v in r):
        return  # nothing published: the chart says so instead
    svg = charts.diagram(_report(cells))[0].diagram[0].svg
    hidden = sum(v is None for r in cells for v in r)
    assert len(_hatched_heights(svg)) == (hidden + 1 if hidden else 0)
    assert svg.count(">..<") == hidden
