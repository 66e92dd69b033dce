"""The `notary` command. Exit codes and user-facing messages live here and nowhere else.

Subcommands are registered by importing their modules: `chain` (devnet, deploy, stamp,
verify, build) and `service` (serve, deposit, admin).
"""

from notary.cli import chain, service  # noqa: F401  (registers the subcommands)
from notary.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app()
