"""What every measure in the nämnd's reports means: the glossary each report carries, so
a figure is never read without its definition (follow-up of the nämnd's decisions,
11 kap. 5 § and 14 kap. 3–5 § SoL)."""

from __future__ import annotations

from typing import Any

#: The wellbeing scale (`maende` at start and end), as the utförare records it.
MAENDE_SKALA = "1 = mycket dåligt, 2 = dåligt, 3 = varken bra eller dåligt, 4 = bra, 5 = mycket bra"

BEGREPP: dict[str, tuple[str, str]] = {
    "kontakter": (
        "Kontakter",
        "Antal gånger någon tog kontakt med utföraren om insatsen (telefon, besök, digitalt), "
        "oavsett om en insats sedan påbörjades.",
    ),
    "informerade": (
        "Andel informerade",
        "Andel av kontakterna där personen informerades om rätten att ansöka om en "
        "behovsprövad insats (11 kap. 6 § SoL).",
    ),
    "starter": (
        "Nya deltagare (start)",
        "Antal påbörjade insatser: varje start räknas, också när samma person börjar igen.",
    ),
    "unika": (
        "Unika deltagare",
        "Antal olika deltaganden med någon aktivitet under perioden. Under undantag enligt "
        "14 kap. 5 § och för insatser med endast antal kopplas besök inte till varandra, så "
        "varje besök räknas då för sig.",
    ),
    "aktivitet": (
        "Aktivitet",
        "Individuella tillfällen och närvaro i grupp sammanräknade: ett mått på hur mycket "
        "insatsen användes.",
    ),
    "tillfallen": ("Individuella tillfällen", "Antal enskilda samtal eller besök."),
    "gruppsessioner": ("Gruppträffar", "Antal genomförda gruppträffar."),
    "gruppnarvaro": (
        "Närvaro i grupp",
        "Antal deltagare som var med på gruppträffarna, summerat över alla träffar.",
    ),
    "avslut": ("Avslutade", "Antal insatser som avslutades som planerat."),
    "avbrott": ("Avbrott", "Antal insatser som avbröts i förtid, med orsak."),
    "avbrottsandel": (
        "Avbrottsandel",
        "Avbrott i procent av alla insatser som upphörde (avbrott + avslutade). I jämförelser "
        "anges förändringen i procentenheter.",
    ),
    "hanvisningar": (
        "Hänvisningar till nämnden",
        "Antal personer som hänvisades till nämnden, t.ex. när utföraren var osäker på om "
        "villkoren var uppfyllda.",
    ),
    "villkor_ej_uppfyllda": (
        "Villkor ej uppfyllda",
        "Antal villkorskontroller där personen inte uppfyllde nämndens villkor för insatsen.",
    ),
    "maende": (
        "Mående vid start och slut",
        "Deltagarens egen skattning av sitt mående på en skala från 1 till 5 "
        f"({MAENDE_SKALA}). Medelvärdet visas bara när minst så många har svarat som "
        "röjandeskyddet kräver.",
    ),
    "forandring": (
        "Förändring",
        "Värdet efter ändringen minus värdet före. Procent: förändringen i procent av värdet "
        "före. Visas bara när båda värdena redovisas.",
    ),
    "dold": (
        "..",
        "Uppgiften redovisas inte: antal under tröskeln för röjandeskydd, eller tal som "
        "skulle göra det möjligt att räkna fram dem (14 kap. 5 § SoL).",
    ),
}


def definitions(*keys: str) -> list[dict[str, Any]]:
    """The glossary of a report: term and definition of each measure it shows."""
    return [{"begrepp": BEGREPP[k][0], "definition": BEGREPP[k][1]} for k in keys]
