"""14 kap. 5 § SoL: undantag, where data that can reveal identity is not documented.

Everything 14 kap. 5 § means for storage is here. The nämnd decides the undantag for
one specific insats, for särskilda skäl it states (`decisions/guardrails.py` refuses a
decision without them); every participant of that insats is then documented like this:

- Storage: identity is dropped before anything is stored, alone or in combination
  ("ensamt eller tillsammans med övriga uppgifter"): the personnummer, birth date and
  age are generalised to an age band of the decision's width, gender is kept, every other
  identity field and the facts checked for the villkor are dropped, and no pseudonym is
  made (G2). Gender and age are required at start: the non-identifying data the law
  still asks for is documented, with the event's own fields (date, wellbeing at start
  and end, dropout reason, group counts) as given.
- Free text: stored only when the scan finds no identifier in it, of a known shape or
  given in the same event, in any spelling; otherwise the event is refused (G1).
- Dates: at the decision's `datumprecision`, a week by default, never the day (G8).
- Linking visits: nothing in the log links two records; a random besökskod, never derived
  from identity, is handed to the participant at start and kept only keyed-hashed in the
  link state outside the log, deleted when the participation ends (`services/unlinked.py`).
"""

from __future__ import annotations

import secrets

from iubledger.decisions.index import Version
from iubledger.policies import radgivning_14_4
from iubledger.policies.common import Dokumentation, Keys
from iubledger.schemas.handelser import UtforarHandelse


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Gender and age band only; free text without identifiers; no pseudonym: the fields
    14 kap. 4 § keeps. What 14 kap. 5 § adds is in where they go: dates at the decision's
    period (`schemas/period.py`) and records that link nothing (`services/unlinked.py`)."""
    return radgivning_14_4.document(version, h, subjekt, keys)


def new_besokskod() -> str:
    """A random code handed to the participant to link visits (14 kap. 5 § SoL: no identity)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    c = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{c[:4]}-{c[4:]}"
