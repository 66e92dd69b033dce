"""A 200 MiB file streamed in and out through a real service process with bounded memory."""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path

import httpx
import pytest

from notary.core.unixfs import UnixfsHasher
from notary.ops import devnet
from tests.e2e.conftest import ServiceProcess

pytestmark = pytest.mark.devnet

SIZE = 200 * 1024 * 1024
PIECE = 1024 * 1024
MEMORY_BOUND_MIB = 100


def rss(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(field)


def pieces(seed: int):
    rng = random.Random(seed)
    for _ in range(SIZE // PIECE):
        yield rng.randbytes(PIECE)


def test_200_mib_in_and_out_with_bounded_memory(chain, tmp_path) -> None:
    expected_sha, expected_cid = hashlib.sha256(), UnixfsHasher()
    for piece in pieces(200):
        expected_sha.update(piece)
        expected_cid.update(piece)
    service = ServiceProcess(
        chain, tmp_path / "service", NOTARY_IPFS_API=devnet.status(chain.settings).ipfs_api
    )
    service.cli("admin", "create-org", "studio", "--name", "Studio")
    key = service.cli("admin", "create-key", "studio").stdout.strip()
    service.start()
    try:
        assert service.process is not None
        pid = service.process.pid
        idle = rss(pid, "VmRSS")
        boundary = "bigfileboundary"

        def body():
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="big.bin"\r\n\r\n'
            ).encode()
            yield from pieces(200)
            yield f"\r\n--{boundary}--\r\n".encode()

        with httpx.Client(
            base_url=service.url, timeout=600, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            r = c.post(
                "/v1/evidence",
                content=body(),
                headers={"content-type": f"multipart/form-data; boundary={boundary}"},
            )
            assert r.status_code == 201, r.text
            ev = r.json()
            assert ev["sha256"] == expected_sha.hexdigest()
            assert ev["ipfs"]["cid"] == expected_cid.cid()
            deadline = time.monotonic() + 300
            while c.get(f"/v1/evidence/{ev['id']}").json()["ipfs"]["pin_state"] != "pinned":
                assert time.monotonic() < deadline, "not pinned"
                time.sleep(0.5)
            back = hashlib.sha256()
            with c.stream("GET", f"/v1/evidence/{ev['id']}/file") as download:
                assert download.status_code == 200
                for chunk in download.iter_bytes():
                    back.update(chunk)
            assert back.hexdigest() == expected_sha.hexdigest()
        peak = rss(pid, "VmHWM")
        print(f"service memory: idle {idle:.0f} MiB, peak {peak:.0f} MiB")
        assert peak - idle < MEMORY_BOUND_MIB, f"idle {idle:.0f} MiB, peak {peak:.0f} MiB"
    finally:
        service.stop()
