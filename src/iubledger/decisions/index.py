"""Which nämnd decision is in force for an insats on a given day (11 kap. 5 § SoL).

Decisions change over time; every version keeps its place in the history, and an
event is always judged under the version in force on the day it happened (G4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from iubledger.schemas.beslut import BeslutsFil, InsatsBeslut


def natural_key(beslut_id: str) -> list[int | str]:
    """Order ids as people read them: alingsas/3.1.2 before alingsas/3.1.10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", beslut_id)]


@dataclass(frozen=True)
class Version:
    """One version of the decision for one insats: the content and its validity."""

    beslut_id: str
    version: int
    giltig_fran: date
    giltig_till: date | None
    header: dict[str, str | None]
    insats: InsatsBeslut
    recorded_at: datetime

    @property
    def katalog(self) -> str:
        return self.beslut_id.split("/", 1)[0]

    @property
    def forslag(self) -> bool:
        """A proposal, not a decision: never in force for compliance (11 kap. 5 § SoL)."""
        return self.header.get("status") == "forslag"

    @property
    def omprovas_senast(self) -> date | None:
        """When the nämnd must review this insats: its own day, else the file's."""
        if self.insats.omprovas_senast is not None:
            return self.insats.omprovas_senast
        day = self.header.get("revideras_senast")
        return date.fromisoformat(day) if day else None

    def as_json(self) -> dict[str, Any]:
        return {
            "typ": "version",
            "beslut": self.beslut_id,
            "version": self.version,
            "giltig_fran": self.giltig_fran.isoformat(),
            "giltig_till": self.giltig_till.isoformat() if self.giltig_till else None,
            "beslut_header": self.header,
            "insats": self.insats.model_dump(mode="json", exclude_none=True),
            "registrerad": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True)
class Upphavande:
    """Revocation: from `fran` on, the version(s) before it are no longer in force."""

    beslut_id: str
    version: int
    fran: date
    skal: str
    recorded_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "typ": "upphavande",
            "beslut": self.beslut_id,
            "version": self.version,
            "fran": self.fran.isoformat(),
            "skal": self.skal,
            "registrerad": self.recorded_at.isoformat(),
        }


Entry = Version | Upphavande


def in_force(history: Iterable[Entry], day: date) -> Version | None:
    """The version in force on `day`: the latest version that has taken effect, unless it
    has ended or a later revocation had taken effect by then."""
    current: Version | None = None
    for entry in history:
        if isinstance(entry, Version):
            if entry.giltig_fran <= day:
                current = entry
        elif current is not None and entry.fran <= day and entry.version > current.version:
            current = None
    if current is not None and current.giltig_till is not None and day > current.giltig_till:
        return None
    return current


@dataclass
class DecisionIndex:
    """All decision histories, keyed by beslut id (`<katalog>/<insats-id>`)."""

    histories: dict[str, list[Entry]] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        self.histories.setdefault(entry.beslut_id, []).append(entry)

    def in_force(self, beslut_id: str, day: date) -> Version | None:
        return in_force(self.histories.get(beslut_id, ()), day)

    def as_of(self, moment: datetime) -> DecisionIndex:
        """The index as it stood at `moment` (what was recorded by then)."""
        return DecisionIndex(
            {
                k: kept
                for k, h in self.histories.items()
                if (kept := [e for e in h if e.recorded_at <= moment])
            }
        )

    def first_day(self) -> date | None:
        """The earliest day any decision took effect: where a default report period starts."""
        return min(
            (e.giltig_fran for h in self.histories.values() for e in h if isinstance(e, Version)),
            default=None,
        )

    def latest(self, beslut_id: str) -> Version | None:
        versions = [e for e in self.histories.get(beslut_id, ()) if isinstance(e, Version)]
        return versions[-1] if versions else None


def header_of(fil: BeslutsFil) -> dict[str, str | None]:
    """The decision document's header, as stored with every insats version."""
    return {
        "katalog": fil.katalog,
        "namnd": fil.namnd,
        "kommun": fil.kommun,
        "status": "forslag" if fil.forslag else "beslut",
        "diarienummer": fil.diarienummer,
        "paragraf": fil.paragraf,
        "beslutsdatum": fil.beslutsdatum.isoformat() if fil.beslutsdatum else None,
        "revideras_senast": fil.revideras_senast.isoformat() if fil.revideras_senast else None,
    }


def giltig_till_of(fil: BeslutsFil, i: InsatsBeslut) -> date | None:
    """The last day the insats is in force: the earlier of the file's and its own."""
    ends = [d for d in (fil.giltig_till, i.giltig_till) if d is not None]
    return min(ends, default=None)
