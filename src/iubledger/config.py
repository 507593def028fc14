"""Where the ledger keeps its data: a data dir (SQLite file and keys) and a database URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = "./iubledger-data"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; the CLI flags override the environment."""

    data_dir: Path
    database_url: str

    @property
    def key_dir(self) -> Path:
        return self.data_dir / "keys"


def resolve(data_dir: str | None = None, database_url: str | None = None) -> Settings:
    """Flags first, then IUBLEDGER_DATA_DIR / IUBLEDGER_DATABASE_URL, then the defaults."""
    base = Path(data_dir or os.environ.get("IUBLEDGER_DATA_DIR") or DEFAULT_DATA_DIR)
    url = database_url or os.environ.get("IUBLEDGER_DATABASE_URL")
    return Settings(
        data_dir=base.resolve(),
        database_url=url or f"sqlite:///{(base / 'ledger.sqlite').resolve()}",
    )
