"""14 kap. 3 § SoL, documentation level 2: participant data without personnummer.

The name is kept sealed with the subject's own key (recoverable by an authorised role,
forgotten at gallring, G3); gender, age and age band are stored; the free text is sealed.
The personnummer and birth date are generalised into the age, never stored, and no
pseudonym is made of them (G1, G2); the other identity fields are dropped.
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies.common import Dokumentation, Keys, checked, person_at_start
from iubledger.schemas.handelser import UtforarHandelse


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Name sealed, gender and age open, never the personnummer."""
    u = checked(version, h, person_at_start)
    u.keep_gender_and_age_band()
    if u.alder is not None:
        u.person["alder"] = u.alder
    sealed = {"namn": u.given["namn"]} if "namn" in u.given else {}
    if h.anteckning is not None:
        sealed["anteckning"] = h.anteckning
    u.mark_not_kept(kept=("namn", "alder"), generalised=("personnummer", "fodelsedatum"))
    u.seal_fields(keys, subjekt, sealed)
    return u.dokumentation()
