"""Time in a decision (11 kap. 5 §, 14 kap. 5 § SoL): when the nämnd must review an
insats, whether an insats (an undantag decided for an initial period) has ended, and when
its follow-up duties fall due. Pure functions over a decision version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from iubledger.decisions.index import Version
from iubledger.schemas.beslut import Regim, Uppfoljningsplikt

#: Months between two due days of a follow-up duty.
MANADER = {"manad": 1, "kvartal": 3, "halvar": 6, "ar": 12}
FREKVENS_TEXT = {
    "manad": "varje månad",
    "kvartal": "varje kvartal",
    "halvar": "varje halvår",
    "ar": "varje år",
}


@dataclass(frozen=True)
class Kontroll:
    """One compliance check: paragraph, what is checked, met (None: information), detail."""

    paragraf: str
    kontroll: str
    ok: bool | None
    detalj: str


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def forfaller(plikt: Uppfoljningsplikt, fran: date, till: date, start: date) -> list[date]:
    """The due days of a duty within [fran, till]: the last day of each period of its
    frequency, counted from the month the decision took effect."""
    step = MANADER[plikt.frekvens]
    out: list[date] = []
    n = 1
    while True:
        months = start.month - 1 + n * step - 1
        day = _month_end(start.year + months // 12, months % 12 + 1)
        if day > till:
            return out
        if day >= fran:
            out.append(day)
        n += 1


def kontroller(v: Version, fran: date, till: date) -> list[Kontroll]:
    """The decision's own time checks for a report period ending `till`."""
    out: list[Kontroll] = []
    dok = v.insats.dokumentation
    if dok.regim is Regim.undantag_14_5:
        out.append(
            Kontroll(
                "14 kap. 5 § SoL",
                "Risk- och konsekvensanalys för undantaget",
                dok.riskanalys is not None,
                dok.riskanalys or "beslutet anger ingen risk- och konsekvensanalys",
            )
        )
    review = v.omprovas_senast
    if review is not None:
        out.append(
            Kontroll(
                "11 kap. 5 § SoL",
                "Beslutet omprövat i tid",
                review >= till,
                f"omprövas senast {review.isoformat()}"
                + ("" if review >= till else "; tiden har passerat utan nytt beslut"),
            )
        )
    if v.giltig_till is not None and v.giltig_till < till:
        out.append(
            Kontroll(
                "11 kap. 5 § SoL",
                "Beslutets giltighet",
                None,
                f"insatsen gällde till {v.giltig_till.isoformat()}; därefter tas inga "
                "händelser emot",
            )
        )
    for p in v.insats.uppfoljningsplikter:
        days = forfaller(p, fran, till, v.giltig_fran)
        out.append(
            Kontroll(
                "11 kap. 5 § SoL",
                f"Uppföljning enligt beslutet: {p.slag} till {p.mottagare}",
                None,
                f"{FREKVENS_TEXT[p.frekvens]}; under perioden förfaller "
                + (", ".join(d.isoformat() for d in days) if days else "ingen"),
            )
        )
    return out


def forsenad_omprovning(v: Version, till: date) -> bool:
    review = v.omprovas_senast
    return review is not None and review < till


def upphort_undantag(v: Version, till: date) -> bool:
    return (
        v.insats.dokumentation.regim is Regim.undantag_14_5
        and v.giltig_till is not None
        and v.giltig_till < till
    )
