"""k-anonymity of what is stored, per insats (14 kap. 5 § SoL; DESIGN G8).

Identity can be revealed by data "ensamt eller tillsammans med övriga uppgifter": a reader
of the whole store sees, for each record, the quasi-identifiers below. Each stored post is
one record; a group session's count of n (age band, gender) is n records, since it tells
that many people of that band and gender were there that day. A missing value is its own
value ('-'), never dropped. The period is the stored `datum` taken as an opaque label (a
day today; a week or month once the decision's `datumprecision` coarsens it).

k (the size of the smallest class of records alike on every quasi-identifier) and the
equivalence classes are computed by pyCANON (`pycanon.anonymity`, Sáinz-Pardo Díaz & López
García 2022); this module only prepares the DataFrame and counts the records in classes
of one. pyCANON is installed without its declared dependencies (exact old pins of typer,
numpy, scipy, reportlab … that conflict with requirements.lock): `pycanon.anonymity`
imports only numpy and pandas, both pinned in requirements.lock (see the Makefile).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pycanon
from pycanon import anonymity
from pycanon.anonymity.utils import aux_anonymity

from iubledger.schemas.post import Post

#: The library, as the report names it.
BIBLIOTEK = f"pyCANON {pycanon.__version__} (pycanon.anonymity.k_anonymity)"
#: The stored quasi-identifiers of a record, in the report's words.
KVASI_IDENTIFIERARE = ("insats", "utforare", "period", "aldersgrupp", "kon", "typ")
KVASI_TEXT = "insats, utförare, period (lagrat datum), åldersgrupp, kön och händelsetyp"
#: What one record is, in the report's words.
RAD_TEXT = "en rad per lagrad post och en per person som en gruppträff räknar"
SAKNAS = "-"

Rad = tuple[str, str, str, str, str, str]


def rader(post: Post) -> Iterator[Rad]:
    """The records one stored post shows a reader: one, or one per person a group count
    counts."""
    period = str(post.datum)
    if post.grupp is not None:
        for g in post.grupp:
            for _ in range(g.antal):
                yield (post.insats, post.utforare, period, g.aldersgrupp, g.kon, "tillfalle/grupp")
        return
    person = post.person
    yield (
        post.insats,
        post.utforare,
        period,
        person.aldersgrupp or SAKNAS,
        person.kon or SAKNAS,
        post.type,
    )


@dataclass(frozen=True)
class Matning:
    """k, and the records alone in their class, over `rader` records."""

    rader: int
    k: int
    unika: int

    @property
    def andel_unika(self) -> float:
        return self.unika / self.rader

    def as_json(self) -> dict[str, object]:
        return {
            "k": self.k,
            "rader": self.rader,
            "unika_rader": self.unika,
            "andel_unika": round(self.andel_unika, 4),
            "kvasi_identifierare": list(KVASI_IDENTIFIERARE),
            "bibliotek": BIBLIOTEK,
        }


def mat(records: list[Rad]) -> Matning | None:
    """k-anonymity and unique records of `records`, by pyCANON; None when there are none."""
    if not records:
        return None
    qi = list(KVASI_IDENTIFIERARE)
    data = pd.DataFrame(records, columns=qi, dtype=object)
    k = int(anonymity.k_anonymity(data, qi))
    sizes = [len(ec) for ec in aux_anonymity.get_equiv_class(data, qi)]
    return Matning(rader=len(records), k=k, unika=sum(1 for n in sizes if n == 1))
