"""The bare library: an eventsourcing `Application` on eventsourcing-sqlalchemy that stores
the same number of events, of the same stored size, in the same grouping as iubledger.

No validation, no decisions, no policy layer, no cipher, no Merkle log, no aggregate cache:
what iubledger would cost if it did nothing but store its events. The events to store come
from a *mirror* of an iubledger store (`bench.iub.mirror`): for every input line the
records it added, each as (aggregate number, version, stored state bytes). A record of
version 1 creates an aggregate, a later version is a follow-up event on it; each event
carries a payload sized so that its stored state has exactly the bytes iubledger stored
(its ciphertext). Aggregates are kept in memory, so follow-ups cost no read: the bare
figure is the library's storage path alone, the strictest baseline.
"""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.measure import Clock

Group = list[tuple[int, int, int]]


class Rec(Aggregate):
    """One aggregate with an opening and a follow-up event, each carrying an opaque payload."""

    @event("Oppnad")
    def __init__(self, payload: str) -> None:
        self.n = 1

    @event("Registrerad")
    def note(self, payload: str) -> None:
        self.n += 1


class Bare(Application):
    name = "barebench"


def open_app(db_url: str) -> Bare:
    return Bare(
        env={
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": db_url,
            "CIPHER_TOPIC": "",
            "COMPRESSOR_TOPIC": "",
        }
    )


def _overheads(app: Bare) -> tuple[int, int]:
    """Stored state bytes of an opening and a follow-up event with an empty payload."""
    agg = Rec(payload="")
    agg.note(payload="")
    opened, noted = (app.mapper.to_stored_event(e) for e in agg.collect_events())
    return len(opened.state), len(noted.state)


class Player:
    """Replays a mirror into a bare application, group by group."""

    def __init__(self, app: Bare, groups: list[Group]) -> None:
        self.app = app
        self.groups = groups
        o_open, o_note = _overheads(app)
        self.payloads = [
            ["x" * max(0, size - (o_open if version == 1 else o_note)) for _, version, size in g]
            for g in groups
        ]
        self.aggregates: dict[int, Rec] = {}

    def stage(self, i: int) -> list[Rec]:
        """Trigger the events of group `i` on their aggregates; returns what to save."""
        touched: list[Rec] = []
        for (number, version, _), payload in zip(self.groups[i], self.payloads[i], strict=True):
            if version == 1:
                agg = Rec(payload=payload)
                self.aggregates[number] = agg
            else:
                agg = self.aggregates[number]
                agg.note(payload=payload)
            if all(a is not agg for a in touched):
                touched.append(agg)
        return touched

    def batches(self, start: int, stop: int, batch: int) -> None:
        """Groups [start, stop), `batch` groups per transaction: their events collected in
        order and stored by one `app.save`, as iubledger stores a batch."""
        for b in range(start, stop, batch):
            events = [
                e
                for i in range(b, min(b + batch, stop))
                for agg in self.stage(i)
                for e in agg.collect_events()
            ]
            self.app.save(*events)

    def singles(self, start: int, stop: int) -> None:
        """Groups [start, stop), one transaction (one `app.save`) each."""
        for i in range(start, stop):
            self.app.save(*self.stage(i))


def _load(mirror: str) -> list[Group]:
    with open(mirror, encoding="utf-8") as f:
        return [[tuple(r) for r in g] for g in json.load(f)["groups"]]  # type: ignore[misc]


def _stored_bytes(app: Bare) -> dict[str, Any]:
    from sqlalchemy import text

    table = app.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
    with app.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
        n, mean = session.execute(text(f"SELECT count(*), avg(length(state)) FROM {table}")).one()
    return {"stored_records": int(n), "stored_state_bytes_mean": float(mean or 0)}


def batch_import(mirror: str, db_url: str, batch: int) -> dict[str, Any]:
    """(b) bare: the mirrored events saved `batch` input lines per transaction."""
    groups = _load(mirror)
    app = open_app(db_url)
    try:
        player = Player(app, groups)
        with Clock() as clock:
            player.batches(0, len(groups), batch)
        stored = _stored_bytes(app)
    finally:
        app.close()
    return {
        "events": len(groups),
        "records": sum(len(g) for g in groups),
        "batch": batch,
        **stored,
        **clock.as_json(),
        "events_per_s": len(groups) / clock.seconds,
    }


def single_append(mirror: str, db_url: str, preload: int, sample: int) -> dict[str, Any]:
    """(a) bare: groups preload … preload+sample-1 of the mirror, one transaction each, after
    the first `preload` groups were saved in batches (untimed)."""
    groups = _load(mirror)
    if len(groups) < preload + sample:
        raise SystemExit(f"the mirror has {len(groups)} lines; needs {preload + sample}")
    app = open_app(db_url)
    try:
        player = Player(app, groups)
        player.batches(0, preload, 500)
        with Clock() as clock:
            player.singles(preload, preload + sample)
        stored = _stored_bytes(app)
    finally:
        app.close()
    return {
        "events": sample,
        "records": sum(len(g) for g in groups[preload : preload + sample]),
        "transactions": sample,
        **stored,
        **clock.as_json(),
        "events_per_s": sample / clock.seconds,
    }


def replay(db_url: str, page: int = 2000) -> dict[str, Any]:
    """Reference for (c): read the whole bare log in pages and decode every event, the
    library work under any projection rebuild (no view rows written)."""
    app = open_app(db_url)
    try:
        n = 0
        with Clock() as clock:
            last = 0
            while batch := app.recorder.select_notifications(last, page, inclusive_of_start=False):
                for notification in batch:
                    app.mapper.to_domain_event(notification)
                n += len(batch)
                last = batch[-1].id
    finally:
        app.close()
    return {"records": n, **clock.as_json(), "events_per_s": n / clock.seconds}
