"""A frozen multi-index hash table over 256-bit vectors: exact Hamming-radius candidates.

Multi-index hashing (Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with
Multi-Index Hashing", CVPR 2012). Each vector is cut into m chunks (16 chunks of 16 bits for
small sets, down to 13 chunks of 19-20 bits for millions of rows: `chunk_count`), and for
every chunk position a table maps each chunk value to the rows holding it (a counting sort:
`perm` lists row numbers grouped by chunk value, `offsets` says where each value's group
starts).

Why nothing within the radius can be missed (the pigeonhole argument, refined): write the
radius as r = s * m + a with 0 <= a < m. If a stored vector v is within r of the query q,
then among the first a + 1 chunks one differs from q's in at most s bits, or among the other
m - a - 1 chunks one differs in at most s - 1 bits. Otherwise the chunk distances, which add
up to the whole distance, would add up to at least (a + 1)(s + 1) + (m - a - 1) s = r + 1.
So probing, for chunk positions 0..a, every chunk value within s of q's, and for the others
every value within s - 1, reaches every row within r. Every candidate is then checked with the
full 256-bit distance, so the answer is exact: no miss, no false match.

When the probes would reach more rows than a plain scan reads (large radii), `candidates`
returns None and the caller scans (`scan`): same answer, fewer wasted reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

VECTOR_BYTES = 32
"""256-bit vectors (PDQ and its siblings), the only size the index holds."""

BITS = VECTOR_BYTES * 8
WORDS = VECTOR_BYTES // 8
SCAN_BLOCK = 1 << 16
"""Rows per block of a plain scan: bounds the scan's temporary memory to a few MiB."""

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]


def chunk_count(rows: int) -> int:
    """How many chunks for `rows` rows: chunks of about log2(rows) - 1 bits, so that each
    table slot holds about two rows (Norouzi et al. take log2(rows); one bit less halves the
    probes for a few more candidates, which measured faster), between 12 and 16 chunks."""
    if rows < 3:  # log2(2) - 1 == 0: two rows divided by zero
        return 16
    return int(min(16, max(12, round(BITS / (math.log2(rows) - 1)))))


def widths(chunks: int) -> tuple[int, ...]:
    """Bits per chunk, as even as possible (the first 256 % chunks are one bit wider)."""
    base, extra = divmod(BITS, chunks)
    return tuple(base + 1 if c < extra else base for c in range(chunks))


@lru_cache(maxsize=4)
def _masks_by_weight(width: int) -> tuple[npt.NDArray[np.uint32], I64]:
    """All `width`-bit masks ordered by popcount, and how many have popcount <= s (index s)."""
    values = np.arange(1 << width, dtype=np.int64)
    weight = np.bitwise_count(values)
    order = np.argsort(weight, kind="stable")
    upto = np.searchsorted(weight[order], np.arange(width + 1), side="right")
    return values[order].astype(np.uint32), upto.astype(np.int64)


def _bits_per_chunk(radius: int, layout: tuple[int, ...]) -> list[int]:
    """How far from the query's value each chunk is probed (-1: not at all; module doc)."""
    s, a = divmod(radius, len(layout))
    return [min(s if chunk <= a else s - 1, width) for chunk, width in enumerate(layout)]


def probe_count(radius: int, layout: tuple[int, ...]) -> int:
    """len(probes(radius, layout)), without building them."""
    return sum(
        math.comb(width, k)
        for bits, width in zip(_bits_per_chunk(radius, layout), layout, strict=True)
        for k in range(bits + 1)
    )


@lru_cache(maxsize=64)
def probes(radius: int, layout: tuple[int, ...]) -> tuple[I64, I64]:
    """(chunk position, xor mask) of every table slot to probe for `radius` (see module doc)."""
    chunk_parts: list[I64] = []
    mask_parts: list[I64] = []
    for chunk, (bits, width) in enumerate(
        zip(_bits_per_chunk(radius, layout), layout, strict=True)
    ):
        if bits < 0:
            continue
        masks, upto = _masks_by_weight(width)
        count = int(upto[bits])
        chunk_parts.append(np.full(count, chunk, dtype=np.int64))
        mask_parts.append(masks[:count].astype(np.int64))
    if not chunk_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(chunk_parts), np.concatenate(mask_parts)


def chunk_values(vectors: U64, layout: tuple[int, ...]) -> list[I64]:
    """Each chunk's value for every row: chunk c is bits [lo, lo + width) where bit i is bit
    i % 64 of word i // 64 (any fixed partition of the 256 bits works: distance is a sum)."""
    columns: list[I64] = []
    lo = 0
    for width in layout:
        word, offset = divmod(lo, 64)
        value = vectors[:, word] >> np.uint64(offset)
        if offset + width > 64:
            value |= vectors[:, word + 1] << np.uint64(64 - offset)
        columns.append((value & np.uint64((1 << width) - 1)).astype(np.int64))
        lo += width
    return columns


def distances(stored: U64, query: U64) -> I32:
    """Hamming distance of each stored row (n, 4 words) to one query vector (4 words), or
    to the query row beside it (n, 4 words).

    Adds the four columns by hand: numpy's sum over a 4-wide axis is ~2.5x slower."""
    bits = np.bitwise_count(stored ^ query)
    total: I32 = bits[:, 0].astype(np.int32) + bits[:, 1] + bits[:, 2] + bits[:, 3]
    return total


def scan(vectors: U64, query: U64, radius: int) -> tuple[I64, I32]:
    """(rows, distances) of every row of `vectors` within `radius` of `query`, in blocks."""
    rows: list[I64] = []
    dists: list[I32] = []
    for start in range(0, len(vectors), SCAN_BLOCK):
        d = distances(vectors[start : start + SCAN_BLOCK], query)
        hit = np.flatnonzero(d <= radius)
        if hit.size:
            rows.append(hit + start)
            dists.append(d[hit])
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int32)
    return np.concatenate(rows), np.concatenate(dists)


@dataclass(frozen=True)
class Table:
    """The chunk tables of a fixed set of rows (rows are numbered 0..n-1)."""

    rows: int
    layout: tuple[int, ...]  # bits per chunk
    perm: npt.NDArray[np.uint32]  # chunk c's rows ordered by chunk value, at c * rows...
    offsets: npt.NDArray[np.uint32]  # per chunk 2**width + 1 starts (within c's perm part)
    table_start: I64  # where chunk c's offsets begin in `offsets`

    @classmethod
    def build(cls, vectors: U64, chunks: int | None = None) -> Table:
        """Counting-sort every chunk position of `vectors` (n, 4 words)."""
        n = len(vectors)
        layout = widths(chunk_count(n) if chunks is None else chunks)
        sizes = np.array([(1 << w) + 1 for w in layout], dtype=np.int64)
        table_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        perm = np.empty(len(layout) * n, dtype=np.uint32)
        offsets = np.empty(int(sizes.sum()), dtype=np.uint32)
        for c, column in enumerate(chunk_values(vectors, layout)):
            perm[c * n : (c + 1) * n] = np.argsort(column)
            table = offsets[table_start[c] : table_start[c] + sizes[c]]
            table[0] = 0
            np.cumsum(np.bincount(column, minlength=1 << layout[c]), out=table[1:])
        return cls(n, layout, perm, offsets, table_start)

    @property
    def nbytes(self) -> int:
        return int(self.perm.nbytes + self.offsets.nbytes)

    def candidates(
        self, queries: U64, radius: int, *, always: bool = False
    ) -> tuple[I64, I64] | None:
        """(rows, query numbers): every row that may lie within `radius` of query i (a
        superset, with repeats), paired with i; or None when probing would cost more than
        scanning all rows (unless `always`: tests). All queries (n, 4 words) in one pass."""
        if probe_count(radius, self.layout) > self.rows and not always:
            return None
        chunk, mask = probes(radius, self.layout)
        if chunk.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        values = np.stack(chunk_values(queries, self.layout), axis=1)  # (queries, chunks)
        slot = (self.table_start[chunk] + (values[:, chunk] ^ mask)).ravel()
        starts = np.take(self.offsets, slot).astype(np.int64)
        lengths = np.take(self.offsets, slot + 1).astype(np.int64) - starts
        total = int(lengths.sum())
        if total > self.rows * len(queries) // 2 and not always:
            return None
        keep = lengths > 0
        probe_query = np.repeat(np.arange(len(queries), dtype=np.int64), chunk.size)[keep]
        starts = starts[keep] + np.tile(chunk, len(queries))[keep] * self.rows
        lengths = lengths[keep]
        ends = np.cumsum(lengths)
        positions = np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)
        rows: I64 = np.take(self.perm, positions).astype(np.int64)
        return rows, np.repeat(probe_query, lengths)
