"""Replay as of a date (or tree size): decisions and projections as they stood then,
rebuilt from the log into a throw-away database — the live projections are untouched.

By recording time (`recorded`, the default): what had been recorded by the end of the day,
what the nämnd could have seen then. By occurrence (`occurred`): everything recorded so
far about what had happened by the end of the day, with the decisions in force that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from iubledger.audit.compliance import TILLSYN
from iubledger.projections import runner
from iubledger.projections.deltagande import Participation
from iubledger.projections.deltagande import metadata as projection_metadata
from iubledger.reports import participation

Grund = Literal["recorded", "occurred"]
GRUNDER: tuple[Grund, ...] = ("recorded", "occurred")


def replay(
    ledger: Any, as_of: date, tree_size: int | None = None, by: Grund = "recorded"
) -> dict[str, Any]:
    """What was recorded by the end of `as_of` (by="occurred": recorded by now; either way
    within the first `tree_size` records), as a participation report over events that had
    happened by then, plus the decisions; an empty replay by recording time says why.
    Replay is tillsyn's: exact counts for the period asked (a report under disclosure
    control is published for whole calendar quarters, which would reach past `as_of`)."""
    moment = datetime.combine(as_of, time.max, tzinfo=UTC)
    recorded = by == "recorded"
    index = ledger.decision_index().as_of(moment) if recorded else ledger.decision_index()
    engine = create_engine("sqlite://", poolclass=StaticPool)
    for md in (runner.metadata, projection_metadata):
        md.create_all(engine)
    sessions = sessionmaker(engine)
    processed = runner.catch_up(
        ledger, Participation(), sessions.begin, until=moment if recorded else None, stop=tree_size
    )
    fran = index.first_day() or as_of
    with sessions() as session:
        report = participation.build(session, index, fran, as_of, skydd=TILLSYN)
    engine.dispose()
    in_force = {}
    for beslut_id in index.histories:
        v = index.in_force(beslut_id, as_of)
        in_force[beslut_id] = (
            {
                "version": v.version,
                "regim": v.insats.dokumentation.regim.value,
                "giltig_fran": v.giltig_fran.isoformat(),
            }
            if v
            else None
        )
    out = {
        "as_of": as_of.isoformat(),
        "by": by,
        "tree_size": tree_size,
        "poster": processed,
        "beslut_i_kraft": in_force,
        "rapport": report,
    }
    if recorded and not processed:
        out["anmarkning"] = (
            f"Inget var registrerat i slutet av {as_of.isoformat()}: replay visar det som "
            "hade registrerats då (registreringstid). För händelserna efter det datum de "
            "inträffade, oavsett när de registrerades: --by occurred (by=occurred i API:t)."
        )
    return out
