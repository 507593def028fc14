"""The command line for setting up a store and managing nämnd decisions (DESIGN.md contract).

Exit codes: 0 success, 1 rejected or failed, 2 usage. Expectations about the shipped
catalogs are read from the catalog files themselves, not from the ledger.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from iubledger.config import Settings
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

pytestmark = pytest.mark.backends

Cli = Callable[[list[str]], Result]
BeslutDict = Callable[..., dict[str, Any]]
KEY_FILES = ("at-rest.key", "signing.key", "keystore.sqlite", "origin")


def catalog(name: str) -> dict[str, Any]:
    return json.loads((files("iubledger") / "catalogs" / f"{name}.json").read_text("utf-8"))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def listed(run_cli: Cli) -> list[dict[str, Any]]:
    return json.loads(ok(run_cli(["--json", "decisions", "list"])).stdout)


def contains(big: Any, small: Any) -> bool:
    """`small` as written in a decision file is in `big` as listed (defaults may be added)."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(
            k in big and contains(big[k], v) for k, v in small.items()
        )
    if isinstance(small, list):
        return (
            isinstance(big, list)
            and len(big) == len(small)
            and all(contains(b, s) for b, s in zip(big, small, strict=True))
        )
    return big == small


def flat(text: str) -> str:
    return " ".join(text.split())


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


@pytest.fixture
def store(ledger: Ledger) -> None:
    """An initialised data dir for the command line (the ledger fixture's, copied from a
    session template: `init` itself is tested below)."""


# --- init -----------------------------------------------------------------------------------


def test_init_creates_private_keys(run_cli: Cli, settings: Settings) -> None:
    result = ok(run_cli(["--json", "init"]))
    assert sorted(json.loads(result.stdout)["keys_created"]) == sorted(KEY_FILES)
    key_dir = settings.key_dir
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for name in KEY_FILES:
        assert stat.S_IMODE((key_dir / name).stat().st_mode) == 0o600, name
    for path in key_dir.iterdir():
        assert not stat.S_IMODE(path.stat().st_mode) & 0o077, path.name


def test_second_init_keeps_keys_and_store(run_cli: Cli, settings: Settings) -> None:
    ok(run_cli(["init"]))
    ks = KeyStore(settings.key_dir)
    namnd_key = ks.namnd_key("testkommun", "pseudonym")
    ks.close()
    ok(run_cli(["decisions", "import", "--catalog", "ks-2025-510"]))
    before = {n: (settings.key_dir / n).read_bytes() for n in KEY_FILES}
    decisions = listed(run_cli)

    result = ok(run_cli(["--json", "init"]))
    assert json.loads(result.stdout)["keys_created"] == []
    assert {n: (settings.key_dir / n).read_bytes() for n in KEY_FILES} == before
    ks = KeyStore(settings.key_dir)
    assert ks.namnd_key("testkommun", "pseudonym") == namnd_key
    ks.close()
    assert listed(run_cli) == decisions
    assert "existing keys kept" in flat(ok(run_cli(["init"])).output)


# --- catalogs -------------------------------------------------------------------------------


def test_catalogs_lists_the_shipped_catalogs(run_cli: Cli) -> None:
    assert {"alingsas", "ks-2025-510"} <= set(
        json.loads(ok(run_cli(["--json", "catalogs"])).stdout)
    )
    assert {"alingsas", "ks-2025-510"} <= set(ok(run_cli(["catalogs"])).stdout.split())


# --- decisions import / list ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count", "undantag"), [("alingsas", 25, 5), ("ks-2025-510", 10, 0)]
)
def test_import_catalog_then_list(run_cli: Cli, name: str, count: int, undantag: int) -> None:
    ok(run_cli(["init"]))
    result = ok(run_cli(["--json", "decisions", "import", "--catalog", name]))
    source = catalog(name)
    ids = [f"{name}/{i['id']}" for i in source["insatser"]]
    assert json.loads(result.stdout) == {
        "ok": True,
        "imported": [{"beslut": b, "version": 1} for b in ids],
    }

    rows = listed(run_cli)
    assert len(rows) == count
    assert [r["beslut"] for r in rows] == ids  # natural order, as in the document
    for row, insats in zip(rows, source["insatser"], strict=True):
        assert (row["typ"], row["version"]) == ("version", 1)
        assert row["giltig_fran"] == source["giltig_fran"]
        assert row["giltig_till"] == source.get("giltig_till")
        assert row["beslut_header"]["diarienummer"] == source["diarienummer"]
        listed_insats = row["insats"]
        assert listed_insats["namn"] == insats["namn"]
        assert listed_insats["dokumentation"]["regim"] == insats["dokumentation"]["regim"]
        assert contains(listed_insats["villkor"], insats["villkor"]), insats["id"]
        assert contains(listed_insats, insats), insats["id"]
    exempt = [r for r in rows if r["insats"]["dokumentation"]["regim"] == "undantag_14_5"]
    assert len(exempt) == undantag
    for row in exempt:
        assert row["insats"]["dokumentation"]["sarskilda_skal"].strip(), row["beslut"]


def test_table_output_names_regimes(store: None, run_cli: Cli) -> None:
    ok(run_cli(["decisions", "import", "--catalog", "ks-2025-510"]))
    shown = ok(run_cli(["decisions", "list"])).stdout
    for regim in ("deltagardata", "full_14_3", "aggregat"):
        assert regim in shown


def test_both_catalogs_side_by_side(store: None, run_cli: Cli) -> None:
    ok(run_cli(["decisions", "import", "--catalog", "alingsas"]))
    ok(run_cli(["decisions", "import", "--catalog", "ks-2025-510"]))
    assert len(listed(run_cli)) == 35
    again = run_cli(["decisions", "import", "--catalog", "alingsas"])  # overlaps itself
    assert again.exit_code == 1
    assert "overlappande_giltighet" in again.output
    assert len(listed(run_cli)) == 35


# --- refusals -------------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Decision files are given by short relative names, as a user would type them."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def write(name: str, fil: dict[str, Any]) -> str:
    Path(name).write_text(json.dumps(fil, ensure_ascii=False), encoding="utf-8")
    return name


def bad_files(beslut_dict: BeslutDict) -> dict[str, tuple[dict[str, Any], str]]:
    economic = beslut_dict()
    economic["insatser"][0]["behov"] = "ekonomiska"
    undantag = beslut_dict("undantag_14_5")
    del undantag["insatser"][0]["dokumentation"]["sarskilda_skal"]
    unknown = beslut_dict()
    unknown["insatser"][0]["villkor"] = [{"typ": "behovsbedomning"}]
    return {
        "economic": (economic, "ekonomiskt_bistand"),
        "undantag": (undantag, "sarskilda_skal_saknas"),
        "unknown-villkor": (unknown, "union_tag_invalid"),
        "before-the-law": (
            beslut_dict(beslutsdatum="2025-06-01", giltig_fran="2025-06-30"),
            "fore_lagens_ikrafttradande",
        ),
    }


@pytest.mark.parametrize("case", ["economic", "undantag", "unknown-villkor", "before-the-law"])
def test_invalid_file_exits_1_names_file_and_rule(
    store: None, run_cli: Cli, beslut_dict: BeslutDict, workdir: Path, case: str
) -> None:
    fil, rule = bad_files(beslut_dict)[case]
    ok(run_cli(["decisions", "import", "--catalog", "ks-2025-510"]))
    before = listed(run_cli)

    result = run_cli(["decisions", "import", write("nytt-beslut.json", fil)])
    assert result.exit_code == 1
    no_traceback(result)
    shown = flat(result.output)
    assert "nytt-beslut.json" in shown
    assert f"[{rule}]" in shown

    result = run_cli(["--json", "decisions", "import", "nytt-beslut.json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["ok"] is False
    assert "nytt-beslut.json" in error["error"]["message"]
    assert rule in {p["code"] for p in error["error"]["problems"]}
    assert listed(run_cli) == before


def test_a_good_file_with_a_bad_one_imports_nothing(
    store: None, run_cli: Cli, beslut_dict: BeslutDict, workdir: Path
) -> None:
    good = write("a.json", beslut_dict(insats_id="1"))
    bad = write("b.json", bad_files(beslut_dict)["economic"][0] | {"diarienummer": "SN 2025/2"})
    result = run_cli(["decisions", "import", good, bad])
    assert result.exit_code == 1
    assert "b.json" in flat(result.output)
    assert listed(run_cli) == []
    ok(run_cli(["decisions", "import", good]))
    assert [r["beslut"] for r in listed(run_cli)] == ["testkommun/1"]


def test_unreadable_or_missing_file_exits_1(store: None, run_cli: Cli, workdir: Path) -> None:
    result = run_cli(["decisions", "import", "finns-inte.json"])
    assert result.exit_code == 1
    no_traceback(result)
    assert "finns-inte.json" in flat(result.output)
    Path("latin1.json").write_bytes('{"namn": "Familjerådgivning"}'.encode("latin-1"))
    result = run_cli(["decisions", "import", "latin1.json"])
    assert result.exit_code == 1
    no_traceback(result)
    assert listed(run_cli) == []


def test_unknown_catalog_exits_1(store: None, run_cli: Cli) -> None:
    result = run_cli(["decisions", "import", "--catalog", "goteborg"])
    assert result.exit_code == 1
    no_traceback(result)
    assert "alingsas" in flat(result.output)


@pytest.mark.parametrize(
    "args",
    [
        ["decisions", "import"],
        ["decisions", "import", "a.json", "--catalog", "alingsas"],
        ["decisions", "import", "--catalog"],
        ["decisions", "revoke", "alingsas/3.1.1", "--from", "första oktober", "--reason", "x"],
        ["decisions", "revoke", "alingsas/3.1.1", "--from", "2026-01-01"],
        ["decisions", "list", "--okand-flagga"],
    ],
    ids=["no-source", "both-sources", "catalog-without-name", "bad-date", "no-reason", "bad-flag"],
)
def test_usage_errors_exit_2(
    store: None, run_cli: Cli, beslut_dict: BeslutDict, workdir: Path, args: list[str]
) -> None:
    write("a.json", beslut_dict())
    result = run_cli(args)
    assert result.exit_code == 2, result.output
    no_traceback(result)
    assert listed(run_cli) == []


@pytest.mark.parametrize(
    "command", [["decisions", "list"], ["decisions", "import", "--catalog", "alingsas"]]
)
def test_before_init_exit_1_and_say_run_init(
    run_cli: Cli, settings: Settings, command: list[str]
) -> None:
    result = run_cli(command)
    assert result.exit_code == 1
    no_traceback(result)
    assert "iubledger init" in flat(result.output)
    assert not (settings.key_dir / "at-rest.key").exists()

    result = run_cli(["--json", *command])
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert "iubledger init" in error["message"]


# --- decisions revoke -----------------------------------------------------------------------


def test_revoke_adds_a_version_and_list_shows_it(store: None, run_cli: Cli) -> None:
    ok(run_cli(["decisions", "import", "--catalog", "ks-2025-510"]))
    result = ok(
        run_cli(
            [
                "--json",
                "decisions",
                "revoke",
                "ks-2025-510/r7",
                "--from",
                "2026-01-01",
                "--reason",
                "Upphör",
            ]
        )
    )
    assert json.loads(result.stdout) == {"ok": True, "beslut": "ks-2025-510/r7", "version": 2}
    rows = [r for r in listed(run_cli) if r["beslut"] == "ks-2025-510/r7"]
    assert [(r["typ"], r["version"]) for r in rows] == [("version", 1), ("upphavande", 2)]
    assert (rows[1]["fran"], rows[1]["skal"]) == ("2026-01-01", "Upphör")
    assert "upphävt från 2026-01-01" in flat(ok(run_cli(["decisions", "list"])).stdout)


@pytest.mark.parametrize(
    ("beslut", "fran", "rule"),
    [
        ("ks-2025-510/r99", "2026-01-01", "okant_beslut"),
        ("ks-2025-510/r7", "2025-07-01", "upphavande_bakdaterat"),
    ],
)
def test_revoke_refused_exits_1(
    store: None, run_cli: Cli, beslut: str, fran: str, rule: str
) -> None:
    ok(run_cli(["decisions", "import", "--catalog", "ks-2025-510"]))
    before = listed(run_cli)
    result = run_cli(["decisions", "revoke", beslut, "--from", fran, "--reason", "x"])
    assert result.exit_code == 1
    no_traceback(result)
    assert f"[{rule}]" in flat(result.output)
    assert listed(run_cli) == before
