"""The tree reads like the data flow: each package imports only from its own layer or the
layers below, and no module imports itself back through others (no import circle).

Layers, lowest first (README, Layout): a package may import from its own row and the rows
above it in this list, never below. The command line may start the HTTP API (`serve`), the
API never reaches into the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import iubledger

ROOT = Path(iubledger.__file__).parent
LAYERS: list[set[str]] = [
    {"config", "catalogs"},
    {"schemas"},
    {"roles"},
    {"decisions"},
    {"policies"},
    {"aggregates"},
    {"integrity", "projections"},
    {"store"},
    {"reports", "audit", "simulate"},
    {"services"},
    {"api", "web"},
    {"cli", "__main__"},
]
MAX_LINES = 600


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every iubledger module this file imports (also inside functions)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("iubledger"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            if base.startswith("iubledger."):
                found.add(base)
            if base.startswith("iubledger"):
                found.update(f"{base}.{a.name}" for a in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in ROOT.rglob("*.py")}
    return {m: {i for i in _imports(p, m) if i in files and i != m} for m, p in files.items()}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else module
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS")


def test_every_import_goes_down_the_layers() -> None:
    upward = [
        f"{m} (layer {_layer(m)}) imports {i} (layer {_layer(i)})"
        for m, deps in _graph().items()
        for i in deps
        if _layer(i) > _layer(m)
    ]
    assert not upward, "\n".join(sorted(upward))


def test_the_api_never_imports_the_command_line() -> None:
    back = [(m, i) for m, deps in _graph().items() if ".api" in m for i in deps if ".cli" in i]
    assert not back


def test_no_import_circle() -> None:
    graph = _graph()
    # A package's __init__ importing its own submodules is how a package is assembled.
    edges = {
        m: {i for i in deps if not (m.count(".") and i.startswith(m + "."))}
        for m, deps in graph.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for i in sorted(edges[m]):
            if state.get(i) == 1:
                cycles.append([*path[path.index(i) :], i])
            elif i not in state:
                visit(i, [*path, i])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in ROOT.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long


def test_the_checks_see_an_upward_import() -> None:
    """The layer check is not vacuous: the store is below the services, which import it."""
    graph = _graph()
    assert "iubledger.store.ledger" in graph["iubledger.services.append"]
    assert _layer("iubledger.services.append") > _layer("iubledger.store.ledger")
