"""Fixed vocabularies of the simulator: notes, names, streets, places and word lists."""

from __future__ import annotations

import re

from iubledger.schemas.handelser import AVBROTTSORSAKER

#: De-identified notes of significance (14 kap. 3 and 5 §§ SoL) by theme: no names, no
#: digits, no addresses, nothing that could reveal who the participant is.
TEMAN: dict[str, tuple[str, ...]] = {
    "allman": (
        "Deltagaren beskriver minskad oro inför helgerna.",
        "Deltagaren uppger att sömnen har blivit bättre sedan förra träffen.",
        "Deltagaren har på egen hand tagit kontakt med vårdcentralen.",
        "Deltagaren uttrycker osäkerhet kring fortsatt deltagande.",
        "Långa resvägar gör det svårt för deltagaren att komma till träffarna.",
        "Deltagaren önskar information om andra stödformer i kommunen.",
        "Deltagaren har börjat föra dagbok över sitt mående.",
        "Deltagaren beskriver tätare kontakt med närstående.",
        "Deltagaren uteblev från en träff utan att meddela förhinder.",
        "Deltagaren ber om längre tid mellan träffarna.",
        "Deltagaren uttrycker lättnad över att kunna prata om situationen.",
        "Deltagaren beskriver ensamhet och saknad av ett socialt sammanhang.",
        "Deltagaren har återupptagit en fritidsaktivitet.",
        "Deltagaren informerades om möjligheten att ansöka om behovsprövade insatser.",
        "Deltagaren uppger ökad motivation att fortsätta.",
        "Deltagaren har svårt att komma ihåg avtalade tider och önskar påminnelser.",
        "Deltagaren beskriver ökad stress i samband med arbetssökande.",
    ),
    "barn": (
        "Barnet berättar att det känns lättare att gå till skolan.",
        "Barnet uttrycker att det är skönt att ha någon att prata med.",
        "Barnet beskriver bättre stämning hemma den senaste tiden.",
        "Barnet vill fortsätta träffarna och har själv föreslagit samtalsämnen.",
        "Barnet beskriver oro inför att träffa den andra parten.",
        "Samtalet fokuserade på skolsituationen och kontakten med skolan.",
        "Barnet kom inte till den avtalade träffen och hördes av senare.",
    ),
    "foralder": (
        "Deltagaren upplever att samtalen ger stöd i föräldrarollen.",
        "Deltagaren berättar om färre konflikter med barnen den senaste tiden.",
        "Deltagaren har provat nya sätt att hantera konflikter vid läggdags.",
        "Deltagaren beskriver att relationen till den andra föräldern har blivit lugnare.",
        "Samtalet handlade om strategier för att hantera konflikter i hemmet.",
        "Deltagaren uttrycker oro för barnets situation i skolan.",
    ),
    "beroende": (
        "Deltagaren uppger att alkoholkonsumtionen har minskat.",
        "Deltagaren beskriver ett återfall under helgen och vill fortsätta.",
        "Deltagaren har lämnat spelandet och beskriver ökad kontroll över vardagen.",
        "Deltagaren önskar kontakt med beroendevården inom regionen.",
    ),
    "anhorig": (
        "Deltagaren beskriver svårigheter att sätta gränser gentemot en anhörig.",
        "Deltagaren uppger att det hjälper att möta andra i liknande situation.",
        "Deltagaren beskriver skuldkänslor kopplade till den anhöriges situation.",
        "Deltagaren har börjat prioritera egen återhämtning.",
    ),
    "ekonomi": (
        "Deltagaren uppger att ekonomin känns mer överblickbar.",
        "Deltagaren har upprättat en budget tillsammans med rådgivaren.",
        "Deltagaren har tagit kontakt med sina fordringsägare.",
    ),
    "bostad": (
        "Oron för boendesituationen har minskat efter kontakt med hyresvärden.",
        "Deltagaren har fått hjälp att söka lägenhet via bostadsförmedlingen.",
        "Deltagaren beskriver att boendet fortfarande är osäkert.",
    ),
    "vald": (
        "Deltagaren beskriver att hon eller han känner sig tryggare.",
        "Deltagaren har fått information om skyddade kontaktvägar och stödlinjer.",
        "Samtalet handlade om trygghetsplanering i vardagen.",
    ),
    "grupp": (
        "Deltagaren beskriver en ökad känsla av sammanhang i gruppen.",
        "Deltagaren tog för första gången aktiv del i gruppsamtalet.",
        "Deltagaren uppger att gruppens storlek känns lagom.",
    ),
    "vagledning": (
        "Deltagaren har fått hjälp att formulera frågor inför ett myndighetsmöte.",
        "Deltagaren har fått vägledning om studier på vuxenutbildningen.",
    ),
}
TEMA_ORD = (
    ("beroende", "beroende"),
    ("bruk", "beroende"),
    ("alkohol", "beroende"),
    ("anhörig", "anhorig"),
    ("närstående", "anhorig"),
    ("ekonomi", "ekonomi"),
    ("skuld", "ekonomi"),
    ("bostad", "bostad"),
    ("våld", "vald"),
    ("föräld", "foralder"),
    ("familj", "foralder"),
    ("vägledning", "vagledning"),
    ("arbete", "vagledning"),
)
#: Every note the simulator can write.
ANTECKNINGAR = tuple(n for notes in TEMAN.values() for n in notes)


def _ord(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(sep))


#: First names by gender and generation (born before 1970, 1970–1999, from 2000).
FORNAMN = {
    ("kvinna", 0): _ord(
        "Birgitta Ulla Gunilla Britt-Marie Solveig Ingrid Karin Eva Kristina Lena Margareta"
        " Inger Marianne Agneta Elisabeth Göta Märta Siv Gun Ann-Christin"
    ),
    ("kvinna", 1): _ord(
        "Anna Maria Sara Malin Therese Annelie Jenny Linda Sofia Emma Hanna Åsa Camilla"
        " Johanna Elin Yasmin Leyla Amina Ylva Lina Jessica Mikaela"
    ),
    ("kvinna", 2): _ord(
        "Alma Saga Tuva Wilma Ella Ebba Maja Agnes Stina Signe Linnéa Ida Elsa Alice Freja"
        " Olivia Astrid Leah Nora Ronja Märta Selma"
    ),
    ("man", 0): _ord(
        "Lars Göran Håkan Sören Jörgen Åke Bengt Rune Stig Ragnar Sven Per Leif Kjell"
        " Lennart Ulf Olof Torbjörn Gösta Bertil"
    ),
    ("man", 1): _ord(
        "Johan Mattias Fredrik Jonas Henrik Anders Mikael Erik Karl Niklas Andreas Magnus"
        " Daniel Ahmed Omar Ali Mehmet Björn Martin Markus Jörgen Pär"
    ),
    ("man", 2): _ord(
        "Liam Noah Elias Hugo Axel Ludvig Måns Oskar Viktor Emil Nils Gustav Lucas Theo"
        " Vincent William Melvin Adam Isak Björn Sixten Ture"
    ),
}
for _generation in range(3):
    FORNAMN["annat", _generation] = _ord("Kim Alex Robin Charlie Sam Love Eli Noa")

EFTERNAMN = _ord(
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson"
    " Pettersson Jönsson Jansson Hansson Bengtsson Lindström Lindqvist Öberg Åkesson Ängström"
    " Söderström Sjögren Östlund Håkansson Hägg Nordström Björk Wästberg Bäckström Lövgren"
    " Sandström Fröberg Strömberg Ågren Hellström Mårtensson Åberg Löfgren Ek Holm Nyström"
    " Dahlgren Falk Ali Hassan Yilmaz Nowak Korhonen Mäkinen Berglöf"
)

GATOR = _ord(
    "Kungsgatan, Storgatan, Drottninggatan, Södra Ringgatan, Prästgårdsgatan, Bryggaregatan,"
    " Västra Ängsgatan, Nolbyvägen, Sveagatan, Färgargatan, Kristinedalsvägen, Stampgatan,"
    " Hedvigsbergsvägen, Götaforsliden, Mjörnvägen, Ölandsgatan, Björkvägen, Granvägen,"
    " Lövängsvägen, Skönningsgatan, Tuvevägen, Sollebrunnsvägen, Ängabovägen, Åsvägen",
    ",",
)

ANDRA_KOMMUNER = _ord(
    "Lerum Vårgårda Borås Göteborg Herrljunga Trollhättan Partille Ale Härryda Essunga Skövde"
    " Mölndal"
)

#: PTS numbers reserved for use in fiction (never assigned to a subscriber).
FIKTIVA_TELEFON = (
    ("070-17406", range(5, 100)),
    ("031-39006", range(0, 100)),
    ("08-46500", range(400, 500)),
)
EPOSTDOMAN = ("post.example", "mail.example", "example.com", "example.org")

AVBROTT_VIKT = {
    "behov_tillgodosett": 12,
    "annan_insats": 10,
    "flyttat": 7,
    "ej_motiverad": 18,
    "ej_nadd": 20,
    "praktiska_hinder": 14,
    "ohalsa": 12,
    "annat": 7,
}
assert set(AVBROTT_VIKT) == set(AVBROTTSORSAKER)

MALGRUPP_MODE = (
    ("anhörig", 50),
    ("närstående", 50),
    ("beroende", 36),
    ("bruk", 38),
    ("bostad", 35),
    ("våld", 34),
    ("skuld", 45),
    ("ekonomi", 45),
    ("samlevnad", 42),
    ("relation", 42),
    ("psykisk", 38),
    ("arbete", 32),
)
MALGRUPP_KVINNOR = (("anhörig", 0.72), ("närstående", 0.7), ("beroende", 0.35), ("våld", 0.7))

AGE_RANGE_TEXT = re.compile(r"(\d{1,2})\s*[-–]\s*(\d{1,2})\s*år")
