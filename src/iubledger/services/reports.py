"""Reports for the nämnd (participation and effect, disclosure-controlled) and tillsyn
(compliance with 14 kap. 3–5 § and 11 kap. 6 § SoL, replay), one use case for every
entrypoint; projections are brought up to date first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from iubledger.audit import compliance
from iubledger.audit.replay import Grund
from iubledger.audit.replay import replay as replay_log
from iubledger.projections import runner
from iubledger.projections.deltagande import Participation
from iubledger.reports import effect, participation
from iubledger.reports.facts import Indelning
from iubledger.reports.protect import STANDARD, Skydd
from iubledger.schemas.base import Rejected
from iubledger.store.ledger import Ledger

Kind = Literal["participation", "compliance", "effect"]
KINDS: tuple[Kind, ...] = ("participation", "compliance", "effect")

#: Longest report period (days); longer ones are refused rather than computed.
MAX_PERIOD_DAYS = 3700
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


@dataclass(frozen=True)
class Request:
    """Which report, over which days (default: from the first decision to today), for which
    insatser or nämnd (katalog), broken down how, protected how."""

    kind: Kind
    fran: date | None = None
    till: date | None = None
    insatser: list[str] | None = None
    namnd: str | None = None
    indelning: Indelning = "manad"
    skydd: Skydd = STANDARD


def build(
    ledger: Ledger, req: Request, tick: Callable[[int], None] = lambda n: None
) -> dict[str, Any]:
    """The report asked for; the period is checked before anything is computed."""
    index = ledger.decision_index()
    first = req.fran or index.first_day() or date.today()
    last = req.till or date.today()
    check_period(first, last)
    if req.kind == "compliance":
        return compliance.build(ledger, index, first, last, insatser=req.insatser, namnd=req.namnd)
    project(ledger, tick)
    with ledger.transaction() as session:
        if req.kind == "participation":
            return participation.build(
                session,
                index,
                first,
                last,
                insatser=req.insatser,
                namnd=req.namnd,
                indelning=req.indelning,
                skydd=req.skydd,
            )
        return effect.build(
            session, index, first, last, insatser=req.insatser, namnd=req.namnd, skydd=req.skydd
        )


def replay(
    ledger: Ledger, as_of: date, tree_size: int | None = None, by: Grund = "recorded"
) -> dict[str, Any]:
    """Decisions and projections as they stood at the end of `as_of` (by recording time,
    or by the events' own dates), rebuilt from the log (live projections untouched)."""
    in_range(as_of, "as_of")
    first = ledger.decision_index().first_day()
    if first is not None and as_of - first > timedelta(days=MAX_PERIOD_DAYS):
        raise Rejected.one(
            "period_for_lang",
            "as_of",
            f"a replay covers at most {MAX_PERIOD_DAYS} days of decisions",
        )
    return replay_log(ledger, as_of, tree_size, by)


def project(ledger: Ledger, tick: Callable[[int], None] = lambda n: None) -> int:
    """Bring the live projections up to date with the log; returns the number of records
    this call projected. Another process projecting at the same time is not an error: the
    page it wrote first counts once, and this call goes on from there."""
    done = 0

    def counted(n: int) -> None:
        nonlocal done
        done += n
        tick(n)

    while True:
        try:
            runner.catch_up(ledger, Participation(), ledger.transaction, tick=counted)
            return done
        except runner.ConcurrentUpdate:
            continue  # its page was rolled back; re-read the position


def rebuild(ledger: Ledger, tick: Callable[[int], None] = lambda n: None) -> int:
    """Projections rebuilt from the log alone."""
    runner.reset(Participation(), ledger.transaction)
    return project(ledger, tick)


def in_range(day: date, field: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise Rejected.one("datum_utanfor", field, "the date is outside 1900–2199")


def check_period(fran: date, till: date) -> None:
    """A report period inside 1900–2199, not reversed, at most MAX_PERIOD_DAYS long."""
    in_range(fran, "from")
    in_range(till, "to")
    if fran > till:
        raise Rejected.one("period", "from", "'from' is after 'to'")
    if till - fran > timedelta(days=MAX_PERIOD_DAYS):
        raise Rejected.one(
            "period_for_lang", "to", f"a report covers at most {MAX_PERIOD_DAYS} days"
        )
