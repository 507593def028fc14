"""Appending utförare events (14 kap. 3–5 § SoL): each event through the decision in
force and the policy layer, before anything is stored.

A batch is one transaction under the log's write lock; each line is still atomic: every
check that can refuse a line runs before it stages anything, so a refused line stores
nothing and the others are kept; a database error stores none of them (G6).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from pydantic import ValidationError

from iubledger.aggregates.deltagande import Deltagande, Gruppsession
from iubledger.decisions.start import check_start, check_tillfalle, check_villkorskontroll
from iubledger.policies.common import referral
from iubledger.policies.crypto import keyed_hash
from iubledger.policies.regimes import apply
from iubledger.roles import OPERATOR, Actor, Forbidden, may_append, may_append_insats
from iubledger.schemas.base import Rejected, problems_from
from iubledger.schemas.handelser import FOLJER_DELTAGANDE, HANDELSE
from iubledger.schemas.villkor import Utfall
from iubledger.services import gallring, linked, unlinked
from iubledger.store import batch as stored
from iubledger.store import tables
from iubledger.store.batch import Parsed, Work
from iubledger.store.keys import PendingKeys
from iubledger.store.lank import purge_idle
from iubledger.store.ledger import Ledger

Outcome = dict[str, Any] | Rejected | Forbidden


def event(
    ledger: Ledger, raw: str | bytes | dict[str, Any], actor: Actor = OPERATOR
) -> dict[str, Any]:
    """Store one utförare event; atomic and idempotent on the client `id`. Returns
    {event_id, position, deltagande[, besokskod]}; raises Rejected (nothing stored) or
    Forbidden."""
    (result,) = batch(ledger, [raw], actor)
    if isinstance(result, Rejected | Forbidden):
        raise result
    return result


def batch(
    ledger: Ledger,
    raws: Sequence[str | bytes | dict[str, Any] | Rejected],
    actor: Actor | Sequence[Actor] = OPERATOR,
) -> list[Outcome]:
    """Append many events in one transaction; per line, the result or the refusal. A
    Rejected item is a line the entrypoint could not read (not UTF-8, too long): it stays
    refused and is counted with the other refusals (G6). `actor` is the one caller of all
    lines, or one per line (a group commit of several callers' appends)."""
    actors = [actor] * len(raws) if isinstance(actor, Actor) else actor
    lines = [
        raw if isinstance(raw, Rejected) else _parse(ledger, raw, who)
        for raw, who in zip(raws, actors, strict=True)
    ]
    wanted = [k for line in lines if isinstance(line, Parsed) for k in line.nycklar]
    out: list[Outcome] = []
    with ledger.locked() as (session, locked):
        purge_idle(session, datetime.now(UTC).date())  # linkage outside the log (G8)
        results = stored.stored_results(session, wanted)
        work = Work(
            session,
            ledger.decisions(locked.beslut_andringar),
            PendingKeys(ledger.keys),
            results,
            stored.stored_versions(session, ledger.recorder, stored.named(lines, results)),
        )
        for line in lines:
            out.append(_line(ledger, work, line) if isinstance(line, Parsed) else line)
        mac_key = ledger.keys.mac_key(tables.MAC_SYFTE)
        stored.count_refusals(
            session,
            Counter(stored.rule_of(r) for r in out if isinstance(r, Rejected | Forbidden)),
            mac_key,
        )
        if work.events:
            work.keys.persist()  # before the records and courses that are sealed with them
            work.kurser.flush()
            positions = ledger.write(session, locked.tree, *work.events)
            for _, stored_result, first, result in work.klient:
                stored_result["position"] = result["position"] = positions[first]
            stored.store_results(session, work.klient, mac_key)
    ledger.remember(work.aggregates.values())
    return out


def _parse(
    ledger: Ledger, raw: str | bytes | dict[str, Any], actor: Actor
) -> Parsed | Rejected | Forbidden:
    text = json.dumps(raw, default=str) if isinstance(raw, dict) else raw
    try:
        h = HANDELSE.validate_json(text)
    except ValidationError as e:
        return Rejected(problems_from(e))
    if not may_append(actor, h.utforare):
        return Forbidden("the key may append only for its own utförare")
    if not may_append_insats(actor, h.insats):
        return Forbidden("the key is not registered for that insats")
    opened_by = None if h.oppnad_av is None else _klient_nyckel(ledger, h.utforare, h.oppnad_av)
    return Parsed(h, _klient_nyckel(ledger, h.utforare, h.id), opened_by)


def _klient_nyckel(ledger: Ledger, utforare: str, client_id: UUID) -> bytes:
    """Client ids are the utförare's own and stored keyed-hashed (they may link to its
    records). A follow-up may name its participation by the client id of the opening
    event (`oppnad_av`), resolved through the same table."""
    key = ledger.keys.namnd_key("*", "klient-id")
    return keyed_hash(key, utforare.encode() + b"\x00" + client_id.bytes)


def _line(ledger: Ledger, work: Work, line: Parsed) -> dict[str, Any] | Rejected:
    """The earlier result of the same client id, or the line staged now, or why not."""
    if (prior := work.results.get(line.nyckel)) is not None:
        return prior
    try:
        return _stage(ledger, work, line)
    except Rejected as e:
        return e


def _stage(ledger: Ledger, work: Work, line: Parsed) -> dict[str, Any]:
    """Check one event and stage its records; raises Rejected before staging anything."""
    h = line.h
    work.keys.drop()  # keys of a line refused before this one
    version = work.decisions.in_force(h.insats, h.datum)
    if version is None:
        raise Rejected.one(
            "inget_beslut",
            "insats",
            f"no nämnd decision makes {h.insats} IUB on {h.datum.isoformat()} (11 kap. 5 § SoL)",
        )
    insats = version.insats
    if h.utforare not in insats.utforare:
        raise Rejected.one(
            "utforare_ej_registrerad",
            "utforare",
            f"the utförare is not registered for {h.insats} in the nämnd's decision",
        )
    if insats.dokumentation.lankfri:
        linked.hand_over(work, line, insats.dokumentation.lank_gallras_manader)
        return unlinked.stage(work, line, version, lambda: _participation(ledger, work, line))
    group = h.type == "tillfalle" and h.grupp is not None
    ref = _named(work, line)
    if (
        insats.dokumentation.regim in linked.REGIMER
        and not group
        and (ref is None or work.kurser.get(str(ref)) is not None)
    ):
        return linked.stage(work, line, version, ref)
    agg = _participation(ledger, work, line, sealing=insats.dokumentation.regim in linked.REGIMER)
    subjekt = str(agg.id) if agg is not None and not group else str(uuid4())
    dok = apply(version, h, subjekt, work.keys)
    post = dok.falt
    extra: list[dict[str, Any]] = []
    if h.type == "start":
        check_start(insats, h, dok.alder, None if agg is None else agg.villkor_utfall)
    elif h.type == "villkorskontroll":
        check_villkorskontroll(insats, h, dok.alder)
        if h.utfall is Utfall.oklart:
            extra.append(referral(post))
    elif h.type == "tillfalle" and agg is not None:
        check_tillfalle(insats, agg.typer)

    if group:
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
    work.stage(line.nyckel, [target], result)
    return result


def _named(work: Work, line: Parsed) -> UUID | None:
    """The participation a follow-up names: by id, or by the client id of its opening
    event."""
    if line.opened_by is None:
        return line.h.deltagande
    opened = work.results.get(line.opened_by)
    if opened is None or "deltagande" not in opened:
        raise Rejected.one("okant_oppnande", "oppnad_av", "no stored event has that client id")
    return UUID(opened["deltagande"])


def _not_gallrad(ledger: Ledger, ref: UUID) -> None:
    """14 kap. 3 § SoL, G3: nothing more is documented in a participation once gallrad."""
    if gallring.gallrad(ledger, ref):
        raise Rejected.one(
            "deltagande_gallrat",
            "deltagande",
            "the participation has been gallrad: nothing more may be documented in it "
            "(14 kap. 3 § SoL); a new participation starts a new subject",
        )


def _participation(
    ledger: Ledger, work: Work, line: Parsed, *, sealing: bool = False
) -> Deltagande | None:
    """The participation a follow-up refers to, in the log (under 14 kap. 4 §, or begun
    before courses were kept beside the log), checked against the event. `sealing`: the regime
    seals identity, so a stream without a subject key may have been gallrad."""
    h = line.h
    ref = _named(work, line)
    if h.besokskod is not None:
        raise Rejected.one("okand_besokskod", "besokskod", "no such besökskod")
    if ref is None:
        if h.type in FOLJER_DELTAGANDE or (h.type == "tillfalle" and h.grupp is None):
            raise Rejected.one(
                "deltagande_saknas", "deltagande", f"a {h.type} needs a participation"
            )
        return None
    agg = work.aggregates.get(ref) or ledger.cached(ref, work.versions)
    if agg is None:
        try:
            agg = ledger.repository.get(ref)
        except AggregateNotFoundError:
            _not_gallrad(ledger, ref)
            raise Rejected.one("okant_deltagande", "deltagande", "no such participation") from None
    if sealing and ledger.keys.subject_key(str(ref)) is None:
        _not_gallrad(ledger, ref)  # a stream begun before courses were kept beside the log
    if not isinstance(agg, Deltagande):
        raise Rejected.one(
            "fel_insats", "deltagande", "the participation belongs to another insats"
        )
    agg.kan_folja(h.type, h.insats, h.datum)
    return agg
