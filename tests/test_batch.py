"""A batch is its lines one by one, in one transaction.

`append_batch` checks and stages every line before it writes anything (one save, one
Merkle extension, one idempotency insert per transaction), so it could drift from `append`:
a line that opens a participation and one that follows it up in the same batch, a client
id repeated in the batch, a refused line between two accepted ones, a besökskod issued and
used in the same batch. Hypothesis edits a simulated stream (drops, repeats and spoils
lines) and cuts it into batches at random; the outcome of every line, the positions, the
stored records, the subject keys and the log must be what one-by-one appends give.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iubledger import catalogs
from iubledger.config import Settings, resolve
from iubledger.roles import Forbidden
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions
from iubledger.services.integrity import verify
from iubledger.simulate import main_lines
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

CATALOG = "alingsas"
LINES = 70
PNR = "19850312-1230"  # Luhn-valid: refused in free text outside full_14_3


@pytest.fixture(scope="module")
def lines() -> list[str]:
    fil = BeslutsFil.model_validate_json(catalogs.read(CATALOG))
    stream = main_lines(fil, date(2025, 10, 1), date(2025, 10, 20), seed=11, scale=0.3)
    return [line for _, line in zip(range(LINES), stream, strict=False)]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys and the catalog's decisions, made once; every store is a copy."""
    s = resolve(str(tmp_path_factory.mktemp("batch") / "d"), None)
    s.data_dir.mkdir(mode=0o700)
    keys = KeyStore(s.key_dir)
    keys.init()
    keys.close()
    ledger = Ledger(s)
    try:
        decisions.import_files(ledger, [(CATALOG, catalogs.read(CATALOG))])
    finally:
        ledger.close()
    return s.data_dir


class Stores:
    def __init__(self, template: Path, root: Path) -> None:
        self.template, self.root, self.n = template, root, 0

    def new(self) -> Iterator[tuple[Settings, Ledger]]:
        self.n += 1
        data_dir = self.root / f"s{self.n}"
        shutil.copytree(self.template, data_dir)
        s = resolve(str(data_dir), None)
        ledger = Ledger(s)
        try:
            yield s, ledger
        finally:
            ledger.close()


@pytest.fixture(scope="module")
def stores(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Stores:
    return Stores(template, tmp_path_factory.mktemp("stores"))


def spoil(line: str, how: str) -> str:
    if how == "json":
        return line[:-7]
    try:
        e = json.loads(line)
    except json.JSONDecodeError:
        return line  # spoiled already

    if how == "pnr_in_note":
        e["anteckning"] = f"Ring mamma, personnummer {PNR}."
    elif how == "unknown_participation":
        e["deltagande"] = "00000000-0000-4000-8000-000000000000"
        e.pop("oppnad_av", None)
        e.pop("besokskod", None)
    return json.dumps(e, ensure_ascii=False)


edits = st.lists(
    st.tuples(
        st.sampled_from(["drop", "repeat", "json", "pnr_in_note", "unknown_participation"]),
        st.integers(0, LINES - 1),
        st.integers(0, LINES - 1),
    ),
    max_size=8,
)


def edited(lines: list[str], todo: list[tuple[str, int, int]]) -> list[str]:
    out = list(lines)
    for how, i, j in todo:
        i %= len(out)
        if how == "drop":
            del out[i]
        elif how == "repeat":
            out.insert(max(i, j % len(out)), out[i])
        else:
            out[i] = spoil(out[i], how)
    return out


def outcome(r: dict[str, Any] | Rejected | Forbidden) -> tuple[Any, ...]:
    if isinstance(r, dict):
        version = r["event_id"].rsplit("/", 1)[1]
        return ("ok", r["position"], int(version), "besokskod" in r)
    if isinstance(r, Rejected):
        return ("refused", r.problems[0].code)
    return ("forbidden",)


def participations(results: list[Any]) -> list[int]:
    """Each accepted line's participation as the index of its first appearance (a resent
    line under 14 kap. 5 § answers without it: it is shown once)."""
    seen: dict[str, int] = {}
    return [
        seen.setdefault(r["deltagande"], len(seen))
        for r in results
        if isinstance(r, dict) and "deltagande" in r
    ]


def stored(s: Settings, ledger: Ledger) -> dict[str, Any]:
    types = []
    for _, ev in ledger.records():
        post = getattr(ev, "post", {})
        types.append((type(ev).__qualname__, post.get("type"), ev.originator_version))
    subject_keys = None
    if s.key_dir.joinpath("keystore.sqlite").exists():
        with sqlite3.connect(s.key_dir / "keystore.sqlite") as con:
            subject_keys = con.execute("SELECT count(*) FROM subjektnyckel").fetchone()[0]
        con.close()
    return {"records": types, "subject_keys": subject_keys}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(todo=edits, cuts=st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_a_batch_gives_what_its_lines_one_by_one_give(
    stores: Stores, lines: list[str], todo: list[tuple[str, int, int]], cuts: list[int]
) -> None:
    work = edited(lines, todo)

    def one_by_one(ledger: Ledger) -> list[Any]:
        out: list[Any] = []
        for line in work:
            try:
                out.append(append.event(ledger, line))
            except (Rejected, Forbidden) as e:
                out.append(e)
        return out

    def in_batches(ledger: Ledger) -> list[Any]:
        out: list[Any] = []
        k = 0
        for n in cuts * (len(work) // sum(cuts) + 1):
            if k >= len(work):
                break
            out += append.batch(ledger, work[k : k + n])
            k += n
        return out

    expected_stores = stores.new()
    s1, single = next(expected_stores)
    expected = one_by_one(single)
    expected_stored = stored(s1, single)
    expected_stores.close()

    batch_stores = stores.new()
    s2, batched = next(batch_stores)
    got = in_batches(batched)
    assert [outcome(r) for r in got] == [outcome(r) for r in expected]
    assert participations(got) == participations(expected)
    assert stored(s2, batched) == expected_stored
    result = verify(batched)
    assert result.ok, result.findings[:3]
    # Sending every accepted line again repeats its result exactly, except what 14 kap. 5 §
    # shows only once (the besökskod, the participation). A refused line took no client id:
    # sent again after the lines that were missing, it may be accepted, so it is not resent.
    first = [r for r in got if isinstance(r, dict)]
    accepted = [w for w, r in zip(work, got, strict=True) if isinstance(r, dict)]
    again = [r for r in append.batch(batched, accepted) if isinstance(r, dict)]
    assert len(again) == len(first)
    for a, g in zip(again, first, strict=True):
        assert a == {k: v for k, v in g.items() if k in a}
        assert set(g) - set(a) <= {"deltagande", "besokskod"}
    assert stored(s2, batched) == expected_stored
    batch_stores.close()


def test_a_refused_line_in_a_batch_leaves_no_key_and_splits_nothing(
    stores: Stores, lines: list[str]
) -> None:
    """Between a full_14_3 contact and its follow-ups in the same batch, a new participation
    refused at start (after its identity was sealed under a new subject key: the child
    does not want the insats) leaves no key behind, and the follow-ups find the
    participation their contact opened earlier in the batch."""
    full = [json.loads(x) for x in lines if '"insats":"alingsas/3.4.2"' in x]
    kontakt, kontroll, start = full
    assert kontakt["type"] == "kontakt" and start["type"] == "start"
    assert start["oppnad_av"] == kontakt["id"]
    spoilt = {
        **start,
        "id": str(UUID(int=1)),
        "deltagare": {**kontakt["deltagare"], "alder": 10},
        "samtycke": {"vardnadshavare": 2, "barnet_vill": False},
        "fakta": kontroll["fakta"],
    }
    spoilt.pop("oppnad_av")
    gen = stores.new()
    s, ledger = next(gen)
    before = stored(s, ledger)["subject_keys"]
    got = append.batch(
        ledger, [json.dumps(e, ensure_ascii=False) for e in (kontakt, spoilt, kontroll, start)]
    )
    opened, refused, checked, started = got
    assert isinstance(refused, Rejected)
    assert refused.problems[0].code == "barnets_vilja"
    assert all(isinstance(r, dict) for r in (opened, checked, started)), got
    assert started["deltagande"] == checked["deltagande"] == opened["deltagande"]
    assert started["position"] == opened["position"] + 2
    assert stored(s, ledger)["subject_keys"] == before + 1, "a key of the refused line kept"
    gen.close()
