"""Unique participants (besöksstatistik, individbaserad uppföljning): one person is one
participant, also on the days their records carry no pseudonym. The minimal case: under
full_14_3 a person with personnummer on kontakt and start but not on a later session was
counted twice."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from identities import personnummer
from iubledger.config import resolve
from iubledger.projections import runner
from iubledger.projections.deltagande import Participation
from iubledger.reports import facts as F
from iubledger.services import append, decisions
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

INSATS = "testkommun/1"


@pytest.fixture
def ledger(tmp_path: Path, beslut_dict: Callable[..., dict[str, Any]]) -> Iterator[Ledger]:
    s = resolve(str(tmp_path / "d"), f"sqlite:///{tmp_path / 'd' / 'l.sqlite'}")
    KeyStore(s.key_dir).init()
    opened = Ledger(s)
    decisions.import_files(opened, [("f", json.dumps(beslut_dict("full_14_3")))])
    try:
        yield opened
    finally:
        opened.close()


def send(ledger: Ledger, kind: str, datum: str, **kw: Any) -> dict[str, Any]:
    e = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": INSATS,
        "utforare": "samtalsstod",
        "datum": datum,
        **kw,
    }
    return append.event(ledger, e)


def participation(ledger: Ledger, pnr: str, day: str, *sessions: str) -> None:
    """Kontakt and start with the personnummer; later sessions without it."""
    deltagare = {"personnummer": pnr, "kon": "kvinna"}
    opened = send(ledger, "kontakt", day, informerad_om_ansokan=True, deltagare=deltagare)
    link = {"deltagande": opened["deltagande"]}
    send(ledger, "start", day, deltagare=deltagare, fakta={"folkbokford_i_kommunen": True}, **link)
    for s in sessions:
        send(ledger, "tillfalle", s, **link)


def unique(ledger: Ledger, fran: date = date(2025, 1, 1), till: date = date(2025, 12, 31)) -> int:
    """Unique participants over a window; exact within one calendar period (here the year
    2025 by default): under 14 kap. 3 § they are counted from the facts each record
    carries, so over several periods a person counts once in each (docs/guarantees.md)."""
    runner.catch_up(ledger, Participation(), ledger.transaction)
    with ledger.transaction() as session:
        return F.load(session, fran, till, {INSATS}).unique[INSATS]


def test_a_later_session_without_personnummer_is_the_same_participant(ledger: Ledger) -> None:
    anna = personnummer("850312")
    participation(ledger, anna, "2025-09-01", "2025-09-08")
    assert unique(ledger) == 1
    assert unique(ledger, date(2025, 9, 8), date(2025, 9, 8)) == 1


def test_one_person_in_two_participations_is_one_participant(ledger: Ledger) -> None:
    anna, bo = personnummer("850312"), personnummer("790101")
    participation(ledger, anna, "2025-09-01", "2025-09-08")
    participation(ledger, anna, "2025-10-01", "2025-10-08", "2025-10-15")
    assert unique(ledger) == 1
    participation(ledger, bo, "2025-10-02", "2025-10-09")
    assert unique(ledger) == 2
    assert unique(ledger, date(2025, 10, 8), date(2025, 10, 9)) == 2
