"""14 kap. 3 § and 14 kap. 5 § SoL, documentation level 3: no documentation of individuals.

Every identity field is dropped, gender included, and no age band is kept: what remains
are the event's own fields (for a group session, its counts by age band and gender).
Free text is stored only when the scan finds no identifier in it; otherwise the event is
refused (G1).
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies.common import Dokumentation, Keys, checked, identity_in_free_text
from iubledger.schemas.handelser import UtforarHandelse


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Nothing about the person; counts only."""
    u = checked(version, h, identity_in_free_text)
    if h.anteckning is not None:
        u.falt["anteckning"] = h.anteckning
    u.mark_not_kept()
    if u.d.kon is not None:
        u.mark("deltagare.kon", "borttagen")
    return u.dokumentation()
