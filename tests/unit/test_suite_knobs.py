"""The suite's documented knobs (NOTARY_CHAIN_KILLS=200 for a soak, ...) reach the tests.

tests/conftest.py removes the developer's NOTARY_* settings before collection, so that a
test never runs against someone's own data directory; it once removed the knobs too, and a
"200 kills" soak silently ran 20.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_KNOBS

TESTS = Path(__file__).parents[1]
READ = re.compile(r"""os\.environ\.get\(\s*["'](NOTARY_[A-Z0-9_]+)["']""")


def test_every_knob_a_test_reads_is_kept() -> None:
    read = {
        name
        for path in TESTS.rglob("*.py")
        for name in READ.findall(path.read_text(encoding="utf-8"))
    }
    assert read, "the scan found no knob at all: the pattern is wrong"
    assert read <= TEST_KNOBS, f"read by tests but removed before they run: {read - TEST_KNOBS}"


def test_a_knob_survives_and_a_setting_does_not(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "import os\n"
        "def test_probe():\n"
        "    assert os.environ.get('NOTARY_CHAIN_KILLS') == '7'\n"
        "    assert 'NOTARY_DATA_DIR' not in os.environ\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.conftest",
            str(probe),
            "--rootdir",
            str(tmp_path),
        ],
        cwd=TESTS.parent,
        env={
            "PATH": "/usr/bin:/bin",
            "NOTARY_CHAIN_KILLS": "7",
            "NOTARY_DATA_DIR": "/nowhere",
            "PYTHONPATH": str(TESTS.parent),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
