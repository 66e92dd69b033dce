"""A full disk, for real: the data directory on a small tmpfs (needs root to mount one)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import start_server
from tests.api.test_api import assert_error, h

pytestmark = pytest.mark.devnet


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted for this test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Write a file that leaves about `leave` bytes free on `disk`."""
    filler = disk / "filler"
    size = max(shutil.disk_usage(disk).free - leave, 0)
    with filler.open("wb") as out:
        while size > 0:
            size -= out.write(b"\0" * min(size, 1 << 20))
    return filler


def test_a_full_disk_is_507_records_nothing_and_recovers(chain, small_disk) -> None:
    data_dir = small_disk / "data"
    running, server, thread = start_server(chain, data_dir, batcher=False)
    spool = running.service.spool_dir
    try:
        with running.client() as c:
            warm = c.post("/v1/evidence", files={"file": ("warm.bin", os.urandom(1000))})
            assert warm.status_code == 201, warm.text  # the spool folder and the WAL exist
            data = os.urandom(1_000_000)
            sha = hashlib.sha256(data).hexdigest()
            filler = fill(small_disk, leave=256 * 1024)
            refused = c.post("/v1/evidence", files={"file": ("big.bin", data)})
            assert_error(refused, 507, "insufficient_storage")
            # only the first upload's file: no partial one is left behind
            assert len(list(spool.iterdir())) == 1, list(spool.iterdir())
            filler.unlink()
            fill(small_disk, leave=0)  # now really full: the database cannot grow either
            refusals = 0
            for n in range(50):  # whatever fails must fail cleanly, never as another 5xx
                r = c.post("/v1/evidence/hash", json={"sha256": h(f"full-{n}")})
                if r.status_code != 201:
                    assert_error(r, 507, "insufficient_storage")
                    refusals += 1
            assert refusals > 0  # the database could not grow: SQLITE_FULL, answered as 507
            (small_disk / "filler").unlink()
            assert c.get("/v1/evidence", params={"sha256": sha}).json()["items"] == []
            accepted = c.post("/v1/evidence", files={"file": ("big.bin", data)})
            assert accepted.status_code == 201, accepted.text
            assert len(list(spool.iterdir())) == 2
            for n in range(50):
                r = c.post("/v1/evidence/hash", json={"sha256": h(f"full-{n}")})
                assert r.status_code in {200, 201}, r.text
            listed = c.get("/v1/evidence", params={"sha256": sha}).json()["items"]
            assert [i["id"] for i in listed] == [accepted.json()["id"]]
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        running.service.engine.dispose()
