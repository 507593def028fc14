"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl from the installed server
binaries, in a temp dir, listening on a unix socket only, torn down afterwards.

PostgreSQL refuses to run as root; when the tests run as root the server runs as an
unprivileged user (`postgres` if it exists, else `nobody`). Nothing here touches a
cluster it did not create.

`Router` sends the file-backed SQLite ledgers of a test run to databases of the cluster
(`pytest --backend postgresql`): a test that builds `sqlite:///DIR/ledger.sqlite` gets a
database of its own, a copied data dir gets a copy of its database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

USER = "iub"
NO_POSTGRES = (
    "PostgreSQL is not installed (no initdb/pg_ctl on PATH, in /usr/lib/postgresql/*/bin or "
    "$IUBLEDGER_PG_BIN); .ci/run installs it"
)
PLACEHOLDER = b"iubledger-test: this ledger lives in PostgreSQL database "


def find_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: $IUBLEDGER_PG_BIN, PATH, Debian's and the source
    build's locations (newest version first), or None when PostgreSQL is not installed."""
    candidates: list[str] = []
    if env := os.environ.get("IUBLEDGER_PG_BIN"):
        candidates.append(env)
    if on_path := shutil.which("pg_ctl"):
        candidates.append(str(Path(on_path).resolve().parent))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    debian.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    candidates.extend(reversed(debian))
    candidates.extend(["/usr/local/pgsql/bin", "/usr/pgsql/bin"])
    for c in candidates:
        d = Path(c)
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file() and (d / "postgres").is_file():
            return d
    return None


def bin_dir_or_skip() -> Path:
    """The server binaries; without them the test skips and says why, except under
    $IUBLEDGER_REQUIRE_POSTGRES (set by .ci/run), where it fails."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get("IUBLEDGER_REQUIRE_POSTGRES"):
            pytest.fail(NO_POSTGRES, pytrace=False)
        pytest.skip(NO_POSTGRES)
    return bin_dir


def _server_user() -> str | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _as_user(user: str) -> list[str]:
    """A command prefix that runs the rest as `user` (we are root)."""
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--"]
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
    raise RuntimeError("running as root without runuser or setpriv to start PostgreSQL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One PostgreSQL server in a temp dir; `start()`, `url(db)`, `stop()`, `destroy()`."""

    def __init__(self, bin_dir: Path, *, user: str | None = None) -> None:
        self.bin_dir = bin_dir
        self.user = user if user is not None else _server_user()
        # Under /tmp when the server runs as another user: $TMPDIR may not be open to it
        # (and a unix socket path must stay short).
        parent = "/tmp" if self.user is not None and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="iubpg-", dir=parent))
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.sock = self.root / "s"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self._counter = 0
        try:
            self._init()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    # -- server ------------------------------------------------------------------------------

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user is not None:
            cmd = [*_as_user(self.user), *cmd]
        return subprocess.run(
            cmd, check=check, capture_output=True, text=True, timeout=120, cwd=self.root
        )

    def _init(self) -> None:
        self.data.mkdir(mode=0o700)
        self.sock.mkdir(mode=0o755)
        self.log.touch(mode=0o644)
        if self.user is not None:
            info = pwd.getpwnam(self.user)
            for p in (self.data, self.sock, self.log):
                os.chown(p, info.pw_uid, info.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        options = " ".join(
            [
                f"-k {self.sock}",
                "-c listen_addresses=''",
                f"-p {self.port}",
                # A throwaway cluster: the tests kill clients, never the machine.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "start",
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()}\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def destroy(self) -> None:
        if self.data.exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- databases ---------------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{USER}@/{dbname}?host={self.sock}&port={self.port}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=str(self.sock), port=self.port, user=USER, dbname=dbname, autocommit=True
        )

    def new_database(self, template: str | None = None) -> str:
        """A fresh, empty database (or a copy of `template`); returns its name."""
        self._counter += 1
        name = f"t{self._counter}"
        with self.connect() as con:
            if template is None:
                con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            else:
                self._copy(con, template, name)
        return name

    def _copy(self, con: psycopg.Connection[Any], source: str, name: str) -> None:
        try:
            con.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(source)
                )
            )
            return
        except psycopg.errors.ObjectInUse:
            pass  # someone is connected to the source: copy it through pg_dump instead
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        dump = subprocess.run(
            [str(self.bin_dir / "pg_dump"), *self._client_args(), "-Fc", source],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [str(self.bin_dir / "pg_restore"), *self._client_args(), "-d", name],
            input=dump.stdout,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _client_args(self) -> list[str]:
        return ["-h", str(self.sock), "-p", str(self.port), "-U", USER]

    def drop_database(self, name: str) -> None:
        with self.connect() as con:
            con.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A fresh database's URL for the duration of the block."""
        name = self.new_database()
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)


def start_cluster(bin_dir: Path) -> Cluster:
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
    except BaseException:
        cluster.destroy()
        raise
    return cluster


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Router:
    """Send every file-backed SQLite ledger URL to a database of `cluster`.

    Where the SQLite file would be, a small placeholder file names the database, so the
    usual file semantics hold: a data dir that is deleted and made again gets an empty
    database; a data dir copied with `shutil.copytree` gets a copy of the database as it
    was at the time of the copy (see `copied`). Databases made while a test runs are
    dropped after it (`forget_since`)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.created: list[str] = []
        self._engines: dict[str, weakref.WeakSet[Any]] = {}

    def opened(self, url: str, engine: Any) -> None:
        """An engine now uses `url`: its idle connections are closed before a copy of the
        database is made (CREATE DATABASE ... TEMPLATE wants the source to itself)."""
        self._engines.setdefault(url, weakref.WeakSet()).add(engine)

    def route(self, url: str) -> str:
        if not url.startswith("sqlite:///") or ":memory:" in url or "mode=memory" in url:
            return url
        path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        name = self._placeholder(path)
        if name is None:
            name = self._new()
            if path.parent.is_dir():
                path.write_bytes(PLACEHOLDER + name.encode() + b"\n")
        return self.cluster.url(name)

    def _placeholder(self, path: Path) -> str | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if not data.startswith(PLACEHOLDER):
            raise RuntimeError(
                f"{path} is a real SQLite file, made outside the PostgreSQL router; "
                "this test cannot run on PostgreSQL"
            )
        return data[len(PLACEHOLDER) :].strip().decode()

    def _new(self, template: str | None = None) -> str:
        name = self.cluster.new_database(template)
        self.created.append(name)
        return name

    def copied(self, dst: Path) -> None:
        """After a data dir was copied to `dst`: give each placeholder in it a copy of its
        database, so the copy and the original go separate ways from now on."""
        for path in dst.rglob("*"):
            if not path.is_file() or path.stat().st_size > 200:
                continue
            name = self._placeholder_or_none(path)
            if name is not None:
                for engine in self._engines.get(self.cluster.url(name), ()):
                    engine.dispose()  # idle connections only; the ledger reconnects
                copy = self._new(template=name)
                path.write_bytes(PLACEHOLDER + copy.encode() + b"\n")

    def _placeholder_or_none(self, path: Path) -> str | None:
        data = path.read_bytes()
        if data.startswith(PLACEHOLDER):
            return data[len(PLACEHOLDER) :].strip().decode()
        return None

    def forget_since(self, mark: int) -> None:
        """Drop the databases made since `mark` (= len(created) at that time)."""
        for name in self.created[mark:]:
            self.cluster.drop_database(name)
        del self.created[mark:]
