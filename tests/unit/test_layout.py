"""The layout's import rules, checked on what Python really loads.

- notary.core (formats) imports nothing of the notary but errors: pure functions, no I/O.
- notary.verify (a court's verifier and an auditor's tools) imports the core, the chain
  client and the IPFS client only: never a database, the service, anchoring, the API or
  operator code.
- The library (notary) never imports the HTTP app (api).
- `notary stamp` (notary.issue.stamp) loads nothing of the server, as the verifier does not.
- web3 stays in the chain adapter (notary.chain) and operator tools (notary.ops): nothing
  else imports it or reaches for a registry's Web3 (`.w3`).
- No import cycle between the packages: each package's modules import only packages
  listed before it in LAYERS.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from notary.ops.toolchain import REPO_ROOT

NOTARY = REPO_ROOT / "notary"

LAYERS = [
    {"notary.errors", "notary.config", "notary.artifacts", "notary.files"},
    {"notary.core"},
    {"notary.chain", "notary.ipfs"},
    {"notary.verify"},
    {"notary.court"},
    {"notary.ops"},
    {"notary.store"},
    {"notary.deposit", "notary.issue", "notary.hooks"},
    {"notary.anchoring", "notary.share", "notary.monitor"},
    {"notary.service", "notary.client", "notary.endorser"},
    {"notary.cli"},
]
"""Packages from the bottom up: a module may import its own layer's packages or lower ones."""

NEVER_IN_VERIFY = (
    "sqlite3",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "uvicorn",
    "api",
    "solcx",
    "notary.store",
    "notary.service",
    "notary.deposit",
    "notary.anchoring",
    "notary.issue",
    "notary.ops",
)

SERVER_ONLY = ("sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn", "python_multipart")
"""Packages of the `server` extra, which the base install lacks."""


def _loaded(*modules: str) -> set[str]:
    code = (
        f"import json, sys; import {', '.join(modules)}; "
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_verify_and_audit_import_no_database_service_or_operator_code() -> None:
    loaded = _loaded("notary.verify.certificate", "notary.verify.audit")
    assert {"notary.verify.certificate", "notary.verify.audit"} <= loaded
    bad = {m for m in loaded if any(m == p or m.startswith(p + ".") for p in NEVER_IN_VERIFY)}
    assert not bad, bad


def test_stamp_loads_nothing_of_the_server() -> None:
    loaded = _loaded("notary.issue.stamp")
    assert "notary.issue.stamp" in loaded
    bad = {m for m in loaded if m.split(".")[0] in SERVER_ONLY or m.startswith("notary.store")}
    assert not bad, bad


def test_core_imports_no_io_modules() -> None:
    loaded = _loaded(
        *(f"notary.core.{p.stem}" for p in (NOTARY / "core").glob("*.py") if p.stem != "__init__")
    )
    ours = {m for m in loaded if m.startswith("notary")}
    assert ours <= {"notary", "notary.errors"} | {m for m in ours if m.startswith("notary.core")}


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _layer(package: str) -> int:
    for index, layer in enumerate(LAYERS):
        if package in layer:
            return index
    raise AssertionError(f"{package} is in no layer of tests/unit/test_layout.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {m for m in found if m.startswith(("notary.", "api"))}


MODULES = sorted(p for p in NOTARY.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_imports_go_down_the_layers(path: Path) -> None:
    module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if module == "notary.__init__" or module == "notary.__main__":
        return
    own = _layer(_package_of(module))
    for imported in _imports(path):
        if imported == "api" or imported.startswith("api."):
            if module.startswith("notary.cli"):
                continue  # `notary serve` starts the HTTP app (imported at run time)
            raise AssertionError(f"{module} imports the HTTP app ({imported})")
        package = _package_of(imported)
        if package in {"notary.py", "notary.__init__"} or "." not in imported:
            continue
        try:
            layer = _layer(package)
        except AssertionError:
            continue  # a name imported from a module, not a package (from notary import x)
        assert layer <= own, f"{module} (layer {own}) imports {imported} (layer {layer})"


WEB3_MODULES = ("web3", "eth_account", "hexbytes")
"""Third-party packages only the chain adapter and operator tools import."""
WEB3_HOMES = ("notary.chain", "notary.ops")
API = REPO_ROOT / "api"


def _outside_web3_homes() -> list[Path]:
    found = []
    for path in sorted([*NOTARY.rglob("*.py"), *API.rglob("*.py")]):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        if not any(module == home or module.startswith(home + ".") for home in WEB3_HOMES):
            found.append(path)
    return found


@pytest.mark.parametrize("path", _outside_web3_homes(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_web3_stays_in_the_chain_adapter(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            names = []
        for name in names:
            assert name.split(".")[0] not in WEB3_MODULES, f"{path.name} imports {name}"
        if isinstance(node, ast.Attribute):
            assert node.attr != "w3", f"{path.name}:{node.lineno} uses a registry's Web3 (.w3)"


API = REPO_ROOT / "api"


def _service_methods() -> set[str]:
    """The methods and properties NotaryService defines (not the parts it holds)."""
    tree = ast.parse((NOTARY / "service.py").read_text("utf-8"))
    (service,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "NotaryService")
    return {
        n.name
        for n in service.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and not n.name.startswith("_")
    }


@pytest.mark.parametrize("path", sorted(API.rglob("*.py")), ids=lambda p: p.name)
def test_http_side_calls_service_methods_not_its_parts(path: Path) -> None:
    """`service.<x>` in the HTTP app is one of NotaryService's methods: the routes never
    reach into its writer, session factory, caches or IPFS client."""
    allowed = _service_methods()
    tree = ast.parse(path.read_text("utf-8"))
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "service"
    }
    assert used <= allowed, f"{path.name} reaches into the service: {sorted(used - allowed)}"
