"""The ledger application: the imperative shell around decisions, policies and the store."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import nacl.encoding
import nacl.hash
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    MapperDeserialisationError,
    OperationalError,
    StoredEvent,
)
from pydantic import ValidationError
from sqlalchemy import Table, insert, inspect, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from iubledger.aggregates.atkomst import ATKOMSTLOGG_ID, Identitetsatkomst
from iubledger.aggregates.beslut import REGISTER_ID, Beslut, Beslutsregister
from iubledger.aggregates.deltagande import Deltagande, Gruppsession
from iubledger.config import Settings
from iubledger.decisions import guardrails
from iubledger.decisions.index import DecisionIndex, Upphavande, Version, header_of
from iubledger.decisions.start import start_problems, villkor_outcome
from iubledger.decisions.villkor import Fakta, Utfall
from iubledger.integrity import checkpoints
from iubledger.integrity import log as merkle_log
from iubledger.integrity.merkle import inclusion_proof
from iubledger.keys import KeyStore, PendingKeys
from iubledger.policies.crypto import open_seal
from iubledger.policies.regimes import apply
from iubledger.policies.textscan import scan
from iubledger.projections import runner
from iubledger.projections.deltagande import Participation
from iubledger.projections.deltagande import metadata as projection_metadata
from iubledger.projections.upsert import add_counts
from iubledger.roles import OPERATOR, Actor, Forbidden, may_append, may_decide
from iubledger.schemas.base import Problem, Rejected, problems_from
from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut, Regim
from iubledger.schemas.handelser import FOLJER_DELTAGANDE, HANDELSE, Start, UtforarHandelse
from iubledger.store import tables
from iubledger.store.cipher import CipherKeyError

CIPHER_TOPIC = "iubledger.store.cipher:XChaCha20Cipher"

#: PostgreSQL advisory lock held while the schema is created.
SCHEMA_LOCK = 0x1B1ED6E4

#: Attempts at one line while other writers store versions of the same participation first
#: (optimistic concurrency: the version is unique); a short random pause between attempts.
APPEND_ATTEMPTS = 8
CONFLICT = Problem(
    "konflikt",
    "deltagande",
    "other writers kept changing the participation at the same time; nothing was stored for "
    "this line: send it again",
)


@dataclass
class ImportResult:
    imported: list[tuple[str, int]] = field(default_factory=list)


class Ledger(Application):
    """Event store with at-rest cipher; every commit goes through `_commit`."""

    name = "iubledger"

    def __init__(self, settings: Settings, *, at_rest_cipher: bool = True) -> None:
        self.settings = settings
        self.keys = KeyStore(settings.key_dir)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": settings.database_url,
            "CIPHER_TOPIC": CIPHER_TOPIC if at_rest_cipher else "",
            "CIPHER_KEY": self.keys.at_rest_key() if at_rest_cipher else "",
            "AGGREGATE_CACHE_MAXSIZE": "20000",
            "CREATE_TABLE": "no",  # below, one process at a time
        }
        super().__init__(env)
        self._index: DecisionIndex | None = None
        self.checkpoint_policy = checkpoints.Policy.from_env()
        self.signing_key = self.keys.signing_key()

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
        aggregates that may hold its unsaved events are dropped."""
        try:
            with self.recorder.transaction() as session:  # type: ignore[attr-defined]
                yield session
        except BaseException:
            if self.repository.cache is not None:
                self.repository.cache.clear()  # type: ignore[attr-defined]
            raise

    def _commit(self, *aggregates: Aggregate, session: Session | None = None) -> list[int]:
        """Store the pending events of `aggregates` and extend the Merkle log, atomically;
        returns the log positions of the new records."""
        if session is None:
            with self.transaction() as own:
                return self._commit(*aggregates, session=own)
        recordings = self.save(*aggregates, session=session)
        positions, tree = merkle_log.extend(session, [r.notification for r in recordings])
        checkpoints.maybe_sign(session, tree, self.signing_key, self.checkpoint_policy)
        return positions

    # -- utförare events (14 kap. 3–5 § SoL) -------------------------------------------

    def append(self, raw: str | bytes | dict[str, Any], actor: Actor = OPERATOR) -> dict[str, Any]:
        """Store one utförare event through the policy layer; atomic and idempotent on the
        client `id`. Returns {event_id, position, deltagande[, besokskod]}; raises Rejected
        (nothing stored) or Forbidden."""
        try:
            return self._append(raw, actor)
        except (Rejected, Forbidden) as e:
            rule = e.problems[0].code if isinstance(e, Rejected) else "behorighet"
            with self.transaction() as session:
                add_counts(
                    session,
                    tables.avvisning,
                    ["dag", "regel"],
                    "antal",
                    {(datetime.now(UTC).date(), rule): 1},
                )
            raise

    def append_batch(
        self, raws: Sequence[str | bytes | dict[str, Any]], actor: Actor = OPERATOR
    ) -> list[dict[str, Any] | Rejected | Forbidden]:
        """Append many events in one transaction. Each line is still atomic: every check that
        can refuse a line runs before it writes anything, so a refused line stores nothing
        and the others are kept. Returns, per line, the result or the refusal."""
        out: list[dict[str, Any] | Rejected | Forbidden] = []
        try:
            with self.transaction():
                for raw in raws:
                    try:
                        out.append(self.append(raw, actor))
                    except (Rejected, Forbidden) as e:
                        out.append(e)
        except (IntegrityError, OperationalError):
            # A conflict with another writer: the whole batch rolled back; redo it line by
            # line, each in its own transaction (idempotency keeps stored lines single).
            out = []
            for raw in raws:
                try:
                    out.append(self.append(raw, actor))
                except (Rejected, Forbidden) as e:
                    out.append(e)
                except IntegrityError:  # still conflicting after every attempt: say so
                    out.append(Rejected([CONFLICT]))
        return out

    def _append(self, raw: str | bytes | dict[str, Any], actor: Actor) -> dict[str, Any]:
        text = json.dumps(raw, default=str) if isinstance(raw, dict) else raw
        try:
            h = HANDELSE.validate_json(text)
        except ValidationError as e:
            raise Rejected(problems_from(e)) from None
        if not may_append(actor, h.utforare):
            raise Forbidden("this role may not append for that utförare")
        nyckel = self._klient_nyckel(h.utforare, h.id)
        for attempt in range(APPEND_ATTEMPTS):
            if (prior := self._prior_result(nyckel)) is not None:
                return prior
            try:
                return self._append_once(h, nyckel, actor)
            except IntegrityError:
                if attempt == APPEND_ATTEMPTS - 1:
                    raise
                time.sleep(secrets.randbelow(2000 << attempt) / 1e6)  # up to 2 ms, doubling
        raise AssertionError("unreachable")

    def _klient_nyckel(self, utforare: str, client_id: UUID) -> bytes:
        """Client ids are the utförare's own and stored keyed-hashed (they may link to its
        records). A follow-up may name its participation by the client id of the opening
        event (`oppnad_av`), resolved through the same table."""
        key = self.keys.namnd_key("*", "klient-id")
        data = utforare.encode() + b"\x00" + client_id.bytes
        return nacl.hash.blake2b(data, key=key, encoder=nacl.encoding.RawEncoder)[:32]

    def _prior_result(self, nyckel: bytes) -> dict[str, Any] | None:
        with self.transaction() as session:
            row = session.execute(
                select(tables.klient_id.c.resultat).where(tables.klient_id.c.nyckel == nyckel)
            ).first()
        return None if row is None else json.loads(row.resultat)

    def _append_once(self, h: UtforarHandelse, nyckel: bytes, actor: Actor) -> dict[str, Any]:
        version = self.decision_index().in_force(h.insats, h.datum)
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
        agg = self._participation(h)
        if h.type == "tillfalle" and h.grupp is not None:
            subjekt = str(uuid4())
        else:
            subjekt = str(agg.id) if agg is not None else str(uuid4())
        keys = PendingKeys(self.keys)
        dok = apply(version, h, subjekt, keys)
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

        keys.persist()  # only now that nothing can refuse the event
        with self.transaction() as session:
            positions = self._commit(target, session=session)
            result = {
                "event_id": f"{target.id}/{target.version - len(extra)}",
                "position": positions[0],
                "deltagande": str(target.id),
            }
            if kod is not None:
                result["besokskod"] = kod
                session.execute(insert(tables.besokskod).values(kod=kod, deltagande=target.id))
            session.execute(
                insert(tables.klient_id).values(nyckel=nyckel, resultat=json.dumps(result))
            )
        return result

    def _participation(self, h: UtforarHandelse) -> Deltagande | None:
        """The participation a follow-up refers to, checked against the event."""
        ref = h.deltagande
        if h.oppnad_av is not None:
            opened = self._prior_result(self._klient_nyckel(h.utforare, h.oppnad_av))
            if opened is None:
                raise Rejected(
                    [Problem("okant_oppnande", "oppnad_av", "no stored event has that client id")]
                )
            ref = UUID(opened["deltagande"])
        if h.besokskod is not None:
            with self.transaction() as session:
                ref = session.execute(
                    select(tables.besokskod.c.deltagande).where(
                        tables.besokskod.c.kod == h.besokskod
                    )
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
        if self._index is None:
            self._index = self._load_index()
        return self._index

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
        index = self.decision_index()
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
        self._commit(register, *touched.values())
        self._index = None
        return result

    def revoke_decision(
        self, beslut_id: str, fran: date, skal: str, actor: Actor = OPERATOR
    ) -> int:
        """Revoke from `fran`: a new event; earlier versions stay in the history."""
        if not may_decide(actor, beslut_id.split("/", 1)[0]):
            raise Forbidden("only the nämnd may create or change its decisions")
        history = self.decision_index().histories.get(beslut_id, [])
        latest = self.decision_index().latest(beslut_id)
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
        self._commit(agg)
        self._index = None
        return agg.version

    # -- integrity (G5) ------------------------------------------------------------------

    def checkpoint(self) -> checkpoints.Checkpoint | None:
        """A checkpoint of the current log, signed now if the latest is behind."""
        with self.transaction() as session:
            tree = merkle_log.load(session, for_update=True)
            return checkpoints.maybe_sign(
                session, tree, self.signing_key, self.checkpoint_policy, force=True
            )

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
        for attempt in range(3):
            try:
                try:
                    logg = self.repository.get(ATKOMSTLOGG_ID)
                except AggregateNotFoundError:
                    logg = Identitetsatkomst()
                logg.registrera(
                    roll=roll,
                    nyckel_id=nyckel_id,
                    deltagande=str(deltagande),
                    skal=skal,
                    utfall=utfall,
                )
                self._commit(logg)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
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


def _stamp(post: dict[str, Any]) -> dict[str, Any]:
    """The decision stamp and context of a post, for a post the ledger adds itself (G4)."""
    keep = ("datum", "insats", "utforare", "beslut", "policy_version")
    return {k: post[k] for k in keep}


def _fakta(h: Start) -> Fakta | None:
    """Facts for the villkor at start, with the consent given (vårdnadshavares samtycke)."""
    if h.fakta is None or h.samtycke is None or h.fakta.vardnadshavare_samtycker is not None:
        return h.fakta
    return h.fakta.model_copy(update={"vardnadshavare_samtycker": h.samtycke.vardnadshavare})


def new_besokskod() -> str:
    """A random code handed to the participant to link visits (14 kap. 5 § SoL: no identity)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    c = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{c[:4]}-{c[4:]}"


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
