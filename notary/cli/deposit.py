"""`notary deposit|export`: the command-line client of the notary API (base install)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from notary.cli.common import JsonFlag, app, emit, err, fail, load_settings, out
from notary.errors import NotaryError

if TYPE_CHECKING:
    from notary.chain.eip712 import Signer
    from notary.client import NotaryClient

EXIT_SKIPPED = 1
"""`notary deposit` exit code when some files found in a folder were skipped (the others
were deposited and their certificates written)."""


DEPOSIT_HELP = (
    "Deposit files through the notary API (key from NOTARY_API_KEY), with a progress bar.\n\n"
    "Everything is checked before anything is sent. A file named directly that cannot be "
    'deposited (an empty one: "the file is empty") stops the run. Files found in a folder '
    "that cannot be (empty, a link leading out of the folder, a name that is not UTF-8, "
    "unreadable) are skipped with a warning, the others deposited, and the exit code is 1. "
    "Running the command again deposits nothing twice and rewrites the same certificates."
)


KeyFile = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="Sign every deposit with this depositor key (hex private key, mode 0600; "
        "registered with `notary depositor-keys add`): the certificate then names who "
        "deposited from the signature, not from the notary's word.",
    ),
]


def _signer(key_file: Path | None) -> Signer | None:
    """The depositor key of --key-file (ConfigError when unsafe or unreadable)."""
    if key_file is None:
        return None
    from notary.ops.keys import load_depositor_key

    return load_depositor_key(key_file)


@app.command(help=DEPOSIT_HELP)
def deposit(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to deposit.")],
    hash_only: Annotated[
        bool, typer.Option("--hash-only", help="Send only hashes; files stay here.")
    ] = False,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Wait for anchoring and write certificates here, mirroring the folders "
            "(DIR/a/x.png -> OUT/a/x.png.cert.json).",
        ),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for anchoring with --out.")] = 300,
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
    key_file: KeyFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Deposit files through the notary API (key from NOTARY_API_KEY), with a progress bar."""
    from rich.markup import escape

    from notary.client import NotaryClient, certificate_targets, display, plan

    settings = load_settings()
    if not settings.api_key:
        fail("set NOTARY_API_KEY to your organization's API key")
    try:
        signer = _signer(key_file)
        planned = plan(paths)
        targets = certificate_targets(planned.entries, out_dir) if out_dir is not None else []
    except NotaryError as exc:
        fail(str(exc))
    for skipped in planned.skipped:
        err.print(
            f"[yellow]skipped:[/] {escape(display(skipped.path))}: {escape(skipped.reason)}",
            highlight=False,
            soft_wrap=True,
        )
    entries = planned.entries
    if not entries:
        fail("no files to deposit")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with (
            NotaryClient(url or settings.api_url, settings.api_key, signer=signer) as client,
            Progress(*columns, console=err, disable=as_json or len(entries) < 2) as bar,
        ):
            task = bar.add_task("depositing", total=len(entries))
            results = client.deposit_entries(
                entries, hash_only=hash_only, progress=lambda n: bar.advance(task, n)
            )
            written: list[str] = []
            if out_dir is not None:
                client.wait_anchored([r["id"] for r in results], timeout=wait)
                for result, target in zip(results, targets, strict=True):
                    written.append(display(client.save_certificate(result["id"], target)))
    except (NotaryError, TimeoutError) as exc:
        fail(str(exc))
    if as_json:
        emit(
            {
                "evidence": [
                    {
                        "file": display(e.path),
                        "path": e.relative,
                        "id": r["id"],
                        "status": r["status"],
                        "created": r.get("created"),
                    }
                    for e, r in zip(entries, results, strict=True)
                ],
                "certificates": written,
                "skipped": [{"file": display(s.path), "reason": s.reason} for s in planned.skipped],
            }
        )
    else:
        created = sum(1 for r in results if r.get("created"))
        out.print(
            f"deposited {len(results)} file(s): {created} new, {len(results) - created} "
            "already deposited",
            highlight=False,
        )
        if out_dir is not None and written:
            out.print(f"certificates written to {escape(display(out_dir))}", highlight=False)
    if planned.skipped:
        err.print(
            f"[yellow]{len(planned.skipped)} file(s) skipped[/] (listed above); "
            "the others were deposited",
            highlight=False,
        )
        raise typer.Exit(EXIT_SKIPPED)


@app.command("export")
def export_bundle(
    evidence_id: Annotated[str, typer.Argument(help="Evidence id (ev_...).")],
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Zip to write (default: the name the API gives it, NAME.evidence.zip, here).",
        ),
    ] = None,
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
) -> None:
    """Write the court bundle of EVIDENCE: the file, its certificate (JSON and PDF), the CAR,
    the specification, verify.html and a README (zh/en)."""
    from notary.client import NotaryClient

    settings = load_settings()
    if not settings.api_key:
        fail("set NOTARY_API_KEY to your organization's API key")
    try:
        with NotaryClient(url or settings.api_url, settings.api_key) as client:
            target = client.download(evidence_id, "bundle", out_file)
    except NotaryError as exc:
        if out_file is not None:
            out_file.unlink(missing_ok=True)
        fail(str(exc))
    out.print(f"wrote {target}", highlight=False)


keys_app = typer.Typer(
    help="Your organization's depositor keys: the keys that sign its deposits (EIP-712), "
    "registered as DEPOSITOR members of the consortium registry.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="depositor-keys")


def _client(url: str | None) -> NotaryClient:
    from notary.client import NotaryClient

    settings = load_settings()
    if not settings.api_key:
        fail("set NOTARY_API_KEY to your organization's API key")
    return NotaryClient(url or settings.api_url, settings.api_key)


@keys_app.command("list")
def keys_list(
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The keys, their states, and what a signature covers (depositor, chain, registry)."""
    try:
        with _client(url) as client:
            info = client.signing_info()
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit(info)
        return
    out.print(
        f"depositor {info['depositor']}, chain {info['chain_id']}, registry {info['registry']}, "
        f"signatures {'required' if info['require_signature'] else 'optional'}",
        highlight=False,
    )
    for k in info["keys"]:
        out.print(f"  {k['address']}  {k['state']}  {k['name']}", highlight=False)
        if k.get("last_refusal"):
            out.print(f"    refused by an endorser: {k['last_refusal']}", highlight=False)


@keys_app.command("add")
def keys_add(
    key_file: Annotated[
        Path, typer.Option("--key-file", help="The key to register (hex, mode 0600).")
    ],
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register the key of KEY_FILE (it signs its own consent; the key never leaves here)."""
    try:
        signer = _signer(key_file)
        assert signer is not None
        with _client(url) as client:
            result = client.register_depositor_key(signer)
    except NotaryError as exc:
        fail(str(exc))
    if as_json:
        emit(result)
    else:
        out.print(f"{result['address']}: {result['state']}", highlight=False)


@keys_app.command("remove")
def keys_remove(
    address: Annotated[str, typer.Argument(help="The key's address (0x...).")],
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
) -> None:
    """Remove a key: its signatures stop counting from the consortium's change on."""
    try:
        with _client(url) as client:
            result = client.remove_depositor_key(address)
    except NotaryError as exc:
        fail(str(exc))
    out.print(f"{result['address']}: {result['state']}", highlight=False)


@keys_app.command("require")
def keys_require(
    required: Annotated[bool, typer.Argument(help="true: refuse unsigned deposits.")],
    url: Annotated[str | None, typer.Option(help="API URL (NOTARY_API_URL).")] = None,
) -> None:
    """Require a depositor signature on every deposit of your organization, or not."""
    try:
        with _client(url) as client:
            client.require_signatures(required)
    except NotaryError as exc:
        fail(str(exc))
    out.print(f"signatures {'required' if required else 'optional'}", highlight=False)
