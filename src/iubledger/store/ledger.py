"""The ledger application: the imperative shell around decisions, policies and the store."""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
)
from pydantic import ValidationError
from sqlalchemy import Table, event, insert, inspect, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from iubledger.aggregates.atkomst import ATKOMSTLOGG_ID, Identitetsatkomst
from iubledger.aggregates.beslut import REGISTER_ID, Beslut, Beslutsregister
from iubledger.aggregates.deltagande import Deltagande, Gruppsession
from iubledger.config import Settings
from iubledger.decisions import guardrails
from iubledger.decisions.index import DecisionIndex, Upphavande, Version, header_of
from iubledger.decisions.start import start_problems, villkor_outcome
from iubledger.integrity import checkpoints
from iubledger.integrity import log as merkle_log
from iubledger.integrity.merkle import CompactRange, inclusion_proof
from iubledger.keys import KeyStore, PendingKeys
from iubledger.policies.crypto import keyed_hash, open_seal
from iubledger.policies.regimes import apply
from iubledger.policies.textscan import scan
from iubledger.policies.undantag_14_5 import new_besokskod
from iubledger.projections import runner
from iubledger.projections.deltagande import Participation
from iubledger.projections.deltagande import metadata as projection_metadata
from iubledger.projections.upsert import add_counts
from iubledger.roles import OPERATOR, Actor, Forbidden, may_append, may_decide
from iubledger.schemas.base import Problem, Rejected, problems_from
from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut, Regim
from iubledger.schemas.handelser import FOLJER_DELTAGANDE, HANDELSE, Start
from iubledger.schemas.villkor import Fakta, Utfall
from iubledger.store import tables
from iubledger.store.batch import (
    Parsed,
    Work,
    named,
    rule_of,
    stored_results,
    stored_versions,
)
from iubledger.store.cipher import CipherKeyError

CIPHER_TOPIC = "iubledger.store.cipher:XChaCha20Cipher"

#: Participations kept in memory between transactions (checked against the stored version).
CACHE_SIZE = 20000

#: PostgreSQL advisory lock held while the schema is created.
SCHEMA_LOCK = 0x1B1ED6E4


@dataclass
class ImportResult:
    imported: list[tuple[str, int]] = field(default_factory=list)


class Ledger(Application):
    """Event store with at-rest cipher; every write takes the log's lock first (`_locked`)
    and stores its records through `_write`."""

    name = "iubledger"

    def __init__(self, settings: Settings, *, at_rest_cipher: bool = True) -> None:
        self.settings = settings
        self.keys = KeyStore(settings.key_dir)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": settings.database_url,
            "CIPHER_TOPIC": CIPHER_TOPIC if at_rest_cipher else "",
            "CIPHER_KEY": self.keys.at_rest_key() if at_rest_cipher else "",
            "AGGREGATE_CACHE_MAXSIZE": str(CACHE_SIZE),
            "CREATE_TABLE": "no",  # below, one process at a time
        }
        super().__init__(env)
        self._index: tuple[int, DecisionIndex] | None = None  # (beslut_andringar, index)
        self._known_checkpoint: checkpoints.Checkpoint | None = None
        self.checkpoint_policy = checkpoints.Policy.from_env()
        self.signing_key = self.keys.signing_key()

        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            event.listen(engine, "checkout", functools.partial(_ping, engine.dialect))
        self._create_schema()

    def _create_schema(self) -> None:
        """Create the tables that are missing. Processes opening a new database at once:
        one creates them while the others wait, then find them (CREATE TABLE races)."""
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        wanted: list[Table] = list(self.recorder.tables)  # type: ignore[attr-defined]
        for md in (tables.metadata, merkle_log.metadata, runner.metadata, projection_metadata):
            wanted += md.sorted_tables
        if not {t.name for t in wanted} - set(inspect(engine).get_table_names()):
            return
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sql_text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
            elif conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the database's write lock
            for table in wanted:
                table.create(conn, checkfirst=True)
            merkle_log.create_state(conn)

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper, except that a record the at-rest key does not open is a
        CipherKeyError (the library wraps it in a generic deserialisation error)."""
        mapper = super().construct_mapper()
        return ClearKeyErrors(
            transcoder=mapper.transcoder, cipher=mapper.cipher, compressor=mapper.compressor
        )

    def close(self) -> None:
        self.keys.close()
        super().close()
        # The library's factory leaves the engine's pooled connections open until garbage
        # collection; on PostgreSQL that holds server connections (and blocks DROP/CREATE
        # DATABASE ... TEMPLATE) after close.
        self.recorder.datastore.engine.dispose()  # type: ignore[attr-defined]

    # -- persistence -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A database transaction (joined when one is already open). If it fails, cached
        aggregates that may hold its unsaved events, and the checkpoint it may have signed,
        are forgotten."""
        try:
            with self.recorder.transaction() as session:  # type: ignore[attr-defined]
                yield session
        except BaseException:
            # A new cache, not `clear()`: the library's LRUCache.clear() empties only its
            # recency list and keeps every entry.
            self.repository.cache = LRUCache(maxsize=CACHE_SIZE)
            self._known_checkpoint = None
            raise

    @contextmanager
    def _locked(self) -> Iterator[tuple[Session, merkle_log.Locked]]:
        """A transaction that takes the log's write lock first: what it reads is the latest
        commit and stays so until it commits (writers never conflict)."""
        with self.transaction() as session:
            yield session, merkle_log.lock(session)

    def _write(self, session: Session, tree: CompactRange, *objs: Any) -> list[int]:
        """Store pending events (of aggregates, or events in log order) and extend the
        locked Merkle log; returns the log position of each new record."""
        recordings = self.save(*objs, session=session)
        positions = merkle_log.extend(session, tree, [r.notification for r in recordings])
        self._sign_if_due(session, tree)
        return positions

    def _sign_if_due(
        self, session: Session, tree: CompactRange, *, force: bool = False
    ) -> checkpoints.Checkpoint | None:
        """Sign a checkpoint in this locked transaction when the policy (or `force`) asks.
        The latest checkpoint this process knows answers 'not due' without a look-up: the
        stored latest can only be newer."""
        now, policy, known = datetime.now(UTC), self.checkpoint_policy, self._known_checkpoint
        if not (force or known is None or checkpoints.due(known, tree.size, now, policy)):
            return None
        last = checkpoints.latest(session)
        self._known_checkpoint = last
        if last is not None and last.tree_size == tree.size:
            return last if force else None
        if tree.size == 0 or not (force or checkpoints.due(last, tree.size, now, policy)):
            return None
        cp = checkpoints.sign(tree, self.signing_key, now)
        checkpoints.store(session, cp)
        self._known_checkpoint = cp
        return cp

    # -- utförare events (14 kap. 3–5 § SoL) -------------------------------------------

    def append(self, raw: str | bytes | dict[str, Any], actor: Actor = OPERATOR) -> dict[str, Any]:
        """Store one utförare event through the policy layer; atomic and idempotent on the
        client `id`. Returns {event_id, position, deltagande[, besokskod]}; raises Rejected
        (nothing stored) or Forbidden."""
        (result,) = self.append_batch([raw], actor)
        if isinstance(result, Rejected | Forbidden):
            raise result
        return result

    def append_batch(
        self, raws: Sequence[str | bytes | dict[str, Any]], actor: Actor = OPERATOR
    ) -> list[dict[str, Any] | Rejected | Forbidden]:
        """Append many events in one transaction. Each line is still atomic: every check that
        can refuse a line runs before it stages anything, so a refused line stores nothing
        and the others are kept; a database error stores none of them. Returns, per line,
        the result or the refusal."""
        lines = [self._parse(raw, actor) for raw in raws]
        wanted = [k for line in lines if isinstance(line, Parsed) for k in line.nycklar]
        out: list[dict[str, Any] | Rejected | Forbidden] = []
        with self._locked() as (session, locked):
            results = stored_results(session, wanted)
            work = Work(
                session,
                self._decisions(locked.beslut_andringar),
                PendingKeys(self.keys),
                results,
                stored_versions(session, self.recorder, named(lines, results)),
            )
            for line in lines:
                out.append(self._append_line(work, line) if isinstance(line, Parsed) else line)
            refused = Counter(rule_of(r) for r in out if isinstance(r, Rejected | Forbidden))
            if refused:
                today = datetime.now(UTC).date()
                counts = {(today, rule): n for rule, n in refused.items()}
                add_counts(session, tables.avvisning, ["dag", "regel"], "antal", counts)
            if work.events:
                work.keys.persist()  # before the records that are sealed with them
                positions = self._write(session, locked.tree, *work.events)
                for _, result, first in work.klient:
                    result["position"] = positions[first]
                session.execute(
                    insert(tables.klient_id),
                    [{"nyckel": k, "resultat": json.dumps(r)} for k, r, _ in work.klient],
                )
        if self.repository.cache is not None:  # committed: later look-ups start from here
            for agg in work.aggregates.values():
                self.repository.cache.put(agg.id, agg)
        return out

    def _append_line(self, work: Work, line: Parsed) -> dict[str, Any] | Rejected:
        """The earlier result of the same client id, or the line staged now, or why not."""
        if (prior := work.results.get(line.nyckel)) is not None:
            return prior
        try:
            return self._stage(work, line)
        except Rejected as e:
            return e

    def _parse(
        self, raw: str | bytes | dict[str, Any], actor: Actor
    ) -> Parsed | Rejected | Forbidden:
        text = json.dumps(raw, default=str) if isinstance(raw, dict) else raw
        try:
            h = HANDELSE.validate_json(text)
        except ValidationError as e:
            return Rejected(problems_from(e))
        if not may_append(actor, h.utforare):
            return Forbidden("this role may not append for that utförare")
        opened_by = None if h.oppnad_av is None else self._klient_nyckel(h.utforare, h.oppnad_av)
        return Parsed(h, self._klient_nyckel(h.utforare, h.id), opened_by)

    def _klient_nyckel(self, utforare: str, client_id: UUID) -> bytes:
        """Client ids are the utförare's own and stored keyed-hashed (they may link to its
        records). A follow-up may name its participation by the client id of the opening
        event (`oppnad_av`), resolved through the same table."""
        key = self.keys.namnd_key("*", "klient-id")
        data = utforare.encode() + b"\x00" + client_id.bytes
        return keyed_hash(key, data)

    def _stage(self, work: Work, line: Parsed) -> dict[str, Any]:
        """Check one event and stage its records; raises Rejected before staging anything."""
        h = line.h
        work.keys.drop()  # keys of a line refused before this one
        version = work.decisions.in_force(h.insats, h.datum)
        if version is None:
            raise Rejected(
                [
                    Problem(
                        "inget_beslut",
                        "insats",
                        f"no nämnd decision makes {h.insats} IUB on {h.datum.isoformat()} "
                        "(11 kap. 5 § SoL)",
                    )
                ]
            )
        insats = version.insats
        if h.utforare not in insats.tillhandahalls_av.utforare:
            raise Rejected(
                [
                    Problem(
                        "utforare_ej_registrerad",
                        "utforare",
                        f"the utförare is not registered for {h.insats} in the nämnd's decision",
                    )
                ]
            )
        agg = self._participation(work, line)
        if h.type == "tillfalle" and h.grupp is not None:
            subjekt = str(uuid4())
        else:
            subjekt = str(agg.id) if agg is not None else str(uuid4())
        dok = apply(version, h, subjekt, work.keys)
        post = dok.falt
        extra: list[dict[str, Any]] = []
        kod: str | None = None
        if h.type == "start":
            utfall = (
                villkor_outcome(insats, _fakta(h), dok.alder)
                if h.fakta is not None or agg is None or agg.villkor_utfall is None
                else Utfall(agg.villkor_utfall)
            )
            problems = start_problems(insats, alder=dok.alder, samtycke=h.samtycke, utfall=utfall)
            if problems:
                raise Rejected(problems)
            if insats.dokumentation.regim is Regim.undantag_14_5:
                kod = new_besokskod()
                post["besokskod"] = kod
        elif h.type == "villkorskontroll":
            computed = villkor_outcome(insats, h.fakta, dok.alder) if h.fakta else None
            if computed not in (None, Utfall.oklart) and h.utfall not in (computed, Utfall.oklart):
                raise Rejected(
                    [
                        Problem(
                            "utfall_motsager_villkor",
                            "utfall",
                            f"the facts give '{computed}' under the decision's villkor",
                        )
                    ]
                )
            if h.utfall is Utfall.oklart:
                extra.append({**_stamp(post), "type": "hanvisning", "orsak": "villkor_oklart"})

        if h.type == "tillfalle" and h.grupp is not None:
            target: Deltagande | Gruppsession = Gruppsession(post=post)
        elif agg is None:
            target = Deltagande(post=post, id=UUID(subjekt))
        else:
            agg.registrera(post=post)
            target = agg
        for e in extra:
            target.registrera(post=e)  # type: ignore[union-attr]

        # Nothing can refuse the event now.
        work.keys.keep()
        result: dict[str, Any] = {
            "event_id": f"{target.id}/{target.version - len(extra)}",
            "position": None,  # known when the transaction's records are stored
            "deltagande": str(target.id),
        }
        if kod is not None:
            result["besokskod"] = kod
            work.session.execute(insert(tables.besokskod).values(kod=kod, deltagande=target.id))
        work.stage(line.nyckel, target, result)
        return result

    def _cached(self, work: Work, ref: UUID) -> Any:
        """The cached participation, when it is the stored version (no other process wrote
        it since). Taken without a copy: a failed transaction replaces the cache."""
        cache = self.repository.cache
        if cache is None or ref not in work.versions:
            return None
        try:
            agg = cache.get(ref)
        except KeyError:
            return None
        return agg if agg.version == work.versions[ref] else None

    def _participation(self, work: Work, line: Parsed) -> Deltagande | None:
        """The participation a follow-up refers to, checked against the event."""
        h = line.h
        ref = h.deltagande
        if line.opened_by is not None:
            opened = work.results.get(line.opened_by)
            if opened is None:
                raise Rejected(
                    [Problem("okant_oppnande", "oppnad_av", "no stored event has that client id")]
                )
            ref = UUID(opened["deltagande"])
        if h.besokskod is not None:
            ref = work.session.execute(
                select(tables.besokskod.c.deltagande).where(tables.besokskod.c.kod == h.besokskod)
            ).scalar()
            if ref is None:
                raise Rejected([Problem("okand_besokskod", "besokskod", "no such besökskod")])
        if ref is None:
            if h.type in FOLJER_DELTAGANDE or (h.type == "tillfalle" and h.grupp is None):
                raise Rejected(
                    [
                        Problem(
                            "deltagande_saknas", "deltagande", f"a {h.type} needs a participation"
                        )
                    ]
                )
            return None
        agg = work.aggregates.get(ref) or self._cached(work, ref)
        if agg is None:
            try:
                agg = self.repository.get(ref)
            except AggregateNotFoundError:
                raise Rejected(
                    [Problem("okant_deltagande", "deltagande", "no such participation")]
                ) from None
        if not isinstance(agg, Deltagande) or agg.insats != h.insats:
            raise Rejected(
                [Problem("fel_insats", "deltagande", "the participation belongs to another insats")]
            )
        if agg.avslutad:
            raise Rejected(
                [Problem("deltagande_avslutat", "deltagande", "the participation has ended")]
            )
        if h.type in ("tillfalle", "avslut", "avbrott") and not agg.startad:
            raise Rejected(
                [Problem("ej_startad", "deltagande", f"a {h.type} needs a started participation")]
            )
        if h.type == "start" and agg.startad:
            raise Rejected(
                [Problem("redan_startad", "deltagande", "the participation has already started")]
            )
        if agg.startdatum is not None and h.datum.isoformat() < agg.startdatum:
            raise Rejected(
                [Problem("fore_start", "datum", "the date is before the participation started")]
            )
        return agg

    # -- decisions (11 kap. 5 § SoL) -------------------------------------------------------

    def decision_index(self) -> DecisionIndex:
        """The nämnd's decisions as stored now (reloaded when any process changed them)."""
        with self.transaction() as session:
            return self._decisions(merkle_log.beslut_andringar(session))

    def _decisions(self, andringar: int) -> DecisionIndex:
        if self._index is None or self._index[0] != andringar:
            self._index = (andringar, self._load_index())
        return self._index[1]

    def _write_decisions(self, session: Session, locked: merkle_log.Locked, *aggs: Any) -> None:
        """Store decision changes; the count moves, so every process reloads its decisions."""
        self._write(session, locked.tree, *aggs)
        merkle_log.count_beslut_andring(session)

    def _load_index(self) -> DecisionIndex:
        index = DecisionIndex()
        for beslut_id in self._register().beslut_ids:
            for ev in self.events.get(Beslut.create_id(beslut_id)):
                index.add(_entry(beslut_id, ev))
        return index

    def import_decisions(
        self, sources: Sequence[tuple[str, str]], actor: Actor = OPERATOR
    ) -> ImportResult:
        """Import decision files (name, JSON text) all or nothing: one invalid file imports
        nothing, and the error names the file, the insats and the rule (G7)."""
        with self._locked() as (session, locked):
            return self._import(sources, actor, session, locked)

    def _import(
        self,
        sources: Sequence[tuple[str, str]],
        actor: Actor,
        session: Session,
        locked: merkle_log.Locked,
    ) -> ImportResult:
        index = self._decisions(locked.beslut_andringar)
        staged = DecisionIndex({k: list(v) for k, v in index.histories.items()})
        files: list[tuple[str, str, BeslutsFil]] = []
        for name, text in sources:
            try:
                fil = BeslutsFil.model_validate_json(text)
            except ValidationError as e:
                raise Rejected(problems_from(e), source=name) from None
            if not may_decide(actor, fil.katalog):
                raise Forbidden("only the nämnd may create or change its decisions")
            if problems := guardrails.check(fil, staged):
                raise Rejected(problems, source=name)
            for i in fil.insatser:
                staged.add(_version_from(fil, i, version=_next_version(staged, fil, i)))
            files.append((name, text, fil))

        register = self._register()
        touched: dict[str, Beslut] = {}
        result = ImportResult()
        for _, text, fil in files:
            digest = hashlib.sha256(text.encode()).hexdigest()
            for i in fil.insatser:
                beslut_id = f"{fil.katalog}/{i.id}"
                innehall = _innehall(fil, i, digest)
                agg = touched.get(beslut_id)
                if agg is None and beslut_id in register.beslut_ids:
                    agg = self.repository.get(Beslut.create_id(beslut_id))
                if agg is None:
                    agg = Beslut(beslut_id=beslut_id, innehall=innehall)
                    register.registrera(beslut_id)
                else:
                    agg.andra(innehall)
                touched[beslut_id] = agg
                result.imported.append((beslut_id, agg.version))
        self._write_decisions(session, locked, register, *touched.values())
        return result

    def revoke_decision(
        self, beslut_id: str, fran: date, skal: str, actor: Actor = OPERATOR
    ) -> int:
        """Revoke from `fran`: a new event; earlier versions stay in the history."""
        if not may_decide(actor, beslut_id.split("/", 1)[0]):
            raise Forbidden("only the nämnd may create or change its decisions")
        with self._locked() as (session, locked):
            return self._revoke(beslut_id, fran, skal, session, locked)

    def _revoke(
        self, beslut_id: str, fran: date, skal: str, session: Session, locked: merkle_log.Locked
    ) -> int:
        index = self._decisions(locked.beslut_andringar)
        history = index.histories.get(beslut_id, [])
        latest = index.latest(beslut_id)
        if latest is None:
            raise Rejected([Problem("okant_beslut", "beslut", "no decision with that id")])
        if isinstance(history[-1], Upphavande):
            raise Rejected([Problem("redan_upphavt", "beslut", "the decision is already revoked")])
        if fran <= latest.giltig_fran:
            raise Rejected(
                [
                    Problem(
                        "upphavande_bakdaterat",
                        "fran",
                        "a revocation must take effect after the version in force",
                    )
                ]
            )
        agg = self.repository.get(Beslut.create_id(beslut_id))
        agg.upphav(fran=fran.isoformat(), skal=skal)
        self._write_decisions(session, locked, agg)
        return agg.version

    # -- integrity (G5) ------------------------------------------------------------------

    def checkpoint(self) -> checkpoints.Checkpoint | None:
        """A checkpoint of the current log, signed now if the latest is behind."""
        with self._locked() as (session, locked):
            return self._sign_if_due(session, locked.tree, force=True)

    def receipt(self, position: int, tree_size: int | None = None) -> dict[str, Any]:
        """Evidence that the record at `position` is in the log: its leaf hash and an
        inclusion proof against a signed checkpoint (the latest, or the one of `tree_size`)."""
        return self.receipts([position], tree_size)[0]

    def receipts(
        self, positions: Sequence[int], tree_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Receipts for many positions against one checkpoint, sharing the subtree look-ups."""
        with self.transaction() as session:
            signed = checkpoints.all_checkpoints(session)
            cps = [c for c in signed if c.tree_size > max(positions, default=0)]
            if tree_size is not None:
                cps = [c for c in cps if c.tree_size == tree_size]
            if not cps:
                raise Rejected(
                    [
                        Problem(
                            "inget_kvitto",
                            "position",
                            "no signed checkpoint covers that position yet",
                        )
                    ]
                )
            cp = cps[-1]
            memo: dict[tuple[int, int], bytes] = {}

            def subtree(a: int, b: int) -> bytes:
                if (a, b) not in memo:
                    memo[(a, b)] = merkle_log.subtree_root(session, a, b)
                return memo[(a, b)]

            return [
                {
                    "position": p,
                    "leaf_hash": subtree(p, p + 1).hex(),
                    "proof": [h.hex() for h in inclusion_proof(p, cp.tree_size, subtree)],
                    "checkpoint": cp.as_json(),
                }
                for p in positions
            ]

    def consistency(self, old: int, new: int) -> list[str]:
        with self.transaction() as session:
            return [p.hex() for p in merkle_log.consistency(session, old, new)]

    # -- projections ---------------------------------------------------------------------

    def project(self, tick: Callable[[int], None] = lambda n: None) -> int:
        """Bring the live projections up to date with the log; returns the number of
        records this call projected. Another process projecting at the same time is not an
        error: the page it wrote first counts once, and this call goes on from there."""
        done = 0

        def counted(n: int) -> None:
            nonlocal done
            done += n
            tick(n)

        while True:
            try:
                runner.catch_up(self, Participation(), self.transaction, tick=counted)
                return done
            except runner.ConcurrentUpdate:
                continue  # its page was rolled back; re-read the position

    def rebuild_projections(self, tick: Callable[[int], None] = lambda n: None) -> int:
        runner.reset(Participation(), self.transaction)
        return self.project(tick)

    # -- reading ----------------------------------------------------------------------

    def records(self, page: int = 1000) -> Iterator[tuple[int, Any]]:
        """Every stored record in log order as (position, domain event), at-rest cipher
        opened, seals left closed; streams with bounded memory."""
        position = 0
        last = 0
        while batch := self.recorder.select_notifications(last, page, inclusive_of_start=False):
            for n in batch:
                yield position, self.mapper.to_domain_event(n)
                position += 1
            last = batch[-1].id

    def recover_identity(
        self, deltagande: UUID, skal: str, roll: str, nyckel_id: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Authorised recovery of sealed identity (14 kap. 3 § SoL). Every attempt is first
        recorded in the ledger — role, key id, participation, reason, outcome — so tillsyn
        sees it; if that record cannot be stored, nothing is shown."""
        if scan(skal, today=date.today()):
            raise Rejected(
                [
                    Problem(
                        "identitet_i_skal",
                        "skal",
                        "the reason must not hold a personnummer, phone number or e-mail address",
                    )
                ]
            )
        refusal: Rejected | None = None
        opened: dict[str, Any] = {}
        try:
            opened = self.identity(deltagande)
        except Rejected as e:
            refusal = e
        utfall = "oppnad" if refusal is None else refusal.problems[0].code
        with self._locked() as (session, locked):
            try:
                logg = self.repository.get(ATKOMSTLOGG_ID)
            except AggregateNotFoundError:
                logg = Identitetsatkomst()
            logg.registrera(
                roll=roll, nyckel_id=nyckel_id, deltagande=str(deltagande), skal=skal, utfall=utfall
            )
            self._write(session, locked.tree, logg)
        if refusal is not None:
            raise refusal
        access = {
            "tidpunkt": logg.modified_on.isoformat(),
            "roll": roll,
            "nyckel_id": nyckel_id,
            "deltagande": str(deltagande),
            "skal": skal,
            "utfall": utfall,
        }
        return opened, access

    def identity(self, deltagande: UUID) -> dict[str, Any]:
        """Open the sealed identity of a participation (full_14_3, deltagardata names).
        Raises Rejected when there is none, or when gallring deleted the key (G3)."""
        try:
            events = list(self.events.get(deltagande))
        except AggregateNotFoundError:
            events = []
        seals = [e.post["forsegling"] for e in events if "forsegling" in getattr(e, "post", {})]
        if not events:
            raise Rejected([Problem("okant_deltagande", "deltagande", "no such participation")])
        if not seals:
            regim = events[0].post["beslut"]["regim"]
            raise Rejected(
                [
                    Problem(
                        "ingen_forsegling",
                        "deltagande",
                        f"nothing is sealed for this participation (regime {regim}): "
                        "identity was never stored",
                    )
                ]
            )
        key = self.keys.subject_key(str(deltagande))
        if key is None:
            raise Rejected(
                [Problem("gallrad", "deltagande", "the subject key was deleted (gallring)")]
            )
        opened: dict[str, Any] = {}
        notes: list[str] = []
        for seal_ in seals:
            fields = open_seal(key, seal_["subjekt"], seal_["data"])
            if "anteckning" in fields:
                notes.append(fields.pop("anteckning"))
            opened.update(fields)
        if notes:
            opened["anteckningar"] = notes
        return opened

    def _register(self) -> Beslutsregister:
        try:
            return self.repository.get(REGISTER_ID)
        except AggregateNotFoundError:
            return Beslutsregister()


class ClearKeyErrors(Mapper[UUID]):
    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            return super().to_domain_event(stored_event)
        except MapperDeserialisationError as e:
            if isinstance(e.__cause__, CipherKeyError):
                raise e.__cause__ from None
            raise


def _ping(dialect: Any, dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled PostgreSQL connection is tried before use (the dialect's own ping, as
    `pool_pre_ping` does): after a server restart the pool replaces the dead connections
    instead of failing the next operation."""
    try:
        dialect.do_ping(dbapi_connection)
    except Exception:
        raise DisconnectionError() from None


def _stamp(post: dict[str, Any]) -> dict[str, Any]:
    """The decision stamp and context of a post, for a post the ledger adds itself (G4)."""
    keep = ("datum", "insats", "utforare", "beslut", "policy_version")
    return {k: post[k] for k in keep}


def _fakta(h: Start) -> Fakta | None:
    """Facts for the villkor at start, with the consent given (vårdnadshavares samtycke)."""
    if h.fakta is None or h.samtycke is None or h.fakta.vardnadshavare_samtycker is not None:
        return h.fakta
    return h.fakta.model_copy(update={"vardnadshavare_samtycker": h.samtycke.vardnadshavare})


def _innehall(fil: BeslutsFil, i: InsatsBeslut, digest: str) -> dict[str, Any]:
    return {
        "header": header_of(fil),
        "insats": i.model_dump(mode="json", exclude_none=True),
        "giltig_fran": fil.giltig_fran.isoformat(),
        "giltig_till": fil.giltig_till.isoformat() if fil.giltig_till else None,
        "kalla_sha256": digest,
    }


def _next_version(index: DecisionIndex, fil: BeslutsFil, i: InsatsBeslut) -> int:
    history = index.histories.get(f"{fil.katalog}/{i.id}", [])
    return history[-1].version + 1 if history else 1


def _version_from(fil: BeslutsFil, i: InsatsBeslut, version: int) -> Version:
    return Version(
        beslut_id=f"{fil.katalog}/{i.id}",
        version=version,
        giltig_fran=fil.giltig_fran,
        giltig_till=fil.giltig_till,
        header=header_of(fil),
        insats=i,
        recorded_at=datetime.now(UTC),
    )


def _entry(beslut_id: str, ev: Any) -> Version | Upphavande:
    """A decision-history entry from a stored Beslut event."""
    if isinstance(ev, Beslut.Upphavt):
        return Upphavande(
            beslut_id=beslut_id,
            version=ev.originator_version,
            fran=date.fromisoformat(ev.fran),
            skal=ev.skal,
            recorded_at=ev.timestamp,
        )
    c = ev.innehall
    return Version(
        beslut_id=beslut_id,
        version=ev.originator_version,
        giltig_fran=date.fromisoformat(c["giltig_fran"]),
        giltig_till=date.fromisoformat(c["giltig_till"]) if c["giltig_till"] else None,
        header=c["header"],
        insats=InsatsBeslut.model_validate(c["insats"], strict=False),
        recorded_at=ev.timestamp,
    )
