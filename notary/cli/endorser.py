"""`notary endorser run`: one consortium member's endorser process (notary.endorser)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from notary.cli.common import HELP_OPTIONS, app, fail, load_settings
from notary.errors import ChainError, NotaryError

endorser_app = typer.Typer(
    help="The consortium's endorser node: checks and signs the notary's batches.",
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
) -> None:
    """Poll the notary's proposals; for each batch fetch its manifest from IPFS, rebuild the
    root, check the leaf count and the batch time against this machine's clock, then sign
    an EIP-712 endorsement or refuse it (the reason goes to this log and to the batch's
    history at the notary). Ends on SIGTERM or Ctrl-C. The key is never logged."""
    from notary.endorser.checks import Tolerance
    from notary.endorser.node import EndorserNode, NodeConfig, check_key_file
    from notary.ops import logs
    from notary.ops.keys import load_key

    settings = load_settings()
    logs.configure(settings.log_format, settings.log_level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
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
