"""The chain killed at a block boundary, again and again, under deposits (issue 13's
reproduction): anvil saves its state every second, so a kill -9 right after a new block
loses that block, and the next batch is mined at the same height. After each kill, every
acknowledged deposit must end with exactly one current certificate, and it must verify.

NOTARY_CHAIN_KILLS sets how many kills (default 20); e.g. NOTARY_CHAIN_KILLS=200 for a
longer soak.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from notary.chain.registry import RegistryReader, connect_reader
from notary.core import certificate as cert_format
from notary.issue.certificates import certificates
from notary.issue.trees import TreeCache
from notary.ops import devnet
from notary.ops.deploy import deploy
from notary.store.db import database_url, make_engine, make_sessionmaker, transaction
from notary.store.models import Batch, Evidence, Organization, Role
from notary.store.orgs import OrgView
from notary.verify.certificate import Outcome, verify
from tests.conftest import Chain, make_settings
from tests.e2e.conftest import Depositor, ServiceProcess

pytestmark = pytest.mark.devnet

KILLS = int(os.environ.get("NOTARY_CHAIN_KILLS", "20"))
SETTLE_SECONDS = 180.0  # a liveness bound; a loaded 2-core machine took over 90 s once
"""Longest wait, after a kill, for every acknowledged deposit to be anchored again."""


def _settled(store, org: OrgView, reader: RegistryReader, ids: set[str], verified: set) -> str:
    """'' once every id is anchored on a block the chain still has, and the newest
    certificate of each batch verifies; otherwise what is still missing."""
    with transaction(store) as session:
        rows = session.execute(
            select(Evidence.public_id, Evidence.status, Evidence.batch_id).where(
                Evidence.public_id.in_(ids)
            )
        ).all()
        batches = {b.id: b for b in session.scalars(select(Batch))}
    if len(rows) != len(ids):
        return f"{len(ids) - len(rows)} acknowledged deposits are not in the database"
    waiting = [public_id for public_id, status, _ in rows if status != "anchored"]
    if waiting:
        return f"{len(waiting)} not anchored yet"
    one_per_batch: dict[int, str] = {}
    for public_id, _, batch_id in rows:
        one_per_batch.setdefault(batch_id, public_id)
    for batch_id, public_id in one_per_batch.items():
        batch = batches[batch_id]
        assert batch.block_number is not None
        if reader.block_hash_at(batch.block_number) != batch.block_hash:
            return f"batch {batch_id} is anchored on a block the chain lost (not noticed yet)"
        key = (batch.root, batch.block_hash)
        if key in verified:
            continue
        issued = certificates(store, TreeCache(), org, public_id)
        assert [c.current for c in issued].count(True) == 1, issued
        verdict = verify(cert_format.dumps(issued[-1].certificate), reader.rpc_url)
        if verdict.outcome is not Outcome.VALID:
            return f"certificate of batch {batch_id}: {verdict.reason}"
        verified.add(key)
    return ""


def _tail(log: Path, lines: int = 60) -> str:
    """The service's last log lines, so that a stall in CI says where it stalled."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def test_chain_killed_at_block_boundaries_loses_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "chain")
    devnet.up(settings)
    service: ServiceProcess | None = None
    depositor: Depositor | None = None
    try:
        chain = Chain(settings, deploy(settings).deployment)
        service = ServiceProcess(chain, tmp_path / "service")
        key = service.depositor_key()
        service.start()
        engine = make_engine(database_url(tmp_path / "service", None))
        store = make_sessionmaker(engine)
        with transaction(store) as session:
            o = session.scalar(select(Organization).where(Organization.slug == "studio"))
            assert o is not None
            org = OrgView(o.id, o.slug, o.name, Role(o.role))
        reader = connect_reader(chain.rpc_url, chain.deployment.registry, retries=False)
        depositor = Depositor(service.url, key, "kill", pause=0.05, per_wake=1, timeout=30)
        depositor.start()
        verified: set = set()
        lost_blocks = 0
        for kill in range(KILLS):
            head = devnet.rpc_call(chain.rpc_url, "eth_blockNumber")
            deadline = time.monotonic() + 30
            while devnet.rpc_call(chain.rpc_url, "eth_blockNumber") == head:
                assert time.monotonic() < deadline, "no new block while deposits flow"
                time.sleep(0.02)
            pid = devnet.status(settings).pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)  # right after a new block: it is not saved yet
            before = int(head, 16) + 1
            devnet.up(settings)
            after = int(devnet.rpc_call(chain.rpc_url, "eth_blockNumber"), 16)
            lost_blocks += max(0, before - after)
            acknowledged = depositor.snapshot()
            deadline = time.monotonic() + SETTLE_SECONDS
            while missing := _settled(store, org, reader, acknowledged, verified):
                assert time.monotonic() < deadline, f"kill {kill + 1}: {missing}\n" + _tail(
                    service.log
                )
                time.sleep(0.2)
        depositor.halt.set()
        depositor.join(timeout=30)
        depositor.client.close()
        final = depositor.snapshot()
        deadline = time.monotonic() + SETTLE_SECONDS
        while missing := _settled(store, org, reader, final, verified):
            assert time.monotonic() < deadline, missing + "\n" + _tail(service.log)
            time.sleep(0.2)
        assert len(final) > KILLS * 5
        assert lost_blocks > 0, "no kill lost a block: the test did not test the trap"
        # exactly one current certificate for every acknowledged deposit, which verifies
        one = sorted(final)[:: max(1, len(final) // 50)]
        for public_id in one:
            issued = certificates(store, TreeCache(), org, public_id)
            assert [c.current for c in issued].count(True) == 1
            text = cert_format.dumps(issued[-1].certificate)
            assert verify(text, chain.rpc_url).outcome is Outcome.VALID
        engine.dispose()
    finally:
        if depositor is not None:
            depositor.halt.set()
            depositor.join(timeout=30)
            depositor.client.close()
        if service is not None:
            service.stop()
        devnet.down(settings)
