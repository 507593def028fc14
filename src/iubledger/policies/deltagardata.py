"""14 kap. 3 § SoL, documentation level 2: participant data without personnummer.

The name is kept sealed with the subject's own key (recoverable by an authorised role,
forgotten at gallring, G3); gender, age and age band are stored; the free text is sealed.
The personnummer and birth date are generalised into the age, never stored, and no
pseudonym is made of them (G1, G2); the other identity fields are dropped. A personnummer
or samordningsnummer written into the name or the free text would be sealed and later
shown by `identity show`, so such an event is refused (G1: no personnummer anywhere);
names, phone numbers and the like are allowed there under this regime.
"""

from __future__ import annotations

from iubledger.decisions.index import Version
from iubledger.policies.common import Dokumentation, Keys, checked, person_at_start
from iubledger.policies.personnummer import Personnummer
from iubledger.policies.textscan import Kind, scan
from iubledger.schemas.base import Problem
from iubledger.schemas.beslut import PARAGRAF, Regim
from iubledger.schemas.handelser import Deltagare, UtforarHandelse

#: What the scan may find that this regime never documents (folkbokföringslagen 18 §,
#: lag 2022:1697).
_NUMMER: frozenset[Kind] = frozenset({"personnummer", "samordningsnummer"})


def no_personnummer(
    h: UtforarHandelse, d: Deltagare, pn: Personnummer | None, regim: Regim
) -> list[Problem]:
    """The name and the free text hold no personnummer or samordningsnummer: of a known
    shape, or the one given in the same event, in any spelling the scan knows (G1). The
    problem names the field and the rule, never the value (G6)."""
    given: list[tuple[Kind, str]] = [("personnummer", d.personnummer)] if d.personnummer else []
    texts = {"deltagare.namn": d.namn, "anteckning": h.anteckning}
    problems: list[Problem] = []
    for falt, text in texts.items():
        if not text:
            continue
        hits = scan(text, given=given, today=h.datum)
        problems += [
            Problem(
                "personnummer_i_fritext",
                falt,
                f"the {falt.rsplit('.', 1)[-1]} field contains a {kind}; under {regim.value} "
                f"({PARAGRAF[regim]}) a personnummer is never documented",
            )
            for kind in sorted({hit.kind for hit in hits} & _NUMMER)
        ]
    return problems


def document(version: Version, h: UtforarHandelse, subjekt: str, keys: Keys) -> Dokumentation:
    """Name sealed, gender and age open, never the personnummer."""
    u = checked(version, h, no_personnummer, person_at_start)
    u.keep_gender_and_age_band()
    if u.alder is not None:
        u.person["alder"] = u.alder
    sealed = {"namn": u.given["namn"]} if "namn" in u.given else {}
    if h.anteckning is not None:
        sealed["anteckning"] = h.anteckning
    u.mark_not_kept(kept=("namn", "alder"), generalised=("personnummer", "fodelsedatum"))
    u.seal_fields(keys, subjekt, sealed)
    return u.dokumentation()
