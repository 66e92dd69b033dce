"""`notary audit rebuild|log`: check the registry with public data only (chain, IPFS)."""

from __future__ import annotations

from typing import Annotated

import typer

from notary.cli.common import (
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    JsonFlag,
    RpcOption,
    app,
    emit,
    fail,
    load_settings,
    out,
)
from notary.errors import NotaryError

audit_app = typer.Typer(
    help="Audit the registry with public data only (no database).", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")

RegistryOption = Annotated[str | None, typer.Option("--registry", help="Registry address.")]


@audit_app.command("rebuild")
def rebuild_command(
    root: Annotated[str, typer.Argument(help="Anchored Merkle root (0x...).")],
    rpc: RpcOption = None,
    registry: RegistryOption = None,
    ipfs_api: Annotated[str | None, typer.Option("--ipfs", help="Kubo-RPC URL.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fetch ROOT's manifest by the CID the chain names, rebuild the tree, compare.

    Exit 0: it matches. 1: it does not. 2: cannot tell (not anchored, node unreachable).
    """
    from notary.chain.registry import connect_reader
    from notary.core.leaf import parse_hex32
    from notary.ipfs.client import KuboRpc
    from notary.ops.endpoints import resolve_ipfs_api, resolve_registry, resolve_rpc_url
    from notary.verify.audit import rebuild

    settings = load_settings()
    try:
        url = resolve_rpc_url(settings, rpc)
        reader = connect_reader(url, resolve_registry(settings, registry), retries=False)
        ipfs = KuboRpc(resolve_ipfs_api(settings, ipfs_api), settings.ipfs_token)
        result = rebuild(reader, ipfs, parse_hex32("root", root))
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit(
            {
                "ok": result.ok,
                "reason": result.reason,
                "root": "0x" + result.root.hex(),
                "sequence": result.sequence,
                "manifest": result.manifest_cid,
                "leaf_count": result.leaf_count,
            }
        )
    else:
        verdict = "[bold green]MATCHES[/]" if result.ok else "[bold red]DOES NOT MATCH[/]"
        out.print(
            f"{verdict}: anchor #{result.sequence}, manifest {result.manifest_cid}: "
            f"{result.reason}",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_OK if result.ok else EXIT_INVALID)


@audit_app.command("log")
def log_command(
    rpc: RpcOption = None, registry: RegistryOption = None, as_json: JsonFlag = False
) -> None:
    """Recompute the append-only log head from every anchored root and compare."""
    from notary.chain.registry import connect_reader
    from notary.ops.endpoints import resolve_registry, resolve_rpc_url
    from notary.verify.audit import check_log

    settings = load_settings()
    try:
        url = resolve_rpc_url(settings, rpc)
        ok, count = check_log(
            connect_reader(url, resolve_registry(settings, registry), retries=False)
        )
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit({"ok": ok, "anchors": count})
    else:
        out.print(
            f"log head {'matches' if ok else 'DOES NOT MATCH'} the {count} anchored roots",
            highlight=False,
        )
    raise typer.Exit(EXIT_OK if ok else EXIT_INVALID if count else EXIT_ERROR)
