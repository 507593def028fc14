"""Running workers and caching built stores.

Every measured run is a fresh `python -m bench.worker` process started through
`python -m bench.rss`, so each run also reports its own peak RSS.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.rss import PREFIX as RSS_PREFIX
from bench.worker import PREFIX as RESULT_PREFIX
from bench.workloads import RESULTS, Workload

ROOT = Path(__file__).resolve().parent.parent
STORES = RESULTS / "stores"


class WorkerFailed(RuntimeError):
    pass


def worker_env() -> dict[str, str]:
    """The environment of a run: the ledger's own settings unset, so defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IUBLEDGER_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run(task: str, log: Any = None, **kwargs: Any) -> dict[str, Any]:
    """One run of `task` in a fresh process; its result plus `peak_rss_mb` and
    `process_seconds` (wall time of the whole process, start-up included)."""
    cmd = [
        sys.executable,
        "-m",
        "bench.rss",
        sys.executable,
        "-m",
        "bench.worker",
        task,
        json.dumps(kwargs),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, env=worker_env(), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - t0
    result: dict[str, Any] | None = None
    rss: dict[str, Any] = {}
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
        elif line.startswith(RSS_PREFIX):
            rss = json.loads(line[len(RSS_PREFIX) :])
    if proc.returncode != 0 or result is None:
        raise WorkerFailed(
            f"{task} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}{proc.stdout[-2000:]}"
        )
    result["peak_rss_mb"] = rss.get("maxrss_mb")
    result["process_seconds"] = round(elapsed, 3)
    if log is not None:
        log(task, result)
    return result


def fingerprint() -> str:
    """Hash of the iubledger sources: a cached store records what code built it."""
    digest = hashlib.sha256()
    src = ROOT / "src" / "iubledger"
    for path in sorted(src.rglob("*.py")):
        digest.update(str(path.relative_to(src)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def store_key(w: Workload) -> str:
    return f"{w.catalog}-seed{w.seed}-n{w.size}"


def has_store(w: Workload) -> bool:
    meta_path = STORES / store_key(w) / "store.json"
    if not meta_path.exists():
        return False
    return json.loads(meta_path.read_text(encoding="utf-8")).get("workload_sha256") == w.sha256


def cached_store(w: Workload, log: Any = None, rebuild: bool = False) -> dict[str, Any]:
    """A SQLite store holding workload `w`, built once with `append_batch` (as `iubledger
    append` does) and kept under bench/results/stores/ keyed by size and seed."""
    if has_store(w) and not rebuild:
        meta = json.loads((STORES / store_key(w) / "store.json").read_text(encoding="utf-8"))
        meta["reused"] = True
        return meta
    building = STORES / (store_key(w) + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    code = fingerprint()
    built = run("iub.batch", log, workload=w.path, data_dir=str(building / "data"), db_url=None)
    return adopt_store(w, building / "data", built, code)


def adopt_store(
    w: Workload, data_dir: Path, built: dict[str, Any], code: str | None = None
) -> dict[str, Any]:
    """Keep a freshly built SQLite data dir as the cached store of `w` (moved, not copied);
    `code` is the source fingerprint when the build started."""
    final = STORES / store_key(w)
    shutil.rmtree(final, ignore_errors=True)
    final.mkdir(parents=True)
    shutil.move(str(data_dir), str(final / "data"))
    meta = {
        "data_dir": str(final / "data"),
        "workload_sha256": w.sha256,
        "size": w.size,
        "seed": w.seed,
        "built_with": code or fingerprint(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build": built,
    }
    (final / "store.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    shutil.rmtree(final.parent / (store_key(w) + ".building"), ignore_errors=True)
    meta["reused"] = False
    return meta
