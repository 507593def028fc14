"""G8: under 14 kap. 5 § SoL (and the counts-only aggregat) the log holds no value shared
by two records of one participant, and no date or time finer than the decision's period;
the linkage that follow-ups need lives outside the log and is deleted at the end.

Checked on what `records()` and `export` give, on the raw rows of the event table, and on
the ledger's own tables; projections are rebuilt from the log alone after the link state
is gone.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select, text, update

from conftest import KATALOG, make_beslut
from iubledger.aggregates.deltagande import Deltagande
from iubledger.config import resolve
from iubledger.reports.protect import Skydd
from iubledger.schemas.base import Rejected
from iubledger.schemas.period import label, start
from iubledger.services import append, decisions, export, reports
from iubledger.store import tables
from iubledger.store.lank import Lankar, purge_idle
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

UTFORARE = "samtalsstod"
#: Fields every record of an insats may share with others: the decision stamp, the
#: event's coded facts, the period. Anything else must be unique to its record.
CODED = {
    "type",
    "insats",
    "utforare",
    "datum",
    "policy_version",
    "beslut.id",
    "beslut.version",
    "beslut.regim",
    "beslut.paragraf",
    "deltagare.kon",
    "deltagare.aldersgrupp",
    "informerad_om_ansokan",
    "utfall",
    "maende",
    "orsak",
    "besok_nr",
    "antal_besok",
    "maende_forandring",
    "samtycke.vardnadshavare",
    "samtycke.barnet_vill",
    "redigering.falt",
    "redigering.atgard",
}


def _event(kind: str, insats: str, day: date, **kw: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": f"{KATALOG}/{insats}",
        "utforare": UTFORARE,
        "datum": day.isoformat(),
    }
    if kind == "kontakt":
        e["informerad_om_ansokan"] = True
    if kind == "start":
        e["fakta"] = {"folkbokford_i_kommunen": True}
    e.update(kw)
    return e


def _person_stream(
    insats: str, first: date, sessions: int, link: str, end: str, seed: int
) -> list[dict[str, Any]]:
    """One participant: contact, start, sessions, then an end, each linked as `link` says
    (by the opening client id or, after start, by besökskod — filled in by the caller)."""
    kontakt = _event("kontakt", insats, first)
    opened = {"oppnad_av": kontakt["id"]}
    person = {"kon": ("kvinna", "man")[seed % 2], "alder": 30 + seed % 20}
    out = [kontakt, _event("start", insats, first, deltagare=person, maende=2, **opened)]
    for n in range(sessions):
        out.append(_event("tillfalle", insats, first + timedelta(days=3 + 4 * n), **opened))
    last = first + timedelta(days=5 + 4 * sessions)
    if end == "avslut":
        out.append(_event("avslut", insats, last, maende=4, **opened))
    else:
        out.append(_event("avbrott", insats, last, orsak="flyttat", **opened))
    if link == "besokskod":
        for e in out[2:]:
            e.pop("oppnad_av")
            e["besokskod"] = "__KOD__"
    return out


def _append_people(ledger: Ledger, people: list[list[dict[str, Any]]]) -> dict[str, set[str]]:
    """Append each person's stream in order, the start's besökskod filled in for the
    follow-ups that use it; the values answered once (besökskoder, participation ids)."""
    shown: dict[str, set[str]] = {"besokskod": set(), "deltagande": set()}
    for stream in people:
        kod = None
        for e in stream:
            if e.get("besokskod") == "__KOD__":
                e["besokskod"] = kod
            result = append.event(ledger, e)
            for k, values in shown.items():
                if k in result:
                    values.add(str(result[k]))
            if e["type"] == "start":
                kod = result.get("besokskod")
    return shown


def _leaves(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves(v, path)
    else:
        yield path, obj


def _decide(ledger: Ledger, regim: str, **dokumentation: Any) -> str:
    fil = make_beslut(regim, insats_id="u")
    fil["insatser"][0]["dokumentation"].update(dokumentation)
    decisions.import_files(ledger, [("g8", json.dumps(fil))])
    return "u"


people_strategy = st.lists(
    st.tuples(
        st.integers(0, 120),  # first day, days after 2025-09-01
        st.integers(0, 4),  # sessions
        st.sampled_from(["oppnad_av", "besokskod"]),
        st.sampled_from(["avslut", "avbrott"]),
    ),
    min_size=2,
    max_size=6,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=people_strategy, regim=st.sampled_from(["undantag_14_5", "aggregat"]))
def test_no_stored_value_links_two_records_and_no_date_is_finer_than_the_period(
    _initialised_data_dir: Path,
    tmp_path: Path,
    spec: list[tuple[int, int, str, str]],
    regim: str,
) -> None:
    root = tmp_path / uuid.uuid4().hex
    shutil.copytree(_initialised_data_dir, root)
    ledger = Ledger(resolve(str(root), None))
    try:
        insats = _decide(ledger, regim)
        first = date(2025, 9, 1)
        people = [
            _person_stream(
                insats,
                first + timedelta(days=d),
                n,
                link if regim == "undantag_14_5" else "oppnad_av",
                end,
                i,
            )
            for i, (d, n, link, end) in enumerate(spec)
        ]
        shown = _append_people(ledger, people)
        exported = "\n".join(export.lines(ledger))
        assert shown["besokskod"] or regim == "aggregat"
        assert not {v for v in shown["besokskod"] if v in exported}, "a besökskod is stored"
        # A participation is named by its first record's own id, found nowhere else.
        assert all(exported.count(v) == 1 for v in shown["deltagande"])
        records = [e for _, e in ledger.records() if getattr(e, "post", None) is not None]
        assert len(records) == sum(len(p) for p in people)
        seen: dict[tuple[str, Any], int] = {}
        ids = [e.originator_id for e in records]
        assert len(set(ids)) == len(ids), "two records share an aggregate id"
        assert {e.originator_version for e in records} == {1}
        for e in records:
            post = e.post
            precision = "vecka" if regim == "undantag_14_5" else "dag"
            assert post["datum"] == label(start(post["datum"]), precision)
            if precision == "vecka":
                assert re.fullmatch(r"\d{4}-W\d{2}", post["datum"])
            assert e.timestamp == datetime.combine(start(post["datum"]), datetime.min.time(), UTC)
            assert "besokskod" not in post and "deltagande" not in post
            for path, value in _leaves(post):
                if path in CODED:
                    continue
                key = (path, value)
                assert key not in seen, f"{path} is shared by two records"
                seen[key] = 1
        with ledger.transaction() as session:
            stored = [
                json.loads(r) for (r,) in session.execute(select(tables.klient_id.c.resultat))
            ]
            open_states = session.execute(select(func.count()).select_from(tables.lank)).scalar()
        assert all(set(r) == {"event_id", "position"} for r in stored)
        assert open_states == 0, "every participation ended: its link state is deleted"
    finally:
        ledger.close()


def test_the_reports_rebuild_from_the_log_alone(ledger: Ledger) -> None:
    insats = _decide(ledger, "undantag_14_5")
    people = [
        _person_stream(
            insats,
            date(2025, 9, 1) + timedelta(days=7 * i),
            2 + i % 3,
            "besokskod",
            "avslut" if i % 3 else "avbrott",
            i,
        )
        for i in range(8)
    ]
    _append_people(ledger, people)
    # Exact counts: under disclosure control the quarters' small counts are hidden.
    exact = Skydd(k=None, exakt_for="kontroll av ombyggnad")
    req = reports.Request("participation", date(2025, 9, 1), date(2025, 12, 31), skydd=exact)
    before = reports.build(ledger, req)
    with ledger.transaction() as session:
        assert session.execute(select(func.count()).select_from(tables.lank)).scalar() == 0
    reports.rebuild(ledger)
    assert reports.build(ledger, req) == before
    figures = before["insatser"][0]["nyckeltal"]
    assert figures["starter"] == 8


def test_a_follow_up_finds_its_participation_only_while_it_is_open(ledger: Ledger) -> None:
    insats = _decide(ledger, "undantag_14_5")
    day = date(2025, 9, 1)
    kontakt = _event("kontakt", insats, day)
    append.event(ledger, kontakt)
    started = append.event(
        ledger,
        _event(
            "start", insats, day, deltagare={"kon": "man", "alder": 40}, oppnad_av=kontakt["id"]
        ),
    )
    kod = started["besokskod"]
    visit = append.event(ledger, _event("tillfalle", insats, day, besokskod=kod))
    assert visit["deltagande"] == started["deltagande"]
    append.event(ledger, _event("avslut", insats, day + timedelta(days=7), besokskod=kod))
    with pytest.raises(Rejected) as refused:
        append.event(ledger, _event("tillfalle", insats, day + timedelta(days=8), besokskod=kod))
    assert refused.value.problems[0].code == "okand_besokskod"
    assert kod not in str(refused.value)
    url = ledger.settings.database_url
    if url.startswith("sqlite:///"):  # the file's bytes, free pages and WAL included
        path = Path(url.removeprefix("sqlite:///"))
        stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert kod.encode() not in stored


def test_idle_link_state_is_deleted_after_the_decisions_months(ledger: Ledger) -> None:
    insats = _decide(ledger, "undantag_14_5", lank_gallras_manader=1)
    day = date(2025, 9, 1)
    kontakt = _event("kontakt", insats, day)
    append.event(ledger, kontakt)
    append.event(
        ledger,
        _event(
            "start", insats, day, deltagare={"kon": "man", "alder": 40}, oppnad_av=kontakt["id"]
        ),
    )
    with ledger.transaction() as session:
        assert purge_idle(session, datetime.now(UTC).date()) == 0
        assert purge_idle(session, datetime.now(UTC).date() + timedelta(days=31)) == 1
        assert session.execute(select(func.count()).select_from(tables.lank_nyckel)).scalar() == 0


def test_a_day_precision_under_undantag_is_refused_naming_the_rule(ledger: Ledger) -> None:
    fil = make_beslut("undantag_14_5")
    fil["insatser"][0]["dokumentation"]["datumprecision"] = "dag"
    with pytest.raises(Rejected) as refused:
        decisions.import_files(ledger, [("g8", json.dumps(fil))])
    assert refused.value.problems[0].code == "datumprecision_dag"


@pytest.mark.parametrize("precision", ["vecka", "manad"])
def test_the_stored_date_is_the_decisions_period(ledger: Ledger, precision: str) -> None:
    insats = _decide(ledger, "undantag_14_5", datumprecision=precision)
    append.event(ledger, _event("kontakt", insats, date(2026, 4, 3)))
    line = list(export.lines(ledger))[-1]
    record = json.loads(line)
    assert record["data"]["post"]["datum"] == {"vecka": "2026-W14", "manad": "2026-04"}[precision]
    assert record["tidpunkt"] == {"vecka": "2026-03-30", "manad": "2026-04-01"}[precision] + (
        "T00:00:00+00:00"
    )


def test_aggregat_documents_no_free_text(ledger: Ledger) -> None:
    insats = _decide(ledger, "aggregat")
    with pytest.raises(Rejected) as refused:
        append.event(ledger, _event("kontakt", insats, date(2025, 9, 1), anteckning="Samtal."))
    assert refused.value.problems[0].code == "fritext_ej_tillaten"


def test_over_http_nothing_links_and_the_besokskod_is_never_exported(
    tmp_path: Path, _initialised_data_dir: Path
) -> None:
    """The same over the API: an utförare appends a participant's events, following up by
    the besökskod it was answered; tillsyn's export holds no besökskod and no shared id."""
    from api_support import client_for, event, seed
    from iubledger.api.app import create_app

    root = tmp_path / "d"
    shutil.copytree(_initialised_data_dir, root)
    settings = resolve(str(root), None)
    tokens = seed(settings)["tokens"]
    utf = {"Authorization": f"Bearer {tokens['utforare']}"}
    with client_for(create_app(settings)) as client:
        kontakt = event("kontakt", "undantag")
        assert client.post("/v1/events", json=kontakt, headers=utf).status_code == 201
        start = event(
            "start",
            "undantag",
            oppnad_av=kontakt["id"],
            deltagare={"kon": "kvinna", "alder": 44},
            fakta={"folkbokford_i_kommunen": True},
        )
        answered = client.post("/v1/events", json=start, headers=utf)
        assert answered.status_code == 201, answered.text
        kod = answered.json()["besokskod"]
        for n in range(3):
            visit = event("tillfalle", "undantag", datum=date(2025, 11, 4 + n), besokskod=kod)
            assert client.post("/v1/events", json=visit, headers=utf).status_code == 201
        resent = client.post("/v1/events", json=start, headers=utf)
        assert resent.status_code == 200 and resent.json()["besokskod"] is None
        exported = client.get(
            "/v1/export", headers={"Authorization": f"Bearer {tokens['tillsyn']}"}
        ).text
    assert kod not in exported
    records = [json.loads(line) for line in exported.splitlines() if line.strip()]
    mine = [r for r in records if r["data"].get("post", {}).get("insats", "").endswith("undantag")]
    assert len(mine) == 5
    assert len({r["id"] for r in mine}) == 5
    assert {r["data"]["post"]["datum"] for r in mine} == {"2025-W45"}


def test_an_append_deletes_idle_link_state_before_it_looks_anything_up(ledger: Ledger) -> None:
    insats = _decide(ledger, "undantag_14_5")
    day = date(2025, 9, 1)
    kontakt = _event("kontakt", insats, day)
    append.event(ledger, kontakt)
    started = append.event(
        ledger,
        _event(
            "start", insats, day, deltagare={"kon": "man", "alder": 40}, oppnad_av=kontakt["id"]
        ),
    )
    with ledger.transaction() as session:  # the decision's months of inactivity have passed
        session.execute(update(tables.lank).values(gallras=datetime.now(UTC).date()))
    with pytest.raises(Rejected) as refused:
        append.event(ledger, _event("tillfalle", insats, day, besokskod=started["besokskod"]))
    assert refused.value.problems[0].code == "okand_besokskod"
    with ledger.transaction() as session:
        assert session.execute(select(func.count()).select_from(tables.lank)).scalar() == 0


def test_an_older_stores_besokskoder_move_out_of_clear_into_the_link_state(
    ledger: Ledger,
) -> None:
    """A store made before linkage left the log kept each 14:5 participation as one stream
    and besökskod → participation in clear (`iub_besokskod`). Opening it moves each open
    participation's course into the link state, found by the keyed hash of its code, and
    drops the table; an ended one's code is simply gone."""
    insats = f"{KATALOG}/{_decide(ledger, 'undantag_14_5')}"

    def post(kind: str, **kw: Any) -> dict[str, Any]:
        return {"type": kind, "insats": insats, "utforare": UTFORARE, "datum": "2025-09-01", **kw}

    streams = []
    for ended in (False, True):
        stream = Deltagande(id=uuid.uuid4(), post=post("kontakt"))
        stream.registrera(post("start"))
        if ended:
            stream.registrera(post("avbrott", orsak="flyttat"))
        streams.append(stream)
    with ledger.locked() as (session, locked):
        ledger.write(session, locked.tree, *streams)
    opened = [str(s.id) for s in streams]
    codes = {"KOD-OPEN1": opened[0], "KOD-ENDED": opened[1]}
    with ledger.transaction() as session:
        session.execute(
            text(
                "CREATE TABLE iub_besokskod (kod VARCHAR(9) PRIMARY KEY, "
                "deltagande VARCHAR(36) NOT NULL)"
            )
        )
        for kod, pid in codes.items():
            session.execute(text("INSERT INTO iub_besokskod VALUES (:k, :d)"), {"k": kod, "d": pid})
    settings_ = ledger.settings
    ledger.close()

    reopened = Ledger(settings_)
    try:
        engine = reopened.recorder.datastore.engine  # type: ignore[attr-defined]
        assert "iub_besokskod" not in inspect(engine).get_table_names()
        with reopened.transaction() as session:
            lankar = Lankar(session, reopened.keys)
            course = lankar.get(lankar.nyckel("besokskod", "KOD-OPEN1"))
            assert course is not None and course.oppnad == opened[0]
            assert lankar.get(lankar.nyckel("post", opened[0])) is not None
            assert lankar.get(lankar.nyckel("besokskod", "KOD-ENDED")) is None
    finally:
        reopened.close()
    Ledger(settings_).close()  # opening again finds nothing left to move
