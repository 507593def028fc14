"""Run a command as this process's only child and report its peak RSS:
`python -m bench.rss CMD…` passes the child's output through, then prints
`BENCH-RSS {"maxrss_mb": …, "returncode": …}` from `getrusage(RUSAGE_CHILDREN)`.

RUSAGE_CHILDREN covers every waited-for descendant, so a launcher of its own per run makes
the figure that run's alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

from bench.measure import rss_mb

PREFIX = "BENCH-RSS "


def main(argv: list[str]) -> int:
    rc = subprocess.call(argv)
    report = {"maxrss_mb": rss_mb(resource.RUSAGE_CHILDREN), "returncode": rc}
    print(PREFIX + json.dumps(report), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
