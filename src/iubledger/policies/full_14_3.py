"""14 kap. 3 § SoL, documentation level 1: executing the insats is documented in full.

Identity and personal circumstances (every identity field given, and the free text) are
kept sealed with the subject's own key, so an authorised role can recover them and
gallring, deleting that key, makes them unrecoverable (G3). A personnummer links the
person's participations through a pseudonym keyed per nämnd and purpose, its key outside
the event store (G2). Gender and age band stay open for follow-up.
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies.common import Dokumentation, Keys, checked, person_at_start
from iubledger.policies.crypto import pseudonym
from iubledger.schemas.handelser import UtforarHandelse


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Gender and age band open, a keyed pseudonym of the personnummer, the rest sealed."""
    u = checked(version, h, person_at_start)
    u.keep_gender_and_age_band()
    sealed = dict(u.given)
    if u.pn is not None:
        key = keys.namnd_key(version.katalog, "pseudonym")
        u.person["pseudonym"] = pseudonym(key, u.pn.normalized)
        u.mark("deltagare.personnummer", "pseudonymiserad")
    if h.anteckning is not None:
        sealed["anteckning"] = h.anteckning
    u.seal_fields(keys, subjekt, sealed)
    return u.dokumentation()
