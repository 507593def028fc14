"""PostgreSQL for figure (e): a server given by URL, or a throwaway local cluster.

`--postgres temp` runs `initdb` and `pg_ctl` (found on PATH or under
/usr/lib/postgresql/*/bin) in a temporary directory, listening on a Unix socket only (no
TCP, no network), default server settings (fsync and synchronous_commit on); as root the
cluster runs as the `postgres` user. Each run gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PORT = 55432


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def available() -> bool:
    return _tool("initdb") is not None and _tool("pg_ctl") is not None


class TempCluster:
    """A local PostgreSQL cluster in a temporary directory, for the length of a `with`."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="iubledger-bench-pg-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.as_user: str | None = "postgres" if os.geteuid() == 0 else None
        self.log = self.dir / "server.log"

    def _cmd(self, *args: str) -> None:
        cmd = list(args)
        if self.as_user is not None:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def __enter__(self) -> TempCluster:
        self.sock.mkdir()
        if self.as_user is not None:
            shutil.chown(self.dir, self.as_user)
            shutil.chown(self.sock, self.as_user)
        initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("initdb/pg_ctl not found")
        self._pg_ctl = pg_ctl
        self._cmd(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        opts = f"-k {self.sock} -c listen_addresses='' -p {PORT}"
        self._cmd(pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "start")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._cmd(self._pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.sock}&port={PORT}"


class Databases:
    """Fresh databases on a server: `new()` creates one and returns its SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: list[str] = []

    def _admin(self) -> Any:
        import psycopg

        parts = urlsplit(self.url.replace("postgresql+psycopg://", "postgresql://", 1))
        return psycopg.connect(urlunsplit(parts), autocommit=True)

    def server(self) -> dict[str, Any]:
        with self._admin() as conn:
            names = ("server_version", "shared_buffers", "synchronous_commit", "fsync")
            return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}  # type: ignore[index]

    def new(self) -> str:
        name = f"iubbench_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
