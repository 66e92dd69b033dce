"""The monitor's rows commit with the evidence that carries them, or not at all, and the
watch index is rebuilt from them (real SQLite file, the real deposit writer and index)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notary.deposit.request import DepositRequest
from notary.deposit.writer import DepositWriter
from notary.hooks import events
from notary.monitor import designs
from notary.monitor.captures import Recording, capture_info
from notary.monitor.fingerprint import (
    MIN_QUALITY,
    Fingerprint,
    Fingerprinted,
    ImageStatus,
    fingerprint_capture,
    fingerprint_design,
)
from notary.monitor.sketch import Probe
from notary.monitor.watch import WatchSettings, put
from notary.monitor.watcher import Match, Watcher
from notary.store.db import database_url, make_engine, make_sessionmaker
from notary.store.models import (
    Alert,
    Capture,
    DesignFingerprint,
    DesignSketch,
    Evidence,
    FingerprintStatus,
    Role,
)
from notary.store.orgs import create_organization

BITS = bytes(range(32))


def _count(factory, model) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url(tmp_path, None))
    factory = make_sessionmaker(engine)
    writer = DepositWriter(factory)
    yield factory, writer
    writer.stop()
    engine.dispose()


def _design(writer: DepositWriter, org, sha: bytes, tags: list[str] | None = None) -> int:  # type: ignore[no-untyped-def]
    given = Fingerprinted(ImageStatus.OK, "", (Fingerprint("pdq", BITS, MIN_QUALITY),))
    metadata = {"tags": tags} if tags else {}
    (outcome,) = writer.deposit(
        org,
        [
            DepositRequest(
                sha256=sha,
                sm3=None,
                metadata=metadata,
                kind="hash",
                on_created=designs.recorder(given, designs.CLIENT),
            )
        ],
    )
    with writer.factory() as session:
        return int(
            session.scalar(select(Evidence.id).where(Evidence.public_id == outcome.public_id))
        )


def test_a_capture_whose_alerts_fail_records_nothing(store, monkeypatch) -> None:
    factory, writer = store
    owner = create_organization(factory, "owner", "Owner", Role.DEPOSITOR)
    finder = create_organization(factory, "finder", "Finder", Role.DEPOSITOR)
    design_id = _design(writer, owner, b"\x01" * 32)
    assert _count(factory, DesignFingerprint) == 1 and _count(factory, FingerprintStatus) == 1
    info = capture_info({"source_url": "https://shop.example/1"})

    def capture(recording: Recording) -> None:
        writer.deposit(
            finder,
            [
                DepositRequest(
                    sha256=b"\x02" * 32,
                    sm3=None,
                    metadata=info.metadata,
                    kind="hash",
                    on_created=recording.record,
                )
            ],
        )

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("injected: the outbox insert fails")

    monkeypatch.setattr(events, "enqueue", broken)
    monkeypatch.setattr(events, "enqueue_many", broken)  # a capture's alerts go in one call
    with pytest.raises(RuntimeError, match="injected"):
        capture(Recording(finder, info, [Match(design_id, "pdq", 3)]))
    assert (_count(factory, Evidence), _count(factory, Capture), _count(factory, Alert)) == (
        1,
        0,
        0,
    )

    monkeypatch.undo()
    recording = Recording(finder, info, [Match(design_id, "pdq", 3)])
    capture(recording)
    assert (_count(factory, Evidence), _count(factory, Capture), _count(factory, Alert)) == (
        2,
        1,
        1,
    )
    assert recording.alerts == 1 and recording.disclosed is None  # owner discloses nothing


def test_the_index_is_rebuilt_from_the_store_and_follows_watch_lists(store) -> None:
    factory, writer = store
    owner = create_organization(factory, "owner", "Owner", Role.DEPOSITOR)
    summer = _design(writer, owner, b"\x03" * 32, ["summer"])
    winter = _design(writer, owner, b"\x04" * 32, ["winter"])
    watcher = Watcher(factory)
    assert watcher.rebuild() == 2
    found = {m.design_id for m in watcher.match([Fingerprint("pdq", BITS, 100)])}
    assert found == {summer, winter}

    put(factory, owner, WatchSettings("tags", ("summer",), False))
    watcher.sync()
    assert {m.design_id for m in watcher.match([Fingerprint("pdq", BITS, 100)])} == {summer}
    fresh = Watcher(factory)  # a restart: the same answer from the database alone
    assert fresh.rebuild() == 1
    assert {m.design_id for m in fresh.match([Fingerprint("pdq", BITS, 100)])} == {summer}
    later = _design(writer, owner, b"\x05" * 32, ["summer"])
    fresh.sync()  # a deposit committed since (by this process or another instance)
    assert {m.design_id for m in fresh.match([Fingerprint("pdq", BITS, 100)])} == {summer, later}
    nothing_alike = Probe(())  # a probe no sketch resembles
    assert {m.design_id for m in fresh.match([Fingerprint("pdq", BITS, 100)], nothing_alike)} == {
        summer,
        later,
    }  # client fingerprints have no sketch: their PDQ matches count without a second look
    weak = Fingerprint("pdq", BITS, MIN_QUALITY - 1)
    assert fresh.match([weak]) == []  # low-quality capture fingerprints are not matched


def _evalset():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[2] / "bench" / "monitor_evalset.py"
    spec = importlib.util.spec_from_file_location("monitor_evalset", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("monitor_evalset", module)  # its dataclasses look themselves up
    spec.loader.exec_module(module)
    return module


def _file_design(writer: DepositWriter, org, sha: bytes, data: bytes) -> int:  # type: ignore[no-untyped-def]
    """A design deposited with what the service stores for a file: its fingerprints and
    its sketch."""
    made = fingerprint_design(data)
    assert made.sketch is not None
    (outcome,) = writer.deposit(
        org,
        [
            DepositRequest(
                sha256=sha,
                sm3=None,
                metadata={},
                kind="hash",
                on_created=designs.recorder(made, designs.SERVER),
            )
        ],
    )
    with writer.factory() as session:
        return int(
            session.scalar(select(Evidence.id).where(Evidence.public_id == outcome.public_id))
        )


def test_a_cropped_copy_is_proposed_by_its_spectrum_and_confirmed_by_the_sketch(store) -> None:
    """Blocks (index 5) and stripes (index 13): crops PDQ misses (measured 52 and 108
    bits), the spectrum kind proposes, the stored sketch confirms. A capture of another
    design is proposed nothing it could confirm, and without a probe a spectrum proposal
    alone is never a match."""
    evalset = _evalset()
    factory, writer = store
    owner = create_organization(factory, "owner", "Owner", Role.DEPOSITOR)
    ids = {}
    for index in (5, 13):
        image = evalset.design(evalset.studio_of(index), 100 + index)
        ids[index] = _file_design(writer, owner, bytes([index]) * 32, evalset.encoded(image))
    assert _count(factory, DesignSketch) == 2
    watcher = Watcher(factory)
    assert watcher.rebuild() == 2
    for index in (5, 13):
        image = evalset.design(evalset.studio_of(index), 100 + index)
        capture = fingerprint_capture(evalset.transformed(image, "cropped", index))
        found = watcher.candidates(capture.fingerprints)
        assert ids[index] in found
        assert all(m.kind == "spectrum" for m in found[ids[index]])  # PDQ alone misses it
        assert [m.design_id for m in watcher.match(capture.fingerprints, capture.probe)] == [
            ids[index]
        ]
        assert watcher.match(capture.fingerprints) == []  # nothing confirms a proposal
    other = evalset.design(evalset.studio_of(8), 999)
    capture = fingerprint_capture(evalset.transformed(other, "cropped", 8))
    assert watcher.match(capture.fingerprints, capture.probe) == []
