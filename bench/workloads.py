"""Workloads: `iubledger simulate` streams with fixed seeds, cut to exactly N lines.

The stream is one simulated year of the shipped `alingsas` catalog (the demo's year). The
simulator's `scale` is chosen from N (scale 7.5 gives about 100,000 events a year) and
raised until the year holds at least N events; the first N lines are kept, so every size
is a whole, realistic year of activity with the same mix of events.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from itertools import islice
from pathlib import Path

from iubledger import catalogs
from iubledger.schemas.beslut import BeslutsFil
from iubledger.simulate import main_lines

CATALOG = "alingsas"
FRAN, TILL = date(2025, 10, 1), date(2026, 9, 30)
#: Events per year at scale 1.0 (measured: scale 7.5 gives 104,945 with seed 1).
PER_SCALE = 13_900
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Workload:
    """A JSON Lines file of exactly `size` utförare events."""

    catalog: str
    seed: int
    size: int
    scale: float
    fran: str
    till: str
    path: str
    sha256: str
    types: dict[str, int]

    def command(self) -> str:
        """The equivalent command line (before the cut to `size` lines)."""
        return (
            f"iubledger simulate --catalog {self.catalog} --from {self.fran} --to {self.till} "
            f"--seed {self.seed} --scale {self.scale} | head -n {self.size}"
        )

    def lines(self) -> Iterator[str]:
        with open(self.path, encoding="utf-8") as f:
            yield from f

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _stream(seed: int, scale: float) -> Iterator[str]:
    fil = BeslutsFil.model_validate_json(catalogs.read(CATALOG))
    return main_lines(fil, FRAN, TILL, seed, scale)


def _scale_for(size: int) -> float:
    return round(max(0.05, size / PER_SCALE * 1.02), 3)


def workload(size: int, seed: int, directory: Path | None = None) -> Workload:
    """The workload of `size` lines for `seed`, generated once and cached as a file."""
    directory = directory or RESULTS / "workloads"
    directory.mkdir(parents=True, exist_ok=True)
    meta_path = directory / f"{CATALOG}-seed{seed}-n{size}.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if Path(meta["path"]).exists():
            return Workload(**meta)
    scale = _scale_for(size)
    path = directory / f"{CATALOG}-seed{seed}-n{size}.jsonl"
    tmp = path.with_suffix(".tmp")
    while True:
        digest = hashlib.sha256()
        types: Counter[str] = Counter()
        count = 0
        with open(tmp, "w", encoding="utf-8") as f:
            for line in islice(_stream(seed, scale), size):
                f.write(line + "\n")
                digest.update(line.encode() + b"\n")
                types[json.loads(line)["type"]] += 1
                count += 1
        if count == size:
            break
        scale = round(scale * 1.1, 3)
    os.replace(tmp, path)
    w = Workload(
        catalog=CATALOG,
        seed=seed,
        size=size,
        scale=scale,
        fran=FRAN.isoformat(),
        till=TILL.isoformat(),
        path=str(path),
        sha256=digest.hexdigest(),
        types=dict(sorted(types.items())),
    )
    meta_path.write_text(json.dumps(w.as_json(), indent=2), encoding="utf-8")
    return w
