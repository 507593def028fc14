"""G3 documented when required: under full_14_3 (14 kap. 3 § SoL) identity is sealed and
recoverable by an authorised role; gallring (deleting the subject key, recorded with its
reason) makes it unrecoverable while every record stays readable and the log still
verifies. What gallring leaves unlinked is tested in `test_gallring.py`."""

from __future__ import annotations

import copy
import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

from identities import personnummer
from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import Settings, resolve
from iubledger.schemas.base import Rejected
from iubledger.services import append, decisions, gallring, identity
from iubledger.services.integrity import verify
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

DATUM = date(2025, 11, 15)
KATALOG = "g3-namnd"


def _template(katalog: str, insats_id: str) -> dict[str, Any]:
    fil = json.loads(catalogs.read(katalog))
    return copy.deepcopy(next(i for i in fil["insatser"] if i["id"] == insats_id))


#: One insats per regime, taken from the shipped catalogs (villkor: folkbokförd, 18+).
INSATSER = {
    "full_14_3": _template("alingsas", "3.4.6"),
    "deltagardata": _template("ks-2025-510", "r4"),
    "undantag_14_5": _template("alingsas", "3.2.1"),
    "radgivning_14_4": _template("alingsas", "3.1.1"),
    "aggregat": _template("ks-2025-510", "r7"),
}


def decision_file() -> str:
    fil = {k: v for k, v in json.loads(catalogs.read("alingsas")).items() if k != "insatser"}
    fil["katalog"] = KATALOG
    fil["insatser"] = [{**i, "id": regim.replace("_", "-")} for regim, i in INSATSER.items()]
    return json.dumps(fil, ensure_ascii=False)


PNR = personnummer("850312", "123")
PNR2 = personnummer("790101", "456")
DELTAGARE = {
    "personnummer": PNR,
    "namn": "Hélène Sjöström",
    "adress": "Storgatan 12",
    "telefon": "070-123 45 67",
    "epost": "helene@example.se",
    "kon": "kvinna",
    "folkbokford_kommun": "Alingsås",
}


def event(kind: str, regim: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": f"{KATALOG}/{regim.replace('_', '-')}",
        "utforare": INSATSER[regim]["tillhandahalls_av"][0]["utforare"][0],
        "datum": DATUM.isoformat(),
        **kw,
    }


def settings_for(root: Path) -> Settings:
    return resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def ledger(data_dir: Path) -> Iterator[Ledger]:
    s = settings_for(data_dir)
    KeyStore(s.key_dir).init()
    opened = Ledger(s)
    decisions.import_files(opened, [("g3", decision_file())])
    try:
        yield opened
    finally:
        opened.close()


def participate(
    ledger: Ledger, regim: str, deltagare: dict[str, Any] = DELTAGARE, **kw: Any
) -> UUID:
    """A kontakt and a start; returns the participation id."""
    kontakt = event("kontakt", regim, deltagare=deltagare, informerad_om_ansokan=True, **kw)
    opened = append.event(ledger, kontakt)
    append.event(
        ledger,
        event(
            "start",
            regim,
            deltagande=opened["deltagande"],
            deltagare=deltagare,
            fakta={"folkbokford_i_kommunen": True},
        ),
    )
    return UUID(opened["deltagande"])


SKAL = "Gallringsfristen i dokumenthanteringsplanen har löpt ut"


def code_of(err: pytest.ExceptionInfo[Rejected]) -> str:
    return err.value.problems[0].code


# -- API ------------------------------------------------------------------------------------


def test_full_identity_is_recovered(ledger: Ledger) -> None:
    pid = participate(ledger, "full_14_3", anteckning="Samtal om sömn och oro.")
    opened = identity.open_sealed(ledger, pid)
    assert opened["namn"] == DELTAGARE["namn"]
    assert opened["personnummer"] == PNR
    assert opened["anteckningar"] == ["Samtal om sömn och oro."]
    for f in ("adress", "telefon", "epost", "folkbokford_kommun"):
        assert opened[f] == DELTAGARE[f]


def test_every_sealed_note_of_a_participation_is_recovered(ledger: Ledger) -> None:
    pid = participate(ledger, "full_14_3", anteckning="Första samtalet: oro.")
    append.event(
        ledger,
        event("handelse", "full_14_3", deltagande=str(pid), anteckning="Andra: bättre sömn."),
    )
    append.event(
        ledger,
        event("handelse", "full_14_3", deltagande=str(pid), anteckning="Tredje: avslut planeras."),
    )
    opened = identity.open_sealed(ledger, pid)
    assert opened["anteckningar"] == [
        "Första samtalet: oro.",
        "Andra: bättre sömn.",
        "Tredje: avslut planeras.",
    ]
    assert opened["namn"] == DELTAGARE["namn"]


def test_shred_makes_identity_unrecoverable_but_the_log_readable(ledger: Ledger) -> None:
    pid = participate(ledger, "full_14_3", anteckning="Samtal.")
    other = participate(ledger, "full_14_3", deltagare={**DELTAGARE, "personnummer": PNR2})
    assert identity.open_sealed(ledger, pid)["namn"] == DELTAGARE["namn"]
    before = [(pos, type(e).__name__, getattr(e, "post", None)) for pos, e in ledger.records()]

    assert gallring.shred(ledger, [pid], SKAL, "admin", None) == 1
    with pytest.raises(Rejected) as gone:
        identity.open_sealed(ledger, pid)
    assert code_of(gone) == "gallrad"
    assert gone.value.problems[0].field == "deltagande"
    with pytest.raises(Rejected) as again:
        gallring.shred(ledger, [pid], SKAL, "admin", None)
    assert code_of(again) == "redan_gallrad"

    after = [(pos, type(e).__name__, getattr(e, "post", None)) for pos, e in ledger.records()]
    assert after[: len(before)] == before  # every record still reads, seals included
    assert [name for _, name, _ in after[len(before) :]] == ["Skapad", "Gallrad"]
    sealed = [post for _, _, post in after if post and "forsegling" in post]
    assert len(sealed) == 4
    assert identity.open_sealed(ledger, other)["personnummer"] == PNR2  # only that subject is gone
    assert verify(ledger).ok


def test_shredded_key_leaves_no_bytes_in_the_keystore(ledger: Ledger, data_dir: Path) -> None:
    pid = participate(ledger, "full_14_3")
    key = ledger.keys.subject_key(str(pid))
    assert key is not None
    assert gallring.shred(ledger, [pid], SKAL, "admin", None) == 1
    ledger.close()
    stored = b"".join(p.read_bytes() for p in (data_dir / "keys").glob("keystore.sqlite*"))
    assert key not in stored
    with sqlite3.connect(data_dir / "keys" / "keystore.sqlite") as con:
        rows = con.execute("SELECT count(*) FROM subjektnyckel WHERE subjekt = ?", (str(pid),))
        assert rows.fetchone() == (0,)
    con.close()


@pytest.mark.parametrize("regim", ["undantag_14_5", "radgivning_14_4", "aggregat"])
def test_identity_refused_where_nothing_is_sealed(ledger: Ledger, regim: str) -> None:
    pid = participate(ledger, regim)
    with pytest.raises(Rejected) as none:
        identity.open_sealed(ledger, pid)
    assert code_of(none) == "ingen_forsegling"
    assert DELTAGARE["namn"] not in str(none.value)


def test_deltagardata_recovers_the_name_only(ledger: Ledger) -> None:
    pid = participate(ledger, "deltagardata")
    assert identity.open_sealed(ledger, pid) == {"namn": DELTAGARE["namn"]}
    with_note = participate(ledger, "deltagardata", anteckning="Kom till första träffen.")
    opened = identity.open_sealed(ledger, with_note)
    assert opened == {"namn": DELTAGARE["namn"], "anteckningar": ["Kom till första träffen."]}
    assert PNR not in json.dumps(opened)


def test_unknown_participation(ledger: Ledger) -> None:
    with pytest.raises(Rejected) as unknown:
        identity.open_sealed(ledger, uuid.uuid4())
    assert code_of(unknown) == "okant_deltagande"


# -- command line ----------------------------------------------------------------------------


def cli(data_dir: Path, *args: str) -> Result:
    base = ["--data-dir", str(data_dir), "--db", f"sqlite:///{data_dir / 'ledger.sqlite'}"]
    result = CliRunner().invoke(app, [*base, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def test_cli_identity_show_and_shred(ledger: Ledger, data_dir: Path) -> None:
    pid = str(participate(ledger, "full_14_3", anteckning="Samtal."))
    undantag = str(participate(ledger, "undantag_14_5"))
    records = sum(1 for _ in ledger.records())
    ledger.close()

    shown = cli(data_dir, "identity", "show", pid, "--reason", "Begäran från IVO")
    assert shown.exit_code == 0, shown.output
    assert DELTAGARE["namn"] in shown.stdout
    assert PNR in shown.stdout
    as_json = cli(data_dir, "--json", "identity", "show", pid, "--reason", "Begäran från IVO")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["namn"] == DELTAGARE["namn"]

    refused = cli(data_dir, "identity", "show", undantag, "--reason", "Begäran från IVO")
    assert refused.exit_code == 1
    assert "ingen_forsegling" in refused.output
    assert cli(data_dir, "identity", "show", str(uuid.uuid4()), "--reason", "x").exit_code == 1
    assert cli(data_dir, "identity", "show", "not-a-uuid", "--reason", "x").exit_code == 2

    assert cli(data_dir, "identity", "shred", pid, "--yes").exit_code == 1  # no reason
    unconfirmed = cli(data_dir, "identity", "shred", pid, "--reason", SKAL)
    assert unconfirmed.exit_code == 2  # not a terminal and no --yes: nothing done
    assert "--yes" in unconfirmed.output
    shredded = cli(data_dir, "identity", "shred", pid, "--reason", SKAL, "--yes")
    assert shredded.exit_code == 0, shredded.output
    gone = cli(data_dir, "identity", "show", pid, "--reason", "Begäran från IVO")
    assert gone.exit_code == 1
    assert "gallrad" in gone.output
    assert DELTAGARE["namn"] not in gone.output
    again = cli(data_dir, "identity", "shred", pid, "--reason", SKAL, "--yes")
    assert again.exit_code == 1
    assert "redan_gallrad" in again.output
    assert cli(data_dir, "identity", "shred", "not-a-uuid", "--reason", SKAL).exit_code == 2

    exported = cli(data_dir, "export")
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    access = [r for r in lines if r["aggregat"] == "Identitetsatkomst"]
    assert len(lines) == records + len(access)  # only the access log was added
    outcomes = [r["data"]["utfall"] for r in access if r["handelse"] == "Registrerad"]
    assert outcomes == ["oppnad", "oppnad", "ingen_forsegling", "okant_deltagande", "gallrad"]
    (shred,) = [r["data"] for r in access if r["handelse"] == "Gallrad"]
    assert (shred["deltagande"], shred["skal"], shred["roll"]) == (pid, SKAL, "admin")
    assert DELTAGARE["namn"] not in exported.stdout
    assert cli(data_dir, "verify").exit_code == 0


@pytest.mark.parametrize(
    "reason",
    [
        "Begäran gällande Hélène Sjöström",
        "begäran om helene sjostrom",  # case and diacritics
        "Ärendet Sjöströmsfamiljen",  # inside a compound
        "Begäran om Hеlеnе",  # Cyrillic е
        "Boende på storgatan 12",
        "Ring 0701234567",
    ],
)
def test_reason_naming_the_participant_is_refused_and_not_logged(
    ledger: Ledger, reason: str
) -> None:
    """The reason goes to tillsyn: the participant's own name or address in any spelling
    is refused before anything is shown or logged, and the refusal does not echo it (G1)."""
    pid = participate(ledger, "full_14_3")
    with pytest.raises(Rejected) as refused:
        identity.recover(ledger, pid, reason, "admin", None)
    assert refused.value.problems[0].code == "identitet_i_skal"
    assert reason not in str(refused.value)
    assert all(reason not in e["skal"] for e in identity.accesses(ledger))
    opened, _ = identity.recover(ledger, pid, "Begäran från IVO i tillsynsärende", "admin", None)
    assert opened["namn"] == DELTAGARE["namn"]
