"""The `notary` command. Exit codes and user-facing messages live here and nowhere else.

Subcommands are registered by importing their modules: `chain` (devnet, deploy, stamp,
verify, build), `deposit` (deposit, export: the API client), `server` (serve, admin: needs
the `[server]` extra) and `audit` (rebuild, log).
"""

from notary.cli import audit, chain, deposit, server  # noqa: F401  (registers the subcommands)
from notary.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app()
