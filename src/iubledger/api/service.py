"""What the HTTP API does with the ledger, per caller: one Ledger per process, every ledger
call under one lock (the Ledger is not safe for concurrent writers in one process).

Role checks happen twice: the route refuses a role that may never do the action
(`roles.PERMISSIONS`), and here ownership is checked where the data is known — an
utförare appends only for its own organisation and the insatser of its key, and reads only
receipts of its own records; a nämnd sees only its own katalog.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import text

from iubledger.aggregates.atkomst import ATKOMSTLOGG_ID, Identitetsatkomst
from iubledger.aggregates.beslut import Beslut
from iubledger.api.auth import ApiKey, ApiKeys
from iubledger.api.problems import ApiError, NotFound
from iubledger.decisions.index import Version, natural_key
from iubledger.integrity import checkpoints
from iubledger.integrity import log as merkle_log
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.projections.upsert import add_counts
from iubledger.roles import Forbidden, may_append, may_append_insats
from iubledger.schemas.base import Problem, Rejected
from iubledger.schemas.handelser import HANDELSE
from iubledger.store import tables
from iubledger.store.ledger import Ledger

#: Longest report period (days); longer ones are refused rather than computed.
MAX_PERIOD_DAYS = 3700
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)

Outcome = dict[str, Any] | Rejected | Forbidden


class Service:
    def __init__(self, ledger: Ledger, keys: ApiKeys) -> None:
        self.ledger = ledger
        self.keys = keys
        self.lock = threading.RLock()
        self.render_lock = threading.Lock()
        self.closed = False

    @contextmanager
    def locked(self) -> Iterator[Ledger]:
        with self.lock:
            if self.closed:
                raise ApiError(503, "ej_redo", "the ledger is closing")
            yield self.ledger

    def close(self) -> None:
        """Wait for the ledger call in progress (an append finishes), then close."""
        with self.lock:
            if not self.closed:
                self.closed = True
                self.ledger.close()

    def ready(self) -> bool:
        if self.closed:
            return False
        try:
            with self.keys.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    # -- appending (14 kap. 3–5 § SoL through the policy layer) -----------------------

    def _size(self) -> int:
        with self.ledger.transaction() as session:
            return merkle_log.load(session).size

    def _count_refusal(self) -> None:
        """Count a refusal the API makes itself, as the ledger counts its own (compliance)."""
        with self.ledger.transaction() as session:
            add_counts(
                session,
                tables.avvisning,
                ["dag", "regel"],
                "antal",
                {(datetime.now(UTC).date(), "behorighet"): 1},
            )

    def _precheck(self, key: ApiKey, raw: str | bytes) -> Forbidden | None:
        """The key's own limits. Input that does not parse goes on to the ledger, which
        refuses it with field and rule and counts it."""
        try:
            h = HANDELSE.validate_json(raw)
        except ValidationError:
            return None
        actor = key.actor
        if not may_append(actor, h.utforare):
            return Forbidden("the key may append only for its own utförare")
        if not may_append_insats(actor, h.insats):
            return Forbidden("the key is not registered for that insats")
        return None

    def _check_replay(self, key: ApiKey, result: dict[str, Any]) -> None:
        """A repeated client id returns the first result; only to the utförare that made it."""
        aggregate, _, version = result["event_id"].partition("/")
        v = int(version)
        events = list(self.ledger.events.get(UUID(aggregate), gt=v - 1, lte=v))
        post = getattr(events[0], "post", None) if events else None
        if post is None or post.get("utforare") != key.organisation:
            raise Forbidden("that client id belongs to another utförare's event")

    def _receipts(self, positions: list[int], sign: bool) -> dict[int, dict[str, Any]]:
        """Receipts for the positions a signed checkpoint covers (all of them after `sign`)."""
        if not positions:
            return {}
        if sign:
            self.ledger.checkpoint()
        with self.ledger.transaction() as session:
            latest = checkpoints.latest(session)
        covered = [p for p in positions if latest is not None and p < latest.tree_size]
        if not covered:
            return {}
        return dict(zip(covered, self.ledger.receipts(covered), strict=True))

    def append(self, key: ApiKey, raw: bytes, sign: bool) -> tuple[dict[str, Any], bool]:
        """The result (with a receipt when a signed checkpoint covers it), and whether it
        repeats the result of an earlier event with the same client id."""
        with self.locked() as ledger:
            before = self._size()
            if (refused := self._precheck(key, raw)) is not None:
                self._count_refusal()
                raise refused
            result = ledger.append(raw, key.actor)
            replayed = result["position"] < before
            if replayed:
                try:
                    self._check_replay(key, result)
                except Forbidden:
                    self._count_refusal()
                    raise
            receipt = self._receipts([result["position"]], sign).get(result["position"])
        return {**result, "ok": True, "receipt": receipt}, replayed

    def append_batch(self, key: ApiKey, items: list[Any], sign: bool) -> list[Outcome]:
        """Per item: the result or the refusal; each item atomic on its own."""
        with self.locked() as ledger:
            before = self._size()
            out: list[Outcome | None] = [None] * len(items)
            todo: list[tuple[int, str]] = []
            for i, item in enumerate(items):
                raw = json.dumps(item, ensure_ascii=False)
                if (refused := self._precheck(key, raw)) is not None:
                    self._count_refusal()
                    out[i] = refused
                else:
                    todo.append((i, raw))
            results = ledger.append_batch([raw for _, raw in todo], key.actor) if todo else []
            for (i, _), r in zip(todo, results, strict=True):
                if isinstance(r, dict) and r["position"] < before:
                    try:
                        self._check_replay(key, r)
                    except Forbidden as e:
                        self._count_refusal()
                        r = e
                out[i] = r
            positions = sorted({r["position"] for r in out if isinstance(r, dict)})
            receipts = self._receipts(positions, sign)
        done: list[Outcome] = []
        for r in out:
            assert r is not None
            if isinstance(r, dict):
                r = {**r, "ok": True, "receipt": receipts.get(r["position"])}
            done.append(r)
        return done

    # -- receipts and the Merkle log (G5) ----------------------------------------------

    def _record_at(self, position: int) -> Any:
        """The record at a log position (positions follow notification order)."""
        table = self.ledger.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
        query = f"SELECT id FROM {table} ORDER BY id LIMIT 1 OFFSET :p"  # noqa: S608 - own table
        with self.ledger.transaction() as session:
            row_id = session.execute(text(query), {"p": position}).scalar()
        if row_id is None:
            return None
        found = self.ledger.recorder.select_notifications(row_id, 1)
        return self.ledger.mapper.to_domain_event(found[0]) if found else None

    def _owns(self, key: ApiKey, event: Any) -> bool:
        if key.roll == "tillsyn":
            return True
        post = getattr(event, "post", None)
        if key.roll == "utforare":
            return post is not None and post.get("utforare") == key.organisation
        if key.roll == "namnd" and key.katalog is not None:
            if post is not None:
                return str(post.get("insats", "")).split("/", 1)[0] == key.katalog
            own = {
                Beslut.create_id(b)
                for b in self.ledger.decision_index().histories
                if b.split("/", 1)[0] == key.katalog
            }
            return event.originator_id in own
        return False

    def receipt(self, key: ApiKey, position: int, tree_size: int | None) -> dict[str, Any]:
        with self.locked() as ledger:
            if position >= self._size():
                raise NotFound("okand_position", "position", "no record at that position")
            if key.roll != "tillsyn" and not self._owns(key, self._record_at(position)):
                raise Forbidden("the record at that position is not the key's own")
            if tree_size is None:
                with ledger.transaction() as session:
                    latest = checkpoints.latest(session)
                if latest is None or latest.tree_size <= position:
                    ledger.checkpoint()  # sign now, so a receipt is always available
            return ledger.receipt(position, tree_size)

    def checkpoint(self) -> dict[str, Any]:
        with self.locked() as ledger:
            cp = ledger.checkpoint()
        if cp is None:
            raise NotFound("tom_logg", "tree_size", "the log is empty: nothing to checkpoint")
        return cp.as_json()

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        with self.locked() as ledger:
            size = self._size()
            if not 1 <= old <= new <= size:
                raise Rejected(
                    [
                        Problem(
                            "storlek",
                            "old" if old < 1 or old > new else "new",
                            "sizes must satisfy 1 <= old <= new <= the log's size",
                        )
                    ]
                )
            proof = ledger.consistency(old, new)
        return {"old_size": old, "new_size": new, "proof": proof}

    def verify(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        from iubledger.integrity.verify import verify

        try:
            cp = Checkpoint.from_json(saved) if saved is not None else None
        except ValueError:
            raise Rejected(
                [Problem("checkpoint", "checkpoint", "not a checkpoint of this ledger's form")]
            ) from None
        with self.locked() as ledger:
            return verify(ledger, cp).as_json()

    def replay(self, as_of: date, tree_size: int | None) -> dict[str, Any]:
        from iubledger.audit.replay import replay

        _in_range(as_of, "as_of")
        with self.locked() as ledger:
            index = ledger.decision_index()
            first = index.first_day()
            if first is not None and as_of - first > timedelta(days=MAX_PERIOD_DAYS):
                raise Rejected(
                    [
                        Problem(
                            "period_for_lang",
                            "as_of",
                            f"a replay covers at most {MAX_PERIOD_DAYS} days of decisions",
                        )
                    ]
                )
            return replay(ledger, as_of, tree_size)

    def export(self, page: int = 500) -> Iterator[str]:
        """Every stored record as JSON Lines, seals closed; page by page under the lock."""
        from iubledger.cli import export_record

        last, position = 0, 0
        while True:
            with self.locked() as ledger:
                batch = ledger.recorder.select_notifications(last, page, inclusive_of_start=False)
                events = [ledger.mapper.to_domain_event(n) for n in batch]
            if not batch:
                return
            for e in events:
                yield json.dumps(export_record(position, e), ensure_ascii=False, default=str)
                yield "\n"
                position += 1
            last = batch[-1].id

    # -- decisions (11 kap. 5 § SoL) ---------------------------------------------------

    def _sees_decision(self, key: ApiKey, beslut_id: str, history: list[Any]) -> bool:
        if key.roll == "tillsyn":
            return True
        if key.roll == "namnd":
            return beslut_id.split("/", 1)[0] == key.katalog
        if key.roll == "utforare":
            if key.insatser is not None and beslut_id not in key.insatser:
                return False
            return any(
                isinstance(e, Version) and key.organisation in e.insats.tillhandahalls_av.utforare
                for e in history
            )
        return False

    def decisions(self, key: ApiKey) -> list[dict[str, Any]]:
        with self.locked() as ledger:
            index = ledger.decision_index()
        return [
            e.as_json()
            for beslut_id, history in sorted(
                index.histories.items(), key=lambda kv: natural_key(kv[0])
            )
            if self._sees_decision(key, beslut_id, history)
            for e in history
        ]

    def import_decision(self, key: ApiKey, raw: bytes) -> list[dict[str, Any]]:
        text_ = raw.decode("utf-8", errors="replace")
        with self.locked() as ledger:
            result = ledger.import_decisions([("beslut", text_)], key.actor)
        return [{"beslut": b, "version": v} for b, v in result.imported]

    def revoke(self, key: ApiKey, beslut_id: str, fran: date, skal: str) -> dict[str, Any]:
        _in_range(fran, "fran")
        with self.locked() as ledger:
            version = ledger.revoke_decision(beslut_id, fran, skal, key.actor)
        return {"beslut": beslut_id, "version": version}

    # -- reports ------------------------------------------------------------------------

    def report(
        self,
        key: ApiKey,
        kind: str,
        fran: date | None,
        till: date | None,
        insatser: list[str] | None,
        indelning: str = "manad",
    ) -> dict[str, Any]:
        """A nämnd sees only its own katalog, with disclosure control; tillsyn sees all."""
        from iubledger.audit import compliance
        from iubledger.reports import effect, participation

        namnd = key.katalog if key.roll == "namnd" else None
        with self.locked() as ledger:
            index = ledger.decision_index()
            first = fran or index.first_day() or date.today()
            last = till or date.today()
            _period(first, last)
            if kind == "compliance":
                return compliance.build(ledger, index, first, last, insatser=insatser, namnd=namnd)
            ledger.project()
            with ledger.transaction() as session:
                if kind == "participation":
                    return participation.build(
                        session,
                        index,
                        first,
                        last,
                        insatser=insatser,
                        namnd=namnd,
                        indelning=indelning,  # type: ignore[arg-type]
                    )
                return effect.build(session, index, first, last, insatser=insatser, namnd=namnd)

    def render_html(self, data: dict[str, Any]) -> str:
        from iubledger.reports.render import render

        with self.render_lock:  # matplotlib figures are not drawn concurrently
            return render(data, "html")

    # -- identity recovery (14 kap. 3 § SoL, G3) ---------------------------------------

    def recover_identity(self, key: ApiKey, deltagande: UUID, skal: str) -> dict[str, Any]:
        """Open the sealed identity; the ledger records the recovery first (who, when,
        which participation, why, outcome)."""
        with self.locked() as ledger:
            opened, access = ledger.recover_identity(deltagande, skal, key.roll, key.nyckel_id)
        return {"deltagande": str(deltagande), "identitet": opened, "atkomst": access}

    def identity_access(self) -> list[dict[str, Any]]:
        with self.locked() as ledger:
            events = list(ledger.events.get(ATKOMSTLOGG_ID))
        return [
            {
                "tidpunkt": e.timestamp.isoformat(),
                "roll": e.roll,
                "nyckel_id": e.nyckel_id,
                "deltagande": e.deltagande,
                "skal": e.skal,
                "utfall": e.utfall,
            }
            for e in events
            if isinstance(e, Identitetsatkomst.Registrerad)  # type: ignore[attr-defined]
        ]

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


def _outcome(refusal: Rejected | None) -> str:
    return "oppnad" if refusal is None else refusal.problems[0].code


def _in_range(day: date, field: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise Rejected([Problem("datum_utanfor", field, "the date is outside 1900–2199")])


def _period(fran: date, till: date) -> None:
    _in_range(fran, "from")
    _in_range(till, "to")
    if fran > till:
        raise Rejected([Problem("period", "from", "'from' is after 'to'")])
    if till - fran > timedelta(days=MAX_PERIOD_DAYS):
        raise Rejected(
            [Problem("period_for_lang", "to", f"a report covers at most {MAX_PERIOD_DAYS} days")]
        )
