"""The `notary` command. Exit codes and user-facing messages live here and nowhere else.

Exit codes: 0 success (for verify: VALID), 1 verify found the certificate INVALID,
2 could not do or decide (bad arguments, unreachable chain, missing setup).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from notary.config import Settings
from notary.errors import NotaryError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_ERROR = 2

app = typer.Typer(
    help="Evidence notary: anchor files on a chain, issue and verify certificates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
devnet_app = typer.Typer(
    help="The local devnet (anvil), state kept in the data directory.", no_args_is_help=True
)
app.add_typer(devnet_app, name="devnet")
admin_app = typer.Typer(
    help="Organizations and API keys (writes the database directly).", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")


def _silence_stdout() -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Console(Console):
    """A rich Console that survives a closed pipe (`notary verify ... | head`).

    rich's default exits with status 1 on a broken pipe, which would turn a VALID verdict
    into exit code 1 ("invalid") for a script; here output stops and the exit code stands.
    """

    def on_broken_pipe(self) -> None:
        _silence_stdout()


err = _Console(stderr=True)
out = _Console()


def _fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        _fail(f"invalid NOTARY_* setting: {exc}")


JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
RpcOption = Annotated[str | None, typer.Option("--rpc", help="Chain JSON-RPC URL.")]


def _emit(document: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@devnet_app.command("up")
def devnet_up(as_json: JsonFlag = False) -> None:
    """Start anvil on 127.0.0.1 (chain state persisted in the data directory)."""
    from notary import devnet

    try:
        status = devnet.up(_settings())
    except NotaryError as exc:
        _fail(str(exc))
    if as_json:
        _emit(
            {
                "rpc_url": status.rpc_url,
                "chain_id": status.chain_id,
                "pid": status.pid,
                "block_number": status.block_number,
            }
        )
    else:
        out.print(
            f"devnet running: {status.rpc_url} (chain id {status.chain_id}, "
            f"block {status.block_number}, pid {status.pid})",
            highlight=False,
        )


@devnet_app.command("down")
def devnet_down() -> None:
    """Stop anvil; its state is saved and restored by the next `up`."""
    from notary import devnet

    try:
        stopped = devnet.down(_settings())
    except NotaryError as exc:
        _fail(str(exc))
    out.print("devnet stopped" if stopped else "devnet was not running")


@devnet_app.command("status")
def devnet_status(as_json: JsonFlag = False) -> None:
    """Say whether the devnet runs (exit 0) or not (exit 1)."""
    from notary import devnet

    status = devnet.status(_settings())
    if as_json:
        _emit(
            {
                "running": status.running,
                "rpc_url": status.rpc_url,
                "chain_id": status.chain_id,
                "block_number": status.block_number,
            }
        )
    elif status.running:
        out.print(
            f"running: {status.rpc_url} (chain id {status.chain_id}, block {status.block_number})",
            highlight=False,
        )
    else:
        out.print("not running")
    raise typer.Exit(EXIT_OK if status.running else EXIT_INVALID)


@app.command()
def deploy(rpc: RpcOption = None, as_json: JsonFlag = False) -> None:
    """Deploy the published EvidenceRegistry build (or reuse the recorded one)."""
    from notary.deploy import deploy as run_deploy

    try:
        result = run_deploy(_settings(), rpc)
    except NotaryError as exc:
        _fail(str(exc))
    d = result.deployment
    if as_json:
        _emit(
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
    """Hash FILES, anchor them in one transaction, write FILE.cert.json for each."""
    from notary.stamp import stamp as run_stamp

    settings = _settings()
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
            _fail(str(exc))
    a = result.receipt.anchor
    if as_json:
        _emit(
            {
                "root": "0x" + a.root.hex(),
                "sequence": a.sequence,
                "block_number": a.block_number,
                "block_time": a.timestamp,
                "tx_hash": "0x" + result.receipt.tx_hash.hex(),
                "gas_used": result.receipt.gas_used,
                "certificates": [str(p) for p in result.certificates],
            }
        )
        return
    out.print(
        f"anchored {a.leaf_count} file(s) as root 0x{a.root.hex()} in block "
        f"{a.block_number} (anchor #{a.sequence}, {result.receipt.gas_used} gas)",
        highlight=False,
    )
    for path in result.certificates:
        out.print(f"  certificate: {path}", highlight=False)


@app.command()
def verify(
    certificate: Annotated[Path, typer.Option("--certificate", "-c", help="Certificate JSON.")],
    file: Annotated[Path | None, typer.Option("--file", "-f", help="The file to check.")] = None,
    rpc: RpcOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a certificate (and a file) against any node of the chain. Needs no database.

    Exit 0: valid. Exit 1: invalid. Exit 2: cannot decide (bad arguments, node unreachable).
    """
    from notary.records import resolve_rpc_url
    from notary.verify import Outcome
    from notary.verify import verify as run_verify

    try:
        rpc_url = resolve_rpc_url(_settings(), rpc)
        text = certificate.read_bytes()
        handle = file.open("rb") if file is not None else None
    except NotaryError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot read {exc.filename}: {exc.strerror}")
    try:
        verdict = run_verify(text, rpc_url, handle)
    finally:
        if handle is not None:
            handle.close()
    code = {Outcome.VALID: EXIT_OK, Outcome.INVALID: EXIT_INVALID, Outcome.UNDECIDED: EXIT_ERROR}[
        verdict.outcome
    ]
    try:
        if as_json:
            _emit(
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
        _silence_stdout()
    raise typer.Exit(code)


def _print_verdict(verdict: object) -> None:
    from notary.verify import Outcome, Verdict

    assert isinstance(verdict, Verdict)
    style = {
        Outcome.VALID: "bold green",
        Outcome.INVALID: "bold red",
        Outcome.UNDECIDED: "bold yellow",
    }[verdict.outcome]
    label = {
        Outcome.VALID: "VALID",
        Outcome.INVALID: "INVALID",
        Outcome.UNDECIDED: "CANNOT DECIDE",
    }[verdict.outcome]
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
    from notary import build as builder

    try:
        if not check:
            for path in builder.write_build():
                out.print(f"wrote {path}", highlight=False)
            return
        artifact, full_input = builder.compile_registry()
    except NotaryError as exc:
        _fail(str(exc))
    same = builder.ARTIFACT_PATH.read_text("utf-8") == builder.dumps(
        artifact
    ) and builder.INPUT_PATH.read_text("utf-8") == builder.dumps(full_input)
    if not same:
        _fail("the committed build differs from a fresh compilation", EXIT_INVALID)
    out.print("the committed build is byte-identical to a fresh compilation")


@app.command()
def deposit(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to deposit.")],
    hash_only: Annotated[
        bool, typer.Option("--hash-only", help="Send only hashes; files stay here.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Wait for anchoring and write certificates here."),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for anchoring with --out.")] = 300,
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Deposit files through the notary API (key from NOTARY_API_KEY), with a progress bar."""
    from notary.client import NotaryClient, files_in

    settings = _settings()
    if not settings.api_key:
        _fail("set NOTARY_API_KEY to your organization's API key")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(files_in(path))
        elif path.is_file():
            files.append(path)
        else:
            _fail(f"cannot read {path}: no such file or folder")
    if not files:
        _fail("no files to deposit")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with (
            NotaryClient(url or settings.api_url, settings.api_key) as client,
            Progress(*columns, console=err, disable=as_json or len(files) < 2) as bar,
        ):
            task = bar.add_task("depositing", total=len(files))
            results = client.deposit_paths(
                files, hash_only=hash_only, progress=lambda n: bar.advance(task, n)
            )
            written: list[str] = []
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                client.wait_anchored([r["id"] for r in results], timeout=wait)
                for path, result in zip(files, results, strict=True):
                    target = out_dir / (path.name + ".cert.json")
                    written.append(str(client.save_certificate(result["id"], target)))
    except (NotaryError, TimeoutError) as exc:
        _fail(str(exc))
    if as_json:
        _emit(
            {
                "evidence": [
                    {
                        "file": str(p),
                        "id": r["id"],
                        "status": r["status"],
                        "created": r.get("created"),
                    }
                    for p, r in zip(files, results, strict=True)
                ],
                "certificates": written,
            }
        )
        return
    created = sum(1 for r in results if r.get("created"))
    out.print(
        f"deposited {len(results)} file(s): {created} new, {len(results) - created} "
        "already deposited",
        highlight=False,
    )
    if written:
        out.print(f"certificates written to {out_dir}", highlight=False)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (NOTARY_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (NOTARY_API_PORT).")] = None,
) -> None:
    """Serve the HTTP API (deposits, certificates, verification, audit) with the batcher."""
    import logging

    import uvicorn

    from api.main import create_app

    settings = _settings()
    bind_host, bind_port = host or settings.api_host, port or settings.api_port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        application = create_app(settings)
    except NotaryError as exc:
        _fail(str(exc))
    err.print(f"API on http://{bind_host}:{bind_port} (interactive docs: /docs)", highlight=False)
    uvicorn.run(application, host=bind_host, port=bind_port, log_level="info")


def _factory() -> sessionmaker[Session]:
    from notary.store.db import database_url, make_engine, make_sessionmaker

    settings = _settings()
    return make_sessionmaker(make_engine(database_url(settings.data_dir, settings.database_url)))


@admin_app.command("create-org")
def admin_create_org(
    slug: Annotated[str, typer.Argument(help="Short id, e.g. hz-kids-studio.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[str, typer.Option(help="depositor, auditor or admin.")] = "depositor",
) -> None:
    """Create an organization."""
    from notary.orgs import create_organization
    from notary.store.models import Role

    if role not in {r.value for r in Role}:
        _fail("role must be depositor, auditor or admin")
    try:
        org = create_organization(_factory(), slug, name, Role(role))
    except NotaryError as exc:
        _fail(str(exc))
    out.print(f"created organization {org.slug} ({org.role.value})", highlight=False)


@admin_app.command("create-key")
def admin_create_key(
    slug: Annotated[str, typer.Argument(help="Organization slug.")],
    label: Annotated[str, typer.Option(help="A note to recognize the key by.")] = "",
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from notary.orgs import create_key

    try:
        key = create_key(_factory(), slug, label)
    except NotaryError as exc:
        _fail(str(exc))
    err.print(f"API key for {key.organization.slug} (shown once, store it now):")
    sys.stdout.write(key.secret + "\n")


@admin_app.command("revoke-key")
def admin_revoke_key(prefix: Annotated[str, typer.Argument(help="The key's prefix.")]) -> None:
    """Revoke an API key by its prefix (the part after `nk_`)."""
    from notary.orgs import revoke_key

    try:
        revoke_key(_factory(), prefix)
    except NotaryError as exc:
        _fail(str(exc))
    out.print(f"revoked {prefix}")


@admin_app.command("list-orgs")
def admin_list_orgs() -> None:
    """List organizations."""
    from notary.orgs import list_organizations

    for org in list_organizations(_factory()):
        out.print(f"{org.slug}\t{org.role.value}\t{org.name}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    app()
