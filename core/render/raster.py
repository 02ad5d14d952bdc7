"""A numpy z-buffer triangle rasterizer with a perspective camera and Gouraud (per-vertex) shading.

Speed comes from never testing a pixel that a triangle cannot cover: each triangle is cut into the pixel
rows it spans, each row's covered x-interval is solved from the three edge functions at once, and the
intervals are expanded into pixels with ``np.repeat``. Depth and triangle id are packed into one int64 key
so a single ``np.minimum.at`` resolves visibility (nearest wins, ties go to the lower triangle id).

Screen convention: pixel (i, j) has its centre at (i + 0.5, j + 0.5), x to the right, y down.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_TRI_BITS = 21  # triangle ids packed into the low bits of the depth key (up to 2M triangles)
_DEPTH_LEVELS = float(2 ** 40)
_EMPTY = np.iinfo(np.int64).max


@dataclass
class Camera:
    """A pinhole camera: ``eye`` looks at ``target`` with ``up`` roughly up; ``fov_y`` in degrees."""

    eye: np.ndarray  # (3,) world position
    target: np.ndarray  # (3,) world point in the image centre
    width: int = 512
    height: int = 512
    fov_y: float = 25.0
    up: tuple[float, float, float] = (0.0, 1.0, 0.0)

    def __post_init__(self) -> None:
        self.eye = np.asarray(self.eye, dtype=np.float64)
        self.target = np.asarray(self.target, dtype=np.float64)
        f = self.target - self.eye
        f /= np.linalg.norm(f)
        r = np.cross(f, np.asarray(self.up, dtype=np.float64))
        if np.linalg.norm(r) < 1e-9:
            raise ValueError("camera up vector is parallel to the view direction")
        r /= np.linalg.norm(r)
        u = np.cross(r, f)
        self.rotation = np.stack([r, u, f])  # (3, 3) world -> camera rows: right, up, forward
        self.focal = 0.5 * self.height / math.tan(math.radians(self.fov_y) / 2)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel x (N,), pixel y (N,) and camera depth (N,) for (N, 3) world points."""
        pc = (np.asarray(points, dtype=np.float64) - self.eye) @ self.rotation.T  # (N, 3)
        z = pc[:, 2]
        zs = np.where(z > 1e-9, z, 1e-9)
        x = 0.5 * self.width + self.focal * pc[:, 0] / zs
        y = 0.5 * self.height - self.focal * pc[:, 1] / zs
        return x, y, z


def orbit_camera(target, distance: float, azimuth_deg: float = 0.0, elevation_deg: float = 0.0,
                 size: int = 512, fov_y: float = 25.0) -> Camera:
    """A camera on a sphere around ``target``; azimuth 0 looks from +Z, positive azimuth moves toward +X."""
    a, e = math.radians(azimuth_deg), math.radians(elevation_deg)
    offset = distance * np.array([math.sin(a) * math.cos(e), math.sin(e), math.cos(a) * math.cos(e)])
    t = np.asarray(target, dtype=np.float64)
    return Camera(t + offset, t, size, size, fov_y)


@dataclass
class Fragments:
    """Visible surface per covered pixel: flat pixel index, triangle id, barycentrics and facing."""

    pixels: np.ndarray  # (P,) int64 flat index y * width + x
    tri: np.ndarray  # (P,) int64 triangle id (index into the input triangles)
    bary: np.ndarray  # (P, 3) float32 screen-space barycentric weights of the triangle's 3 corners
    front: np.ndarray  # (P,) bool: the triangle faces the camera (counter-clockwise on screen as seen)
    width: int
    height: int

    def id_image(self) -> np.ndarray:
        """(H, W) int64 triangle id per pixel, -1 where empty."""
        img = np.full(self.width * self.height, -1, np.int64)
        img[self.pixels] = self.tri
        return img.reshape(self.height, self.width)


def _row_spans(x0, y0, x1, y1, x2, y2, row_t, yc, width: int):
    """Per row of a triangle: first and last pixel column whose centre is inside, (R,) each; (-1, -2) outside.
    Corners are positively oriented; an edge (p -> q) function E = (qx - px)(y - py) - (qy - py)(x - px) >= 0
    inside is linear in x along a row: E = a x + b."""
    total = len(row_t)
    xl = np.full(total, -np.inf)
    xr = np.full(total, np.inf)
    ok = np.ones(total, bool)
    for (px, py, qx, qy) in ((x0, y0, x1, y1), (x1, y1, x2, y2), (x2, y2, x0, y0)):
        dx, dy = (qx - px)[row_t], (qy - py)[row_t]
        pxr = px[row_t]
        b = dx * (yc - py[row_t]) + dy * pxr
        a = -dy
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = -b / a
        xl = np.where(a > 0, np.maximum(xl, cut), xl)
        xr = np.where(a < 0, np.minimum(xr, cut), xr)
        ok &= (a != 0) | (b >= 0)
    eps = 1e-6  # shared edges: a pixel centre exactly on an edge is claimed by both sides, never by none
    c0 = np.maximum(np.ceil(xl - 0.5 - eps), 0)
    c1 = np.minimum(np.floor(xr - 0.5 + eps), width - 1)
    cnt = np.where(ok & (c1 >= c0), c1 - c0 + 1, 0).astype(np.int64)
    return c0, cnt


def _visible(tris, sx, sy, depth, width: int, height: int, double_sided, near: float):
    """Kept triangle ids (front-facing or double-sided, on screen, in front of ``near``) and per-triangle
    corner coordinates, signed area and facing."""
    x0, x1, x2 = sx[tris[:, 0]], sx[tris[:, 1]], sx[tris[:, 2]]
    y0, y1, y2 = sy[tris[:, 0]], sy[tris[:, 1]], sy[tris[:, 2]]
    # With y down, a triangle counter-clockwise in the viewer's eyes has negative signed area here.
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    front = area < 0
    keep = front if double_sided is None else (front | np.asarray(double_sided, bool))
    zmin = np.minimum(np.minimum(depth[tris[:, 0]], depth[tris[:, 1]]), depth[tris[:, 2]])
    ymin_f = np.minimum(np.minimum(y0, y1), y2)
    ymax_f = np.maximum(np.maximum(y0, y1), y2)
    xmin_f = np.minimum(np.minimum(x0, x1), x2)
    xmax_f = np.maximum(np.maximum(x0, x1), x2)
    keep &= (area != 0) & (zmin > near) & (xmax_f >= 0) & (xmin_f < width) & (ymax_f >= 0) & (ymin_f < height)
    return np.nonzero(keep)[0], (x0, y0, x1, y1, x2, y2), area, front, (ymin_f, ymax_f)


def _nearest(iz_tri, neg, corners, area, row_t, row_y, cnt, px_x, ids, fr, width: int, height: int) -> Fragments:
    """Depth test of every covered pixel (quantised 1/z in the high bits, triangle in the low bits of one
    int64, so one minimum per pixel resolves it) and the winners' barycentric weights in input corner order."""
    x0, y0, x1, y1, x2, y2 = corners
    yc = row_y + 0.5
    # 1/z is affine in screen space: plane coefficients per triangle from its 3 corners.
    iz0 = iz_tri[:, 0]
    iz1 = np.where(neg, iz_tri[:, 2], iz_tri[:, 1])
    iz2 = np.where(neg, iz_tri[:, 1], iz_tri[:, 2])
    # Barycentric weights of corners 1 and 2 as affine functions of (x, y).
    inv_a = 1.0 / area
    l1x, l1y = -(y0 - y2) * inv_a, (x0 - x2) * inv_a  # E(2->0) / area
    l2x, l2y = -(y1 - y0) * inv_a, (x1 - x0) * inv_a  # E(0->1) / area
    l1c = -(l1x * x2 + l1y * y2)
    l2c = -(l2x * x0 + l2y * y0)
    za = (iz1 - iz0) * l1x + (iz2 - iz0) * l2x
    zb = (iz1 - iz0) * l1y + (iz2 - iz0) * l2y
    zc = iz0 + (iz1 - iz0) * l1c + (iz2 - iz0) * l2c
    # Per row: invz = za * x + (zb * y + zc), so only one multiply-add per pixel.
    lo, hi = float(iz_tri.min()), float(iz_tri.max())
    scale = (_DEPTH_LEVELS - 1) / max(hi - lo, 1e-12)
    # Quantised depth q = (hi - invz) * scale, affine in x along a row: q = qa * x + qb.
    qa = -za[row_t] * scale
    qb = (hi - zb[row_t] * yc - zc[row_t]) * scale
    q = np.repeat(qa, cnt) * (px_x + 0.5)
    q += np.repeat(qb, cnt)
    np.clip(q, 0, _DEPTH_LEVELS - 1, out=q)
    key = q.astype(np.int64)
    key <<= _TRI_BITS
    key |= np.repeat(row_t, cnt)
    flat = np.repeat(row_y * width, cnt)
    flat += px_x
    zbuf = np.full(width * height, _EMPTY, np.int64)
    np.minimum.at(zbuf, flat, key)
    pixels = np.nonzero(zbuf != _EMPTY)[0]
    local = zbuf[pixels] & ((1 << _TRI_BITS) - 1)
    fx = (pixels % width) + 0.5
    fy = (pixels // width) + 0.5
    b1 = l1x[local] * fx + l1y[local] * fy + l1c[local]
    b2 = l2x[local] * fx + l2y[local] * fy + l2c[local]
    nl = neg[local]
    bary = np.empty((len(pixels), 3), np.float32)
    bary[:, 0] = 1 - b1 - b2
    bary[:, 1] = np.where(nl, b2, b1)  # undo the corner swap so weights match the input corner order
    bary[:, 2] = np.where(nl, b1, b2)
    np.clip(bary, 0.0, 1.0, out=bary)
    return Fragments(pixels, ids[local], bary, fr[local], width, height)


def rasterize(sx: np.ndarray, sy: np.ndarray, depth: np.ndarray, triangles: np.ndarray, width: int, height: int,
              double_sided: np.ndarray | None = None, near: float = 1e-3) -> Fragments:
    """Visible fragments of (F, 3) ``triangles`` over vertices at pixel coords ``sx, sy`` with camera ``depth``.

    Triangles wound counter-clockwise as seen by the camera are front faces; others are culled unless
    ``double_sided`` (F,) bool allows them. Triangles with a corner closer than ``near`` are dropped.
    """
    tris = np.asarray(triangles, dtype=np.int64)
    if tris.ndim != 2 or tris.shape[1] != 3:
        raise ValueError(f"triangles must be (F, 3), got {tris.shape}")
    if len(tris) >= 2 ** _TRI_BITS:
        raise ValueError(f"too many triangles ({len(tris)})")
    sx = np.asarray(sx, dtype=np.float64)
    sy = np.asarray(sy, dtype=np.float64)
    invz = 1.0 / np.maximum(np.asarray(depth, dtype=np.float64), near)
    ids, (x0, y0, x1, y1, x2, y2), area, front, (ymin_f, ymax_f) = _visible(tris, sx, sy, depth, width, height,
                                                                             double_sided, near)
    empty = Fragments(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3), np.float32),
                      np.zeros(0, bool), width, height)
    if len(ids) == 0:
        return empty
    # Make every kept triangle positively oriented (swap corners 1 and 2 where needed); remember the swap.
    x0, y0, area, fr = x0[ids], y0[ids], area[ids], front[ids]
    neg = area < 0
    x1s, y1s = np.where(neg, x2[ids], x1[ids]), np.where(neg, y2[ids], y1[ids])
    x2s, y2s = np.where(neg, x1[ids], x2[ids]), np.where(neg, y1[ids], y2[ids])
    x1, y1, x2, y2 = x1s, y1s, x2s, y2s
    area = np.abs(area)
    # Rows whose pixel centres lie inside the triangle's y-range.
    r0 = np.maximum(np.ceil(ymin_f[ids] - 0.5), 0).astype(np.int64)
    r1 = np.minimum(np.floor(ymax_f[ids] - 0.5), height - 1).astype(np.int64)
    nrows = np.maximum(r1 - r0 + 1, 0)
    total = int(nrows.sum())
    if total == 0:
        return empty
    row_t = np.repeat(np.arange(len(ids)), nrows)  # (R,) local triangle index
    start = np.cumsum(nrows) - nrows
    row_y = (r0[row_t] + np.arange(total) - start[row_t]).astype(np.int64)
    yc = row_y + 0.5
    c0, cnt = _row_spans(x0, y0, x1, y1, x2, y2, row_t, yc, width)
    n_pix = int(cnt.sum())
    if n_pix == 0:
        return empty
    c0 = c0.astype(np.int64)
    first = np.cumsum(cnt) - cnt
    # np.repeat (a sequential copy) is much cheaper than gathering per-row values with an index array.
    px_x = np.arange(n_pix, dtype=np.int64) - np.repeat(first - c0, cnt)  # (P,) pixel column
    return _nearest(invz[tris[ids]], neg, (x0, y0, x1, y1, x2, y2), area, row_t, row_y, cnt, px_x, ids, fr,
                    width, height)


def srgb_lut(levels: int = 4096) -> np.ndarray:
    """(levels,) uint8 table from linear [0, 1] (quantised) to sRGB-encoded 8-bit."""
    x = np.linspace(0.0, 1.0, levels)
    s = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.clip(np.round(s * 255), 0, 255).astype(np.uint8)


@dataclass
class Light:
    """A directional light: ``direction`` points FROM the surface TOWARD the light, linear RGB colour."""

    direction: tuple[float, float, float]
    color: tuple[float, float, float]


DEFAULT_LIGHTS = (
    Light((-0.50, 0.55, 0.65), (1.05, 0.98, 0.90)),  # key: upper front, from the subject's right
    Light((0.75, 0.05, 0.45), (0.22, 0.25, 0.32)),  # cool fill from the other side
    Light((0.00, 0.60, -0.80), (0.30, 0.30, 0.35)),  # back/top light for separation
)


class MeshRenderer:
    """Renders one triangle mesh (fixed topology and materials, moving vertices) to uint8 RGB images."""

    def __init__(self, triangles: np.ndarray, material_ids: np.ndarray, albedo: np.ndarray, camera: Camera,
                 double_sided: np.ndarray | None = None, specular: np.ndarray | None = None,
                 shininess: np.ndarray | None = None, occlusion: np.ndarray | None = None,
                 lights=DEFAULT_LIGHTS, ambient=(0.10, 0.10, 0.12), rim=(0.25, 0.22, 0.22),
                 background: np.ndarray | None = None):
        """``albedo`` (M, 3) linear RGB per material; ``specular``/``shininess`` (M,); ``occlusion`` (V,) in [0, 1]."""
        self.tris = np.ascontiguousarray(triangles, dtype=np.int64)
        self.mat = np.asarray(material_ids, dtype=np.int64)
        self.albedo = np.asarray(albedo, dtype=np.float32)[:, :3]
        m = len(self.albedo)
        self.tri_albedo = self.albedo[self.mat]  # (F, 3)
        self.double_sided = None if double_sided is None else np.asarray(double_sided, bool)
        spec = np.full(m, 0.15) if specular is None else np.asarray(specular, np.float64)
        shin = np.full(m, 24.0) if shininess is None else np.asarray(shininess, np.float64)
        # Specular strength per vertex: the strongest material touching it (lips shine more than skin).
        nv = int(self.tris.max()) + 1 if len(self.tris) else 0
        self.v_spec = np.zeros(nv)
        self.v_shin = np.full(nv, 1.0)
        for k in range(3):
            np.maximum.at(self.v_spec, self.tris[:, k], spec[self.mat])
            np.maximum.at(self.v_shin, self.tris[:, k], shin[self.mat])
        self.occlusion = np.ones(nv) if occlusion is None else np.asarray(occlusion, np.float64)
        self.v_spec = self.v_spec.astype(np.float32)
        self.v_shin = self.v_shin.astype(np.float32)
        self.ds_vertices = None
        if self.double_sided is not None and self.double_sided.any():
            self.ds_vertices = np.unique(self.tris[self.double_sided])
        self.camera = camera
        self.lights = [(np.asarray(l.direction, float) / np.linalg.norm(l.direction), np.asarray(l.color, float))
                       for l in lights]
        self.ambient = np.asarray(ambient, float)
        self.rim = np.asarray(rim, float)
        w, h = camera.width, camera.height
        if background is None:
            t = np.linspace(0, 1, h)[:, None]
            top, bottom = np.array([0.050, 0.060, 0.075]), np.array([0.012, 0.014, 0.018])
            background = (top * (1 - t) + bottom * t)[:, None, :] * np.ones((1, w, 1))
        bg = np.asarray(background, np.float64)
        self.lut = srgb_lut()
        self.background = self._encode(bg.reshape(-1, 3)).reshape(h, w, 3)

    def _encode(self, lin: np.ndarray) -> np.ndarray:
        """(N, 3) linear float -> (N, 3) uint8 sRGB through the lookup table."""
        n = len(self.lut) - 1
        idx = (lin * n + 0.5).astype(np.int32)
        np.clip(idx, 0, n, out=idx)
        return self.lut[idx]

    def vertex_lighting(self, vertices: np.ndarray, normals: np.ndarray, flip: bool = False,
                        subset: np.ndarray | None = None) -> np.ndarray:
        """(V, 6) float32 per-vertex lighting: diffuse multiplier RGB, then additive specular + rim RGB."""
        v = vertices if subset is None else vertices[subset]
        n = (normals if subset is None else normals[subset]).astype(np.float32)
        if flip:
            n = -n
        spec = self.v_spec if subset is None else self.v_spec[subset]
        shin = self.v_shin if subset is None else self.v_shin[subset]
        occ = self.occlusion if subset is None else self.occlusion[subset]
        view = (self.camera.eye - v).astype(np.float32)
        view *= 1.0 / np.sqrt(np.einsum("ij,ij->i", view, view))[:, None]
        out = np.zeros((len(n), 6), np.float32)
        out[:, :3] = self.ambient
        for d, c in self.lights:
            ndl = n @ d.astype(np.float32)  # (V,)
            # Wrapped diffuse keeps the terminator soft, which reads better on a smooth proxy.
            out[:, :3] += np.maximum((ndl + 0.2) * (1 / 1.2), 0)[:, None] * c.astype(np.float32)
            hv = view + d.astype(np.float32)
            ndh = np.einsum("ij,ij->i", n, hv) / np.sqrt(np.einsum("ij,ij->i", hv, hv))
            s = np.where(ndl > 0, spec * np.exp(shin * np.log(np.maximum(ndh, 1e-6))), 0.0)
            out[:, 3:] += s[:, None].astype(np.float32) * c.astype(np.float32)
        ndv = np.clip(np.einsum("ij,ij->i", n, view), 0, 1)
        out[:, 3:] += ((1 - ndv) ** 3)[:, None] * self.rim.astype(np.float32)
        out *= occ[:, None].astype(np.float32)
        return out

    def render(self, vertices: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 sRGB image of the mesh with (V, 3) world ``vertices`` and unit ``normals``."""
        v = np.asarray(vertices, dtype=np.float64)
        nrm = np.asarray(normals, np.float64)
        sx, sy, z = self.camera.project(v)
        frags = rasterize(sx, sy, z, self.tris, self.camera.width, self.camera.height, self.double_sided)
        out = self.background.copy()
        if len(frags.pixels) == 0:
            return out
        vl = self.vertex_lighting(v, nrm)  # (V, 6)
        if self.ds_vertices is not None and not frags.front.all():
            # Back faces of double-sided parts are lit with flipped normals (only those vertices recomputed).
            flipped = np.empty_like(vl)
            flipped[self.ds_vertices] = self.vertex_lighting(v, nrm, flip=True, subset=self.ds_vertices)
            corners = self.tris[frags.tri]
            back = ~frags.front
            lit = _interp(vl, corners, frags.bary)
            lit[back] = _interp(flipped, corners[back], frags.bary[back])
        else:
            lit = _interp(vl, self.tris[frags.tri], frags.bary)
        col = self.tri_albedo[frags.tri] * lit[:, :3]
        col += lit[:, 3:]
        out.reshape(-1, 3)[frags.pixels] = self._encode(col)
        return out


def _interp(values: np.ndarray, corners: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """(P, C) barycentric blend of per-vertex (V, C) ``values`` at (P, 3) corners."""
    out = values[corners[:, 0]] * bary[:, 0:1]
    out += values[corners[:, 1]] * bary[:, 1:2]
    out += values[corners[:, 2]] * bary[:, 2:3]
    return out
