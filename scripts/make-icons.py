#!/usr/bin/env python3
"""Generates the PWA icons in public/icons/ (Python 3 standard library only).

A rounded square in the brand colour #d97757 with a white terminal prompt `>_` drawn as thick
round-capped strokes. Edges are anti-aliased by 4x4 supersampling (only pixels near an edge are
supersampled, the rest are decided from a signed distance at the pixel centre).

    icon-192.png            192x192  rounded square, transparent corners   (purpose "any")
    icon-512.png            512x512  rounded square, transparent corners   (purpose "any")
    icon-maskable-512.png   512x512  full-bleed, glyph inside the 80% safe zone (purpose "maskable")
    apple-touch-icon.png    180x180  full-bleed, opaque (iOS rounds the corners itself)

Run from anywhere: python3 scripts/make-icons.py
"""

import math
import struct
import sys
import zlib
from pathlib import Path

BRAND = (0xD9, 0x77, 0x57)  # #d97757
GLYPH = (0xFF, 0xFF, 0xFF)
SUPERSAMPLE = 4
CORNER_RADIUS = 0.225  # of the icon size, for the rounded-square variants

# The `>_` glyph in unit coordinates (0..1 across the icon), centred on (0.5, 0.5).
# Each stroke is a capsule: a segment with a half-width, i.e. round caps and a round join.
STROKE = 0.058
STROKES = [
    ((0.275, 0.335), (0.455, 0.500)),  # upper arm of ">"
    ((0.455, 0.500), (0.275, 0.665)),  # lower arm of ">"
    ((0.530, 0.665), (0.725, 0.665)),  # "_"
]


def segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def glyph_sdf(x, y, strokes, width):
    """Signed distance to the glyph (negative inside), in unit coordinates."""
    return min(segment_distance(x, y, ax, ay, bx, by) for (ax, ay), (bx, by) in strokes) - width


def rounded_square_sdf(x, y, radius):
    """Signed distance to the unit square with rounded corners (negative inside)."""
    qx = abs(x - 0.5) - (0.5 - radius)
    qy = abs(y - 0.5) - (0.5 - radius)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    inside = min(max(qx, qy), 0.0)
    return outside + inside - radius


def scaled_strokes(scale):
    """The glyph scaled about the icon centre (used to fit the maskable safe zone)."""
    def s(p):
        return (0.5 + (p[0] - 0.5) * scale, 0.5 + (p[1] - 0.5) * scale)
    return [(s(a), s(b)) for a, b in STROKES], STROKE * scale


def coverage(sdf, x, y, pixel):
    """Fraction of the pixel whose top-left is (x, y) (unit coords, side `pixel`) inside sdf."""
    centre = sdf(x + pixel / 2, y + pixel / 2)
    if centre > pixel:  # more than half a pixel diagonal away: wholly outside, or inside
        return 0.0
    if centre < -pixel:
        return 1.0
    n = SUPERSAMPLE
    step = pixel / n
    hits = 0
    for j in range(n):
        sy = y + (j + 0.5) * step
        for i in range(n):
            if sdf(x + (i + 0.5) * step, sy) <= 0.0:
                hits += 1
    return hits / (n * n)


def render(size, full_bleed, glyph_scale):
    """Returns rows of RGBA bytes (alpha is 255 everywhere when full_bleed)."""
    strokes, width = scaled_strokes(glyph_scale)
    glyph = lambda x, y: glyph_sdf(x, y, strokes, width)
    shape = lambda x, y: rounded_square_sdf(x, y, CORNER_RADIUS)
    pixel = 1.0 / size
    rows = []
    for py in range(size):
        row = bytearray()
        y = py * pixel
        for px in range(size):
            x = px * pixel
            a_shape = 1.0 if full_bleed else coverage(shape, x, y, pixel)
            a_glyph = coverage(glyph, x, y, pixel) if a_shape > 0.0 else 0.0
            rgb = [round(b + (g - b) * a_glyph) for b, g in zip(BRAND, GLYPH)]
            row += bytes(rgb) + bytes([round(255 * a_shape)])
        rows.append(bytes(row))
    return rows


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, size, rows, alpha):
    """8-bit RGBA (colour type 6) or RGB (colour type 2), filter 0 on every row."""
    channels = 4 if alpha else 3
    raw = bytearray()
    for row in rows:
        raw.append(0)
        if alpha:
            raw += row
        else:
            for i in range(0, len(row), 4):
                raw += row[i:i + 3]
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6 if alpha else 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n"
    data += png_chunk(b"IHDR", ihdr)
    data += png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    data += png_chunk(b"IEND", b"")
    path.write_bytes(data)
    assert len(raw) == size * (1 + size * channels)


ICONS = [
    # file name, size, full bleed (opaque RGB), glyph scale
    ("icon-192.png", 192, False, 1.0),
    ("icon-512.png", 512, False, 1.0),
    # Maskable: the safe zone is the centred circle of radius 40%; scaling the glyph by 0.8
    # keeps its farthest point about 0.29 from the centre.
    ("icon-maskable-512.png", 512, True, 0.8),
    ("apple-touch-icon.png", 180, True, 1.0),
]


def main():
    out = Path(__file__).resolve().parent.parent / "public" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for name, size, full_bleed, scale in ICONS:
        rows = render(size, full_bleed, scale)
        write_png(out / name, size, rows, alpha=not full_bleed)
        print(f"wrote {out / name} ({size}x{size})", file=sys.stderr)


if __name__ == "__main__":
    main()
