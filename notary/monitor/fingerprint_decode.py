"""Safe decoding of untrusted image bytes into a small RGB working copy.

Images arrive from anyone (a capture of a shop listing, a deposit), so decoding must never
raise out, never allocate what the header merely claims, and never take long:

- the format is told by its signature, and only PNG, JPEG (and camera MPO), WebP and GIF
  are decoded; another raster format Pillow knows by signature (TIFF, BMP, ...) is
  UNSUPPORTED, anything else NOT_IMAGE;
- the pixel count is read from the header and checked against MAX_PIXELS *before* any
  pixel is decoded (Pillow's own decompression-bomb check warns or raises inside
  ``Image.open``; this module opens through the format's plugin directly, so the decision
  and its status are ours and no global warning filter is touched);
- a JPEG is decoded at 1/2, 1/4 or 1/8 scale by the codec itself (``draft``), so a
  36-megapixel photo costs a few megabytes; other formats decode at full size, bounded by
  MAX_PIXELS, and are shrunk at once;
- a truncated or undecodable file is CORRUPT (Pillow's LOAD_TRUNCATED_IMAGES stays off);
- animated GIF or WebP: the first frame is the image (a listing's first frame is what a
  shopper sees; later frames are not fingerprinted);
- a JPEG or WebP's EXIF orientation (phone photos) is applied, as a viewer shows it;
- CMYK JPEG is converted to RGB; palette, grey, 16-bit grey (scaled, not clipped) likewise;
  transparency (alpha, or a palette's transparent colour) is composited on white, as a
  shop page shows a transparent product image.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = 36_000_000
"""Largest image decoded (6,000 x 6,000: a 50 cm print at 300 dpi). Larger headers are
refused as TOO_LARGE before decoding: a 30,000 x 30,000 PNG of zeros is 1 MB on the wire
and 2.7 GB decoded. The worst case accepted, a 36 MP RGBA PNG, holds 144 MB while decoded."""

WORK_SIDE = 256
"""Longest side of the working copy every fingerprint is computed from: PDQ itself looks at
64 x 64, and crops of a garment photo still leave the print 100+ pixels wide."""

DECODED = ("PNG", "JPEG", "WEBP", "GIF")
"""Formats fingerprinted (the issue: PNG, JPEG, WebP at least; GIF because shops use it)."""


class ImageStatus(StrEnum):
    """What became of an input: fingerprinted, or why not (never an exception)."""

    OK = "ok"
    """Fingerprinted."""
    NOT_IMAGE = "not_image"
    """Bytes are not an image format Pillow recognises by its signature."""
    UNSUPPORTED = "unsupported"
    """A raster format other than PNG, JPEG, WebP, GIF (TIFF, BMP, ICO, ...): ignored."""
    CORRUPT = "corrupt"
    """The header says PNG/JPEG/WebP/GIF but the data is truncated or undecodable."""
    TOO_LARGE = "too_large"
    """The header announces more than MAX_PIXELS pixels: refused before decoding."""


@dataclass(frozen=True)
class Decoded:
    """A decoded working copy, or the status saying why there is none."""

    status: ImageStatus
    detail: str
    image: Image.Image | None = None
    """RGB, longest side at most WORK_SIDE; None unless status is OK."""


_HEADER_ERRORS = (SyntaxError, IndexError, TypeError, ValueError, struct.error, EOFError, OSError)
_DECODE_ERRORS = (*_HEADER_ERRORS, zlib.error, Image.DecompressionBombError)


def _open(data: bytes) -> tuple[Image.Image | None, str | None]:
    """The lazily opened image (header read, no pixels) of a decoded format, or the name of
    another format recognised by signature, or (None, None). Raises the plugin's error when
    a recognised header is broken."""
    Image.init()
    prefix = data[:16]
    for name in DECODED:
        factory, accept = Image.OPEN[name]
        if accept is not None and accept(prefix) is True:
            return factory(io.BytesIO(data), ""), None
    for name in Image.ID:
        factory, accept = Image.OPEN[name]
        if accept is not None and accept(prefix) is True:  # formats with a real signature
            return None, name
    return None, None


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any decoded mode as 8-bit RGB: alpha on white, 16-bit scaled, CMYK converted."""
    if im.mode.startswith("I"):  # 16-bit grey (I;16, I;16B, I): scale, Pillow would clip
        arr = np.asarray(im).astype(np.uint32) >> 8
        im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    transparent = "transparency" in im.info
    if im.mode == "P":
        im = im.convert("RGBA" if transparent else "RGB")
    elif im.mode in ("LA", "La", "PA", "RGBa", "1") or (transparent and im.mode in ("L", "RGB")):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def _upright(im: Image.Image) -> Image.Image:
    """`im` turned by its EXIF orientation (a phone photo, as a viewer shows it); a damaged
    EXIF block leaves it as stored rather than refusing the pixels."""
    try:
        return ImageOps.exif_transpose(im)
    except _HEADER_ERRORS:
        return im


def decode(data: bytes) -> Decoded:
    """`data` decoded into a working copy (RGB, longest side <= WORK_SIDE), or a status."""
    if len(data) < 16:  # no image format's signature and header fit in fewer bytes
        return Decoded(ImageStatus.NOT_IMAGE, "the data is not an image")
    try:
        im, other = _open(data)
    except _HEADER_ERRORS as exc:
        return Decoded(ImageStatus.CORRUPT, f"the image header cannot be read ({exc})")
    if im is None:
        if other is not None:
            return Decoded(ImageStatus.UNSUPPORTED, f"{other} images are not fingerprinted "
                           "(PNG, JPEG, WebP and GIF are)")  # fmt: skip
        return Decoded(ImageStatus.NOT_IMAGE, "the data is not an image")
    width, height = im.size
    if width < 1 or height < 1:
        return Decoded(ImageStatus.CORRUPT, "the image has no pixels")
    if width * height > MAX_PIXELS:
        return Decoded(ImageStatus.TOO_LARGE, f"{width} x {height} pixels is over the "
                       f"{MAX_PIXELS:,} pixel limit; the image was not decoded")  # fmt: skip
    try:
        if im.format == "JPEG" or im.format == "MPO":
            side = WORK_SIDE * 3 // 4  # the codec decodes at 1/2..1/8 scale, not below this
            im.draft(None, (side, side))
        im.load()  # the first frame of an animation
        im = _upright(im)
        if im.mode == "P" or im.mode.startswith("I") or im.mode == "1":
            im = _to_rgb(im)  # palette and 16-bit before resampling
        scale = WORK_SIDE / max(im.size)
        if scale < 1:
            size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
            im = im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
        return Decoded(ImageStatus.OK, "", _to_rgb(im))
    except _DECODE_ERRORS as exc:
        return Decoded(ImageStatus.CORRUPT, f"the image data is truncated or damaged ({exc})")
