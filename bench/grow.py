"""Import rate as the store grows: `python -m bench.grow [--size 100000] [--step 10000]`.

Imports the workload of `--size` lines into a fresh store, 500 lines per transaction (as
`iubledger append FILE`), and prints the wall rate and CPU µs per line of every `--step`
lines: the first step is the empty store, the last the full one, in one process and one
run, so a slowdown with size shows beside its own start.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time

from bench.iub import init_store, settings
from bench.workloads import workload
from iubledger.cli.events import BATCH
from iubledger.services import append
from iubledger.store.ledger import Ledger


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.grow", description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--step", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    w = workload(args.size, args.seed)
    with open(w.path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    tmp = tempfile.mkdtemp(prefix="iubledger-grow-")
    data = f"{tmp}/data"
    try:
        init_store(data, None)
        ledger = Ledger(settings(data, None))
        try:
            rates = []
            t0, c0, done = time.perf_counter(), time.process_time(), 0
            for i in range(0, len(lines), BATCH):
                chunk = lines[i : i + BATCH]
                append.batch(ledger, chunk)
                done += len(chunk)
                if done % args.step == 0 or done == len(lines):
                    t1, c1 = time.perf_counter(), time.process_time()
                    n = done - args.step * len(rates) if done % args.step else args.step
                    rates.append(n / (t1 - t0))
                    print(
                        f"{done:>9,} lines: {rates[-1]:>8,.0f}/s, "
                        f"{(c1 - c0) / n * 1e6:,.0f} µs CPU/line",
                        flush=True,
                    )
                    t0, c0 = t1, c1
        finally:
            ledger.close()
        print(f"last step / first step: {rates[-1] / rates[0]:.2f}×")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
