"""Shared fixtures: a fresh data dir, an opened ledger, decision-file dicts, the command line.

Two backends. `pytest` runs everything on SQLite (and the concurrency and crash tests on
both, see `pg_cluster`); `pytest --backend postgresql` runs the tests marked `backends`
again with every ledger they open sent to a throwaway PostgreSQL cluster (`postgres.Router`):
the same tests, the same assertions, another database. `make test` runs both.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iubledger.cli import app
from iubledger.config import Settings, resolve
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger
from postgres import Cluster, Router, bin_dir_or_skip, start_cluster

KATALOG = "testkommun"
ENV = ("IUBLEDGER_DATA_DIR", "IUBLEDGER_DATABASE_URL")
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        default="sqlite",
        help="postgresql: run only the tests marked 'backends', every ledger in a throwaway "
        "PostgreSQL cluster",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"iubledger backend: {config.getoption('backend')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("backend") != "postgresql":
        return
    keep = [i for i in items if i.get_closest_marker("backends")]
    dropped = [i for i in items if not i.get_closest_marker("backends")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL server for the whole run (unix socket in a temp dir),
    stopped and deleted afterwards; the test skips when PostgreSQL is not installed."""
    cluster = start_cluster(bin_dir_or_skip())
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session", autouse=True)
def _backend(request: pytest.FixtureRequest) -> Iterator[Router | None]:
    """With --backend postgresql: every Ledger opened on a SQLite file opens a database of
    the cluster instead; copying a data dir copies its database."""
    if request.config.getoption("backend") != "postgresql":
        yield None
        return
    router = Router(request.getfixturevalue("pg_cluster"))
    opened = Ledger.__init__
    copytree = shutil.copytree

    def routed_init(self: Ledger, settings: Settings, *args: Any, **kw: Any) -> None:
        url = router.route(settings.database_url)
        opened(self, dataclasses.replace(settings, database_url=url), *args, **kw)
        router.opened(url, self.recorder.datastore.engine)  # type: ignore[attr-defined]

    def routed_copytree(src: Any, dst: Any, *args: Any, **kw: Any) -> Any:
        done = copytree(src, dst, *args, **kw)
        router.copied(Path(dst))
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Ledger, "__init__", routed_init)
        mp.setattr(shutil, "copytree", routed_copytree)
        yield router


@pytest.fixture(autouse=True)
def _drop_test_databases(_backend: Router | None) -> Iterator[None]:
    """Drop the databases a test made for itself (module fixtures keep theirs)."""
    if _backend is None:
        yield
        return
    mark = len(_backend.created)
    yield
    _backend.forget_since(mark)


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
    """An initialised, empty ledger in `settings.data_dir` (its SQLite file, or under
    --backend postgresql a database of the cluster); closed after the test.

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
        dokumentation["sarskilda_skal"] = (
            "Målgruppens behov av anonymitet väger tyngre än nyttan av personakter, "
            "eftersom många annars avstår från stöd."
        )
        dokumentation["riskanalys"] = "Risk- och konsekvensanalys SN 2025/1"
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


@dataclasses.dataclass(frozen=True)
class BackendStore:
    """An empty data dir with keys, and a database URL on one backend (nothing created in
    the database yet). `cluster` is the PostgreSQL server behind `url`, if any."""

    backend: str
    data_dir: Path
    url: str
    cluster: Cluster | None

    @property
    def settings(self) -> Settings:
        return resolve(str(self.data_dir), self.url)


@pytest.fixture(params=BACKENDS)
def backend_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BackendStore]:
    """One store per backend: SQLite in the data dir, or a fresh database of the session's
    PostgreSQL cluster (dropped afterwards). For tests that run worker processes."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "d"
    KeyStore(data_dir / "keys").init()
    if request.param == "sqlite":
        yield BackendStore("sqlite", data_dir, resolve(str(data_dir)).database_url, None)
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    with cluster.database() as url:
        yield BackendStore("postgresql", data_dir, url, cluster)


#: What a line under 14 kap. 5 § or aggregat is answered once and never again (G8): the
#: besökskod and the participation would link its records if stored with the result.
SHOWN_ONCE = frozenset({"deltagande", "besokskod"})


def resent(again: dict[str, Any], first: dict[str, Any]) -> bool:
    """Whether a resent line's result is its first result: the same, but for what is shown
    only once."""
    return again == {k: v for k, v in first.items() if k not in SHOWN_ONCE or k in again}
