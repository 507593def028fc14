"""Renderers of report dicts: JSON, console table, tidy CSV and self-contained HTML."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iubledger.reports import begrepp, effect, participation
from iubledger.reports.render import DOLD, charts, render
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, reports
from iubledger.simulate import main_lines
from iubledger.store.ledger import Ledger

SKYDD = {
    "exakta_tal": False,
    "troskel": 5,
    "undertryckt": True,
    "text": "Antal mellan 1 och 4 redovisas inte (visas som ..), inte heller tal som skulle göra "
    "det möjligt att räkna fram dem (14 kap. 5 § SoL).",
}
MANADER = ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
NYCKELTAL = (
    "kontakter",
    "starter",
    "unika",
    "tillfallen",
    "gruppsessioner",
    "gruppnarvaro",
    "avslut",
    "avbrott",
    "hanvisningar",
    "villkor_ej_uppfyllda",
)


def tab(
    titel: str,
    rader: list[str],
    kolumner: list[str],
    celler: list[list[int | None]],
    radsummor: list[int | None],
    kolumnsummor: list[int | None],
    totalt: int | None,
) -> dict[str, Any]:
    return {
        "titel": titel,
        "rader": rader,
        "kolumner": kolumner,
        "celler": celler,
        "radsummor": radsummor,
        "kolumnsummor": kolumnsummor,
        "totalt": totalt,
        "undertryckt": True,
    }


def insats(
    ident: str, namn: str, regim: str, rad: int, markeringar: list[dict[str, Any]]
) -> dict[str, Any]:
    nyckeltal: dict[str, int | None] = {k: 10 + n for n, k in enumerate(NYCKELTAL)}
    nyckeltal["avbrott"] = None
    return {
        "insats": ident,
        "namn": namn,
        "namnd": "Socialnämnden",
        "kategori": "radgivning",
        "regim": regim,
        "uppfoljning": "besoksstatistik",
        "nyckeltal": nyckeltal,
        "andel_informerade": 92.3,
        "avbrottsandel": None,
        "maende_start": 3.1,
        "maende_slut": None,
        "markeringar": markeringar,
        "rad": rad,
    }


def marker(datum: str, version: int, regim: str | None) -> dict[str, Any]:
    return {
        "datum": datum,
        "version": version,
        "regim": regim,
        "handelse": "beslut" if regim else "upphävt",
    }


@pytest.fixture
def deltagande() -> dict[str, Any]:
    namn = ["Samtalsstöd för vuxna (SN/1)", "Mötesplats <unga> & co (SN/2)", "Föräldragrupp (SN/3)"]
    return {
        "rapport": "deltagande",
        "period": {"fran": "2025-10-01", "till": "2026-03-31", "indelning": "manad"},
        "skydd": SKYDD,
        "insatser": [
            insats(
                "SN/1",
                "Samtalsstöd för vuxna",
                "undantag_14_5",
                0,
                [
                    marker("2025-08-01", 1, "radgivning_14_4"),
                    marker("2026-03-01", 2, "undantag_14_5"),
                ],
            ),
            insats(
                "SN/2",
                "Mötesplats <unga> & co",
                "aggregat",
                1,
                [marker("2025-06-01", 1, "aggregat"), marker("2026-02-15", 2, None)],
            ),
            insats(
                "SN/3",
                "Föräldragrupp",
                "deltagardata",
                2,
                [marker("2025-01-01", 1, "deltagardata")],
            ),
        ],
        "tabeller": {
            "aktivitet": tab(
                "Aktivitet per period (tillfällen och närvaro)",
                namn,
                MANADER,
                [
                    [12, None, 9, 14, None, 11],
                    [30, 31, 28, 35, 33, 40],
                    [None, None, None, None, None, None],
                ],
                [None, 197, None],
                [None, None, None, None, None, None],
                None,
            ),
            "starter": tab(
                "Nya deltagare per period",
                namn,
                MANADER,
                [[5, 6, None, None, 7, 8], [0, 0, 0, 0, 0, 0], [None, None, 5, 6, 0, 0]],
                [None, 0, None],
                [None, 6, None, None, 7, 8],
                None,
            ),
            "alder_kon": tab(
                "Ålder och kön (start och gruppnärvaro)",
                ["13-17", "18-24", "25-34"],
                ["kvinna", "man", "uppgift_saknas"],
                [[None, 6, None], [12, 9, 0], [None, 7, None]],
                [None, 21, None],
                [20, 22, None],
                None,
            ),
            "avbrottsorsaker": tab(
                "Avbrott efter orsak",
                namn,
                ["behov_tillgodosett", "ohalsa"],
                [[None, None], [0, 0], [None, None]],
                [None, 0, None],
                [None, None],
                None,
            ),
        },
    }


@pytest.fixture
def effekt() -> dict[str, Any]:
    matt = ["Kontakter", "Nya deltagare", "Unika deltagare", "Aktivitet", "Avbrott", "Avslutade"]
    report = {
        "rapport": "effekt",
        "period": {"fran": "2025-10-01", "till": "2026-03-31"},
        "skydd": SKYDD,
        "andringar": [
            {
                "insats": "SN/1",
                "namn": "Samtalsstöd för vuxna",
                "andring": {
                    "datum": "2026-03-01",
                    "version": 2,
                    "slag": "ny version",
                    "regim_fore": "radgivning_14_4",
                    "regim_efter": "undantag_14_5",
                },
                "fonster": {
                    "fore": ["2025-07-01", "2025-12-31"],
                    "efter": ["2026-04-01", "2026-09-30"],
                    "kvartal": 2,
                    "overgangskvartal": ["2026-01-01", "2026-03-31"],
                },
                "jamforelse": tab(
                    "Före och efter",
                    ["före", "efter"],
                    matt,
                    [[20, 8, 7, 30, None, None], [25, 10, 9, 41, None, None]],
                    [None, None],
                    [45, 18, 16, 71, None, None],
                    None,
                ),
                "avbrottsandel": {"fore": None, "efter": 12.5},
                "kon_alder": tab(
                    "Nya deltagare efter kön och ålder",
                    ["före", "efter"],
                    ["kvinna|18-24", "man|18-24"],
                    [[None, 5], [6, None]],
                    [None, None],
                    [None, None],
                    11,
                ),
            },
            {
                "insats": "SN/2",
                "namn": "Mötesplats för unga",
                "andring": {
                    "datum": "2026-02-15",
                    "version": 2,
                    "slag": "upphävande",
                    "regim_fore": "aggregat",
                    "regim_efter": None,
                },
                "fonster": {
                    "fore": ["2025-07-01", "2025-12-31"],
                    "efter": ["2026-04-01", "2026-09-30"],
                    "kvartal": 2,
                    "overgangskvartal": ["2026-01-01", "2026-03-31"],
                },
                "jamforelse": tab(
                    "Före och efter",
                    ["före", "efter"],
                    matt,
                    [[None] * 6, [None] * 6],
                    [None, None],
                    [None] * 6,
                    None,
                ),
                "avbrottsandel": {"fore": None, "efter": None},
                "kon_alder": tab("Nya deltagare efter kön och ålder", [], [], [], [], [], 0),
            },
        ],
    }
    for c in report["andringar"]:
        rates = [c["avbrottsandel"]["fore"], c["avbrottsandel"]["efter"]]
        c["forandring"] = effect.forandring(c["jamforelse"]["celler"], rates)
        window = [tuple(map(date.fromisoformat, c["fonster"][s])) for s in ("fore", "efter")]
        c["bedomning"] = effect.bedomning(
            c["forandring"],
            *window,
            regim_andrad=True,
            overgang=(date(2026, 1, 1), date(2026, 3, 31)),
        )
        c["jamforelse"] = {k: c["jamforelse"][k] for k in ("titel", "rader", "kolumner", "celler")}
    report["begrepp"] = begrepp.definitions("kontakter", "maende")
    return report


@pytest.fixture
def efterlevnad() -> dict[str, Any]:
    """The shape of `audit.compliance.build`: nested records, no count tables of its own."""
    return {
        "rapport": "efterlevnad",
        "period": {"fran": "2025-10-01", "till": "2026-03-31"},
        "skydd": SKYDD,
        "sammanfattning": {"insatser": 1, "avvikelser": 1, "text": "1 kontroll visar avvikelse."},
        "insatser": [
            {
                "insats": "SN/1",
                "namn": "Samtalsstöd för vuxna",
                "regim": "undantag_14_5",
                "poster": 42,
                "kontroller": [
                    {
                        "paragraf": "11 kap. 6 § SoL",
                        "kontroll": "Informerad om rätten att ansöka",
                        "resultat": "avvikelse",
                        "detalj": "40 av 42 (95.2 %)",
                    }
                ],
            }
        ],
        "avvisade_handelser": {"paragraf": "G6", "per_regel": [{"regel": "pnr", "antal": 3}]},
        "k_anonymitet": {"k": 5, "celler": 12, "sma_celler": None, "lista": []},
        "tabell": tab("Exempel", ["a"], ["x", "y"], [[None, 7]], [None], [None, 7], None),
    }


# -- json ----------------------------------------------------------------------------------------


def test_json_round_trips(deltagande: dict[str, Any], effekt: dict[str, Any]) -> None:
    for report in (deltagande, effekt):
        out = render(report, "json")
        assert json.loads(out) == report
        assert "Före" in out or "Föräldragrupp" in out  # ensure_ascii=False
        assert out == json.dumps(report, ensure_ascii=False, indent=2)


# -- table ---------------------------------------------------------------------------------------


def test_table_participation(deltagande: dict[str, Any]) -> None:
    out = render(deltagande, "table")
    assert out.startswith("Deltagande i insatser utan individuell behovsprövning")
    assert "Period 2025-10-01 – 2026-03-31, redovisat per månad" in out
    assert " ".join(SKYDD["text"].split()) in " ".join(out.replace("│", " ").split())
    assert DOLD in out
    assert "Undantag 14 kap. 5 § (ej identitet)" in out
    assert "Andel informerade (%)" in out and "92,3" in out
    assert "Hänvisningar till nämnden" in out
    assert "2026-03-01 version 2" in out  # the decision inside the period
    assert "2025-08-01" not in out  # the one before it is not described
    assert "Mötesplats <unga> & co" in out  # no markup interpretation
    for t in ("Aktivitet per period", "Nya deltagare per period", "Ålder och kön", "Avbrott efter"):
        assert t in out
    assert "Kvinnor" in out and "Behov tillgodosett" in out
    assert max(map(len, out.splitlines())) <= 120
    # a suppressed count is never shown as zero: the Föräldragrupp activity row is all '..'
    row = next(line for line in out.splitlines() if line.startswith("│ Föräldragrupp (SN/3)"))
    assert row.count(DOLD) >= 6 and " 0 " not in row


def test_table_effect(effekt: dict[str, Any]) -> None:
    out = render(effekt, "table")
    assert "Effekt av nämndens beslut" in out
    flat = " ".join(out.replace("│", " ").split())
    assert "2026-03-01: version 2, från rådgivning (14 kap. 4 §) till undantag (14 kap. 5 §)" in out
    assert "2026-02-15: version 2, beslutet upphävt (var endast antal (14 kap. 3 och 5 §§))" in out
    assert "2025-07-01 – 2025-12-31 (före)" in flat and "2 hela kvartal vardera" in flat
    assert "övergångskvartal" in flat
    assert "Avbrottsandel (%)" in out and "12,5" in out
    # change and percent per measure: 20 → 25 kontakter is +5, +25,0 %
    assert re.search(r"Kontakter\s+20\s+25\s+\+5\s+\+25,0", flat), flat
    assert "Bedömning: Efter ändringen: nya deltagare ökade från 8 till 10, +25,0 % och " in flat
    assert "kontakter ökade från 20 till 25, +25,0 %." in flat
    assert "Förbehåll: Perioderna ligger vid olika tider på året (juli–december " in flat
    assert "Små tal (under 20)" in flat
    assert "Antalen är för små för att redovisas; ingen slutsats kan dras." in flat
    assert "Begrepp" in out and "skala från 1 till 5" in flat
    for code in ("radgivning_14_4", "undantag_14_5", "aggregat", "_"):
        assert code not in out, code
    assert "Kvinnor 18-24" in out
    assert DOLD in out
    assert " ".join(SKYDD["text"].split()) in " ".join(out.replace("│", " ").split())


counts = st.one_of(st.none(), st.integers(0, 10_000))


@given(st.lists(counts, min_size=6, max_size=6), st.lists(counts, min_size=6, max_size=6))
def test_change_is_shown_only_between_published_counts(
    fore: list[int | None], efter: list[int | None]
) -> None:
    """Change and percent per measure: efter − före and its share of före; unknown (None)
    when a side is suppressed; no percent at all from nothing before."""
    lines = effect.forandring([fore, efter], [None, None])
    assert [x["matt"] for x in lines] == [k for k, _ in effect.MATT] + ["avbrottsandel"]
    for x, f, e in zip(lines, fore, efter, strict=False):
        if f is None or e is None:
            assert x["skillnad"] is None and x["procent"] is None
        else:
            assert x["skillnad"] == e - f
            if f == 0:
                assert "procent" not in x
            else:
                assert x["procent"] == round(100 * (e - f) / f, 1)
    verdict = effect.bedomning(
        lines,
        (date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
        regim_andrad=False,
        overgang=None,
    )
    assert verdict["forbehall"][0].startswith(
        "Perioderna ligger vid olika tider på året (oktober–december jämfört med januari–mars)"
    )
    small = any(v is None or v < effect.SMA_TAL for v in (fore[0], fore[1], efter[0], efter[1]))
    assert any("Små tal" in c for c in verdict["forbehall"]) == small


def test_one_change_is_singular(effekt: dict[str, Any]) -> None:
    effekt["andringar"] = effekt["andringar"][:1]
    doc = render(effekt, "html")
    assert "före och efter 1 ändring av nämndens beslut" in doc and "1 ändringar" not in doc


def test_table_generic_and_wide_split(efterlevnad: dict[str, Any]) -> None:
    out = render(efterlevnad, "table")
    assert "Efterlevnad – underlag för tillsyn" in out
    assert "Informerad om rätten att ansöka" in out and "Avvikelse" in out
    assert "Små celler:" in out and DOLD in out
    assert " ".join(SKYDD["text"].split()) in " ".join(out.replace("│", " ").split())
    wide = {
        "rapport": "x",
        "tabell": tab(
            "Bred",
            ["r"],
            [f"k{n}" for n in range(20)],
            [list(range(20))],
            [190],
            list(range(20)),
            190,
        ),
    }
    text = render(wide, "table")
    assert "Bred (forts.)" in text and max(map(len, text.splitlines())) <= 120
    assert "Rapporten saknar uppgift om röjandeskydd." in text


# -- csv -----------------------------------------------------------------------------------------


def rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_csv_participation(deltagande: dict[str, Any]) -> None:
    out = render(deltagande, "csv")
    assert out.splitlines()[0] == "rapport,avsnitt,insats,rad,kolumn,varde"
    data = rows(out)
    per = Counter(r["avsnitt"] for r in data)
    assert per == {
        "period": 3,
        "insats": 3 * 5,
        "nyckeltal": 3 * (10 + 4),
        "beslut": 3 + 3 + 3 + 2 + 3,  # the upphävande has no regime
        "aktivitet": 3 * 6 + 3 + 6 + 1,
        "starter": 3 * 6 + 3 + 6 + 1,
        "alder_kon": 3 * 3 + 3 + 3 + 1,
        "avbrottsorsaker": 3 * 2 + 3 + 2 + 1,
        "skydd": 1,
    }
    assert len(data) == 159
    assert all(r["rapport"] == "deltagande" for r in data)
    assert data[-1] == {
        "rapport": "deltagande",
        "avsnitt": "skydd",
        "insats": "",
        "rad": "",
        "kolumn": "text",
        "varde": SKYDD["text"],
    }

    def value(avsnitt: str, rad: str, kolumn: str, insats: str | None = None) -> str:
        (hit,) = [
            r
            for r in data
            if (r["avsnitt"], r["rad"], r["kolumn"]) == (avsnitt, rad, kolumn)
            and (insats is None or r["insats"] == insats)
        ]
        return hit["varde"]

    assert value("aktivitet", "Samtalsstöd för vuxna (SN/1)", "2025-11") == DOLD
    assert value("aktivitet", "Samtalsstöd för vuxna (SN/1)", "2025-10") == "12"
    assert value("aktivitet", "Mötesplats <unga> & co (SN/2)", "totalt") == "197"
    assert value("aktivitet", "totalt", "totalt") == DOLD
    assert value("starter", "Mötesplats <unga> & co (SN/2)", "2025-10") == "0"
    assert value("nyckeltal", "", "avbrott", "SN/1") == DOLD
    assert value("nyckeltal", "", "andel_informerade", "SN/1") == "92.3"
    assert value("beslut", "2026-03-01", "regim", "SN/1") == "undantag_14_5"
    assert {r["insats"] for r in data if r["avsnitt"] == "aktivitet"} == {
        "SN/1",
        "SN/2",
        "SN/3",
        "",
    }
    assert all(r["varde"] != "" for r in data)


def test_csv_effect_and_generic(effekt: dict[str, Any], efterlevnad: dict[str, Any]) -> None:
    data = rows(render(effekt, "csv"))
    per = Counter(r["avsnitt"] for r in data)
    assert per["jamforelse 2026-03-01"] == 2 * 6 + 2
    assert per["kon_alder 2026-03-01"] == 2 * 2 + 2 + 2 + 1
    assert per["kon_alder 2026-02-15"] == 0  # an empty table has no numbers
    assert per["andring"] == 11 + 10  # the upphävande has no new regime
    assert data[-1]["avsnitt"] == "skydd" and data[-1]["varde"] == SKYDD["text"]
    hit = [r for r in data if r["avsnitt"] == "jamforelse 2026-03-01" and r["rad"] == "före"]
    assert [r["varde"] for r in hit] == ["20", "8", "7", "30", DOLD, DOLD, DOLD]

    data = rows(render(efterlevnad, "csv"))
    assert data[-1]["avsnitt"] == "skydd"
    assert any(r["avsnitt"] == "insatser/kontroller" and r["varde"] == "avvikelse" for r in data)
    assert any(r["kolumn"] == "sma_celler" and r["varde"] == DOLD for r in data)
    assert len([r for r in data if r["avsnitt"] == "tabell"]) == 2 + 1 + 2 + 1
    assert all(r["varde"] != "" for r in data)


# -- html ----------------------------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"}
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


class Structure(HTMLParser):
    """Every element closed in order; which tags occur; the text of headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.headings: list[str] = []
        self.svg_text: list[str] = []
        self.ids: Counter[str] = Counter()
        self.decl: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.ids.update(v for k, v in attrs if k == "id" and v)
        if tag in {"h1", "h2", "h3"}:
            self.headings.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.ids.update(v for k, v in attrs if k == "id" and v)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] in {"h1", "h2", "h3"}:
            self.headings[-1] += data
        if "svg" in self.stack:
            self.svg_text.append(data)


def parse(doc: str) -> Structure:
    p = Structure()
    p.feed(doc)
    p.close()
    assert p.errors == []
    assert p.stack == []
    assert p.decl == "DOCTYPE html"
    for tag in ("html", "head", "body", "title", "main", "footer", "style"):
        assert p.tags[tag] == 1, tag
    assert [i for i, n in p.ids.items() if n > 1] == []
    return p


def self_contained(doc: str) -> None:
    assert doc.startswith("<!DOCTYPE html>\n")
    assert '<html lang="sv">' in doc and '<meta charset="utf-8">' in doc
    assert set(re.findall(r"https?://[^\s\"'<>)]*", doc)) <= NAMESPACES
    lower = doc.lower()
    for bad in ("<script", "<link", "@import", "@font-face", "<img", "<iframe", "<?xml"):
        assert bad not in lower, bad
    assert "<metadata" not in doc  # matplotlib's RDF block (with its URLs) is left out


def test_html_participation(deltagande: dict[str, Any]) -> None:
    doc = render(deltagande, "html")
    self_contained(doc)
    p = parse(doc)
    main = [h for h in p.headings if h in {"Sammanfattning", "Diagram", "Tabeller"}]
    assert main == ["Sammanfattning", "Diagram", "Tabeller"]
    assert doc.index("Sammanfattning") < doc.index("<svg") < doc.index("<table")
    # two activity charts (SN/3 has no published point) and the age/gender chart
    assert p.tags["svg"] == 3
    assert "Inga redovisade värden att visa för: Föräldragrupp (SN/3)." in doc
    assert SKYDD["text"] in doc
    assert "Rapporten följer upp 3 insatser under perioden 2025-10-01 – 2026-03-31." in doc
    assert "nya deltagare: .." in doc
    # decision markers inside the period are labelled in the charts, the earlier ones are not
    svg_text = " ".join(p.svg_text)
    assert "v2 undantag 5 §" in svg_text
    assert "v2 upphävt" in svg_text
    assert "v1 " not in svg_text
    # escaping: the name with markup characters is text, never markup
    assert "Mötesplats &lt;unga&gt; &amp; co" in doc and "<unga>" not in doc
    assert 'class="tal dold"' in doc
    assert "inga uppgifter om enskildas identitet" in doc
    assert "Sammanfattning" in p.headings and "Aktivitet per månad och insats" in p.headings


def test_html_effect_and_generic(effekt: dict[str, Any], efterlevnad: dict[str, Any]) -> None:
    doc = render(effekt, "html")
    self_contained(doc)
    p = parse(doc)
    assert p.tags["svg"] == 1  # the all-suppressed comparison gets no chart
    description = "2026-03-01: version 2, från rådgivning (14 kap. 4 §) till undantag (14 kap. 5 §)"
    assert description in " ".join(p.svg_text)
    assert "jämför lika långa perioder före och efter 2 ändringar av nämndens beslut" in doc
    summary = doc[doc.index('id="sammanfattning"') : doc.index("</section>")]
    assert "Efter ändringen: nya deltagare ökade från 8 till 10" in summary
    assert "Förbehåll: Perioderna ligger vid olika tider på året" in summary
    assert SKYDD["text"] in doc
    assert "Diagram" in p.headings and "Tabeller" in p.headings

    doc = render(efterlevnad, "html")
    self_contained(doc)
    p = parse(doc)
    assert p.tags["svg"] == 0 and "Diagram" not in p.headings
    assert {"Sammanfattning", "Tabeller"} <= set(p.headings)
    assert SKYDD["text"] in doc and "Informerad om rätten att ansöka" in doc


def test_html_chart_cap(deltagande: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "MAX_DIAGRAM", 1)
    doc = render(deltagande, "html")
    assert parse(doc).tags["svg"] == 2
    assert "Diagram visas för de 1 första insatserna; övriga (1 st.) finns i tabellerna." in doc


def test_deterministic(deltagande: dict[str, Any], effekt: dict[str, Any]) -> None:
    for report in (deltagande, effekt):
        for fmt in ("table", "csv", "html"):
            assert render(report, fmt) == render(report, fmt)


def test_marker_position() -> None:
    assert charts._marker_x("2026-03-01", MANADER, "manad") == pytest.approx(4.5)
    assert charts._marker_x("2026-03-16", MANADER, "manad") == pytest.approx(4.5 + 15 / 31)
    assert charts._marker_x("2025-09-30", MANADER, "manad") is None
    assert charts._marker_x("2025-10-06", ["2025-V40", "2025-V41"], "vecka") == pytest.approx(0.5)
    assert charts._marker_x("2026-02-15", ["2025-K4", "2026-K1"], "kvartal") == pytest.approx(
        0.5 + 45 / 90
    )


def test_unknown_format(deltagande: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(deltagande, "pdf")  # type: ignore[arg-type]


# -- over the real builders ----------------------------------------------------------------------


@pytest.mark.backends
def test_builders_over_a_tiny_ledger(
    ledger: Ledger, beslut_dict: Callable[..., dict[str, Any]]
) -> None:
    """The report dicts of `participation.build` and `effect.build` render in every format."""
    first = beslut_dict("radgivning_14_4", giltig_fran="2025-08-01")
    amend = beslut_dict(
        "undantag_14_5",
        giltig_fran="2025-10-01",
        andring=True,
        diarienummer="SN 2025/2",
        paragraf="SN § 2",
        beslutsdatum="2025-09-15",
    )
    decisions.import_files(ledger, [("v1", json.dumps(first, ensure_ascii=False))])
    decisions.import_files(ledger, [("v2", json.dumps(amend, ensure_ascii=False))])
    fil = BeslutsFil.model_validate_json(json.dumps(first))
    for line in main_lines(fil, date(2025, 8, 1), date(2025, 11, 30), 1, 0.5):
        append.event(ledger, line)
    reports.project(ledger)
    index = ledger.decision_index()
    fran, till = date(2025, 8, 1), date(2025, 11, 30)
    with ledger.transaction() as session:
        p = participation.build(session, index, fran, till)
        e = effect.build(session, index, fran, till)

    doc = render(p, "html")
    self_contained(doc)
    s = parse(doc)
    assert s.tags["svg"] >= 1 and "v2 undantag 5 §" in " ".join(s.svg_text)
    assert p["skydd"]["text"] in doc
    text = render(p, "table")
    assert "Undantag 14 kap. 5 § (ej identitet)" in text
    data = rows(render(p, "csv"))
    per = Counter(r["avsnitt"] for r in data)
    for key, t in p["tabeller"].items():
        m, n = len(t["rader"]), len(t["kolumner"])
        across = m + 1 if "radsummor" in t else 0  # row sums and the grand total
        assert per[key] == (m * n + n + across if m and n else 0), key
    assert per["nyckeltal"] == 14 * len(p["insatser"])
    assert data[-1]["varde"] == p["skydd"]["text"]
    assert json.loads(render(p, "json")) == p

    assert len(e["andringar"]) == 1
    description = "2025-10-01: version 2, från rådgivning (14 kap. 4 §) till undantag (14 kap. 5 §)"
    assert description in render(e, "table")
    doc = render(e, "html")
    self_contained(doc)
    parse(doc)
    assert description in doc and e["skydd"]["text"] in doc
    assert rows(render(e, "csv"))[-1]["avsnitt"] == "skydd"


def test_a_table_of_different_measures_has_no_row_sums(deltagande: dict[str, Any]) -> None:
    """Per provider: contacts, starts and sessions side by side are summed per column only
    (a row sum would add unlike things), in every format."""
    per = tab(
        "Per tillhandahållare",
        ["Utförare A"],
        ["Kontakter", "Starter"],
        [[40, 12]],
        [],
        [40, 12],
        None,
    )
    del per["radsummor"], per["totalt"]
    deltagande["tabeller"] = {"per_tillhandahallare": per}
    out = render(deltagande, "table")
    head = next(line for line in out.splitlines() if "Kontakter" in line and "Starter" in line)
    assert "Summa" not in head
    data = [r for r in rows(render(deltagande, "csv")) if r["avsnitt"] == "per_tillhandahallare"]
    assert [(r["rad"], r["kolumn"]) for r in data if "totalt" in (r["rad"], r["kolumn"])] == [
        ("totalt", "Kontakter"),
        ("totalt", "Starter"),
    ]
