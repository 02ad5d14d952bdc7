"""Render docs/proxy_head.png: the proxy head at rest and at ten expressions (numpy software rasterizer).

Usage: python tools/render_proxy_sheet.py [-o docs/proxy_head.png] [--size 320]
Needs numpy and Pillow (for the PNG and the labels).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dreamtalk.rigs.arkit import INDEX, NUM_BLENDSHAPES
from dreamtalk.rigs.proxy_head import MATERIALS, ProxyHead, build_proxy_head, vertex_normals

EXPRESSIONS: list[tuple[str, dict[str, float], tuple[float, float, float]]] = [
    ("rest", {}, (0.0, 0.0, 0.0)),
    ("rest, 3/4 view", {}, (0.05, 0.6, 0.0)),
    ("smile", {"mouthSmileLeft": 1, "mouthSmileRight": 1, "cheekSquintLeft": 0.6, "cheekSquintRight": 0.6,
               "eyeSquintLeft": 0.4, "eyeSquintRight": 0.4, "mouthDimpleLeft": 0.3, "mouthDimpleRight": 0.3},
     (0, 0, 0)),
    ("sad", {"mouthFrownLeft": 1, "mouthFrownRight": 1, "browInnerUp": 1, "mouthShrugLower": 0.5,
             "eyeLookDownLeft": 0.3, "eyeLookDownRight": 0.3}, (0.12, 0, 0)),
    ("surprise", {"jawOpen": 0.7, "browInnerUp": 1, "browOuterUpLeft": 1, "browOuterUpRight": 1,
                  "eyeWideLeft": 1, "eyeWideRight": 1, "mouthFunnel": 0.3}, (0, 0, 0)),
    ("anger", {"browDownLeft": 1, "browDownRight": 1, "noseSneerLeft": 0.7, "noseSneerRight": 0.7,
               "eyeSquintLeft": 0.6, "eyeSquintRight": 0.6, "mouthPressLeft": 0.8, "mouthPressRight": 0.8,
               "mouthRollLower": 0.3}, (0, 0, 0)),
    ("blink", {"eyeBlinkLeft": 1, "eyeBlinkRight": 1}, (0, 0, 0)),
    ('"ah" (jawOpen)', {"jawOpen": 1.0}, (0, 0, 0)),
    ('"oo" (pucker)', {"mouthPucker": 1, "mouthFunnel": 0.3, "jawOpen": 0.1}, (0, 0.5, 0)),
    ("tongue out", {"jawOpen": 0.6, "tongueOut": 1}, (0, 0, 0)),
    ("cheek puff", {"cheekPuff": 1, "mouthClose": 0.0, "mouthPucker": 0.3}, (0, 0.5, 0)),
    ("look left, smirk", {"eyeLookOutLeft": 1, "eyeLookInRight": 1, "mouthSmileLeft": 1,
                          "mouthLeft": 0.5, "browOuterUpLeft": 0.6}, (0, 0.25, -0.1)),
]


def weights_for(d: dict[str, float]) -> np.ndarray:
    """(52,) ARKit-order weights from a name -> value dict."""
    w = np.zeros(NUM_BLENDSHAPES)
    for k, x in d.items():
        w[INDEX[k]] = x
    return w


def render(head: ProxyHead, weights: np.ndarray, head_rotation, size: int = 320) -> np.ndarray:
    """(size, size, 3) uint8 sRGB image of the posed head seen from the front (+Z), orthographic."""
    v = head.pose(weights, head_rotation)
    n = vertex_normals(v, head.triangles)
    tris = head.triangles.astype(np.int64)
    mats = head.material_ids
    colors = np.array([head.material_colors[m][:3] for m in MATERIALS])
    center = np.array([0.0, -0.02, 0.0])
    scale = size / 0.27  # pixels per metre
    sx = (v[:, 0] - center[0]) * scale + size / 2
    sy = size / 2 - (v[:, 1] - center[1]) * scale
    depth = v[:, 2]
    zbuf = np.full((size, size), -np.inf)
    nbuf = np.zeros((size, size, 3))
    cbuf = np.zeros((size, size, 3))
    light = np.array([-0.35, 0.45, 0.82])
    light /= np.linalg.norm(light)
    for f in range(len(tris)):
        i0, i1, i2 = tris[f]
        x0, x1, x2 = sx[i0], sx[i1], sx[i2]
        y0, y1, y2 = sy[i0], sy[i1], sy[i2]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if abs(area) < 1e-12:
            continue
        xa, xb = int(max(np.floor(min(x0, x1, x2)), 0)), int(min(np.ceil(max(x0, x1, x2)), size - 1))
        ya, yb = int(max(np.floor(min(y0, y1, y2)), 0)), int(min(np.ceil(max(y0, y1, y2)), size - 1))
        if xa > xb or ya > yb:
            continue
        px, py = np.meshgrid(np.arange(xa, xb + 1) + 0.5, np.arange(ya, yb + 1) + 0.5)
        w0 = ((x1 - px) * (y2 - py) - (x2 - px) * (y1 - py)) / area
        w1 = ((x2 - px) * (y0 - py) - (x0 - px) * (y2 - py)) / area
        w2 = 1 - w0 - w1
        inside = (w0 >= -1e-9) & (w1 >= -1e-9) & (w2 >= -1e-9)
        if not inside.any():
            continue
        z = w0 * depth[i0] + w1 * depth[i1] + w2 * depth[i2]
        sub = zbuf[ya:yb + 1, xa:xb + 1]
        upd = inside & (z > sub)
        if not upd.any():
            continue
        sub[upd] = z[upd]
        nn = w0[..., None] * n[i0] + w1[..., None] * n[i1] + w2[..., None] * n[i2]
        nbuf[ya:yb + 1, xa:xb + 1][upd] = nn[upd]
        cbuf[ya:yb + 1, xa:xb + 1][upd] = colors[mats[f]]
    hit = np.isfinite(zbuf)
    nrm = nbuf / np.maximum(np.linalg.norm(nbuf, axis=-1, keepdims=True), 1e-12)
    lam = np.abs(nrm @ light)  # double-sided: lids and pouch are seen from either side
    rim = np.clip(nrm[..., 2], 0, 1)
    shade = 0.18 + 0.75 * lam + 0.07 * rim
    img = np.where(hit[..., None], cbuf * shade[..., None], np.array([0.82, 0.84, 0.88]))
    srgb = np.where(img <= 0.0031308, 12.92 * img, 1.055 * np.power(np.clip(img, 0, None), 1 / 2.4) - 0.055)
    return (np.clip(srgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def main(argv=None) -> int:
    """Render the sheet and write it as a PNG."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(Path(__file__).resolve().parents[1] / "docs" / "proxy_head.png"))
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--only", help="render one expression by label prefix (for quick looks)")
    a = ap.parse_args(argv)
    from PIL import Image, ImageDraw

    from dreamtalk.core.fileio import atomic_path
    head = build_proxy_head()
    items = [e for e in EXPRESSIONS if not a.only or e[0].startswith(a.only)]
    cols = 4 if len(items) > 3 else len(items)
    rows = (len(items) + cols - 1) // cols
    s, pad = a.size, 26
    sheet = Image.new("RGB", (cols * s, rows * (s + pad)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for k, (label, w, hr) in enumerate(items):
        img = render(head, weights_for(w), np.array(hr), s)
        r, c = divmod(k, cols)
        sheet.paste(Image.fromarray(img), (c * s, r * (s + pad) + pad))
        draw.text((c * s + 8, r * (s + pad) + 7), label, fill=(0, 0, 0))
    with atomic_path(a.output) as tmp:
        sheet.save(tmp, format="PNG")
    print(f"wrote {a.output} ({len(items)} views, {head.num_vertices} vertices)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
