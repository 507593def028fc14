"""The benchmark suite: iubledger append, import, rebuild and verify against the bare library.

    python -m bench [--sizes 10000,100000] [--repeat 3] [--out bench/results/latest.json]
                    [--other-batches 100] [--http-clients 1,4,16,64] [--http-events 2000]
                    [--http-seconds 20] [--skip-http]
                    [--append-sample 2000] [--append-preload 8000]
                    [--verify-size 1000000] [--postgres temp|URL] [--pg-size 10000] [--quick]

(`make bench` runs the defaults.) Prints a table and writes JSON (machine, versions,
command, every run's raw numbers and the medians) and the same table as Markdown next to
it. Figures, each the median of `--repeat` runs, every run a fresh process:

(a) append, one event per transaction (`services.append.event`), for a fixed sample: lines
    8,001–10,000 of the 10k workload after the first 8,000 were imported (untimed);
    bare: the same events, one `app.save` per line.
(b) batch import (`append_batch`, 500 lines per transaction, as `iubledger append FILE`)
    of each size; bare: the same events, 500 lines per transaction, each transaction's
    events stored by one `app.save` (as iubledger stores a batch).
(c) projection rebuild from zero (`services.reports.rebuild`) over the store built in (b);
    reference: the bare library reading and decoding its log.
(d) verify (`verify(ledger, None)`) of each built store: seconds and peak RSS of the
    process; `--verify-size 1000000` adds a 1M store, built once with `append_batch` and
    cached under bench/results/stores/ keyed by size and seed.
(e) `--postgres temp` (a throwaway local cluster, Unix socket only) or `--postgres URL`:
    (a)–(d) again on PostgreSQL at `--pg-size`.

(f) HTTP appends: `iubledger serve` in its own process, single events POSTed by 1/4/16/64
    concurrent clients (h11 over asyncio); events/s, p50, p99; baseline: the same server
    with group commit off (one transaction per request).
(g) append p50/p99 from 4 clients while verify and a year-long daily report run over and
    over; baseline: the same appends alone.
`--other-batches 100` repeats (b) at 100 lines per transaction at the smallest size; the
`grow` row compares (b)'s rate at the largest size with the smallest.

Workloads are `iubledger simulate --catalog alingsas` for one year with a fixed seed,
cut to exactly N lines (bench/workloads.py). `--quick` is a one-minute smoke run;
`python -m bench.profile PATH` shows where a path's time goes. Results and method:
docs/benchmarks.md. Benchmarks guide design; they do not gate CI.
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import pg, runner, sysinfo
from bench.workloads import RESULTS, Workload, workload

TARGETS = {
    "a": "≥ 0.7× bare",
    "b": "≥ 1.0× bare",
    "c": "≥ 15,000/s",
    "d": "≤ 120 s and ≤ 500 MB at 1M",
    "flat": "peak RSS flat as the store grows",
    "f": "≥ 3,000/s and p99 < 100 ms at 16 clients",
    "g": "p99 within ±20 % of appends alone",
    "grow": "largest size within 20 % of the smallest",
}


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _run_logger(task: str, r: dict[str, Any]) -> None:
    rate = r.get("events_per_s")
    bits = [f"{r.get('seconds', 0):.2f} s"]
    if rate:
        bits.append(f"{rate:,.0f}/s")
    if r.get("peak_rss_mb"):
        bits.append(f"peak RSS {r['peak_rss_mb']} MB")
    _log(f"  {task}: " + ", ".join(bits))


def _cpu_us(runs: list[dict[str, Any]]) -> float | None:
    """Median CPU time of the timed region per event (per record for (c)), in µs."""
    values = [
        r["cpu_seconds"] / (r.get("events") or r["records"]) * 1e6
        for r in runs
        if r.get("cpu_seconds") is not None
    ]
    return round(statistics.median(values), 1) if values else None


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.figures: list[dict[str, Any]] = []
        self.workloads: dict[str, Any] = {}
        self.stores: dict[str, Any] = {}
        self.tmp = Path(tempfile.mkdtemp(prefix="iubledger-bench-"))
        self.code = runner.fingerprint()
        self.append_mirror: str | None = None
        self.sizes_asked = [int(x) for x in args.sizes.split(",") if x.strip()]
        self.other_batches = [
            int(b) for b in args.other_batches.split(",") if b.strip() and int(b) != args.batch
        ]

    # -- helpers ---------------------------------------------------------------------

    def run(self, task: str, **kw: Any) -> dict[str, Any]:
        return runner.run(task, _run_logger, **kw)

    def repeat(self, task: str, n: int, make: Callable[[int], dict[str, Any]]) -> list[Any]:
        return [self.run(task, **make(i)) for i in range(n)]

    def fresh(self, label: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.tmp))

    def workload(self, size: int) -> Workload:
        w = workload(size, self.args.seed)
        self.workloads[str(size)] = {**w.as_json(), "command": w.command()}
        return w

    def figure(self, **fields: Any) -> dict[str, Any]:
        f = {"backend": "sqlite", "bare": None, "ratio": None, "met": None, "note": "", **fields}
        if f["bare"] and f["iubledger"] is not None and f["unit"] == "events/s":
            f["ratio"] = f["iubledger"] / f["bare"]
        self.figures.append(f)
        return f

    # -- (b) batch import, (c) rebuild, (d) verify -----------------------------------

    def sizes(self, backend: str, sizes: list[int], db: pg.Databases | None = None) -> None:
        for size in sizes:
            self._size(backend, size, db)

    def _size(self, backend: str, size: int, db: pg.Databases | None) -> None:
        """(b), (c) and (d) at one size. iubledger and bare runs alternate, so a slow
        spell of the machine (other jobs, fsync latency) does not fall on one side only."""
        w = self.workload(size)
        _log(f"{backend} {size:,} events: workload {w.path}")
        n = self.args.repeat
        iub_b = [self._import(w, db, first=True)]
        if db:
            data_dir, url = iub_b[0].pop("_store")
        else:
            meta = runner.cached_store(w, _run_logger)
            self.stores[f"sqlite/{size}/store"] = meta
            data_dir, url = meta["data_dir"], None
        mirror = str(self.fresh("mirror") / "mirror.json")
        mirrored = self.run("iub.mirror", data_dir=data_dir, db_url=url, out=mirror)
        self.stores[f"{backend}/{size}/mirror"] = mirrored

        bare_b: list[dict[str, Any]] = []
        bare_db = ""
        for i in range(n):
            bare_db = db.new() if db else f"sqlite:///{self.fresh('bare') / 'bare.sqlite'}"
            bare_b.append(
                self.run("bare.batch", mirror=mirror, db_url=bare_db, batch=self.args.batch)
            )
            if i + 1 < n:
                r = self._import(w, db, first=False)
                r.pop("_store", None)
                iub_b.append(r)
        self._rate_figure("b", backend, size, iub_b, bare_b, mirrored)
        if backend == "sqlite" and size == min(self.sizes_asked):
            for other in self.other_batches:
                self._batch_at(w, mirror, other, mirrored)

        rebuilds, replays = [], []
        for _ in range(n):
            rebuilds.append(self.run("iub.rebuild", data_dir=data_dir, db_url=url))
            replays.append(self.run("bare.replay", db_url=bare_db))
        self._rate_figure("c", backend, size, rebuilds, replays, mirrored)

        verifies = [self.run("iub.verify", data_dir=data_dir, db_url=url) for _ in range(n)]
        self._verify_figure(backend, size, verifies)
        if backend == "sqlite" and size == self._append_size():
            self.append_mirror = mirror
        if backend == "postgresql":
            self._append(backend, w, mirror, db)

    def _batch_at(self, w: Workload, mirror: str, batch: int, mirrored: dict[str, Any]) -> None:
        """(b) again with `batch` lines per transaction on both sides (SQLite)."""
        iub, bare = [], []
        for _ in range(self.args.repeat):
            data = self.fresh("iub") / "data"
            r = self.run("iub.batch", workload=w.path, data_dir=str(data), db_url=None, batch=batch)
            shutil.rmtree(data.parent, ignore_errors=True)
            iub.append(r)
            url = f"sqlite:///{self.fresh('bare') / 'bare.sqlite'}"
            bare.append(self.run("bare.batch", mirror=mirror, db_url=url, batch=batch))
        self._rate_figure("b", "sqlite", w.size, iub, bare, mirrored, batch=batch)

    def _import(self, w: Workload, db: pg.Databases | None, first: bool) -> dict[str, Any]:
        """One (b) iubledger run in a fresh store. On SQLite the first run's store becomes
        the cached store of `w` when there is none; on PostgreSQL the first run's database
        is kept for (c) and (d) (returned under `_store`)."""
        data = self.fresh("iub") / "data"
        url = db.new() if db else None
        r = self.run("iub.batch", workload=w.path, data_dir=str(data), db_url=url)
        if db:
            r["_store"] = (str(data), url)
            return r
        if first and (self.args.rebuild_stores or not runner.has_store(w)):
            runner.adopt_store(w, data, r, self.code)
        shutil.rmtree(data.parent, ignore_errors=True)
        return r

    def _append_size(self) -> int:
        return self.args.append_preload + self.args.append_sample

    # -- (a) one event per transaction ------------------------------------------------

    def append(self) -> None:
        size = self._append_size()
        w = self.workload(size)
        mirror = self.append_mirror
        if mirror is None:
            meta = runner.cached_store(w, _run_logger)
            mirror = str(self.fresh("mirror") / "mirror.json")
            self.run("iub.mirror", data_dir=meta["data_dir"], db_url=None, out=mirror)
        _log(f"sqlite append: lines {self.args.append_preload + 1}–{size} of {w.path}")
        self._append("sqlite", w, mirror, None)

    def _append(self, backend: str, w: Workload, mirror: str, db: pg.Databases | None) -> None:
        preload, sample = self.args.append_preload, self.args.append_sample
        if w.size < preload + sample:
            return

        def iub(_: int) -> dict[str, Any]:
            return {
                "workload": w.path,
                "data_dir": str(self.fresh("iub-a") / "data"),
                "db_url": db.new() if db else None,
                "preload": preload,
                "sample": sample,
            }

        def bare(_: int) -> dict[str, Any]:
            url = db.new() if db else f"sqlite:///{self.fresh('bare-a') / 'bare.sqlite'}"
            return {"mirror": mirror, "db_url": url, "preload": preload, "sample": sample}

        iub_runs, bare_runs = [], []
        for i in range(self.args.repeat):
            iub_runs.append(self.run("iub.append", **iub(i)))
            bare_runs.append(self.run("bare.append", **bare(i)))
        self._rate_figure("a", backend, w.size, iub_runs, bare_runs, None)

    # -- figures -----------------------------------------------------------------------

    def _rate_figure(
        self,
        fid: str,
        backend: str,
        size: int,
        iub: list[dict[str, Any]],
        bare: list[dict[str, Any]],
        mirrored: dict[str, Any] | None,
        batch: int | None = None,
    ) -> None:
        batch = batch or self.args.batch
        labels = {
            "a": "append, 1 event/transaction",
            "b": f"batch import, {batch}/transaction",
            "c": "projection rebuild from zero",
        }
        count = {
            "a": f"{self.args.append_sample:,} events (lines {self.args.append_preload + 1:,}"
            f"–{size:,})",
            "b": f"{size:,} events",
            "c": f"{iub[0]['records']:,} records ({size:,} events)",
        }[fid]
        f = self.figure(
            id=fid,
            backend=backend,
            label=labels[fid],
            size=size,
            count=count,
            unit="events/s",
            iubledger=median(iub, "events_per_s"),
            bare=median(bare, "events_per_s"),
            target=TARGETS[fid] if backend == "sqlite" else "report only",
            runs={"iubledger": iub, "bare": bare},
            batch=batch if fid == "b" else None,
        )
        f["cpu_us_per_event"] = {"iubledger": _cpu_us(iub), "bare": _cpu_us(bare)}
        if fid == "c":
            f["bare_is"] = "reference: bare log read + decode, no view rows"
        if mirrored:
            f["stored_state_bytes_mean"] = mirrored["state_bytes_mean"]
        if backend != "sqlite" or f["iubledger"] is None:
            return
        if fid == "a":
            f["met"] = f["ratio"] is not None and f["ratio"] >= 0.7
        elif fid == "b":
            f["met"] = f["ratio"] is not None and f["ratio"] >= 1.0
        elif fid == "c":
            f["met"] = f["iubledger"] >= 15000

    def _verify_figure(self, backend: str, size: int, runs: list[dict[str, Any]]) -> None:
        seconds = median(runs, "seconds")
        rss = median(runs, "peak_rss_mb")
        ok = all(r["ok"] for r in runs)
        f = self.figure(
            id="d",
            backend=backend,
            label="verify",
            size=size,
            count=f"{runs[0]['records']:,} records ({size:,} events)",
            unit="s",
            iubledger=seconds,
            peak_rss_mb=rss,
            rss_after_open_mb=median(runs, "rss_after_open_mb"),
            events_per_s=median(runs, "events_per_s"),
            verify_ok=ok,
            target=TARGETS["d"] if backend == "sqlite" else "report only",
            runs={"iubledger": runs},
        )
        if not ok:
            f["note"] = "VERIFY FAILED on the benchmark store"
        if backend == "sqlite" and seconds is not None and rss is not None:
            if size >= 1_000_000:
                f["met"] = ok and seconds <= 120 and rss <= 500
            elif ok:
                projected = seconds * 1_000_000 / size
                f["note"] = f"linear projection to 1M: {projected:,.0f} s"

    def verify_size(self, size: int) -> None:
        """(d) on a cached store of `size` events (built with `append_batch` when missing)."""
        w = self.workload(size)
        _log(f"sqlite verify at {size:,}: cached store (built when missing)")
        meta = runner.cached_store(w, _run_logger, rebuild=self.args.rebuild_stores)
        self.stores[f"sqlite/{size}/store"] = meta
        runs = self.repeat(
            "iub.verify", self.args.repeat, lambda i: {"data_dir": meta["data_dir"], "db_url": None}
        )
        self._verify_figure("sqlite", size, runs)
        build = meta["build"]
        self.figures[-1]["store_build"] = {
            "events": build["events"],
            "seconds": build["seconds"],
            "events_per_s": build["events_per_s"],
            "peak_rss_mb": build.get("peak_rss_mb"),
            "reused": meta["reused"],
            "built_with": meta["built_with"],
        }

    def flat(self) -> None:
        rows = sorted(
            (f for f in self.figures if f["id"] == "d" and f["backend"] == "sqlite"),
            key=lambda f: f["size"],
        )
        by_size = {f["size"]: f["peak_rss_mb"] for f in rows}
        if len(by_size) < 2:
            return
        lo, hi = rows[0]["peak_rss_mb"], rows[-1]["peak_rss_mb"]
        growth = hi / lo if lo else None
        self.figure(
            id="flat",
            label="verify peak RSS by store size",
            size=rows[-1]["size"],
            count=", ".join(f"{s:,}: {v} MB" for s, v in by_size.items()),
            unit="x",
            iubledger=growth,
            target="≤ 1.25× from smallest to largest",
            met=growth is not None and growth <= 1.25,
            peak_rss_mb_by_size=by_size,
        )

    # -- (f) HTTP appends, (g) appends while readers run ---------------------------------

    def http(self) -> None:
        """(f) single appends over HTTP at each client count, group commit against one
        transaction per request; (g) append latency alone and while verify and a
        year-long daily report run. One run each (a server process per run)."""
        from bench import httpload

        w = self.workload(self._append_size())
        preload, n = self.args.http_preload, self.args.http_events
        template = self.fresh("http") / "template"
        tokens_file = self.tmp / "tokens.json"
        _log(f"http: store with lines 1–{preload:,} of {w.path}, then {n:,} lines over HTTP")
        self.run(
            "http.prepare",
            workload=w.path,
            data_dir=str(template),
            preload=preload,
            tokens=str(tokens_file),
        )
        tokens = json.loads(tokens_file.read_text(encoding="utf-8"))
        with open(w.path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip()][preload : preload + n]

        def one(group_max: int, do: Callable[[httpload.Server], dict[str, Any]]) -> Any:
            server = httpload.Server(template, self.fresh("serve"), group_max)
            try:
                return do(server)
            finally:
                server.stop()

        for clients in [int(c) for c in self.args.http_clients.split(",")]:
            run = functools.partial(httpload.load, tokens=tokens, lines=lines, clients=clients)
            grouped, single = one(500, run), one(1, run)
            for name, r in (("group commit", grouped), ("one per request", single)):
                _log(
                    f"  http {clients} clients, {name}: {r['events_per_s']:,.0f}/s, "
                    f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['statuses']}"
                )
            f = self.figure(
                id="f",
                label="HTTP appends, 1 event/request",
                size=clients,
                count=f"{clients} clients, {len(lines):,} events",
                unit="events/s",
                iubledger=grouped["events_per_s"],
                bare=single["events_per_s"],
                target=TARGETS["f"] if clients == 16 else "report",
                runs={"iubledger": [grouped], "bare": [single]},
                note=f"p50/p99 ms {grouped['p50_ms']:.0f}/{grouped['p99_ms']:.0f}, "
                f"one per request {single['p50_ms']:.0f}/{single['p99_ms']:.0f}",
                bare_is="the same server, one transaction per request (group commit off)",
            )
            if clients == 16:
                f["met"] = grouped["events_per_s"] >= 3000 and grouped["p99_ms"] < 100

        seconds, clients = self.args.http_seconds, 4
        alone = one(500, lambda s: httpload.with_readers(s, tokens, lines, clients, seconds, False))
        read = one(500, lambda s: httpload.with_readers(s, tokens, lines, clients, seconds, True))
        _log(f"  appends alone: {alone}")
        _log(f"  appends with verify and daily report: {read}")
        ratio = read["p99_ms"] / alone["p99_ms"] if alone["p99_ms"] else None
        self.figure(
            id="g",
            label="append p99 while verify + daily report run",
            size=clients,
            count=f"{clients} clients, {seconds:.0f} s; {read['reads']['verify']['count']} "
            f"verify, {read['reads']['report']['count']} reports",
            unit="ms",
            iubledger=read["p99_ms"],
            bare=alone["p99_ms"],
            ratio=ratio,
            target=TARGETS["g"],
            met=ratio is not None and ratio <= 1.2,
            note=f"p50 {read['p50_ms']:.0f} ms with readers, {alone['p50_ms']:.0f} ms alone",
            bare_is="appends alone, same server and clients",
            runs={"iubledger": [read], "bare": [alone]},
        )

    def growth(self) -> None:
        """Batch import rate at the largest size against the smallest (flat as it grows)."""
        rows = sorted(
            (
                f
                for f in self.figures
                if f["id"] == "b" and f["backend"] == "sqlite" and f["batch"] == self.args.batch
            ),
            key=lambda f: f["size"],
        )
        if len(rows) < 2 or not rows[0]["iubledger"]:
            return
        ratio = rows[-1]["iubledger"] / rows[0]["iubledger"]
        self.figure(
            id="grow",
            label="batch import rate by store size",
            size=rows[-1]["size"],
            count=", ".join(f"{f['size']:,}: {f['iubledger']:,.0f}/s" for f in rows),
            unit="x",
            iubledger=ratio,
            target=TARGETS["grow"],
            met=ratio >= 0.8,
        )

    # -- PostgreSQL --------------------------------------------------------------------

    def postgres(self) -> dict[str, Any]:
        choice = self.args.postgres
        if choice == "temp" and not pg.available():
            _log("postgres: initdb/pg_ctl not found; (e) skipped")
            return {"skipped": "initdb/pg_ctl not found"}
        if choice == "temp":
            with pg.TempCluster() as cluster:
                return self._postgres_on(cluster.url, "temporary local cluster")
        return self._postgres_on(choice, "given URL")

    def _postgres_on(self, url: str, how: str) -> dict[str, Any]:
        db = pg.Databases(url)
        server = db.server()
        _log(f"postgres ({how}): {server}")
        try:
            self.sizes("postgresql", [self.args.pg_size], db)
        finally:
            db.drop_all()
        return {"how": how, "server": server}

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- output ---------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "events/s":
        return f"{value:,.0f}/s"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "ms":
        return f"{value:,.0f} ms"
    return f"{value:.2f}×"


def _cpu(cpu: dict[str, float | None] | None) -> str:
    if not cpu or cpu.get("iubledger") is None:
        return "—"
    bare = cpu.get("bare")
    return f"{cpu['iubledger']:,.0f} / {bare:,.0f}" if bare else f"{cpu['iubledger']:,.0f}"


def rows(figures: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for f in figures:
        iub = _fmt(f["iubledger"], f["unit"])
        if f["id"] == "d":
            iub += f", {f['peak_rss_mb']} MB"
        met = {True: "yes", False: "NO", None: "—"}[f["met"]]
        out.append(
            [
                f"({f['id']})" if f["id"] != "flat" else "(d) flat",
                f["label"],
                f["backend"],
                f["count"],
                iub,
                _fmt(f["bare"], f["unit"]) if f["bare"] else "—",
                f"{f['ratio']:.2f}×" if f["ratio"] is not None else "—",
                _cpu(f.get("cpu_us_per_event")),
                f["target"],
                met + (f" ({f['note']})" if f["note"] else ""),
            ]
        )
    return out


HEADER = [
    "",
    "figure",
    "backend",
    "count",
    "iubledger",
    "bare",
    "ratio",
    "CPU µs/event iub / bare",
    "target",
    "met?",
]


def text_table(figures: list[dict[str, Any]]) -> str:
    body = [HEADER, *rows(figures)]
    widths = [max(len(r[i]) for r in body) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(figures: list[dict[str, Any]]) -> str:
    body = rows(figures)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000", help="sizes for (b)(c)(d), comma-separated")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (median reported)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=500, help="lines per transaction in (b)")
    p.add_argument("--append-sample", type=int, default=2000, help="events timed in (a)")
    p.add_argument("--append-preload", type=int, default=8000, help="lines imported before (a)")
    p.add_argument("--verify-size", type=int, default=None, help="(d) on a cached store this big")
    p.add_argument("--postgres", default=None, help="(e): 'temp' or a postgresql+psycopg URL")
    p.add_argument("--pg-size", type=int, default=10000, help="size for (e)")
    p.add_argument("--skip-append", action="store_true", help="leave out (a)")
    p.add_argument("--other-batches", default="100", help="(b) also at these batch sizes")
    p.add_argument("--http-clients", default="1,4,16,64", help="(f) client counts")
    p.add_argument("--http-preload", type=int, default=4000, help="(f)(g) lines stored first")
    p.add_argument("--http-events", type=int, default=2000, help="(f) lines sent per run")
    p.add_argument("--http-seconds", type=float, default=20, help="(g) seconds per run")
    p.add_argument("--skip-http", action="store_true", help="leave out (f) and (g)")
    p.add_argument("--rebuild-stores", action="store_true", help="rebuild cached stores")
    p.add_argument("--out", default=str(RESULTS / "latest.json"))
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 2,000 events, 1 run, 200-event sample"
    )
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "2000", 1
        args.append_sample, args.append_preload = 200, 1800
        args.pg_size = 2000
        args.http_preload, args.http_events, args.http_seconds = 1000, 400, 6
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    started = time.time()
    report: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "bench", *argv]),
        "argv": [sys.executable, "-m", "bench", *argv],
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        **sysinfo.collect(runner.ROOT),
    }
    suite = Suite(args)
    report["code_fingerprint"] = suite.code
    try:
        suite.sizes("sqlite", sizes)
        if not args.skip_append:
            suite.append()
        if args.verify_size:
            suite.verify_size(args.verify_size)
        suite.flat()
        suite.growth()
        if not args.skip_http:
            suite.http()
        if args.postgres:
            try:
                report["postgresql"] = suite.postgres()
            except Exception as e:  # (e) is "where available": report, keep the rest
                _log(f"postgres: failed ({type(e).__name__}: {e}); (e) incomplete")
                report["postgresql"] = {"error": f"{type(e).__name__}: {e}"}
    finally:
        suite.close()
    report["machine"]["loadavg_at_end"] = sysinfo.loadavg()
    report["wall_seconds"] = round(time.time() - started, 1)
    report["workloads"] = suite.workloads
    report["stores"] = suite.stores
    report["figures"] = suite.figures
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    out.with_suffix(".md").write_text(markdown_table(suite.figures) + "\n", encoding="utf-8")
    print(text_table(suite.figures))
    print(f"\nJSON: {out}  Markdown: {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
