"""Shared fixtures: a fresh data dir, an opened ledger, decision-file dicts, the command line."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iubledger.cli import app
from iubledger.config import Settings, resolve
from iubledger.keys import KeyStore
from iubledger.store.ledger import Ledger

KATALOG = "testkommun"
ENV = ("IUBLEDGER_DATA_DIR", "IUBLEDGER_DATABASE_URL")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A data dir of its own under tmp_path; nothing created yet (no keys, no database)."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return resolve(str(tmp_path / "d"), None)


@pytest.fixture(scope="session")
def _initialised_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir with keys and an empty store, created once: creating the schema costs
    ~0.2 s of fsyncs, copying the result costs nothing."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV:
            mp.delenv(name, raising=False)
        template = resolve(str(tmp_path_factory.mktemp("template") / "d"), None)
    keys = KeyStore(template.key_dir)
    keys.init()
    keys.close()
    Ledger(template).close()
    return template.data_dir


@pytest.fixture
def ledger(settings: Settings, _initialised_data_dir: Path) -> Iterator[Ledger]:
    """An initialised, empty ledger on SQLite in `settings.data_dir`; closed after the test.

    The data dir is a copy of a session template, so every test sees the same key bytes;
    build a KeyStore of your own where distinct keys matter.
    """
    shutil.copytree(_initialised_data_dir, settings.data_dir)
    opened = Ledger(settings)
    try:
        yield opened
    finally:
        opened.close()


def make_beslut(
    regim: str = "radgivning_14_4",
    *,
    insats_id: str = "1",
    katalog: str = KATALOG,
    giltig_fran: str = "2025-08-01",
    **header: Any,
) -> dict[str, Any]:
    """A fresh, minimal valid decision file with one insats under `regim`.

    Under `undantag_14_5` the särskilda skäl the law requires are included. Extra keyword
    arguments set or replace header fields (`andring`, `giltig_till`, `beslutsdatum`, ...).
    """
    dokumentation: dict[str, Any] = {"regim": regim}
    if regim == "undantag_14_5":
        dokumentation["sarskilda_skal"] = "Målgruppens behov av anonymitet väger tyngst."
    if regim == "full_14_3":
        dokumentation["journalsystem"] = "Journalsystem"
    fil: dict[str, Any] = {
        "format": "iubledger.beslut/1",
        "katalog": katalog,
        "namnd": "Socialnämnden",
        "kommun": "Testkommun",
        "diarienummer": "SN 2025/1",
        "paragraf": "SN § 1",
        "beslutsdatum": "2025-06-15",
        "giltig_fran": giltig_fran,
        "insatser": [
            {
                "id": insats_id,
                "namn": "Samtalsstöd för vuxna",
                "kategori": "radgivning",
                "insatsform": "radgivning",
                "malgrupp": "Vuxna med behov av samtalsstöd.",
                "villkor": [{"typ": "alder", "fran": 18}, {"typ": "folkbokford"}],
                "dokumentation": dokumentation,
                "uppfoljning": "individbaserad" if regim == "full_14_3" else "besoksstatistik",
                "tillhandahalls_av": {"namnd": "Socialnämnden", "utforare": ["samtalsstod"]},
            }
        ],
    }
    fil.update(header)
    return fil


@pytest.fixture
def beslut_dict() -> Callable[..., dict[str, Any]]:
    """Factory: `beslut_dict(regim="radgivning_14_4", insats_id="1", **header)`."""
    return make_beslut


@pytest.fixture
def run_cli(settings: Settings) -> Callable[[list[str]], Result]:
    """Run `iubledger --data-dir <settings.data_dir> ARGS...` in-process."""
    runner = CliRunner()

    def run(args: list[str]) -> Result:
        return runner.invoke(
            app, ["--data-dir", str(settings.data_dir), *args], env={"COLUMNS": "400"}
        )

    return run
