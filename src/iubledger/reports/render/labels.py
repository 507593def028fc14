"""Labels and values as every format renders them: Swedish names, ".." when suppressed."""

from __future__ import annotations

from typing import Any, TypeGuard

#: How a suppressed number is shown.
DOLD = ".."

RAPPORTER = {
    "deltagande": "Deltagande i insatser utan individuell behovsprövning",
    "effekt": "Effekt av nämndens beslut",
    "efterlevnad": "Efterlevnad – underlag för tillsyn",
}

REGIMER = {
    "full_14_3": "Dokumentation enligt 14 kap. 3 §",
    "deltagardata": "Deltagaruppgifter 14 kap. 3 § (namn, kön, ålder)",
    "radgivning_14_4": "Rådgivning 14 kap. 4 § (ej identitet)",
    "undantag_14_5": "Undantag 14 kap. 5 § (ej identitet)",
    "aggregat": "Endast antal 14 kap. 3 och 5 §§ (ej identitet)",
}

#: A regime in a sentence ("från rådgivning (14 kap. 4 §) till undantag (14 kap. 5 §)").
REGIMER_KORT = {
    "full_14_3": "full dokumentation (14 kap. 3 §)",
    "deltagardata": "deltagaruppgifter (14 kap. 3 §)",
    "radgivning_14_4": "rådgivning (14 kap. 4 §)",
    "undantag_14_5": "undantag (14 kap. 5 §)",
    "aggregat": "endast antal (14 kap. 3 och 5 §§)",
}

ETIKETTER = {
    "kontakter": "Kontakter",
    "informerade": "Informerade",
    "starter": "Nya deltagare (start)",
    "unika": "Unika deltagare",
    "tillfallen": "Individuella tillfällen",
    "gruppsessioner": "Gruppträffar",
    "gruppnarvaro": "Närvaro i grupp",
    "avslut": "Avslutade",
    "avbrott": "Avbrott",
    "hanvisningar": "Hänvisningar till nämnden",
    "villkor_ej_uppfyllda": "Villkor ej uppfyllda",
    "andel_informerade": "Andel informerade (%)",
    "avbrottsandel": "Avbrottsandel (%)",
    "maende_start": "Mående vid start",
    "maende_slut": "Mående vid slut",
    "aktivitet": "Aktivitet",
    "alder_kon": "Ålder och kön",
    "kon_ovrigt": "Annat eller uppgift saknas om kön",
    "avbrottsorsaker": "Avbrottsorsaker",
    "per_tillhandahallare": "Per tillhandahållare",
    "per_kategori": "Per kategori",
    "insats": "Insats",
    "insatser": "Insatser",
    "namn": "Namn",
    "namnd": "Nämnd",
    "tillhandahallare": "Tillhandahålls av",
    "kategori": "Kategori",
    "regim": "Dokumentation",
    "uppfoljning": "Uppföljning",
    "paragraf": "Lagrum",
    "fran": "Från",
    "till": "Till",
    "indelning": "Indelning",
    "datum": "Datum",
    "version": "Version",
    "handelse": "Händelse",
    "slag": "Slag",
    "text": "Text",
    "troskel": "Tröskel",
    "exakta_tal": "Exakta tal",
    "undertryckt": "Tal dolda",
    "sammanfattning": "Sammanfattning",
    "avvikelser": "Avvikelser",
    "kontroller": "Kontroller",
    "kontroll": "Kontroll",
    "resultat": "Resultat",
    "detalj": "Detalj",
    "poster": "Poster",
    "antal": "Antal",
    "regel": "Regel",
    "per_regel": "Per regel",
    "avvisade_handelser": "Avvisade händelser",
    "k_anonymitet": "k-anonymitet",
    "k": "k",
    "celler": "Celler",
    "sma_celler": "Små celler",
    "rader": "Rader",
    "unika_rader": "Unika rader",
    "andel_unika": "Andel unika",
    "kvasi_identifierare": "Kvasi-identifierare",
    "bibliotek": "Beräknat med",
    "k_per_insats_beraknat_med": "k per insats beräknat med",
    "summor": "Summor",
}

VARDEN = {
    "kvinna": "Kvinnor",
    "man": "Män",
    "annat": "Annat",
    "uppgift_saknas": "Uppgift saknas",
    "annat_eller_saknas": "Annat eller uppgift saknas",
    "behov_tillgodosett": "Behov tillgodosett",
    "annan_insats": "Annan insats",
    "flyttat": "Flyttat",
    "ej_motiverad": "Ej motiverad",
    "ej_nadd": "Ej nådd",
    "praktiska_hinder": "Praktiska hinder",
    "ohalsa": "Ohälsa",
    "radgivning": "Rådgivning",
    "stod_i_grupp": "Stöd i grupp",
    "individuellt_stod": "Individuellt stöd",
    "motesplats": "Mötesplats",
    "besoksstatistik": "Besöksstatistik",
    "individbaserad": "Individbaserad uppföljning",
    "före": "Före",
    "efter": "Efter",
    "beslut": "Beslut",
    "upphävt": "Upphävt",
    "uppfyllt": "Uppfyllt",
    "avvikelse": "Avvikelse",
    "information": "Information",
    "manad": "månad",
    "vecka": "vecka",
    "dag": "dag",
    "kvartal": "kvartal",
    "ar": "år",
}

#: Per-insats figures of the participation report shown besides `nyckeltal`.
KVOTER = ("andel_informerade", "avbrottsandel", "maende_start", "maende_slut")
_TABELL_NYCKLAR = {"titel", "rader", "kolumner", "celler"}


def tal(v: Any) -> str:
    """A value for a reader: None is '..', decimals with a comma, thousands with a space."""
    if v is None:
        return DOLD
    if isinstance(v, bool):
        return "ja" if v else "nej"
    if isinstance(v, int):
        return f"{v:,}".replace(",", "\u00a0")
    if isinstance(v, float):
        return str(v).replace(".", ",")
    if isinstance(v, list):
        return ", ".join(tal(x) for x in v) if v else "inga"
    return str(v)


def etikett(key: str) -> str:
    return ETIKETTER.get(key) or key.replace("_", " ").capitalize()


def varde(label: str) -> str:
    """A row or column label of a table for a reader ('kvinna|20-24' → 'Kvinnor 20-24')."""
    if "|" in label:
        return " ".join(VARDEN.get(p, p) for p in label.split("|"))
    return VARDEN.get(label, label)


def regim(regim: str | None) -> str:
    return "upphävt" if regim is None else REGIMER.get(regim, regim)


def regim_kort(regim: str | None) -> str:
    """A regime inside a sentence: 'rådgivning (14 kap. 4 §)'."""
    return "upphävt" if regim is None else REGIMER_KORT.get(regim, regim)


def rapportnamn(report: dict[str, Any]) -> str:
    kind = str(report.get("rapport", ""))
    return RAPPORTER.get(kind) or (f"Rapport: {kind}" if kind else "Rapport")


def period(report: dict[str, Any]) -> str:
    p = report.get("period")
    if not isinstance(p, dict):
        return ""
    text = f"Period {p.get('fran', '?')} – {p.get('till', '?')}"
    if p.get("indelning"):
        text += f", redovisat per {VARDEN.get(p['indelning'], p['indelning'])}"
    return text


def skydd(report: dict[str, Any]) -> str:
    """The report's disclosure control, and what it leaves out because of it."""
    s = report.get("skydd")
    if not (isinstance(s, dict) and s.get("text")):
        return "Rapporten saknar uppgift om röjandeskydd."
    return " ".join([str(s["text"]), *(str(n) for n in report.get("utelamnat") or [])])


def andring(a: dict[str, Any]) -> str:
    """'2026-03-01: version 2, från rådgivning (14 kap. 4 §) till undantag (14 kap. 5 §)'."""
    head = f"{a.get('datum')}: version {a.get('version')}"
    fore, efter = a.get("regim_fore"), a.get("regim_efter")
    if efter is None:
        return f"{head}, beslutet upphävt" + (f" (var {regim_kort(fore)})" if fore else "")
    if fore == efter:
        return f"{head}, dokumentation oförändrad: {regim_kort(efter)}"
    return f"{head}, från {regim_kort(fore) if fore else 'okänd'} till {regim_kort(efter)}"


def antal(n: int, en: str, flera: str) -> str:
    """'1 ändring', '2 ändringar': the count with its noun in the right number."""
    return f"{tal(n)} {en if n == 1 else flera}"


def is_table(v: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(v, dict) and v.keys() >= _TABELL_NYCKLAR


def scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def flat(v: Any) -> bool:
    return scalar(v) or (isinstance(v, list) and all(map(scalar, v)))
