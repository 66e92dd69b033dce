"""The `notary` command. Exit codes and user-facing messages live here and nowhere else.

Subcommands are registered by importing their modules: `chain` (devnet, deploy, stamp,
verify, build), `deposit` (deposit, export: the API client), `monitor` (monitor scan,
alerts: the API client), `server` (serve, admin: needs the `[server]` extra), `audit`
(rebuild, log), `endorser` (run) and `certificate` (pdf: needs the `[pdf]` extra).
"""

from notary.cli import (  # noqa: F401  (registers the subcommands)
    audit,
    certificate,
    chain,
    deposit,
    endorser,
    monitor,
    server,
)
from notary.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app()
