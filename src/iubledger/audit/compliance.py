"""Compliance for tillsyn: did the stored documentation follow 14 kap. 3–5 § and 11 kap.
6 § SoL? Read from the stored records themselves (not from projections), per insats.

Every check says in words which paragraph it checks; refused events are counted by rule,
never shown.

14 kap. 5 § SoL (G8): for every insats whose records are stored under an identity-free
regime, the k-anonymity and the share of unique records over the stored quasi-identifiers
(insats, utförare, period, åldersgrupp, kön, händelsetyp) are computed with the library
pyCANON (`audit/anonymity.py`), per regime the records were stored under. Under undantag
k < 5 is a deviation, with the remedy (a coarser `datumprecision`, a wider
`aldersintervall`); under 14 kap. 4 § and counts only it is shown as information. The
report names the library. pyCANON is installed without its declared dependencies, whose
exact old pins conflict with this project's; the part used needs only numpy and pandas
(see the Makefile and `requirements-nodeps.lock`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select

from iubledger.audit import anonymity
from iubledger.audit import oversikt as O
from iubledger.decisions import tid
from iubledger.decisions.index import DecisionIndex, Version
from iubledger.decisions.start import samtycken_kravs
from iubledger.policies.textscan import scan
from iubledger.reports.participation import scope
from iubledger.reports.protect import Skydd
from iubledger.reports.render.labels import regim_kort as regim_namn
from iubledger.schemas.beslut import IDENTITY_FREE, PARAGRAF, Regim
from iubledger.schemas.post import Person, Samtycke, post_of
from iubledger.store import tables

#: Keys that must never occur in a post under an identity-free regime (14 kap. 4–5 §).
IDENTITETSNYCKLAR = frozenset(
    {
        "forsegling",
        "pseudonym",
        "alder",
        "personnummer",
        "namn",
        "adress",
        "fodelsedatum",
        "telefon",
        "epost",
        "folkbokford_kommun",
    }
)
K_ANONYMITET = 5
#: The compliance report is for supervision, with exact counts.
TILLSYN = Skydd(k=None, exakt_for="tillsyn (IVO) och nämndens egenkontroll")


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | set().union(*(_keys(v) for v in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_keys(v) for v in obj)) if obj else set()
    return set()


def _week(day: date) -> str:
    y, w, _ = day.isocalendar()
    return f"{y}-V{w:02d}"


def _minor(band: str | None) -> bool:
    """A band wholly below 18 (a band such as 15-19 cannot tell, and is not counted)."""
    if band is None or "-" not in band:
        return False
    return int(band.split("-", 1)[1]) < 18


def _consent_met(version: Version, person: Person, samtycke: Samtycke | None) -> bool:
    """The stored consent meets what the decision requires at the stored age (the exact
    age where kept, else the top of the band): the same rule as at start."""
    alder = person.alder
    if alder is None and person.aldersgrupp is not None:
        alder = int(person.aldersgrupp.split("-", 1)[1])
    if alder is None:
        return samtycke is not None and samtycke.vardnadshavare > 0
    need = samtycken_kravs(version.insats, alder, samtycke)
    return need == 0 or (samtycke is not None and samtycke.vardnadshavare >= need)


K_KONTROLL = "k-anonymitet för lagrade uppgifter"
K_ATGARD = (
    "Åtgärd: nämnden kan besluta om grövre datumprecision (fältet datumprecision, t.ex. "
    "månad i stället för vecka) eller bredare åldersgrupper (fältet aldersintervall, t.ex. "
    f"10 år) så att varje kombination förekommer minst {K_ANONYMITET} gånger."
)
IDENTITET_KONTROLL = "Inga uppgifter som kan röja identitet lagrade"
#: The area of law an identity-free regime answers to.
_OMRADE = {Regim.radgivning_14_4: O.RADGIVNING}


def _k_line(regim: Regim, m: anonymity.Matning) -> O.Kontroll:
    """14 kap. 5 § SoL (G8): k of the records stored under `regim`; below K_ANONYMITET a
    deviation under undantag, information under the other identity-free regimes."""
    low = m.k < K_ANONYMITET
    detalj = (
        f"k = {m.k} under {regim_namn(regim.value)}; {m.unika} av {m.rader} rader "
        f"({_decimal(100 * m.andel_unika)} %) är ensamma om sin kombination av "
        f"{anonymity.KVASI_TEXT} ({anonymity.RAD_TEXT}); beräknat med {anonymity.BIBLIOTEK}"
    )
    if regim is Regim.undantag_14_5:
        return O.kontroll(
            O.UNDANTAG,
            K_KONTROLL,
            not low,
            detalj + (f". Under {K_ANONYMITET} kan enskilda pekas ut. {K_ATGARD}" if low else ""),
            avvikande=m.unika,
            av=m.rader,
            enhet="rader",
        )
    return O.kontroll(
        _OMRADE.get(regim, O.UNDANTAG), K_KONTROLL, None, detalj, paragraf=PARAGRAF[regim]
    )


def _complete(
    omrade: O.Omrade, kontroll: str, part: int, whole: int, enhet: str, paragraf: str | None = None
) -> O.Kontroll:
    """A completeness check: met only when every one of `whole` has it."""
    return O.kontroll(
        omrade,
        kontroll,
        part == whole,
        _pct(part, whole),
        paragraf=paragraf,
        avvikande=whole - part,
        av=whole,
        enhet=enhet,
    )


def _decimal(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def _pct(part: int, whole: int) -> str:
    return f"{part} av {whole} ({_decimal(100 * part / whole)} %)" if whole else "inga registrerade"


def build(
    ledger: Any,
    index: DecisionIndex,
    fran: date,
    till: date,
    *,
    insatser: list[str] | None = None,
    namnd: str | None = None,
) -> dict[str, Any]:
    """The compliance report: the overview per paragraph, the deviations, then every
    insats's checks; for one nämnd (its egenkontroll) only its own katalog."""
    covered = scope(index, till, insatser, namnd)
    c: dict[str, Counter[str]] = defaultdict(Counter)
    leaks: dict[tuple[str, Regim], list[int]] = defaultdict(list)
    cells: Counter[tuple[str, str, str, str]] = Counter()
    qi: dict[str, dict[Regim, list[anonymity.Rad]]] = defaultdict(lambda: defaultdict(list))
    for position, e in ledger.records():
        post = post_of(e)
        if post is None or post.insats not in covered:
            continue
        day = post.dag
        if not fran <= day <= till:
            continue
        i, t, regim = post.insats, post.type, post.beslut.regim
        c[i]["poster"] += 1
        c[i][f"utforare:{post.utforare}"] += 1
        c[i][f"regim:{regim.value}"] += 1
        if regim in IDENTITY_FREE:
            c[i][f"granskade:{regim.value}"] += 1
            qi[i][regim].extend(anonymity.rader(post))
            text = post.anteckning
            if _keys(e.post) & IDENTITETSNYCKLAR or (text and scan(text, today=day)):
                leaks[(i, regim)].append(position)
        person = post.person
        if t == "kontakt":
            c[i]["kontakt"] += 1
            c[i]["informerad"] += bool(post.informerad_om_ansokan)
            c[i]["kontakt_anonym"] += bool(post.anonym)
        elif t == "start":
            c[i]["start"] += 1
            if regim is not Regim.aggregat:
                c[i]["start_krav"] += 1
                c[i]["start_komplett"] += person.kon is not None and person.aldersgrupp is not None
            if _minor(person.aldersgrupp) or (person.alder is not None and person.alder < 18):
                samtycke = post.samtycke
                version = index.in_force(i, day) or covered[i]
                c[i]["start_barn"] += 1
                c[i]["start_barn_samtycke"] += _consent_met(version, person, samtycke)
                c[i]["start_barn_vilja"] += samtycke is not None and samtycke.barnet_vill
            cells[(i, _week(day), person.kon or "?", person.aldersgrupp or "?")] += 1
        elif t == "avbrott":
            c[i]["avbrott"] += 1
            c[i]["avbrott_orsak"] += bool(post.orsak)
        elif t == "villkorskontroll":
            c[i][f"villkor:{post.utfall}"] += 1
        elif t == "hanvisning":
            c[i]["hanvisning"] += 1

    rows: list[dict[str, Any]] = []
    checked: list[O.Insats] = []
    for i, v in covered.items():
        lines = _checks(index, i, v, c[i], leaks, qi[i], fran, till)
        row: dict[str, Any] = {
            "insats": i,
            "namn": v.insats.namn,
            "kategori": v.insats.kategori,
            "regim": v.insats.dokumentation.regim.value,
            "paragraf": PARAGRAF[v.insats.dokumentation.regim],
            "poster": c[i]["poster"],
            "tillhandahallare": _providers(v, c[i]),
            "kontroller": [x.as_json() for x in lines],
        }
        matt = _measured(qi[i])
        if matt:
            row["k_anonymitet"] = [
                {"regim": r.value, **m.as_json()} for r, m in sorted(matt.items())
            ]
        rows.append(row)
        checked.append((i, v.insats.namn, lines))

    small = sorted((k for k, m in cells.items() if m < K_ANONYMITET))
    lines_per_paragraph = O.oversikt(checked)
    report: dict[str, Any] = {
        "rapport": "efterlevnad",
        "period": {"fran": fran.isoformat(), "till": till.isoformat()},
        "skydd": TILLSYN.as_json(False),
        "sammanfattning": O.sammanfattning(lines_per_paragraph, len(rows)),
        "oversikt": lines_per_paragraph,
        "avvikelser": O.avvikelser(checked),
        "insatser": rows,
        "per_kategori": _per_kategori(rows),
        "forsenade_omprovningar": [
            i for i, v in covered.items() if tid.forsenad_omprovning(v, till)
        ],
        "upphorda_undantag": [i for i, v in covered.items() if tid.upphort_undantag(v, till)],
    }
    if namnd is None:
        report["avvisade_handelser"] = _refused(ledger, fran, till)
    report["k_anonymitet"] = {
        "paragraf": "14 kap. 5 § SoL: kvasi-identifierare (åldersgrupp × kön × insats × vecka)",
        "k": K_ANONYMITET,
        "celler": len(cells),
        "sma_celler": len(small),
        "text": (
            f"{len(small)} av {len(cells)} celler har färre än {K_ANONYMITET} starter; "
            "små grupper kan göra enskilda identifierbara tillsammans med andra uppgifter. "
            f"k per insats över alla lagrade poster ({anonymity.KVASI_TEXT}): "
            "se respektive insats."
        ),
        "k_per_insats_beraknat_med": anonymity.BIBLIOTEK,
    }
    return report


def _measured(qi: dict[Regim, list[anonymity.Rad]]) -> dict[Regim, anonymity.Matning]:
    return {r: m for r, recs in qi.items() if (m := anonymity.mat(recs))}


def _refused(ledger: Any, fran: date, till: date) -> dict[str, Any]:
    """Refused events per rule (G6): counted over the whole ledger, so shown only in the
    report over every nämnd (tillsyn's), never in one nämnd's."""
    with ledger.transaction() as session:
        refused = session.execute(
            select(tables.avvisning.c.regel, func.sum(tables.avvisning.c.antal))
            .where(tables.avvisning.c.dag >= fran, tables.avvisning.c.dag <= till)
            .group_by(tables.avvisning.c.regel)
            .order_by(tables.avvisning.c.regel)
        ).all()
    return {
        "paragraf": "14 kap. 3 § SoL och G6: avvisade uppgifter lagras aldrig; antal per regel",
        "per_regel": [{"regel": r, "antal": int(n)} for r, n in refused],
    }


def _checks(
    index: DecisionIndex,
    i: str,
    v: Version,
    n: Counter[str],
    leaks: dict[tuple[str, Regim], list[int]],
    qi: dict[Regim, list[anonymity.Rad]],
    fran: date,
    till: date,
) -> list[O.Kontroll]:
    """Every check of one insats, each naming its paragraph and area of law."""
    dok = v.insats.dokumentation
    lines = [
        O.kontroll(
            O.BESLUT,
            "Beslut av nämnden i kraft",
            not any(e.forslag for e in _versions(index, i, fran, till)),
            _decisions_text(index, i, fran, till),
        )
    ]
    lines += [
        O.kontroll(
            O.UNDANTAG if k.paragraf.startswith("14 kap. 5") else O.BESLUT,
            k.kontroll,
            k.ok,
            k.detalj,
            paragraf=k.paragraf,
        )
        for k in tid.kontroller(v, fran, till)
    ]
    if dok.regim is Regim.undantag_14_5 or n[f"regim:{Regim.undantag_14_5.value}"]:
        lines.append(
            O.kontroll(
                O.UNDANTAG,
                "Särskilda skäl angivna för undantaget",
                bool(dok.sarskilda_skal),
                "särskilda skäl finns i beslutet"
                if dok.sarskilda_skal
                else "särskilda skäl saknas",
            )
        )
    for regim in sorted(IDENTITY_FREE):
        granskade = n[f"granskade:{regim.value}"]
        if not granskade:
            continue
        found = leaks[(i, regim)]
        lines.append(
            O.kontroll(
                _OMRADE.get(regim, O.UNDANTAG),
                IDENTITET_KONTROLL,
                not found,
                f"{granskade} lagrade poster granskade under {regim_namn(regim.value)}; "
                + (
                    "inga identitetsuppgifter funna"
                    if not found
                    else f"identitetsuppgifter i {len(found)} poster, första på position {found[0]}"
                ),
                paragraf=PARAGRAF[regim],
                avvikande=len(found),
                av=granskade,
                enhet="poster",
            )
        )
    lines += [_k_line(r, m) for r, m in sorted(_measured(qi).items())]
    if n["start_krav"]:
        lines.append(
            _complete(
                O.DOKUMENTATION,
                "Kön och åldersgrupp dokumenterade vid start",
                n["start_komplett"],
                n["start_krav"],
                "starter",
            )
        )
    if n["avbrott"]:
        lines.append(
            _complete(
                O.DOKUMENTATION,
                "Orsak dokumenterad vid avbrott",
                n["avbrott_orsak"],
                n["avbrott"],
                "avbrott",
                "14 kap. 3 och 5 §§ SoL",
            )
        )
    if n["kontakt"]:
        lines.append(
            _complete(
                O.INFORMATION,
                "Informerad om rätten att ansöka om behovsprövad insats",
                n["informerad"],
                n["kontakt"],
                "kontakter",
            )
        )
    if n["kontakt_anonym"]:
        lines.append(
            O.kontroll(
                O.VILLKOR,
                "Anonyma kontakter (villkoren inte kontrollerade)",
                None,
                f"{_pct(n['kontakt_anonym'], n['kontakt'])} av kontakterna var anonyma; "
                "personen lämnade inga uppgifter och villkoren kontrollerades inte",
            )
        )
    if n["start_barn"]:
        lines.append(
            O.kontroll(
                O.BARN,
                "Vårdnadshavares samtycke och barnets vilja vid start",
                n["start_barn_vilja"] == n["start_barn_samtycke"] == n["start_barn"],
                f"samtycke: {_pct(n['start_barn_samtycke'], n['start_barn'])}; "
                f"barnets vilja: {_pct(n['start_barn_vilja'], n['start_barn'])}",
                avvikande=n["start_barn"] - min(n["start_barn_vilja"], n["start_barn_samtycke"]),
                av=n["start_barn"],
                enhet="starter av barn",
            )
        )
    outcomes = {u: n[f"villkor:{u}"] for u in ("uppfyllda", "ej_uppfyllda", "oklart")}
    if any(outcomes.values()):
        lines.append(
            O.kontroll(
                O.VILLKOR,
                "Villkorskontroller och hänvisningar till nämnden",
                n["hanvisning"] >= outcomes["oklart"],
                f"uppfyllda {outcomes['uppfyllda']}, ej uppfyllda {outcomes['ej_uppfyllda']}, "
                f"oklara {outcomes['oklart']}; hänvisningar {n['hanvisning']}",
                avvikande=max(0, outcomes["oklart"] - n["hanvisning"]),
                av=outcomes["oklart"],
                enhet="oklara villkorskontroller",
            )
        )
    return lines


def _providers(v: Version, n: Counter[str]) -> list[dict[str, Any]]:
    """Who provides the insats and how many of its records each provider's utförare made."""
    return [
        {
            "typ": p.typ,
            "namn": p.namn,
            **({"avtal": p.avtal} if p.avtal else {}),
            **({"tillsammans_med": p.tillsammans_med} if p.tillsammans_med else {}),
            "utforare": p.utforare,
            "poster": sum(n[f"utforare:{u}"] for u in p.utforare),
        }
        for p in v.insats.tillhandahalls_av
    ]


def _per_kategori(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Stored records per kategori (rådgivning, stöd i grupp, ...)."""
    out: dict[str, int] = {}
    for r in rows:
        out[r["kategori"]] = out.get(r["kategori"], 0) + r["poster"]
    return dict(sorted(out.items()))


def _versions(index: DecisionIndex, beslut_id: str, fran: date, till: date) -> list[Version]:
    return [
        e
        for e in index.histories.get(beslut_id, [])
        if isinstance(e, Version)
        and e.giltig_fran <= till
        and (e.giltig_till is None or e.giltig_till >= fran)
    ]


def _decisions_text(index: DecisionIndex, beslut_id: str, fran: date, till: date) -> str:
    return (
        "; ".join(
            f"version {v.version} från {v.giltig_fran.isoformat()} "
            + (
                "(förslag, inte beslutat av nämnden)"
                if v.forslag
                else f"({v.header.get('diarienummer')} {v.header.get('paragraf')})"
            )
            + f", {regim_namn(v.insats.dokumentation.regim.value)}"
            for v in _versions(index, beslut_id, fran, till)
        )
        or "inget beslut i kraft under perioden"
    )
