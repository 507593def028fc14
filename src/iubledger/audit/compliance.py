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
from iubledger.decisions import tid
from iubledger.decisions.index import DecisionIndex, Version
from iubledger.decisions.start import samtycken_kravs
from iubledger.policies.textscan import scan
from iubledger.reports.participation import scope
from iubledger.reports.protect import Skydd
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


def _line(paragraf: str, kontroll: str, ok: bool | None, detalj: str) -> dict[str, Any]:
    """A check: met, a deviation, or (None) information the law sets no bar for."""
    return {
        "paragraf": paragraf,
        "kontroll": kontroll,
        "resultat": "information" if ok is None else "uppfyllt" if ok else "avvikelse",
        "detalj": detalj,
    }


K_KONTROLL = "k-anonymitet för lagrade uppgifter"
K_ATGARD = (
    "Åtgärd: nämnden kan besluta om grövre datumprecision (fältet datumprecision, t.ex. "
    "månad i stället för vecka) eller bredare åldersgrupper (fältet aldersintervall, t.ex. "
    f"10 år) så att varje kombination förekommer minst {K_ANONYMITET} gånger."
)


def _k_line(regim: Regim, m: anonymity.Matning) -> dict[str, Any]:
    """14 kap. 5 § SoL (G8): k of the records stored under `regim`; below K_ANONYMITET a
    deviation under undantag, information under the other identity-free regimes."""
    low = m.k < K_ANONYMITET
    detalj = (
        f"k = {m.k} ({regim.value}); {m.unika} av {m.rader} rader "
        f"({100 * m.andel_unika:.1f} %) är ensamma om sin kombination av "
        f"{anonymity.KVASI_TEXT} ({anonymity.RAD_TEXT}); beräknat med {anonymity.BIBLIOTEK}"
    )
    if regim is Regim.undantag_14_5:
        return _line(
            "14 kap. 5 § SoL",
            K_KONTROLL,
            not low,
            detalj + (f". Under {K_ANONYMITET} kan enskilda pekas ut. {K_ATGARD}" if low else ""),
        )
    return _line(PARAGRAF[regim], K_KONTROLL, None, detalj)


def _complete(paragraf: str, kontroll: str, part: int, whole: int) -> dict[str, Any]:
    """A completeness line: met only when every one of `whole` has it."""
    return _line(paragraf, kontroll, part == whole, _pct(part, whole))


def _pct(part: int, whole: int) -> str:
    return f"{part} av {whole} ({100 * part / whole:.1f} %)" if whole else "inga registrerade"


def build(
    ledger: Any,
    index: DecisionIndex,
    fran: date,
    till: date,
    *,
    insatser: list[str] | None = None,
    namnd: str | None = None,
) -> dict[str, Any]:
    covered = scope(index, till, insatser, namnd)
    c: dict[str, Counter[str]] = defaultdict(Counter)
    leaks: dict[str, list[int]] = defaultdict(list)
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
            c[i]["granskade"] += 1
            qi[i][regim].extend(anonymity.rader(post))
            text = post.anteckning
            if _keys(e.post) & IDENTITETSNYCKLAR or (text and scan(text, today=day)):
                leaks[i].append(position)
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
    for i, v in covered.items():
        n = c[i]
        regim = v.insats.dokumentation.regim
        lines = [
            _line(
                "11 kap. 5 § SoL",
                "Beslut av nämnden i kraft",
                not any(e.forslag for e in _versions(index, i, fran, till)),
                _decisions_text(index, i, fran, till),
            )
        ]
        lines += [
            _line(k.paragraf, k.kontroll, k.ok, k.detalj) for k in tid.kontroller(v, fran, till)
        ]
        if regim is Regim.undantag_14_5 or any(
            n[f"regim:{r.value}"] for r in (Regim.undantag_14_5,)
        ):
            lines.append(
                _line(
                    "14 kap. 5 § SoL",
                    "Särskilda skäl angivna för undantaget",
                    bool(v.insats.dokumentation.sarskilda_skal),
                    "särskilda skäl finns i beslutet"
                    if v.insats.dokumentation.sarskilda_skal
                    else "särskilda skäl saknas",
                )
            )
        if n["granskade"]:
            lines.append(
                _line(
                    "14 kap. 4–5 § SoL",
                    "Inga uppgifter som kan röja identitet lagrade",
                    not leaks[i],
                    f"{n['granskade']} lagrade poster granskade; "
                    + (
                        "inga identitetsuppgifter funna"
                        if not leaks[i]
                        else f"identitetsuppgifter i {len(leaks[i])} poster, "
                        f"första på position {leaks[i][0]}"
                    ),
                )
            )
        matt = {r: m for r, recs in qi[i].items() if (m := anonymity.mat(recs))}
        lines += [_k_line(r, m) for r, m in sorted(matt.items())]
        if n["start_krav"]:
            lines.append(
                _complete(
                    "14 kap. 3 § SoL",
                    "Kön och åldersgrupp dokumenterade vid start",
                    n["start_komplett"],
                    n["start_krav"],
                )
            )
        if n["avbrott"]:
            lines.append(
                _complete(
                    "14 kap. 3 och 5 §§ SoL",
                    "Orsak dokumenterad vid avbrott",
                    n["avbrott_orsak"],
                    n["avbrott"],
                )
            )
        if n["kontakt"]:
            lines.append(
                _complete(
                    "11 kap. 6 § SoL",
                    "Informerad om rätten att ansöka om behovsprövad insats",
                    n["informerad"],
                    n["kontakt"],
                )
            )
        if n["kontakt_anonym"]:
            lines.append(
                _line(
                    "11 kap. 5 § SoL",
                    "Anonyma kontakter (villkoren inte kontrollerade)",
                    None,
                    f"{_pct(n['kontakt_anonym'], n['kontakt'])} av kontakterna var anonyma; "
                    "personen lämnade inga uppgifter och villkoren kontrollerades inte",
                )
            )
        if n["start_barn"]:
            lines.append(
                _line(
                    "11 kap. SoL (barn)",
                    "Vårdnadshavares samtycke och barnets vilja vid start",
                    n["start_barn_vilja"] == n["start_barn_samtycke"] == n["start_barn"],
                    f"samtycke: {_pct(n['start_barn_samtycke'], n['start_barn'])}; "
                    f"barnets vilja: {_pct(n['start_barn_vilja'], n['start_barn'])}",
                )
            )
        outcomes = {u: n[f"villkor:{u}"] for u in ("uppfyllda", "ej_uppfyllda", "oklart")}
        if any(outcomes.values()):
            lines.append(
                _line(
                    "11 kap. 5 § SoL",
                    "Villkorskontroller och hänvisningar till nämnden",
                    n["hanvisning"] >= outcomes["oklart"],
                    f"uppfyllda {outcomes['uppfyllda']}, ej uppfyllda {outcomes['ej_uppfyllda']}, "
                    f"oklara {outcomes['oklart']}; hänvisningar {n['hanvisning']}",
                )
            )
        row: dict[str, Any] = {
            "insats": i,
            "namn": v.insats.namn,
            "kategori": v.insats.kategori,
            "regim": regim.value,
            "paragraf": PARAGRAF[regim],
            "poster": n["poster"],
            "tillhandahallare": _providers(v, n),
            "kontroller": lines,
        }
        if matt:
            row["k_anonymitet"] = [
                {"regim": r.value, **m.as_json()} for r, m in sorted(matt.items())
            ]
        rows.append(row)

    small = sorted((k for k, m in cells.items() if m < K_ANONYMITET))
    with ledger.transaction() as session:
        refused = session.execute(
            select(tables.avvisning.c.regel, func.sum(tables.avvisning.c.antal))
            .where(tables.avvisning.c.dag >= fran, tables.avvisning.c.dag <= till)
            .group_by(tables.avvisning.c.regel)
            .order_by(tables.avvisning.c.regel)
        ).all()
    deviations = sum(1 for r in rows for line in r["kontroller"] if line["resultat"] == "avvikelse")
    return {
        "rapport": "efterlevnad",
        "period": {"fran": fran.isoformat(), "till": till.isoformat()},
        "skydd": TILLSYN.as_json(False),
        "sammanfattning": {
            "insatser": len(rows),
            "avvikelser": deviations,
            "text": (
                "Inga avvikelser funna."
                if not deviations
                else f"{deviations} kontroll(er) visar avvikelse; se respektive insats."
            ),
        },
        "insatser": rows,
        "per_kategori": _per_kategori(rows),
        "forsenade_omprovningar": [
            i for i, v in covered.items() if tid.forsenad_omprovning(v, till)
        ],
        "upphorda_undantag": [i for i, v in covered.items() if tid.upphort_undantag(v, till)],
        "avvisade_handelser": {
            "paragraf": "14 kap. 3 § SoL och G6: avvisade uppgifter lagras aldrig; antal per regel",
            "per_regel": [{"regel": r, "antal": int(n)} for r, n in refused],
        },
        "k_anonymitet": {
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
        },
    }


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
            + f", {v.insats.dokumentation.regim.value}"
            for v in _versions(index, beslut_id, fran, till)
        )
        or "inget beslut i kraft under perioden"
    )
