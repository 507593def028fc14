"""The participation projection: counts that equal what was sent, exactly once.

The pull-based runner writes the view rows and the tracking position in one transaction,
so a crash, a restart, a rebuild or a second runner never counts a record twice or not at
all. Every expectation here is computed from the simulated utförare input itself (14 kap.
3 § SoL: what was done), never from the projection code.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError
from sqlalchemy import select

from iubledger import catalogs
from iubledger.config import Settings, resolve
from iubledger.policies.personnummer import parse
from iubledger.projections import runner
from iubledger.projections.deltagande import Participation, aktiv, matt
from iubledger.reports import facts as F
from iubledger.schemas.beslut import BeslutsFil
from iubledger.schemas.period import label, start
from iubledger.services import append, decisions, reports
from iubledger.simulate import simulate
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

STREAM = (date(2026, 1, 5), date(2026, 4, 30))
SCALE = 0.3
SEED = 7
EVERYTHING = (date(2020, 1, 1), date(2030, 12, 31))
PAGE = 50

Row = tuple[Any, ...]
Dump = tuple[list[Row], list[Row], list[Row]]


def settings_for(data_dir: Path) -> Settings:
    """Settings on `data_dir` whatever the environment says."""
    return resolve(str(data_dir), f"sqlite:///{(data_dir / 'ledger.sqlite').resolve()}")


def open_copy(src: Path, dst: Path) -> Ledger:
    shutil.copytree(src, dst)
    return Ledger(settings_for(dst))


def dump(ledger: Ledger) -> Dump:
    """Every view row and tracking row, sorted."""
    with ledger.transaction() as session:
        rows = sorted(tuple(r) for r in session.execute(select(matt)))
        active = sorted(tuple(r) for r in session.execute(select(aktiv)))
        tracked = sorted(tuple(r) for r in session.execute(select(runner.tracking)))
    return rows, active, tracked


def log_size(ledger: Ledger) -> tuple[int, int]:
    """(number of records, last notification id)."""
    batch = ledger.recorder.select_notifications(0, 10**7, inclusive_of_start=False)
    return len(batch), batch[-1].id


# -- the input and the stores --------------------------------------------------------------


@pytest.fixture(scope="module")
def fil() -> BeslutsFil:
    return BeslutsFil.model_validate_json(catalogs.read("alingsas"))


@pytest.fixture(scope="module")
def events(fil: BeslutsFil) -> list[dict[str, Any]]:
    return list(simulate(fil, *STREAM, seed=SEED, scale=SCALE))


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory, events: list[dict[str, Any]]
) -> dict[str, Path]:
    """Data dirs built once, never projected: `half` holds the decisions and the first half
    of the stream, `full` all of it (the same records: a copy taken half way)."""
    root = tmp_path_factory.mktemp("projections")
    s = settings_for(root / "full")
    KeyStore(s.key_dir).init()
    ledger = Ledger(s)
    try:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
        half = len(events) // 2
        for e in events[:half]:
            append.event(ledger, e)
        ledger.close()
        shutil.copytree(root / "full", root / "half")
        ledger = Ledger(s)
        for e in events[half:]:
            append.event(ledger, e)
    finally:
        ledger.close()
    return {"full": root / "full", "half": root / "half"}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, stores: dict[str, Path]) -> Path:
    """A copy of the full store after one uninterrupted `project()`."""
    dst = tmp_path_factory.mktemp("clean") / "d"
    ledger = open_copy(stores["full"], dst)
    try:
        reports.project(ledger)
    finally:
        ledger.close()
    return dst


@pytest.fixture(scope="module")
def clean_dump(clean: Path) -> Dump:
    ledger = Ledger(settings_for(clean))
    try:
        return dump(ledger)
    finally:
        ledger.close()


@pytest.fixture
def fresh(stores: dict[str, Path], tmp_path: Path) -> Iterator[Ledger]:
    """A copy of the full store, never projected, for a test that writes."""
    ledger = open_copy(stores["full"], tmp_path / "copy")
    try:
        yield ledger
    finally:
        ledger.close()


# -- independent counts ----------------------------------------------------------------------


def band(alder: int, bredd: int) -> str:
    lo = alder - alder % bredd
    return f"{lo}-{lo + bredd - 1}"


def expected_rows(events: list[dict[str, Any]], fil: BeslutsFil) -> Counter[Row]:
    """(dag, insats, utförare, measure, value) -> count, from the input alone. Every
    event is stored under version 1; a villkorskontroll with utfall `oklart` makes the
    ledger add a referral to the nämnd (11 kap. 5 § SoL) on the same day."""
    width = {f"{fil.katalog}/{i.id}": i.dokumentation.aldersintervall for i in fil.insatser}
    precision = {f"{fil.katalog}/{i.id}": i.dokumentation.precision for i in fil.insatser}
    out: Counter[Row] = Counter()
    for e in events:
        # Counted on the first day of the period the date is stored at (G8).
        day = start(label(date.fromisoformat(e["datum"]), precision[e["insats"]]))
        key = (day, e["insats"], e["utforare"])

        def add(m: str, v: str = "", n: int = 1, key: tuple[Any, ...] = key) -> None:
            out[(*key, m, v)] += n

        add("beslutsversion", "1")
        t = e["type"]
        if t == "kontakt":
            add("kontakt")
            add("informerad", "ja" if e["informerad_om_ansokan"] else "nej")
        elif t == "villkorskontroll":
            add("villkor", e["utfall"])
            if e["utfall"] == "oklart":
                add("hanvisning")
                add("beslutsversion", "1")
        elif t == "start":
            person = e["deltagare"]
            add("start")
            add("start_kon_alder", f"{person['kon']}|{band(person['alder'], width[e['insats']])}")
            if "maende" in e:
                add("maende_start", str(e["maende"]))
            if "samtycke" in e:
                add("samtycke", str(e["samtycke"]["vardnadshavare"]))
        elif t == "tillfalle" and "grupp" in e:
            add("tillfalle", "grupp")
            for g in e["grupp"]:
                add("narvaro", f"{g['kon']}|{g['aldersgrupp']}", g["antal"])
        elif t == "tillfalle":
            add("tillfalle", "individ")
        elif t == "avbrott":
            add("avbrott", e["orsak"])
        elif t == "avslut":
            add("avslut")
            if "maende" in e:
                add("maende_slut", str(e["maende"]))
        elif t in ("hanvisning", "handelse"):
            add(t)
        else:
            raise AssertionError(f"unexpected type {t}")
    return out + unique_rows(events, fil)


def unique_rows(events: list[dict[str, Any]], fil: BeslutsFil) -> Counter[Row]:
    """Under 14 kap. 3 § (full_14_3, deltagardata) each record after contact counts its
    participant once in every calendar period it is the person's first record in; a person
    is known by the personnummer (full_14_3) from the first event that gives one, before
    that (and without one) by the participation."""
    regim = {f"{fil.katalog}/{i.id}": i.dokumentation.regim for i in fil.insatser}
    linked = {k for k, r in regim.items() if r.value in ("full_14_3", "deltagardata")}
    who: dict[str, str] = {}  # participation (opening client id) -> person
    days: dict[tuple[str, str], list[date]] = {}
    out: Counter[Row] = Counter()
    for e in events:
        if e["insats"] not in linked or "grupp" in e:
            continue
        p = e.get("oppnad_av", e["id"])
        pnr = (e.get("deltagare") or {}).get("personnummer")
        if pnr and regim[e["insats"]].value == "full_14_3" and p not in who:
            person = parse(pnr, today=date.fromisoformat(e["datum"])).normalized
            earlier = days.pop((p, e["insats"]), [])
            known = days.setdefault((person, e["insats"]), [])
            known += [d for d in earlier if d not in known]
            who[p] = person
        mine = days.setdefault((who.get(p, p), e["insats"]), [])
        if e["type"] == "kontakt":
            continue
        day = date.fromisoformat(e["datum"])
        for kind in F.KALENDERPERIODER:
            if all(F.period_of(d, kind) != F.period_of(day, kind) for d in mine):
                out[(day, e["insats"], e["utforare"], "unik", kind)] += 1
        if day not in mine:
            mine.append(day)
    return out


def per_insats(rows: Counter[Row]) -> dict[str, Counter[tuple[str, str]]]:
    out: dict[str, Counter[tuple[str, str]]] = {}
    for (_, insats, _, m, v), n in rows.items():
        out.setdefault(insats, Counter())[(m, v)] += n
    return out


def projected_rows(dumped: Dump) -> Counter[Row]:
    return Counter({tuple(r[:5]): r[5] for r in dumped[0]})


def facts_of(ledger: Ledger) -> F.Facts:
    with ledger.transaction() as session:
        return F.load(session, *EVERYTHING, None)


# -- counts equal the input --------------------------------------------------------------


def test_the_stream_reaches_every_path(events: list[dict[str, Any]]) -> None:
    """The checks below are not vacuous: the stream has every kind of post."""
    kinds = Counter(e["type"] for e in events)
    assert all(kinds[t] > 0 for t in ("kontakt", "villkorskontroll", "start", "tillfalle"))
    assert all(kinds[t] > 0 for t in ("handelse", "avbrott", "avslut", "hanvisning"))
    assert any(e.get("utfall") == "oklart" for e in events)
    assert any(e.get("utfall") == "ej_uppfyllda" for e in events)
    assert any(e["type"] == "tillfalle" and "grupp" in e for e in events)
    assert 900 <= len(events) <= 1600


def test_every_view_row_equals_the_input(
    clean_dump: Dump, events: list[dict[str, Any]], fil: BeslutsFil
) -> None:
    assert projected_rows(clean_dump) == expected_rows(events, fil)


def test_facts_equal_the_counts_of_the_input(
    clean: Path, events: list[dict[str, Any]], fil: BeslutsFil
) -> None:
    ledger = Ledger(settings_for(clean))
    try:
        facts = facts_of(ledger)
    finally:
        ledger.close()
    assert {i: +c for i, c in facts.totals.items()} == per_insats(expected_rows(events, fil))

    for insats in {e["insats"] for e in events}:
        mine = [e for e in events if e["insats"] == insats]
        got = facts.totals[insats]

        def total(m: str, got: Counter[tuple[str, str]] = got) -> int:
            return sum(n for (mm, _), n in got.items() if mm == m)

        def count(t: str, mine: list[dict[str, Any]] = mine) -> int:
            return sum(1 for e in mine if e["type"] == t)

        kontroller = [e for e in mine if e["type"] == "villkorskontroll"]
        oklara = sum(1 for e in kontroller if e["utfall"] == "oklart")
        grupp = [e for e in mine if e["type"] == "tillfalle" and "grupp" in e]
        assert got[("kontakt", "")] == count("kontakt"), insats
        informed = sum(1 for e in mine if e.get("informerad_om_ansokan") is True)
        assert got[("informerad", "ja")] == informed, insats
        assert got[("informerad", "nej")] == count("kontakt") - informed, insats
        assert got[("start", "")] == count("start"), insats
        assert got[("tillfalle", "individ")] == count("tillfalle") - len(grupp), insats
        assert got[("tillfalle", "grupp")] == len(grupp), insats
        assert total("narvaro") == sum(g["antal"] for e in grupp for g in e["grupp"]), insats
        for orsak, n in Counter(e["orsak"] for e in mine if e["type"] == "avbrott").items():
            assert got[("avbrott", orsak)] == n, (insats, orsak)
        assert total("avbrott") == count("avbrott"), insats
        assert got[("avslut", "")] == count("avslut"), insats
        assert got[("hanvisning", "")] == count("hanvisning") + oklara, insats
        for utfall in ("uppfyllda", "ej_uppfyllda", "oklart"):
            n = sum(1 for e in kontroller if e["utfall"] == utfall)
            assert got[("villkor", utfall)] == n, (insats, utfall)
        assert got[("beslutsversion", "1")] == len(mine) + oklara, insats


def test_unique_participants_are_participations_with_more_than_a_contact(
    clean: Path, events: list[dict[str, Any]], fil: BeslutsFil
) -> None:
    """A participation counts once it has any post beyond the contact; a contact alone, a
    group session given as counts, is nobody in particular. Where records link nothing
    (14 kap. 5 §, aggregat) a participant counts once, at the start; under 14 kap. 3 § a
    person (by personnummer where one is documented) counts once in the year."""
    linkless = {f"{fil.katalog}/{i.id}" for i in fil.insatser if i.dokumentation.lankfri}
    regim = {f"{fil.katalog}/{i.id}": i.dokumentation.regim.value for i in fil.insatser}
    persons: dict[str, str] = {}
    for e in events:
        pnr = (e.get("deltagare") or {}).get("personnummer")
        p = e.get("oppnad_av", e["id"])
        if pnr and regim[e["insats"]] == "full_14_3" and p not in persons:
            persons[p] = parse(pnr, today=date.fromisoformat(e["datum"])).normalized
    participations = {
        (e["insats"], persons.get(e["oppnad_av"], e["oppnad_av"]))
        for e in events
        if "oppnad_av" in e and (e["insats"] not in linkless or e["type"] == "start")
    }
    expected = Counter(insats for insats, _ in participations)
    ledger = Ledger(settings_for(clean))
    try:
        facts = facts_of(ledger)
    finally:
        ledger.close()
    assert +facts.unique == expected
    assert sum(expected.values()) > 50


# -- exactly once ----------------------------------------------------------------------------


class Crash(RuntimeError):
    pass


def _crash_in_apply(monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    """The view rows of page `at` are written (after its tracking row), then the process
    dies before the commit."""
    original = Participation.apply
    calls = Counter[str]()

    def apply(self: Participation, session: Any, events: list[Any]) -> None:
        original(self, session, events)
        calls["n"] += 1
        if calls["n"] == at:
            raise Crash(f"after the view rows of page {at}")

    monkeypatch.setattr(Participation, "apply", apply)


def _crash_in_advance(monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    """The tracking position of page `at` is written, then the process dies before its
    view rows."""
    original = runner._advance
    calls = Counter[str]()

    def advance(session: Any, name: str, old: int, new: int) -> None:
        original(session, name, old, new)
        calls["n"] += 1
        if calls["n"] == at:
            raise Crash(f"after the tracking write of page {at}")

    monkeypatch.setattr(runner, "_advance", advance)


@pytest.mark.parametrize("at", [2, 3])
@pytest.mark.parametrize("crash", [_crash_in_apply, _crash_in_advance], ids=["view", "tracking"])
def test_a_crash_inside_a_page_counts_nothing_twice(
    fresh: Ledger, clean_dump: Dump, monkeypatch: pytest.MonkeyPatch, crash: Any, at: int
) -> None:
    crash(monkeypatch, at)
    with pytest.raises(Crash):
        runner.catch_up(fresh, Participation(), fresh.transaction, page=PAGE)
    monkeypatch.undo()

    kept = fresh.recorder.select_notifications(0, PAGE * (at - 1), inclusive_of_start=False)
    rows, _, tracked = dump(fresh)
    assert tracked == [("deltagande", kept[-1].id)]  # earlier pages kept, page `at` rolled back
    posts = sum(
        1 for n in kept if any(a in n.topic for a in ("Deltagande", "Gruppsession", "Anonympost"))
    )
    assert sum(r[5] for r in rows if r[3] == "beslutsversion") == posts
    assert posts > 0 or at == 2

    records, last_id = log_size(fresh)
    assert reports.project(fresh) == records - len(kept)
    assert dump(fresh) == clean_dump
    assert dump(fresh)[2] == [("deltagande", last_id)]


def test_restart_half_way_equals_one_full_run(
    stores: dict[str, Path], tmp_path: Path, clean_dump: Dump
) -> None:
    ledger = open_copy(stores["full"], tmp_path / "copy")
    try:
        records, last_id = log_size(ledger)
        half = records // 2
        first = runner.catch_up(ledger, Participation(), ledger.transaction, page=PAGE, stop=half)
    finally:
        ledger.close()
    assert first == half

    ledger = Ledger(settings_for(tmp_path / "copy"))
    try:
        assert reports.project(ledger) == records - half
        assert reports.project(ledger) == 0
        assert dump(ledger) == clean_dump
        assert dump(ledger)[2] == [("deltagande", last_id)]
    finally:
        ledger.close()


def test_rebuild_from_zero_equals_the_incremental_rows(
    stores: dict[str, Path], events: list[dict[str, Any]], fil: BeslutsFil, tmp_path: Path
) -> None:
    """Projected while the log grew (half, then the rest appended, in small pages), then
    rebuilt from zero: the same rows, and both equal the input."""
    ledger = open_copy(stores["half"], tmp_path / "copy")
    try:
        processed = runner.catch_up(ledger, Participation(), ledger.transaction, page=37)
        for e in events[len(events) // 2 :]:
            append.event(ledger, e)
        processed += runner.catch_up(ledger, Participation(), ledger.transaction, page=37)
        incremental = dump(ledger)
        assert processed == log_size(ledger)[0]

        assert reports.rebuild(ledger) == processed
        assert dump(ledger) == incremental
    finally:
        ledger.close()
    assert projected_rows(incremental) == expected_rows(events, fil)


def test_reset_drops_rows_and_position_but_not_the_log(fresh: Ledger, clean_dump: Dump) -> None:
    reports.project(fresh)
    records = log_size(fresh)
    runner.reset(Participation(), fresh.transaction)
    assert dump(fresh) == ([], [], [])
    assert log_size(fresh) == records
    reports.project(fresh)
    assert dump(fresh) == clean_dump


def test_a_second_runner_from_the_same_position_is_refused(fresh: Ledger, clean_dump: Dump) -> None:
    """Runners A and B both start from position P; A commits first; B's page must roll
    back with ConcurrentUpdate instead of adding its counts a second time."""
    runner.catch_up(fresh, Participation(), fresh.transaction, page=PAGE, stop=120)
    started_at = dump(fresh)[2]
    calls = Counter[str]()
    a_processed = []

    def b_transaction() -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # B has read P; A runs to the end before B writes a page
            a_processed.append(
                runner.catch_up(fresh, Participation(), fresh.transaction, page=PAGE)
            )
        return fresh.transaction()

    with pytest.raises(runner.ConcurrentUpdate):
        runner.catch_up(fresh, Participation(), b_transaction, page=PAGE)

    assert started_at != dump(fresh)[2]
    assert a_processed == [log_size(fresh)[0] - 120]
    assert dump(fresh) == clean_dump
    assert reports.project(fresh) == 0
    assert dump(fresh) == clean_dump


def test_a_second_runner_racing_the_first_insert_is_refused(
    fresh: Ledger, clean_dump: Dump
) -> None:
    """From position 0 the tracking row does not exist yet: B's insert fails on the
    primary key (IntegrityError, as `runner._advance` documents) and rolls back."""
    calls = Counter[str]()

    def b_transaction() -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            runner.catch_up(fresh, Participation(), fresh.transaction, page=PAGE)
        return fresh.transaction()

    with pytest.raises((IntegrityError, runner.ConcurrentUpdate)):
        runner.catch_up(fresh, Participation(), b_transaction, page=PAGE)
    assert dump(fresh) == clean_dump
