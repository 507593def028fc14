"""The store: the eventsourcing Application wiring, transactions under the log's lock,
writing records and extending the Merkle log, reading records (G5)."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import nacl.signing
from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from sqlalchemy import Table, event, inspect
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from iubledger.aggregates.beslut import REGISTER_ID, Beslut, Beslutsregister
from iubledger.aggregates.deltagande import Deltagande
from iubledger.config import Settings
from iubledger.decisions.index import DecisionIndex, Upphavande, Version
from iubledger.integrity import checkpoints
from iubledger.integrity import log as merkle_log
from iubledger.integrity.merkle import CompactRange
from iubledger.integrity.note import Verifier
from iubledger.projections import runner
from iubledger.projections.deltagande import metadata as projection_metadata
from iubledger.schemas.beslut import InsatsBeslut
from iubledger.store import kurs, lank, recorder, tables
from iubledger.store.cipher import CipherKeyError
from iubledger.store.keys import KeyStore

CIPHER_TOPIC = "iubledger.store.cipher:XChaCha20Cipher"

#: Participations kept in memory between transactions (checked against the stored version).
CACHE_SIZE = 20000

#: PostgreSQL advisory lock held while the schema is created.
SCHEMA_LOCK = 0x1B1ED6E4


class Ledger(Application[UUID]):
    """The store, and the services' unit of work: event store with at-rest cipher; every
    write is a transaction that takes the log's lock first (`locked`) and stores its records
    through `write`, which extends the Merkle log."""

    name = "iubledger"

    def __init__(
        self, settings: Settings, *, at_rest_cipher: bool = True, signing: bool = True
    ) -> None:
        """`signing=False` opens the store without reading the signing key (to verify
        against a pinned public key with no private key in reach)."""
        self.settings = settings
        self.keys = KeyStore(settings.key_dir)
        env = {
            "PERSISTENCE_MODULE": f"{recorder.__name__}:{recorder.Factory.__name__}",
            "SQLALCHEMY_URL": settings.database_url,
            "CIPHER_TOPIC": CIPHER_TOPIC if at_rest_cipher else "",
            "CIPHER_KEY": self.keys.at_rest_key() if at_rest_cipher else "",
            "AGGREGATE_CACHE_MAXSIZE": str(CACHE_SIZE),
            "CREATE_TABLE": "no",  # below, one process at a time
        }
        super().__init__(env)
        self._index: tuple[int, DecisionIndex] | None = None  # (beslut_andringar, index)
        self._known_size: int | None = None  # of the latest checkpoint; None: look it up
        self._known_since = time.monotonic()
        self._known_every: int | None = None
        self.checkpoint_policy = checkpoints.Policy.from_env()
        self.origin = self.keys.origin()
        if signing:
            _ = self.signing_key  # a missing or unsafe key is refused at once

        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            event.listen(engine, "checkout", functools.partial(_ping, engine.dialect))
        elif engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _page_cache)
        self._create_schema()

    @functools.cached_property
    def signing_key(self) -> nacl.signing.SigningKey:
        """The checkpoint signing key, read when first needed (verify with a pinned public
        key runs without it)."""
        return self.keys.signing_key()

    @functools.cached_property
    def verifier(self) -> Verifier:
        """The ledger's public key under its name (C2SP signed-note verifier)."""
        return Verifier(self.origin, self.signing_key.verify_key)

    def _create_schema(self) -> None:
        """Create the tables that are missing, and move what an older store kept in clear
        into the link state (`lank.migrate_besokskoder`) and the courses an older key store
        kept into the database (`kurs.migrate`). Processes opening a database at
        once: one does it while the others wait, then find it done."""
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        wanted: list[Table] = list(self.recorder.tables)  # type: ignore[attr-defined]
        for md in (tables.metadata, merkle_log.metadata, runner.metadata, projection_metadata):
            wanted += md.sorted_tables
        present = set(inspect(engine).get_table_names())
        legacy = self.keys.legacy_links() is not None
        if not {t.name for t in wanted} - present and lank.OLD_TABLE not in present and not legacy:
            return
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sql_text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
            elif conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the database's write lock
            for table in wanted:
                table.create(conn, checkfirst=True)
            merkle_log.create_state(conn)
            lank.migrate_besokskoder(conn, self.keys, self._logged, date.today())
            kurs.migrate(conn, self.keys)
        if legacy:
            self.keys.drop_legacy_links()  # once their content is committed here

    def _logged(self, deltagande: UUID) -> Deltagande | None:
        """A participation the log links, or None."""
        try:
            agg: Aggregate = self.repository.get(deltagande)
        except AggregateNotFoundError:
            return None
        return agg if isinstance(agg, Deltagande) else None

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
            self._known_size = None
            raise

    @contextmanager
    def locked(self) -> Iterator[tuple[Session, merkle_log.Locked]]:
        """A transaction that takes the log's write lock first: what it reads is the latest
        commit and stays so until it commits (writers never conflict)."""
        with self.transaction() as session:
            yield session, merkle_log.lock(session)

    def write(self, session: Session, tree: CompactRange, *objs: Any) -> list[int]:
        """Store pending events (of aggregates, or events in log order) and extend the
        locked Merkle log; returns the log position of each new record."""
        recordings = self.save(*objs, session=session)
        # The latest checkpoint as stored (one indexed row): another process may have
        # signed one, with a shorter policy this commit must keep.
        self._learn(checkpoints.latest(session))
        positions = merkle_log.extend(
            session,
            tree,
            [r.notification for r in recordings],
            lambda t: self.sign_if_due(session, t, within=True),
        )
        self.sign_if_due(session, tree)
        return positions

    def sign_if_due(
        self, session: Session, tree: CompactRange, *, force: bool = False, within: bool = False
    ) -> checkpoints.Checkpoint | None:
        """Sign a checkpoint in this locked transaction when the policy (or `force`) asks;
        `within` a commit, only when the log is `every` records past the latest, so no two
        consecutive checkpoints are further apart (verify checks it); `write` has read the
        latest before. Time is this process's own clock: no stored time is finer than a
        week."""
        if self._known_size is None:
            self._learn(checkpoints.latest(session))
        assert self._known_size is not None
        if not (force or self._due(self._known_size, tree.size, within)):
            return None
        last = checkpoints.latest(session)
        self._learn(last)
        if last is not None and last.tree_size == tree.size:
            return last if force else None
        if tree.size == 0 or not (force or self._due(self._known_size, tree.size, within)):
            return None
        policy = self.checkpoint_policy
        cp = checkpoints.sign(tree, self.signing_key, self.origin, policy.every, datetime.now(UTC))
        checkpoints.store(session, cp)
        self._learn(cp)
        return cp

    def _due(self, known: int, size: int, within: bool) -> bool:
        """The policy; `every` is also kept that the latest checkpoint promised (a process
        with a longer policy still signs before the log outgrows it)."""
        policy = self.checkpoint_policy
        every = min(policy.every, self._known_every or policy.every)
        if within:
            return size - known >= every
        policy = checkpoints.Policy(every, policy.seconds)
        return checkpoints.due(known, size, time.monotonic() - self._known_since, policy)

    def _learn(self, cp: checkpoints.Checkpoint | None) -> None:
        size = 0 if cp is None else cp.tree_size
        self._known_every = None if cp is None else cp.every
        if size != self._known_size:
            self._known_size, self._known_since = size, time.monotonic()

    def cached(self, ref: UUID, versions: dict[UUID, int]) -> Any:
        """The cached participation, when it is the stored version (no other process wrote
        it since). Taken without a copy: a failed transaction replaces the cache."""
        cache = self.repository.cache
        if cache is None or ref not in versions:
            return None
        try:
            agg = cache.get(ref)
        except KeyError:
            return None
        return agg if agg.version == versions[ref] else None

    def remember(self, aggregates: Iterable[Aggregate]) -> None:
        """Aggregates a committed transaction wrote: later look-ups start from here."""
        if self.repository.cache is not None:
            for agg in aggregates:
                self.repository.cache.put(agg.id, agg)

    # -- decisions (11 kap. 5 § SoL) -------------------------------------------------------

    def decision_index(self) -> DecisionIndex:
        """The nämnd's decisions as stored now (reloaded when any process changed them)."""
        with self.transaction() as session:
            return self.decisions(merkle_log.beslut_andringar(session))

    def decisions(self, andringar: int) -> DecisionIndex:
        if self._index is None or self._index[0] != andringar:
            self._index = (andringar, self._load_index())
        return self._index[1]

    def write_decisions(self, session: Session, locked: merkle_log.Locked, *aggs: Any) -> None:
        """Store decision changes; the count moves, so every process reloads its decisions."""
        self.write(session, locked.tree, *aggs)
        merkle_log.count_beslut_andring(session)

    def _load_index(self) -> DecisionIndex:
        index = DecisionIndex()
        for beslut_id in self.register().beslut_ids:
            for ev in self.events.get(Beslut.create_id(beslut_id)):
                index.add(_entry(beslut_id, ev))
        return index

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

    def register(self) -> Beslutsregister:
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


#: SQLite page cache per connection, in KiB (the default is 2 MiB): the indexes the write
#: path looks up at random (client ids, participations, link state) stay in memory as the
#: store grows.
SQLITE_CACHE_KIB = 65536


def _page_cache(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


def _ping(dialect: Any, dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled PostgreSQL connection is tried before use (the dialect's own ping, as
    `pool_pre_ping` does): after a server restart the pool replaces the dead connections
    instead of failing the next operation."""
    try:
        dialect.do_ping(dbapi_connection)
    except Exception:
        raise DisconnectionError() from None


def _entry(beslut_id: str, ev: Any) -> Version | Upphavande:
    """A decision-history entry from a stored Beslut event."""
    if isinstance(ev, Beslut.Upphavt):  # type: ignore[attr-defined]
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
