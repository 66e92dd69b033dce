"""Packaging for courts: a wheel and an sdist build; the base package installs into a clean
virtualenv without anything of the server, and its `notary verify` decides a golden
certificate on the chain it was anchored on.

Needs the package registry (PyPI) for the build backend and the base dependencies, as
`scripts/setup` does; pip's cache makes later runs quick.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from notary.ops.toolchain import REPO_ROOT
from tests.conftest import VECTORS
from tests.integration.test_forgeries import golden_chain  # noqa: F401  (a fixture)

pytestmark = pytest.mark.devnet

SERVER_ONLY = ["fastapi", "sqlalchemy", "uvicorn", "alembic", "starlette", "multipart"]


def _run(*args: str, cwd: Path | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        list(args), capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # the sdist, then the wheel built from it (in a temporary folder, so nothing is written
    # into the clone, and a file the sdist lacks fails the wheel)
    _run(sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT))
    return out


def test_wheel_and_sdist_carry_what_the_package_reads(dist: Path) -> None:
    (wheel,) = dist.glob("evidence_notary-*.whl")
    (sdist,) = dist.glob("evidence_notary-*.tar.gz")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in [
        "notary/py.typed",
        "notary/core/certificate-v1.schema.json",
        "notary/artifacts/EvidenceRegistry.json",
        "notary/court/verify.html",  # the web verifier page, shipped without Node
        "notary/store/migrations/env.py",
        "notary/store/migrations/versions/0001_initial.py",
        "notary/cli/__init__.py",
        "notary/court/certificate.md",
        "notary/court/certificate-v2.md",
        "api/main.py",
    ]:
        assert needed in names, needed
    assert not any(n.startswith("tests/") for n in names)
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    assert "pyproject.toml" in members and "notary/core/jsontext.py" in members


def test_base_package_verifies_without_the_server(dist: Path, tmp_path: Path, golden_chain) -> None:  # noqa: F811
    (wheel,) = dist.glob("evidence_notary-*.whl")
    venv = tmp_path / "court"
    _run(sys.executable, "-m", "venv", str(venv))
    python, notary = venv / "bin" / "python", venv / "bin" / "notary"
    _run(str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(wheel))
    found = _run(
        str(python),
        "-c",
        "import importlib.util as u; "
        f"print(','.join(m for m in {SERVER_ONLY!r} if u.find_spec(m)))",
    )
    assert found.strip() == "", f"server packages in the base install: {found}"
    page = _run(
        str(python), "-c", "from notary.court.verifier import verifier_html as v; print(len(v()))"
    )
    assert int(page) == len((REPO_ROOT / "notary" / "court" / "verify.html").read_bytes())

    forged = VECTORS / "forged"
    cert, design = forged / "valid.cert.json", forged / "design.txt"
    valid = subprocess.run(
        [str(notary), "verify", "-c", str(cert), "-f", str(design), "--rpc", golden_chain],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "VALID" in valid.stdout
    forgery = subprocess.run(
        [
            str(notary),
            "verify",
            "-c",
            str(forged / "anchor-notary-rewritten.cert.json"),
            "-f",
            str(design),
            "--rpc",
            golden_chain,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert forgery.returncode == 1, forgery.stdout + forgery.stderr
    server = subprocess.run(
        [str(notary), "serve"], capture_output=True, text=True, timeout=60, check=False
    )
    assert server.returncode == 2
    assert "evidence-notary[server]" in server.stderr and "Traceback" not in server.stderr
    printed = subprocess.run(
        [str(notary), "certificate", "pdf", str(cert), "-o", str(tmp_path / "c.pdf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert printed.returncode == 2 and not (tmp_path / "c.pdf").exists()
    assert "evidence-notary[pdf]" in printed.stderr and "Traceback" not in printed.stderr
