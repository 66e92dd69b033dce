"""Recall and false-positive rate of the early-warning fingerprints (issue 10, item 4).

For N original designs (bench/monitor_evalset.py, all studios in turn) every transformation
of the issue is applied (resized, JPEG q50, cropped <= 10 %, mirrored, hue shift, printed
garment photo) and the copy is fingerprinted as a capture. A copy is *recalled* when it
matches its original. False positives are counted against U unrelated designs (other
seeds, every studio): FPR = matching (copy, unrelated design) pairs / all such pairs. The
sibling rate is the share of copies that match a *different design of the same studio*
(same family and palette, other parameters), which the issue says must not match.

Two fingerprint sets are measured in the same run, on the same images:
  - PDQ alone: PDQ of the whole image, one vector a side, radius 31 (what a plain
    Hasher-Matcher-Actioner bank does);
  - the final set: notary.monitor.fingerprint's kinds, views and radii;
and each kind of the final set alone, with and without its extra views, to show what each
adds. Then the CPU cost per image of fingerprint_design and fingerprint_capture.

    python bench/monitor_recall.py [--designs 300] [--unrelated 10000] [--seed 2] [--jobs 2]
                                   [--low-quality 20]

The radii and kinds were chosen on --seed 1; the figures quoted in README are from --seed 2
(a set the choice never saw).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from monitor_evalset import TRANSFORMS, design, encoded, studio_of, transformed

from notary.monitor import fingerprint as fp
from notary.monitor import sketch as sk
from notary.monitor.fingerprint_decode import decode
from notary.monitor.watcher import CERTAIN_DISTANCE, SPECTRUM_CANDIDATES

ALL_KINDS = fp.KINDS
PLAIN = "plain-pdq"
"""PDQ of the whole decoded image, one vector (the baseline)."""


@dataclass
class Vectors:
    """Per kind: packed vectors (n, 4) uint64, their owner index, their quality."""

    by_kind: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def _plain(data: bytes) -> list[tuple[str, bytes, int]]:
    decoded = decode(data)
    if decoded.image is None:
        return []
    bits, quality = pdqhash.compute(np.asarray(decoded.image))
    return [(PLAIN, np.packbits(bits.astype(np.uint8)).tobytes(), int(quality))]


Prints = tuple[list[tuple[str, bytes, int]], object]
"""(vectors of every kind plus the plain baseline, the design's sketch or capture's probe)"""


def _prints(data: bytes, capture: bool) -> Prints:
    """All candidate vectors of one input (every kind), plus the plain baseline."""
    func = fp.fingerprint_capture if capture else fp.fingerprint_design
    got = func(data, ALL_KINDS)
    out = [(f.kind, f.bits, f.quality) for f in got.fingerprints]
    return out + _plain(data), (got.probe if capture else got.sketch)


def _design_job(args: tuple[int, int]) -> Prints:
    index, seed = args
    return _prints(encoded(design(studio_of(index), seed)), capture=False)


def _copy_job(args: tuple[int, int, str]) -> Prints:
    index, seed, name = args
    return _prints(transformed(design(studio_of(index), seed), name, seed), capture=True)


def _similarities(args: tuple[sk.Probe | None, list[bytes | None]]) -> list[float]:
    probe, sketches = args
    if probe is None:
        return [0.0] * len(sketches)
    return sk.similarities(probe, sketches)  # type: ignore[arg-type]


def _pack(rows: Sequence[Prints]) -> Vectors:
    by_kind: dict[str, tuple[list[bytes], list[int], list[int]]] = {}
    for owner, (prints, _) in enumerate(rows):
        for kind, bits, quality in prints:
            vs, os_, qs = by_kind.setdefault(kind, ([], [], []))
            vs.append(bits)
            os_.append(owner)
            qs.append(quality)
    packed = {}
    for kind, (vs, os_, qs) in by_kind.items():
        arr = np.frombuffer(b"".join(vs), dtype=np.uint64).reshape(-1, 4)
        packed[kind] = (arr, np.asarray(os_), np.asarray(qs))
    return Vectors(packed)


def min_distances(queries: Vectors, designs: Vectors, n_q: int, n_d: int, kind: str,
                  min_quality: int) -> np.ndarray:  # fmt: skip
    """(n_q, n_d) smallest Hamming distance between a query's and a design's vectors of
    `kind` (both of at least `min_quality`); 257 where either has none."""
    out = np.full((n_q, n_d), 257, dtype=np.int16)
    if kind not in queries.by_kind or kind not in designs.by_kind:
        return out
    qv, qo, qq = queries.by_kind[kind]
    dv, do, dq = designs.by_kind[kind]
    qv, qo = qv[qq >= min_quality], qo[qq >= min_quality]
    keep = dq >= min_quality
    dv, do = dv[keep], do[keep]
    if len(dv) == 0:
        return out
    order = np.argsort(do, kind="stable")
    dv, do = dv[order], do[order]
    starts = np.flatnonzero(np.r_[True, do[1:] != do[:-1]])
    owners = do[starts]
    for start in range(0, len(qv), 64):
        block = qv[start : start + 64]
        dist = np.bitwise_count(block[:, None, :] ^ dv[None, :, :]).sum(axis=2, dtype=np.int16)
        per_design = np.minimum.reduceat(dist, starts, axis=1)
        for row, owner in zip(per_design, qo[start : start + 64], strict=True):
            out[owner, owners] = np.minimum(out[owner, owners], row)
    return out


def _parallel(func, jobs: Iterable, workers: int) -> list:  # type: ignore[no-untyped-def,type-arg]
    items = list(jobs)
    if workers <= 1:
        return [func(j) for j in items]
    with ProcessPoolExecutor(workers) as pool:
        chunk = max(1, min(16, len(items) // (4 * workers)))
        return list(pool.map(func, items, chunksize=chunk))


def _timing(seed: int) -> dict[str, float]:
    """CPU milliseconds per image, one thread: design PNG 512 px and 2,000 px, capture
    JPEG 1,000 x 1,000 (a listing photo) and a garment photo."""
    img = design(studio_of(3), seed)
    big = img.resize((2000, 2000))
    png_512, png_2000 = encoded(img), encoded(big)
    buf = io.BytesIO()
    img.resize((1000, 1000)).save(buf, "JPEG", quality=85)
    jpeg_1000 = buf.getvalue()
    photo = transformed(img, "garment_photo", seed)
    out = {}
    for name, data, func in [
        ("design PNG 512x512", png_512, fp.fingerprint_design),
        ("design PNG 2000x2000", png_2000, fp.fingerprint_design),
        ("capture JPEG 1000x1000", jpeg_1000, fp.fingerprint_capture),
        ("capture garment photo JPEG ~1000x1100", photo, fp.fingerprint_capture),
    ]:
        func(data)
        n = 5 if "2000" in name else 40
        t = time.process_time()
        for _ in range(n):
            func(data)
        out[name] = (time.process_time() - t) / n * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", type=int, default=300, help="original designs")
    parser.add_argument("--unrelated", type=int, default=10_000, help="unrelated designs")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--low-quality",
        type=int,
        default=20,
        help="a second, lower quality cut-off measured beside MIN_QUALITY",
    )
    args = parser.parse_args()
    base = args.seed * 10_000_019
    names = list(TRANSFORMS)
    n, u = args.designs, args.unrelated
    t0 = time.perf_counter()
    originals = _parallel(_design_job, [(i, base + i) for i in range(n)], args.jobs)
    siblings = _parallel(_design_job, [(i, base + i + 500_000) for i in range(n)], args.jobs)
    copies = _parallel(_copy_job, [(i, base + i, t) for i in range(n) for t in names], args.jobs)
    unrelated = _parallel(_design_job, [(i, base + 1_000_000 + i) for i in range(u)], args.jobs)
    print(f"fingerprinted {n} designs, {n} siblings, {len(copies)} copies, {u} unrelated "
          f"designs in {time.perf_counter() - t0:.0f} s")  # fmt: skip
    q, o, s, x = _pack(copies), _pack(originals), _pack(siblings), _pack(unrelated)
    nq = len(copies)
    kinds = (*ALL_KINDS, PLAIN)
    owner = np.arange(nq) // len(names)
    transform = np.arange(nq) % len(names)

    d_orig: dict[str, np.ndarray] = {}
    d_sib: dict[str, np.ndarray] = {}
    d_unrel: dict[str, np.ndarray] = {}

    def evaluate(label: str, radii: dict[str, int]) -> None:
        hit = np.zeros(nq, dtype=bool)
        sib = np.zeros(nq, dtype=bool)
        fp_pairs = np.zeros((nq, u), dtype=bool)
        for kind, r in radii.items():
            hit |= d_orig[kind][np.arange(nq), owner] <= r
            sib |= d_sib[kind][np.arange(nq), owner] <= r
            fp_pairs |= d_unrel[kind] <= r
        report(label, hit, sib, fp_pairs)

    def report(label: str, hit: np.ndarray, sib: np.ndarray, fp_pairs: np.ndarray) -> None:
        per = [hit[transform == i].mean() for i in range(len(names))]
        cells = " ".join(f"{v:6.3f}" for v in per)
        fpr = fp_pairs.sum() / fp_pairs.size
        print(f"{label:34s} {cells} {hit.mean():7.3f} {fpr * 100:8.4f}% "
              f"{fp_pairs.any(axis=1).mean() * 100:6.2f}% {sib.mean() * 100:6.2f}%")  # fmt: skip

    def header(min_quality: int) -> None:
        print(f"\nrecall by transformation (n={n} each); FPR over {nq} copies x {u} unrelated "
              f"designs; min quality {min_quality}")  # fmt: skip
        print(f"{'set (kind: radius)':34s} " + " ".join(f"{t[:6]:>6s}" for t in names)
              + "  overall      FPR  q w/FP sibling")  # fmt: skip

    def second_look() -> None:
        """The service's rule (notary.monitor.watcher): PDQ kinds within their radius and
        the SPECTRUM_CANDIDATES nearest spectrum vectors within its radius are candidates;
        a candidate within CERTAIN_DISTANCE of a PDQ kind is a match, any other one only
        if its sketch is similar enough to the copy's probe."""
        pdq_kinds = [k for k in fp.KINDS if k in fp.PDQ_KINDS]
        spec = [k for k in fp.KINDS if k not in fp.PDQ_KINDS]
        # columns: 0 = own original, 1 = own sibling, 2.. = unrelated designs
        pdq_d = np.minimum.reduce([np.concatenate(
            [d_orig[k][np.arange(nq), owner][:, None], d_sib[k][np.arange(nq), owner][:, None],
             d_unrel[k]], axis=1) for k in pdq_kinds])  # fmt: skip
        cand = pdq_d <= 31
        for k in spec:
            d = np.concatenate(
                [
                    d_orig[k][np.arange(nq), owner][:, None],
                    d_sib[k][np.arange(nq), owner][:, None],
                    d_unrel[k],
                ],
                axis=1,
            )
            within = d <= fp.match_radius(k)
            rank = np.argsort(d, axis=1, kind="stable")[:, :SPECTRUM_CANDIDATES]
            near = np.zeros_like(within)
            np.put_along_axis(near, rank, True, axis=1)
            cand |= within & near
        rows, cols = np.nonzero(cand)
        sketch_of = ([o[1] for o in originals], [s[1] for s in siblings],
                     [x[1] for x in unrelated])  # fmt: skip

        def sketch(row: int, col: int) -> bytes | None:
            if col == 0:
                return sketch_of[0][owner[row]]  # type: ignore[return-value]
            if col == 1:
                return sketch_of[1][owner[row]]  # type: ignore[return-value]
            return sketch_of[2][col - 2]  # type: ignore[return-value]

        jobs = []
        for row in range(nq):
            mine = cols[rows == row]
            jobs.append((copies[row][1], [sketch(row, int(c)) for c in mine]))
        t = time.perf_counter()
        sims_lists = _parallel(_similarities, jobs, args.jobs)
        took = time.perf_counter() - t
        sim = np.zeros(cand.shape, dtype=np.float32)
        for row, values in enumerate(sims_lists):
            sim[row, cols[rows == row]] = values
        print(f"\nsecond look: {len(rows)} candidates checked ({len(rows) / nq:.1f} a copy, "
              f"{took / max(1, len(rows)) * 1000 * args.jobs:.1f} ms CPU each)")  # fmt: skip
        header(fp.MIN_QUALITY)
        report("candidates (before the sketch)", cand[:, 0], cand[:, 1], cand[:, 2:])
        for certain in sorted({0, 16, CERTAIN_DISTANCE}):
            for tau in sorted({0.7, 0.75, sk.THRESHOLD}):
                ok = cand & ((pdq_d <= certain) | (sim >= tau))
                mark = "FINAL " if (certain, tau) == (CERTAIN_DISTANCE, sk.THRESHOLD) else ""
                report(f"{mark}sure <= {certain}, sketch >= {tau}", ok[:, 0], ok[:, 1],
                       ok[:, 2:])  # fmt: skip

    for min_quality in (fp.MIN_QUALITY, args.low_quality):
        for k in kinds:
            d_orig[k] = min_distances(q, o, nq, n, k, min_quality)
            d_sib[k] = min_distances(q, s, nq, n, k, min_quality)
            d_unrel[k] = min_distances(q, x, nq, u, k, min_quality)
        header(min_quality)
        evaluate("PDQ alone (whole image, r 31)", {PLAIN: 31})
        for kind in ALL_KINDS:
            evaluate(f"{kind} views+mirror (r {fp.match_radius(kind)})",
                     {kind: fp.match_radius(kind)})  # fmt: skip
        before = {k: fp.match_radius(k) for k in fp.PDQ_KINDS}
        evaluate("vectors alone (PDQ kinds, r 31)", before)
        if min_quality == fp.MIN_QUALITY:
            second_look()
        for r in (24, 28, 31, 36, 40):
            evaluate(f"PDQ kinds, all at r {r}", {k: r for k in fp.PDQ_KINDS})

    for min_quality in (fp.MIN_QUALITY, args.low_quality):
        flat = sum(1 for p, _ in originals if not any(qq >= min_quality for *_, qq in p))
        print(f"originals with no vector of quality >= {min_quality}: {flat} of {n}")
    print("q w/FP: share of copies matching at least one unrelated design")
    print("\nCPU ms per image (one thread):")
    for name, ms in _timing(base).items():
        print(f"  {name:40s} {ms:6.2f} ms")


if __name__ == "__main__":
    main()
