"""apply(version, event) → documentation: what of an utförare event may be stored.

The documentation regime of the decision in force picks the one module that decides
(DESIGN.md): `full_14_3` and `deltagardata` (14 kap. 3 § SoL), `radgivning_14_4`
(14 kap. 4 §), `undantag_14_5` (14 kap. 5 §) and `aggregat` (14 kap. 3 and 5 §§). What
they share is `policies/common.py`.
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies import (
    aggregat,
    deltagardata,
    full_14_3,
    radgivning_14_4,
    undantag_14_5,
)
from iubledger.policies.common import Dokumentation, Keys, Policy
from iubledger.schemas.beslut import Regim
from iubledger.schemas.handelser import UtforarHandelse

POLICIES: dict[Regim, Policy] = {
    Regim.full_14_3: full_14_3.document,
    Regim.deltagardata: deltagardata.document,
    Regim.radgivning_14_4: radgivning_14_4.document,
    Regim.undantag_14_5: undantag_14_5.document,
    Regim.aggregat: aggregat.document,
}


def apply(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """The documentation of one event under the regime of the decision in force (G1–G4)."""
    return POLICIES[version.insats.dokumentation.regim](version, h, subjekt, keys)
