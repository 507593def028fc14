"""What the HTTP API does with the ledger, per caller. Two Ledgers per process: the writer,
whose calls take the write lock (the Ledger is not safe for concurrent writers in one
process), and the reader, with its own connection, for everything that only reads —
reports, verify, export, replay, receipts, proofs, decisions. A reader sees the latest
commit and never waits for an append, nor an append for it.

Role checks happen twice: the route refuses a role that may never do the action
(`roles.PERMISSIONS`), and here ownership is checked where the data is known
(`roles.owns_record`, `roles.sees_decision`): an utförare appends only for its own
organisation and the insatser of its key, and reads only receipts of its own records; a
nämnd sees only its own katalog.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from sqlalchemy import text

from iubledger.aggregates.beslut import Beslut
from iubledger.api.problems import ApiError, NotFound
from iubledger.audit.replay import Grund
from iubledger.decisions.index import Version
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.reports.facts import Indelning
from iubledger.roles import Actor, Forbidden, owns_record, sees_decision
from iubledger.schemas.base import Rejected
from iubledger.schemas.post import post_of
from iubledger.services import (
    append,
    decisions,
    export,
    gallring,
    identity,
    integrity,
    offload,
    reports,
)
from iubledger.services.apikeys import ApiKey, ApiKeys
from iubledger.services.append import Outcome
from iubledger.services.group import GroupCommit
from iubledger.store.ledger import Ledger

#: Group commit of single appends: at most this many per transaction, and at most this
#: long (seconds) a group waits to fill (`services.group`).
GROUP_MAX = 500
GROUP_WAIT = 0.002

R = TypeVar("R")


class Single(NamedTuple):
    """One caller's single append, as the group commit takes it."""

    actor: Actor
    raw: bytes
    sign: bool


class Service:
    def __init__(self, ledger: Ledger, reader: Ledger, keys: ApiKeys) -> None:
        self.ledger = ledger
        self.reader = reader
        self.keys = keys
        self.lock = threading.RLock()
        self.read_lock = threading.RLock()
        self.render_lock = threading.Lock()
        self.closed = False
        self.worker = offload.Worker(ledger.settings)
        self.group: GroupCommit[Single, tuple[Outcome, bool]] = GroupCommit(
            self._append_group, max_items=GROUP_MAX, wait=GROUP_WAIT
        )

    @contextmanager
    def locked(self) -> Iterator[Ledger]:
        """The writer, under the write lock."""
        with self.lock:
            if self.closed:
                raise ApiError(503, "ej_redo", "the ledger is closing")
            yield self.ledger

    @contextmanager
    def reading(self) -> Iterator[Ledger]:
        """The reader, under its own lock (readers wait for each other, never for a writer)."""
        with self.read_lock:
            if self.closed:
                raise ApiError(503, "ej_redo", "the ledger is closing")
            yield self.reader

    def close(self) -> None:
        """Wait for the ledger calls in progress (an append finishes, a long read in the
        worker finishes), then close."""
        with self.lock, self.read_lock:
            if not self.closed:
                self.closed = True
                self.ledger.close()
                self.reader.close()
        self.worker.close()

    def offloaded(self, fn: Callable[..., R], *args: Any) -> R:
        """A long read (verify, replay, a report) in the worker process
        (`services.offload`): it never holds this process's interpreter lock or a ledger
        lock while it runs."""
        if self.closed:
            raise ApiError(503, "ej_redo", "the ledger is closing")
        return self.worker.run(fn, *args)

    def ready(self) -> bool:
        """The database answers, the keystore is there and readable, and the at-rest key
        opens a stored record (the first: one small read), so a wrong key file fails
        readiness instead of every append. Not under the ledger lock: a long append does
        not make the server unready. The reason goes to the log (type and the ledger's own
        message only)."""
        if self.closed:
            return False
        from iubledger.api.problems import log
        from iubledger.store.cipher import CipherKeyError
        from iubledger.store.keys import KeyCustodyError, KeystoreError

        try:
            with self.keys.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            self.ledger.keys.check()
            first = self.ledger.recorder.select_notifications(0, 1, inclusive_of_start=False)
            for notification in first:
                self.ledger.mapper.to_domain_event(notification)
        except (CipherKeyError, KeyCustodyError, KeystoreError) as e:
            log.warning(json.dumps({"ej_redo": type(e).__name__, "meddelande": str(e)}))
            return False
        except Exception as e:
            log.warning(json.dumps({"ej_redo": type(e).__name__}))
            return False
        return True

    # -- appending (14 kap. 3–5 § SoL through the policy layer) -----------------------

    @staticmethod
    def _receipts(ledger: Ledger, positions: list[int], sign: bool) -> dict[int, dict[str, Any]]:
        """Under the write lock, right after the append: receipts for the positions a signed
        checkpoint covers (all of them after `sign`; one look-up when none is asked for)."""
        if not positions:
            return {}
        if sign:
            integrity.checkpoint(ledger)
        latest = integrity.latest_checkpoint(ledger)
        covered = [p for p in positions if latest is not None and p < latest.tree_size]
        if not covered:
            return {}
        return dict(zip(covered, integrity.receipts(ledger, covered), strict=True))

    def append(self, key: ApiKey, raw: bytes, sign: bool) -> tuple[dict[str, Any], bool]:
        """The result (with a receipt when a signed checkpoint covers it), and whether it
        repeats the result of an earlier event with the same client id (client ids are the
        utförare's own: a repeat never returns another utförare's result). Concurrent
        callers are written together (group commit), each answered with its own result."""
        outcome, replayed = self.group.submit(Single(key.actor, raw, sign))
        if isinstance(outcome, Rejected | Forbidden):
            raise outcome
        return outcome, replayed

    def _append_group(self, items: Sequence[Single]) -> list[tuple[Outcome, bool]]:
        """Single appends of concurrent callers in one transaction (`services.group`): per
        item its outcome (with its receipt), and whether it repeats an earlier result
        (stored before, or of an item earlier in the group)."""
        with self.locked() as ledger:
            before = integrity.size(ledger)
            out = append.batch(ledger, [i.raw for i in items], [i.actor for i in items])
            positions = sorted({o["position"] for o in out if isinstance(o, dict)})
            receipts = self._receipts(ledger, positions, any(i.sign for i in items))
        seen: set[int] = set()
        answered: list[tuple[Outcome, bool]] = []
        for outcome in out:
            if isinstance(outcome, dict):
                position = outcome["position"]
                result = {**outcome, "ok": True, "receipt": receipts.get(position)}
                answered.append((result, position < before or position in seen))
                seen.add(position)
            else:
                answered.append((outcome, False))
        return answered

    def append_batch(self, key: ApiKey, items: list[Any], sign: bool) -> list[Outcome]:
        """Per item: the result or the refusal; each item atomic on its own."""
        with self.locked() as ledger:
            out = append.batch(ledger, items, key.actor)
            positions = sorted({r["position"] for r in out if isinstance(r, dict)})
            receipts = self._receipts(ledger, positions, sign)
        return [
            {**r, "ok": True, "receipt": receipts.get(r["position"])} if isinstance(r, dict) else r
            for r in out
        ]

    # -- receipts and the Merkle log (G5) ----------------------------------------------

    @staticmethod
    def _record_at(reader: Ledger, position: int) -> Any:
        """The record at a log position (positions follow notification order)."""
        table = reader.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
        query = f"SELECT id FROM {table} ORDER BY id LIMIT 1 OFFSET :p"  # noqa: S608 - own table
        with reader.transaction() as session:
            row_id = session.execute(text(query), {"p": position}).scalar()
        if row_id is None:
            return None
        found = reader.recorder.select_notifications(row_id, 1)
        return reader.mapper.to_domain_event(found[0]) if found else None

    @staticmethod
    def _owns(reader: Ledger, key: ApiKey, event: Any) -> bool:
        post = post_of(event)
        if post is not None:
            return owns_record(key.actor, post.insats, post.utforare)
        own = {
            Beslut.create_id(b)
            for b in reader.decision_index().histories
            if sees_decision(key.actor, b, named_utforare=False)
        }
        return event.originator_id in own

    def receipt(self, key: ApiKey, position: int, tree_size: int | None) -> dict[str, Any]:
        with self.reading() as reader:
            if position >= integrity.size(reader):
                raise NotFound("okand_position", "position", "no record at that position")
            if key.roll != "tillsyn" and not self._owns(
                reader, key, self._record_at(reader, position)
            ):
                raise Forbidden("the record at that position is not the key's own")
            latest = integrity.latest_checkpoint(reader)
        if tree_size is None and (latest is None or latest.tree_size <= position):
            with self.locked() as ledger:
                integrity.checkpoint(ledger)  # sign now, so a receipt is always available
        with self.reading() as reader:
            return integrity.receipt(reader, position, tree_size)

    def checkpoint(self) -> dict[str, Any]:
        with self.locked() as ledger:
            cp = integrity.checkpoint(ledger)
        if cp is None:
            raise NotFound("tom_logg", "tree_size", "the log is empty: nothing to checkpoint")
        return cp.as_json()

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        with self.reading() as ledger:
            size = integrity.size(ledger)
            if not 1 <= old <= new <= size:
                raise Rejected.one(
                    "storlek",
                    "old" if old < 1 or old > new else "new",
                    "sizes must satisfy 1 <= old <= new <= the log's size",
                )
            proof = integrity.consistency(ledger, old, new)
        return {"old_size": old, "new_size": new, "proof": proof}

    def add_cosignature(self, cosigned: str, witness: str) -> dict[str, Any]:
        with self.locked() as ledger:
            return integrity.add_cosignature(ledger, cosigned, witness)

    def verify(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        try:
            cp = Checkpoint.from_json(saved) if saved is not None else None
        except ValueError:
            raise Rejected.one(
                "checkpoint", "checkpoint", "not a checkpoint of this ledger's form"
            ) from None
        return self.offloaded(offload.verify, cp)

    def replay(self, as_of: date, tree_size: int | None, by: Grund) -> dict[str, Any]:
        return self.offloaded(offload.replay, as_of, tree_size, by)

    def export(self, page: int = 500) -> Iterator[str]:
        """Every stored record as JSON Lines, seals closed; page by page from the reader."""
        last, position = 0, 0
        while True:
            with self.reading() as ledger:
                batch = ledger.recorder.select_notifications(last, page, inclusive_of_start=False)
                events = [ledger.mapper.to_domain_event(n) for n in batch]
            if not batch:
                return
            for e in events:
                yield json.dumps(export.record(position, e), ensure_ascii=False, default=str)
                yield "\n"
                position += 1
            last = batch[-1].id

    # -- decisions (11 kap. 5 § SoL) ---------------------------------------------------

    def decisions(self, key: ApiKey) -> list[dict[str, Any]]:
        with self.reading() as ledger:
            index = ledger.decision_index()
        return decisions.history(
            index,
            lambda beslut_id, history: sees_decision(
                key.actor,
                beslut_id,
                named_utforare=any(
                    isinstance(e, Version) and key.organisation in e.insats.utforare
                    for e in history
                ),
            ),
        )

    def import_decision(self, key: ApiKey, raw: bytes) -> list[dict[str, Any]]:
        text_ = raw.decode("utf-8", errors="replace")
        with self.locked() as ledger:
            result = decisions.import_files(ledger, [("beslut", text_)], key.actor)
        return [{"beslut": b, "version": v} for b, v in result.imported]

    def revoke(self, key: ApiKey, beslut_id: str, fran: date, skal: str) -> dict[str, Any]:
        reports.in_range(fran, "fran")
        with self.locked() as ledger:
            version = decisions.revoke(ledger, beslut_id, fran, skal, key.actor)
        return {"beslut": beslut_id, "version": version}

    # -- reports ------------------------------------------------------------------------

    def report(
        self,
        key: ApiKey,
        kind: reports.Kind,
        fran: date | None,
        till: date | None,
        insatser: list[str] | None,
        indelning: Indelning = "manad",
    ) -> dict[str, Any]:
        """A nämnd sees only its own katalog, with disclosure control; tillsyn sees all."""
        namnd = key.katalog if key.roll == "namnd" else None
        req = reports.Request(kind, fran, till, insatser, namnd, indelning)
        return self.offloaded(offload.report, req)

    def render_html(self, data: dict[str, Any]) -> str:
        from iubledger.reports.render import render

        with self.render_lock:  # matplotlib figures are not drawn concurrently
            return render(data, "html")

    # -- identity recovery (14 kap. 3 § SoL, G3) ---------------------------------------

    def recover_identity(self, key: ApiKey, deltagande: UUID, skal: str) -> dict[str, Any]:
        """Open the sealed identity; the ledger records the recovery first (who, when,
        which participation, why, outcome)."""
        with self.locked() as ledger:
            opened, access = identity.recover(ledger, deltagande, skal, key.roll, key.nyckel_id)
        return {"deltagande": str(deltagande), "identitet": opened, "atkomst": access}

    def shred_identity(self, key: ApiKey, deltagande: UUID, skal: str) -> dict[str, Any]:
        """Gallring of one participation, recorded in the ledger first (14 kap. 3 § SoL)."""
        with self.locked() as ledger:
            gallring.shred(ledger, [deltagande], skal, key.roll, key.nyckel_id)
        return {"deltagande": str(deltagande), "gallrad": True}

    def identity_access(self) -> list[dict[str, Any]]:
        with self.reading() as ledger:
            return identity.accesses(ledger)

    # -- keys ----------------------------------------------------------------------------

    def create_key(self, spec: dict[str, Any]) -> tuple[str, ApiKey]:
        with self.locked():
            return self.keys.create(
                spec["roll"],
                organisation=spec.get("utforare"),
                katalog=spec.get("katalog"),
                insatser=spec.get("insatser"),
                beskrivning=spec.get("beskrivning"),
            )

    def revoke_key(self, nyckel_id: str) -> ApiKey:
        with self.locked():
            key = self.keys.revoke(nyckel_id)
        if key is None:
            raise NotFound("okand_nyckel", "nyckel_id", "no API key with that id")
        return key
