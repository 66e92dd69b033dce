"""`notary audit rebuild|anchors|log`: check the registry with public data only (chain,
IPFS); `notary audit members --at BLOCK`: the consortium's members and policy at a block,
from the consortium registry's events alone; and `notary audit reconcile`, the operator's
report of the database against the chain.

Exit codes of `rebuild` (one root or a range): 0 every anchor's manifest rebuilds its root,
1 at least one does not (a finding), 2 no finding but something could not be decided (a
manifest not retrievable, an anchor without manifest, an unknown root, a node down).
`reconcile`: 0 the database and the chain agree, 1 they do not, 2 could not compare.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from notary.cli.common import (
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    HELP_OPTIONS,
    JsonFlag,
    RpcOption,
    app,
    emit,
    err,
    fail,
    load_settings,
    out,
)
from notary.errors import NotaryError

if TYPE_CHECKING:
    from notary.chain.registry import RegistryReader
    from notary.ipfs.client import KuboRpc
    from notary.verify.audit import AuditedAnchor, Rebuild

audit_app = typer.Typer(
    help="Audit the registry with public data only (no database); `reconcile` is the "
    "operator's check of the database against the chain.",
    no_args_is_help=True,
    context_settings=HELP_OPTIONS,
)
app.add_typer(audit_app, name="audit")

RegistryOption = Annotated[str | None, typer.Option("--registry", help="Registry address.")]
IpfsOption = Annotated[str | None, typer.Option("--ipfs", help="Kubo-RPC URL.")]


def _reader(rpc: str | None, registry: str | None) -> RegistryReader:
    from notary.chain.registry import connect_reader
    from notary.ops.endpoints import resolve_registry, resolve_rpc_url

    settings = load_settings()
    url = resolve_rpc_url(settings, rpc)
    return connect_reader(url, resolve_registry(settings, registry), retries=False)


def _ipfs(ipfs_api: str | None) -> KuboRpc:
    from notary.ipfs.client import KuboRpc
    from notary.ops.endpoints import resolve_ipfs_api

    settings = load_settings()
    return KuboRpc(resolve_ipfs_api(settings, ipfs_api), settings.ipfs_token)


def _rebuild_json(result: Rebuild) -> dict[str, object]:
    return {
        "ok": result.ok,
        "outcome": result.outcome,
        "reason": result.reason,
        "root": "0x" + result.root.hex(),
        "sequence": result.sequence,
        "manifest": result.manifest_cid,
        "leaf_count": result.leaf_count,
    }


@audit_app.command("rebuild")
def rebuild_command(
    root: Annotated[
        str | None, typer.Argument(help="Anchored Merkle root (0x...); or --all, --from/--to.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every anchor of the registry.")] = False,
    first: Annotated[
        int | None, typer.Option("--from", min=1, help="First anchor sequence number.")
    ] = None,
    last: Annotated[
        int | None, typer.Option("--to", min=1, help="Last anchor sequence number.")
    ] = None,
    rpc: RpcOption = None,
    registry: RegistryOption = None,
    ipfs_api: IpfsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Fetch each anchor's manifest by the CID the chain names, rebuild the tree, compare.

    One ROOT, or a range of anchors by sequence (--from N --to M, either end open) or
    --all, with a progress bar on stderr and a summary: matched, mismatched, manifest
    unavailable, no manifest. Exit 0: all match. 1: a manifest does not rebuild its root.
    2: could not decide (a manifest unavailable, an anchor without one, not anchored,
    node unreachable).
    """
    ranged = every or first is not None or last is not None
    if (root is None) == (not ranged) or (every and (first is not None or last is not None)):
        fail("give one ROOT, or --all, or --from/--to")
    from notary.verify.audit import rebuild

    try:
        reader = _reader(rpc, registry)
        ipfs = _ipfs(ipfs_api)
        if root is None:
            _rebuild_range(reader, ipfs, first or 1, last, as_json)
        from notary.core.leaf import parse_hex32

        result = rebuild(reader, ipfs, parse_hex32("root", root or ""))
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit(_rebuild_json(result))
    else:
        verdict = {
            "match": "[bold green]MATCHES[/]",
            "mismatch": "[bold red]DOES NOT MATCH[/]",
        }.get(result.outcome, "[bold yellow]CANNOT DECIDE[/]")
        out.print(
            f"{verdict}: anchor #{result.sequence}, manifest {result.manifest_cid}: "
            f"{result.reason}",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(
        EXIT_OK if result.ok else EXIT_INVALID if result.outcome == "mismatch" else EXIT_ERROR
    )


SUMMARY_LABELS = {
    "match": "matched",
    "mismatch": "mismatched",
    "unavailable": "manifest unavailable",
    "no_manifest": "no manifest",
}


def _rebuild_range(
    reader: RegistryReader, ipfs: KuboRpc, first: int, last: int | None, as_json: bool
) -> None:
    """Rebuild anchors first..last with a progress bar; print the summary and exit."""
    from notary.verify.audit import REBUILD_OUTCOMES, rebuild_range

    count = reader.anchor_count()
    end = count if last is None else min(last, count)
    if end < first:
        fail(f"no anchors to rebuild: the registry holds {count}, asked for {first}..{end}")
    results: list[Rebuild] = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("rebuilding", total=end - first + 1)
        for result in rebuild_range(reader, ipfs, first, end):
            results.append(result)
            bar.advance(task)
    tally = Counter(r.outcome for r in results)
    summary = {outcome: tally.get(outcome, 0) for outcome in REBUILD_OUTCOMES}
    if as_json:
        emit(
            {
                "registry": reader.address,
                "first": first,
                "last": end,
                "summary": summary,
                "anchors": [_rebuild_json(r) for r in results],
            }
        )
    else:
        for r in results:
            if r.outcome != "match":
                out.print(
                    f"#{r.sequence} 0x{r.root.hex()}: {SUMMARY_LABELS[r.outcome]}: {r.reason}",
                    highlight=False,
                    soft_wrap=True,
                )
        out.print(
            f"anchors #{first}..#{end} of {reader.address}: "
            + ", ".join(f"{summary[o]} {SUMMARY_LABELS[o]}" for o in REBUILD_OUTCOMES),
            highlight=False,
            soft_wrap=True,
        )
    if summary["mismatch"]:
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(EXIT_OK if summary["match"] == len(results) else EXIT_ERROR)


def _timestamp(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} must be an ISO 8601 time with a zone, e.g. 2026-11-01T00:00:00Z")
    if at.tzinfo is None:
        fail(f"{option} needs a zone (Z or an offset)")
    return max(0, int(-(-at.timestamp() // 1)))  # whole seconds, rounded up (as the API)


@audit_app.command("anchors")
def anchors_command(
    first: Annotated[int, typer.Option("--from", min=1, help="First sequence number.")] = 1,
    last: Annotated[int | None, typer.Option("--to", min=1, help="Last sequence number.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Block time from (inclusive), ISO 8601 with a zone.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Block time to (exclusive), ISO 8601 with a zone.")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
    rpc: RpcOption = None,
    registry: RegistryOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List anchors from the chain (all, a sequence range, a block-time range, or both) with
    their transaction and UTC time; a table, or --csv / --json for export."""
    from notary.verify import audit
    from notary.verify.export import record, to_csv

    if as_csv and as_json:
        fail("choose --csv or --json")
    start, end = _timestamp(since, "--since"), _timestamp(until, "--until")
    try:
        reader = _reader(rpc, registry)
        count = reader.anchor_count()
        stop = count if last is None else min(last, count)
        if start is not None or end is not None:  # block times never decrease with sequence
            first = max(first, audit.first_at_or_after(reader, start or 0))
            if end is not None:
                stop = min(stop, audit.first_at_or_after(reader, end) - 1)
        found: list[AuditedAnchor] = []
        sequence = first
        while sequence <= stop:
            page = min(audit.MAX_AUDIT_PAGE, stop - sequence + 1)
            found += audit.with_transactions(reader, audit.by_sequence(reader, sequence, page))
            sequence += page
    except NotaryError as exc:
        fail(str(exc))
    if as_csv:
        sys.stdout.write(to_csv(found))
        return
    if as_json:
        sys.stdout.write(json.dumps([record(f) for f in found], indent=2) + "\n")
        return
    table = Table("#", "root", "block", "time (UTC)", "leaves", "transaction", "manifest")
    for f in found:
        a = f.anchor
        table.add_row(
            str(a.sequence),
            "0x" + a.root.hex()[:16] + "…",
            str(a.block_number),
            f.block_time_utc,
            str(a.leaf_count),
            ("0x" + f.tx_hash.hex()[:16] + "…") if f.tx_hash else "-",
            a.manifest or "-",
        )
    out.print(table)
    out.print(f"{len(found)} anchor(s)", highlight=False)


@audit_app.command("log")
def log_command(
    rpc: RpcOption = None, registry: RegistryOption = None, as_json: JsonFlag = False
) -> None:
    """Recompute the append-only log head from every anchored root and compare."""
    from notary.verify.audit import check_log

    try:
        ok, count = check_log(_reader(rpc, registry))
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


@audit_app.command("members")
def members_command(
    at: Annotated[
        int | None,
        typer.Option("--at", min=0, help="Block number (default: the newest block)."),
    ] = None,
    rpc: RpcOption = None,
    registry: Annotated[
        str | None, typer.Option("--registry", help="ConsortiumRegistry address.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Members (account, role, organization, name) and the endorsement policy (k of the
    endorsers) of a consortium registry at block --at, replayed from its events only."""
    from notary.chain.consortium import ConsortiumReader
    from notary.chain.registry import connect
    from notary.ops.endpoints import resolve_registry, resolve_rpc_url

    try:
        settings = load_settings()
        url = resolve_rpc_url(settings, rpc)
        reader = ConsortiumReader(
            connect(url, retries=False), resolve_registry(settings, registry), url
        )
        block = reader.latest_block_number() if at is None else at
        config = reader.members_at(block)
    except NotaryError as exc:
        fail(str(exc))
    members = sorted(config.members, key=lambda m: (m.role, m.account))
    if as_json:
        emit(
            {
                "registry": reader.address,
                "block": config.block,
                "config_nonce": config.config_nonce,
                "threshold": config.threshold,
                "endorsers": len(config.endorsers),
                "members": [
                    {
                        "account": m.account,
                        "role": m.role.name.lower(),
                        "organization": "0x" + m.organization.hex(),
                        "name": m.readable_name,
                    }
                    for m in members
                ],
            }
        )
        return
    out.print(
        f"registry {reader.address} at block {config.block}: policy {config.threshold} of "
        f"{len(config.endorsers)} endorsers (configuration {config.config_nonce})",
        highlight=False,
        soft_wrap=True,
    )
    for m in members:  # one line each, never cut: accounts and ids are copied from here
        out.print(
            f"  {m.role.name.lower():<8} {m.account} organization 0x{m.organization.hex()} "
            f"{escape(m.readable_name)}",
            highlight=False,
            soft_wrap=True,
        )


@audit_app.command("reconcile")
def reconcile_command(
    rpc: RpcOption = None, registry: RegistryOption = None, as_json: JsonFlag = False
) -> None:
    """The operator's report: the database's anchors against the chain's (missing on
    chain, extra on chain, mismatched). Reads the database (NOTARY_DATA_DIR or
    NOTARY_DATABASE_URL) and changes nothing. Exit 0: they agree. 1: they do not."""
    from notary.cli.server import need_server

    need_server()
    from pathlib import Path

    from notary.anchoring.report import as_dict, reconciliation_report
    from notary.store.db import database_url, make_engine, make_sessionmaker

    settings = load_settings()
    url = database_url(settings.data_dir, settings.database_url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        fail(f"no database at {url.removeprefix('sqlite:///')} (set NOTARY_DATA_DIR)")
    try:
        engine = make_engine(url)
        try:
            report = reconciliation_report(make_sessionmaker(engine), _reader(rpc, registry))
        finally:
            engine.dispose()
    except NotaryError as exc:
        fail(str(exc))
    data = as_dict(report)
    if as_json:
        emit(data)
    else:
        table = Table("kind", "root", "batch", "detail", title="discrepancies")
        for item in [*report.missing, *report.extra, *report.mismatched]:
            table.add_row(
                item.kind,
                "0x" + item.root.hex()[:16] + "…",
                "-" if item.batch_id is None else str(item.batch_id),
                item.detail,
            )
        if not report.consistent:
            out.print(table)
        out.print(
            f"registry {report.registry} on chain {report.chain_id}: "
            f"{report.database_anchors} anchors in the database, {report.chain_anchors} on "
            f"chain; {report.matched} matched, {len(report.missing)} missing, "
            f"{len(report.extra)} extra, {len(report.mismatched)} mismatched "
            f"({report.in_flight} batches in flight, {report.other_registry} in another "
            "registry, not compared)",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_OK if report.consistent else EXIT_INVALID)
