"""The system's Chromium driven by Playwright (never a downloaded browser), and axe-core
from its pinned npm tarball, checked against the registry's sha512 integrity.

Without Chromium, npm or the tarball the browser tests skip and say why; with
IUBLEDGER_REQUIRE_BROWSER=1 (set by .ci/run) that is a failure instead.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
AXE_VERSION = "4.14.1"
AXE_INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76"
    "ASyFNNtuFooJpZe37OgudVGtQ=="
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "iubledger-tests"


def missing(reason: str) -> None:
    """Skip, or fail where the browser is required (CI)."""
    if os.environ.get("IUBLEDGER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"{CHROMIUM} is not installed (Debian package chromium)")
    return CHROMIUM


def axe_source() -> str:
    """axe.min.js of the pinned axe-core, fetched once with `npm pack` into the cache."""
    tarball = CACHE / f"axe-core-{AXE_VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            missing("npm is not installed (needed once to fetch axe-core)")
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(CACHE)],
            capture_output=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0 or not tarball.exists():
            missing(f"npm pack axe-core@{AXE_VERSION} failed")
    digest = hashlib.sha512(tarball.read_bytes()).digest()
    if "sha512-" + base64.b64encode(digest).decode() != AXE_INTEGRITY:
        tarball.unlink()
        pytest.fail(f"axe-core-{AXE_VERSION}.tgz does not match its pinned integrity")
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("package/axe.min.js")
        assert member is not None
        return member.read().decode("utf-8")
