"""`notary endorser run`: one consortium member's endorser process (notary.endorser)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated, cast

import typer

from notary.cli.common import HELP_OPTIONS, app, fail, load_settings
from notary.errors import ChainError, NotaryError

endorser_app = typer.Typer(
    help="The consortium's endorser node: checks and signs the notary's batches and "
    "approves depositor key changes.",
    no_args_is_help=True,
    context_settings=HELP_OPTIONS,
)
app.add_typer(endorser_app, name="endorser")


@endorser_app.command("run")
def run(
    key: Annotated[Path, typer.Option("--key", help="This member's private key file (mode 0600).")],
    notary_url: Annotated[
        str, typer.Option("--notary-url", help="The notary's API, e.g. http://127.0.0.1:8000.")
    ],
    ipfs_api: Annotated[
        str,
        typer.Option(
            "--ipfs-api",
            envvar="NOTARY_ENDORSER_IPFS_API",
            help="This endorser's own IPFS (Kubo RPC) endpoint, where it fetches manifests.",
        ),
    ],
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="The ConsortiumRegistry it serves (others refused)."),
    ] = None,
    rpc: Annotated[
        str | None,
        typer.Option(
            "--rpc", help="A chain node: checks membership, chain id, roots already anchored."
        ),
    ] = None,
    max_age: Annotated[
        int, typer.Option(help="Oldest batch time signed, in seconds behind this clock.")
    ] = 3300,
    max_ahead: Annotated[
        int, typer.Option(help="Most a batch time may be ahead of this clock, in seconds.")
    ] = 30,
    poll: Annotated[float, typer.Option(help="Seconds between polls of the notary.")] = 0.5,
    depositor_keys: Annotated[
        str,
        typer.Option(
            "--depositor-keys",
            help="Depositor key changes: off (ignored), manual (approve only keys approved "
            "with `notary endorser approve`; the log names what waits), auto (approve every "
            "change that passes the checks). Needs --rpc and --registry.",
        ),
    ] = "manual",
    approvals: Annotated[
        Path | None,
        typer.Option(
            "--approvals", help="Manual mode: the approvals file `notary endorser approve` writes."
        ),
    ] = None,
) -> None:
    """Poll the notary's proposals; for each batch fetch its manifest from IPFS, rebuild the
    root, check the leaf count and the batch time against this machine's clock, then sign
    an EIP-712 endorsement or refuse it (the reason goes to this log and to the batch's
    history at the notary). Ends on SIGTERM or Ctrl-C. The key is never logged."""
    from notary.endorser.checks import Tolerance
    from notary.endorser.key_approval import KEY_MODES, KeyMode
    from notary.endorser.node import EndorserNode, NodeConfig, check_key_file
    from notary.ops import logs
    from notary.ops.keys import load_key

    settings = load_settings()
    logs.configure(settings.log_format, settings.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if depositor_keys not in KEY_MODES:
        fail(f"--depositor-keys is one of {', '.join(KEY_MODES)}")
    if not 0 < max_age <= 3540 or not 0 <= max_ahead <= 300:
        fail("--max-age is 1 to 3540 s (the registry's window is 3600 s); --max-ahead 0 to 300")
    try:
        check_key_file(key)
        account = load_key(key, settings)
        config = NodeConfig(
            notary_url=notary_url,
            ipfs_api=ipfs_api,
            registry=registry,
            rpc_url=rpc,
            tolerance=Tolerance(future_seconds=max_ahead, max_age_seconds=max_age),
            poll_seconds=poll,
            depositor_keys=cast(KeyMode, depositor_keys),
            approvals_file=approvals,
        )
        node = EndorserNode(account, config)
        try:
            node.connect_chain()
        except ChainError as exc:  # the node is down for now: `run` tries again
            logging.getLogger("notary.endorser").warning("chain node unreachable: %s", exc)
    except NotaryError as exc:
        fail(str(exc))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logging.getLogger("notary.endorser").info("endorser %s polling %s", node.address, notary_url)
    try:
        node.run(stop)
    except NotaryError as exc:
        fail(str(exc))


@endorser_app.command("approve")
def approve(
    account: Annotated[str, typer.Argument(help="The depositor key's address (0x + 40 hex).")],
    notary_url: Annotated[
        str, typer.Option("--notary-url", help="The notary's API, e.g. http://127.0.0.1:8000.")
    ],
    approvals: Annotated[
        Path,
        typer.Option("--approvals", help="The approvals file the endorser runs with."),
    ],
) -> None:
    """Approve the change the notary proposes for one depositor key (manual mode): show it
    and record it in the approvals file. The running endorser (`--depositor-keys manual
    --approvals FILE`) still checks it against the chain before it signs, and signs it
    again if it is proposed again at a new config nonce. Needs no key."""
    import httpx

    from notary.chain.eip712 import Role
    from notary.endorser.key_approval import add_approval, parse_changes

    try:
        response = httpx.get(f"{notary_url.rstrip('/')}/v1/consortium/key-changes", timeout=10)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        fail(f"the notary's key changes could not be fetched: {exc}")
    found = [c for c in parse_changes(response.json()) if c.account.lower() == account.lower()]
    if not found:
        fail(f"the notary proposes no depositor key change for {account}")
    change = found[0]
    what = "add DEPOSITOR" if change.role is Role.DEPOSITOR else "remove"
    typer.echo(
        f"{what} {change.account} for {change.depositor} ({change.name or '-'}), organization "
        f"0x{change.organization.hex()}, config nonce {change.nonce}"
    )
    try:
        added = add_approval(approvals, change)
    except (OSError, ValueError) as exc:
        fail(f"{approvals}: {exc}")
    typer.echo(f"approved in {approvals}" if added else f"already approved in {approvals}")
