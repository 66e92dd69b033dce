"""The watch index: every watched design's 256-bit fingerprints, searched by Hamming radius.

Exact: `query` returns every key with a stored vector of the kind within the radius, and
nothing else (no approximate nearest-neighbour search: a missed copy is a missed
infringement). notary.monitor.mih says why its probing cannot miss; every candidate is then
checked on all 256 bits.

Why multi-index hashing in numpy (bench/monitor_index.py and a one-off faiss run, this
machine: 2 cores AMD EPYC, shared, load average ~14 during the run; one capture = 8 query
vectors; 1,000,000 designs x 2 vectors = 2,000,000 rows):

| method                                            | radius 31 p50 / p99 | radius 48 p50 / p99 |
|---------------------------------------------------|---------------------|---------------------|
| this index (13 chunks of 19-20 bits)              |     8.7 / 30 ms     |     76 / 152 ms     |
| numpy brute force (xor + popcount, every row)     |   1125 / 1388 ms    |    883 / 1284 ms    |
| faiss 1.15 IndexBinaryFlat.range_search (exact)   |    219 / 356 ms     |    212 / 284 ms     |
| faiss IndexBinaryMultiHash 13x19, nflip 2 (misses)|    674 / 1071 ms    |    650 / 921 ms     |

On a quieter machine the same tables answered radius 48 in ~3 ms per query vector (~24 ms a
capture). faiss's exact binary index is a brute-force scan (fast C, still 25x slower than
probing), its multi-hash index is approximate beyond nflip bits per chunk, slower here and
took 91 s to build; usearch's binary index is HNSW (approximate) or a flat scan again. A
BK-tree is millions of Python objects and prunes little: it visits every child whose distance
to its pivot is within the radius of the query's, and distances between 256-bit hashes
cluster at 128 +- 8, so at radius 31 that is nearly every child. So: multi-index hashing on
numpy, which the fingerprints need anyway (not measured: BK-tree, usearch).

Layout per kind (one kind's rows never meet another's): a frozen *base* (rows sorted by key,
with their mih.Table), a small *delta* of rows added since (scanned plainly on every query),
and tombstones for removed base rows. When delta and tombstones outgrow COMPACT_MIN_ROWS or
1/8 of the base (at most COMPACT_MAX_ROWS), the kind is rebuilt from its live rows in the
thread of the add or remove that crossed the limit, outside the lock (queries and other
changes go on; the changes made meanwhile are replayed onto the new base). A rebuild of 2M
rows took 19 s under that load (~5 s quiet): that one add() waits for it.

Memory, measured at 2,000,000 rows: 221 MiB of arrays (116 bytes per stored vector: 32 of
vector, 8 of key, 1 of tombstone, 52 of row lists, 22 of offset tables), plus the delta; a
rebuild briefly holds a second copy. load() of 2M rows took 45 s under that load (~11 s
quiet), most of it Python reading the rows.

Thread safety: one lock around every method's reads and changes of the arrays; the rebuild's
heavy part runs without it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from notary.monitor.mih import BITS, I32, I64, U64, VECTOR_BYTES, WORDS, Table, distances, scan

COMPACT_MIN_ROWS = 4096
"""Delta rows + tombstones below which a kind is never rebuilt (rebuilding is O(rows))."""

COMPACT_MAX_ROWS = 1 << 16
"""Delta rows + tombstones at which a kind is always rebuilt: the delta is scanned on every
query, so it must stay small next to a large base (65,536 rows scan in ~1 ms per vector)."""

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def _vectors(vectors: Sequence[bytes]) -> U64:
    """(n, 4) uint64 rows of 32-byte vectors; ValueError on any other length."""
    for v in vectors:
        if len(v) != VECTOR_BYTES:
            raise ValueError(f"a watch index vector is {VECTOR_BYTES} bytes, not {len(v)}")
    data = b"".join(vectors)
    return np.frombuffer(data, dtype=np.uint64).reshape(len(vectors), WORDS)


def _check_key(key: int) -> None:
    if not INT64_MIN <= key <= INT64_MAX:
        raise ValueError("a watch index key is a 64-bit signed integer")


@dataclass(frozen=True)
class _Base:
    """Frozen rows of one kind, sorted by key, with their multi-index tables."""

    vectors: U64
    keys: I64
    table: Table

    @classmethod
    def build(cls, vectors: U64, keys: I64) -> _Base:
        order = np.argsort(keys, kind="stable")
        vectors = np.ascontiguousarray(vectors[order])
        return cls(vectors, keys[order], Table.build(vectors))

    def span(self, key: int) -> tuple[int, int]:
        lo = int(np.searchsorted(self.keys, key, side="left"))
        return lo, int(np.searchsorted(self.keys, key, side="right"))


@dataclass
class _Rebuild:
    """A rebuild under way outside the lock: what it started from and what changed since."""

    generation: int
    delta_start: int  # delta rows before this one are in the snapshot
    touched: set[int] = field(default_factory=set)  # keys dropped since the snapshot


class _Kind:
    """The rows of one kind. Not thread-safe by itself: WatchIndex holds the lock."""

    def __init__(self) -> None:
        self._install(_Base.build(np.empty((0, WORDS), np.uint64), np.empty(0, np.int64)))
        self.generation = 0
        self.rebuild: _Rebuild | None = None

    def _install(self, base: _Base) -> None:
        self.base = base
        self.dead = np.zeros(len(base.keys), bool)  # tombstones of removed base rows
        self.dead_count = 0
        self.delta = np.empty((256, WORDS), np.uint64)
        self.delta_keys = np.empty(256, np.int64)
        self.delta_live = np.zeros(256, bool)
        self.delta_used = 0
        self.delta_rows: dict[int, range] = {}  # live delta rows of each key

    def has(self, key: int) -> bool:
        if key in self.delta_rows:
            return True
        lo, hi = self.base.span(key)
        return bool(hi > lo and not self.dead[lo:hi].all())

    def drop(self, key: int) -> None:
        rows = self.delta_rows.pop(key, None)
        if rows is not None:
            self.delta_live[rows.start : rows.stop] = False
        lo, hi = self.base.span(key)
        if hi > lo:
            self.dead_count += int((~self.dead[lo:hi]).sum())
            self.dead[lo:hi] = True
        if self.rebuild is not None:
            self.rebuild.touched.add(key)

    def drop_many(self, keys: I64) -> None:
        """drop() of every key of the sorted array `keys`, vectorized for load()."""
        for key in set(self.delta_rows).intersection(keys.tolist()):
            rows = self.delta_rows.pop(key)
            self.delta_live[rows.start : rows.stop] = False
        gone = np.isin(self.base.keys, keys) & ~self.dead
        self.dead_count += int(gone.sum())
        self.dead |= gone
        if self.rebuild is not None:
            self.rebuild.touched.update(keys.tolist())

    def append(self, key: int, vectors: U64) -> None:
        """Add rows for `key` (the caller dropped its old ones first)."""
        n = len(vectors)
        if n == 0:
            return
        need = self.delta_used + n
        if need > len(self.delta):
            size = max(need, 2 * len(self.delta))
            self.delta = np.resize(self.delta, (size, WORDS))
            self.delta_keys = np.resize(self.delta_keys, size)
            self.delta_live = np.resize(self.delta_live, size)
        self.delta[self.delta_used : need] = vectors
        self.delta_keys[self.delta_used : need] = key
        self.delta_live[self.delta_used : need] = True
        self.delta_rows[key] = range(self.delta_used, need)
        self.delta_used = need

    def live_keys(self) -> I64:
        return np.concatenate([self.base.keys[~self.dead], np.fromiter(self.delta_rows, np.int64)])

    def live_rows(self) -> tuple[U64, I64]:
        """Copies of every live row (vectors, keys): what a rebuild starts from."""
        live = self.delta_live[: self.delta_used]
        alive = ~self.dead
        vectors = np.concatenate([self.base.vectors[alive], self.delta[: self.delta_used][live]])
        keys = np.concatenate([self.base.keys[alive], self.delta_keys[: self.delta_used][live]])
        return vectors, keys

    def should_rebuild(self) -> bool:
        if self.rebuild is not None:
            return False
        churn = self.delta_used + self.dead_count
        limit = min(COMPACT_MAX_ROWS, max(COMPACT_MIN_ROWS, len(self.base.keys) // 8))
        return churn > limit

    def start_rebuild(self) -> tuple[_Rebuild, U64, I64]:
        """Snapshot the live rows; WatchIndex builds the new base without the lock."""
        self.rebuild = _Rebuild(self.generation, self.delta_used)
        vectors, keys = self.live_rows()
        return self.rebuild, vectors, keys

    def finish_rebuild(self, rebuild: _Rebuild, base: _Base | None) -> None:
        """Install `base` (built from the snapshot of `rebuild`), replaying what changed
        since: keys dropped meanwhile lose their snapshot rows, delta rows added meanwhile
        stay in the delta. Dropped if a synchronous rebuild (load) ran in between."""
        if self.rebuild is not rebuild:
            return
        self.rebuild = None
        if base is None or rebuild.generation != self.generation:
            return
        start, end = rebuild.delta_start, self.delta_used
        delta, delta_keys = self.delta[start:end].copy(), self.delta_keys[start:end].copy()
        delta_live = self.delta_live[start:end].copy()
        later = {k: range(r.start - start, r.stop - start) for k, r in self.delta_rows.items()}
        later = {k: r for k, r in later.items() if r.start >= 0}
        self._install(base)
        self.generation += 1
        for key in rebuild.touched:
            lo, hi = base.span(key)
            self.dead[lo:hi] = True
        self.dead_count = int(self.dead.sum())
        self.append_rows(delta, delta_keys, delta_live, later)

    def append_rows(
        self, delta: U64, keys: I64, live: npt.NDArray[np.bool_], rows: dict[int, range]
    ) -> None:
        n = len(delta)
        self.delta = np.resize(delta, (max(n, 256), WORDS))
        self.delta_keys = np.resize(keys, max(n, 256))
        self.delta_live = np.zeros(max(n, 256), bool)
        self.delta_live[:n] = live
        self.delta_used = n
        self.delta_rows = rows

    def rebuild_now(self, extra_keys: I64, extra_vectors: U64) -> None:
        """Rebuild under the caller's lock from the live rows plus the given ones (load)."""
        vectors, keys = self.live_rows()
        vectors = np.concatenate([vectors, extra_vectors])
        keys = np.concatenate([keys, extra_keys])
        self._install(_Base.build(vectors, keys))
        self.generation += 1  # an unfinished background rebuild is now stale

    def query(self, queries: U64, radius: int) -> tuple[I64, I32]:
        """(keys, distances) of every live row within `radius` of any query (keys repeat)."""
        keys: list[I64] = []
        dists: list[I32] = []
        base = self.base
        delta, delta_live = self.delta[: self.delta_used], self.delta_live[: self.delta_used]
        found = base.table.candidates(queries, radius) if len(base.keys) else None
        if found is not None:  # the tables' candidates, checked on all 256 bits
            rows, asked = found
            d = distances(np.take(base.vectors, rows, axis=0), np.take(queries, asked, axis=0))
            hit = (d <= radius) & ~self.dead[rows]  # np.take: 20x faster than vectors[rows]
            keys.append(base.keys[rows[hit]])
            dists.append(d[hit])
        for q in queries:
            if found is None and len(base.keys):  # probing would read more than a scan
                rows, d = scan(base.vectors, q, radius)
                live = ~self.dead[rows]
                keys.append(base.keys[rows[live]])
                dists.append(d[live])
            if len(delta):
                rows, d = scan(delta, q, radius)
                live = delta_live[rows]
                keys.append(self.delta_keys[rows[live]])
                dists.append(d[live])
        if not keys:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        return np.concatenate(keys), np.concatenate(dists)


class WatchIndex:
    """In-memory exact Hamming-radius index over 256-bit vectors, by key and kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, _Kind] = {}
        self._count: int | None = 0  # number of keys; None after load() until len() counts

    def _kind(self, kind: str) -> _Kind:
        index = self._kinds.get(kind)
        if index is None:
            index = self._kinds[kind] = _Kind()
        return index

    def add(self, key: int, kind: str, vectors: Sequence[bytes]) -> None:
        """Store `vectors` as key's vectors of `kind`, replacing any it had of that kind.
        An empty `vectors` leaves the key with none of that kind."""
        _check_key(key)
        rows = _vectors(vectors)
        with self._lock:
            index = self._kind(kind)
            had = self._has(key)
            index.drop(key)
            index.append(key, rows)
            self._recount(had, key)
        self._rebuild_if_due([index])

    def remove(self, key: int) -> None:
        """Forget every vector of `key`, of every kind; an unknown key is a no-op."""
        _check_key(key)
        with self._lock:
            had = self._has(key)
            kinds = list(self._kinds.values())
            for index in kinds:
                index.drop(key)
            self._recount(had, key)
        self._rebuild_if_due(kinds)

    def _has(self, key: int) -> bool:
        return any(index.has(key) for index in self._kinds.values())

    def _recount(self, had: bool, key: int) -> None:
        """Keep the key count after a change of `key` (O(kinds x log rows), not O(rows))."""
        if self._count is not None:
            self._count += int(self._has(key)) - int(had)

    def _rebuild_if_due(self, kinds: list[_Kind]) -> None:
        """Rebuild each kind whose delta and tombstones outgrew their limit, in the calling
        thread but outside the lock: queries and other changes go on meanwhile."""
        for index in kinds:
            with self._lock:
                if not index.should_rebuild():
                    continue
                rebuild, vectors, keys = index.start_rebuild()
            base: _Base | None = None
            try:
                base = _Base.build(vectors, keys)
            finally:
                with self._lock:
                    index.finish_rebuild(rebuild, base)

    def query(
        self, kind: str, vectors: Sequence[bytes], radius: int, limit: int = 100
    ) -> list[tuple[int, int]]:
        """Every key with a stored vector of `kind` within `radius` (inclusive) of any of
        `vectors`, as (key, smallest distance), nearest first (then by key), at most `limit`."""
        queries = _vectors(vectors)
        if radius < 0 or limit <= 0 or not len(queries):
            return []
        radius = min(radius, BITS)  # no two vectors are further apart
        with self._lock:
            index = self._kinds.get(kind)
            if index is None:
                return []
            keys, dists = index.query(queries, radius)
        if not len(keys):
            return []
        order = np.lexsort((keys, dists))  # by distance, then key: first of a key is its best
        keys, dists = keys[order], dists[order]
        _, first = np.unique(keys, return_index=True)
        first.sort()
        first = first[:limit]
        return list(zip(keys[first].tolist(), dists[first].tolist(), strict=True))

    def __len__(self) -> int:
        """Number of keys with at least one stored vector (of any kind)."""
        with self._lock:
            if self._count is None:
                live = [index.live_keys() for index in self._kinds.values()]
                self._count = len(np.unique(np.concatenate(live))) if live else 0
            return self._count

    def load(self, rows: Iterable[tuple[int, str, bytes]]) -> None:
        """Bulk build (at start, from the database): one row per stored vector. The same as
        add(key, kind, [its vectors in `rows`, in order]) for every (key, kind) in `rows`,
        in one rebuild per kind instead of one insert per key."""
        keys: dict[str, list[int]] = defaultdict(list)
        data: dict[str, list[bytes]] = defaultdict(list)
        for key, kind, vector in rows:
            _check_key(key)
            if len(vector) != VECTOR_BYTES:
                raise ValueError(f"a watch index vector is {VECTOR_BYTES} bytes, not {len(vector)}")
            keys[kind].append(key)
            data[kind].append(vector)
        with self._lock:
            for kind, kind_keys in keys.items():
                index = self._kind(kind)
                new_keys = np.array(kind_keys, dtype=np.int64)
                index.drop_many(np.unique(new_keys))
                vectors = np.frombuffer(b"".join(data[kind]), np.uint64).reshape(-1, WORDS)
                index.rebuild_now(new_keys, vectors)
            self._count = None
