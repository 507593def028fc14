"""G6 for `iubledger append` input as bytes: each line is decoded on its own, so a line that
is not UTF-8 or is too long gets a refusal of its own and every other line its result; a
byte-order mark is dropped; blank lines are skipped but counted. No refusal echoes the
line's bytes or an identity value in it. Results go to stdout as JSON lines also while a
progress bar runs on a terminal (stderr a pty, stdout a file)."""

from __future__ import annotations

import io
import json
import os
import pty
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

import iubledger
from api_support import KATALOG, PERSON, UTFORARE, decision_file, event
from iubledger.cli import app, common
from iubledger.cli import events as cli_events
from iubledger.config import resolve
from iubledger.schemas.base import Rejected
from iubledger.services import decisions
from iubledger.store import tables
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

BOM = b"\xef\xbb\xbf"
MAX = cli_events.MAX_LINE
PNR = PERSON["personnummer"]
#: Identity values given in the input that no output may hold.
NEEDLES = [PNR, PNR.replace("-", ""), PERSON["namn"], "Sjöström", PERSON["adress"], PERSON["epost"]]
#: Byte sequences that are never UTF-8 wherever they are put: a stray continuation byte,
#: a lead byte without its continuation, an encoded surrogate, an overlong slash, 0xff.
INVALID = [b"\x80", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xff", b"\xf8\x88\x80\x80\x80"]


# -- reading lines (pure) ---------------------------------------------------------------------


def _read(data: bytes) -> list[tuple[int, str | tuple[str, str]]]:
    """read_lines on `data`: text, or (code, field) of a refusal."""
    return [
        (n, (x.problems[0].code, x.problems[0].field) if isinstance(x, Rejected) else x)
        for n, x in cli_events.read_lines(io.BytesIO(data))
    ]


def test_lines_are_numbered_and_blank_lines_are_skipped_but_counted() -> None:
    data = b'{"a": 1}\n\n   \n\t\r\n{"b": 2}\r\n{"c": 3}'
    assert _read(data) == [(1, '{"a": 1}'), (5, '{"b": 2}\r'), (6, '{"c": 3}')]


@pytest.mark.parametrize("bad", INVALID)
def test_a_line_that_is_not_utf8_is_its_own_refusal(bad: bytes) -> None:
    line = json.dumps(event("kontakt", deltagare=PERSON), ensure_ascii=False).encode()
    data = b'{"a": 1}\n' + line[:40] + bad + line[40:] + b"\n" + b'{"b": "\xc3\xa5"}\n'
    assert _read(data) == [(1, '{"a": 1}'), (2, ("utf8", "(rad)")), (3, '{"b": "å"}')]
    refusal = dict(cli_events.read_lines(io.BytesIO(data)))[2]
    assert isinstance(refusal, Rejected)
    message = refusal.problems[0].message
    assert "offset 40" in message
    assert message.isascii() and "\ufffd" not in message
    assert not [n for n in NEEDLES if n in message]


def test_a_byte_order_mark_at_the_start_is_dropped_only_there() -> None:
    assert _read(BOM + b'{"a": 1}\n' + BOM + b'{"b": 2}\n') == [
        (1, '{"a": 1}'),
        (2, '\ufeff{"b": 2}'),  # not at the start: left to the JSON parser, which refuses it
    ]
    assert _read(BOM) == [] and _read(BOM + b"\n \n") == []


def test_the_limit_is_bytes_before_the_newline() -> None:
    exactly = b"x" * MAX
    assert _read(exactly + b"\n" + b"ok\n") == [(1, exactly.decode()), (2, "ok")]
    assert _read(exactly) == [(1, exactly.decode())]
    assert _read(BOM + exactly + b"\n" + b"ok\n") == [(1, exactly.decode()), (2, "ok")]
    over = [(1, ("rad_for_lang", "(rad)")), (2, "ok")]
    assert _read(b"x" * (MAX + 1) + b"\nok\n") == over
    assert _read(BOM + b"x" * (MAX + 1) + b"\nok\n") == over
    assert _read(b"x" * (MAX + 1)) == over[:1]
    # Too long comes first: the line's bytes are never decoded.
    assert _read(b"\xff" * (MAX + 5) + b"\nok\n") == over


class Recording(io.BytesIO):
    """A stream that records the most bytes it handed out in one read."""

    largest = 0

    def readline(self, size: int | None = -1, /) -> bytes:
        got = super().readline(size)
        self.largest = max(self.largest, len(got))
        return got

    def read(self, size: int | None = -1, /) -> bytes:
        got = super().read(size)
        self.largest = max(self.largest, len(got))
        return got


def test_a_huge_line_is_skipped_without_reading_it_whole() -> None:
    huge = b'{"anteckning": "' + PERSON["namn"].encode() * (6 * MAX // 16) + b'"}'
    stream = Recording(b'{"a": 1}\n' + huge + b"\n" + b'{"b": 2}\n')
    got = [(n, x if isinstance(x, str) else x.problems[0].code) for n, x in
           cli_events.read_lines(stream)]  # fmt: skip
    assert got == [(1, '{"a": 1}'), (2, "rad_for_lang"), (3, '{"b": 2}')]
    assert len(huge) > 5 * MAX
    assert stream.largest <= MAX + 1


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with keys and the test katalog's decisions, closed."""
    root = tmp_path_factory.mktemp("bytes") / "d"
    s = resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")
    KeyStore(s.key_dir).init()
    ledger = Ledger(s)
    try:
        decisions.import_files(ledger, [("api-namnd", decision_file(KATALOG, UTFORARE))])
    finally:
        ledger.close()
    return root


def _url(root: Path) -> str:
    return f"sqlite:///{root / 'ledger.sqlite'}"


def stored(root: Path) -> int:
    """Client ids stored (one per accepted line with a new id)."""
    ledger = Ledger(resolve(str(root), _url(root)))
    try:
        with ledger.transaction() as session:
            n = session.execute(select(func.count()).select_from(tables.klient_id)).scalar()
    finally:
        ledger.close()
    return int(n or 0)


def run_append(root: Path, data: bytes, *, stdin: bool = False) -> Result:
    args = ["--data-dir", str(root), "--db", _url(root), "append"]
    if stdin:
        return CliRunner().invoke(app, [*args, "-"], input=data)
    path = root.parent / "input.jsonl"
    path.write_bytes(data)
    return CliRunner().invoke(app, [*args, str(path)])


def results(r: Result) -> list[dict[str, Any]]:
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return [json.loads(line) for line in r.stdout.splitlines()]


def assert_no_identity(text: str) -> None:
    low = text.lower()
    assert [n for n in NEEDLES if n.lower() in low] == [], text[:2000]
    assert "Traceback" not in text


def kontakt() -> bytes:
    """A valid event carrying identity (dropped under rådgivning 14:4)."""
    return json.dumps(event("kontakt", "radgivning", deltagare=PERSON), ensure_ascii=False).encode()


def test_bad_bytes_refuse_their_line_only(store: Path) -> None:
    before = stored(store)
    good = [kontakt() for _ in range(3)]
    bad = good[1][:50] + b"\xff\xfe" + good[1][50:]
    huge = b'{"anteckning": "' + PERSON["namn"].encode() * (MAX // 10) + b'"}'
    data = b"\n".join([BOM + good[0], bad, b"", b"  \t", huge, good[2], b"{" + PNR.encode()])
    r = run_append(store, data + b"\n")
    out = results(r)
    assert r.exit_code == 1
    assert [(x["line"], x["ok"]) for x in out] == [
        (1, True),
        (2, False),
        (5, False),
        (6, True),
        (7, False),
    ]
    assert [x["error"]["code"] for x in out if not x["ok"]] == [
        "utf8",
        "rad_for_lang",
        "json_invalid",
    ]
    for x in out:
        if not x["ok"]:
            assert set(x["error"]) == {"code", "field", "message"}
            assert x["problems"] == [x["error"]]
    assert out[1]["error"]["field"] == "(rad)" and out[2]["error"]["field"] == "(rad)"
    assert stored(store) == before + 2
    assert_no_identity(r.output)
    assert "2 line(s) stored now; 3 refused (nothing stored for them)" in r.stderr


def test_bad_bytes_on_stdin_and_a_byte_order_mark(store: Path) -> None:
    before = stored(store)
    good = [kontakt() for _ in range(2)]
    data = BOM + good[0] + b"\r\n\xc3\x28\r\n" + good[1] + b"\r\n"
    r = run_append(store, data, stdin=True)
    out = results(r)
    assert [(x["line"], x["ok"]) for x in out] == [(1, True), (2, False), (3, True)]
    assert out[1]["error"]["code"] == "utf8"
    assert stored(store) == before + 2
    again = results(run_append(store, data, stdin=True))  # idempotent as before
    assert [x.get("event_id") for x in again] == [x.get("event_id") for x in out]
    assert stored(store) == before + 2


def test_help_states_the_input_rules() -> None:
    r = CliRunner().invoke(app, ["append", "--help"], env={"COLUMNS": "200"})
    text = " ".join(r.output.split())
    assert str(MAX) in text and "1 MiB" in text
    assert "Blank lines are skipped" in text and "line numbers count them" in text
    assert "byte-order mark" in text
    for code in ("utf8", "rad_for_lang"):
        assert code in text


def test_the_docs_state_the_input_rules() -> None:
    root = Path(iubledger.__file__).parents[2]
    doc = " ".join((root / "docs" / "events.md").read_text(encoding="utf-8").split())
    assert str(MAX) in doc and "blank lines are skipped; line numbers count them" in doc.lower()
    assert "utf8" in doc and "rad_for_lang" in doc and "byte-order mark" in doc


# -- property: a file of mixed lines ----------------------------------------------------------

KINDS = ["valid", "json", "utf8", "empty", "blank", "long"]
SMALL_LIMIT = 4096


@st.composite
def line_of(draw: st.DrawFn, kind: str) -> bytes:
    if kind == "valid":
        return kontakt()
    if kind == "json":
        return draw(
            st.sampled_from(
                [kontakt()[:-20], b'{"id": "' + PNR.encode() + b'", "type": "kontakt"', b"[1, 2"]
            )
        )
    if kind == "utf8":
        text = kontakt()
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(INVALID)) + text[at:]
    if kind == "empty":
        return b""
    if kind == "blank":
        return draw(st.sampled_from([b" ", b"\t", b"  \t ", b"\r"]))
    size = draw(st.integers(SMALL_LIMIT + 1, 4 * SMALL_LIMIT))
    pad = (PERSON["namn"] + " ").encode() * size
    return (b'{"anteckning": "' + pad)[:size] + draw(st.sampled_from([b"", b"\xff"]))


@st.composite
def inputs(draw: st.DrawFn) -> tuple[list[str], bytes]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=25))
    lines = [draw(line_of(k)) for k in kinds]
    for k, line in zip(kinds, lines, strict=True):
        if k == "utf8":
            with pytest.raises(UnicodeDecodeError):
                line.decode("utf-8")
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = newline.join(lines) + draw(st.sampled_from([newline, b""]))
    return kinds, (BOM if draw(st.booleans()) else b"") + data


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=inputs())
def test_each_non_blank_line_gets_one_result_in_order(
    store: Path, case: tuple[list[str], bytes]
) -> None:
    kinds, data = case
    before = stored(store)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli_events, "MAX_LINE", SMALL_LIMIT)
        r = run_append(store, data)
    out = results(r)
    expected = [(n, k) for n, k in enumerate(kinds, start=1) if k not in ("empty", "blank")]
    assert [x["line"] for x in out] == [n for n, _ in expected]
    codes = {"json": "json_invalid", "utf8": "utf8", "long": "rad_for_lang"}
    for x, (_, kind) in zip(out, expected, strict=True):
        assert x["ok"] is (kind == "valid"), (kind, x)
        if kind != "valid":
            assert x["error"]["code"] == codes[kind], (kind, x)
    assert r.exit_code == (0 if all(k == "valid" for _, k in expected) else 1)
    assert stored(store) == before + kinds.count("valid")
    assert_no_identity(r.output)


# -- results on stdout while a progress bar runs on a terminal ---------------------------------


def test_the_progress_bar_never_redirects_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=screen, force_terminal=True))
    monkeypatch.setattr(common, "out", Console(file=io.StringIO(), force_terminal=False))
    stdout, stderr = sys.stdout, sys.stderr
    with common.progress("append", prints=True) as tick:
        assert sys.stdout is stdout and sys.stderr is stderr
        tick(1)
    with common.progress("verify") as tick:
        assert sys.stdout is stdout and sys.stderr is stderr
        tick(1)


def _drain(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        into.append(chunk)


@pytest.fixture
def copied(store: Path, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "d"
    shutil.copytree(store, root)
    yield root


def test_results_reach_a_file_while_stderr_is_a_terminal(copied: Path, tmp_path: Path) -> None:
    """`append FILE > out.jsonl` on a terminal: every result line in the file, as JSON."""
    lines = [kontakt() for _ in range(120)] + [b"\xff", b"{"]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result_file = tmp_path / "out.jsonl"
    master, slave = pty.openpty()
    screen: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, screen), daemon=True)
    reader.start()
    src = str(Path(iubledger.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src, "TERM": "xterm-256color", "COLUMNS": "120"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    cmd = [sys.executable, "-c", "from iubledger.cli import main; main()"]
    cmd += ["--data-dir", str(copied), "--db", _url(copied), "append", str(path)]
    with result_file.open("wb") as stdout:
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=slave, env=env, timeout=120
        )
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    shown = b"".join(screen).decode("utf-8", "replace")
    assert proc.returncode == 1, shown
    got = [json.loads(line) for line in result_file.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in got] == list(range(1, len(lines) + 1))
    assert [x["ok"] for x in got] == [True] * 120 + [False, False]
    assert "append" in shown, "the progress bar was not shown: the test proves nothing"
    assert '"ok"' not in shown
    assert "120 line(s) stored now; 2 refused (nothing stored for them)" in shown
    assert_no_identity(shown)
