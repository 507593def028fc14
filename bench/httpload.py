"""`iubledger serve` under load: single-event appends over HTTP from N concurrent clients,
and append latency while a verify and a year-long daily report run.

The server is a separate process (`python -m bench.httpload serve DATA_DIR PORT GROUP_MAX`)
on a store prepared with the first lines of a workload; the load generator runs in the
suite's process: each client one keep-alive connection spoken with h11 over asyncio
streams (the readers of (g) use httpx). Clients send whole participations (a chain of
events linked by `oppnad_av`) in order, each chain to one client, so every line is
accepted whatever the interleaving. The baseline is the same server with group commit
off (`GROUP_MAX = 1`: one transaction per request, as before group commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h11
import httpx

from bench.iub import init_store, settings
from bench.workloads import CATALOG, FRAN, TILL

READY_SECONDS = 180


def prepare(workload: str, data_dir: str, preload: int, tokens: str) -> dict[str, Any]:
    """A store holding the first `preload` lines, and one API key per utförare of the
    workload plus a tillsyn and a nämnd key (written to the file `tokens`, mode 0600)."""
    from iubledger.services import append
    from iubledger.services.apikeys import ApiKeys
    from iubledger.store.ledger import Ledger

    init_store(data_dir, None)
    with open(workload, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    ledger = Ledger(settings(data_dir, None))
    try:
        for i in range(0, preload, 500):
            append.batch(ledger, lines[i : min(i + 500, preload)])
        keys = ApiKeys.of(ledger)
        found: dict[str, str] = {}
        for org in sorted({json.loads(line)["utforare"] for line in lines}):
            found[org] = keys.create("utforare", organisation=org)[0]
        found["*tillsyn"] = keys.create("tillsyn")[0]
        found["*namnd"] = keys.create("namnd", katalog=CATALOG)[0]
    finally:
        ledger.close()
    fd = os.open(tokens, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(found, out)
    return {"preload": preload, "keys": len(found)}


def serve(data_dir: str, port: int, group_max: int) -> None:
    """The API on loopback; `group_max` 1 turns group commit off (the baseline)."""
    import uvicorn

    from iubledger.api import service
    from iubledger.api.app import ApiSettings, create_app

    service.GROUP_MAX = group_max
    app = create_app(settings(data_dir, None), ApiSettings(port=port, max_batch=1000))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A `serve` process on a copy of the prepared store."""

    def __init__(self, template: Path, work: Path, group_max: int) -> None:
        self.data = work / "data"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(template, self.data)
        self.port = _free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        env = {k: v for k, v in env.items() if not k.startswith("IUBLEDGER_")}
        self.log = open(work / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        args = ["serve", str(self.data), str(self.port), str(group_max)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.httpload", *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not start: {(work / 'server.log').read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def chains(lines: list[str]) -> list[list[str]]:
    """The lines grouped by participation (following `oppnad_av`), each in order."""
    root: dict[str, str] = {}
    by_root: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        ev = json.loads(line)
        opened_by = ev.get("oppnad_av")
        r = root.get(opened_by, opened_by) if opened_by else ev["id"]  # opened earlier, too
        root[ev["id"]] = r
        by_root[r].append(line)
    return list(by_root.values())


def deal(lines: list[str], clients: int) -> list[list[tuple[str, str]]]:
    """The lines dealt to `clients` clients, whole chains each, as (utförare, line)."""
    queues: list[list[tuple[str, str]]] = [[] for _ in range(clients)]
    for chain in sorted(chains(lines), key=len, reverse=True):
        target = min(queues, key=len)
        target.extend((json.loads(line)["utforare"], line) for line in chain)
    return queues


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Connection:
    """One client's keep-alive HTTP/1.1 connection, spoken with h11 over asyncio streams:
    a few tens of µs of CPU per request, where an httpx client spends milliseconds (on
    this 2-core machine the load generator shares the CPU with the server it measures)."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.conn = h11.Connection(h11.CLIENT)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """The status of one POST (its body read and dropped)."""
        if self.writer is None or self.conn.our_state is h11.MUST_CLOSE:
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.conn = h11.Connection(h11.CLIENT)
        assert self.reader is not None and self.writer is not None
        fields = [("Host", self.host), ("Content-Length", str(len(body)))]
        fields += list(headers.items())
        self.writer.write(self.conn.send(h11.Request(method="POST", target=path, headers=fields)))
        self.writer.write(self.conn.send(h11.Data(data=body)))
        self.writer.write(self.conn.send(h11.EndOfMessage()))
        status = 0
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await self.reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the server closed the connection")
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None


async def _appender(
    url: str,
    tokens: dict[str, str],
    queue: list[tuple[str, str]],
    latencies: list[float],
    statuses: dict[int, int],
    stop_at: float | None = None,
) -> None:
    """One client: its lines in order over its own connection, one request at a time."""
    conn = Connection(url)
    try:
        for org, line in queue:
            if stop_at is not None and time.monotonic() >= stop_at:
                return
            t0 = time.perf_counter()
            status = await conn.post(
                "/v1/events",
                line.encode(),
                {"Authorization": f"Bearer {tokens[org]}", "Content-Type": "application/json"},
            )
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        await conn.close()


def _summary(latencies: list[float], statuses: dict[int, int], seconds: float) -> dict[str, Any]:
    return {
        "events": len(latencies),
        "seconds": round(seconds, 3),
        "events_per_s": len(latencies) / seconds if seconds else None,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def _load(url: str, tokens: dict[str, str], lines: list[str], clients: int) -> Any:
    queues = deal(lines, clients)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    t0 = time.perf_counter()
    await asyncio.gather(*(_appender(url, tokens, q, latencies, statuses) for q in queues))
    seconds = time.perf_counter() - t0
    return _summary(latencies, statuses, seconds)


def load(server: Server, *, tokens: dict[str, str], lines: list[str], clients: int) -> Any:
    """Every line appended once by `clients` concurrent clients: throughput and latency."""
    result = asyncio.run(_load(server.url, tokens, lines, clients))
    return {**result, "clients": clients}


async def _readers(
    url: str, tokens: dict[str, str], lines: list[str], clients: int, seconds: float, read: bool
) -> Any:
    queues = deal(lines, clients)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    reads: dict[str, list[float]] = {"verify": [], "report": []}
    stop_at = time.monotonic() + seconds

    async def reader(kind: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=600) as client:
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                if kind == "verify":
                    r = await client.post(
                        "/v1/verify", headers={"Authorization": f"Bearer {tokens['*tillsyn']}"}
                    )
                else:
                    r = await client.get(
                        "/v1/reports/participation",
                        params={"from": FRAN.isoformat(), "to": TILL.isoformat()}
                        | {"indelning": "dag"},
                        headers={"Authorization": f"Bearer {tokens['*namnd']}"},
                    )
                r.raise_for_status()
                reads[kind].append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    tasks = [_appender(url, tokens, q, latencies, statuses, stop_at) for q in queues]
    if read:
        tasks += [reader("verify"), reader("report")]
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    out = _summary(latencies, statuses, elapsed)
    out["clients"] = clients
    out["reads"] = {
        k: {"count": len(v), "median_s": round(statistics.median(v), 2) if v else None}
        for k, v in reads.items()
    }
    return out


def with_readers(
    server: Server,
    tokens: dict[str, str],
    lines: list[str],
    clients: int,
    seconds: float,
    read: bool,
) -> Any:
    """Appends from `clients` clients for `seconds`, alone or while one client runs verify
    and another the year's participation report by day, each over and over."""
    return asyncio.run(_readers(server.url, tokens, lines, clients, seconds, read))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
