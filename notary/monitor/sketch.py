"""The second look: a small edge image of each design, compared with a capture's pixels.

The watch index finds *candidates* by 256-bit vectors. Two things need more than a vector:

- false matches: at radius 31 the PDQ kinds put 14 % of copies within reach of at least
  one of 10,000 unrelated designs (a stripe is a stripe); the `spectrum` kind, which finds
  cropped copies, is looser still;
- crops: a vector cannot say *which part* of the design the capture shows.

So each design also stores a *sketch*: its colour-edge image (the `pdq-edge` channel, which
a hue shift keeps) at SIDE x SIDE, 2,304 bytes. A capture brings a *probe*: its own edge
image at the sizes a crop of at most 10 % a side gives (SCALES of SIDE, each axis), as is
and mirrored. `similarity` slides every probe over the sketch and returns the best
normalised cross-correlation (1 = the same edges up to brightness and contrast).

Measured over every pair (36 designs x 150 unrelated, seed 2): a resized, re-compressed,
mirrored or recoloured copy scored >= 0.7 against its design every time, a crop of up to 10 %
in 94 % of cases; an unrelated design scored >= 0.7 once in 850 pairs (>= 0.75 once in
2,500), a sibling of the same studio once in 200. The look is only taken for the index's
candidates, which keeps false matches rare (README, "Early warning: fingerprints"). A photo
of a printed garment mostly stays below it (perspective and fabric). ORB keypoints with
RANSAC were tried instead and dropped: unrelated stripes and repeated motifs agree
geometrically too.

Pure computation (numpy, OpenCV's matchTemplate); the store keeps sketches in
`design_sketches`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
from PIL import Image

SIDE: Final = 48
"""Side of a design's sketch, in pixels."""
SKETCH_BYTES: Final = SIDE * SIDE
SCALES: Final = (0.90, 0.93, 0.96, 1.0)
"""Share of the design, per axis, a capture may show: a crop keeps 90 to 98 %."""
THRESHOLD: Final = 0.7
"""Similarity at which a candidate is confirmed (chosen on bench seed 1, see README)."""


def edges(rgb: np.ndarray) -> np.ndarray:
    """Colour gradient magnitude (largest per-channel |dx| + |dy|), as uint8."""
    f = rgb.astype(np.int16)
    dx = np.abs(np.diff(f, axis=1, append=f[:, -1:, :]))
    dy = np.abs(np.diff(f, axis=0, append=f[-1:, :, :]))
    g = dx + dy
    g = np.maximum(np.maximum(g[:, :, 0], g[:, :, 1]), g[:, :, 2])
    return np.asarray(np.clip(g, 0, 255).astype(np.uint8))


def _resized(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BOX))


def design_sketch(rgb: np.ndarray) -> bytes:
    """The stored sketch of a design's whole image (RGB array, any size)."""
    return edges(_resized(rgb, SIDE, SIDE)).tobytes()


@dataclass(frozen=True)
class Probe:
    """A capture's edge images at every crop size, as is and mirrored: (width, height,
    uint8 bytes) each."""

    templates: tuple[tuple[int, int, bytes], ...]


def capture_probe(rgb: np.ndarray) -> Probe:
    """The probe of a capture's whole image (shrunk once to twice the sketch's side, then
    to each size: 16 resizes of the working copy took a third of a capture's CPU)."""
    sizes = sorted({round(SIDE * s) for s in SCALES})
    small = _resized(rgb, 2 * SIDE, 2 * SIDE) if max(rgb.shape[:2]) > 2 * SIDE else rgb
    out: list[tuple[int, int, bytes]] = []
    for width in sizes:
        for height in sizes:
            e = edges(_resized(small, width, height))
            out.append((width, height, e.tobytes()))
            out.append((width, height, np.ascontiguousarray(e[:, ::-1]).tobytes()))
    return Probe(tuple(out))


def _templates(probe: Probe) -> list[np.ndarray]:
    """The probe's templates as arrays, flat ones (nothing to correlate) left out; the
    full-size ones first, so an uncropped copy is confirmed by the first ones tried."""
    out = []
    for width, height, data in sorted(probe.templates, key=lambda t: -(t[0] * t[1])):
        template = np.frombuffer(data, np.uint8).reshape(height, width)
        if int(template.max()) - int(template.min()) > 2:
            out.append(template)
    return out


def similarities(probe: Probe, sketches: Sequence[bytes | None]) -> list[float]:
    """For each sketch, the best normalised cross-correlation of any probe template placed
    anywhere on it, stopping at THRESHOLD (what the decision needs); 0.0 for a missing
    sketch, one of the wrong size or a flat one (nothing to compare)."""
    templates = _templates(probe)
    out = []
    for sketch in sketches:
        best = 0.0
        if sketch is not None and len(sketch) == SKETCH_BYTES:
            image = np.frombuffer(sketch, np.uint8).reshape(SIDE, SIDE)
            if int(image.max()) - int(image.min()) > 2:
                for template in templates:
                    result = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
                    best = max(best, float(np.nan_to_num(result, nan=0.0).max()))
                    if best >= THRESHOLD:
                        break
        out.append(best)
    return out


def similarity(probe: Probe, sketch: bytes) -> float:
    """`similarities` of one sketch."""
    return similarities(probe, [sketch])[0]
