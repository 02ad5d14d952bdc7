"""Dense piecewise-affine warp of a portrait driven by moved landmarks (numpy; scipy's Delaunay once at setup).

Setup (once per portrait): a triangle mesh over the rest landmarks, a ring of "head" points outside the face
oval (they follow head rotation, so hair and ears move with the face) and anchors on the image border and at
shoulder height (never move). Every output pixel's triangle and barycentric coordinates in the REST mesh are
computed once. Per frame each triangle's affine map (rest -> moved) is computed and the backward map is
solved by fixed-point steps (a few gathers per pixel, on the even pixels; the rest are interpolated). The image is then sampled bilinearly at the source positions. Unmoved vertices give the
input back bit for bit.
"""
from __future__ import annotations

import numpy as np

from . import landmarks as L

FIXED_POINT_STEPS = 3


class WarpMesh:
    """Per-pixel triangle tables of a point set over a size x size image, and the warp itself."""

    def __init__(self, points: np.ndarray, size: int):
        from scipy.spatial import Delaunay  # setup only; the per-frame path is numpy

        self.size = n = int(size)
        if n % 2:
            raise ValueError("warp size must be even")
        self.points = np.asarray(points, np.float64)  # (N, 2) rest positions in pixels
        tri = Delaunay(self.points)
        self.triangles = tri.simplices.astype(np.int32)  # (M, 3)
        ys, xs = np.mgrid[0:n, 0:n]
        pix = np.stack([xs.ravel(), ys.ravel()], -1).astype(np.float64)  # pixel centres at integer coordinates
        simplex = tri.find_simplex(pix)
        # Off the hull is impossible with the border anchors; map such pixels to their nearest triangle anyway.
        if np.any(simplex < 0):
            cent = self.points[self.triangles].mean(1)
            bad = np.nonzero(simplex < 0)[0]
            simplex[bad] = np.argmin(((pix[bad, None] - cent[None]) ** 2).sum(-1), 1)
        self.tri_at = simplex.astype(np.int32)  # (n*n,) rest triangle under each pixel
        # The backward map is solved on the even pixels (half resolution) and interpolated to the rest.
        self.gx = xs[0::2, 0::2].ravel().astype(np.float32)
        self.gy = ys[0::2, 0::2].ravel().astype(np.float32)
        self.g_tri = self.tri_at.reshape(n, n)[0::2, 0::2].ravel()

    def source_coords(self, moved: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, n) x and y source positions of every output pixel for vertices moved to ``moved`` (N, 2).

        Solves q + d(q) = p by fixed-point steps q <- p - d(q), with d evaluated exactly on the mesh (the
        affine map of the rest triangle under q). Each step is a continuous function of p, so folds (a
        silhouette turning away, lips meeting) blur a little instead of speckling; where |grad d| < 1 it
        converges geometrically.
        """
        n = self.size
        fa, fb, fc, fd, fe, ff = self._forward(moved)
        px, py = self.gx, self.gy
        qx, qy, t = px, py, self.g_tri
        for step in range(FIXED_POINT_STEPS):
            if step:
                ix = np.clip(qx + 0.5, 0, n - 1).astype(np.int32)
                iy = np.clip(qy + 0.5, 0, n - 1).astype(np.int32)
                t = self.tri_at[iy * n + ix]
            dx = fa[t] * qx + fb[t] * qy + fc[t] - qx
            dy = fd[t] * qx + fe[t] * qy + ff[t] - qy
            qx, qy = px - dx, py - dy
        h = n // 2
        return _upsample2(qx.reshape(h, h)), _upsample2(qy.reshape(h, h))

    @property
    def _rest_inverse(self) -> np.ndarray:
        """(6, M) maps from a rest point to its barycentric (u, v) in each rest triangle (cached)."""
        if getattr(self, "_rest_inv", None) is None:
            r = self.points[self.triangles]
            e1, e2 = r[:, 1] - r[:, 0], r[:, 2] - r[:, 0]
            det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
            inv = np.where(np.abs(det) > 1e-9, 1.0 / np.where(np.abs(det) > 1e-9, det, 1.0), 0.0)
            ua, ub, va, vb = e2[:, 1] * inv, -e2[:, 0] * inv, -e1[:, 1] * inv, e1[:, 0] * inv
            uc = -(ua * r[:, 0, 0] + ub * r[:, 0, 1])
            vc = -(va * r[:, 0, 0] + vb * r[:, 0, 1])
            self._rest_inv = np.stack([ua, ub, uc, va, vb, vc]).astype(np.float32)
        return self._rest_inv

    def _forward(self, moved: np.ndarray) -> np.ndarray:
        """(6, M) per-triangle affine maps rest -> moved."""
        ua, ub, uc, va, vb, vc = self._rest_inverse.astype(np.float64)
        m = np.asarray(moved, np.float64)[self.triangles]
        m1, m2 = m[:, 1] - m[:, 0], m[:, 2] - m[:, 0]
        # moved = m0 + u m1 + v m2 with (u, v) affine in the rest point
        a = m1[:, 0] * ua + m2[:, 0] * va
        b = m1[:, 0] * ub + m2[:, 0] * vb
        c = m[:, 0, 0] + m1[:, 0] * uc + m2[:, 0] * vc
        d = m1[:, 1] * ua + m2[:, 1] * va
        e = m1[:, 1] * ub + m2[:, 1] * vb
        f = m[:, 0, 1] + m1[:, 1] * uc + m2[:, 1] * vc
        return np.stack([a, b, c, d, e, f]).astype(np.float32)

    def warp(self, image: np.ndarray, moved: np.ndarray) -> np.ndarray:
        """(n, n, 3) uint8: ``image`` warped so that mesh vertex i moves from ``points[i]`` to ``moved[i]``."""
        moved = np.asarray(moved, np.float64)
        if np.array_equal(moved, self.points):
            return image.copy()
        qx, qy = self.source_coords(moved)
        return sample_bilinear(image, qx, qy)


def _upsample2(g: np.ndarray) -> np.ndarray:
    """(2h, 2h) from values at even pixels (h, h): linear in between, extrapolated at the last row/column."""
    h = g.shape[0]
    ext = np.empty((h + 1, h + 1), g.dtype)
    ext[:h, :h] = g
    ext[h, :h] = 2 * g[h - 1] - g[h - 2]
    ext[:, h] = 2 * ext[:, h - 1] - ext[:, h - 2]
    out = np.empty((2 * h, 2 * h), g.dtype)
    out[0::2, 0::2] = g
    out[0::2, 1::2] = 0.5 * (ext[:h, :h] + ext[:h, 1:])
    out[1::2, 0::2] = 0.5 * (ext[:h, :h] + ext[1:, :h])
    out[1::2, 1::2] = 0.25 * (ext[:h, :h] + ext[1:, :h] + ext[:h, 1:] + ext[1:, 1:])
    return out


def sample_bilinear(image: np.ndarray, qx: np.ndarray, qy: np.ndarray, use_cv2: bool | None = None) -> np.ndarray:
    """(n, n, C) uint8 samples of an (H, W, C) uint8 image at float positions (n, n), clamped to the border.

    OpenCV's remap (installed with mediapipe) is used when present: about 20x faster than numpy gathers here.
    It interpolates with 1/32-pixel weights, so the two paths differ by a few levels at sharp edges.
    """
    if use_cv2 is None or use_cv2:
        try:
            import cv2
        except ImportError:
            if use_cv2:
                raise
        else:
            return cv2.remap(image, qx.astype(np.float32), qy.astype(np.float32), cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    h, w, ch = image.shape
    flat = image.reshape(h * w, ch)
    x = np.clip(qx.ravel(), 0, w - 1)
    y = np.clip(qy.ravel(), 0, h - 1)
    x0 = np.minimum(x.astype(np.int32), w - 2)
    y0 = np.minimum(y.astype(np.int32), h - 2)
    ax = (x - x0)[:, None]
    ay = (y - y0)[:, None]
    k = y0 * w + x0
    p00 = flat[k].astype(np.float32)
    p01 = flat[k + 1].astype(np.float32)
    p10 = flat[k + w].astype(np.float32)
    p11 = flat[k + w + 1].astype(np.float32)
    top = p00 + (p01 - p00) * ax
    bot = p10 + (p11 - p10) * ax
    out = top + (bot - top) * ay
    return (out + 0.5).astype(np.uint8).reshape(qx.shape + (ch,))  # in [0, 255]: +0.5 and truncation round


def head_points(lm: np.ndarray, size: int) -> np.ndarray:
    """(K, 3) points outside the face oval that move rigidly with the head (hair, ears), inside the image."""
    oval = lm[list(L.FACE_OVAL)]
    centre = 0.5 * (lm[L.FOREHEAD] + lm[L.CHIN])
    s = L.eye_distance(lm)
    mouth_y = 0.5 * (lm[13, 1] + lm[14, 1])
    pts = []
    for k, scale in ((0, 1.25), (1, 1.55)):
        ring = centre + (oval - centre) * np.array([scale, scale, 1.0])
        ring[:, 2] = oval[:, 2] + 0.3 * s * (k + 1)  # behind the face surface
        keep = oval[:, 1] < mouth_y  # below the mouth is neck: left to stretch toward the shoulders
        pts.append(ring[keep])
    pts = np.concatenate(pts)
    m = 3.0
    inside = (pts[:, 0] > m) & (pts[:, 0] < size - 1 - m) & (pts[:, 1] > m) & (pts[:, 1] < size - 1 - m)
    return pts[inside]


def anchor_points(lm: np.ndarray, size: int) -> np.ndarray:
    """(K, 2) points that never move: the image border and a row at shoulder height."""
    n = size - 1
    t = np.linspace(0, n, 9)
    border = np.concatenate([np.stack([t, np.zeros_like(t)], -1), np.stack([t, np.full_like(t, n)], -1),
                             np.stack([np.zeros_like(t[1:-1]), t[1:-1]], -1),
                             np.stack([np.full_like(t[1:-1], n), t[1:-1]], -1)])
    fh = L.face_size(lm)
    y = lm[L.CHIN, 1] + 0.75 * fh
    pts = [border]
    if y < n - 4:
        xs = np.linspace(0, n, 9)[1:-1]
        pts.append(np.stack([xs, np.full_like(xs, y)], -1))
    return np.concatenate(pts)


def remove_close(points: np.ndarray, keep_first: int, min_dist: float = 1.5) -> np.ndarray:
    """Indices of ``points`` to keep: the first ``keep_first`` always, later ones only if not near a kept one."""
    kept = list(range(keep_first))
    for i in range(keep_first, len(points)):
        d = np.hypot(*(points[kept] - points[i]).T)
        if d.min() >= min_dist:
            kept.append(i)
    return np.array(kept)
