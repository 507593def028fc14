"""The write path of `serve`: readers never wait for the append lock, and concurrent single
appends are written by group commit — each caller gets exactly its own result, every line
stays atomic and idempotent, a refused line stores nothing (G5, G6), on both backends."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api_support import client_for, event, seed
from iubledger.api.app import create_app
from iubledger.api.service import Service
from iubledger.config import Settings
from iubledger.roles import Forbidden
from iubledger.schemas.base import Rejected
from iubledger.services import integrity
from iubledger.services.group import GroupCommit
from iubledger.services.integrity import verify

pytestmark = pytest.mark.backends

WAIT = 20  # seconds a call may take before the test calls it blocked


@pytest.fixture
def served(tmp_path: Path, _initialised_data_dir: Path) -> Iterator[tuple[Service, dict[str, Any]]]:
    root = tmp_path / "d"
    shutil.copytree(_initialised_data_dir, root)
    s = Settings(data_dir=root, database_url=f"sqlite:///{root / 'ledger.sqlite'}")
    seeded = seed(s)
    with client_for(create_app(s)) as client:
        yield client.app.state.service, seeded


def _key(svc: Service, seeded: dict[str, Any], name: str) -> Any:
    key = svc.keys.authenticate(seeded["tokens"][name])
    assert key is not None
    return key


# -- group commit on its own ------------------------------------------------------------


class Boom(Exception):
    pass


def _write_all(items: Sequence[int]) -> list[int]:
    if any(i < 0 for i in items):
        raise Boom(str([i for i in items if i < 0]))
    return [i * 10 for i in items]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=-3, max_value=50), min_size=1, max_size=12))
def test_each_caller_gets_its_own_outcome_or_its_own_error(items: list[int]) -> None:
    """The first write waits until every caller has queued, so the others form one group;
    a group that fails is written item by item: only the failing item's caller fails."""
    groups: list[list[int]] = []
    release = threading.Event()

    def write(batch: Sequence[int]) -> list[int]:
        groups.append(list(batch))
        release.wait(WAIT)
        return _write_all(batch)

    group: GroupCommit[int, int] = GroupCommit(write, max_items=len(items), wait=0.01)
    with ThreadPoolExecutor(len(items)) as pool:
        futures = [pool.submit(group.submit, i) for i in items]
        while sum(len(g) for g in groups) + len(group._queue) < len(items):
            threading.Event().wait(0.001)
        release.set()
        for item, future in zip(items, futures, strict=True):
            if item < 0:
                with pytest.raises(Boom) as e:
                    future.result(WAIT)
                assert str(e.value) == str([item])
            else:
                assert future.result(WAIT) == item * 10
    if len(items) > 2:  # the first group is the first caller, the others are the next
        assert max(len(g) for g in groups) > 1


def test_a_lone_caller_does_not_wait_for_a_group() -> None:
    group: GroupCommit[int, int] = GroupCommit(_write_all, max_items=500, wait=5.0)
    for i in range(20):
        assert group.submit(i) == i * 10
    assert set(group.sizes) == {1}


# -- the service: group commit over the real ledger ----------------------------------------


def test_concurrent_appends_are_grouped_and_exactly_once(
    served: tuple[Service, dict[str, Any]],
) -> None:
    """Callers of two utförare append at once while the write lock is held, so they are
    written as groups: new events, a resend of the same client id (the first result,
    marked repeated), a refused event (stores nothing) and an event of another
    organisation's insats (403) — each caller gets its own outcome."""
    svc, seeded = served
    own, other = _key(svc, seeded, "utforare"), _key(svc, seeded, "utforare_annan")
    ev = [event("kontakt") for _ in range(12)]
    calls: list[tuple[Any, dict[str, Any]]] = [(own, e) for e in ev]
    calls += [(own, ev[0]), (own, ev[5])]  # resends
    calls.append((own, event("kontakt", datum=date(1999, 1, 1))))  # no decision then
    calls.append((other, event("kontakt")))  # the other utförare's own event on our insats
    calls.append((other, event("kontakt", katalog="api-annan", utforare="annat-stod")))
    before = _log_size(svc)

    def call(key: Any, body: dict[str, Any]) -> Any:
        try:
            return svc.append(key, json.dumps(body).encode(), False)
        except (Rejected, Forbidden) as e:
            return e

    with ThreadPoolExecutor(len(calls)) as pool:
        with svc.lock:
            futures = [pool.submit(call, k, b) for k, b in calls]
            while len(svc.group._queue) < len(calls) - 1:  # the leader waits for the lock
                threading.Event().wait(0.005)
        outcomes = [f.result(WAIT) for f in futures]
    assert max(svc.group.sizes) > 1

    first = {ev[i]["id"]: outcomes[i] for i in range(12)}
    positions = [r[0]["position"] for r in outcomes[:12]]
    assert len(set(positions)) == 12 and all(p >= before for p in positions)
    assert all(not r[1] for r in outcomes[:12])
    for resend, original in ((outcomes[12], ev[0]), (outcomes[13], ev[5])):
        result, replayed = resend
        assert replayed
        assert result["event_id"] == first[original["id"]][0]["event_id"]
        assert result["position"] == first[original["id"]][0]["position"]
    assert isinstance(outcomes[14], Rejected)
    assert outcomes[14].problems[0].code == "inget_beslut"
    assert isinstance(outcomes[15], Forbidden)
    assert outcomes[16][0]["position"] not in positions and not outcomes[16][1]

    # 13 accepted events, one record each (no referral among them), nothing else stored.
    assert _log_size(svc) == before + 13
    with svc.reading() as reader:
        assert verify(reader, None).ok
    again, replayed = svc.append(own, json.dumps(ev[3]).encode(), False)
    assert replayed and again["position"] == first[ev[3]["id"]][0]["position"]


def _log_size(svc: Service) -> int:
    with svc.reading() as reader:
        return integrity.size(reader)


# -- readers never block writers -----------------------------------------------------------


def test_readers_do_not_wait_for_the_append_lock(served: tuple[Service, dict[str, Any]]) -> None:
    """With the write lock held (an append in progress), every read still answers."""
    svc, seeded = served
    tillsyn, namnd = _key(svc, seeded, "tillsyn"), _key(svc, seeded, "namnd")
    reads = [
        lambda: svc.verify(None),
        lambda: svc.report(namnd, "participation", None, None, None, "dag"),
        lambda: svc.report(tillsyn, "compliance", None, None, None),
        lambda: svc.replay(date(2025, 12, 1), None, "recorded"),
        lambda: "".join(svc.export()),
        lambda: svc.receipt(tillsyn, seeded["position"], None),
        lambda: svc.consistency(1, _log_size(svc)),
        lambda: svc.decisions(namnd),
        svc.identity_access,
    ]
    with ThreadPoolExecutor(2) as pool, svc.lock:
        for read in reads:
            pool.submit(read).result(WAIT)  # raises TimeoutError when it waits for the lock


def _held(started: Any, release: Any) -> int:
    """A long read in the worker: it runs until the test releases it."""
    started.set()
    release.wait(WAIT)
    return os.getpid()


def test_appends_do_not_wait_for_a_long_read(served: tuple[Service, dict[str, Any]]) -> None:
    """Verify, replay and reports run in the worker process: while a read there is still
    running, appends are written, and the next verify and report (queued behind it) see
    them."""
    svc, seeded = served
    own, namnd = _key(svc, seeded, "utforare"), _key(svc, seeded, "namnd")
    with multiprocessing.Manager() as manager, ThreadPoolExecutor(3) as pool:
        started, release = manager.Event(), manager.Event()
        running = pool.submit(svc.offloaded, _held, started, release)
        assert started.wait(WAIT)
        queued = pool.submit(svc.verify, None)
        report = pool.submit(svc.report, namnd, "participation", None, None, None, "dag")
        positions = []
        for _ in range(5):
            result, _ = svc.append(own, json.dumps(event("kontakt")).encode(), False)
            positions.append(result["position"])
        assert min(positions) > seeded["position"]
        assert not running.done() and not queued.done() and not report.done()
        release.set()
        assert running.result(WAIT) != os.getpid()
        assert queued.result(WAIT)["ok"]
        assert queued.result()["records"] == max(positions) + 1
        assert report.result(WAIT)


def test_a_worker_that_died_is_replaced(served: tuple[Service, dict[str, Any]]) -> None:
    """The worker of the long reads killed between two reads: the next read starts a new
    one and answers."""
    svc, _ = served
    first = svc.offloaded(os.getpid)
    assert first != os.getpid()
    os.kill(first, signal.SIGKILL)
    assert svc.verify(None)["ok"]
    assert svc.offloaded(os.getpid) not in (first, os.getpid())
