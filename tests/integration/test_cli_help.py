"""The `notary` command's help and version, through the real entry point."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from notary.ops.toolchain import REPO_ROOT

NOTARY = str(Path(sys.executable).parent / "notary")
COMMANDS = [
    [],
    ["deploy"],
    ["stamp"],
    ["verify"],
    ["build"],
    ["deposit"],
    ["export"],
    ["serve"],
    ["devnet"],
    ["devnet", "up"],
    ["admin"],
    ["admin", "migrate"],
    ["admin", "create-key"],
    ["audit"],
    ["audit", "rebuild"],
    ["audit", "anchors"],
    ["audit", "reconcile"],
    ["certificate"],
    ["certificate", "pdf"],
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NOTARY, *args], capture_output=True, text=True, timeout=60, env={"COLUMNS": "200"}
    )


def test_version_is_the_package_version() -> None:
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = _run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"notary {declared}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "notary")
def test_h_is_help_and_shows_no_python_type_labels(command: list[str]) -> None:
    short, long = _run(*command, "-h"), _run(*command, "--help")
    assert short.returncode == 0, short.stderr
    assert short.stdout == long.stdout
    assert "Usage: notary" in short.stdout
    assert "<" not in short.stdout, short.stdout  # no <list[Path]>, <bool>, <str>
