"""One measured run in a fresh process: `python -m bench.worker TASK JSON-KWARGS`.

Prints the run's result as one JSON line prefixed with `BENCH-RESULT `. A fresh process per
run keeps runs independent (no warm caches, no memory carried over) and lets the parent
read the run's peak RSS (`bench.rss`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

PREFIX = "BENCH-RESULT "


def tasks() -> dict[str, Callable[..., dict[str, Any]]]:
    from bench import baseline, httpload, iub

    return {
        "iub.batch": iub.batch_import,
        "iub.append": iub.single_append,
        "iub.rebuild": iub.rebuild,
        "iub.verify": iub.run_verify,
        "iub.mirror": iub.mirror,
        "http.prepare": httpload.prepare,
        "bare.batch": baseline.batch_import,
        "bare.append": baseline.single_append,
        "bare.replay": baseline.replay,
    }


def main(argv: list[str]) -> None:
    task, kwargs = argv[0], json.loads(argv[1])
    result = tasks()[task](**kwargs)
    print(PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
