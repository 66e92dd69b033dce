"""`notary stamp` refuses an empty file, as the API and `notary deposit` do, before
anything is anchored."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.integration.conftest import make_files

pytestmark = pytest.mark.devnet

EMPTY_FILE = "the file is empty"  # the API's words


def test_stamp_refuses_an_empty_file_before_anchoring(chain, tmp_path) -> None:
    files = make_files(tmp_path / "in", 2, prefix="空文件批次")
    empty = tmp_path / "in" / "placeholder.png"
    empty.write_bytes(b"")
    journals = chain.settings.data_dir / "batches"
    before = set(journals.iterdir()) if journals.is_dir() else set()

    result = run_cli(chain.settings, "stamp", str(files[0]), str(empty), str(files[1]))

    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{empty}: {EMPTY_FILE}" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.rglob("*.cert.json")) == []  # no certificate for the others either
    after = set(journals.iterdir()) if journals.is_dir() else set()
    assert after == before  # no batch journaled, so none anchored
