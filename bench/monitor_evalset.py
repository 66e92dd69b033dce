"""Evaluation set for the early-warning fingerprints (issue 10, item 4): procedural
garment-like artwork and the transformations a copycat applies to it.

Every design is drawn with Pillow from a seed, so the set is the same on every machine and
needs no downloaded data. A *studio* is a generator family (prints, stripes, checks,
characters, text, flat colour blocks) with a palette; a *sibling* is another design of the
same studio (same family and palette, other parameters): the issue says it must NOT match.
The transformations are the issue's list: resized, JPEG quality 50, cropped up to 10 %,
mirrored, recoloured (hue shift) and photographed as a printed garment on a plain
background (the design printed on a T-shirt silhouette, warped, shaded, blurred, noisy).

    python bench/monitor_evalset.py OUT_DIR [--designs 12] [--seed 1]

writes design PNGs, their transformed copies (JPEG/PNG) and a sibling per design, to look
at; bench/monitor_recall.py imports the functions instead.
"""

from __future__ import annotations

import argparse
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

SIZE = 512
"""Side of a generated design, in pixels (studios upload larger; the fingerprint does not
depend on it, and a smaller side keeps 10,000 designs quick to draw)."""

RGB = tuple[int, int, int]

PALETTES: list[list[RGB]] = [
    [(255, 228, 236), (244, 143, 177), (194, 24, 91), (255, 255, 255), (90, 60, 70)],
    [(227, 242, 253), (100, 181, 246), (13, 71, 161), (255, 241, 118), (40, 40, 60)],
    [(232, 245, 233), (129, 199, 132), (27, 94, 32), (255, 204, 128), (60, 50, 40)],
    [(255, 248, 225), (255, 213, 79), (255, 111, 0), (121, 85, 72), (30, 30, 30)],
    [(243, 229, 245), (186, 104, 200), (74, 20, 140), (178, 235, 242), (50, 40, 60)],
    [(250, 250, 250), (239, 83, 80), (38, 50, 56), (255, 202, 40), (66, 165, 245)],
    [(255, 243, 224), (161, 136, 127), (93, 64, 55), (255, 138, 101), (38, 38, 38)],
    [(224, 247, 250), (77, 208, 225), (0, 96, 100), (255, 171, 145), (33, 33, 33)],
]

WORDS = [
    "HAPPY", "LITTLE STAR", "DINO", "HELLO", "BEAR HUG", "SUNNY", "ROAR", "SWEET",
    "BUNNY", "COOL KID", "OCEAN", "DREAM", "PLAY", "MOON", "CANDY", "WILD", "LOVE",
]  # fmt: skip


@dataclass(frozen=True)
class Studio:
    """A generator family with a palette: the designs one studio makes."""

    family: str
    palette: int


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font: the same glyphs on every machine."""
    return ImageFont.load_default(size=size)


def _shape(draw: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float, fill: RGB,
           angle: float = 0.0) -> None:  # fmt: skip
    """A motif centred at (cx, cy) of radius r."""
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif kind == "star":
        pts = []
        for i in range(10):
            rr = r if i % 2 == 0 else r * 0.45
            a = angle + math.pi * i / 5 - math.pi / 2
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        draw.polygon(pts, fill=fill)
    elif kind == "heart":
        draw.ellipse([cx - r, cy - r * 0.8, cx, cy + r * 0.2], fill=fill)
        draw.ellipse([cx, cy - r * 0.8, cx + r, cy + r * 0.2], fill=fill)
        draw.polygon([(cx - r * 0.97, cy - r * 0.15), (cx + r * 0.97, cy - r * 0.15),
                      (cx, cy + r)], fill=fill)  # fmt: skip
    elif kind == "square":
        draw.regular_polygon((cx, cy, r), 4, rotation=math.degrees(angle), fill=fill)
    elif kind == "triangle":
        draw.regular_polygon((cx, cy, r), 3, rotation=math.degrees(angle), fill=fill)
    elif kind == "flower":
        for i in range(5):
            a = angle + 2 * math.pi * i / 5
            px, py = cx + r * 0.5 * math.cos(a), cy + r * 0.5 * math.sin(a)
            draw.ellipse([px - r * 0.45, py - r * 0.45, px + r * 0.45, py + r * 0.45], fill=fill)
    else:  # "bear": a tiny face
        draw.ellipse([cx - r, cy - r * 0.8, cx - r * 0.3, cy - r * 0.1], fill=fill)
        draw.ellipse([cx + r * 0.3, cy - r * 0.8, cx + r, cy - r * 0.1], fill=fill)
        draw.ellipse([cx - r * 0.8, cy - r * 0.6, cx + r * 0.8, cy + r * 0.9], fill=fill)


MOTIFS = ["circle", "star", "heart", "square", "triangle", "flower", "bear"]


def _prints(rng: random.Random, pal: list[RGB]) -> Image.Image:
    """Repeated motifs on a ground colour, on a (possibly staggered) grid."""
    ground, *inks = rng.sample(pal, len(pal))
    img = Image.new("RGB", (SIZE, SIZE), ground)
    draw = ImageDraw.Draw(img)
    step = rng.uniform(48, 140)
    stagger = rng.random() < 0.6
    kinds = rng.sample(MOTIFS, rng.randint(1, 3))
    r = step * rng.uniform(0.18, 0.38)
    jitter = rng.uniform(0, 0.25) * step
    ox, oy = rng.uniform(0, step), rng.uniform(0, step)
    row = 0
    y = -step + oy
    while y < SIZE + step:
        x = -step + ox + (step / 2 if stagger and row % 2 else 0)
        while x < SIZE + step:
            kind = kinds[(row + int(x // step)) % len(kinds)]
            cx, cy = x + rng.uniform(-jitter, jitter), y + rng.uniform(-jitter, jitter)
            _shape(draw, kind, cx, cy, r * rng.uniform(0.8, 1.2), rng.choice(inks),
                   rng.uniform(0, math.pi))  # fmt: skip
            x += step
        y += step
        row += 1
    return img


def _stripes(rng: random.Random, pal: list[RGB]) -> Image.Image:
    """Stripes of varying widths and colours, horizontal, vertical or diagonal."""
    colours = rng.sample(pal, rng.randint(2, 4))
    big = Image.new("RGB", (SIZE * 2, SIZE * 2), colours[0])
    draw = ImageDraw.Draw(big)
    widths = [rng.uniform(10, 70) for _ in range(rng.randint(2, 5))]
    pos, i = 0.0, 0
    while pos < SIZE * 2:
        w = widths[i % len(widths)]
        draw.rectangle([0, pos, SIZE * 2, pos + w], fill=colours[i % len(colours)])
        pos += w
        i += 1
    angle = rng.choice([0, 90, rng.uniform(20, 70), rng.uniform(110, 160)])
    big = big.rotate(angle, resample=Image.Resampling.BILINEAR)
    return big.crop((SIZE // 2, SIZE // 2, SIZE // 2 + SIZE, SIZE // 2 + SIZE))


def _checks(rng: random.Random, pal: list[RGB]) -> Image.Image:
    """Gingham or tartan-like checks: two sets of semi-transparent bands crossed."""
    ground, a, b = rng.sample(pal, 3)
    img = Image.new("RGB", (SIZE, SIZE), ground)
    over = Image.new("RGB", (SIZE, SIZE), ground)
    draw = ImageDraw.Draw(over)
    step = rng.uniform(30, 130)
    width = step * rng.uniform(0.25, 0.6)
    offset = rng.uniform(0, step)
    pos = -step + offset
    while pos < SIZE + step:
        draw.rectangle([pos, 0, pos + width, SIZE], fill=a)
        pos += step
    vertical = over.copy()
    over = Image.new("RGB", (SIZE, SIZE), ground)
    draw = ImageDraw.Draw(over)
    pos = -step + rng.uniform(0, step)
    while pos < SIZE + step:
        draw.rectangle([0, pos, SIZE, pos + width], fill=b)
        pos += step
    img = ImageChops.multiply(vertical, over) if rng.random() < 0.5 else Image.blend(
        vertical, over, 0.5)  # fmt: skip
    if rng.random() < 0.5:  # a thin overcheck line
        draw = ImageDraw.Draw(img)
        line = rng.choice(pal)
        pos = rng.uniform(0, step)
        while pos < SIZE:
            draw.line([(pos, 0), (pos, SIZE)], fill=line, width=2)
            draw.line([(0, pos), (SIZE, pos)], fill=line, width=2)
            pos += step
    return img


def _character(rng: random.Random, pal: list[RGB]) -> Image.Image:
    """A simple cartoon animal (bear, cat or bunny) on a ground, with a few decorations."""
    ground, body, detail, accent = rng.sample(pal, 4)
    img = Image.new("RGB", (SIZE, SIZE), ground)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(0, 8)):  # decorations behind
        _shape(draw, rng.choice(["star", "heart", "circle"]), rng.uniform(0, SIZE),
               rng.uniform(0, SIZE), rng.uniform(8, 30), accent, rng.uniform(0, 3))  # fmt: skip
    cx = SIZE / 2 + rng.uniform(-60, 60)
    cy = SIZE / 2 + rng.uniform(-40, 60)
    r = rng.uniform(90, 170)
    animal = rng.choice(["bear", "cat", "bunny"])
    if animal == "bear":
        for sx in (-1, 1):
            ex, ey = cx + sx * r * 0.75, cy - r * 0.75
            draw.ellipse([ex - r * 0.35, ey - r * 0.35, ex + r * 0.35, ey + r * 0.35], fill=body)
            draw.ellipse([ex - r * 0.18, ey - r * 0.18, ex + r * 0.18, ey + r * 0.18], fill=detail)
    elif animal == "cat":
        for sx in (-1, 1):
            draw.polygon([(cx + sx * r * 0.9, cy - r * 0.3), (cx + sx * r * 0.75, cy - r * 1.25),
                          (cx + sx * r * 0.2, cy - r * 0.85)], fill=body)  # fmt: skip
    else:
        for sx in (-1, 1):
            ex = cx + sx * r * 0.4
            draw.ellipse([ex - r * 0.22, cy - r * 1.9, ex + r * 0.22, cy - r * 0.6], fill=body)
            draw.ellipse([ex - r * 0.1, cy - r * 1.75, ex + r * 0.1, cy - r * 0.75], fill=detail)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r * 0.9], fill=body)
    for sx in (-1, 1):  # eyes, cheeks
        ex = cx + sx * r * 0.38
        draw.ellipse([ex - r * 0.1, cy - r * 0.25, ex + r * 0.1, cy - r * 0.02], fill=(20, 20, 20))
        draw.ellipse([ex + sx * r * 0.1 - r * 0.14, cy + r * 0.12, ex + sx * r * 0.1 + r * 0.14,
                      cy + r * 0.3], fill=accent)  # fmt: skip
    draw.ellipse([cx - r * 0.3, cy + r * 0.05, cx + r * 0.3, cy + r * 0.5], fill=detail)
    draw.ellipse([cx - r * 0.1, cy + r * 0.08, cx + r * 0.1, cy + r * 0.22], fill=(20, 20, 20))
    draw.arc([cx - r * 0.15, cy + r * 0.15, cx + r * 0.15, cy + r * 0.42], 20, 160,
             fill=(20, 20, 20), width=max(2, int(r * 0.03)))  # fmt: skip
    return img


def _text(rng: random.Random, pal: list[RGB]) -> Image.Image:
    """A slogan in big letters, with a motif or an underline."""
    ground, ink, accent = rng.sample(pal, 3)
    img = Image.new("RGB", (SIZE, SIZE), ground)
    draw = ImageDraw.Draw(img)
    words = rng.choice(WORDS).split()
    if rng.random() < 0.4:
        words.append(rng.choice(WORDS).split()[0])
    size = int(rng.uniform(60, 120))
    font = _font(size)
    lines = [w for w in words]
    total = len(lines) * size * 1.15
    y = SIZE / 2 - total / 2 + rng.uniform(-40, 40)
    for line in lines:
        w = draw.textlength(line, font=font)
        scale = min(1.0, (SIZE - 40) / max(w, 1))
        f = _font(int(size * scale)) if scale < 1 else font
        w = draw.textlength(line, font=f)
        draw.text(((SIZE - w) / 2, y), line, font=f, fill=ink)
        y += size * 1.15
    if rng.random() < 0.5:
        _shape(draw, rng.choice(MOTIFS), rng.uniform(60, SIZE - 60), rng.uniform(40, 100),
               rng.uniform(20, 40), accent)  # fmt: skip
    else:
        draw.rectangle([60, y + 5, SIZE - 60, y + 15], fill=accent)
    return img


def _blocks(rng: random.Random, pal: list[RGB]) -> Image.Image:
    """Colour blocking: a few large flat shapes, the flattest artwork a studio makes."""
    ground, *inks = rng.sample(pal, len(pal))
    img = Image.new("RGB", (SIZE, SIZE), ground)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(2, 5)):
        x0, y0 = rng.uniform(-100, SIZE - 100), rng.uniform(-100, SIZE - 100)
        w, h = rng.uniform(120, 400), rng.uniform(120, 400)
        fill = rng.choice(inks)
        if rng.random() < 0.5:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=fill)
        else:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=fill)
    return img


FAMILIES: dict[str, Callable[[random.Random, list[RGB]], Image.Image]] = {
    "prints": _prints,
    "stripes": _stripes,
    "checks": _checks,
    "characters": _character,
    "text": _text,
    "blocks": _blocks,
}


def studio_of(index: int) -> Studio:
    """The studio of design number `index`: families and palettes in turn."""
    family = list(FAMILIES)[index % len(FAMILIES)]
    return Studio(family, (index // len(FAMILIES)) % len(PALETTES))


def design(studio: Studio, seed: int) -> Image.Image:
    """One design of `studio`, the same for the same seed."""
    rng = random.Random(f"{studio.family}/{studio.palette}/{seed}")
    return FAMILIES[studio.family](rng, PALETTES[studio.palette])


# --- transformations (issue 10, item 4) ---------------------------------------------------


def _jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def resized(img: Image.Image, rng: random.Random) -> bytes:
    """Scaled by 0.3..1.6 (a shop thumbnail or an upscaled copy), saved as PNG."""
    s = rng.uniform(0.3, 1.6)
    return _png(img.resize((max(8, round(img.width * s)), max(8, round(img.height * s))),
                           Image.Resampling.BICUBIC))  # fmt: skip


def jpeg_q50(img: Image.Image, rng: random.Random) -> bytes:
    """Re-compressed as JPEG at quality 50."""
    return _jpeg(img, 50)


def cropped(img: Image.Image, rng: random.Random) -> bytes:
    """Up to 10 % of the width and of the height cut away, split at random between the two
    sides (so the copy keeps at least 81 % of the area, off centre)."""
    w, h = img.size
    cut_x, cut_y = rng.uniform(0.02, 0.10) * w, rng.uniform(0.02, 0.10) * h
    left, top = rng.uniform(0, cut_x), rng.uniform(0, cut_y)
    return _png(img.crop((round(left), round(top), round(w - (cut_x - left)),
                          round(h - (cut_y - top)))))  # fmt: skip


def mirrored(img: Image.Image, rng: random.Random) -> bytes:
    """Flipped left to right."""
    return _png(ImageOps.mirror(img))


def hue_shifted(img: Image.Image, rng: random.Random) -> bytes:
    """Recoloured: every hue rotated by 60..300 degrees in HSV (an editor's hue slider; a
    pink bear becomes a blue or green one). Brightness order between colours changes."""
    h, s, v = img.convert("HSV").split()
    shift = round(rng.uniform(60, 300) / 360 * 256)
    h = h.point(lambda x: (x + shift) % 256)
    return _png(Image.merge("HSV", (h, s, v)).convert("RGB"))


def _tshirt(w: int, h: int) -> tuple[list[tuple[float, float]], tuple[float, float, float, float]]:
    """A T-shirt silhouette polygon in a w x h box and its chest print area."""
    sx = w * 0.5
    body_w, sleeve = w * 0.56, w * 0.22
    top, hem = h * 0.06, h * 0.97
    left, right = sx - body_w / 2, sx + body_w / 2
    neck = w * 0.12
    pts = [
        (sx - neck, top), (left - 2, top + h * 0.04), (left - sleeve, top + h * 0.22),
        (left - sleeve * 0.55, top + h * 0.33), (left, top + h * 0.26), (left, hem),
        (right, hem), (right, top + h * 0.26), (right + sleeve * 0.55, top + h * 0.33),
        (right + sleeve, top + h * 0.22), (right + 2, top + h * 0.04), (sx + neck, top),
        (sx, top + h * 0.08),
    ]  # fmt: skip
    pw = body_w * 0.82
    py = top + h * 0.17
    return pts, (sx - pw / 2, py, sx + pw / 2, py + pw)


def garment_photo(img: Image.Image, rng: random.Random) -> bytes:
    """Printed on a T-shirt and photographed on a plain background: the design fills the
    chest print area, the shirt is the design's ground colour, then a slight perspective and
    rotation, fabric shading (soft folds and a light fall-off), blur, sensor noise, JPEG."""
    cw, ch = rng.randint(800, 1100), rng.randint(900, 1200)
    backdrop = tuple(rng.randint(200, 245) for _ in range(3))
    if rng.random() < 0.3:
        backdrop = tuple(rng.randint(40, 90) for _ in range(3))
    canvas = Image.new("RGB", (cw, ch), backdrop)  # type: ignore[arg-type]
    sw = int(cw * rng.uniform(0.8, 0.95))
    sh = int(min(ch * 0.9, sw * 1.05))
    pts, (x0, y0, x1, y1) = _tshirt(sw, sh)
    ground = img.getpixel((1, 1))
    shirt = Image.new("RGB", (sw, sh), ground)  # type: ignore[arg-type]
    shirt.paste(img.resize((round(x1 - x0), round(y1 - y0)), Image.Resampling.LANCZOS),
                (round(x0), round(y0)))  # fmt: skip
    mask = Image.new("L", (sw, sh), 0)
    ImageDraw.Draw(mask).polygon(pts, fill=255)
    # fabric: vertical soft folds and a fall-off, multiplied in
    shade = Image.new("L", (sw, sh), 255)
    sd = ImageDraw.Draw(shade)
    for _ in range(rng.randint(2, 5)):
        fx = rng.uniform(0, sw)
        fw = rng.uniform(20, 60)
        sd.rectangle([fx, 0, fx + fw, sh], fill=rng.randint(200, 235))
    shade = shade.filter(ImageFilter.GaussianBlur(25))
    shirt = ImageChops.multiply(shirt, Image.merge("RGB", (shade, shade, shade)))
    ox, oy = (cw - sw) // 2 + rng.randint(-30, 30), (ch - sh) // 2 + rng.randint(-20, 20)
    canvas.paste(shirt, (ox, oy), mask)
    canvas = canvas.rotate(rng.uniform(-4, 4), Image.Resampling.BICUBIC, fillcolor=backdrop)
    k = 0.00004
    coeffs = (1 + rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03), 0,
              rng.uniform(-0.03, 0.03), 1 + rng.uniform(-0.03, 0.03), 0,
              rng.uniform(-k, k), rng.uniform(-k, k))  # fmt: skip
    canvas = canvas.transform(canvas.size, Image.Transform.PERSPECTIVE, coeffs,
                              Image.Resampling.BICUBIC, fillcolor=backdrop)  # fmt: skip
    canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.6)))
    noise = Image.effect_noise(canvas.size, rng.uniform(6, 14)).convert("RGB")
    canvas = ImageChops.add(canvas, noise, scale=1.0, offset=-128)
    return _jpeg(canvas, rng.randint(70, 90))


TRANSFORMS: dict[str, Callable[[Image.Image, random.Random], bytes]] = {
    "resized": resized,
    "jpeg_q50": jpeg_q50,
    "cropped": cropped,
    "mirrored": mirrored,
    "hue_shift": hue_shifted,
    "garment_photo": garment_photo,
}


def transformed(img: Image.Image, name: str, seed: int) -> bytes:
    """`img` put through transformation `name`, deterministically from `seed`."""
    return TRANSFORMS[name](img, random.Random(f"{name}/{seed}"))


def encoded(img: Image.Image) -> bytes:
    """A design as a studio deposits it: PNG."""
    return _png(img)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--designs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for i in range(args.designs):
        studio = studio_of(i)
        seed = args.seed * 1_000_003 + i
        img = design(studio, seed)
        stem = f"{i:03d}-{studio.family}-p{studio.palette}"
        (args.out / f"{stem}.png").write_bytes(encoded(img))
        (args.out / f"{stem}-sibling.png").write_bytes(encoded(design(studio, seed + 7)))
        for name in TRANSFORMS:
            data = transformed(img, name, seed)
            ext = "jpg" if data[:2] == b"\xff\xd8" else "png"
            (args.out / f"{stem}-{name}.{ext}").write_bytes(data)
    print(f"wrote {args.designs} designs, their siblings and transformed copies to {args.out}")


if __name__ == "__main__":
    main()
