"""What every field of the HTTP API means, in Swedish (the language of the nämnd and of
tillsyn), in one place: the OpenAPI document takes each property's description from here
(`FALT`, or `SCHEMA_FALT` where one name means different things in different shapes).
`tests/test_api_docs.py` fails on a property or parameter without one."""

from __future__ import annotations

#: Descriptions by property name.
FALT: dict[str, str] = {
    # utförare events
    "id": "Klientens eget UUID för händelsen; en upprepad sändning med samma id ger det "
    "första svaret igen och lagrar inget nytt (idempotens).",
    "type": "Händelsetyp: kontakt, villkorskontroll, start, tillfalle, handelse, avbrott, "
    "avslut eller hanvisning.",
    "insats": "Insatsen som <katalog>/<insats-id>, t.ex. alingsas/3.2.1 (nämndens beslut).",
    "utforare": "Utföraren (organisationens kortnamn) som genomför insatsen.",
    "datum": "Dagen händelsen inträffade (ÅÅÅÅ-MM-DD); högst en dag framåt i tiden. Under "
    "undantag (14 kap. 5 § SoL) lagras bara beslutets period (vecka eller månad).",
    "deltagande": "Deltagandets id som registret gav vid start; knyter uppföljande händelser "
    "till deltagandet. Under undantag visas det bara en gång.",
    "oppnad_av": "Klient-id för händelsen som öppnade deltagandet (i stället för deltagande).",
    "besokskod": "Under undantag (14 kap. 5 § SoL): den slumpmässiga kod deltagaren fick vid "
    "start; knyter besök utan identitet. Visas en gång och lagras aldrig i klartext.",
    "deltagare": "Uppgifter om personen. Vad som lagras avgörs av beslutets "
    "dokumentationsform; identitet tas bort, generaliseras eller förseglas före lagring.",
    "anteckning": "Fritext. Under 14 kap. 4–5 § SoL avvisas text som innehåller "
    "personnummer, telefon, e-post, namn eller adress.",
    "informerad_om_ansokan": "Om personen informerades om rätten att ansöka om en "
    "behovsprövad insats (11 kap. 6 § SoL).",
    "utfall": "Utfallet: uppfyllda, ej_uppfyllda eller oklart (oklart hänvisas till nämnden).",
    "fakta": "Uppgifter som villkoren kontrolleras mot; används för kontrollen och lagras aldrig.",
    "maende": "Deltagarens egen skattning av sitt mående, 1–5 (1 = mycket dåligt, 2 = dåligt, "
    "3 = varken bra eller dåligt, 4 = bra, 5 = mycket bra).",
    "samtycke": "Barns samtycke: vårdnadshavarnas samtycke och barnets egen vilja.",
    "vardnadshavare": "Antal vårdnadshavare som samtycker (0–2).",
    "barnet_vill": "Om barnet självt vill ha insatsen.",
    "grupp": "En gruppträff: antal deltagare per åldersgrupp och kön (inga personer).",
    "aldersgrupp": "Åldersgrupp enligt beslutets intervall, t.ex. 20-24 eller 65+.",
    "kon": "Kön: kvinna, man, annat eller uppgift_saknas.",
    "orsak": "Orsak till avbrottet (en av registrets orsaker).",
    "personnummer": "Personnummer eller samordningsnummer; lagras aldrig under 14 kap. 4–5 § "
    "eller deltagardata, förseglas under 14 kap. 3 §.",
    "adress": "Adress (identitetsuppgift).",
    "fodelsedatum": "Födelsedatum (identitetsuppgift); lagras bara som åldersgrupp.",
    "alder": "Ålder i år; lagras bara som åldersgrupp.",
    "folkbokford_kommun": "Kommun där personen är folkbokförd (identitetsuppgift).",
    "telefon": "Telefonnummer (identitetsuppgift).",
    "epost": "E-postadress (identitetsuppgift).",
    "typ": "Villkorets slag.",
    # facts checked against villkor
    "folkbokford_i_kommunen": "Om personen är folkbokförd i kommunen.",
    "barn_folkbokford_i_kommunen": "Om barnet är folkbokfört i kommunen.",
    "barn_alder": "Barnens åldrar i år.",
    "barn_skolform": "Barnets skolform: forskola, grundskola eller gymnasieskola.",
    "barn_arskurs": "Barnets årskurs.",
    "gemensam_begaran": "Om båda föräldrarna gemensamt begär insatsen.",
    "uppdrag_fran_extern_part": "Om en extern part (t.ex. domstol) gett uppdraget.",
    "vardnadshavare_samtycker": "Antal vårdnadshavare som samtycker.",
    "medfoljande_barn": "Om personen har medföljande barn (skyddat boende).",
    "handlingar": "Handlingar som visats upp (t.ex. id, hyreskontrakt, läkarintyg).",
    "handling_oklar": "Om en uppvisad handling var oklar (då hänvisas personen till nämnden).",
    # decision files
    "format": "Filformatets version.",
    "kommun": "Kommunen som fattat beslutet.",
    "katalog": "Nämndens katalog: kortnamnet som inleder varje insats-id.",
    "namnd": "Nämnden som fattat beslutet eller tillhandahåller insatsen.",
    "diarienummer": "Beslutets diarienummer.",
    "paragraf": "Protokollsparagrafen, t.ex. SN § 37.",
    "beslutsdatum": "Dagen nämnden fattade beslutet.",
    "giltig_fran": "Första dagen beslutet gäller.",
    "giltig_till": "Sista dagen beslutet gäller (tomt: tills vidare).",
    "revideras_senast": "Senaste dag då nämnden ska se över beslutet.",
    "andring": "true: filen ändrar beslut som redan gäller (ny version från giltig_fran).",
    "insatsform": "Insatsens form (t.ex. samtal, grupp, öppen verksamhet).",
    "kategori": "Kategori: radgivning, stod_i_grupp, individuellt_stod eller motesplats.",
    "behov": "Behovet insatsen möter, med nämndens ord.",
    "malgrupp": "Målgruppen, med nämndens ord.",
    "villkor": "Villkoren utföraren kontrollerar (enkla fakta, aldrig en behovsbedömning, "
    "11 kap. 5 § SoL).",
    "barn_utan_samtycke_fran_15": "Om barn från 15 år får insatsen utan vårdnadshavares "
    "samtycke (nämndens bedömning för målgruppen).",
    "tillhandahalls_av": "Vem som tillhandahåller insatsen: nämnd och utförare.",
    "dokumentation": "Dokumentationsform och dess inställningar (14 kap. 3–5 § SoL).",
    "uppfoljning": "Hur insatsen följs upp: besoksstatistik eller individbaserad.",
    "regim": "Dokumentationsform: full_14_3, deltagardata, radgivning_14_4, undantag_14_5 "
    "eller aggregat.",
    "aldersintervall": "Åldersgruppernas bredd i år (minst 5 när identitet inte dokumenteras).",
    "datumprecision": "Hur fint datum lagras under undantag: dag, vecka eller manad.",
    "lank_gallras_manader": "Månader efter vilka kopplingen mellan besök gallras (undantag).",
    "sarskilda_skal": "Nämndens särskilda skäl för undantag enligt 14 kap. 5 § SoL.",
    "riskanalys": "Hänvisning till risk- och konsekvensanalysen bakom beslutet.",
    "journalsystem": "Journalsystem där dokumentationen i övrigt förs.",
    "vem": "Vems folkbokföring villkoret gäller: deltagare eller barnet.",
    "under_alder": "Samtycke krävs för barn under denna ålder.",
    "skolformer": "Skolformer barnet ska gå i.",
    "arskurs_fran": "Lägsta årskurs.",
    "arskurs_till": "Högsta årskurs.",
    "part": "Den externa part som ger uppdrag.",
    # decisions listed
    "beslut": "Beslutets id: <katalog>/<insats-id>.",
    "beslut_header": "Beslutsfilens uppgifter om beslutet (diarienummer, paragraf, datum).",
    "registrerad": "När versionen registrerades i registret (UTC).",
    "imported": "De beslutsversioner som importerades.",
    # results
    "ok": "true om händelsen lagrades (eller redan fanns lagrad).",
    "event_id": "Den lagrade händelsens id: <deltagande>/<version>.",
    "position": "Postens position i loggen (0 först).",
    "receipt": "Kvitto: bevis (RFC 9162) för att posten finns i loggen.",
    "index": "Händelsens plats i satsen (0 först).",
    "error": "Första skälet till att händelsen avvisades.",
    "problems": "Alla skäl till att händelsen avvisades: fält och regel, aldrig värdet.",
    "accepted": "Antal lagrade händelser i satsen.",
    "refused": "Antal avvisade händelser i satsen.",
    "results": "Ett resultat per händelse, i ordning.",
    "events": "Händelserna; var och en lagras eller avvisas för sig.",
    # integrity
    "origin": "Loggens namn i den signerade kontrollpunkten.",
    "tree_size": "Antal poster i loggen som kontrollpunkten gäller.",
    "root": "Merkleträdets rothash (hex, SHA-256).",
    "timestamp": "När kontrollpunkten signerades (UTC).",
    "key_id": "Id för registrets publika verifieringsnyckel.",
    "signature": "Ed25519-signatur (base64) över kontrollpunkten.",
    "leaf_hash": "Postens lövhash (hex).",
    "proof": "Bevisets hashar (hex), i RFC 9162:s ordning.",
    "old_size": "Loggens storlek vid den tidigare kontrollpunkten.",
    "new_size": "Loggens storlek nu.",
    "records": "Antal lagrade poster.",
    "logged": "Antal poster i Merkleloggen.",
    "checkpoints_checked": "Antal kontrollpunkter vars signatur kontrollerades.",
    "first_bad_position": "Första felaktiga position, eller tomt om allt stämmer.",
    "findings": "Fynd: position, regel och förklaring.",
    "rule": "Regeln som inte höll.",
    # identity and keys
    "identitet": "Den förseglade identiteten (endast admin; varje öppning registreras).",
    "atkomst": "Registreringen av denna öppning av identiteten.",
    "tidpunkt": "När identiteten öppnades (UTC).",
    "nyckel_id": "API-nyckelns id (aldrig själva nyckeln).",
    "roll": "Roll: admin, namnd, utforare eller tillsyn.",
    "beskrivning": "Fri beskrivning av nyckeln (t.ex. system eller ansvarig funktion).",
    "skapad": "När nyckeln skapades (UTC).",
    "aterkallad": "När nyckeln återkallades (UTC), eller tomt.",
    # problems
    "title": "Problemets rubrik på svenska.",
    "detail": "Förklaring i en mening; aldrig ett inmatat värde.",
    "code": "Regelns kod (stabil, för program).",
    "errors": "Fält och regel för varje fel, aldrig värdet.",
    "field": "Fältet felet gäller.",
    "message": "Förklaring av felet.",
}

#: Where one name means different things in different shapes: "<Schema>.<property>".
SCHEMA_FALT: dict[str, str] = {
    "AccessOut.atgard": "Vad som gjordes: uppslag av identitet eller gallring.",
    "AccessOut.regel": "Regeln som valde deltagandet vid gallring efter regel.",
    "GallringOut.gallrad": "Sant när deltagandet är gallrat.",
    "GallringRequest.skal": "Skälet till gallringen; registreras och visas för tillsyn.",
    "BeslutsFil.forslag": "Ett förslag: kan prövas men räknas aldrig som beslut i kraft.",
    "CheckpointIn.every": "Signeringspolicyn: en checkpoint minst var N:e post.",
    "CheckpointIn.note": "Checkpointen som signerad anteckning enligt C2SP tlog-checkpoint.",
    "CheckpointOut.every": "Signeringspolicyn: en checkpoint minst var N:e post.",
    "CheckpointOut.note": "Checkpointen som signerad anteckning enligt C2SP tlog-checkpoint.",
    "CosignatureIn.note": "Vittnets kontrasignerade checkpoint (C2SP tlog-cosignature).",
    "CosignatureIn.witness": "Vittnets namn och publika nyckel (verifierarsträng).",
    "CosignatureOut.witness": "Vittnets namn.",
    "Dokumentation.riskanalys_saknas": "Risk- och konsekvensanalys saknas (avvikelse).",
    "Fakta.antal_vardnadshavare": "Antal vårdnadshavare (1 vid ensam vårdnad).",
    "Fakta.deklarerade": "Värden för fakta som beslutet deklarerar, per namn.",
    "Fakta.omrade": "Område inom kommunen (stadsdel eller stadsområde).",
    "Fakta.relationer": "Relationer till andra personer: roll och den andras ålder.",
    "Fakta.situationer": "Situationer som personen intygar, t.ex. utsatt för brott.",
    "Fakta.synnerliga_skal": "Sant när synnerliga skäl finns för att frångå en åldersgräns.",
    "Faktum.ar": "Värdet som faktumet ska ha.",
    "Faktum.fran": "Lägsta tillåtna värde.",
    "Faktum.i": "Tillåtna värden.",
    "Faktum.namn": "Namnet på ett faktum som beslutet deklarerar.",
    "Faktum.till": "Högsta tillåtna värde.",
    "FaktumDeklaration.etikett": "Etikett på svenska, som utföraren ser.",
    "FaktumDeklaration.intygas_av": "Vem som intygar: personen, en handling eller en extern part.",
    "FaktumDeklaration.namn": "Faktumets namn, som villkoren refererar till.",
    "FaktumDeklaration.varden": "Tillåtna värden för ett faktum av typen enum.",
    "InsatsBeslut.max_tillfallen": "Högsta antal tillfällen per deltagande enligt beslutet.",
    "InsatsBeslut.omprovas_senast": "Dag då beslutet senast ska omprövas.",
    "InsatsBeslut.sluten_grupp": "Sant för en sluten grupp.",
    "InsatsBeslut.uppfoljningsplikter": "Uppföljning enligt beslutet: slag, frekvens, mottagare.",
    "Kontakt.anonym": "En anonym kontakt: inga uppgifter, villkoren kontrolleras inte.",
    "Omrade.omraden": "Områden inom kommunen som villkoret gäller.",
    "Relation.fran": "Den andra personens lägsta ålder.",
    "Relation.till": "Den andra personens högsta ålder.",
    "Samtycke.antal_vardnadshavare": "Antal vårdnadshavare (1 vid ensam vårdnad).",
    "Situation.situation": "Situationen som personen intygar.",
    "Tillhandahallare.avtal": "Avtal som en extern utförare arbetar under.",
    "Tillhandahallare.namn": "Nämndens, stadsområdets eller utförarens namn.",
    "Tillhandahallare.tillsammans_med": "Andra som insatsen ges tillsammans med.",
    "Uppfoljningsplikt.frekvens": "Hur ofta uppföljningen ska göras.",
    "Uppfoljningsplikt.mottagare": "Vem som tar emot uppföljningen.",
    "Uppfoljningsplikt.slag": "Slag av uppföljning.",
    "VerifyOut.notes": "Upplysningar från verifieringen som inte är avvikelser.",
    "VerifyOut.witnessed": "Senaste storlek som varje känt vittne har kontrasignerat.",
    "Alder.fran": "Lägsta ålder i år.",
    "Alder.till": "Högsta ålder i år.",
    "ForalderTillBarn.fran": "Lägsta ålder på barnet i år.",
    "ForalderTillBarn.till": "Högsta ålder på barnet i år.",
    "RevokeRequest.fran": "Första dagen beslutet inte längre gäller.",
    "DecisionEntry.fran": "Första dagen beslutet inte längre gäller (upphävande).",
    "DecisionEntry.typ": "version: en beslutsversion; upphavande: beslutet upphävt.",
    "DecisionEntry.version": "Versionens nummer (1 först).",
    "DecisionVersion.version": "Versionens nummer (1 först).",
    "DecisionEntry.insats": "Insatsen som nämnden beslutat om, med villkor och dokumentation.",
    "DecisionEntry.skal": "Skälet till upphävandet.",
    "RevokeRequest.skal": "Skälet till upphävandet (registreras).",
    "IdentityRequest.skal": "Varför identiteten öppnas (registreras och visas för tillsyn).",
    "AccessOut.skal": "Skälet som angavs.",
    "AccessOut.utfall": "Utfallet: öppnad, eller varför inte.",
    "AccessOut.deltagande": "Deltagandet vars identitet begärdes.",
    "IdentityOut.deltagande": "Deltagandet vars identitet öppnades.",
    "Gruppantal.antal": "Antal deltagare i åldersgruppen och könet.",
    "VardnadshavaresSamtycke.antal": "Hur många vårdnadshavare som ska samtycka: en eller bada.",
    "InsatsBeslut.id": "Insatsens id i katalogen, t.ex. 3.2.1.",
    "InsatsBeslut.namn": "Insatsens namn.",
    "Deltagare.namn": "Personens namn (identitetsuppgift).",
    "NagotAv.villkor": "Villkor av vilka minst ett ska vara uppfyllt.",
    "BeslutsFil.insatser": "Insatserna beslutet gäller.",
    "KeyRequest.insatser": "Begränsa en utförares nyckel till dessa insatser.",
    "KeyOut.insatser": "Insatserna nyckeln är begränsad till, eller tomt.",
    "KeyCreated.insatser": "Insatserna nyckeln är begränsad till, eller tomt.",
    "KeyRequest.katalog": "Nämndens katalog (för rollen namnd).",
    "KeyRequest.utforare": "Utföraren (för rollen utforare).",
    "ReceiptOut.checkpoint": "Den signerade kontrollpunkt beviset gäller mot.",
    "VerifyRequest.checkpoint": "En kontrollpunkt som sparats tidigare: visar att loggen "
    "bara har vuxit sedan dess.",
    "Problem.type": "Stabil URI för regeln (urn:iubledger:problem:<kod>).",
    "Problem.status": "HTTP-status.",
    "BatchItem.status": "HTTP-status för en avvisad händelse (422 eller 403).",
    "Health.status": "ok, eller ej_redo.",
    "Tillhandahallare.utforare": "Utförarna som får ge insatsen.",
    "VerifyOut.ok": "true om loggen och varje post stämmer.",
    "Appended.ok": "Alltid true: händelsen är lagrad.",
    "FindingOut.position": "Positionen fyndet gäller, eller tomt.",
    "FindingOut.message": "Förklaring av fyndet.",
}

#: Descriptions of path and query parameters, by name.
PARAMETRAR: dict[str, str] = {
    "position": "Postens position i loggen.",
    "tree_size": "Loggens storlek: bara de första N posterna.",
    "old": "Den tidigare storleken.",
    "new": "Den senare storleken.",
    "katalog": "Nämndens katalog.",
    "insats": "Insatsens id.",
    "indelning": "Tidsindelning: dag, vecka, manad, kvartal eller ar.",
    "format": "json (data) eller html (ett fristående dokument).",
    "deltagande": "Deltagandets id.",
    "nyckel_id": "API-nyckelns id.",
}


def fill(doc: dict[str, object]) -> None:
    """Give every schema property and every parameter of the document its description
    (a description the models give themselves is kept)."""
    components = doc.get("components")
    schemas = components.get("schemas", {}) if isinstance(components, dict) else {}
    for name, schema in schemas.items():
        _properties(name, schema)
    paths = doc.get("paths")
    for operations in paths.values() if isinstance(paths, dict) else []:
        for op in operations.values():
            for p in op.get("parameters", []):
                if "description" not in p and p["name"] in PARAMETRAR:
                    p["description"] = PARAMETRAR[p["name"]]


def _properties(name: str, schema: object) -> None:
    if not isinstance(schema, dict):
        return
    for prop, sub in (schema.get("properties") or {}).items():
        if "description" not in sub:
            text = SCHEMA_FALT.get(f"{name}.{prop}") or FALT.get(prop)
            if text:  # a field missing here is caught by tests/test_api_docs.py
                sub["description"] = text
        _properties(name, sub)
    for key in ("items", "additionalProperties"):
        _properties(name, schema.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        for x in schema.get(key) or []:
            _properties(name, x)
