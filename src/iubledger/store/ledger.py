"""The ledger application: the imperative shell around decisions, policies and the store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording
from pydantic import ValidationError
from sqlalchemy.orm import Session

from iubledger.aggregates.beslut import REGISTER_ID, Beslut, Beslutsregister
from iubledger.config import Settings
from iubledger.decisions import guardrails
from iubledger.decisions.index import DecisionIndex, Upphavande, Version, header_of
from iubledger.keys import KeyStore
from iubledger.roles import OPERATOR, Actor, Forbidden, may_decide
from iubledger.schemas.base import Problem, problems_from
from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut

CIPHER_TOPIC = "iubledger.store.cipher:XChaCha20Cipher"


@dataclass
class Rejected(Exception):
    """Input refused; nothing was stored. Carries problems that never echo a value (G6)."""

    problems: list[Problem]
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return where + "; ".join(f"{p.field}: {p.message} [{p.code}]" for p in self.problems)


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
        }
        super().__init__(env)
        self._index: DecisionIndex | None = None

    def close(self) -> None:
        self.keys.close()
        super().close()

    # -- persistence -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.recorder.transaction() as session:  # type: ignore[attr-defined]
            yield session

    def _commit(self, *aggregates: Aggregate, session: Session | None = None) -> list[Recording]:
        """Store the pending events of `aggregates` atomically."""
        if session is None:
            with self.transaction() as own:
                return self._commit(*aggregates, session=own)
        return self.save(*aggregates, session=session)

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
        latest = self.decision_index().latest(beslut_id)
        if latest is None:
            raise Rejected([Problem("okant_beslut", "beslut", "no decision with that id")])
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

    def _register(self) -> Beslutsregister:
        try:
            return self.repository.get(REGISTER_ID)
        except AggregateNotFoundError:
            return Beslutsregister()


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
