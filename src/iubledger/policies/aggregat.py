"""14 kap. 3 § and 14 kap. 5 § SoL, documentation level 3: no documentation of individuals,
counts only.

Every identity field is dropped, gender included, and no age band is kept: what remains
are the event's own coded fields (for a group session, its counts by age band and gender).
No free text is documented: an event with one is refused. Each record is its own and
links to no other (the participation's course is kept outside the log, like under
14 kap. 5 §, `services/append.py`).
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies.common import Dokumentation, Keys, checked
from iubledger.policies.personnummer import Personnummer
from iubledger.schemas.base import Problem
from iubledger.schemas.beslut import Regim
from iubledger.schemas.handelser import Deltagare, UtforarHandelse


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Nothing about the person; counts only."""
    u = checked(version, h, no_free_text)
    u.mark_not_kept()
    if u.d.kon is not None:
        u.mark("deltagare.kon", "borttagen")
    return u.dokumentation()


def no_free_text(
    h: UtforarHandelse, d: Deltagare, pn: Personnummer | None, regim: Regim
) -> list[Problem]:
    """Under aggregat only counts are documented: free text is refused, never stored."""
    if h.anteckning is None:
        return []
    return [
        Problem(
            "fritext_ej_tillaten",
            "anteckning",
            "under aggregat (14 kap. 3 och 5 §§ SoL) only counts are documented, no free text",
        )
    ]
