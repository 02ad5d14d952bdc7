"""A procedurally built proxy head with all 52 ARKit shape keys (numpy only, nothing to download).

Frame: glTF's (+Y up, face looks along +Z, +X is the subject's LEFT), metres, head about 0.2 m tall.
Parts: a closed skin surface (the lips open onto a mouth pouch that is part of the same closed surface),
two eyeballs, eyelids, upper and lower teeth and a tongue. Every shape key is a per-vertex offset
authored by region with smooth falloff masks; the "Right" keys are the exact mirror (across x = 0)
of the "Left" keys, so left/right symmetry holds to the bit.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .arkit import ARKIT_NAMES, INDEX, MIRROR, NUM_BLENDSHAPES

MATERIALS: tuple[str, ...] = ("skin", "lips", "sclera", "iris", "pupil", "teeth", "tongue", "mouth", "eyelid")
# Linear-space base colours (RGBA) for glTF and the preview renderer.
MATERIAL_COLORS: dict[str, tuple[float, float, float, float]] = {
    "skin": (0.80, 0.52, 0.40, 1.0),
    "lips": (0.62, 0.27, 0.25, 1.0),
    "sclera": (0.92, 0.92, 0.88, 1.0),
    "iris": (0.12, 0.28, 0.42, 1.0),
    "pupil": (0.01, 0.01, 0.01, 1.0),
    "teeth": (0.92, 0.90, 0.80, 1.0),
    "tongue": (0.70, 0.25, 0.28, 1.0),
    "mouth": (0.22, 0.04, 0.05, 1.0),
    "eyelid": (0.80, 0.52, 0.40, 1.0),
}
DOUBLE_SIDED = frozenset({"eyelid"})  # open shells; the mouth pouch is part of the closed skin
PARTS: tuple[str, ...] = ("skin", "eyeLeft", "eyeRight", "lidLeft", "lidRight", "teethUpper", "teethLower", "tongue")

# Layout (metres).
MOUTH_Y = -0.036
MOUTH_HALF_WIDTH = 0.025
EYE_X, EYE_Y, EYE_RADIUS = 0.032, 0.030, 0.012
JAW_HINGE = np.array([0.0, 0.004, -0.004])  # jawOpen rotates about +X through this point
JAW_OPEN_ANGLE = 0.34  # radians at jawOpen = 1
NECK_PIVOT = np.array([0.0, -0.105, -0.012])  # head rotation pivot (top of the neck)


@dataclass
class ProxyHead:
    """Rest mesh, parts, materials and the 52 ARKit shape keys of the proxy head."""

    vertices: np.ndarray  # (V, 3) float32 rest positions
    normals: np.ndarray  # (V, 3) float32 unit smooth normals
    triangles: np.ndarray  # (F, 3) uint32, counter-clockwise seen from outside
    material_ids: np.ndarray  # (F,) int32 index into MATERIALS
    part_ids: np.ndarray  # (V,) int32 index into PARTS
    names: tuple[str, ...]  # 52 ARKit names, order of deltas
    deltas: np.ndarray  # (52, V, 3) float32 position offsets at weight 1
    normal_deltas: np.ndarray  # (52, V, 3) float32 normal offsets at weight 1
    pivot: np.ndarray  # (3,) float64 neck pivot for head rotation
    mirror: np.ndarray  # (V,) int64: vertex i mirrors (x -> -x) onto vertex mirror[i]
    materials: tuple[str, ...] = MATERIALS
    parts: tuple[str, ...] = PARTS
    material_colors: dict = field(default_factory=lambda: dict(MATERIAL_COLORS))

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    def delta(self, name: str) -> np.ndarray:
        """(V, 3) offsets of one shape key by ARKit name."""
        return self.deltas[self.names.index(name)]

    @property
    def delta_dict(self) -> dict[str, np.ndarray]:
        """name -> (V, 3) offsets."""
        return {n: self.deltas[i] for i, n in enumerate(self.names)}

    def pose(self, weights: np.ndarray | None = None, head_rotation: np.ndarray | None = None) -> np.ndarray:
        """(V, 3) posed vertices for (52,) ARKit-order weights and a [pitch, yaw, roll] head rotation (radians)."""
        v = self.vertices.astype(np.float64)
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if w.shape != (NUM_BLENDSHAPES,):
                raise ValueError(f"weights must have 52 values in ARKit order, got {w.shape}")
            v = v + np.tensordot(w, self.deltas, axes=(0, 0))
        if head_rotation is not None:
            from ..core.rotation import head_rotation_matrices
            r = head_rotation_matrices(np.asarray(head_rotation, dtype=np.float64).reshape(1, 3))[0]
            v = (v - self.pivot) @ r.T + self.pivot
        return v

    def pose_normals(self, weights: np.ndarray | None = None,
                     head_rotation: np.ndarray | None = None) -> np.ndarray:
        """(V, 3) unit normals of the posed mesh, recomputed from its triangles."""
        return vertex_normals(self.pose(weights, head_rotation), self.triangles)


# ---- small geometry helpers ---------------------------------------------------------------------------

def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _gauss(p: np.ndarray, c, s) -> np.ndarray:
    d = (p - np.asarray(c, dtype=np.float64)) / np.asarray(s, dtype=np.float64)
    g = np.exp(-0.5 * np.sum(d * d, axis=-1))
    return np.where(g < 1e-3, 0.0, g)  # finite support keeps untouched vertices exactly at rest


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


NORMAL_NOISE = 1e-12  # normal-delta components below this are rounding noise


def vertex_normals(v: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """(V, 3) area-weighted unit vertex normals."""
    v = np.asarray(v, dtype=np.float64)
    tris = np.asarray(tris, dtype=np.int64)
    fn = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, tris[:, k], fn)
    ln = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.where(ln > 0, ln, 1.0)


def _grid_tris(rows: int, cols: int, wrap: bool, offset: int = 0) -> list[tuple[int, int, int]]:
    """Quads between consecutive rows of a (rows, cols) vertex grid, two triangles each."""
    out = []
    for j in range(rows - 1):
        for i in range(cols if wrap else cols - 1):
            a = offset + j * cols + i
            b = offset + j * cols + (i + 1) % cols
            c, d = a + cols, b + cols
            out += [(a, b, d), (a, d, c)]
    return out


class _Builder:
    """Collects parts: vertices, triangles, per-triangle materials, per-vertex part ids and tags."""

    def __init__(self) -> None:
        self.v: list[np.ndarray] = []
        self.t: list[np.ndarray] = []
        self.m: list[np.ndarray] = []
        self.p: list[np.ndarray] = []
        self.tag: list[np.ndarray] = []
        self.n = 0

    def add(self, verts, tris, mats, part: int, tags=None) -> int:
        verts = np.asarray(verts, dtype=np.float64)
        start = self.n
        self.v.append(verts)
        self.t.append(np.asarray(tris, dtype=np.int64).reshape(-1, 3) + start)
        self.m.append(np.broadcast_to(np.asarray(mats, dtype=np.int32), (len(self.t[-1]),)).copy())
        self.p.append(np.full(len(verts), part, np.int32))
        self.tag.append(np.zeros(len(verts), np.int32) if tags is None else np.asarray(tags, np.int32))
        self.n += len(verts)
        return start

    def arrays(self):
        return (np.concatenate(self.v), np.concatenate(self.t), np.concatenate(self.m),
                np.concatenate(self.p), np.concatenate(self.tag))


# ---- the skin: a deformed sphere with a mouth slit that opens onto a pouch -----------------------------

N_U = 96  # columns around; even, and u = 0 (front) and u = pi are columns, so the grid is mirror-symmetric
N_V = 80  # rows between the poles


def _inverse_cdf(density, grid: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Points on ``grid`` where the normalised integral of ``density`` reaches ``fractions``."""
    d = density(grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (d[1:] + d[:-1]) * np.diff(grid))])
    return np.interp(fractions * cdf[-1], cdf, grid)


def _column_azimuths() -> np.ndarray:
    """(N_U,) azimuths, dense across the front (about 2 mm at the mouth); column i mirrors column N_U - i."""
    half = _inverse_cdf(lambda u: 1 + 2.0 * np.exp(-0.5 * (u / 0.45) ** 2), np.linspace(0, np.pi, 4001),
                        np.arange(N_U // 2 + 1) / (N_U // 2))
    half[0], half[-1] = 0.0, np.pi
    # Column N_U // 2 is u = 0; column 0 is u = -pi.
    return np.concatenate([-half[::-1][:-1], half[:-1]])


def _mouth_elevation() -> float:
    """Elevation whose front skin point lies at MOUTH_Y (y depends on the elevation only)."""
    lo, hi = -0.9, 0.2
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _skin_shape(np.zeros(1), np.full(1, mid))[0, 1] < MOUTH_Y:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _row_elevations() -> tuple[np.ndarray, int]:
    """(N_V,) row elevations, dense over the face and densest at the lips, and the index of the mouth row."""
    vm = _mouth_elevation()

    def density(v):
        return 1 + 0.8 * np.exp(-0.5 * (v / 0.5) ** 2) + 2.6 * np.exp(-0.5 * ((v - vm) / 0.10) ** 2)

    grid = np.linspace(-np.pi / 2, np.pi / 2, 8001)
    d = density(grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (d[1:] + d[:-1]) * np.diff(grid))])
    cm = np.interp(vm, grid, cdf) / cdf[-1]
    # One row sits exactly on the mouth elevation; the others share the rest of the range evenly.
    jm = int(round(cm * (N_V + 1))) - 1
    below = cm * np.arange(1, jm + 2) / (jm + 1)
    above = cm + (1 - cm) * np.arange(1, N_V - jm) / (N_V - jm)
    vs = _inverse_cdf(density, grid, np.concatenate([below, above]))
    vs[jm] = vm
    return vs, jm


def _skin_shape(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N, 3) skin points for azimuth u (0 = front) and elevation v, features included."""
    cu, su, cv, sv = np.cos(u), np.sin(u), np.cos(v), np.sin(v)
    front = cu > 0
    rx = 0.074
    rz = np.where(front, 0.092, 0.100)
    ry = np.where(sv > 0, 0.112, 0.118)
    x, y, z = rx * cv * su, ry * sv, rz * cv * cu
    # Narrow the lower face toward the chin, flatten the face a little.
    low = _smoothstep(0.0, -0.11, y)
    x = x * (1 - 0.30 * low)
    z = np.where(front, z * (1 - 0.10 * low), z)
    p = np.stack([x, y, z], -1)
    # Neck: the bottom of the sphere becomes a cylinder under the jaw.
    b = _smoothstep(-0.45, -0.95, v)
    # Above v = -0.95 the neck height follows the sphere (shifted to meet it), so height keeps rising
    # with elevation through the blend and the rows never fold over each other.
    yn = np.where(v < -0.95, -0.085 + (v + 0.95) / (np.pi / 2 - 0.95) * 0.095,
                  0.118 * np.sin(v) - 0.118 * np.sin(-0.95) - 0.085)
    rn = np.where(v < -1.45, 0.046 * np.clip((np.pi / 2 + v) / (np.pi / 2 - 1.45), 0, 1), 0.046)
    neck = np.stack([rn * su, yn, rn * cu - 0.020], -1)
    p = p * (1 - b[:, None]) + neck * b[:, None]
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    fz = _smoothstep(0.01, 0.05, z)  # face features only on the front
    ax = np.abs(x)
    dz = np.zeros_like(z)
    # Nose: a ridge from the brow to the tip, then nostril wings.
    ridge = np.exp(-0.5 * (x / (0.0075 + 0.004 * _smoothstep(0.03, -0.01, y))) ** 2)
    prof = np.interp(y, [-0.026, -0.016, -0.006, 0.030, 0.045], [0.0, 0.014, 0.024, 0.007, 0.0])
    dz += ridge * prof
    # Wings fade out toward the centre line so the tip stays the single frontmost point.
    dz += 0.008 * _smoothstep(0.0, 0.010, ax) * np.exp(-0.5 * (((ax - 0.012) / 0.006) ** 2 + ((y + 0.013) / 0.006) ** 2))
    # Brow ridge, cheeks, chin, lips.
    dz += 0.007 * np.exp(-0.5 * ((x / 0.05) ** 2 + ((y - 0.050) / 0.009) ** 2))
    dz += 0.007 * np.exp(-0.5 * (((ax - 0.040) / 0.016) ** 2 + ((y + 0.004) / 0.016) ** 2))
    dz += 0.008 * np.exp(-0.5 * ((x / 0.020) ** 2 + ((y + 0.080) / 0.012) ** 2))
    lipx = np.exp(-0.5 * (x / 0.017) ** 2)
    dz += 0.0045 * lipx * np.exp(-0.5 * ((y - MOUTH_Y - 0.0035) / 0.004) ** 2)
    dz += 0.005 * lipx * np.exp(-0.5 * ((y - MOUTH_Y + 0.005) / 0.0045) ** 2)
    # Both lips roll inward into the closed mouth line.
    dz -= 0.0022 * np.exp(-0.5 * (x / 0.022) ** 2) * np.exp(-0.5 * ((y - MOUTH_Y) / 0.0016) ** 2)
    # Eye sockets.
    dz -= 0.013 * np.exp(-0.5 * (((ax - EYE_X) / 0.013) ** 2 + ((y - EYE_Y) / 0.010) ** 2))
    z = z + dz * fz
    # Ears: flaps pushed out sideways.
    side = _smoothstep(0.05, 0.07, ax) * np.exp(-0.5 * ((z + 0.005) / 0.012) ** 2 + -0.5 * ((y - 0.005) / 0.022) ** 2)
    x = x + np.sign(x) * 0.007 * side
    return np.stack([x, y, z], -1)


def _lip_height(x, upper) -> np.ndarray:
    """Height of the upper (upper > 0) or lower lip's outline above / below the mouth line at x."""
    r = np.clip(1 - (np.asarray(x) / (MOUTH_HALF_WIDTH * 1.08)) ** 4, 0, 1)
    return np.where(np.asarray(upper) > 0, 0.0075, 0.0085) * np.sqrt(r)


def _surface_z(verts: np.ndarray, tris: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """(N,) frontmost z of the front-facing triangles above each (x, y) point; nan where none covers it."""
    a, b, c = (verts[tris[:, k], :2] for k in range(3))
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    keep = area > 1e-14  # counter-clockwise seen from +z: faces the viewer
    a, b, c, area, t = a[keep], b[keep], c[keep], area[keep], tris[keep]
    out = np.full(len(xy), np.nan)
    for k, (px, py) in enumerate(xy):
        w0 = ((b[:, 0] - px) * (c[:, 1] - py) - (c[:, 0] - px) * (b[:, 1] - py)) / area
        w1 = ((c[:, 0] - px) * (a[:, 1] - py) - (a[:, 0] - px) * (c[:, 1] - py)) / area
        w2 = 1 - w0 - w1
        hit = (w0 >= -1e-9) & (w1 >= -1e-9) & (w2 >= -1e-9)
        if hit.any():
            z = w0 * verts[t[:, 0], 2] + w1 * verts[t[:, 1], 2] + w2 * verts[t[:, 2], 2]
            out[k] = z[hit].max()
    return out


def _snap_lip_outlines(pts: np.ndarray, us: np.ndarray, vs: np.ndarray, jm: int) -> None:
    """Move the grid vertex nearest each lip outline (per front column) onto the outline, in place."""
    # Colouring triangles by centroid then gives a smooth outline instead of a saw-tooth. Height depends on
    # elevation only, so a fine (elevation -> height) table inverts it.
    vfine = np.linspace(vs[jm - 12], vs[jm + 12], 4001)
    yfine = _skin_shape(np.zeros(len(vfine)), vfine)[:, 1]
    for c in range(N_U):
        col = pts[c::N_U]  # (N_V, 3) view of column c
        for sgn in (1, -1):
            ty = MOUTH_Y + sgn * _lip_height(col[jm, 0], sgn)
            j = int(np.argmin(np.abs(col[:, 1] - ty)))
            if col[jm, 2] <= 0 or abs(ty - MOUTH_Y) < 0.0008 or j == jm or (j - jm) * sgn <= 0:
                continue
            pts[j * N_U + c] = _skin_shape(us[c:c + 1], np.interp([ty], yfine, vfine))[0]


def _skin_grid() -> tuple[np.ndarray, int, list[int]]:
    """(N_V * N_U, 3) skin grid, row-major (row j, column i), lips snapped; the mouth row and the slit columns."""
    us = _column_azimuths()  # column i <-> u; mirror column is (N_U - i) % N_U
    vs, jm = _row_elevations()
    uu, vv = np.meshgrid(us, vs)
    pts = _skin_shape(uu.ravel(), vv.ravel())  # (N_V * N_U, 3)
    # The mouth row lies at MOUTH_Y; the slit ends at the columns nearest the mouth corners.
    c0 = N_U // 2  # column of u = 0
    row_x = pts[jm * N_U + c0:(jm + 1) * N_U, 0]
    slit_k = int(np.argmin(np.abs(row_x - MOUTH_HALF_WIDTH)))
    _snap_lip_outlines(pts, us, vs, jm)
    slit_cols = [c0 + k for k in range(-slit_k, slit_k + 1)]
    for c in slit_cols:
        pts[jm * N_U + c, 1] = MOUTH_Y
    return pts, jm, slit_cols


def _skin_triangles(jm: int, lower_of: dict[int, int], south: int, north: int) -> np.ndarray:
    """(2 * N_V * N_U, 3) grid quads (lower slit copies under the mouth row), then the two pole fans."""
    tris = []
    for j in range(N_V - 1):
        for i in range(N_U):
            i2 = (i + 1) % N_U
            a, bb = j * N_U + i, j * N_U + i2
            c, d = a + N_U, bb + N_U
            if j + 1 == jm:  # quads below the mouth row use the lower copies inside the slit
                c = lower_of.get(i, c)
                d = lower_of.get(i2, d)
            # Rows go bottom -> top and columns toward +x across the front, so (a, b, d) / (a, d, c)
            # winds counter-clockwise seen from outside.
            tris += [(a, bb, d), (a, d, c)]
    for i in range(N_U):
        i2 = (i + 1) % N_U
        tris.append((south, i2, i))
        tris.append((north, (N_V - 1) * N_U + i, (N_V - 1) * N_U + i2))
    return np.array(tris)


# Mouth pouch rings, outermost first: (depth behind the lips, half-height, x scale of the slit loop).
POUCH_RINGS = ((0.003, 0.002, 1.00), (0.010, 0.006, 1.02), (0.022, 0.011, 1.0), (0.036, 0.010, 0.85),
               (0.048, 0.005, 0.50))


def _pouch_rings(skin_v: np.ndarray, grid_tris: np.ndarray, lp: np.ndarray, loop_side: np.ndarray) -> np.ndarray:
    """(R * L, 3) pouch rings extruded inward from the (L, 3) slit loop ``lp``, kept behind the lip skin."""
    pouch = []
    for r, (d, h, s) in enumerate(POUCH_RINGS):
        xr = np.clip(lp[:, 0] / (MOUTH_HALF_WIDTH * 1.02), -1, 1)
        yo = loop_side * h * np.where(loop_side < 0, 0.8, 1.0) * np.sqrt(np.maximum(0.0, 1 - xr ** 2)) ** 0.5
        ring = np.stack([lp[:, 0] * s, MOUTH_Y + yo, lp[:, 2] - d], -1)
        # Keep every ring well behind the lip skin in front of it (lips are only a few mm thick).
        zs = _surface_z(skin_v, grid_tris, ring[:, :2])
        ring[:, 2] = np.where(np.isnan(zs), ring[:, 2], np.minimum(ring[:, 2], zs - (0.0025 + 0.002 * r)))
        pouch.append(ring)
    return np.concatenate(pouch)


def _pouch_triangles(loop: list[int], base: int, skin_tris: np.ndarray) -> np.ndarray:
    """Pouch triangles: slit loop -> rings (vertices from ``base``) -> centre fan, wound like the skin."""
    n_rings, L = len(POUCH_RINGS), len(loop)
    ring_idx = [np.array(loop)] + [base + r * L + np.arange(L) for r in range(n_rings)]
    ptris = []
    for r in range(n_rings):
        A, B = ring_idx[r], ring_idx[r + 1]
        for i in range(L):
            i2 = (i + 1) % L
            ptris += [(A[i], B[i], B[i2]), (A[i], B[i2], A[i2])]
    cidx = base + n_rings * L  # the centre vertex follows the rings
    last = ring_idx[-1]
    for i in range(L):
        ptris.append((last[i], cidx, last[(i + 1) % L]))
    ptris = np.array(ptris)
    # Orientation: pouch triangles contain the loop edge A[1] -> A[0]; the skin must hold A[0] -> A[1].
    skin_edges = {(int(t[k]), int(t[(k + 1) % 3])) for t in skin_tris for k in range(3)}
    if (int(ring_idx[0][0]), int(ring_idx[0][1])) not in skin_edges:
        ptris = ptris[:, ::-1]
    return ptris


def _skin_materials(all_v: np.ndarray, tris_all: np.ndarray, n_skin_tris: int) -> np.ndarray:
    """(F,) material per triangle: lips where the centroid lies in the lip band, mouth for the pouch."""
    cen = all_v[tris_all].mean(1)
    dy = cen[:, 1] - MOUTH_Y
    in_lips = (np.abs(dy) < _lip_height(cen[:, 0], np.sign(dy))) & (cen[:, 2] > 0.04)
    mats = np.where(in_lips, MATERIALS.index("lips"), MATERIALS.index("skin"))
    mats[n_skin_tris:] = MATERIALS.index("mouth")
    return mats


def _build_skin():
    """Skin grid + slit lower copies + mouth pouch, as one closed surface; returns layout info."""
    pts, jm, slit_cols = _skin_grid()
    grid_n = N_V * N_U
    # Lower copies of the interior slit columns.
    inner = slit_cols[1:-1]
    lower = pts[[jm * N_U + c for c in inner]].copy()
    south = grid_n + len(inner)
    north = south + 1
    pole_s = np.array([[0.0, pts[:N_U, 1].min() - 0.004, -0.020]])
    pole_n = _skin_shape(np.zeros(1), np.full(1, np.pi / 2))
    lower_of = {c: grid_n + i for i, c in enumerate(inner)}
    tris = _skin_triangles(jm, lower_of, south, north)
    skin_v = np.concatenate([pts, lower, pole_s, pole_n])
    tags = np.zeros(len(skin_v), np.int32)
    tags[grid_n:grid_n + len(inner)] = 1  # lower lip copies: same positions as the upper ones
    side = np.zeros(len(skin_v))  # +1 upper lip edge, -1 lower lip edge, 0 elsewhere / corners
    side[[jm * N_U + c for c in inner]] = 1
    side[grid_n:grid_n + len(inner)] = -1

    # Mouth pouch: rings extruded inward from the slit loop, then a fan. The loop runs along the upper edge
    # from the right corner to the left corner, then back along the lower edge.
    loop = [jm * N_U + c for c in slit_cols] + [lower_of[c] for c in reversed(inner)]
    loop_side = np.array([side[k] for k in loop])
    lp = skin_v[loop]  # (L, 3)
    pouch = _pouch_rings(skin_v, tris[:2 * (N_V - 1) * N_U], lp, loop_side)
    center = np.array([[0.0, MOUTH_Y - 0.002, lp[:, 2].max() - POUCH_RINGS[-1][0] - 0.006]])
    base = len(skin_v)
    L, n_rings = len(loop), len(POUCH_RINGS)
    ptris = _pouch_triangles(loop, base, tris)
    all_v = np.concatenate([skin_v, pouch, center])
    pouch_ring = np.concatenate([np.zeros(base, np.int32),
                                 np.repeat(np.arange(1, n_rings + 1), L).astype(np.int32),
                                 np.array([n_rings + 1], np.int32)])
    pouch_loop = np.concatenate([np.full(base, -1), np.tile(np.array(loop), n_rings), [-1]])
    side_all = np.concatenate([side, np.tile(loop_side, n_rings), [0.0]])
    tags = np.concatenate([tags, np.full(len(pouch) + 1, 2, np.int32)])
    # Pouch vertices get tag 2 (+ ring) so mirror matching never confuses them with skin.
    tags[base:] += pouch_ring[base:] * 10
    tris_all = np.concatenate([tris, ptris])
    mats = _skin_materials(all_v, tris_all, len(tris))
    info = dict(n_skin=base, side=side_all, pouch_ring=pouch_ring, pouch_loop=pouch_loop, n_rings=n_rings,
                grid_n=grid_n)
    return all_v, tris_all, mats, tags, info


# ---- eyes, lids, teeth, tongue -------------------------------------------------------------------------

def _eye_center(left: bool, eye_z: float) -> np.ndarray:
    return np.array([EYE_X if left else -EYE_X, EYE_Y, eye_z])


def _sphere_forward(radius: float, alphas: np.ndarray, n_az: int):
    """Sphere around the origin with its pole on +Z: rings at angles ``alphas`` (radians from +Z)."""
    az = 2 * np.pi * np.arange(n_az) / n_az
    a, b = np.meshgrid(alphas, az, indexing="ij")
    pts = radius * np.stack([np.sin(a) * np.cos(b), np.sin(a) * np.sin(b), np.cos(a)], -1).reshape(-1, 3)
    front, back = len(pts), len(pts) + 1
    pts = np.concatenate([pts, [[0, 0, radius], [0, 0, -radius]]])
    tris = _grid_tris(len(alphas), n_az, wrap=True)
    last = (len(alphas) - 1) * n_az
    for i in range(n_az):
        i2 = (i + 1) % n_az
        tris += [(front, i, i2), (back, last + i2, last + i)]
    return pts, np.array(tris)


def _orient_outward(pts: np.ndarray, tris: np.ndarray, center) -> np.ndarray:
    """Flip triangles of a star-shaped closed part so their normals point away from ``center``."""
    c = pts[tris].mean(1) - np.asarray(center)
    n = np.cross(pts[tris[:, 1]] - pts[tris[:, 0]], pts[tris[:, 2]] - pts[tris[:, 0]])
    flip = np.sum(n * c, 1) < 0
    tris = tris.copy()
    tris[flip] = tris[flip][:, ::-1]
    return tris


def _eyeball():
    """Left eyeball mesh around its centre: pupil, iris and sclera rings on a +Z pole."""
    alphas = np.radians(np.concatenate([[6, 12], np.linspace(18, 32, 3), np.linspace(42, 175, 12)]))
    pts, tris = _sphere_forward(EYE_RADIUS, alphas, 28)
    tris = _orient_outward(pts, tris, (0, 0, 0))
    ang = np.degrees(np.arccos(np.clip(pts[tris].mean(1)[:, 2] / np.linalg.norm(pts[tris].mean(1), axis=1), -1, 1)))
    mats = np.where(ang < 11.5, MATERIALS.index("pupil"), np.where(ang < 31, MATERIALS.index("iris"), MATERIALS.index("sclera")))
    return pts, tris, mats


LID_UPPER_EDGE, LID_LOWER_EDGE = np.radians(20.0), np.radians(-23.0)
LID_UPPER_TOP, LID_LOWER_BOTTOM = np.radians(80.0), np.radians(-75.0)
LID_AZ = np.radians(np.linspace(-75, 75, 17))
LID_ROWS = 9


def _sph(r, az, el):
    return r * np.stack([np.cos(el) * np.sin(az), np.sin(el), np.cos(el) * np.cos(az)], -1)


def _lid_params():
    """(az, t) parameters of lid vertices: t = 0 at the lid edge, 1 at the far rim; upper then lower."""
    a, t = np.meshgrid(LID_AZ, np.linspace(0, 1, LID_ROWS), indexing="ij")
    return a.ravel(), t.ravel()


def _lid_positions(upper_edge: float, lower_edge: float) -> np.ndarray:
    """Positions of the left lids (relative to the eye centre) for given edge elevations."""
    az, t = _lid_params()
    # Lid edges are lower at the sides (almond shape): edge elevation drops with |az|.
    shape = 1 - (az / LID_AZ[-1]) ** 2
    ue = upper_edge * (0.6 + 0.4 * shape) + np.radians(-4) * (1 - shape)
    le = lower_edge * (0.6 + 0.4 * shape) + np.radians(-2) * (1 - shape)
    up = _sph(EYE_RADIUS * 1.085, az, ue + t * (LID_UPPER_TOP - ue))
    lo = _sph(EYE_RADIUS * 1.07, az, le + t * (LID_LOWER_BOTTOM - le))
    return np.concatenate([up, lo])


def _lids():
    """Left eyelid shells (upper and lower) around the eye centre."""
    pts = _lid_positions(LID_UPPER_EDGE, LID_LOWER_EDGE)
    n = len(LID_AZ) * LID_ROWS
    tris = _grid_tris(len(LID_AZ), LID_ROWS, wrap=False)
    tris = np.array(tris + [(a + n, b + n, c + n) for a, b, c in tris])
    tris = _orient_outward(pts, tris, (0, 0, 0))
    return pts, tris


def _teeth_arc(upper: bool, lip_z: float):
    """A closed curved bar of teeth just behind the lips."""
    n = 21
    a = np.linspace(-1.0, 1.0, n)
    r = 0.024
    zf = lip_z - 0.0075
    y0, y1 = (MOUTH_Y - 0.0005, MOUTH_Y + 0.0085) if upper else (MOUTH_Y - 0.0085, MOUTH_Y - 0.0012)
    zoff = 0.0 if upper else -0.0022
    rings = []
    for yy, dr in ((y0, 0.0), (y1, 0.0), (y1, -0.0035), (y0, -0.0035)):
        rr = r + dr
        rings.append(np.stack([rr * np.sin(a), np.full(n, yy), zf + zoff + rr * np.cos(a) - r], -1))
    pts = np.stack(rings, 1).reshape(-1, 3)  # (n * 4) : arc sample i, corner k
    tris = []
    for i in range(n - 1):
        for k in range(4):
            a0, a1 = i * 4 + k, i * 4 + (k + 1) % 4
            b0, b1 = a0 + 4, a1 + 4
            tris += [(a0, b0, b1), (a0, b1, a1)]
    for base in (0, (n - 1) * 4):
        tris += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    tris = np.array(tris)
    # A curved bar is not star-shaped: orient against the bar's own centre line near each triangle.
    c = pts[tris].mean(1)
    o = np.array([0.0, 0.0, zf + zoff - r])
    radial = (c - o) * [1, 0, 1]
    radial /= np.linalg.norm(radial, axis=1, keepdims=True)
    mid = o + radial * (r - 0.00175) + [0, 0.5 * (y0 + y1), 0]
    nrm = np.cross(pts[tris[:, 1]] - pts[tris[:, 0]], pts[tris[:, 2]] - pts[tris[:, 0]])
    out = c - mid
    # End caps face along the arc, away from the neighbouring cross-section.
    out[-4:-2] = pts[0] - pts[4]
    out[-2:] = pts[(n - 1) * 4] - pts[(n - 2) * 4]
    flip = np.sum(nrm * out, 1) < 0
    tris[flip] = tris[flip][:, ::-1]
    return pts, tris


def _tongue(lip_z: float):
    """A flattened ellipsoid resting on the mouth floor."""
    alphas = np.radians(np.linspace(12, 168, 10))
    pts, tris = _sphere_forward(1.0, alphas, 20)
    pts = pts * np.array([0.016, 0.0055, 0.024])
    c = np.array([0.0, MOUTH_Y - 0.0105, lip_z - 0.034])
    pts = pts + c
    # Flatten the underside so it sits in the floor.
    pts[:, 1] = np.where(pts[:, 1] < c[1], c[1] + 0.5 * (pts[:, 1] - c[1]), pts[:, 1])
    tris = _orient_outward(pts, tris, c)
    return pts, tris, c


# ---- mirror map -----------------------------------------------------------------------------------------

def _mirror_map(v: np.ndarray, tags: np.ndarray) -> np.ndarray:
    """Index of each vertex's mirror image (x -> -x), matched on rounded position and a tag."""
    key = np.round(v * 1e6).astype(np.int64)
    table = {}
    for i, (k, t) in enumerate(zip(map(tuple, key), tags)):
        table.setdefault((k, int(t)), []).append(i)
    out = np.empty(len(v), np.int64)
    for i, (k, t) in enumerate(zip(key, tags)):
        m = table.get(((-k[0], k[1], k[2]), int(t)))
        if not m or len(m) != 1:
            raise AssertionError(f"proxy head vertex {i} has no unique mirror image")
        out[i] = m[0]
    return out


def _mirror_delta(d: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """The mirror image of a shape key: right[i] = reflect(left[mirror[i]])."""
    out = d[mirror].copy()
    out[:, 0] = -out[:, 0]
    return out


@functools.lru_cache(maxsize=1)
def build_proxy_head() -> ProxyHead:
    """Build the proxy head (cached; the returned arrays are read-only)."""
    b = _Builder()
    skin_v, skin_t, skin_m, skin_tags, info = _build_skin()
    b.add(skin_v, skin_t, skin_m, PARTS.index("skin"), skin_tags)
    # Eye depth: eyeball front pokes 5 mm out of the socket skin.
    near = np.argmin(np.sum((skin_v[:info["grid_n"], :2] - [EYE_X, EYE_Y]) ** 2, 1) - 1e3 * (skin_v[:info["grid_n"], 2] > 0))
    eye_z = float(skin_v[near, 2]) + 0.0055 - EYE_RADIUS
    eye_p, eye_t, eye_m = _eyeball()
    lid_p, lid_t = _lids()
    front_mouth = [i for i in range(info["grid_n"]) if abs(skin_v[i, 0]) < 1e-9 and skin_v[i, 2] > 0
                   and abs(skin_v[i, 1] - MOUTH_Y) < 1e-9]
    lip_z = float(skin_v[front_mouth[0], 2])
    eyes = {}
    for left in (True, False):
        c = _eye_center(left, eye_z)
        sgn = 1 if left else -1
        ep = eye_p * [sgn, 1, 1] + c
        lp = lid_p * [sgn, 1, 1] + c
        et = eye_t if left else eye_t[:, ::-1]
        lt = lid_t if left else lid_t[:, ::-1]
        eyes[left] = (b.add(ep, et, eye_m, PARTS.index("eyeLeft" if left else "eyeRight")),
                      b.add(lp, lt, MATERIALS.index("eyelid"), PARTS.index("lidLeft" if left else "lidRight")))
    tu_p, tu_t = _teeth_arc(True, lip_z)
    tl_p, tl_t = _teeth_arc(False, lip_z)
    b.add(tu_p, tu_t, MATERIALS.index("teeth"), PARTS.index("teethUpper"))
    b.add(tl_p, tl_t, MATERIALS.index("teeth"), PARTS.index("teethLower"))
    to_p, to_t, tongue_c = _tongue(lip_z)
    b.add(to_p, to_t, MATERIALS.index("tongue"), PARTS.index("tongue"))
    v, tris, mats, parts, tags = b.arrays()
    # Parts never match each other in the mirror map, except a left part with its right twin.
    twin = np.array([PARTS.index(n.replace("Right", "Left")) for n in PARTS])
    tags = tags * 16 + twin[parts]
    mirror = _mirror_map(v, tags)
    # Symmetrise exactly: the mirror image of every vertex is its partner.
    v = 0.5 * (v + v[mirror] * [-1, 1, 1])
    deltas = _author_shapes(v, parts, info, mirror, eyes, tongue_c, eye_z)
    normals = vertex_normals(v, tris)
    ndel = np.empty_like(deltas)
    for k in range(NUM_BLENDSHAPES):
        ndel[k] = vertex_normals(v + deltas[k], tris) - normals if np.any(deltas[k]) else 0.0
    # Where a shape leaves a vertex's faces alone its normal delta is rounding noise (< 1e-15 here, real ones
    # > 1e-9) whose size depends on the CPU's SIMD kernels; exact zeros keep the sparse targets host-independent.
    ndel[np.abs(ndel) < NORMAL_NOISE] = 0.0
    head = ProxyHead(
        vertices=v.astype(np.float32), normals=normals.astype(np.float32), triangles=tris.astype(np.uint32),
        material_ids=mats.astype(np.int32), part_ids=parts.astype(np.int32), names=ARKIT_NAMES,
        deltas=deltas.astype(np.float32), normal_deltas=ndel.astype(np.float32), pivot=NECK_PIVOT.copy(),
        mirror=mirror)
    for a in (head.vertices, head.normals, head.triangles, head.material_ids, head.part_ids, head.deltas,
              head.normal_deltas, head.pivot, head.mirror):
        a.setflags(write=False)
    return head


# ---- shape keys -----------------------------------------------------------------------------------------

class _ShapeContext:
    """The rest mesh and the region masks every shape key is authored from."""

    def __init__(self, v: np.ndarray, info: dict) -> None:
        self.v = v  # (V, 3) symmetrised rest positions
        self.V = V = len(v)
        n_skin = info["n_skin"]
        self.skin = np.zeros(V, bool)
        self.skin[:n_skin] = True  # the skin proper (not the pouch)
        self.pouch = np.zeros(V, bool)
        self.pouch[n_skin:len(info["side"])] = True
        self.side = np.zeros(V)  # (V,) +1 upper lip edge, -1 lower lip edge
        self.side[:len(info["side"])] = info["side"]
        self.x, self.y, self.z = v[:, 0], v[:, 1], v[:, 2]
        # Every skin mask is 3D around a point on the face surface so the back of the head never moves.
        self.face_pts = v[:n_skin]
        # Upper / lower lip membership (sharp at the slit, soft beyond the corners).
        upper_soft = _smoothstep(MOUTH_Y - 0.003, MOUTH_Y + 0.003, self.y)
        self.upper = np.where(self.side > 0, 1.0, np.where(self.side < 0, 0.0, upper_soft))
        self.front = _smoothstep(0.02, 0.05, self.z)
        self.lips = self.skin_mask(0.0, MOUTH_Y, 0.024, 0.010) * self.front
        self.lips_wide = self.skin_mask(0.0, MOUTH_Y, 0.034, 0.020) * self.front
        self.up_lip, self.low_lip = self.lips * self.upper, self.lips * (1 - self.upper)
        # The pouch follows the lip edge it grows from, fading with depth (ring_f per pouch ring).
        self.pr = info["pouch_ring"]
        self.loop = info["pouch_loop"]
        self.ring_f = np.array([1.0] + [0.8, 0.5, 0.2, 0.05, 0.0] + [0.0] * 4)
        pouch_idx = np.nonzero(self.pouch)[0]
        self.pouch_idx = pouch_idx[self.loop[pouch_idx] >= 0]

    def on_face(self, cx, cy) -> np.ndarray:
        """(3,) the front face point at (cx, cy): the z of the nearest front skin vertex."""
        front = self.face_pts[:, 2] > 0
        d = np.where(front, (self.face_pts[:, 0] - cx) ** 2 + (self.face_pts[:, 1] - cy) ** 2, np.inf)
        return np.array([cx, cy, self.face_pts[int(np.argmin(d)), 2]])

    def skin_mask(self, cx, cy, sx, sy, sz=0.02) -> np.ndarray:
        """(V,) Gaussian falloff around a face point, zero off the skin."""
        return np.where(self.skin, _gauss(self.v, self.on_face(cx, cy), (sx, sy, sz)), 0.0)

    def lip_shape(self, delta: np.ndarray) -> np.ndarray:
        """(V, 3) skin offsets with the pouch following its lip edge (fading with depth)."""
        delta = np.where(self.skin[:, None], delta, 0.0)
        delta[self.pouch_idx] = delta[self.loop[self.pouch_idx]] * self.ring_f[self.pr[self.pouch_idx]][:, None]
        return delta


def _jaw_shapes(c: _ShapeContext, parts: np.ndarray, D: dict) -> None:
    """jawOpen / jawForward / jawLeft: a rigid rotation of the lower face, lower teeth, tongue and pouch floor."""
    x, y, z = c.x, c.y, c.z
    # Lower lip follows the jaw fully in the middle and less toward the corners: an oval opening.
    inside = 1 - _smoothstep(MOUTH_HALF_WIDTH * 0.25, MOUTH_HALF_WIDTH * 1.6, np.abs(x))
    soft = _smoothstep(MOUTH_Y + 0.014, MOUTH_Y - 0.030, y)
    lower = inside * (1 - c.upper) + (1 - inside) * soft
    jaw = lower * _smoothstep(-0.035, 0.035, z) * _smoothstep(-0.125, -0.085, y)
    jaw = np.where(c.skin, jaw, 0.0)  # (V,)
    pr = c.pr
    pouch_low = np.where(c.side[:len(pr)] < 0, 1.0, np.where(c.side[:len(pr)] > 0, 0.0, 0.5))
    # Near the lips the pouch follows the jaw weight of the lip edge it grows from (less than 1 toward the
    # corners), so it never slides out past the lip skin; deeper rings take the pouch's own weight.
    f = c.ring_f[pr]
    edge_w = jaw[np.maximum(c.loop, 0)]
    own_w = pouch_low * (1 - 0.25 * (pr == pr.max()))
    jaw[:len(pr)] = np.where(c.pouch[:len(pr)], f * edge_w + (1 - f) * own_w, jaw[:len(pr)])
    jaw[parts == PARTS.index("teethLower")] = 1.0
    jaw[parts == PARTS.index("tongue")] = 1.0
    w = jaw[:, None]
    rel = c.v - JAW_HINGE
    D["jawOpen"] = w * (rel @ _rot_x(JAW_OPEN_ANGLE).T - rel)
    D["jawForward"] = w * np.array([0.0, 0.0, 0.007])
    D["jawLeft"] = w * np.array([0.009, 0.0, 0.0])


def _mouth_shapes(c: _ShapeContext, D: dict) -> None:
    """The mouth keys (centre and Left): lips, corners and chin, the pouch following the lips."""
    V, x, upper, lips, lip_shape = c.V, c.x, c.upper, c.lips, c.lip_shape
    up_lip, low_lip, skin_mask = c.up_lip, c.low_lip, c.skin_mask
    jaw_d = D["jawOpen"]
    D["mouthClose"] = lip_shape(-0.62 * jaw_d * low_lip[:, None]
                                + up_lip[:, None] * np.array([0.0, -0.011, 0.001]))
    cen = skin_mask(0.0, MOUTH_Y, 0.012, 0.012)
    D["mouthFunnel"] = lip_shape(lips[:, None] * np.stack([-0.32 * x, np.zeros(V), np.full(V, 0.008)], -1)
                                 + (cen * lips)[:, None] * np.stack([np.zeros(V), 0.005 * (2 * upper - 1), np.zeros(V)], -1))
    D["mouthPucker"] = lip_shape(c.lips_wide[:, None] * np.stack([-0.5 * x, np.zeros(V), np.full(V, 0.013)], -1))
    D["mouthLeft"] = lip_shape(c.lips_wide[:, None] * np.array([0.010, 0.0, -0.001]))
    corner = skin_mask(MOUTH_HALF_WIDTH, MOUTH_Y, 0.013, 0.013)
    corner_s = skin_mask(MOUTH_HALF_WIDTH, MOUTH_Y, 0.009, 0.009)
    cheek = skin_mask(0.038, MOUTH_Y + 0.030, 0.016, 0.014)
    D["mouthSmileLeft"] = lip_shape(corner[:, None] * np.array([0.005, 0.010, -0.005])
                                    + cheek[:, None] * np.array([0.0, 0.004, 0.002]))
    D["mouthFrownLeft"] = lip_shape(corner[:, None] * np.array([0.001, -0.009, -0.001]))
    D["mouthDimpleLeft"] = lip_shape(corner_s[:, None] * np.array([0.002, 0.0, -0.006]))
    D["mouthStretchLeft"] = lip_shape(skin_mask(MOUTH_HALF_WIDTH, MOUTH_Y, 0.016, 0.014)[:, None]
                                      * np.array([0.008, -0.002, -0.003]))
    D["mouthRollLower"] = lip_shape(low_lip[:, None] * np.array([0.0, 0.003, -0.006]))
    D["mouthRollUpper"] = lip_shape(up_lip[:, None] * np.array([0.0, -0.003, -0.006]))
    chin = skin_mask(0.0, MOUTH_Y - 0.016, 0.022, 0.014)
    D["mouthShrugLower"] = lip_shape(np.maximum(chin, low_lip)[:, None] * np.array([0.0, 0.004, 0.003]))
    D["mouthShrugUpper"] = lip_shape(up_lip[:, None] * np.array([0.0, 0.003, 0.003]))
    left_half = _smoothstep(-0.012, 0.012, x)
    D["mouthPressLeft"] = lip_shape((lips * left_half)[:, None]
                                    * np.stack([np.full(V, 0.0015), -0.0025 * (2 * upper - 1), np.full(V, -0.002)], -1))
    side_l = skin_mask(0.012, MOUTH_Y, 0.013, 0.012) * c.front
    D["mouthLowerDownLeft"] = lip_shape((side_l * (1 - upper))[:, None] * np.array([0.0, -0.007, 0.001]))
    D["mouthUpperUpLeft"] = lip_shape((side_l * upper)[:, None] * np.array([0.0, 0.007, 0.001]))


def _brow_cheek_nose_shapes(c: _ShapeContext, D: dict) -> None:
    """Brows, cheeks and nose (centre and Left keys)."""
    V, x, skin_mask = c.V, c.x, c.skin_mask
    D["browDownLeft"] = skin_mask(0.030, 0.052, 0.022, 0.012)[:, None] * np.array([-0.003, -0.006, 0.001])
    D["browInnerUp"] = (skin_mask(0.0, 0.050, 0.026, 0.013))[:, None] * np.array([0.0, 0.007, 0.0])
    D["browOuterUpLeft"] = skin_mask(0.046, 0.050, 0.016, 0.013)[:, None] * np.array([0.0, 0.007, 0.0])
    puff = skin_mask(0.040, MOUTH_Y + 0.010, 0.018, 0.020) + skin_mask(-0.040, MOUTH_Y + 0.010, 0.018, 0.020)
    D["cheekPuff"] = c.lip_shape(puff[:, None] * np.stack([np.sign(x) * 0.013, np.zeros(V), np.full(V, 0.006)], -1))
    D["cheekSquintLeft"] = skin_mask(0.036, 0.010, 0.016, 0.010)[:, None] * np.array([0.0, 0.004, 0.002])
    D["noseSneerLeft"] = (skin_mask(0.012, -0.002, 0.008, 0.013)[:, None] * np.array([0.001, 0.004, 0.0])
                          + skin_mask(0.010, MOUTH_Y + 0.010, 0.010, 0.008)[:, None] * np.array([0.0, 0.002, 0.0]))


def _eye_shapes(c: _ShapeContext, eyes: dict, eye_z: float, D: dict) -> None:
    """Left eye keys: the lids change their edge elevation, the eyeball rotates about its centre."""
    V, skin_mask = c.V, c.skin_mask
    eye_start, lid_start = eyes[True]
    n_eye = lid_start - eye_start
    n_lid = len(_lid_params()[0]) * 2
    ce = _eye_center(True, eye_z)
    rest_lid = _lid_positions(LID_UPPER_EDGE, LID_LOWER_EDGE)
    lid_sl = slice(lid_start, lid_start + n_lid)
    eye_sl = slice(eye_start, eye_start + n_eye)

    def lids(up_edge, lo_edge):
        d = np.zeros((V, 3))
        d[lid_sl] = _lid_positions(up_edge, lo_edge) - rest_lid
        return d

    U, L_ = LID_UPPER_EDGE, LID_LOWER_EDGE
    D["eyeBlinkLeft"] = lids(np.radians(-15.0), np.radians(-13.0))
    D["eyeWideLeft"] = lids(np.radians(34.0), L_) + skin_mask(EYE_X, EYE_Y + 0.016, 0.016, 0.008)[:, None] * np.array([0, 0.002, 0])
    D["eyeSquintLeft"] = lids(np.radians(9.0), np.radians(-6.0)) \
        + skin_mask(EYE_X, EYE_Y - 0.014, 0.015, 0.007)[:, None] * np.array([0.0, 0.003, 0.001])
    eye_rel = c.v[eye_sl] - ce

    def look(r, up_edge=U, lo_edge=L_):
        d = lids(up_edge, lo_edge)
        d[eye_sl] = eye_rel @ r.T - eye_rel
        return d

    D["eyeLookUpLeft"] = look(_rot_x(-np.radians(25)), np.radians(24.0), np.radians(-14.0))
    D["eyeLookDownLeft"] = look(_rot_x(np.radians(25)), np.radians(0.0), np.radians(-25.0))
    D["eyeLookOutLeft"] = look(_rot_y(np.radians(30)))  # toward +x, the subject's left
    D["eyeLookInLeft"] = look(_rot_y(-np.radians(30)))


def _mirrored_shapes(D: dict, mirror: np.ndarray, V: int) -> np.ndarray:
    """(52, V, 3) in ARKit order: Right keys = exact mirror images of the Left keys, centre keys symmetrised."""
    out = np.zeros((NUM_BLENDSHAPES, V, 3))
    for n in ARKIT_NAMES:
        if n.endswith("Left"):
            out[INDEX[n]] = D[n]
            out[INDEX[MIRROR[n]]] = _mirror_delta(D[n], mirror)
        elif not n.endswith("Right"):
            out[INDEX[n]] = 0.5 * (D[n] + _mirror_delta(D[n], mirror))
    out[np.abs(out) < 1e-7] = 0.0
    return out


def _author_shapes(v, parts, info, mirror, eyes, tongue_c, eye_z) -> np.ndarray:
    """(52, V, 3) offsets: Left and centre keys authored here, Right keys = mirror of Left."""
    V = len(v)
    D = {n: np.zeros((V, 3)) for n in ARKIT_NAMES}  # name -> (V, 3); keys nothing authors stay zero
    c = _ShapeContext(v, info)
    _jaw_shapes(c, parts, D)
    _mouth_shapes(c, D)  # mouthClose builds on jawOpen
    _brow_cheek_nose_shapes(c, D)
    _eye_shapes(c, eyes, eye_z, D)
    # Tongue out: forward through the lips and a little down, tip stretched.
    tongue = parts == PARTS.index("tongue")
    tz = (v[:, 2] - tongue_c[2]) / 0.024
    D["tongueOut"][tongue] = np.stack([np.zeros(tongue.sum()), -0.004 - 0.002 * tz[tongue],
                                       0.034 + 0.010 * tz[tongue]], -1)
    return _mirrored_shapes(D, mirror, V)
