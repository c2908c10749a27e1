# Draws SentinelZero's icons: the app icon and three tray template icons (black + alpha).
# Run from anywhere: `python3 icons/draw.py` writes the PNGs next to this script.
import math, os, struct, zlib, sys

os.chdir(os.path.dirname(os.path.abspath(__file__)))

def png(path, w, h, pixel):
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            row += bytes(pixel(x, y))
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

def coverage(size, inside, ss=4):
    # Anti-aliasing: the share of sub-samples inside the shape.
    def cov(x, y):
        n = 0
        for i in range(ss):
            for j in range(ss):
                u = (x + (i + 0.5) / ss) / size
                v = (y + (j + 0.5) / ss) / size
                n += inside(u, v)
        return n / (ss * ss)
    return cov

def ring(u, v, r_out=0.44, r_in=0.31):
    d = math.hypot(u - 0.5, v - 0.5)
    return r_in <= d <= r_out

def dot(u, v, r=0.14):
    return math.hypot(u - 0.5, v - 0.5) <= r

def bang(u, v):
    # An exclamation mark inside the ring.
    bar = abs(u - 0.5) <= 0.055 and 0.27 <= v <= 0.58
    point = math.hypot(u - 0.5, v - 0.70) <= 0.06
    return bar or point

def check(u, v):
    # A check mark: two thick strokes.
    def seg(ax, ay, bx, by, w):
        dx, dy = bx - ax, by - ay
        t = max(0, min(1, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
        return math.hypot(u - (ax + t * dx), v - (ay + t * dy)) <= w
    return seg(0.36, 0.51, 0.46, 0.61, 0.05) or seg(0.46, 0.61, 0.65, 0.39, 0.05)

shapes = {
    "tray-ok": lambda u, v: ring(u, v) or check(u, v),
    "tray-busy": lambda u, v: ring(u, v) or dot(u, v),
    "tray-failed": lambda u, v: ring(u, v) or bang(u, v),
}
for name, shape in shapes.items():
    for size, suffix in [(22, ""), (44, "@2x")]:
        cov = coverage(size, shape)
        png(f"{name}{suffix}.png", size, size, lambda x, y: (0, 0, 0, round(255 * cov(x, y))))

# The app icon: a green rounded square with the white ring and check.
def app_pixel(size):
    cov_shape = coverage(size, lambda u, v: ring(u, v, 0.33, 0.24) or check((u - 0.5) * 1.35 + 0.5, (v - 0.5) * 1.35 + 0.5), 2)
    def rounded(u, v, r=0.2, m=0.06):
        x = min(max(u, m + r), 1 - m - r); y = min(max(v, m + r), 1 - m - r)
        return math.hypot(u - x, v - y) <= r
    cov_bg = coverage(size, rounded, 2)
    def pixel(x, y):
        bg = cov_bg(x, y)
        fg = cov_shape(x, y)
        top = (52, 199, 89); bottom = (36, 138, 61)
        t = y / size
        base = [round(top[i] * (1 - t) + bottom[i] * t) for i in range(3)]
        col = [round(base[i] * (1 - fg) + 255 * fg) for i in range(3)]
        return (*col, round(255 * bg))
    return pixel
for size, name in [(512, "icon.png"), (32, "32x32.png"), (128, "128x128.png"), (256, "128x128@2x.png")]:
    png(name, size, size, app_pixel(size))
print("ok")
