"""Mouth interior and eyelids drawn over the warped portrait with soft masks.

Both work column by column between two landmark curves (inner upper/lower lip; upper lid and lid edge), so
the masks are smooth functions of the landmark positions: they slide continuously from frame to frame and
never pop. The mouth interior fades in only as the lips part beyond their rest gap, so a portrait at rest is
left untouched; the lid is skin sampled just above the upper lid and slid down over the eye.
"""
from __future__ import annotations

import numpy as np

from ....rigs.arkit import INDEX
from . import landmarks as L

CAVITY = np.array([48.0, 16.0, 18.0], np.float32)
TEETH = np.array([214.0, 206.0, 188.0], np.float32)
TONGUE = np.array([138.0, 58.0, 62.0], np.float32)


def _smooth(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _curve(pts: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """y of a contour (K, 2) at columns xs, linear between landmarks, flat beyond its ends."""
    o = np.argsort(pts[:, 0], kind="stable")
    return np.interp(xs, pts[o, 0], pts[o, 1])


def _box(x0: float, x1: float, y0: float, y1: float, shape, pad: int = 2):
    h, w = shape[:2]
    xa, xb = max(int(np.floor(x0)) - pad, 0), min(int(np.ceil(x1)) + pad + 1, w)
    ya, yb = max(int(np.floor(y0)) - pad, 0), min(int(np.ceil(y1)) + pad + 1, h)
    return xa, xb, ya, yb


def mouth_opening(lm2: np.ndarray) -> float:
    """Lip gap at the middle of the mouth in pixels (inner upper to inner lower lip)."""
    return float(np.mean([lm2[b, 1] - lm2[a, 1] for a, b in ((82, 87), (13, 14), (312, 317))]))


def draw_mouth(out: np.ndarray, lm2: np.ndarray, rest_lm: np.ndarray, rest_image: np.ndarray, s: float,
               weights: np.ndarray) -> None:
    """Composite cavity, teeth and tongue inside the inner lip contour, in place (out: (H, W, 3) uint8).

    Teeth already visible in the portrait stay attached to the upper lip (the upper jaw does not move);
    a portrait with closed lips gets a drawn upper-teeth band instead.
    """
    gap = mouth_opening(lm2)
    rest_gap = mouth_opening(rest_lm)
    fade = _smooth(0.0, 0.06 * s, gap - max(rest_gap, 0.0))
    if fade <= 0.0:
        return
    up, lo = lm2[list(L.LIPS_INNER_UPPER)], lm2[list(L.LIPS_INNER_LOWER)]
    xl, xr = min(up[:, 0].min(), lo[:, 0].min()), max(up[:, 0].max(), lo[:, 0].max())
    tongue_out = float(weights[INDEX["tongueOut"]])
    y_hi = max(lo[:, 1].max(), lo[:, 1].max() + tongue_out * 0.25 * s)
    xa, xb, ya, yb = _box(xl, xr, min(up[:, 1].min(), lo[:, 1].min()), y_hi, out.shape)
    if xb <= xa or yb <= ya:
        return
    xs = np.arange(xa, xb, dtype=np.float32)
    ys = np.arange(ya, yb, dtype=np.float32)[:, None]
    top, bot = _curve(up, xs)[None, :], _curve(lo, xs)[None, :]  # (1, w)
    inside = _smooth(top - 0.5, top + 1.2, ys) * (1.0 - _smooth(bot - 1.2, bot + 0.5, ys))  # (h, w)
    inside *= (xs >= xl)[None, :] & (xs <= xr)[None, :]
    open_px = np.maximum(bot - top, 0.0)
    cx, half = 0.5 * (xl + xr), max(0.5 * (xr - xl), 1.0)
    lateral = np.clip(np.abs(xs - cx) / half, 0, 1)[None, :]  # 0 centre, 1 corner
    depth = np.clip((ys - top) / np.maximum(open_px, 1.0), 0, 1)
    col = CAVITY * (0.55 + 0.45 * (1 - lateral) ** 2)[..., None] * (1.0 - 0.35 * np.sin(np.pi * depth))[..., None]
    # Upper incisors hang from under the upper lip; the band is shallower toward the corners.
    th = 0.12 * s * (1 - 0.5 * lateral ** 2)
    own_teeth = _smooth(0.02 * s, 0.06 * s, rest_gap)  # 1 when the portrait shows its teeth
    teeth = (1.0 - _smooth(top + th - 1.0, top + th + 0.8, ys)) * (1 - _smooth(0.7, 1.0, lateral)) * (1 - own_teeth)
    tshade = (0.95 - 0.45 * lateral ** 2)[..., None]
    col = col * (1 - teeth[..., None]) + TEETH * tshade * teeth[..., None]
    # Lower teeth show at the lower lip only when the jaw is well open.
    lh = 0.045 * s * _smooth(0.15 * s, 0.35 * s, float(open_px.max())) * (1 - 0.5 * lateral ** 2)
    lteeth = _smooth(bot - lh - 0.8, bot - lh + 1.0, ys) * (1 - _smooth(0.6, 0.9, lateral)) * (lh > 0.5)
    col = col * (1 - lteeth[..., None]) + TEETH * 0.9 * tshade * lteeth[..., None]
    # Tongue: an ellipse resting on the floor of the mouth, pushed out past the lower lip by tongueOut.
    gmax = float(open_px.max())
    ty = float(np.interp(cx, xs, bot[0])) - 0.08 * gmax + tongue_out * 0.2 * s
    rx, ry = 0.5 * half, max(0.25 * gmax, 0.05 * s) + tongue_out * 0.08 * s
    r = ((xs[None, :] - cx) / rx) ** 2 + ((ys - ty) / ry) ** 2
    tongue = 1.0 - _smooth(0.8, 1.05, r)
    tongue_col = TONGUE * (1.05 - 0.35 * np.clip(r, 0, 1))[..., None]
    col = col * (1 - tongue[..., None]) + tongue_col * tongue[..., None]
    if own_teeth > 0:
        # Rest-image mouth interior carried by the upper lip's motion, faded out toward the rest lower lip.
        rup, rlo = rest_lm[list(L.LIPS_INNER_UPPER)], rest_lm[list(L.LIPS_INNER_LOWER)]
        o = np.argsort(up[:, 0])
        shift_x = np.interp(xs, up[o, 0], up[o, 0] - rup[o, 0])[None, :]
        shift_y = np.interp(xs, up[o, 0], up[o, 1] - rup[o, 1])[None, :]
        qx = np.broadcast_to(xs[None, :] - shift_x, inside.shape)
        qy = ys - shift_y
        rtop, rbot = _curve(rup, qx[0])[None, :], _curve(rlo, qx[0])[None, :]
        keep = _smooth(rtop - 0.5, rtop + 1.0, qy) * (1 - _smooth(rbot - 0.45 * rest_gap, rbot - 0.1 * rest_gap, qy))
        from .warp import sample_bilinear
        tex = sample_bilinear(rest_image, np.ascontiguousarray(qx, np.float32),
                              np.ascontiguousarray(qy, np.float32)).astype(np.float32)
        k = (keep * own_teeth)[..., None]
        col = col * (1 - k) + tex * k
    mask = inside
    if tongue_out > 0:
        # The part of the tongue past the lip is drawn over the lower lip.
        mask = np.maximum(inside, tongue * _smooth(0.0, 0.3, tongue_out) * (ys > top))
    a = (fade * mask)[..., None]
    region = out[ya:yb, xa:xb].astype(np.float32)
    out[ya:yb, xa:xb] = np.clip(region * (1 - a) + col * a + 0.5, 0, 255).astype(np.uint8)


def draw_eyelid(out: np.ndarray, lm2: np.ndarray, upper: tuple, lower: tuple, closure: float, s: float) -> None:
    """Slide a skin lid from the upper lid line down toward the lower lid by ``closure`` in [0, 1], in place."""
    closure = float(np.clip(closure, 0.0, 1.0))
    if closure <= 0.01:
        return
    up, lo = lm2[list(upper)], lm2[list(lower)]
    xl, xr = up[:, 0].min(), up[:, 0].max()
    skin_h = 0.16 * s  # how far above the lid the skin texture is taken from
    xa, xb, ya, yb = _box(xl, xr, up[:, 1].min() - 2, lo[:, 1].max(), out.shape)
    if xb <= xa or yb <= ya:
        return
    xs = np.arange(xa, xb, dtype=np.float32)
    ys = np.arange(ya, yb, dtype=np.float32)[:, None]
    top, bot = _curve(up, xs)[None, :], _curve(lo, xs)[None, :]
    edge = top + closure * 1.04 * np.maximum(bot - top, 0.0)  # a little past the lower lid so it seals
    # Lid texture: the skin above the lid, mirrored about a line just above the lid and compressed.
    src_y = np.clip(top - 2.0 - 0.45 * (ys - top), top - skin_h, None)
    src_y = np.clip(src_y, 0, out.shape[0] - 1)
    y0 = np.floor(src_y).astype(np.int32)
    fy = (src_y - y0)[..., None]
    y1 = np.minimum(y0 + 1, out.shape[0] - 1)
    xi = np.broadcast_to(np.arange(xa, xb)[None, :], y0.shape)
    lid = out[y0, xi].astype(np.float32) * (1 - fy) + out[y1, xi].astype(np.float32) * fy
    # Lash line at the lid edge (shows once the lid has moved), soft shading toward it.
    lash = _smooth(0.05, 0.35, closure) * np.exp(-0.5 * ((ys - edge + 0.8) / (0.012 * s + 0.6)) ** 2)
    shade = 1.0 - 0.12 * np.clip((ys - top) / np.maximum(edge - top, 1.0), 0, 1)
    lid = lid * (shade * (1 - 0.6 * lash))[..., None]
    inside = _smooth(top - 1.5, top + 0.5, ys) * (1.0 - _smooth(edge - 0.8, edge + 0.8, ys))
    inside *= ((xs >= xl) & (xs <= xr))[None, :]
    a = (inside * _smooth(0.01, 0.12, closure))[..., None]
    region = out[ya:yb, xa:xb].astype(np.float32)
    out[ya:yb, xa:xb] = np.clip(region * (1 - a) + lid * a + 0.5, 0, 255).astype(np.uint8)


def compose(out: np.ndarray, lm2: np.ndarray, rest_lm: np.ndarray, rest_image: np.ndarray, s: float,
            weights: np.ndarray) -> None:
    """Draw the mouth interior and both eyelids onto a warped frame, in place."""
    draw_mouth(out, lm2, rest_lm, rest_image, s, weights)
    draw_eyelid(out, lm2, L.LEFT_EYE_UPPER, L.LEFT_EYE_LOWER, weights[INDEX["eyeBlinkLeft"]], s)
    draw_eyelid(out, lm2, L.RIGHT_EYE_UPPER, L.RIGHT_EYE_LOWER, weights[INDEX["eyeBlinkRight"]], s)
