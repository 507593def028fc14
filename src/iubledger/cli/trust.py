"""`iubledger keys public|audit-bundle|consistency|cosignature|witness`: what lets tillsyn
trust the log without trusting the operator (G5): the published verifier key, offline
bundles, witness cosigning."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from iubledger.cli.common import context, emit, fail, open_ledger, out, usage
from iubledger.cli.integrity import read_checkpoint, read_verifier
from iubledger.integrity.witness import Witness, WitnessError
from iubledger.services import integrity, witness

witness_app = typer.Typer(no_args_is_help=True, help="Tillsyn's witness: cosign checkpoints.")
cosignature_app = typer.Typer(no_args_is_help=True, help="Witness cosignatures in the ledger.")

WITNESS_DIR = Annotated[Path, typer.Option("--dir", help="The witness's own folder")]
API_KEY_ENV = "IUBLEDGER_WITNESS_API_KEY"


def keys_public(ctx: typer.Context) -> None:
    """The ledger's verifier key (C2SP signed-note), to pin in `verify --public-key`."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        key = integrity.public_key(ledger)
    emit(c, {"verifier": key}, lambda: print(key))


def audit_bundle(
    ctx: typer.Context, folder: Annotated[Path, typer.Argument(help="A new folder")]
) -> None:
    """Records as stored, checkpoints and cosignatures, verifiable offline with
    `verify --bundle FOLDER --public-key FILE`."""
    c = context(ctx)
    if folder.exists():
        fail(c, "paket", f"{folder} exists: give a new folder")
    with open_ledger(c) as ledger:
        n = integrity.audit_bundle(ledger, folder)
    emit(c, {"folder": str(folder), "records": n}, lambda: out.print(f"{n} records in {folder}"))


def consistency(
    ctx: typer.Context,
    old: Annotated[int, typer.Argument(help="The smaller tree size")],
    new: Annotated[int, typer.Argument(help="The larger tree size")],
) -> None:
    """A consistency proof between two sizes of the log (RFC 9162), for a witness."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        if not 0 <= old <= new <= integrity.size(ledger):
            usage("sizes must satisfy 0 <= OLD <= NEW <= the log's size")
        data = {"old_size": old, "new_size": new, "proof": integrity.consistency(ledger, old, new)}
    emit(c, data, lambda: print(json.dumps(data)))


@cosignature_app.command("add")
def cosignature_add(
    ctx: typer.Context,
    cosigned: Annotated[Path, typer.Argument(help="The cosigned checkpoint note")],
    witness_key: Annotated[Path, typer.Option(help="The witness's verifier key")],
) -> None:
    """Keep a witness's cosignature; verify then checks the log against it."""
    c = context(ctx)
    try:
        text, key = cosigned.read_text(encoding="utf-8"), witness_key.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(c, "fil", f"cannot read the files ({type(e).__name__})")
    with open_ledger(c) as ledger:
        data = integrity.add_cosignature(ledger, text, key)
    emit(c, data, lambda: out.print(f"kept: {data['witness']} at size {data['tree_size']}"))


@witness_app.command("init")
def witness_init(
    ctx: typer.Context,
    folder: WITNESS_DIR,
    name: Annotated[str, typer.Option(help="The witness's name, e.g. ivo.se/vittne")],
) -> None:
    """Create the witness's key, name and state (never overwrites a key)."""
    c = context(ctx)
    try:
        created = Witness(folder).init(name)
        key = Witness(folder).verifier().text()
    except WitnessError as e:
        fail(c, "vittne", str(e))
    emit(
        c,
        {"created": created, "verifier": key},
        lambda: print(key if created else f"existing witness kept: {key}"),
    )


@witness_app.command("public")
def witness_public(ctx: typer.Context, folder: WITNESS_DIR) -> None:
    """The witness's verifier key (tlog-cosignature, type 0x04)."""
    c = context(ctx)
    try:
        key = Witness(folder).verifier().text()
    except WitnessError as e:
        fail(c, "vittne", str(e))
    emit(c, {"verifier": key}, lambda: print(key))


@witness_app.command("cosign")
def witness_cosign(
    ctx: typer.Context,
    folder: WITNESS_DIR,
    log_key: Annotated[Path, typer.Option(help="The ledger's verifier key (`keys public`)")],
    url: Annotated[
        str | None, typer.Option(help=f"The ledger's HTTP API (key in ${API_KEY_ENV})")
    ] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="A checkpoint file instead")] = None,
    proof: Annotated[
        Path | None, typer.Option(help="With --checkpoint: `iubledger consistency` output")
    ] = None,
    submit: Annotated[bool, typer.Option(help="Hand the cosignature to the ledger")] = False,
) -> None:
    """Verify the ledger's latest checkpoint extends the one cosigned last, and cosign it.
    Prints the cosigned note; exit 1 when the log was rewritten."""
    c = context(ctx)
    pinned = read_verifier(c, log_key)
    if (url is None) == (checkpoint is None):
        usage("give either --url or --checkpoint")
    try:
        if url is not None:
            api_key = os.environ.get(API_KEY_ENV)
            if not api_key:
                usage(f"--url needs a tillsyn API key in ${API_KEY_ENV}")
            done = witness.cosign_http(folder, pinned, witness.Ledger(url, api_key), submit=submit)
        else:
            assert checkpoint is not None
            cp = read_checkpoint(c, checkpoint)
            hashes = _proof(proof, cp.tree_size)
            done = witness.cosign_files(folder, pinned, cp, hashes)
    except WitnessError as e:
        fail(c, "vittne", str(e))
    data = {
        "origin": done.origin,
        "tree_size": done.tree_size,
        "previous": done.previous,
        "note": done.note,
        "submitted": done.submitted,
    }
    emit(c, data, lambda: print(done.note, end=""))


def _proof(path: Path | None, size: int) -> list[bytes]:
    """The hashes of a consistency proof file ending at `size` (none without a file)."""
    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        new, hashes = data["new_size"], [bytes.fromhex(h) for h in data["proof"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise WitnessError(f"{path}: not a consistency proof ({type(e).__name__})") from None
    if new != size:
        raise WitnessError("the consistency proof does not end at the checkpoint's size")
    return hashes


def register(app: typer.Typer, keys_app: typer.Typer) -> None:
    keys_app.command("public")(keys_public)
    app.command("audit-bundle")(audit_bundle)
    app.command()(consistency)
    app.add_typer(cosignature_app, name="cosignature")
    app.add_typer(witness_app, name="witness")
