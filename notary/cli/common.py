"""Shared pieces of the `notary` command: the Typer apps, consoles, exit codes, helpers.

Exit codes: 0 success (for verify: VALID), 1 verify found the certificate INVALID,
2 could not do or decide (bad arguments, unreachable chain, missing setup).
"""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import version
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperOption

from notary.config import Settings

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_ERROR = 2

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


_PLAIN_TYPES = {"str": "TEXT", "float": "NUMBER", "int": "INTEGER"}


def _plain_type(self: TyperArgument | TyperOption, ctx: object) -> str | None:
    """What the help shows after an option: a plain TEXT, NUMBER, PATH, nothing for a flag
    or an argument (typer 0.29 prints Python annotations such as <list[Path]>)."""
    if isinstance(self, TyperArgument) or getattr(self, "is_flag", False):
        return None
    if self.metavar:
        return self.metavar
    if self.type_descriptor.is_path:
        return "PATH"
    bare = self.bare_type()
    return _PLAIN_TYPES.get(bare, bare.upper())


# typer has no setting for this; its help calls display_type_rich on each parameter
TyperArgument.display_type_rich = _plain_type  # type: ignore[method-assign,assignment]
TyperOption.display_type_rich = _plain_type  # type: ignore[method-assign]


def _version(value: bool) -> None:
    if value:
        out.print(f"notary {version('evidence-notary')}", highlight=False)
        raise typer.Exit(EXIT_OK)


app = typer.Typer(
    help="Evidence notary: anchor files on a chain, issue and verify certificates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
)


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Evidence notary: anchor files on a chain, issue and verify certificates."""


devnet_app = typer.Typer(
    help="The local devnet (anvil), state kept in the data directory.",
    no_args_is_help=True,
    context_settings=HELP_OPTIONS,
)
app.add_typer(devnet_app, name="devnet")
admin_app = typer.Typer(
    help="Organizations and API keys (writes the database directly).",
    no_args_is_help=True,
    context_settings=HELP_OPTIONS,
)
app.add_typer(admin_app, name="admin")


def silence_stdout() -> None:
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Console(Console):
    """A rich Console that survives a closed pipe (`notary verify ... | head`) and does not
    cut lines for a pipe or a file.

    rich's default exits with status 1 on a broken pipe, which would turn a VALID verdict
    into exit code 1 ("invalid") for a script; here output stops and the exit code stands.
    Written to anything but a terminal, rich wraps text at 80 columns, which splits one
    alert, one endorser or one sentence over two lines for a script reading lines; there
    each printed line stays one line (tables and progress bars keep their width).
    """

    def __init__(self, *, stderr: bool = False) -> None:
        stream = sys.stderr if stderr else sys.stdout
        super().__init__(stderr=stderr, soft_wrap=not stream.isatty())

    def on_broken_pipe(self) -> None:
        silence_stdout()


err = _Console(stderr=True)
out = _Console()


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one plain line (the message's own brackets are text, not markup) and exit."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        fail(f"invalid NOTARY_* setting: {exc}")


JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
RpcOption = Annotated[str | None, typer.Option("--rpc", help="Chain JSON-RPC URL.")]


def emit(document: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
