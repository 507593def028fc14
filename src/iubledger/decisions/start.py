"""Whether an insats may start for a participant: villkor and children's consent.

11 kap. 5 § SoL: the villkor of the decision must be met (a summary check; doubt is
referred to the nämnd). Children: under 15 a vårdnadshavare's consent is required;
15–17 may start without it only where the nämnd judged the insats suitable for that
target group; the child must always want the insats. Where the decision requires both
vårdnadshavare, both must consent unless the child has one (ensam vårdnad), judged on the
consent the start stores.
"""

from __future__ import annotations

from datetime import date

from iubledger.decisions.villkor import evaluate, required, samtycken_som_kravs
from iubledger.schemas.base import Problem, Rejected
from iubledger.schemas.beslut import FaktumDeklaration, InsatsBeslut
from iubledger.schemas.handelser import Samtycke, Start, Villkorskontroll
from iubledger.schemas.post import Samtycke as StoredSamtycke
from iubledger.schemas.villkor import (
    Fakta,
    IngaVillkor,
    Utfall,
    Varde,
    VardnadshavaresSamtycke,
)


def villkor_outcome(insats: InsatsBeslut, fakta: Fakta | None, alder: int | None) -> Utfall | None:
    """The check over the facts given (the age from identity fills in a missing age).
    Declared facts must be those the decision declares, of their type (Rejected)."""
    if all(isinstance(v, IngaVillkor) for v in insats.villkor):
        return Utfall.uppfyllda
    if fakta is None:
        return None
    if problems := declared_problems(insats, fakta):
        raise Rejected(problems)
    if fakta.alder is None and alder is not None:
        fakta = fakta.model_copy(update={"alder": alder})
    return evaluate(insats.villkor, fakta)


def declared_problems(insats: InsatsBeslut, fakta: Fakta) -> list[Problem]:
    """Each declared fact given is declared for the insats and has a value of its type."""
    declared = {d.namn: d for d in insats.fakta}
    out: list[Problem] = []
    for namn, value in (fakta.deklarerade or {}).items():
        d = declared.get(namn)
        if d is None:
            out.append(
                Problem(
                    "okant_faktum",
                    "fakta.deklarerade",
                    "a fact the nämnd's decision does not declare for the insats",
                )
            )
        elif not _of_type(d, value):
            out.append(
                Problem(
                    "faktum_fel_typ",
                    f"fakta.deklarerade.{d.namn}",
                    f"the fact is declared as {d.typ}",
                )
            )
    return out


def _of_type(d: FaktumDeklaration, value: Varde) -> bool:
    match d.typ:
        case "bool":
            return isinstance(value, bool)
        case "int":
            return isinstance(value, int) and not isinstance(value, bool)
        case "date":
            return isinstance(value, date)
        case "enum":
            return isinstance(value, str) and value in (d.varden or [])
    return False


def start_problems(
    insats: InsatsBeslut,
    *,
    alder: int | None,
    samtycke: Samtycke | None,
    utfall: Utfall | None,
) -> list[Problem]:
    """Refusals for a start, given the villkor outcome known for the participation."""
    problems: list[Problem] = []
    if utfall is None:
        problems.append(
            Problem(
                "villkor_ej_kontrollerade",
                "fakta",
                "11 kap. 5 § SoL: the villkor must be checked before the insats starts "
                "(send 'fakta' or a villkorskontroll first)",
            )
        )
    elif utfall is not Utfall.uppfyllda:
        problems.append(
            Problem(
                f"villkor_{utfall.value}",
                "fakta",
                "11 kap. 5 § SoL: the villkor are not met; the person keeps the right to apply "
                "for a needs-assessed insats (11 kap. 1 §)"
                + (
                    "; doubt is referred to the nämnd (hanvisning)"
                    if utfall is Utfall.oklart
                    else ""
                ),
            )
        )
    if alder is not None and alder < 18:
        if samtycke is None or not samtycke.barnet_vill:
            problems.append(
                Problem("barnets_vilja", "samtycke.barnet_vill", "the child must want the insats")
            )
        need = samtycken_kravs(insats, alder, samtycke)
        if need and (samtycke is None or samtycke.vardnadshavare < need):
            problems.append(
                Problem(
                    "vardnadshavares_samtycke",
                    "samtycke.vardnadshavare",
                    (
                        "both vårdnadshavare must consent (one under ensam vårdnad: record "
                        "'antal_vardnadshavare')"
                        if need == 2
                        else "a vårdnadshavare's consent is required for a child "
                        + ("under 15" if alder < 15 else "of 15–17 for this insats")
                    ),
                )
            )
    return problems


def samtycken_kravs(
    insats: InsatsBeslut, alder: int, samtycke: Samtycke | StoredSamtycke | None
) -> int:
    """How many vårdnadshavare must consent to a start at this age: the general rule (one
    under 15, and 15–17 unless the nämnd judged otherwise), raised by a required
    `vardnadshavares_samtycke` villkor, and both only where the child has two. The start
    check and compliance both read the stored consent through this function."""
    if alder >= 18:
        return 0
    need = 1 if alder < 15 or not insats.barn_utan_samtycke_fran_15 else 0
    har = None if samtycke is None else samtycke.antal_vardnadshavare
    for v in required(insats.villkor):
        if isinstance(v, VardnadshavaresSamtycke) and alder < v.under_alder:
            need = max(need, samtycken_som_kravs(v.antal, har))
    return need


def check_start(insats: InsatsBeslut, h: Start, alder: int | None, earlier: str | None) -> None:
    """A start refused (Rejected) unless the villkor — over the facts given now, or the
    outcome of the participation's earlier villkorskontroll — and the children's rules hold."""
    utfall = (
        villkor_outcome(insats, _fakta(h), alder)
        if h.fakta is not None or earlier is None
        else Utfall(earlier)
    )
    if problems := start_problems(insats, alder=alder, samtycke=h.samtycke, utfall=utfall):
        raise Rejected(problems)


def check_tillfalle(insats: InsatsBeslut, typer: list[str]) -> None:
    """One more session for a participation, within the decision's `max_tillfallen`
    ("max 5 samtal"); `typer` is what the participation has been through."""
    if insats.max_tillfallen is not None and typer.count("tillfalle") >= insats.max_tillfallen:
        raise Rejected.one(
            "max_tillfallen",
            "type",
            f"11 kap. 5 § SoL: the nämnd's decision allows at most {insats.max_tillfallen} "
            "sessions per participation; more is a matter for a needs-assessed insats",
        )


def check_villkorskontroll(insats: InsatsBeslut, h: Villkorskontroll, alder: int | None) -> None:
    """The outcome the utförare states must not contradict the facts it gives (a doubt is
    always allowed: it is referred to the nämnd)."""
    computed = villkor_outcome(insats, h.fakta, alder) if h.fakta else None
    if computed not in (None, Utfall.oklart) and h.utfall not in (computed, Utfall.oklart):
        raise Rejected.one(
            "utfall_motsager_villkor",
            "utfall",
            f"the facts give '{computed}' under the decision's villkor",
        )


def _fakta(h: Start) -> Fakta | None:
    """Facts for the villkor at start. The consent is the one the start stores (`samtycke`),
    never a separate fact that could say otherwise; the gender given fills in a missing one."""
    if h.fakta is None:
        return None
    update: dict[str, object] = {}
    if h.samtycke is not None:
        given = h.fakta.vardnadshavare_samtycker
        if given is not None and given != h.samtycke.vardnadshavare:
            raise Rejected.one(
                "samtycke_motsager_fakta",
                "fakta.vardnadshavare_samtycker",
                "the consent in 'fakta' differs from the consent stored with the start "
                "('samtycke')",
            )
        update["vardnadshavare_samtycker"] = h.samtycke.vardnadshavare
        if h.samtycke.antal_vardnadshavare is not None:
            update["antal_vardnadshavare"] = h.samtycke.antal_vardnadshavare
    if h.fakta.kon is None and h.deltagare is not None and h.deltagare.kon is not None:
        update["kon"] = h.deltagare.kon
    return h.fakta.model_copy(update=update) if update else h.fakta
