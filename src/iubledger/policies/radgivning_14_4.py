"""14 kap. 4 § SoL: rådgivning, where personal circumstances are not documented.

Identity and personal circumstances are dropped before storage; the personnummer, birth
date and age are generalised to an age band, kept with gender, because overall data for
follow-up and control must still be documented. Free text is stored only when the scan
finds no identifier in it; otherwise the event is refused (G1).
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies.common import (
    Dokumentation,
    Keys,
    checked,
    identity_in_free_text,
    person_at_start,
)
from iubledger.schemas.handelser import UtforarHandelse


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Gender and age band only; free text without identifiers."""
    u = checked(version, h, identity_in_free_text, person_at_start)
    u.keep_gender_and_age_band()
    if h.anteckning is not None:
        u.falt["anteckning"] = h.anteckning
    u.mark_not_kept(generalised=("personnummer", "fodelsedatum", "alder"))
    return u.dokumentation()
