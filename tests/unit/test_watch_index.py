"""The watch index answers exactly what a brute-force scan answers, whatever happened before.

Every expected answer comes from `brute`, a plain Python scan over a dict model of what was
stored (int.bit_count on whole 256-bit integers: no code shared with the index)."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from notary.monitor import index as index_module
from notary.monitor.index import WatchIndex
from notary.monitor.mih import Table, chunk_count, widths

Model = dict[tuple[int, str], list[bytes]]


def vector(rng: random.Random) -> bytes:
    return rng.getrandbits(256).to_bytes(32, "little")


def at_distance(v: bytes, d: int, rng: random.Random) -> bytes:
    """`v` with exactly `d` bits flipped."""
    flip = sum(1 << b for b in rng.sample(range(256), d))
    return (int.from_bytes(v, "little") ^ flip).to_bytes(32, "little")


def distance(a: bytes, b: bytes) -> int:
    return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).bit_count()


def brute(
    model: Model, kind: str, queries: list[bytes], radius: int, limit: int = 100
) -> list[tuple[int, int]]:
    best: dict[int, int] = {}
    for (key, k), stored in model.items():
        if k != kind:
            continue
        for v in stored:
            for q in queries:
                d = distance(v, q)
                if d <= radius and d < best.get(key, 257):
                    best[key] = d
    return sorted(best.items(), key=lambda kd: (kd[1], kd[0]))[:limit]


def model_of(rows: dict[int, list[bytes]], kind: str = "pdq") -> Model:
    return {(key, kind): vectors for key, vectors in rows.items()}


def keys_of(model: Model) -> set[int]:
    return {key for (key, _), stored in model.items() if stored}


@pytest.fixture
def small_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebuild after a few changes, so that short tests cross many rebuilds."""
    monkeypatch.setattr(index_module, "COMPACT_MIN_ROWS", 24)
    monkeypatch.setattr(index_module, "COMPACT_MAX_ROWS", 48)


@pytest.mark.parametrize("chunks", [12, 13, 14, 15, 16])
def test_probes_reach_every_row_within_the_radius(chunks: int) -> None:
    """The pigeonhole argument of notary.monitor.mih, checked on rows planted at exactly
    the radius for every radius 0..64 and every chunk layout the index uses."""
    rng = random.Random(chunks)
    base = [vector(rng) for _ in range(3000)]
    q = vector(rng)
    planted = [at_distance(q, d, rng) for d in range(66) for _ in range(3)]
    rows = base + planted
    array = np.frombuffer(b"".join(rows), np.uint64).reshape(-1, 4)
    table = Table.build(array, chunks)
    assert len(table.layout) == chunks and sum(table.layout) == 256
    other = vector(rng)
    queries = np.frombuffer(other + q, np.uint64).reshape(2, 4)  # q is query number 1
    for radius in range(65):
        found = table.candidates(queries, radius, always=True)
        assert found is not None
        within = {i for i, v in enumerate(rows) if distance(v, q) <= radius}
        candidates = set(found[0][found[1] == 1].tolist())
        assert within <= candidates, f"radius {radius} missed rows"
        assert len(within) >= 3 * (radius + 1)


def test_chunk_layouts_cover_the_256_bits() -> None:
    for rows in (0, 1, 10, 10**4, 2 * 10**5, 2 * 10**6, 10**8):
        layout = widths(chunk_count(rows))
        assert sum(layout) == 256 and 12 <= len(layout) <= 16
    assert len(widths(chunk_count(2 * 10**6))) < 16  # millions of rows get wider chunks


@pytest.mark.parametrize("seed", range(8))
def test_random_changes_match_brute_force(seed: int, small_rebuilds: None) -> None:
    """Random adds, replacements, removals, re-adds and loads on two kinds, with queries
    at random radii 0..64 planted at exactly r and r + 1 from a stored vector."""
    rng = random.Random(seed)
    index = WatchIndex()
    model: Model = {}
    kinds = ("pdq", "pdq-edges")
    hubs = [vector(rng) for _ in range(4)]  # stored vectors cluster around a few points

    def some_vectors() -> list[bytes]:
        return [at_distance(rng.choice(hubs), rng.randrange(0, 80), rng) for _ in range(3)][
            : rng.randrange(0, 4)
        ]

    for step in range(400):
        op = rng.random()
        key = rng.randrange(60)
        kind = rng.choice(kinds)
        if op < 0.55:
            vectors = some_vectors()
            index.add(key, kind, vectors)
            model[(key, kind)] = vectors
        elif op < 0.75:
            index.remove(key)
            for k in kinds:
                model.pop((key, k), None)
        elif op < 0.78:
            rows = [(rng.randrange(60), rng.choice(kinds), vector(rng)) for _ in range(10)]
            index.load(rows)
            groups: Model = {}
            for k, kd, v in rows:
                groups.setdefault((k, kd), []).append(v)
            model.update(groups)
        else:
            radius = rng.randrange(65)
            stored = [v for vs in model.values() for v in vs]
            origin = rng.choice(stored) if stored else vector(rng)
            queries = [at_distance(origin, radius, rng), at_distance(origin, radius + 1, rng)]
            queries = [*queries[: rng.randrange(1, 3)], vector(rng)]
            limit = rng.choice((1, 5, 100))
            expected = brute(model, kind, queries, radius, limit)
            assert index.query(kind, queries, radius, limit) == expected, f"step {step}"
        assert len(index) == len(keys_of(model))


def test_exactly_at_the_radius_is_in_one_more_is_out() -> None:
    """Radii 0..64 on a base large enough for the tables (not the scan) to answer, for
    vectors in the frozen base (load) and in the delta (add) alike."""
    rng = random.Random(7)
    index = WatchIndex()
    index.load((1000 + i, "pdq", vector(rng)) for i in range(20_000))
    q = vector(rng)
    inside = {r: at_distance(q, r, rng) for r in range(66)}
    index.load((r, "pdq", v) for r, v in inside.items() if r % 2 == 0)
    for r, v in inside.items():
        if r % 2:
            index.add(r, "pdq", [v])
    for radius in range(65):
        found = dict(index.query("pdq", [q], radius, limit=1000))
        assert found.get(radius) == radius
        assert radius + 1 not in found
        assert all(key < 1000 or d <= radius for key, d in found.items())


def test_add_remove_and_readd() -> None:
    rng = random.Random(3)
    index = WatchIndex()
    first, second = vector(rng), vector(rng)
    index.add(7, "pdq", [first])
    index.add(7, "edges", [first])
    assert index.query("pdq", [first], 0) == [(7, 0)] and len(index) == 1
    index.add(7, "pdq", [second])  # replaces key 7's pdq vectors only
    assert index.query("pdq", [first], 10) == []
    assert index.query("pdq", [second], 0) == [(7, 0)]
    assert index.query("edges", [first], 0) == [(7, 0)]
    index.remove(7)  # every kind
    assert index.query("pdq", [second], 64) == [] and index.query("edges", [first], 64) == []
    assert len(index) == 0
    index.remove(7)  # unknown key: nothing happens
    index.remove(12345)
    index.add(7, "pdq", [first])
    assert index.query("pdq", [first], 0) == [(7, 0)] and len(index) == 1
    index.add(7, "pdq", [])  # no vectors of any kind left: no longer a key
    assert index.query("pdq", [first], 64) == [] and len(index) == 0


def test_kinds_are_kept_apart() -> None:
    rng = random.Random(4)
    v = vector(rng)
    index = WatchIndex()
    index.add(1, "pdq", [v])
    index.add(2, "pdq-edges", [v])
    assert index.query("pdq", [v], 64) == [(1, 0)]
    assert index.query("pdq-edges", [v], 64) == [(2, 0)]
    assert index.query("other", [v], 256) == []
    assert len(index) == 2


def test_limit_and_ordering() -> None:
    rng = random.Random(5)
    q, q2 = vector(rng), vector(rng)
    index = WatchIndex()
    index_rows = {
        30: [at_distance(q, 9, rng), at_distance(q, 4, rng)],  # the best of its rows counts
        20: [at_distance(q, 4, rng)],  # ties broken by key
        10: [at_distance(q, 12, rng), at_distance(q2, 2, rng)],  # the best query counts
        40: [at_distance(q, 1, rng)],
    }
    for key, vectors in index_rows.items():
        index.add(key, "pdq", vectors)
    assert index.query("pdq", [q, q2], 12) == [(40, 1), (10, 2), (20, 4), (30, 4)]
    assert index.query("pdq", [q, q2], 12, limit=2) == [(40, 1), (10, 2)]
    assert index.query("pdq", [q], 12, limit=0) == []
    everything = index.query("pdq", [q], 10**9)  # past 256 bits: every key
    assert sorted(everything) == sorted(brute(model_of(index_rows), "pdq", [q], 256))
    assert index.query("pdq", [q], -1) == []
    assert index.query("pdq", [], 12) == []


def test_bad_vectors_and_keys_are_refused() -> None:
    index = WatchIndex()
    with pytest.raises(ValueError, match="32 bytes"):
        index.add(1, "pdq", [b"\x00" * 31])
    with pytest.raises(ValueError, match="32 bytes"):
        index.query("pdq", [b"\x00" * 33], 10)
    with pytest.raises(ValueError, match="32 bytes"):
        index.load([(1, "pdq", b"")])
    with pytest.raises(ValueError, match="64-bit"):
        index.add(1 << 63, "pdq", [b"\x00" * 32])
    assert len(index) == 0


def test_load_equals_repeated_add() -> None:
    rng = random.Random(6)
    hub = vector(rng)
    rows = [
        (rng.randrange(300), rng.choice(("pdq", "edges")), at_distance(hub, rng.randrange(90), rng))
        for _ in range(1500)
    ]
    loaded, added = WatchIndex(), WatchIndex()
    loaded.add(5, "pdq", [hub])  # replaced if rows hold (5, "pdq"); kept otherwise
    added.add(5, "pdq", [hub])
    loaded.load(rows)
    groups: dict[tuple[int, str], list[bytes]] = {}
    for key, kind, v in rows:
        groups.setdefault((key, kind), []).append(v)
    for (key, kind), vectors in groups.items():
        added.add(key, kind, vectors)
    assert len(loaded) == len(added)
    for kind in ("pdq", "edges"):
        for radius in (0, 10, 31, 48, 64, 90):
            got = loaded.query(kind, [hub], radius, limit=10_000)
            assert got == added.query(kind, [hub], radius, limit=10_000)
    assert loaded.query("pdq", [hub], 90, limit=10_000)  # not vacuous


def test_queries_while_adding_see_no_wrong_answer(small_rebuilds: None) -> None:
    """Readers query a fixed set of keys while a writer adds, replaces and removes other
    keys, crossing many background rebuilds: every answer is the fixed set's exactly."""
    rng = random.Random(8)
    q = vector(rng)
    stable = {key: at_distance(q, key % 40, rng) for key in range(200)}
    index = WatchIndex()
    index.load((key, "pdq", v) for key, v in stable.items())
    expected = sorted(((k, k % 40) for k in stable if k % 40 <= 31), key=lambda kd: kd[::-1])
    stop = threading.Event()
    errors: list[BaseException] = []
    queries = [0]

    def writer() -> None:
        wrng = random.Random(9)
        try:
            for step in range(1500):
                key = 1000 + wrng.randrange(400)
                if wrng.random() < 0.7:
                    index.add(key, "pdq", [at_distance(q, 80 + wrng.randrange(40), wrng)])
                    index.add(key, "edges", [q])  # another kind, same vector: never seen
                else:
                    index.remove(key)
                if step % 300 == 0:
                    index.remove(wrng.randrange(200, 300))  # unknown to the index
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    def reader() -> None:
        try:
            while not stop.wait(0.0002):  # a pause lets the writer take the lock
                assert index.query("pdq", [q, vector(rng)], 31, limit=1000) == expected
                queries[0] += 1
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    assert index._kinds["pdq"].generation > 5  # the test crossed rebuilds
    assert queries[0] > 50  # and queried meanwhile
    assert index.query("pdq", [q], 31, limit=1000) == expected


@pytest.mark.parametrize("seed", range(8))
def test_changes_during_a_rebuild_are_kept(
    seed: int, small_rebuilds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild runs outside the lock; adds, removes and loads that land while it builds
    (made to land there by wrapping the build) must survive its installation, or, after a
    load (which rebuilds at once), its result must be dropped."""
    rng = random.Random(100 + seed)
    hub = vector(rng)
    index = WatchIndex()
    model: Model = {}
    build = index_module._Base.build
    meanwhile: list[int] = []

    def change(loads: bool = True) -> None:
        key = rng.randrange(80)
        op = rng.random() if loads else rng.random() * 0.9
        if op < 0.5:
            vectors = [at_distance(hub, rng.randrange(50), rng) for _ in range(rng.randrange(3))]
            index.add(key, "pdq", vectors)
            model[(key, "pdq")] = vectors
        elif op < 0.9:
            index.remove(key)
            model.pop((key, "pdq"), None)
        else:
            rows = [(rng.randrange(80), "pdq", at_distance(hub, rng.randrange(50), rng))]
            index.load(rows)
            model[(rows[0][0], "pdq")] = [rows[0][2]]

    def build_with_changes(cls, vectors, keys):
        if not meanwhile and not index._lock.locked():  # the first rebuild outside the lock
            meanwhile.append(1)
            for _ in range(rng.randrange(5, 30)):
                change(loads=seed % 2 == 1)  # a load makes this rebuild's result stale
        return build(vectors, keys)

    for _ in range(60):
        change()
    monkeypatch.setattr(index_module._Base, "build", classmethod(build_with_changes))
    while not meanwhile:
        change()
    assert meanwhile
    for radius in (0, 20, 31, 40, 50):
        assert index.query("pdq", [hub], radius, limit=1000) == brute(
            model, "pdq", [hub], radius, 1000
        )
    assert len(index) == len(keys_of(model))
