"""Replay and compliance: what auditors read.

Replay answers "what did the ledger hold then": the decisions recorded by the end of a
day and the version of each in force on it (11 kap. 5 § SoL), with the projection rebuilt
from what had been recorded by then in a throw-away database — the live projection is
never touched. Recording times are set here, as an utförare would have recorded the
stream day by day; the amendment of Beroenderådgivning (alingsas/3.1.5) is recorded on
2026-03-20 and takes effect on 2026-04-01.

Compliance reads the stored posts themselves for tillsyn: no identity under 14 kap. 4–5 §§
(and counts-only) regimes, gender and age band at start (14 kap. 3 §), information about
the right to apply (11 kap. 6 §), and refused events counted by rule, never shown.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import eventsourcing.domain
import pytest
from sqlalchemy import select

from iubledger import catalogs
from iubledger.aggregates.deltagande import Deltagande
from iubledger.audit import compliance, oversikt
from iubledger.audit.replay import replay
from iubledger.config import Settings, resolve
from iubledger.projections import runner
from iubledger.projections.deltagande import aktiv, matt
from iubledger.reports.render import render
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import IDENTITY_FREE, PARAGRAF, BeslutsFil, Regim
from iubledger.schemas.period import label, start
from iubledger.services import append, decisions, demo, reports
from iubledger.simulate import simulate
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

STREAM = (date(2026, 2, 2), date(2026, 4, 30))
IMPORTED = datetime(2025, 9, 20, 10, 0, tzinfo=UTC)
AMENDMENT_RECORDED = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
AMENDED = "alingsas/3.1.5"
KATALOGER = ("alingsas", "ks-2025-510")
IDENTITY_LINE = "Inga uppgifter som kan röja identitet lagrade"


def settings_for(data_dir: Path) -> Settings:
    return resolve(str(data_dir), f"sqlite:///{(data_dir / 'ledger.sqlite').resolve()}")


def end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    """Both catalogs, merged in date order (as `demo.stream` does)."""
    out: list[dict[str, Any]] = []
    for name in KATALOGER:
        fil = BeslutsFil.model_validate_json(catalogs.read(name))
        out.extend(simulate(fil, *STREAM, seed=11, scale=0.2))
    return sorted(out, key=lambda e: e["datum"])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, events: list[dict[str, Any]]) -> Path:
    """Decisions recorded 2025-09-20; each event recorded at noon of its day; the
    amendment recorded on 2026-03-20 after that day's events. Never projected."""
    root = tmp_path_factory.mktemp("replay") / "d"
    s = settings_for(root)
    KeyStore(s.key_dir).init()
    clock = [IMPORTED]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: clock[0])
        ledger = Ledger(s)
        try:
            decisions.import_files(ledger, [(n, catalogs.read(n)) for n in KATALOGER])
            amended = False
            for e in events:
                if not amended and e["datum"] > AMENDMENT_RECORDED.date().isoformat():
                    clock[0] = AMENDMENT_RECORDED
                    decisions.import_files(ledger, [demo.amendment()])
                    amended = True
                clock[0] = datetime.combine(date.fromisoformat(e["datum"]), time(12), tzinfo=UTC)
                append.event(ledger, e)
            assert amended
        finally:
            ledger.close()
    return root


@pytest.fixture(scope="module")
def ledger(store: Path) -> Iterator[Ledger]:
    """The module store, read only."""
    opened = Ledger(settings_for(store))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def writable(store: Path, tmp_path: Path) -> Iterator[Ledger]:
    shutil.copytree(store, tmp_path / "d")
    opened = Ledger(settings_for(tmp_path / "d"))
    try:
        yield opened
    finally:
        opened.close()


def live(ledger: Ledger) -> tuple[list[Any], list[Any], list[Any]]:
    with ledger.transaction() as session:
        return (
            sorted(tuple(r) for r in session.execute(select(matt))),
            sorted(tuple(r) for r in session.execute(select(aktiv))),
            sorted(tuple(r) for r in session.execute(select(runner.tracking))),
        )


def _markers(report: dict[str, Any], insats: str) -> list[tuple[int, str]]:
    row = next(r for r in report["insatser"] if r["insats"] == insats)
    return [(m["version"], m["datum"]) for m in row["markeringar"]]


# -- replay ----------------------------------------------------------------------------------


def test_before_the_amendment_takes_effect_version_1_is_in_force(ledger: Ledger) -> None:
    data = replay(ledger, date(2026, 3, 31))
    assert data["beslut_i_kraft"][AMENDED] == {
        "version": 1,
        "regim": "radgivning_14_4",
        "giltig_fran": "2025-10-01",
    }
    # recorded on 2026-03-20, so it is known, but not yet in force
    assert _markers(data["rapport"], AMENDED) == [(1, "2025-10-01"), (2, "2026-04-01")]


def test_after_the_amendment_takes_effect_version_2_is_in_force(ledger: Ledger) -> None:
    data = replay(ledger, date(2026, 4, 2))
    assert data["beslut_i_kraft"][AMENDED] == {
        "version": 2,
        "regim": "undantag_14_5",
        "giltig_fran": "2026-04-01",
    }
    row = next(r for r in data["rapport"]["insatser"] if r["insats"] == AMENDED)
    assert row["regim"] == "undantag_14_5"


def test_before_the_amendment_was_recorded_only_version_1_exists(ledger: Ledger) -> None:
    data = replay(ledger, date(2026, 3, 10))
    assert data["beslut_i_kraft"][AMENDED]["version"] == 1
    assert _markers(data["rapport"], AMENDED) == [(1, "2025-10-01")]
    assert len(data["beslut_i_kraft"]) == 25 + 10


def test_before_anything_was_recorded_nothing_is_in_force(ledger: Ledger) -> None:
    data = replay(ledger, date(2025, 9, 1))
    assert data["beslut_i_kraft"] == {}
    assert data["poster"] == 0


@pytest.mark.parametrize("as_of", [date(2026, 3, 10), date(2026, 3, 31), date(2026, 4, 30)])
def test_replay_counts_what_was_recorded_by_then(
    ledger: Ledger, events: list[dict[str, Any]], as_of: date
) -> None:
    """Decision records by then, plus every utförare event of those days and the referral
    the ledger adds to each unclear villkor check. A record whose date is stored at a
    week or month (G8) is timestamped at that period's first day."""
    moment = end_of(as_of)
    decisions = sum(
        1 for _, e in ledger.records() if not hasattr(e, "post") and e.timestamp <= moment
    )
    index = ledger.decision_index()

    def recorded(e: dict[str, Any]) -> date:
        day = date.fromisoformat(e["datum"])
        version = index.in_force(e["insats"], day)
        assert version is not None
        return start(label(day, version.insats.dokumentation.precision))

    mine = [e for e in events if recorded(e) <= as_of]
    oklara = sum(1 for e in mine if e.get("utfall") == "oklart")
    assert replay(ledger, as_of)["poster"] == decisions + len(mine) + oklara


def test_replay_by_occurrence_counts_what_had_happened_by_then(
    ledger: Ledger, events: list[dict[str, Any]]
) -> None:
    """By the events' own dates: every record is read (so the decisions recorded later are
    known), and the report counts the kontakter that had happened by the end of the day."""
    as_of = date(2026, 3, 10)
    by_recording = replay(ledger, as_of)
    by_occurrence = replay(ledger, as_of, by="occurred")
    assert by_occurrence["by"] == "occurred" and by_recording["by"] == "recorded"
    assert by_occurrence["poster"] == sum(1 for _ in ledger.records())
    # the amendment was recorded on 2026-03-20: known by occurrence, not by recording time
    assert _markers(by_occurrence["rapport"], AMENDED) == [(1, "2025-10-01"), (2, "2026-04-01")]
    assert _markers(by_recording["rapport"], AMENDED) == [(1, "2025-10-01")]
    happened = sum(1 for e in events if e["type"] == "kontakt" and e["datum"] <= "2026-03-10")
    assert by_occurrence["rapport"]["summor"]["kontakter"] == happened
    assert "anmarkning" not in by_occurrence


def test_an_empty_replay_by_recording_time_says_why(ledger: Ledger) -> None:
    data = replay(ledger, date(2025, 9, 1))
    assert data["poster"] == 0
    assert "--by occurred" in data["anmarkning"] and "registreringstid" in data["anmarkning"]
    assert "anmarkning" not in replay(ledger, date(2026, 3, 10))


def test_command_line_replay_explains_an_empty_result(
    store: Path, settings: Settings, run_cli: Any
) -> None:
    shutil.copytree(store, settings.data_dir)
    empty = run_cli(["replay", "--as-of", "2025-09-01"])
    assert empty.exit_code == 0, empty.output
    assert "--by occurred" in " ".join(empty.stderr.split())
    by = run_cli(["replay", "--as-of", "2025-09-01", "--by", "occurred", "--format", "json"])
    assert by.exit_code == 0, by.output
    assert json.loads(by.stdout)["by"] == "occurred"
    assert run_cli(["replay", "--as-of", "2025-09-01", "--by", "never"]).exit_code == 2


def test_tree_size_limits_the_records_counted(ledger: Ledger) -> None:
    total = sum(1 for _ in ledger.records())
    leading = 0  # the decision records come first: nothing to count in the report
    for _, e in ledger.records():
        if hasattr(e, "post"):
            break
        leading += 1
    later = date(2026, 12, 31)
    for size in (1, 100, leading, total - 1, total):
        assert replay(ledger, later, tree_size=size)["poster"] == size
    assert replay(ledger, later, tree_size=total + 500)["poster"] == total
    assert replay(ledger, later, tree_size=0)["poster"] == 0

    bare = replay(ledger, later, tree_size=leading)
    assert set(bare["rapport"]["summor"].values()) == {0}
    full = replay(ledger, later)
    assert full["poster"] == total
    assert full["rapport"]["summor"]["kontakter"] != 0

    # tree_size and as_of together: the first 100 records were all recorded by then
    assert replay(ledger, date(2026, 3, 31), tree_size=100)["poster"] == 100


def test_replay_never_changes_the_live_projection(writable: Ledger) -> None:
    untouched = live(writable)
    assert untouched == ([], [], [])
    replay(writable, date(2026, 3, 31))
    assert live(writable) == untouched

    reports.project(writable)
    before = live(writable)
    assert before[0] and before[2]
    for day, size in ((date(2026, 3, 31), None), (date(2026, 4, 2), 200), (date(2025, 9, 1), None)):
        replay(writable, day, tree_size=size)
        assert live(writable) == before
    assert reports.project(writable) == 0


# -- compliance ------------------------------------------------------------------------------


def build(ledger: Ledger, till: date = STREAM[1]) -> dict[str, Any]:
    return compliance.build(ledger, ledger.decision_index(), STREAM[0], till)


@pytest.fixture(scope="module")
def clean(ledger: Ledger) -> dict[str, Any]:
    return build(ledger)


def rows_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["insats"]: r for r in report["insatser"]}


def line(row: dict[str, Any], kontroll: str) -> dict[str, Any] | None:
    found = lines(row, kontroll)
    assert len(found) <= 1
    return found[0] if found else None


def lines(row: dict[str, Any], kontroll: str) -> list[dict[str, Any]]:
    """The checks of that name: the identity check comes once per regime stored under."""
    return [x for x in row["kontroller"] if x["kontroll"] == kontroll]


def regimes() -> dict[str, str]:
    """The regime each insats is stored under, from the decision files."""
    out = {}
    for name in KATALOGER:
        for i in json.loads(catalogs.read(name))["insatser"]:
            out[f"{name}/{i['id']}"] = i["dokumentation"]["regim"]
    return out


def test_identity_scan_of_a_clean_store_finds_nothing(
    clean: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    regim = regimes()
    free = {"radgivning_14_4", "undantag_14_5", "aggregat"}
    scanned = Counter[str]()
    for insats, row in rows_of(clean).items():
        mine = [e for e in events if e["insats"] == insats]
        stored = len(mine) + sum(1 for e in mine if e.get("utfall") == "oklart")
        assert row["poster"] == stored, insats
        found = lines(row, IDENTITY_LINE)
        if not mine or regim[insats] not in free:
            assert not found, insats
            continue
        assert found, insats
        granskade = 0
        for x in found:
            assert x["paragraf"] in (PARAGRAF[r] for r in IDENTITY_FREE)
            assert x["resultat"] == "uppfyllt", (insats, x)
            assert x["detalj"].endswith("; inga identitetsuppgifter funna")
            assert (x["avvikande"], x["enhet"]) == (0, "poster")
            granskade += x["av"]
        assert granskade == stored, insats
        scanned[regim[insats]] += 1
    assert all(scanned[r] > 0 for r in free), scanned


def _post_of(ledger: Ledger, insats: str) -> dict[str, Any]:
    for _, e in ledger.records():
        post = getattr(e, "post", None)
        if post is not None and post["insats"] == insats and post["type"] == "kontakt":
            return copy.deepcopy(post)
    raise AssertionError(f"no kontakt stored for {insats}")


@pytest.mark.parametrize("insats", ["alingsas/3.1.1", "alingsas/3.2.2", "ks-2025-510/r3"])
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda p: p.setdefault("deltagare", {}).update(pseudonym="q" * 43), id="pseud"
        ),
        pytest.param(lambda p: p.setdefault("deltagare", {}).update(namn="Greta Lind"), id="namn"),
        pytest.param(lambda p: p.update(personnummer="19850312-1230"), id="pnr-top"),
    ],
)
def test_a_stored_identity_key_is_a_deviation_naming_its_position(
    writable: Ledger, clean: dict[str, Any], insats: str, tamper: Any
) -> None:
    """A post the policy layer never would have made, stored directly: under an
    identity-free regime it is reported with its log position."""
    post = _post_of(writable, insats)
    assert post["beslut"]["regim"] in ("radgivning_14_4", "undantag_14_5", "aggregat")
    tamper(post)
    with writable.locked() as (session, locked):
        (position,) = writable.write(session, locked.tree, Deltagande(id=uuid4(), post=post))
    assert position == sum(1 for _ in writable.records()) - 1

    report = build(writable)
    (found,) = (x for x in lines(rows_of(report)[insats], IDENTITY_LINE) if x["avvikande"])
    assert found["paragraf"] == PARAGRAF[Regim(post["beslut"]["regim"])]
    assert found["resultat"] == "avvikelse"
    assert "identitetsuppgifter i 1 poster" in found["detalj"]
    assert found["detalj"].endswith(f"första på position {position}")
    assert report["sammanfattning"]["avvikelser"] == clean["sammanfattning"]["avvikelser"] + 1
    others = {k: v for k, v in rows_of(report).items() if k != insats}
    assert all(
        x["resultat"] == "uppfyllt" for r in others.values() for x in lines(r, IDENTITY_LINE)
    )
    deviation = {"insats": insats, "kontroll": IDENTITY_LINE, "antal": 1, "enhet": "poster"}
    assert any(deviation.items() <= a.items() for a in report["avvikelser"])


def test_completeness_at_start_cites_14_kap_3(
    clean: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    seen = 0
    for insats, row in rows_of(clean).items():
        starts = [e for e in events if e["insats"] == insats and e["type"] == "start"]
        found = line(row, "Kön och åldersgrupp dokumenterade vid start")
        if not starts:
            assert found is None
            continue
        seen += 1
        assert found is not None, insats
        assert found["paragraf"] == "14 kap. 3 § SoL"
        assert found["resultat"] == "uppfyllt"
        assert found["detalj"] == f"{len(starts)} av {len(starts)} (100,0 %)"
    assert seen > 10


def test_informed_share_cites_11_kap_6(clean: dict[str, Any], events: list[dict[str, Any]]) -> None:
    seen = Counter[str]()
    for insats, row in rows_of(clean).items():
        kontakter = [e for e in events if e["insats"] == insats and e["type"] == "kontakt"]
        found = line(row, "Informerad om rätten att ansöka om behovsprövad insats")
        if not kontakter:
            assert found is None
            continue
        informed = sum(e["informerad_om_ansokan"] for e in kontakter)
        assert found is not None, insats
        assert found["paragraf"] == "11 kap. 6 § SoL"
        share = 100 * informed / len(kontakter)
        assert found["detalj"] == f"{informed} av {len(kontakter)} ({share:.1f} %)".replace(
            ".", ","
        )
        ok = informed == len(kontakter)
        assert found["resultat"] == ("uppfyllt" if ok else "avvikelse")
        seen[found["resultat"]] += 1
    assert seen["uppfyllt"] and seen["avvikelse"]


def test_undantag_cites_14_kap_5(clean: dict[str, Any]) -> None:
    rows = rows_of(clean)
    for insats in ("alingsas/3.2.1", "alingsas/3.3.1", AMENDED):
        found = line(rows[insats], "Särskilda skäl angivna för undantaget")
        assert found is not None
        assert found["paragraf"] == "14 kap. 5 § SoL"
        assert found["resultat"] == "uppfyllt"


NAME = "Zlatan Testsson"
NOTE = "Zlatan Testsson ringde om kvastfenan"


def _refusals() -> list[tuple[str | dict[str, Any], str]]:
    def kontakt(**fields: Any) -> dict[str, Any]:
        return {
            "id": str(uuid4()),
            "type": "kontakt",
            "insats": "alingsas/3.1.3",
            "utforare": "budget-och-skuldradgivningen",
            "datum": "2026-03-02",
            "informerad_om_ansokan": True,
            **fields,
        }

    return [
        (kontakt(insats="alingsas/9.9.9"), "inget_beslut"),
        (kontakt(insats="alingsas/9.9.9", datum="2026-03-03"), "inget_beslut"),
        (kontakt(utforare="okand-utforare"), "utforare_ej_registrerad"),
        (kontakt(deltagare={"namn": NAME, "kon": "man"}, anteckning=NOTE), "identitet_i_fritext"),
        (
            {k: v for k, v in kontakt(type="avbrott", orsak="flyttat").items() if "inf" not in k},
            "deltagande_saknas",
        ),
        ('{"id": "' + NAME + '", ', "json_invalid"),
    ]


def test_refused_events_are_counted_by_rule_without_content(writable: Ledger) -> None:
    """Refusals are counted on the day they happen (the wall clock): the period ends today."""
    assert build(writable, till=date.today())["avvisade_handelser"]["per_regel"] == []
    stored = sum(1 for _ in writable.records())
    for raw, rule in _refusals():
        with pytest.raises(Rejected) as refused:
            append.event(writable, raw)
        assert refused.value.problems[0].code == rule

    report = build(writable, till=date.today())
    expected = Counter(rule for _, rule in _refusals())
    assert report["avvisade_handelser"]["per_regel"] == [
        {"regel": r, "antal": n} for r, n in sorted(expected.items())
    ]
    assert "14 kap. 3 §" in report["avvisade_handelser"]["paragraf"]
    text = json.dumps(report, ensure_ascii=False)
    for secret in (NAME, "Zlatan", "Testsson", "kvastfenan", "9.9.9", "okand-utforare"):
        assert secret not in text
    assert sum(1 for _ in writable.records()) == stored  # nothing of them was stored


def test_command_line_compliance_table(store: Path, settings: Settings, run_cli: Any) -> None:
    shutil.copytree(store, settings.data_dir)
    result = run_cli(["report", "compliance", "--format", "table"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "14 kap. 5 §" in flat
    assert "11 kap. 6 §" in flat


def test_the_recording_clock_is_as_set(ledger: Ledger) -> None:
    """The recording clock of the store is what the replay tests assume."""
    stamps = [e.timestamp for _, e in ledger.records()]
    assert min(stamps) == IMPORTED
    assert max(stamps) <= end_of(STREAM[1])
    assert sum(1 for s in stamps if s == AMENDMENT_RECORDED) == 1
    assert all(s.tzinfo is not None for s in stamps)
    assert max(stamps) - min(stamps) > timedelta(days=200)


def test_the_report_opens_with_one_line_per_paragraph_then_the_deviations(
    clean: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    """11:5, 11:6, 14:3, 14:4, 14:5, children, villkor: met or not, with the deviations
    counted; every deviating check listed per insats and rule, with counts only."""
    overview = clean["oversikt"]
    assert [x["paragraf"] for x in overview] == [o.paragraf for o in oversikt.OMRADEN]
    by = {x["paragraf"]: x for x in overview}
    kontakter = [e for e in events if e["type"] == "kontakt"]
    uninformed = sum(1 for e in kontakter if not e["informerad_om_ansokan"])
    info = by["11 kap. 6 § SoL"]
    assert uninformed and info["resultat"] == "ej uppfyllt"
    assert (
        f"{uninformed} av {len(kontakter):,} kontakter avviker".replace(",", "\u00a0")
        in (info["text"])
    )
    bad = {
        (r["insats"], x["kontroll"]): x
        for r in clean["insatser"]
        for x in r["kontroller"]
        if x["resultat"] == "avvikelse"
    }
    listed = {(a["insats"], a["kontroll"]): a for a in clean["avvikelser"]}
    assert listed.keys() == bad.keys()
    for k, a in listed.items():
        assert (a.get("antal"), a.get("av")) == (bad[k].get("avvikande"), bad[k].get("av"))
    assert sum(x["avvikelser"] for x in overview) == len(bad)
    assert clean["sammanfattning"]["avvikelser"] == len(bad)
    for x in overview:
        expected = "ej uppfyllt" if x["avvikelser"] else ("uppfyllt", "ej tillämpligt")
        assert x["resultat"] in expected, x
    text = render(clean, "table")
    assert text.index("Översikt per lagrum") < text.index("Avvikelser per insats och regel")
    assert not re.search(r"(?<![\d ])1 (avvikelser|ändringar)", text)


def test_the_overview_of_hand_made_checks() -> None:
    """Met, not met (with the count, in the right number) and not applicable."""
    info = oversikt.kontroll(
        oversikt.INFORMATION, "Informerad", False, "", avvikande=4, av=120, enhet="kontakter"
    )
    skal = oversikt.kontroll(oversikt.UNDANTAG, "Särskilda skäl", False, "saknas")
    met = oversikt.kontroll(oversikt.BESLUT, "Beslut i kraft", True, "")
    note = oversikt.kontroll(oversikt.RADGIVNING, "k", None, "k = 2")
    checks = [("k/1", "A", [info, met, note]), ("k/2", "B", [skal, met])]
    by = {x["paragraf"]: x for x in oversikt.oversikt(checks)}
    assert by["11 kap. 6 § SoL"]["resultat"] == "ej uppfyllt"
    assert by["11 kap. 6 § SoL"]["text"].startswith("1 avvikelse i 1 insats; 4 av 120 kontakter")
    assert by["11 kap. 5 § SoL"] | {"text": ""} == {
        "paragraf": "11 kap. 5 § SoL",
        "fraga": oversikt.BESLUT.fraga,
        "resultat": "uppfyllt",
        "avvikelser": 0,
        "kontroller": 2,
        "text": "",
    }
    assert by["14 kap. 4 § SoL"]["resultat"] == "ej tillämpligt"  # information sets no bar
    assert by["14 kap. 5 § SoL"]["resultat"] == "ej uppfyllt"
    listed = oversikt.avvikelser(checks)
    assert listed == [
        {
            "insats": "k/1",
            "namn": "A",
            "paragraf": "11 kap. 6 § SoL",
            "kontroll": "Informerad",
            "antal": 4,
            "av": 120,
            "enhet": "kontakter",
        },
        {"insats": "k/2", "namn": "B", "paragraf": "14 kap. 5 § SoL", "kontroll": "Särskilda skäl"},
    ]
    summary = oversikt.sammanfattning(list(by.values()), 2)
    assert summary["avvikelser"] == 2
    assert summary["text"].startswith("2 avvikelser: 11 kap. 6 § SoL (1); 14 kap. 5 § SoL (1).")
