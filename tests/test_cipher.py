"""At-rest cipher and key custody: stored records are XChaCha20-Poly1305 ciphertext; a wrong,
missing, malformed or carelessly exposed key is refused with a clear error, never garbage,
and the command line reports it with exit 1 and no traceback."""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import Settings, resolve
from iubledger.services import append, decisions
from iubledger.store.cipher import CipherKeyError, XChaCha20Cipher
from iubledger.store.keys import AT_REST, KEYSTORE, SIGNING, KeyCustodyError, KeyStore
from iubledger.store.ledger import Ledger

MARKER = "Blåbärssoppa"


def settings_for(root: Path) -> Settings:
    return resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")


def kontakt(anteckning: str = f"Bjöd på {MARKER} under samtalet.") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "kontakt",
        "insats": "alingsas/3.1.1",
        "utforare": "familjeradgivningen",
        "datum": "2025-11-15",
        "informerad_om_ansokan": True,
        "anteckning": anteckning,
    }


def build(root: Path, *, cipher: bool = True) -> Settings:
    """A store with the Alingsås catalog and one kontakt carrying the marker; closed.
    The participation id is kept in `root/deltagande` for the command line tests."""
    s = settings_for(root)
    KeyStore(s.key_dir).init()
    ledger = Ledger(s, at_rest_cipher=cipher)
    try:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
        (root / "deltagande").write_text(append.event(ledger, kontakt())["deltagande"])
    finally:
        ledger.close()
    return s


def db_bytes(root: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in sorted(root.glob("ledger.sqlite*")) if not p.name.endswith("shm")
    )


def found(text: str, data: bytes) -> bool:
    """Case-insensitive search in UTF-8 (NFC/NFD) and as JSON \\uXXXX escapes."""
    forms = {text, unicodedata.normalize("NFD", text)}
    encoded = {f.encode() for f in forms} | {json.dumps(f)[1:-1].encode() for f in forms}
    return any(re.search(re.escape(e), data, re.IGNORECASE) for e in encoded) or any(
        e.lower() in data.lower() for e in encoded
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_marker_is_not_in_the_database_file(root: Path) -> None:
    build(root)
    stored = db_bytes(root)
    assert len(stored) > 10_000
    assert not found(MARKER, stored)
    assert not found("Familjerådgivning", stored)  # decisions are ciphered too
    key = (root / "keys" / AT_REST).read_bytes()
    assert key not in stored


def test_control_marker_is_in_clear_without_the_cipher(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    build(plain, cipher=False)
    assert found(MARKER, db_bytes(plain))


@pytest.mark.backends
def test_records_open_with_the_right_key(root: Path) -> None:
    s = build(root)
    ledger = Ledger(s)
    try:
        notes = [e.post.get("anteckning") for _, e in ledger.records() if hasattr(e, "post")]
    finally:
        ledger.close()
    assert notes == [f"Bjöd på {MARKER} under samtalet."]


@pytest.mark.backends
def test_wrong_key_is_a_clear_error_not_garbage(root: Path) -> None:
    """Another valid key: refused with CipherKeyError (on opening or on the first read),
    never records decoded into garbage."""
    s = build(root)
    (s.key_dir / AT_REST).write_text(XChaCha20Cipher.create_key())
    read: list[Any] = []
    for use in (
        lambda ledger: read.extend(ledger.records()),
        lambda ledger: append.event(ledger, kontakt("Ny.")),
    ):
        with pytest.raises(CipherKeyError, match="at-rest key"):
            ledger = Ledger(s)
            try:
                use(ledger)
            finally:
                ledger.close()
    assert read == []


def alter_last_record(root: Path) -> None:
    """Flip one ciphertext bit of the newest stored event (the kontakt), not the first."""
    con = sqlite3.connect(root / "ledger.sqlite")
    try:
        (table,) = [
            name
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name.endswith("_events")
        ]
        rowid, state = con.execute(
            f"SELECT rowid, state FROM {table} ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        altered = bytearray(state)
        altered[len(altered) // 2] ^= 1
        con.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (bytes(altered), rowid))
        con.commit()
    finally:
        con.close()


def test_altered_record_is_a_clear_cipher_error(root: Path) -> None:
    s = build(root)
    alter_last_record(root)
    ledger = Ledger(s)  # the first record still opens
    try:
        with pytest.raises(CipherKeyError, match="altered record"):
            list(ledger.records())
    finally:
        ledger.close()


@pytest.mark.parametrize("command", ["export", "identity-show"])
def test_cli_reports_an_altered_record_without_traceback(root: Path, command: str) -> None:
    build(root)
    alter_last_record(root)
    args = {
        "export": ["export"],
        "identity-show": ["identity", "show", (root / "deltagande").read_text(), "--reason", "x"],
    }[command]
    result = cli(root, *args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert "altered record" in " ".join(result.output.split())


@pytest.mark.parametrize(
    "content, message",
    [("inte base64 alls!", "base64"), ("c2hvcnQ=", "32 bytes"), ("", "missing")],
)
def test_malformed_key_is_refused(root: Path, content: str, message: str) -> None:
    s = build(root)
    (s.key_dir / AT_REST).write_text(content)
    with pytest.raises(CipherKeyError, match=message):
        Ledger(s).close()


def _open_and_use(s: Settings) -> None:
    """Open the store and touch every key: the at-rest and signing keys on opening, the
    keystore on the first append."""
    ledger = Ledger(s)
    try:
        append.event(ledger, kontakt("Ännu en kontakt."))
    finally:
        ledger.close()


@pytest.mark.parametrize("name", [AT_REST, SIGNING, KEYSTORE])
def test_missing_key_file_says_run_init(root: Path, name: str) -> None:
    s = build(root)
    (s.key_dir / name).unlink()
    with pytest.raises(KeyCustodyError, match="iubledger init") as missing:
        _open_and_use(s)
    assert name in str(missing.value)


@pytest.mark.parametrize("name", [AT_REST, SIGNING, KEYSTORE])
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644, 0o666])
def test_key_file_open_to_group_or_others_is_refused(root: Path, name: str, mode: int) -> None:
    s = build(root)
    (s.key_dir / name).chmod(mode)
    with pytest.raises(KeyCustodyError, match="chmod 600"):
        _open_and_use(s)


# -- command line ----------------------------------------------------------------------------


def cli(root: Path, *args: str, stdin: str | None = None) -> Result:
    base = ["--data-dir", str(root), "--db", f"sqlite:///{root / 'ledger.sqlite'}"]
    return CliRunner().invoke(app, [*base, *args], input=stdin)


def _wrong(s: Settings) -> None:
    (s.key_dir / AT_REST).write_text(XChaCha20Cipher.create_key())


def _missing(s: Settings) -> None:
    (s.key_dir / AT_REST).unlink()


def _exposed(s: Settings) -> None:
    (s.key_dir / AT_REST).chmod(0o644)


def _exposed_keystore(s: Settings) -> None:
    (s.key_dir / KEYSTORE).chmod(0o640)


def _malformed(s: Settings) -> None:
    (s.key_dir / AT_REST).write_text("inte base64 alls!")


BREAKAGES: dict[str, tuple[Callable[[Settings], None], str]] = {
    "wrong": (_wrong, "at-rest key"),
    "missing": (_missing, "iubledger init"),
    "exposed": (_exposed, "chmod 600"),
    "exposed-keystore": (_exposed_keystore, "chmod 600"),
    "malformed": (_malformed, "base64"),
}


COMMANDS = {
    "export": ("export",),
    "append": ("append", "-"),
    "decisions-list": ("decisions", "list"),
    "identity-show": ("identity", "show", "<deltagande>", "--reason", "x"),
}
CASES = [
    pytest.param(b, c, id=f"{c}-{b}")
    for b in sorted(BREAKAGES)
    for c in COMMANDS
    # Only append reaches the keystore before failing for another reason.
    if b != "exposed-keystore" or c == "append"
]


@pytest.mark.backends
@pytest.mark.parametrize("breakage, command", CASES)
def test_cli_reports_key_problems_without_traceback(
    root: Path, breakage: str, command: str
) -> None:
    s = build(root)
    assert cli(root, "export").exit_code == 0
    breaks, message = BREAKAGES[breakage]
    breaks(s)
    args = [
        (root / "deltagande").read_text() if a == "<deltagande>" else a for a in COMMANDS[command]
    ]
    result = cli(root, *args, stdin=json.dumps(kontakt("Ny.")) + "\n")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert message in " ".join(result.output.split())
    assert MARKER not in result.output


@pytest.mark.backends
def test_cli_json_error_for_a_wrong_key(root: Path) -> None:
    s = build(root)
    _wrong(s)
    result = cli(root, "--json", "export")
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["ok"] is False
    assert error["error"]["code"] == "nycklar"
    assert "at-rest key" in error["error"]["message"]
