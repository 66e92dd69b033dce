"""The `spectrum` fingerprint kind: where a design's pattern has its energy, not where it is.

PDQ hashes the arrangement of an image; cutting 2 % off one side moves it 10 to 30 bits,
10 % moves it 80 to 220, and PDQ of shifted sub-windows does not fix that (36 windows a
capture found 50 % of 10 % crops in bench/monitor_recall.py's set). A repeating print,
stripes or checks, the bulk of garment artwork, cropped is the same pattern shifted: the
*magnitude* of its Fourier spectrum barely moves (a shift changes only the phase), and a
crop of at most 10 % rescales the frequencies by at most 11 %.

The vector: the image's max(R, G, B) channel (hue shifts leave it, as for `pdq-max`) at
128 x 128, Hann-windowed (the image's edges would otherwise add a cross to every spectrum),
its spectrum's magnitude averaged over 16 log-spaced rings x 16 orientations (a ring is
wider than the rescaling of a 10 % crop), one bit per cell: above or below the median of its
ring. 256 bits, stored and searched like the PDQ kinds.

It is weaker than PDQ at telling designs apart (two unrelated designs are 20 bits apart
once in 1,000 pairs): a spectrum match is therefore only a *candidate*, and counts only once
notary.monitor.sketch confirms it on the pixels.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from PIL import Image

KIND: Final = "spectrum"
SIDE: Final = 128
"""Side the channel is resampled to before the transform (frequency resolution)."""
RINGS: Final = 16
SECTORS: Final = 16


def _cells() -> np.ndarray:
    """Cell number (ring * SECTORS + sector) of every FFT bin; RINGS * SECTORS = unused."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    fy = np.where(yy < SIDE // 2, yy, yy - SIDE)
    fx = np.where(xx < SIDE // 2, xx, xx - SIDE)
    radius = np.hypot(fx, fy)
    angle = np.mod(np.arctan2(fy, fx), np.pi)
    edges = np.logspace(np.log10(1.5), np.log10(48), RINGS + 1)
    ring = np.digitize(radius, edges) - 1
    sector = np.minimum((angle / np.pi * SECTORS).astype(np.int64), SECTORS - 1)
    valid = (ring >= 0) & (ring < RINGS)
    return np.where(valid, ring * SECTORS + sector, RINGS * SECTORS).ravel()


_CELL = _cells()
_COUNT = np.maximum(np.bincount(_CELL, minlength=RINGS * SECTORS + 1)[:-1], 1)
_HANN = np.outer(np.hanning(SIDE), np.hanning(SIDE)).astype(np.float32)


def _bits(magnitude: np.ndarray) -> bytes:
    sums = np.bincount(_CELL, weights=magnitude.ravel(), minlength=RINGS * SECTORS + 1)[:-1]
    cells = np.log1p(sums / _COUNT).reshape(RINGS, SECTORS)
    bits = cells > np.median(cells, axis=1, keepdims=True)
    return np.packbits(bits.ravel()).tobytes()


_MIRROR = np.r_[0, SIDE - 1 : 0 : -1]
"""Column order of a left-right mirror's spectrum: frequency fx becomes -fx."""


def spectra(rgb: np.ndarray, mirror: bool = False) -> list[bytes]:
    """The 32-byte spectrum vector of an RGB array (any size), and with `mirror` that of
    its left-right mirror too (the same magnitudes, columns reversed: no second FFT)."""
    small = np.asarray(Image.fromarray(rgb).resize((SIDE, SIDE), Image.Resampling.BOX))
    value = np.maximum(np.maximum(small[:, :, 0], small[:, :, 1]), small[:, :, 2])
    channel = value.astype(np.float32)
    channel = (channel - channel.mean()) * _HANN
    half = np.abs(np.fft.rfft2(channel))
    full = np.concatenate([half, half[:, -2:0:-1][_MIRROR]], axis=1)
    out = [_bits(full)]
    if mirror:
        out.append(_bits(full[:, _MIRROR]))
    return out


def spectrum(rgb: np.ndarray) -> bytes:
    """The 32-byte spectrum vector of an RGB array (any size)."""
    return spectra(rgb)[0]
