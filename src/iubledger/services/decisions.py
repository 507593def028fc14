"""The nämnd's decisions (11 kap. 5 § SoL): import, amend and revoke as new versions,
never edits; every earlier version stays in the history (G7: only the nämnd decides)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from iubledger.aggregates.beslut import Beslut
from iubledger.decisions import guardrails
from iubledger.decisions.index import (
    DecisionIndex,
    Entry,
    Upphavande,
    Version,
    giltig_till_of,
    header_of,
    natural_key,
)
from iubledger.roles import OPERATOR, Actor, Forbidden, may_decide
from iubledger.schemas.base import Problem, Rejected, problems_from
from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut, InsatsId
from iubledger.store.ledger import Ledger


@dataclass
class ImportResult:
    imported: list[tuple[str, int]] = field(default_factory=list)


def import_files(
    ledger: Ledger, sources: Sequence[tuple[str, str]], actor: Actor = OPERATOR
) -> ImportResult:
    """Import decision files (name, JSON text) all or nothing: one invalid file imports
    nothing, and the error names the file, the insats and the rule (G7)."""
    with ledger.locked() as (session, locked):
        index = ledger.decisions(locked.beslut_andringar)
        staged = DecisionIndex({k: list(v) for k, v in index.histories.items()})
        files: list[tuple[str, BeslutsFil]] = []
        for name, text in sources:
            try:
                fil = BeslutsFil.model_validate_json(text)
            except ValidationError as e:
                raise Rejected(_by_insats_id(problems_from(e), text), source=name) from None
            if not may_decide(actor, fil.katalog):
                raise Forbidden("only the nämnd may create or change its decisions")
            if problems := guardrails.check(fil, staged):
                raise Rejected(problems, source=name)
            for i in fil.insatser:
                staged.add(_version_from(fil, i, version=_next_version(staged, fil, i)))
            files.append((text, fil))

        register = ledger.register()
        touched: dict[str, Beslut] = {}
        result = ImportResult()
        for text, fil in files:
            digest = hashlib.sha256(text.encode()).hexdigest()
            for i in fil.insatser:
                beslut_id = f"{fil.katalog}/{i.id}"
                innehall = _innehall(fil, i, digest)
                agg = touched.get(beslut_id)
                if agg is None and beslut_id in register.beslut_ids:
                    agg = ledger.repository.get(Beslut.create_id(beslut_id))
                if agg is None:
                    agg = Beslut(beslut_id=beslut_id, innehall=innehall)
                    register.registrera(beslut_id)
                else:
                    agg.andra(innehall)
                touched[beslut_id] = agg
                result.imported.append((beslut_id, agg.version))
        ledger.write_decisions(session, locked, register, *touched.values())
        return result


def revoke(ledger: Ledger, beslut_id: str, fran: date, skal: str, actor: Actor = OPERATOR) -> int:
    """Revoke from `fran`: a new event; earlier versions stay in the history."""
    if not may_decide(actor, beslut_id.split("/", 1)[0]):
        raise Forbidden("only the nämnd may create or change its decisions")
    with ledger.locked() as (session, locked):
        index = ledger.decisions(locked.beslut_andringar)
        history = index.histories.get(beslut_id, [])
        latest = index.latest(beslut_id)
        if latest is None:
            raise Rejected.one("okant_beslut", "beslut", "no decision with that id")
        if isinstance(history[-1], Upphavande):
            raise Rejected.one("redan_upphavt", "beslut", "the decision is already revoked")
        if fran <= latest.giltig_fran:
            raise Rejected.one(
                "upphavande_bakdaterat",
                "fran",
                "a revocation must take effect after the version in force",
            )
        agg: Beslut = ledger.repository.get(Beslut.create_id(beslut_id))
        agg.upphav(fran=fran.isoformat(), skal=skal)
        ledger.write_decisions(session, locked, agg)
        version: int = agg.version
        return version


def history(
    index: DecisionIndex, visible: Callable[[str, list[Entry]], bool] = lambda b, h: True
) -> list[dict[str, Any]]:
    """Every version and revocation the caller may see, in the catalogs' natural order."""
    return [
        e.as_json()
        for beslut_id, entries in sorted(index.histories.items(), key=lambda kv: natural_key(kv[0]))
        if visible(beslut_id, entries)
        for e in entries
    ]


_INSATS_LOC = re.compile(r"^insatser\.(\d+)(?=\.|$)")
_ID = TypeAdapter(InsatsId)


def _by_insats_id(problems: list[Problem], text: str) -> list[Problem]:
    """Name an insats by its id where the file gives a valid one, never by its place in
    the list (`insatser.1.namn` → `insatser[3.1.5].namn`)."""
    try:
        insatser = json.loads(text).get("insatser")
    except (ValueError, AttributeError):
        return problems
    if not isinstance(insatser, list):
        return problems

    def named(field: str) -> str:
        m = _INSATS_LOC.match(field)
        if m is None or int(m.group(1)) >= len(insatser):
            return field
        raw = insatser[int(m.group(1))]
        ident = raw.get("id") if isinstance(raw, dict) else None
        try:
            _ID.validate_python(ident)
        except ValidationError:
            return field
        return f"insatser[{ident}]{field[m.end() :]}"

    return [Problem(p.code, named(p.field), p.message) for p in problems]


def _innehall(fil: BeslutsFil, i: InsatsBeslut, digest: str) -> dict[str, Any]:
    slut = giltig_till_of(fil, i)
    return {
        "header": header_of(fil),
        "insats": i.model_dump(mode="json", exclude_none=True),
        "giltig_fran": fil.giltig_fran.isoformat(),
        "giltig_till": slut.isoformat() if slut else None,
        "kalla_sha256": digest,
    }


def _next_version(index: DecisionIndex, fil: BeslutsFil, i: InsatsBeslut) -> int:
    entries = index.histories.get(f"{fil.katalog}/{i.id}", [])
    return entries[-1].version + 1 if entries else 1


def _version_from(fil: BeslutsFil, i: InsatsBeslut, version: int) -> Version:
    return Version(
        beslut_id=f"{fil.katalog}/{i.id}",
        version=version,
        giltig_fran=fil.giltig_fran,
        giltig_till=giltig_till_of(fil, i),
        header=header_of(fil),
        insats=i,
        recorded_at=datetime.now(UTC),
    )
