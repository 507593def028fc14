"""Stored dates at the decision's precision (14 kap. 5 § SoL, G8): a day (`2026-04-03`),
an ISO week (`2026-W14`) or a month (`2026-04`). Nothing stored about an event under an
identity-free regime is finer than its period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Literal

Datumprecision = Literal["dag", "vecka", "manad"]


def label(day: date, precision: Datumprecision) -> str:
    """The period of `day` as stored."""
    if precision == "vecka":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if precision == "manad":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def start(stored: str) -> date:
    """The first day of a stored period (a day is its own period)."""
    if "-W" in stored:
        year, week = stored.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    if len(stored) == 7:
        return date.fromisoformat(f"{stored}-01")
    return date.fromisoformat(stored)


def moment(stored: str) -> datetime:
    """The record timestamp of a stored period: its first day at midnight UTC."""
    return datetime.combine(start(stored), time.min, tzinfo=UTC)
