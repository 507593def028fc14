"""Reports as files people open: XLSX (numbers as numbers, '..' kept), PDF (A4, the title
in its text), CSV for Excel in Sweden (semicolons, decimal commas, byte order mark); from
the command line as from the web. And the report periods the web lets a reader choose."""

from __future__ import annotations

import copy
import io
import itertools
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from iubledger.reports import perioder
from iubledger.reports.render import DOLD, render_file
from iubledger.reports.render.labels import rapportnamn, tal
from iubledger.reports.render.xlsx import number
from test_render import deltagande, effekt, efterlevnad  # noqa: F401 - registers the fixtures

Reports = dict[str, dict[str, Any]]


@pytest.fixture
def rapporter(request: pytest.FixtureRequest) -> Reports:
    """test_render's report dicts, by kind."""
    return {n: request.getfixturevalue(n) for n in ("deltagande", "effekt", "efterlevnad")}


def _cells(content: bytes) -> list[Any]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


@given(
    st.one_of(
        st.integers(0, 10**9), st.floats(0, 10**6, allow_nan=False).map(lambda f: round(f, 1))
    )
)
def test_xlsx_reads_back_the_numbers_the_tables_show(value: int | float) -> None:
    assert number(tal(value)) == value


def test_xlsx_holds_the_tables_with_numbers_and_suppressed_cells(rapporter: Reports) -> None:
    cells = _cells(render_file(rapporter["deltagande"], "xlsx"))
    assert cells[0] == rapportnamn(rapporter["deltagande"])
    assert any(isinstance(c, int) and c > 0 for c in cells)
    assert DOLD in cells and not any(c == 0 and c is not False for c in cells if c == DOLD)
    assert any("Röjandeskydd" in str(c) for c in cells)
    assert "Före och efter, med förändring" in _cells(render_file(rapporter["effekt"], "xlsx"))


def test_csv_for_excel_uses_semicolons_decimal_commas_and_a_bom(rapporter: Reports) -> None:
    raw = render_file(rapporter["deltagande"], "csv-excel")
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "rapport;avsnitt;insats;rad;kolumn;varde"
    values = [line.rsplit(";", 1)[-1] for line in lines[1:]]
    assert any("," in v and v.replace(",", "").isdigit() for v in values)  # a decimal comma
    assert not any(v.count(".") == 1 and v.replace(".", "").isdigit() for v in values)


def _pdf_text(content: bytes) -> str | None:
    if not shutil.which("pdftotext"):
        return None
    done = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True)
    return done.stdout.decode()


def test_pdf_of_every_report(rapporter: Reports) -> None:
    for report in rapporter.values():
        title = rapportnamn(report)
        content = render_file(report, "pdf")
        assert content.startswith(b"%PDF-")
        text = _pdf_text(content)
        if text is not None:
            assert title in text and "Röjandeskydd" in text


def test_a_wide_table_keeps_every_column_in_the_pdf(rapporter: Reports) -> None:
    """Landscape A4 holds about 16 columns at normal size; 30 must shrink, not be cut."""
    report = copy.deepcopy(rapporter["effekt"])
    kolumner = [f"Grupp{n:02d}" for n in range(30)]
    report["andringar"][0]["kon_alder"] = {
        "titel": "Bred tabell",
        "rader": ["före", "efter"],
        "kolumner": kolumner,
        "celler": [[700 + n for n in range(30)], [None] * 30],
        "radsummor": [21435, None],
        "kolumnsummor": [None] * 30,
        "totalt": None,
        "undertryckt": True,
    }
    text = _pdf_text(render_file(report, "pdf"))
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    words = set(text.split())
    assert [n for n in range(700, 730) if str(n) not in words] == []  # every cell is there


def test_the_command_line_writes_xlsx_pdf_and_csv_for_excel(
    run_cli: Any, ledger: Any, tmp_path: Path, beslut_dict: Any
) -> None:
    import json

    path = tmp_path / "beslut.json"
    path.write_text(json.dumps(beslut_dict()), encoding="utf-8")
    ledger.close()
    assert run_cli(["decisions", "import", str(path)]).exit_code == 0
    xlsx, pdf, csv = tmp_path / "r.xlsx", tmp_path / "r.pdf", tmp_path / "r.csv"
    for args in (
        ["--format", "xlsx", "--output", str(xlsx)],
        ["--format", "pdf", "--output", str(pdf)],
        ["--format", "csv", "--excel", "--output", str(csv)],
    ):
        done = run_cli(
            ["report", "participation", "--from", "2025-08-01", "--to", "2025-12-31", *args]
        )
        assert done.exit_code == 0, done.output
    assert str(_cells(xlsx.read_bytes())[0]).startswith("Deltagande")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbfrapport;avsnitt;")
    refused = run_cli(["report", "participation", "--format", "pdf"])
    assert refused.exit_code == 2 and "--output" in refused.output
    assert run_cli(["report", "participation", "--format", "html", "--excel"]).exit_code == 2


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(0, 3000))
def test_choosable_periods_are_ended_whole_calendar_periods(first: date, days: int) -> None:
    today = first + timedelta(days=days)
    found = perioder.choosable(first, today)
    for p in found:
        assert p.till < today and p.till >= first
        assert p.fran.day == 1 and (p.till + timedelta(days=1)).day == 1
        months = {"kvartal": 3, "halvar": 6, "ar": 12}[p.slag]
        assert (p.fran.month - 1) % months == 0
        span = (p.till.year - p.fran.year) * 12 + p.till.month - p.fran.month + 1
        assert span == months
        assert perioder.allowed(p.fran, p.till, first, today)
    # Each kind tiles the time from the first decision to the last ended period.
    for slag in perioder.SLAG:
        kind = sorted((p for p in found if p.slag == slag), key=lambda p: p.fran)
        for a, b in itertools.pairwise(kind):
            assert b.fran == a.till + timedelta(days=1)
    assert not perioder.allowed(first, today, first, today) or any(
        p.fran == first and p.till == today for p in found
    )
