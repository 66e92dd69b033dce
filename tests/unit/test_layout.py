"""The verifier's independence: it imports neither a database nor the service nor operator code."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = (
    "sqlite3",
    "sqlalchemy",
    "fastapi",
    "api",
    "notary.stamp",
    "notary.deploy",
    "notary.devnet",
    "notary.keys",
    "notary.records",
    "notary.build",
    "solcx",
    "notary.store",
    "notary.service",
    "notary.batcher",
    "notary.deposit",
)


def test_verify_and_audit_import_no_database_or_operator_code() -> None:
    code = (
        "import json, sys; import notary.verify, notary.audit; "
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert {"notary.verify", "notary.audit"} <= loaded
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)


def test_core_imports_no_io_modules() -> None:
    code = (
        "import json, sys; import notary.core.certificate, notary.core.merkle, "
        "notary.core.hashing, notary.core.leaf; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('notary'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert loaded <= {
        "notary",
        "notary.core",
        "notary.core.certificate",
        "notary.core.merkle",
        "notary.core.hashing",
        "notary.core.keccak",
        "notary.core.leaf",
        "notary.core.jsontext",
        "notary.errors",
    }, loaded
