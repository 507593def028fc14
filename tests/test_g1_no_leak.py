"""G1 no leak: no identity value given in the input reaches any stored byte, export, log
line or error message (14 kap. 4–5 §§ SoL; DESIGN.md G1, G6).

Participants are generated with hypothesis (valid personnummer in every common rendering,
names with å/ä/ö/é, street addresses, phone numbers, e-mail, exact birth date) and sent
through every regime of the shipped catalogs. The SQLite file is read with the at-rest
cipher off, so a leak would show in clear; under full_14_3 and deltagardata identity is
sealed, so it must not appear in clear either.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from identities import luhn
from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import Settings, resolve
from iubledger.schemas.base import Rejected
from iubledger.services import append, decisions, identity
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

DATUM = date(2025, 11, 15)

#: One insats per regime from the shipped catalogs; the villkor of each hold for an adult
#: folkbokförd in the kommun (checked in test_chosen_insatser_match_their_regime).
INSATSER = {
    "radgivning_14_4": ("alingsas", "3.1.1"),
    "undantag_14_5": ("alingsas", "3.2.1"),
    "full_14_3": ("alingsas", "3.4.6"),
    "deltagardata": ("ks-2025-510", "r4"),
    "aggregat": ("ks-2025-510", "r7"),
}
KATALOGER = ("alingsas", "ks-2025-510")
#: Regimes under which free text is stored in clear and scanned (G1, G6).
G1_REGIMES = ("radgivning_14_4", "undantag_14_5", "aggregat")


def _catalog_insats(katalog: str, insats_id: str) -> dict[str, Any]:
    fil = json.loads(catalogs.read(katalog))
    return next(i for i in fil["insatser"] if i["id"] == insats_id)


def _ref(regim: str) -> tuple[str, str]:
    """(insats reference, a registered utförare) for the regime."""
    katalog, insats_id = INSATSER[regim]
    utforare = _catalog_insats(katalog, insats_id)["tillhandahalls_av"][0]["utforare"][0]
    return f"{katalog}/{insats_id}", utforare


# -- participants --------------------------------------------------------------------------

FIRST = [
    "Åsa",
    "Björn",
    "Göran",
    "Märta",
    "Sölve",
    "René",
    "Zoé",
    "Hélène",
    "Jörgen",
    "Älva",
    "Östen",
    "Ingegärd",
    "Måns",
    "Wilhelmina",
    "Fredrika",
]
SURNAME_HEAD = ["Sjö", "Björk", "Hög", "Fjäll", "Näs", "Kärr", "Löv", "Ås", "Äng", "Ek"]
SURNAME_TAIL = ["ström", "gren", "qvist", "lund", "blad", "mark", "dahl", "holm", "bäck", "én"]
STREETS = [
    "Storgatan",
    "Kvarngatan",
    "Björkvägen",
    "Åsvägen",
    "Ängsgränd",
    "Prästgårdsvägen",
    "Östra Långgatan",
    "Kyrkbacken",
]
DOMAINS = ["example.se", "exempel.nu", "post.example.com"]
KOMMUNER = ["Alingsås", "Lerum", "Vårgårda"]
NOTE_WORDS = [
    "oro",
    "sömn",
    "stress",
    "samtal",
    "konflikt",
    "trygghet",
    "motivation",
    "arbete",
    "nätverk",
    "mående",
    "ångest",
    "framsteg",
    "vardag",
]


def _ascii(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()


@dataclass
class Person:
    birth: date
    serial: str  # three digits
    form: str  # "12-", "12", "10-", "10", "10+"
    namn: str
    adress: str
    street: str
    telefon: str
    national: str  # phone digits, 0 + area + subscriber
    epost: str
    kon: str
    kommun: str
    give_birth_date: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def check(self) -> int:
        return luhn(self.birth.strftime("%y%m%d") + self.serial)

    def rendering(self, form: str) -> str:
        tail = f"{self.serial}{self.check}"
        if form.startswith("12"):
            return self.birth.strftime("%Y%m%d") + ("-" if form == "12-" else "") + tail
        sep = {"10-": "-", "10": "", "10+": "+"}[form]
        return self.birth.strftime("%y%m%d") + sep + tail

    @property
    def personnummer(self) -> str:
        """As given: a ten-digit form of someone who turns 100 this year takes '+'."""
        if self.form.startswith("10"):
            old = DATUM.year - self.birth.year >= 100
            return self.rendering("10+" if old else ("10" if self.form == "10" else "10-"))
        return self.rendering(self.form)

    def deltagare(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "personnummer": self.personnummer,
            "namn": self.namn,
            "adress": self.adress,
            "telefon": self.telefon,
            "epost": self.epost,
            "kon": self.kon,
            "folkbokford_kommun": self.kommun,
        }
        if self.give_birth_date:
            d["fodelsedatum"] = self.birth.isoformat()
        return d

    def needles(self) -> list[str]:
        """Every value that must never be found, in the renderings a leak could take."""
        pn = [self.rendering(f) for f in ("12-", "12", "10-", "10", "10+")]
        parts = [p for p in re.split(r"[\s\-]+", self.namn) if len(p) >= 3]
        return [
            *pn,
            self.namn,
            *parts,
            self.adress,
            self.street,
            self.telefon,
            self.national,
            "46" + self.national[1:],
            self.national[1:],
            self.epost,
            self.epost.split("@")[0],
            self.birth.isoformat(),
            self.birth.strftime("%Y%m%d"),
            self.birth.strftime("%y%m%d"),
        ]


@st.composite
def people(draw: st.DrawFn) -> Person:
    birth = draw(st.dates(min_value=date(1921, 1, 1), max_value=date(2006, 12, 31)))
    first = draw(st.lists(st.sampled_from(FIRST), min_size=1, max_size=2, unique=True))
    surnames = draw(
        st.lists(
            st.builds(
                lambda h, t: h + t, st.sampled_from(SURNAME_HEAD), st.sampled_from(SURNAME_TAIL)
            ),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    namn = " ".join(first) + " " + "-".join(surnames)
    street = draw(st.sampled_from(STREETS))
    number = draw(st.integers(1, 199))
    suffix = draw(st.sampled_from(["", " A", "B"]))
    mobile = draw(st.sampled_from("0236"))
    subscriber = draw(st.text("0123456789", min_size=7, max_size=7))
    national = f"07{mobile}{subscriber}"
    a, b, c, d = national[:3], national[3:6], national[6:8], national[8:]
    telefon = draw(
        st.sampled_from(
            [
                national,
                f"{a}-{b} {c} {d}",
                f"{a} {b} {c} {d}",
                f"+46 {a[1:]} {b} {c} {d}",
                f"+46{national[1:]}",
            ]
        )
    )
    n = draw(st.integers(1, 99))
    local = f"{_ascii(first[0])}.{_ascii(surnames[0])}{n}"
    epost = f"{local}@{draw(st.sampled_from(DOMAINS))}"
    if draw(st.booleans()):
        epost = epost.capitalize()
    return Person(
        birth=birth,
        serial=f"{draw(st.integers(0, 999)):03d}",
        form=draw(st.sampled_from(["12-", "12", "10-", "10"])),
        namn=namn,
        adress=f"{street} {number}{suffix}",
        street=street,
        telefon=telefon,
        national=national,
        epost=epost,
        kon=draw(st.sampled_from(["kvinna", "man", "annat", "uppgift_saknas"])),
        kommun=draw(st.sampled_from(KOMMUNER)),
        give_birth_date=draw(st.booleans()),
    )


notes = st.lists(st.sampled_from(NOTE_WORDS), min_size=1, max_size=6).map(
    lambda words: " ".join(words).capitalize() + "."
)


# -- searching ---------------------------------------------------------------------------


def _char_forms(ch: str) -> set[bytes]:
    """A character as it may be stored: UTF-8 (NFC and NFD), JSON \\uXXXX, Python \\xNN."""
    out: set[bytes] = set()
    for form in {ch, ch.lower(), ch.upper()}:
        if len(form) != 1:
            continue
        out.add(re.escape(form.encode()))
        if ord(form) > 127:
            for variant in {form, unicodedata.normalize("NFD", form)}:
                out.add(re.escape(variant.encode()))
                escaped = json.dumps(variant)[1:-1]
                out.add(re.escape(escaped.encode()))
                out.add(re.escape("".join(f"\\x{b:02x}" for b in variant.encode()).encode()))
    return out


def pattern(needle: str) -> re.Pattern[bytes]:
    """Case-insensitive, encoding-tolerant search for one value. Short digit strings must
    stand alone (not inside a hex digest or UUID)."""
    body = b"".join(b"(?:" + b"|".join(sorted(_char_forms(c))) + b")" for c in needle)
    if needle.isdigit() and len(needle) < 10:
        body = rb"(?<![0-9A-Fa-f])" + body + rb"(?![0-9A-Fa-f])"
    return re.compile(body, re.IGNORECASE)


#: The microseconds of a clock time the ledger stamped itself: six random digits that a
#: short digit needle (a birth date YYMMDD) would otherwise match by chance.
_CLOCK = re.compile(rb"(\d{2}:\d{2}:\d{2})\.\d{6}")


def leaks(needles: list[str], haystack: bytes | str) -> list[str]:
    data = haystack.encode() if isinstance(haystack, str) else haystack
    data = _CLOCK.sub(rb"\1.000000", data)
    return [n for n in dict.fromkeys(needles) if pattern(n).search(data)]


def test_search_finds_every_encoding() -> None:
    """The search itself can fail: every form a value could take is found."""
    for text in (
        "x Björn y",
        "x BJÖRN y",
        'x "Bj\\u00f6rn" y',
        "x Bj\\u00F6rn y",
        "x Bj\\xc3\\xb6rn y",
        "x " + unicodedata.normalize("NFD", "Björn") + " y",
    ):
        assert leaks(["Björn"], text) == ["Björn"], text
    assert leaks(["850312"], "född 850312.") == ["850312"]
    assert leaks(["850312"], "2026-12-03T14:50:12.850312+00:00") == []  # the clock's own
    assert leaks(["850312"], "a5f0c850312d") == []  # inside hex: another value
    assert leaks(["Björn"], "Bjorn") == []


# -- the ledger --------------------------------------------------------------------------


def _settings(root: Path) -> Settings:
    return resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")


def _open(root: Path, *, cipher: bool) -> Ledger:
    s = _settings(root)
    KeyStore(s.key_dir).init()
    ledger = Ledger(s, at_rest_cipher=cipher)
    if not ledger.decision_index().histories:
        decisions.import_files(ledger, [(n, catalogs.read(n)) for n in KATALOGER])
    return ledger


def _db_bytes(root: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in sorted(root.glob("ledger.sqlite*")) if not p.name.endswith("-shm")
    )


def _event(kind: str, regim: str, **kw: Any) -> dict[str, Any]:
    insats, utforare = _ref(regim)
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": insats,
        "utforare": utforare,
        "datum": DATUM.isoformat(),
        **kw,
    }


def _events(p: Person, regim: str, note: str) -> list[dict[str, Any]]:
    """A kontakt, a start and an avslut, the follow-ups linked by the kontakt's client id;
    no free text under aggregat, which documents counts only."""
    text = {} if regim == "aggregat" else {"anteckning": note}
    kontakt = _event("kontakt", regim, deltagare=p.deltagare(), informerad_om_ansokan=True, **text)
    start = _event(
        "start",
        regim,
        oppnad_av=kontakt["id"],
        deltagare=p.deltagare(),
        fakta={"folkbokford_i_kommunen": True},
        maende=3,
        **text,
    )
    avslut = _event("avslut", regim, oppnad_av=kontakt["id"], maende=4)
    return [kontakt, start, avslut]


def _error_text(err: Rejected) -> str:
    return " | ".join([str(err), *(f"{p.code} {p.field} {p.message}" for p in err.problems)])


def _plain(e: Any) -> dict[str, Any]:
    return {k: v for k, v in e.__dict__.items() if k != "timestamp"}


def test_chosen_insatser_match_their_regime() -> None:
    for regim, (katalog, insats_id) in INSATSER.items():
        assert _catalog_insats(katalog, insats_id)["dokumentation"]["regim"] == regim


@hsettings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(persons=st.lists(people(), min_size=1, max_size=2), note=notes)
def test_no_identity_value_in_store_export_logs_or_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, persons: list[Person], note: str
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    run = tmp_path / uuid.uuid4().hex
    needles = [n for p in persons for n in p.needles()]
    errors: list[str] = []
    lines: list[str] = []

    # 1. The API, at-rest cipher off: every byte written is visible in the file.
    ledger = _open(run / "plain", cipher=False)
    try:
        for p in persons:
            for regim in INSATSER:
                results = [append.event(ledger, event) for event in _events(p, regim, note)]
                lines += [
                    json.dumps(event, ensure_ascii=False) for event in _events(p, regim, note)
                ]
                if regim in ("full_14_3", "deltagardata"):
                    # Sealed, not dropped: the authorised recovery still opens it (G3).
                    opened = identity.open_sealed(ledger, uuid.UUID(results[0]["deltagande"]))
                    assert opened["namn"] == p.namn
                    assert ("personnummer" in opened) == (regim == "full_14_3")
            # Refusals carrying identity: a note naming the person, identity in a wrong type,
            # a broken checksum.
            for regim in G1_REGIMES:
                bad = _event(
                    "kontakt",
                    regim,
                    deltagare=p.deltagare(),
                    informerad_om_ansokan=True,
                    anteckning=f"{note} {p.namn} {p.telefon}",
                )
                with pytest.raises(Rejected) as named:
                    append.event(ledger, bad)
                errors.append(_error_text(named.value))
                lines.append(json.dumps(bad, ensure_ascii=False))
            wrong_type = _event(
                "kontakt",
                "undantag_14_5",
                deltagare={**p.deltagare(), "alder": p.personnummer, "kon": p.namn},
                informerad_om_ansokan=True,
            )
            with pytest.raises(Rejected) as typed:
                append.event(ledger, wrong_type)
            errors.append(_error_text(typed.value))
            broken = p.personnummer[:-1] + str((p.check + 1) % 10)
            with pytest.raises(Rejected) as luhn_err:
                append.event(
                    ledger,
                    _event(
                        "kontakt",
                        "full_14_3",
                        deltagare={**p.deltagare(), "personnummer": broken},
                        informerad_om_ansokan=True,
                    ),
                )
            errors.append(_error_text(luhn_err.value))
            assert broken not in errors[-1]
        exported = "\n".join(
            json.dumps(_plain(e), ensure_ascii=False, default=str) for _, e in ledger.records()
        )
    finally:
        ledger.close()
    stored = _db_bytes(run / "plain")
    assert leaks([note], stored) == [note]  # control: the file is readable in clear
    assert leaks(needles, stored) == []
    assert leaks(needles, exported) == []
    for text in errors:
        assert leaks(needles, text) == [], text

    # 2. The command line on a ciphered store: append and export print nothing identifying.
    runner = CliRunner()
    root = run / "cli"
    base = ["--data-dir", str(root), "--db", f"sqlite:///{root / 'ledger.sqlite'}"]
    outputs = []
    for args in (["init"], *(["decisions", "import", "--catalog", n] for n in KATALOGER)):
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 0, result.output
    appended = runner.invoke(app, [*base, "append", "-"], input="\n".join(lines) + "\n")
    outputs.append(appended.output)
    assert appended.exit_code == 1  # the refused lines
    results = [json.loads(line) for line in appended.stdout.splitlines()]
    assert [r["ok"] for r in results].count(False) == len(persons) * len(G1_REGIMES)
    exported_cli = runner.invoke(app, [*base, "export"])
    assert exported_cli.exit_code == 0, exported_cli.output
    assert exported_cli.stdout.count("\n") >= len(persons) * len(INSATSER) * 2
    outputs.append(exported_cli.output)
    for text in outputs:
        assert leaks(needles, text) == []

    # 3. Logs, at DEBUG, of everything above.
    assert leaks(needles, caplog.text) == []


# -- refusal of a note that names the person -----------------------------------------------


@pytest.fixture(scope="module")
def shared_ledger(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ledger = _open(tmp_path_factory.mktemp("g1-refusals"), cipher=False)
    try:
        yield ledger
    finally:
        ledger.close()


NOTE_HITS = ("namn", "namnsdel", "genitiv", "versaler", "telefon", "personnummer", "epost")


@pytest.mark.backends
@hsettings(max_examples=40, deadline=None)
@given(
    p=people(),
    regim=st.sampled_from(G1_REGIMES),
    kind=st.sampled_from(NOTE_HITS),
    form=st.sampled_from(["12-", "12", "10-", "10"]),
    note=notes,
    event_type=st.sampled_from(["kontakt", "hanvisning"]),
)
def test_note_with_own_identity_is_refused_without_echo(
    shared_ledger: Ledger,
    p: Person,
    regim: str,
    kind: str,
    form: str,
    note: str,
    event_type: str,
) -> None:
    """Under radgivning_14_4, undantag_14_5 and aggregat a note naming the participant is
    refused (G6), and the refusal never repeats what it found (G1)."""
    first = p.namn.split()[0]
    pn = p.rendering(form)
    if form.startswith("10") and DATUM.year - p.birth.year >= 100:
        pn = p.rendering("10+")
    hit = {
        "namn": p.namn,
        "namnsdel": p.namn.split()[-1],
        "genitiv": first + "s",
        "versaler": first.upper(),
        "telefon": p.telefon,
        "personnummer": pn,
        "epost": p.epost,
    }[kind]
    event = _event(event_type, regim, deltagare=p.deltagare(), anteckning=f"{note} {hit} idag")
    if event_type == "kontakt":
        event["informerad_om_ansokan"] = True
    before = shared_ledger.recorder.max_notification_id()
    with pytest.raises(Rejected) as refused:
        append.event(shared_ledger, event)
    assert shared_ledger.recorder.max_notification_id() == before
    problems = refused.value.problems
    rule = "fritext_ej_tillaten" if regim == "aggregat" else "identitet_i_fritext"
    assert any(pr.code == rule and pr.field == "anteckning" for pr in problems), problems
    text = _error_text(refused.value)
    assert leaks([*p.needles(), hit], text) == [], text


@pytest.mark.parametrize(
    "field, value",
    [
        ("telefon", "+47 912 34 567"),  # a Norwegian mobile number
        ("telefon", "070/123 45 67"),
        ("fodelsedatum", "1985-03-12"),
    ],
)
def test_value_given_in_the_same_input_never_reaches_storage_via_the_note(
    shared_ledger: Ledger, field: str, value: str
) -> None:
    deltagare = {"namn": "Åsa Sjöström", "kon": "kvinna", field: value}
    event = _event(
        "kontakt",
        "undantag_14_5",
        deltagare=deltagare,
        informerad_om_ansokan=True,
        anteckning=f"Samtal om oro. Uppgav {value}.",
    )
    try:
        append.event(shared_ledger, event)
    except Rejected as refused:
        assert leaks([value], _error_text(refused)) == []
    stored = _db_bytes(shared_ledger.settings.data_dir)
    assert leaks([value], stored) == []


# -- deltagardata: never a personnummer, not even in the name or the free text ------------------

PNR_BORN = "850312"
PNR_SERIAL = "123"
#: A samordningsnummer carries the birth day + 60 (lag 2022:1697).
SNR_BORN = "850372"


def _spellings(yymmdd: str) -> list[tuple[str, str]]:
    """Every spelling the scan knows for the number of `yymmdd`: (id, text)."""
    tail = PNR_SERIAL + str(luhn(yymmdd + PNR_SERIAL))
    full = "19" + yymmdd
    return [
        ("12", f"{full}{tail}"),
        ("12-", f"{full}-{tail}"),
        ("12-space", f"{full} {tail}"),
        ("12-nbsp", f"{full}\xa0{tail}"),
        ("12-endash", f"{full}\u2013{tail}"),
        ("12-spaced-dash", f"{full} - {tail}"),
        ("10", f"{yymmdd}{tail}"),
        ("10-", f"{yymmdd}-{tail}"),
        ("10-space", f"{yymmdd} {tail}"),
        ("10-nbsp", f"{yymmdd}\xa0{tail}"),
        ("10-endash", f"{yymmdd}\u2013{tail}"),
        ("10-spaced-dash", f"{yymmdd} - {tail}"),
        ("10-plus", f"{yymmdd}+{tail}"),  # as written for someone born in 1885
    ]


PNR_CASES = [
    pytest.param(kind, text, field, id=f"{kind}-{spelling}-{field}")
    for kind, born in (("personnummer", PNR_BORN), ("samordningsnummer", SNR_BORN))
    for spelling, text in _spellings(born)
    for field in ("deltagare.namn", "anteckning")
]


def _deltagardata_event(**kw: Any) -> dict[str, Any]:
    return _event("kontakt", "deltagardata", informerad_om_ansokan=True, **kw)


@pytest.mark.backends
@pytest.mark.parametrize("kind, text, field", PNR_CASES)
def test_deltagardata_refuses_a_personnummer_in_the_name_or_the_free_text(
    shared_ledger: Ledger, kind: str, text: str, field: str
) -> None:
    """G1 under deltagardata: the name and the free text are sealed and shown by `identity
    show`, so a personnummer or samordningsnummer written there is refused; the refusal
    names the field and the rule, never the value, and nothing is stored."""
    deltagare = {"namn": "Åsa Sjöström", "kon": "kvinna"}
    note = "Samtal om oro."
    if field == "deltagare.namn":
        deltagare["namn"] = f"Åsa Sjöström {text}"
    else:
        note = f"Samtal om oro, uppgav {text} idag."
    before = shared_ledger.recorder.max_notification_id()
    with pytest.raises(Rejected) as refused:
        append.event(shared_ledger, _deltagardata_event(deltagare=deltagare, anteckning=note))
    assert shared_ledger.recorder.max_notification_id() == before
    problems = refused.value.problems
    assert [(p.code, p.field) for p in problems] == [("personnummer_i_fritext", field)]
    assert kind in problems[0].message
    assert "deltagardata" in problems[0].message
    digits = re.sub(r"[^0-9]", "", text)
    needles = [text, digits, digits[-10:], digits[-10:-4]]
    assert leaks(needles, _error_text(refused.value)) == []
    assert leaks(needles, _db_bytes(shared_ledger.settings.data_dir)) == []


@pytest.mark.parametrize(
    "written",
    ["19{d}.{t}", "{d}/{t}", "{d0}{d1} {d2}{d3} {d4}{d5} {t0}{t1} {t2}{t3}", "({d}) {t}"],
    ids=["dots", "slash", "groups", "brackets"],
)
def test_deltagardata_refuses_the_given_personnummer_in_any_separators(
    shared_ledger: Ledger, written: str
) -> None:
    """The personnummer given in the same event is found in the free text whatever its
    separators (the scan's `given` values)."""
    pnr = f"19{PNR_BORN}-{PNR_SERIAL}{luhn(PNR_BORN + PNR_SERIAL)}"
    tail = pnr[-4:]
    written = written.format(
        d=PNR_BORN,
        t=tail,
        **{f"d{n}": c for n, c in enumerate(PNR_BORN)},
        **{f"t{n}": c for n, c in enumerate(tail)},
    )
    deltagare = {"personnummer": pnr, "namn": "Åsa Sjöström", "kon": "kvinna"}
    before = shared_ledger.recorder.max_notification_id()
    with pytest.raises(Rejected) as refused:
        append.event(
            shared_ledger,
            _deltagardata_event(deltagare=deltagare, anteckning=f"Uppgav {written}."),
        )
    assert shared_ledger.recorder.max_notification_id() == before
    assert [(p.code, p.field) for p in refused.value.problems] == [
        ("personnummer_i_fritext", "anteckning")
    ]
    assert leaks([pnr, written, pnr[2:8]], _error_text(refused.value)) == []


def test_deltagardata_keeps_names_and_phone_numbers_in_the_free_text(
    shared_ledger: Ledger,
) -> None:
    """Only the personnummer is refused: a name, a phone number or an e-mail address in the
    free text is documented (sealed) under this regime."""
    note = "Åsa Sjöström ringde från 070-123 45 67, åsa@example.se."
    deltagare = {"personnummer": f"19{PNR_BORN}-{PNR_SERIAL}{luhn(PNR_BORN + PNR_SERIAL)}"}
    stored = append.event(
        shared_ledger,
        _deltagardata_event(deltagare={**deltagare, "namn": "Åsa Sjöström"}, anteckning=note),
    )
    opened = identity.open_sealed(shared_ledger, uuid.UUID(stored["deltagande"]))
    assert opened == {"namn": "Åsa Sjöström", "anteckningar": [note]}
