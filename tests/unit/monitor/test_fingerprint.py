"""Fingerprints (notary.monitor.fingerprint): a status for every bad input class with bounded
memory, matching of transformed copies, no match for a sibling design, strict hex parsing."""

from __future__ import annotations

import importlib.util
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from notary import errors
from notary.monitor import fingerprint as fp
from notary.monitor.fingerprint import ImageStatus

REPO = Path(__file__).resolve().parents[3]


def _evalset():  # the bench's generator, loaded from its file (bench/ is not a package)
    spec = importlib.util.spec_from_file_location(
        "monitor_evalset", REPO / "bench/monitor_evalset.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("monitor_evalset", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


EVAL = _evalset()


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _matches(capture: fp.Fingerprinted, design: fp.Fingerprinted) -> bool:
    """The lead's matching rule: some same-kind pair within the kind's radius, both of at
    least MIN_QUALITY."""
    return any(
        c.kind == d.kind
        and min(c.quality, d.quality) >= fp.MIN_QUALITY
        and fp.hamming(c.bits, d.bits) <= fp.match_radius(c.kind)
        for c in capture.fingerprints
        for d in design.fingerprints
    )


def _closest(a: fp.Fingerprinted, b: fp.Fingerprinted, kind: str = "pdq") -> int:
    return min(
        fp.hamming(x.bits, y.bits)
        for x in a.fingerprints
        for y in b.fingerprints
        if x.kind == y.kind == kind
    )


@pytest.fixture(scope="module")
def bear() -> Image.Image:
    """A character design (the evaluation set's studio 3: characters)."""
    return EVAL.design(EVAL.studio_of(3), 11)


# --- bad input -------------------------------------------------------------------------


def test_non_image_bytes_are_not_image() -> None:
    for data in (b"", b"hello world\n" * 50, b'{"a": 1}', b"%PDF-1.7\n" + b"x" * 100):
        got = fp.fingerprint_capture(data)
        assert got.status is ImageStatus.NOT_IMAGE, data[:10]
        assert got.fingerprints == () and got.detail


def test_other_raster_formats_are_unsupported(bear: Image.Image) -> None:
    for fmt in ("BMP", "TIFF"):
        got = fp.fingerprint_design(_save(bear, fmt))
        assert got.status is ImageStatus.UNSUPPORTED, fmt
        assert fmt in got.detail and got.fingerprints == ()


def test_truncated_jpeg_is_corrupt(bear: Image.Image) -> None:
    data = _save(bear, "JPEG", quality=90)
    for cut in (len(data) // 2, 200, 40):
        got = fp.fingerprint_capture(data[:cut])
        assert got.status is ImageStatus.CORRUPT, cut
        assert got.fingerprints == ()


def _bomb_png(side: int) -> bytes:
    """A real decompression bomb: a 1-bit PNG of `side` x `side` zeros (~0.5 MB compressed;
    Pillow would hold side*side bytes decoded)."""
    row = b"\x00" * (1 + (side + 7) // 8)
    z = zlib.compressobj(1)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_bomb_is_too_large_without_allocating_it(tmp_path: Path) -> None:
    """30,000 x 30,000 is refused from the header; the peak RSS of a fresh process that
    fingerprints it grows by less than 64 MB (decoding would take 900 MB)."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_bomb_png(30_000))
    assert bomb.stat().st_size < 2_000_000
    script = (
        "import json, resource, sys\n"
        "from notary.monitor import fingerprint as fp\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "got = [fp.fingerprint_design(data), fp.fingerprint_capture(data)]\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'status': [g.status.value for g in got],"
        " 'detail': got[0].detail, 'grown_kb': after - before}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(bomb)],
        capture_output=True, text=True, check=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    result = json.loads(out.stdout)
    assert result["status"] == ["too_large", "too_large"]
    assert "30000 x 30000" in result["detail"]
    assert result["grown_kb"] < 64 * 1024


def test_animated_gif_uses_its_first_frame(bear: Image.Image) -> None:
    other = EVAL.design(EVAL.studio_of(1), 5)  # stripes
    frames = [bear.convert("P", palette=Image.Palette.ADAPTIVE), other.convert("P")]
    gif = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(gif)).n_frames == 2
    got = fp.fingerprint_design(gif)
    assert got.status is ImageStatus.OK
    first = fp.fingerprint_design(_save(frames[0], "GIF"))
    second = fp.fingerprint_design(_save(frames[1], "GIF"))
    assert got.fingerprints == first.fingerprints
    assert _closest(got, second) > fp.match_radius("pdq")


def test_cmyk_jpeg_is_converted(bear: Image.Image) -> None:
    cmyk = _save(bear.convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(cmyk)).mode == "CMYK"
    got = fp.fingerprint_design(cmyk)
    assert got.status is ImageStatus.OK
    rgb = fp.fingerprint_design(_save(bear, "PNG"))
    assert _closest(got, rgb) <= 8  # the same picture (Pillow's CMYK->RGB is naive)


def test_alpha_png_is_composited_on_white(bear: Image.Image) -> None:
    rgba = bear.convert("RGBA")
    arr = np.asarray(rgba).copy()
    ground = arr[1, 1, :3].copy()
    arr[(arr[:, :, :3] == ground).all(axis=2), 3] = 0  # the ground colour becomes transparent
    transparent = Image.fromarray(arr)
    got = fp.fingerprint_design(_save(transparent, "PNG"))
    assert got.status is ImageStatus.OK
    on_white = Image.alpha_composite(Image.new("RGBA", bear.size, "white"), transparent)
    on_black = Image.alpha_composite(Image.new("RGBA", bear.size, "black"), transparent)
    white = fp.fingerprint_design(_save(on_white.convert("RGB"), "PNG"))
    black = fp.fingerprint_design(_save(on_black.convert("RGB"), "PNG"))
    assert got.fingerprints == white.fingerprints
    assert got.fingerprints != black.fingerprints


def test_sixteen_bit_and_palette_pngs(bear: Image.Image) -> None:
    grey = np.asarray(bear.convert("L")).astype(np.uint16) * 257
    sixteen = _save(Image.fromarray(grey), "PNG")
    assert Image.open(io.BytesIO(sixteen)).mode.startswith("I;16")
    eight = fp.fingerprint_design(_save(bear.convert("L"), "PNG"))
    got = fp.fingerprint_design(sixteen)
    assert got.status is ImageStatus.OK
    assert _closest(got, eight) <= 4  # scaled to 8 bits, not clipped to white
    assert max(f.quality for f in got.fingerprints) >= fp.MIN_QUALITY
    palette = fp.fingerprint_design(_save(bear.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"))
    assert palette.status is ImageStatus.OK
    assert _closest(palette, fp.fingerprint_design(_save(bear, "PNG"))) <= 8


def test_exif_orientation_is_applied(bear: Image.Image) -> None:
    """A phone stores pixels sideways and an EXIF orientation; shops show them upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    sideways = _save(bear.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif)
    got = fp.fingerprint_design(sideways)
    upright = fp.fingerprint_design(_save(bear, "JPEG", quality=95))
    assert got.status is ImageStatus.OK
    assert _closest(got, upright) <= 8
    stripped = fp.fingerprint_design(_save(bear.transpose(Image.Transpose.ROTATE_90), "JPEG"))
    assert _closest(stripped, upright) > fp.match_radius("pdq")  # what ignoring it gives


def test_webp_is_fingerprinted(bear: Image.Image) -> None:
    got = fp.fingerprint_capture(_save(bear, "WEBP", quality=80))
    assert got.status is ImageStatus.OK
    assert _matches(got, fp.fingerprint_design(_save(bear, "PNG")))


# --- matching --------------------------------------------------------------------------

COPIES = ["resized", "jpeg_q50", "mirrored", "hue_shift"]


@pytest.mark.parametrize("index", [3, 4, 9])  # a character, a slogan, another character
def test_copies_match_and_a_sibling_does_not(index: int) -> None:
    studio = EVAL.studio_of(index)
    original = EVAL.design(studio, 100 + index)
    stored = fp.fingerprint_design(EVAL.encoded(original))
    assert stored.status is ImageStatus.OK
    assert all(len(f.bits) == 32 and 0 <= f.quality <= 100 for f in stored.fingerprints)
    for name in COPIES:
        capture = fp.fingerprint_capture(EVAL.transformed(original, name, index))
        assert _matches(capture, stored), name
    sibling = fp.fingerprint_capture(EVAL.encoded(EVAL.design(studio, 200 + index)))
    assert not _matches(sibling, stored)


def test_design_and_capture_kinds_are_the_known_ones(bear: Image.Image) -> None:
    got = fp.fingerprint_capture(_save(bear, "PNG"))
    assert {f.kind for f in got.fingerprints} == set(fp.KINDS)
    for kind in fp.KINDS:
        assert 1 <= fp.match_radius(kind) < 128


# --- hex -------------------------------------------------------------------------------


def test_parse_hex_round_trip(bear: Image.Image) -> None:
    stored = fp.fingerprint_design(_save(bear, "PNG")).fingerprints[0]
    parsed = fp.parse_hex(stored.kind, stored.hex)
    assert parsed.bits == stored.bits and parsed.kind == stored.kind
    assert fp.parse_hex("pdq", stored.hex.upper()).bits == stored.bits


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("pdq", "00" * 31),  # 248 bits
        ("pdq", "00" * 33),
        ("pdq", "zz" * 32),
        ("pdq", " " + "00" * 31 + "0"),
        ("pdq", "0x" + "00" * 31),
        ("sha256", "00" * 32),
        ("", "00" * 32),
        ("pdq", 12345),
    ],
)
def test_parse_hex_refuses_bad_input(kind: str, text: object) -> None:
    with pytest.raises(errors.InvalidFingerprintError) as info:
        fp.parse_hex(kind, text)  # type: ignore[arg-type]
    assert isinstance(info.value, errors.ValidationError)
    with pytest.raises(errors.InvalidFingerprintError):
        fp.match_radius("no-such-kind")


def test_hamming() -> None:
    assert fp.hamming(b"\x00" * 32, b"\x00" * 32) == 0
    assert fp.hamming(b"\xff" * 32, b"\x00" * 32) == 256
    assert fp.hamming(b"\x01" + b"\x00" * 31, b"\x00" * 31 + b"\x80") == 2


# --- the second look (notary.monitor.sketch) -------------------------------------------


@pytest.mark.parametrize("name", ["mirrored", "hue_shift", "cropped"])
def test_the_sketch_confirms_a_copy_and_not_a_sibling(name: str) -> None:
    from notary.monitor import sketch

    studio = EVAL.studio_of(5)  # colour blocks: flat artwork, the hardest to tell apart
    original = EVAL.design(studio, 105)
    stored = fp.fingerprint_design(EVAL.encoded(original))
    capture = fp.fingerprint_capture(EVAL.transformed(original, name, 5))
    assert stored.sketch is not None and capture.probe is not None
    assert len(stored.sketch) == sketch.SKETCH_BYTES
    assert sketch.similarity(capture.probe, stored.sketch) >= sketch.THRESHOLD
    sibling = fp.fingerprint_design(EVAL.encoded(EVAL.design(studio, 205)))
    assert sibling.sketch is not None
    assert sketch.similarity(capture.probe, sibling.sketch) < sketch.THRESHOLD


def test_the_sketch_of_nothing_confirms_nothing(bear: Image.Image) -> None:
    from notary.monitor import sketch

    probe = fp.fingerprint_capture(_save(bear, "PNG")).probe
    assert probe is not None
    assert sketch.similarity(probe, bytes(sketch.SKETCH_BYTES)) == 0.0  # flat
    assert sketch.similarity(probe, b"\x01" * 10) == 0.0  # not a sketch
    assert sketch.similarities(probe, [None]) == [0.0]


def test_a_mirrored_spectrum_is_the_spectrum_of_the_mirror(bear: Image.Image) -> None:
    from notary.monitor import spectrum

    arr = np.asarray(bear.convert("RGB"))
    plain, mirrored = spectrum.spectra(arr, mirror=True)
    assert mirrored == spectrum.spectrum(np.ascontiguousarray(arr[:, ::-1]))
    assert plain != mirrored  # the bear is not symmetric in its spectrum bits
