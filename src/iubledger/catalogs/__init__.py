"""Decision files shipped with the ledger, transcribed from municipal guidelines."""

from __future__ import annotations

from importlib.resources import files


def names() -> list[str]:
    return sorted(
        p.name.removesuffix(".json") for p in files(__name__).iterdir() if p.name.endswith(".json")
    )


def read(name: str) -> str:
    """The JSON text of a shipped catalog; KeyError names the unknown catalog."""
    if name not in names():
        raise KeyError(f"unknown catalog '{name}'; shipped: {', '.join(names())}")
    return (files(__name__) / f"{name}.json").read_text(encoding="utf-8")
