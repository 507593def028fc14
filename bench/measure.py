"""Clocks and memory: wall and CPU time of a timed region, peak resident set size."""

from __future__ import annotations

import resource
import time
from typing import Any


def rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far in MiB (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


class Clock:
    """Wall time (perf_counter) and this process's CPU time (user + system) of a block."""

    def __enter__(self) -> Clock:
        self._cpu0 = time.process_time()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
        self.cpu_seconds = time.process_time() - self._cpu0

    def as_json(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 4), "cpu_seconds": round(self.cpu_seconds, 4)}
