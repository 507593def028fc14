"""Decision history (11 kap. 5 § SoL, G4): versions are added, never edited.

Amending adds a version, revoking adds a revocation, and `in_force` picks the version that
governed a given day. The property at the end compares `decisions.index.in_force` with an
independent day-by-day simulation of the decisions taking effect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from iubledger.aggregates.beslut import Beslut
from iubledger.decisions.index import DecisionIndex, Entry, Upphavande, Version, in_force
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import InsatsBeslut
from iubledger.services import decisions
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

BeslutDict = Callable[..., dict[str, Any]]
ID = "testkommun/1"


def load(ledger: Ledger, *files: dict[str, Any]) -> list[tuple[str, int]]:
    sources = [(f"fil-{n}.json", json.dumps(f, ensure_ascii=False)) for n, f in enumerate(files)]
    return decisions.import_files(ledger, sources).imported


def named(fil: dict[str, Any], namn: str) -> dict[str, Any]:
    fil["insatser"][0]["namn"] = namn
    return fil


def version_no(ledger: Ledger, day: date) -> int | None:
    v = ledger.decision_index().in_force(ID, day)
    return None if v is None else v.version


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def amended_and_revoked(ledger: Ledger, beslut_dict: BeslutDict) -> Ledger:
    """v1 from 2025-08-01, v2 (amendment, undantag) from 2026-01-01, revoked from 2026-06-01."""
    assert load(ledger, named(beslut_dict(), "Samtalsstöd A")) == [(ID, 1)]
    amendment = named(beslut_dict("undantag_14_5", giltig_fran="2026-01-01", andring=True), "B")
    assert load(ledger, amendment) == [(ID, 2)]
    assert decisions.revoke(ledger, ID, d("2026-06-01"), "Insatsen upphör.") == 3
    return ledger


def test_amend_adds_version_2_and_revoke_version_3(amended_and_revoked: Ledger) -> None:
    history = amended_and_revoked.decision_index().histories[ID]
    assert [(type(e), e.version) for e in history] == [
        (Version, 1),
        (Version, 2),
        (Upphavande, 3),
    ]
    v1, v2, rev = history
    assert isinstance(v1, Version) and isinstance(v2, Version) and isinstance(rev, Upphavande)
    assert (v1.insats.namn, v1.insats.dokumentation.regim.value) == (
        "Samtalsstöd A",
        "radgivning_14_4",
    )
    assert (v1.giltig_fran, v1.giltig_till) == (d("2025-08-01"), None)
    assert (v2.insats.namn, v2.insats.dokumentation.regim.value) == ("B", "undantag_14_5")
    assert v2.giltig_fran == d("2026-01-01")
    assert (rev.fran, rev.skal) == (d("2026-06-01"), "Insatsen upphör.")
    assert v1.recorded_at < v2.recorded_at < rev.recorded_at
    assert amended_and_revoked.decision_index().latest(ID) == v2


def test_nothing_is_edited_in_the_store(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    load(ledger, named(beslut_dict(), "Samtalsstöd A"))
    first = list(ledger.recorder.select_notifications(None, 100))
    load(ledger, named(beslut_dict(giltig_fran="2026-01-01", andring=True), "B"))
    decisions.revoke(ledger, ID, d("2026-06-01"), "x")
    after = list(ledger.recorder.select_notifications(None, 100))
    assert after[: len(first)] == first  # byte-identical rows, nothing rewritten
    events = list(ledger.events.get(Beslut.create_id(ID)))
    assert [type(e).__name__ for e in events] == ["Fattat", "Andrat", "Upphavt"]
    assert events[0].innehall["insats"]["namn"] == "Samtalsstöd A"


def test_the_history_survives_reopening(amended_and_revoked: Ledger) -> None:
    reopened = Ledger(amended_and_revoked.settings)
    try:
        again = reopened.decision_index().histories
    finally:
        reopened.close()
    assert again == amended_and_revoked.decision_index().histories


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-07-31", None),
        ("2025-08-01", 1),
        ("2025-12-31", 1),
        ("2026-01-01", 2),
        ("2026-05-31", 2),
        ("2026-06-01", None),
        ("2030-01-01", None),
    ],
)
def test_in_force_around_amendment_and_revocation(
    amended_and_revoked: Ledger, day: str, expected: int | None
) -> None:
    assert version_no(amended_and_revoked, d(day)) == expected


def test_giltig_till_is_honoured(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    load(ledger, beslut_dict(giltig_till="2025-12-31"))
    assert version_no(ledger, d("2025-12-31")) == 1
    assert version_no(ledger, d("2026-01-01")) is None
    load(ledger, beslut_dict(giltig_fran="2026-03-01", giltig_till="2026-06-30"))
    assert version_no(ledger, d("2026-02-15")) is None  # the gap between two decisions
    assert version_no(ledger, d("2026-03-01")) == 2
    assert version_no(ledger, d("2026-06-30")) == 2
    assert version_no(ledger, d("2026-07-01")) is None


def test_an_amendment_ends_with_its_own_giltig_till(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    load(ledger, beslut_dict())
    load(ledger, beslut_dict(giltig_fran="2026-01-01", giltig_till="2026-03-31", andring=True))
    assert version_no(ledger, d("2025-12-31")) == 1
    assert version_no(ledger, d("2026-03-31")) == 2
    assert version_no(ledger, d("2026-04-01")) is None  # v1 does not come back


def test_as_of_hides_later_versions(amended_and_revoked: Ledger) -> None:
    index = amended_and_revoked.decision_index()
    v1, v2, rev = index.histories[ID]
    tick = timedelta(microseconds=1)
    assert index.as_of(v1.recorded_at - tick).histories == {}
    then = index.as_of(v1.recorded_at)
    assert then.histories[ID] == [v1]
    assert then.in_force(ID, d("2026-07-01")) == v1
    assert index.as_of(v2.recorded_at).in_force(ID, d("2026-07-01")) == v2
    assert index.as_of(rev.recorded_at).in_force(ID, d("2026-07-01")) is None
    assert index.as_of(datetime.now(UTC)).histories == index.histories
    assert len(index.histories[ID]) == 3  # as_of leaves the index itself alone


def test_as_of_per_decision(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    load(ledger, beslut_dict())
    moment = ledger.decision_index().histories[ID][0].recorded_at
    load(ledger, beslut_dict(insats_id="2"))
    index = ledger.decision_index()
    assert set(index.histories) == {ID, "testkommun/2"}
    assert set(index.as_of(moment).histories) == {ID}


def test_a_new_decision_after_revocation(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    load(ledger, beslut_dict())
    decisions.revoke(ledger, ID, d("2025-10-01"), "Paus.")
    with pytest.raises(Rejected) as caught:
        load(ledger, beslut_dict(giltig_fran="2025-09-30"))
    assert {p.code for p in caught.value.problems} == {"overlappande_giltighet"}
    assert load(ledger, named(beslut_dict(giltig_fran="2025-10-01"), "Ny")) == [(ID, 3)]
    assert version_no(ledger, d("2025-09-30")) == 1
    assert version_no(ledger, d("2025-10-01")) == 3
    now = ledger.decision_index().in_force(ID, d("2026-01-01"))
    assert now is not None and now.insats.namn == "Ny"
    assert load(ledger, beslut_dict(giltig_fran="2026-01-01", andring=True)) == [(ID, 4)]
    assert version_no(ledger, d("2026-01-01")) == 4


def test_a_new_decision_after_revocation_may_leave_a_gap(
    ledger: Ledger, beslut_dict: BeslutDict
) -> None:
    load(ledger, beslut_dict())
    decisions.revoke(ledger, ID, d("2025-10-01"), "Paus.")
    load(ledger, beslut_dict(giltig_fran="2025-11-01"))
    assert [version_no(ledger, d(x)) for x in ("2025-09-30", "2025-10-15", "2025-11-01")] == [
        1,
        None,
        3,
    ]


def test_versions_within_one_import(ledger: Ledger, beslut_dict: BeslutDict) -> None:
    """Two files for the same insats in one import: a decision and its amendment."""
    imported = load(ledger, beslut_dict(), beslut_dict(giltig_fran="2026-01-01", andring=True))
    assert imported == [(ID, 1), (ID, 2)]
    assert [version_no(ledger, d(x)) for x in ("2025-12-31", "2026-01-01")] == [1, 2]


# --- in_force against a day-by-day model --------------------------------------------------

INSATS = InsatsBeslut.model_validate_json(
    json.dumps(
        {
            "id": "1",
            "namn": "Samtalsstöd",
            "kategori": "radgivning",
            "insatsform": "radgivning",
            "malgrupp": "Vuxna.",
            "villkor": [{"typ": "inga_villkor"}],
            "dokumentation": {"regim": "radgivning_14_4"},
            "uppfoljning": "besoksstatistik",
            "tillhandahalls_av": {"namnd": "Socialnämnden", "utforare": ["u"]},
        }
    )
)
START = date(2025, 7, 1)
T0 = datetime(2025, 6, 1, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> list[Entry]:
    """Histories the ledger can produce: a decision, then amendments (strictly later),
    revocations (after the latest version's start) and new decisions (after a revocation,
    or after the latest version ended)."""
    gap = st.integers(0, 90).map(lambda n: timedelta(days=n))
    later = st.integers(1, 90).map(lambda n: timedelta(days=n))
    ends = st.none() | st.integers(0, 200).map(lambda n: timedelta(days=n))
    out: list[Entry] = []
    latest: Version | None = None

    def version(n: int, fran: date) -> Version:
        end = draw(ends)
        return Version(
            ID,
            n,
            fran,
            None if end is None else fran + end,
            {},
            INSATS,
            T0 + n * timedelta(hours=1),
        )

    for n in range(1, draw(st.integers(1, 7)) + 1):
        if latest is None:
            latest = version(n, START + draw(gap))
            out.append(latest)
            continue
        last = out[-1]
        kinds = ["revoke"]
        if isinstance(last, Upphavande) or latest.giltig_till is not None:
            kinds.append("decide")
        if isinstance(last, Version):
            kinds.append("amend")
        kind = draw(st.sampled_from(kinds))
        if kind == "revoke":
            fran = latest.giltig_fran + draw(later)
            out.append(Upphavande(ID, n, fran, "skäl", T0 + n * timedelta(hours=1)))
            continue
        if kind == "amend":
            latest = version(n, latest.giltig_fran + draw(later))
        elif isinstance(last, Upphavande):
            latest = version(n, last.fran + draw(gap))
        else:
            assert latest.giltig_till is not None
            latest = version(n, latest.giltig_till + draw(later))
        out.append(latest)
    return out


def timeline(history: list[Entry], until: date) -> dict[date, int | None]:
    """Walk the calendar: on each day, the entries taking effect that day act in the order
    they were recorded; a version replaces what was in force, a revocation ends the version
    in force if that version was decided before it. A version also ends after giltig_till."""
    takes_effect: dict[date, list[Entry]] = {}
    for e in history:
        takes_effect.setdefault(e.giltig_fran if isinstance(e, Version) else e.fran, []).append(e)
    answer: dict[date, int | None] = {}
    current: Version | None = None
    day = START - timedelta(days=3)
    while day <= until:
        for e in sorted(takes_effect.get(day, []), key=lambda e: e.version):
            if isinstance(e, Version):
                current = e
            elif current is not None and current.version < e.version:
                current = None
        ended = (
            current is not None and current.giltig_till is not None and day > current.giltig_till
        )
        answer[day] = None if current is None or ended else current.version
        day += timedelta(days=1)
    return answer


@hsettings(max_examples=150, deadline=None)
@given(histories())
def test_in_force_matches_a_day_by_day_model(history: list[Entry]) -> None:
    last = max(e.giltig_fran if isinstance(e, Version) else e.fran for e in history)
    expected = timeline(history, last + timedelta(days=250))
    for day, version in expected.items():
        got = in_force(history, day)
        assert (None if got is None else got.version) == version, day


@hsettings(max_examples=50, deadline=None)
@given(histories(), st.data())
def test_as_of_is_a_prefix_of_the_history(history: list[Entry], data: st.DataObject) -> None:
    index = DecisionIndex({ID: history})
    k = data.draw(st.integers(0, len(history) - 1))
    assert index.as_of(history[k].recorded_at).histories == {ID: history[: k + 1]}
