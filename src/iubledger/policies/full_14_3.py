"""14 kap. 3 § SoL, documentation level 1: executing the insats is documented in full.

Identity and personal circumstances (every identity field given, and the free text) are
kept sealed with the subject's own key, so an authorised role can recover them and
gallring, deleting that key, makes them unrecoverable (G3). Nothing in the record is
computed from the personnummer, not even with a key (G2): the person's participations are
linked by a keyed look-up that never leaves the policy layer except into the deletable
key store, where gallring deletes it. Gender and age band stay open for follow-up.
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies.common import Dokumentation, Keys, checked, person_at_start
from iubledger.policies.crypto import uppslag
from iubledger.schemas.handelser import UtforarHandelse


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Gender and age band open, the rest sealed; the person's keyed look-up for the key
    store, never for the record."""
    u = checked(version, h, person_at_start)
    u.keep_gender_and_age_band()
    sealed = dict(u.given)
    if h.anteckning is not None:
        sealed["anteckning"] = h.anteckning
    u.seal_fields(keys, subjekt, sealed)
    if u.pn is None:
        return u.dokumentation()
    key = keys.namnd_key(version.katalog, "person-uppslag")
    return u.dokumentation(uppslag(key, u.pn.normalized))
