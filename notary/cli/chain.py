"""`notary devnet|deploy|stamp|verify|build`: the chain side, usable without the service."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from notary.cli.common import (
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    JsonFlag,
    RpcOption,
    app,
    devnet_app,
    emit,
    err,
    fail,
    load_settings,
    out,
    silence_stdout,
)
from notary.errors import NotaryError


@devnet_app.command("up")
def devnet_up(as_json: JsonFlag = False) -> None:
    """Start anvil on 127.0.0.1 (chain state persisted in the data directory)."""
    from notary.ops import devnet

    try:
        status = devnet.up(load_settings())
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit(
            {
                "rpc_url": status.rpc_url,
                "chain_id": status.chain_id,
                "pid": status.pid,
                "block_number": status.block_number,
                "ipfs_api": status.ipfs_api,
            }
        )
    else:
        out.print(
            f"devnet running: chain {status.rpc_url} (chain id {status.chain_id}, "
            f"block {status.block_number}); IPFS node {status.ipfs_api}",
            highlight=False,
        )


@devnet_app.command("down")
def devnet_down() -> None:
    """Stop anvil; its state is saved and restored by the next `up`."""
    from notary.ops import devnet

    try:
        stopped = devnet.down(load_settings())
    except NotaryError as exc:
        fail(str(exc))
    out.print("devnet stopped" if stopped else "devnet was not running")


@devnet_app.command("status")
def devnet_status(as_json: JsonFlag = False) -> None:
    """Say whether the devnet's chain runs (exit 0) or not (exit 1), and how its IPFS node is."""
    from notary.ops import devnet

    status = devnet.status(load_settings())
    if as_json:
        emit(
            {
                "running": status.running,
                "rpc_url": status.rpc_url,
                "chain_id": status.chain_id,
                "block_number": status.block_number,
                "ipfs": {
                    "api": status.ipfs_api,
                    "running": status.ipfs_running,
                    "pid": status.ipfs_pid,
                    "peer_id": status.ipfs_peer_id,
                    "agent": status.ipfs_agent,
                },
            }
        )
    else:
        if status.running:
            out.print(
                f"running: {status.rpc_url} (chain id {status.chain_id}, "
                f"block {status.block_number})",
                highlight=False,
            )
        else:
            out.print("not running")
        if status.ipfs_running:
            out.print(
                f"IPFS node: {status.ipfs_api} (peer id {status.ipfs_peer_id}, "
                f"{status.ipfs_agent}, pid {status.ipfs_pid})",
                highlight=False,
                soft_wrap=True,
            )
        else:
            out.print(f"IPFS node: not running ({status.ipfs_api})", highlight=False)
    raise typer.Exit(EXIT_OK if status.running else EXIT_INVALID)


@app.command()
def deploy(rpc: RpcOption = None, as_json: JsonFlag = False) -> None:
    """Deploy the published EvidenceRegistry build (or reuse the recorded one)."""
    from notary.ops.deploy import deploy as run_deploy

    try:
        result = run_deploy(load_settings(), rpc)
    except NotaryError as exc:
        fail(str(exc))
    d = result.deployment
    if as_json:
        emit(
            {
                "reused": result.reused,
                "chain_id": d.chain_id,
                "registry": d.registry,
                "tx_hash": d.tx_hash,
                "block_number": d.block_number,
                "runtime_code_hash": d.runtime_code_hash,
                "notary": d.notary,
            }
        )
        return
    verb = "reusing" if result.reused else "deployed"
    out.print(
        f"{verb} EvidenceRegistry at {d.registry} on chain {d.chain_id} "
        f"(block {d.block_number}); notary account {d.notary}",
        highlight=False,
    )


@app.command()
def stamp(
    files: Annotated[list[Path], typer.Argument(help="Files to anchor as one batch.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Write certificates here.")] = None,
    depositor: Annotated[str | None, typer.Option(help="Depositor identity in the leaves.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Hash FILES, pin their batch manifest on IPFS, anchor them in one transaction, write
    FILE.cert.json for each. `notary audit rebuild ROOT` rebuilds the root from the manifest."""
    from notary.issue.stamp import stamp as run_stamp

    settings = load_settings()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, disable=as_json or len(files) < 2) as bar:
        tasks = {
            "hash": bar.add_task("hashing", total=len(files)),
            "write": bar.add_task("certificates", total=len(files)),
        }
        try:
            result = run_stamp(
                settings,
                files,
                out_dir=out_dir,
                depositor=depositor,
                progress=lambda stage, n: bar.advance(tasks[stage], n),
            )
        except NotaryError as exc:
            fail(str(exc))
    a = result.receipt.anchor
    if as_json:
        emit(
            {
                "root": "0x" + a.root.hex(),
                "sequence": a.sequence,
                "block_number": a.block_number,
                "block_time": a.timestamp,
                "tx_hash": "0x" + result.receipt.tx_hash.hex(),
                "gas_used": result.receipt.gas_used,
                "manifest": a.manifest,
                "certificates": [str(p) for p in result.certificates],
            }
        )
        return
    out.print(
        f"anchored {a.leaf_count} file(s) as root 0x{a.root.hex()} in block "
        f"{a.block_number} (anchor #{a.sequence}, {result.receipt.gas_used} gas), "
        f"manifest {a.manifest}",
        highlight=False,
    )
    for path in result.certificates:
        out.print(f"  certificate: {path}", highlight=False)


_VERIFY_HELP = """Check a certificate (and a file) against any node of the chain. Needs no database.

Exit 0: valid. Exit 1: invalid. Exit 2: cannot decide (node unreachable or failing, \
another chain, a newer certificate version, a certificate over 1 MiB or nested deeper \
than 64 levels, bad arguments).

The registry's code must be the published EvidenceRegistry build. Its runtime code hash \
(keccak256 of eth_getCode), frozen for certificate version 1 and published in \
docs/certificate.md section 5, is {hashes}
"""


def _published() -> str:
    from notary.chain.artifact import PUBLISHED_CODE_HASHES

    return ", ".join("0x" + h.hex() for h in sorted(PUBLISHED_CODE_HASHES))


@app.command(help=_VERIFY_HELP.format(hashes=_published()))
def verify(
    certificate: Annotated[Path, typer.Option("--certificate", "-c", help="Certificate JSON.")],
    file: Annotated[Path | None, typer.Option("--file", "-f", help="The file to check.")] = None,
    rpc: RpcOption = None,
    as_json: JsonFlag = False,
) -> None:
    from notary.core.certificate import MAX_CERTIFICATE_BYTES
    from notary.core.jsontext import JsonInputError
    from notary.ops.endpoints import resolve_rpc_url
    from notary.verify.certificate import Outcome
    from notary.verify.certificate import verify as run_verify

    try:
        rpc_url = resolve_rpc_url(load_settings(), rpc)
        with certificate.open("rb") as fh:
            text = fh.read(MAX_CERTIFICATE_BYTES + 1)  # a larger one is refused unread
        handle = file.open("rb") if file is not None else None
    except NotaryError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot read {exc.filename}: {exc.strerror}")
    try:
        verdict = run_verify(text, rpc_url, handle)
    except JsonInputError as exc:
        fail(f"cannot decide: {exc} (not read)")
    finally:
        if handle is not None:
            handle.close()
    code = {
        Outcome.VALID: EXIT_OK,
        Outcome.INVALID: EXIT_INVALID,
        Outcome.CANNOT_DECIDE: EXIT_ERROR,
    }[verdict.outcome]
    try:
        if as_json:
            emit(
                {
                    "outcome": verdict.outcome.value,
                    "reason": verdict.reason,
                    "checks": [
                        {"name": c.name, "passed": c.passed, "detail": c.detail}
                        for c in verdict.checks
                    ],
                    "proven": list(verdict.proven),
                    "not_proven": list(verdict.not_proven),
                    "facts": verdict.facts,
                }
            )
        else:
            _print_verdict(verdict)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader (say `| head`) stopped early: the verdict's exit code still stands
        silence_stdout()
    raise typer.Exit(code)


def _print_verdict(verdict: object) -> None:
    from notary.verify.certificate import LABELS, Outcome, Verdict

    assert isinstance(verdict, Verdict)
    style = {
        Outcome.VALID: "bold green",
        Outcome.INVALID: "bold red",
        Outcome.CANNOT_DECIDE: "bold yellow",
    }[verdict.outcome]
    label = LABELS[verdict.outcome]
    out.print(f"[{style}]{label}[/]: {verdict.reason}", highlight=False, soft_wrap=True)
    for check in verdict.checks:
        mark = "[green]ok[/]  " if check.passed else "[red]FAIL[/]"
        out.print(f"  {mark} {check.name}: {check.detail}", highlight=False, soft_wrap=True)
    if verdict.proven:
        out.print("What this proves:")
        for line in verdict.proven:
            out.print(f"  - {line}", highlight=False, soft_wrap=True)
        out.print("What this does not prove:")
        for line in verdict.not_proven:
            out.print(f"  - {line}", highlight=False, soft_wrap=True)


@app.command()
def build(
    check: Annotated[bool, typer.Option(help="Only compare with the committed build.")] = False,
) -> None:
    """Recompile contracts/ with the pinned solc-js; write (or --check) the published build."""
    from notary.ops import build as builder

    try:
        if not check:
            for path in builder.write_build():
                out.print(f"wrote {path}", highlight=False)
            return
        artifact, full_input = builder.compile_registry()
    except NotaryError as exc:
        fail(str(exc))
    same = builder.ARTIFACT_PATH.read_text("utf-8") == builder.dumps(
        artifact
    ) and builder.INPUT_PATH.read_text("utf-8") == builder.dumps(full_input)
    if not same:
        fail("the committed build differs from a fresh compilation", EXIT_INVALID)
    out.print("the committed build is byte-identical to a fresh compilation")
