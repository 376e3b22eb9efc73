"""Writes resources/icon.png (1024x1024), the app icon electron-builder converts for each platform.

Same mark as src-renderer's favicon: a rounded square with a violet-to-teal diagonal gradient, plus a
white play triangle for "studio". Pure standard library, so it regenerates anywhere:
    python3 resources/make-icon.py
"""
import struct
import zlib
from pathlib import Path

SIZE = 1024
RADIUS = 0.28 * SIZE  # rx 9 of 32 in the favicon
STOPS = [(0.0, (0xB9, 0xA9, 0xFF)), (0.55, (0x7D, 0x68, 0xF5)), (1.0, (0x4F, 0xB0, 0xC6))]


def gradient(t):
    for (t0, c0), (t1, c1) in zip(STOPS, STOPS[1:]):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return tuple(round(a + (b - a) * f) for a, b in zip(c0, c1))
    return STOPS[-1][1]


def coverage(x, y):
    """Anti-aliased inside-test for the rounded square (distance to the corner circle)."""
    cx = min(max(x, RADIUS), SIZE - RADIUS)
    cy = min(max(y, RADIUS), SIZE - RADIUS)
    d = ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5
    return min(max(RADIUS - d + 0.5, 0.0), 1.0)


def in_triangle(x, y):
    # Play triangle centred slightly right of centre.
    ax, ay, bx, by, cx, cy = 0.40 * SIZE, 0.30 * SIZE, 0.40 * SIZE, 0.70 * SIZE, 0.72 * SIZE, 0.50 * SIZE
    def side(px, py, qx, qy):
        return (x - qx) * (py - qy) - (px - qx) * (y - qy)
    s1, s2, s3 = side(ax, ay, bx, by), side(bx, by, cx, cy), side(cx, cy, ax, ay)
    return (s1 <= 0 and s2 <= 0 and s3 <= 0) or (s1 >= 0 and s2 >= 0 and s3 >= 0)


rows = bytearray()
for y in range(SIZE):
    rows.append(0)  # filter: none
    for x in range(SIZE):
        a = coverage(x + 0.5, y + 0.5)
        r, g, b = gradient((x + y) / (2 * SIZE))
        if in_triangle(x + 0.5, y + 0.5):
            r, g, b = (0xFF, 0xFF, 0xFF)
        rows += bytes((r, g, b, round(a * 255)))


def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)


png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', SIZE, SIZE, 8, 6, 0, 0, 0))
png += chunk(b'IDAT', zlib.compress(bytes(rows), 9)) + chunk(b'IEND', b'')
Path(__file__).with_name('icon.png').write_bytes(png)
