"""Perceptual fingerprints of designs and captures (issue 10), for the early-warning index.

Pure computation: bytes in, 256-bit vectors out; no store, no chain. A fingerprint is not
evidence of content (two different files can share one) and is never put in a leaf or a
certificate; it only tells the monitor which registered design a capture may copy.

Every vector is a PDQ hash (Meta's published algorithm, via the ``pdqhash`` package) of
one *channel* of one *view* of the image:

- channels (the ``kind``): ``pdq`` is PDQ as published (luminance); further kinds hash
  another channel through the same PDQ code (see CHANNELS for what each is and why);
- views: the whole image, and the image trimmed to its content (the bounding box of what
  differs from the border colour: a motif on a plain ground, or a garment on a backdrop);
  a capture also gets the print inside a garment (trimmed again against the garment's own
  colour), and the left-right mirror of every view.

A design stores its views; a capture queries with all of its views. The measured choice of
kinds, views and radii is in README ("Early warning: fingerprints") and in
bench/monitor_recall.py, which produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image

from notary.errors import InvalidFingerprintError
from notary.monitor import sketch as sketches
from notary.monitor import spectrum as spectra
from notary.monitor.fingerprint_decode import MAX_PIXELS, WORK_SIDE, ImageStatus, decode

__all__ = [
    "KINDS",
    "MAX_PIXELS",
    "MIN_QUALITY",
    "WORK_SIDE",
    "Fingerprint",
    "Fingerprinted",
    "ImageStatus",
    "fingerprint_capture",
    "fingerprint_design",
    "hamming",
    "match_radius",
    "parse_hex",
]

PDQ_SIDE = 64
"""PDQ reduces any image to 64 x 64 before its DCT; we hand it that directly (Pillow's
antialiased resize), which is what makes a fingerprint cost well under a millisecond."""

BITS_BYTES = 32

_RADII: dict[str, int] = {"pdq": 31, "pdq-max": 31, "pdq-edge": 31, spectra.KIND: 36}
"""Hamming radius (of 256 bits) within which a pair of the kind is a candidate match."""

KINDS: tuple[str, ...] = ("pdq", "pdq-max", "pdq-edge", spectra.KIND)
"""Kinds computed for designs and captures (each measured to add recall; see README).
The PDQ kinds hash each view; `spectrum` (notary.monitor.spectrum) hashes the whole image
only, and its matches count only once the sketch confirms them."""

PDQ_KINDS: tuple[str, ...] = ("pdq", "pdq-max", "pdq-edge")

MIN_QUALITY = 50
"""PDQ quality below which a vector is not matched: near-flat images hash to noise (Meta's
HMA uses the same cut-off); a design that is one flat colour has nothing to recognise."""


@dataclass(frozen=True)
class Fingerprint:
    """One 256-bit perceptual hash of one kind."""

    kind: str
    bits: bytes
    quality: int

    @property
    def hex(self) -> str:
        """The 64 hex digits a client sends for a hash-only deposit."""
        return self.bits.hex()


@dataclass(frozen=True)
class Fingerprinted:
    """The fingerprints of one input, or the status saying why there are none."""

    status: ImageStatus
    detail: str
    fingerprints: tuple[Fingerprint, ...]
    sketch: bytes | None = None
    """A design's sketch (notary.monitor.sketch), stored beside its fingerprints."""
    probe: sketches.Probe | None = None
    """A capture's probe, compared with the sketches of the designs it may copy."""


# --- channels --------------------------------------------------------------------------


def _max3(a: np.ndarray) -> np.ndarray:
    """Largest of the three channels (numpy's axis=2 reductions are slow on 3 elements)."""
    return np.asarray(np.maximum(np.maximum(a[:, :, 0], a[:, :, 1]), a[:, :, 2]))


def _luma(rgb: np.ndarray) -> np.ndarray:
    """PDQ's own input: it converts RGB to luminance itself."""
    return rgb


def _value(rgb: np.ndarray) -> np.ndarray:
    """max(R, G, B), HSV's value: unchanged by any hue rotation (in HSV or HSL a hue shift
    moves the middle channel only), so a recoloured copy keeps this channel."""
    return _max3(rgb)


def _edges(rgb: np.ndarray) -> np.ndarray:
    """Colour gradient magnitude (largest per-channel |dx| + |dy|): where regions of flat
    colour meet, whatever the colours are."""
    f = rgb.astype(np.int16)
    dx = np.abs(np.diff(f, axis=1, append=f[:, -1:, :]))
    dy = np.abs(np.diff(f, axis=0, append=f[-1:, :, :]))
    g = _max3(dx + dy)
    return np.asarray(np.clip(g, 0, 255).astype(np.uint8))


CHANNELS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = {
    "pdq": (_luma, PDQ_SIDE),
    "pdq-max": (_value, PDQ_SIDE),
    "pdq-edge": (_edges, 2 * PDQ_SIDE),
}
"""kind -> (channel function on an RGB array, side of the square it is computed at)."""


def _pdq(channel: np.ndarray) -> tuple[bytes, int]:
    """PDQ hash (as 32 bytes, PDQ's bit order) and quality of a 2-D or RGB array."""
    arr = channel if channel.ndim == 3 else np.repeat(channel[:, :, None], 3, axis=2)
    if arr.shape[0] == 2 * PDQ_SIDE:  # 2 x 2 means
        arr = np.asarray(Image.fromarray(np.ascontiguousarray(arr)).reduce(2))
    bits, quality = pdqhash.compute(np.ascontiguousarray(arr))
    return np.packbits(bits.astype(np.uint8)).tobytes(), int(quality)


# --- views -----------------------------------------------------------------------------

_CHROMA_DIFF = 0.03
"""Chromaticity distance (largest difference of r/(r+g+b) etc.) that counts as content."""

_SHADE = (0.65, 1.3)
"""Brightness ratios to the ground that still count as ground: fabric folds and a light's
fall-off multiply a garment's colour, they do not change its chromaticity."""

_DENSITY = 0.05
"""Share of a row or column that must be content for it to count (an outline or a speck
of noise does not move the bounding box)."""


def _content(arr: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """Mask of the pixels that differ from `ground` in chromaticity or, beyond shading,
    in brightness."""
    f = arr.astype(np.float32)
    g = ground.astype(np.float32)
    bright = f[:, :, 0] + f[:, :, 1] + f[:, :, 2] + 3.0
    gb = float(g.sum()) + 3.0
    chroma = _max3(np.abs(f / bright[:, :, None] - g / gb)) > _CHROMA_DIFF
    ratio = bright / gb
    return np.asarray(chroma | (ratio < _SHADE[0]) | (ratio > _SHADE[1]))


def _ground(arr: np.ndarray) -> np.ndarray:
    """The colour of the image's border (median of the outermost pixels)."""
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    return np.asarray(np.median(border, axis=0))


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of rows and columns with enough content."""
    h, w = mask.shape
    cols = np.flatnonzero(mask.sum(axis=0) >= max(2, _DENSITY * h))
    rows = np.flatnonzero(mask.sum(axis=1) >= max(2, _DENSITY * w))
    if cols.size == 0 or rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _trim(arr: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """`arr` cut to the bounding box of `mask`, or None when that is (nearly) all of it or
    too little to hash."""
    box = _bbox(mask)
    if box is None:
        return None
    left, top, right, bottom = box
    h, w = mask.shape
    if right - left < 0.15 * w or bottom - top < 0.15 * h:
        return None
    if left <= 0.03 * w and top <= 0.03 * h and right >= 0.97 * w and bottom >= 0.97 * h:
        return None
    return arr[top:bottom, left:right]


def _grow(mask: np.ndarray, r: int) -> np.ndarray:
    """`mask` dilated by a (2r+1)-pixel square."""
    rows = mask.copy()
    for d in range(1, r + 1):
        rows[d:] |= mask[:-d]
        rows[:-d] |= mask[d:]
    out = rows.copy()
    for d in range(1, r + 1):
        out[:, d:] |= rows[:, :-d]
        out[:, :-d] |= rows[:, d:]
    return out


def _print_of(garment: np.ndarray, backdrop: np.ndarray) -> np.ndarray | None:
    """The print on a garment (`garment` already cut to it): what differs from the garment's
    own (most common) colour, away from the garment's outline against the backdrop."""
    near = _grow(~_content(garment, backdrop), 4)
    mask = _content(garment, _dominant(garment)) & ~near
    inner = _trim(garment, mask)
    if inner is None:
        return None
    box = _bbox(mask)  # again inside the print: densities relative to it, as a design's
    assert box is not None
    sub = mask[box[1] : box[3], box[0] : box[2]]
    again = _trim(inner, sub)
    return inner if again is None else again


def _dominant(arr: np.ndarray) -> np.ndarray:
    """The most common colour (quantised to 32 levels a channel) of `arr`."""
    q = (arr // 8).reshape(-1, 3).astype(np.int32)
    codes = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    top = np.bincount(codes).argmax()
    mask = codes == top
    return np.asarray(arr.reshape(-1, 3)[mask].mean(axis=0))


def _views(arr: np.ndarray, capture: bool) -> list[np.ndarray]:
    """The whole image and its content crops (see the module docstring)."""
    views = [arr]
    ground = _ground(arr)
    trimmed = _trim(arr, _content(arr, ground))
    if trimmed is not None:
        views.append(trimmed)
        if capture:  # a garment on a backdrop: the print inside it
            inner = _print_of(trimmed, ground)
            if inner is not None:
                views.append(inner)
    return views


def _fingerprints(
    arr: np.ndarray, kinds: Sequence[str], capture: bool, mirror: bool
) -> tuple[Fingerprint, ...]:
    """Every (kind, view[, mirror]) vector of `arr`, duplicates dropped."""
    out: list[Fingerprint] = []
    seen: set[tuple[str, bytes]] = set()

    def keep(kind: str, bits: bytes, quality: int) -> None:
        if (kind, bits) not in seen:
            seen.add((kind, bits))
            out.append(Fingerprint(kind, bits, quality))

    for number, view in enumerate(_views(arr, capture)):
        squares: dict[int, np.ndarray] = {}  # one resize a side, shared by the kinds
        qualities: list[int] = []
        for kind in kinds:
            if kind not in CHANNELS:
                continue
            func, side = CHANNELS[kind]
            if side not in squares:
                small = Image.fromarray(view).resize((side, side), Image.Resampling.BOX)
                squares[side] = np.asarray(small)
            channel = func(squares[side])
            variants = [channel, channel[:, ::-1]] if mirror else [channel]
            for variant in variants:
                bits, quality = _pdq(variant)
                qualities.append(quality)
                keep(kind, bits, quality)
        if number == 0 and spectra.KIND in kinds:  # the whole image: crops of it
            # a flat image has no spectrum worth matching: the view's PDQ quality says so
            quality = max(qualities) if qualities else _pdq(_value(squares_of(view)))[1]
            for bits in spectra.spectra(view, mirror):
                keep(spectra.KIND, bits, quality)
    return tuple(out)


def squares_of(view: np.ndarray) -> np.ndarray:
    """`view` at PDQ's side (for the quality of a spectrum computed without PDQ kinds)."""
    return np.asarray(Image.fromarray(view).resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BOX))


def _compute(data: bytes, kinds: Sequence[str], capture: bool) -> Fingerprinted:
    decoded = decode(data)
    if decoded.image is None:
        return Fingerprinted(decoded.status, decoded.detail, ())
    arr = np.asarray(decoded.image)
    found = _fingerprints(arr, kinds, capture, capture)
    if capture:
        return Fingerprinted(ImageStatus.OK, "", found, probe=sketches.capture_probe(arr))
    return Fingerprinted(ImageStatus.OK, "", found, sketch=sketches.design_sketch(arr))


def fingerprint_design(data: bytes, kinds: Sequence[str] = KINDS) -> Fingerprinted:
    """What is stored for a watched design: each kind of the whole image and of its content
    crop. Never raises: an input that cannot be fingerprinted gets a status."""
    return _compute(data, kinds, capture=False)


def fingerprint_capture(data: bytes, kinds: Sequence[str] = KINDS) -> Fingerprinted:
    """What is queried for a suspect capture: the design's views plus the print inside a
    garment, each also mirrored (a mirrored copy then matches the stored design)."""
    return _compute(data, kinds, capture=True)


def match_radius(kind: str) -> int:
    """Hamming radius (bits of 256) within which two fingerprints of `kind` match."""
    try:
        return _RADII[kind]
    except KeyError:
        raise InvalidFingerprintError(f"unknown fingerprint kind {kind!r}") from None


def hamming(a: bytes, b: bytes) -> int:
    """Number of differing bits between two equally long vectors."""
    if len(a) != len(b):
        raise ValueError("vectors of different lengths")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


_HEX = frozenset("0123456789abcdefABCDEF")


def parse_hex(kind: str, text: str) -> Fingerprint:
    """A client-computed fingerprint (hash-only deposits send ``{"kind", "hex"}``).

    The quality is unknown to the server; the client computed it with the same code and
    sends only vectors of at least MIN_QUALITY, so it is recorded as MIN_QUALITY.
    Raises InvalidFingerprintError for an unknown kind or anything but 64 hex digits.
    """
    if kind not in KINDS:
        raise InvalidFingerprintError(
            f"unknown fingerprint kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
    if not isinstance(text, str) or len(text) != 2 * BITS_BYTES or not set(text) <= _HEX:
        raise InvalidFingerprintError(
            f"a {kind} fingerprint is {2 * BITS_BYTES} hex digits (256 bits)"
        )
    return Fingerprint(kind, bytes.fromhex(text), MIN_QUALITY)
