"""What a newcomer meets first: `demo` (where its reports are, a short summary, an empty
data dir used as it is), the README's "A session" run exactly as written, and the report
period checked the same way on the command line and over HTTP."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import iubledger
from api_support import client_for, seed
from iubledger.api.app import create_app
from iubledger.cli import app
from iubledger.config import Settings
from iubledger.services import demo as job
from test_demo import short_stream

README = Path(__file__).resolve().parents[1] / "README.md"


def session_script() -> str:
    """The shell block under '### A session' in the README."""
    text = README.read_text(encoding="utf-8")
    part = text[text.index("### A session") :]
    found = re.search(r"```sh\n(.*?)```", part, re.S)
    assert found is not None
    return found.group(1)


def test_the_readme_session_runs_as_written(tmp_path: Path) -> None:
    """After `make demo` (a demo data dir beside it), every command of the session exits 0;
    the resend says the lines were already stored; the replay by occurrence is not empty."""
    (tmp_path / "iubledger-data").mkdir()
    (tmp_path / "iubledger-data" / ".iubledger-demo").touch()
    cli = tmp_path / ".venv" / "bin" / "iubledger"
    cli.parent.mkdir(parents=True)
    cli.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c 'from iubledger.cli import main; main()' \"$@\"\n"
    )
    cli.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IUBLEDGER_") and k != "COLUMNS"}
    env["PYTHONPATH"] = str(Path(iubledger.__file__).parents[1])
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", session_script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    said = " ".join(done.stderr.split())
    stored = re.search(r"(\d+) line\(s\) stored now", said)
    assert stored is not None and int(stored.group(1)) > 500, said[-2000:]
    assert f"0 line(s) stored now; {stored.group(1)} already stored before" in said
    assert (tmp_path / "deltagande.html").stat().st_size > 1000
    assert "Översikt per lagrum" in done.stdout
    assert "Inget var registrerat" not in said  # the replay by occurrence found the events


@pytest.fixture
def quick_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo on two months at a third of the volume (the full year takes minutes)."""
    monkeypatch.setattr(job, "stream", short_stream)


@pytest.mark.usefixtures("quick_demo")
def test_demo_in_an_existing_empty_dir_says_where_its_reports_are_first(tmp_path: Path) -> None:
    data = tmp_path / "tom"
    data.mkdir()
    result = CliRunner().invoke(app, ["--data-dir", str(data), "demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    paths = [str(p) for p in job.report_paths(data / "rapporter")]
    first = next(n for n, line in enumerate(lines) if paths[0] in line)
    assert first < next(n for n, line in enumerate(lines) if line.startswith("Simulated"))
    assert all(Path(p).is_file() for p in paths)
    assert len(lines) < 30, result.stdout  # a summary, not every table
    text = " ".join(result.stdout.split())
    assert "Efterlevnad:" in text and "Effekt, Beroenderådgivning" in text
    assert "verify: OK" in text


@pytest.mark.usefixtures("quick_demo")
def test_demo_refuses_a_dir_that_is_not_a_demo(tmp_path: Path) -> None:
    data = tmp_path / "annan"
    data.mkdir()
    (data / "ledger.sqlite").write_bytes(b"")
    result = CliRunner().invoke(app, ["--data-dir", str(data), "demo"])
    assert result.exit_code == 1
    assert "not a demo" in " ".join(result.output.split())
    assert (data / "ledger.sqlite").exists()


REVERSED = {"from": "2026-05-01", "to": "2026-04-01"}


@pytest.mark.parametrize("kind", ["participation", "effect", "compliance"])
def test_a_reversed_period_is_refused_on_the_command_line_and_over_http(
    kind: str, settings: Settings, _initialised_data_dir: Path, run_cli: Any
) -> None:
    shutil.copytree(_initialised_data_dir, settings.data_dir)
    result = run_cli(["report", kind, "--from", REVERSED["from"], "--to", REVERSED["to"]])
    assert result.exit_code == 1
    assert "from: 'from' is after 'to' [period]" in " ".join(result.output.split())
    tokens = seed(settings)["tokens"]
    with client_for(create_app(settings)) as client:
        r = client.get(
            f"/v1/reports/{kind}",
            params=REVERSED,
            headers={"Authorization": f"Bearer {tokens['tillsyn']}"},
        )
    assert r.status_code == 422
    assert [(e["code"], e["field"]) for e in r.json()["errors"]] == [("period", "from")]
