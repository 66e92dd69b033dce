"""Small PNG thumbnails of an alert's two images, made from the stored (or pinned) file."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from typing import Final

from PIL import Image, UnidentifiedImageError

from notary.errors import ConflictError

THUMBNAIL_SIZE: Final = 256
"""Longest side of a thumbnail, in pixels."""
MAX_THUMBNAIL_SOURCE_PIXELS: Final = 100_000_000
"""Images with more pixels are not decoded (a stored decompression bomb)."""


def thumbnail(chunks: Iterator[bytes], limit: int) -> bytes:
    """A PNG of at most THUMBNAIL_SIZE pixels a side; ConflictError when the file is not
    an image that can be shown (or has more than `limit` bytes)."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise ConflictError("the file is too large to make a thumbnail of")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_THUMBNAIL_SOURCE_PIXELS:
                raise ConflictError("the image is too large to make a thumbnail of")
            image.draft("RGB", (THUMBNAIL_SIZE * 2, THUMBNAIL_SIZE * 2))
            image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
            if image.mode not in {"RGB", "RGBA", "L", "LA"}:
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            out = io.BytesIO()
            image.save(out, "PNG", optimize=False)
            return out.getvalue()
    except ConflictError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ConflictError(f"the file cannot be shown as an image ({type(exc).__name__})") from exc
    except Image.DecompressionBombWarning as exc:
        raise ConflictError("the image is too large to make a thumbnail of") from exc
