"""A displacement basis from each ARKit blendshape to the 478 face-mesh landmarks, derived from geometry.

Why geometry and not the proxy head: the portrait's own landmarks give the exact lip, lid and brow contours,
so each shape is written in a face frame measured on the portrait itself (origin between the irises, u toward
the subject's left = image right for a frontal face, v down, unit = distance between the iris centres) as
displacements of landmark groups (lip contours, lids, irises, brows) with smooth Gaussian falloff onto the
surrounding skin. Magnitudes are in that unit (an adult's eye distance is about 63 mm; a full jawOpen drops
the lower lip about 0.34 units, about 21 mm). "Left" shapes move the subject's left (+u) side; each Right shape is
built by the same rule mirrored (u -> -u) on the right-side landmarks. Shapes with no 2D effect here (tongueOut: the tongue
is drawn by the compositor) are zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ....rigs.arkit import ARKIT_NAMES, NUM_BLENDSHAPES
from . import landmarks as L

JAW_DROP = 0.34  # lower-lip drop at jawOpen = 1, in eye distances


@dataclass
class FaceFrame:
    """2D face frame on the image: p_px = origin + s * (u * ex + v * ey)."""

    origin: np.ndarray  # (2,)
    ex: np.ndarray  # (2,) unit, toward the subject's left
    ey: np.ndarray  # (2,) unit, down the face
    s: float  # eye distance in pixels

    def to_uv(self, p: np.ndarray) -> np.ndarray:
        """(N, 2) face coordinates of (N, 2) pixel points."""
        d = np.asarray(p, np.float64)[:, :2] - self.origin
        return np.stack([d @ self.ex, d @ self.ey], -1) / self.s

    def vec_to_px(self, d: np.ndarray) -> np.ndarray:
        """(..., 2) pixel vectors of (..., 2) face-frame vectors."""
        return self.s * (d[..., :1] * self.ex + d[..., 1:2] * self.ey)


def face_frame(lm: np.ndarray) -> FaceFrame:
    """The face frame of (478, 2+) pixel landmarks."""
    r, l = lm[L.RIGHT_IRIS[0], :2], lm[L.LEFT_IRIS[0], :2]
    s = float(np.hypot(*(l - r)))
    ex = (l - r) / max(s, 1e-9)
    ey = np.array([-ex[1], ex[0]])
    return FaceFrame((l + r) / 2, ex, ey, s)


def _smooth(e0: float, e1: float, x):
    t = np.clip((np.asarray(x, np.float64) - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _gauss(uv: np.ndarray, c, ru: float, rv: float | None = None) -> np.ndarray:
    rv = ru if rv is None else rv
    d = (uv - np.asarray(c, np.float64)) / np.array([ru, rv])
    return np.exp(-0.5 * (d * d).sum(-1))


def _member(idx, n: int = L.NUM_LANDMARKS) -> np.ndarray:
    m = np.zeros(n)
    m[list(idx)] = 1.0
    return m


class _Shapes:
    """Builds the (52, 478, 2) face-frame displacements for one set of landmarks."""

    def __init__(self, uv: np.ndarray):
        self.uv = uv
        n = len(uv)
        corners = {L.MOUTH_CORNER_LEFT, L.MOUTH_CORNER_RIGHT, 78, 308}
        self.uo = _member([i for i in L.LIPS_OUTER_UPPER if i not in corners], n)
        self.ui = _member([i for i in L.LIPS_INNER_UPPER if i not in corners], n)
        self.lo = _member([i for i in L.LIPS_OUTER_LOWER if i not in corners], n)
        self.li = _member([i for i in L.LIPS_INNER_LOWER if i not in corners], n)
        self.corner = _member(sorted(corners), n)
        self.upper = np.maximum(self.uo, self.ui)
        self.lower = np.maximum(self.lo, self.li)
        self.mc = 0.5 * (uv[13] + uv[14])  # mouth centre
        self.chin = uv[L.CHIN]
        self.lower_mid = 0.5 * (uv[14] + uv[17])
        self.d = np.zeros((NUM_BLENDSHAPES, n, 2))
        # Lower jaw: lower lip fully, corners half, skin below the mouth line fading toward the ears.
        u, v = uv[:, 0], uv[:, 1]
        below = _smooth(self.mc[1] - 0.05, self.mc[1] + 0.3, v) * (1 - _smooth(0.55, 1.1, np.abs(u - self.mc[0])))
        j = np.where(self.lower > 0, 1.0, np.where(self.upper > 0, 0.0, below))
        j = np.where(self.corner > 0, 0.45, j)
        depth = np.clip((v - self.mc[1]) / max(self.chin[1] - self.mc[1], 1e-6), 0, 1)
        self.jaw = j * (0.75 + 0.25 * depth)  # chin moves a little more than the lip (rotation about the ear)
        self.side_landmarks = {
            +1: dict(corner=uv[L.MOUTH_CORNER_LEFT], eye_u=L.LEFT_EYE_UPPER, eye_l=L.LEFT_EYE_LOWER,
                     iris=L.LEFT_IRIS, brow=L.LEFT_BROW, ala=uv[L.NOSE_ALA_LEFT]),
            -1: dict(corner=uv[L.MOUTH_CORNER_RIGHT], eye_u=L.RIGHT_EYE_UPPER, eye_l=L.RIGHT_EYE_LOWER,
                     iris=L.RIGHT_IRIS, brow=L.RIGHT_BROW, ala=uv[L.NOSE_ALA_RIGHT]),
        }

    def add(self, name: str, du, dv) -> None:
        k = ARKIT_NAMES.index(name)
        self.d[k, :, 0] += du
        self.d[k, :, 1] += dv

    def side_weight(self, side: int) -> np.ndarray:
        """1 on the given side of the mouth, 0.5 on the midline, 0 on the other side."""
        return _smooth(-0.12, 0.12, side * (self.uv[:, 0] - self.mc[0]))

    def eye(self, side: int):
        """Upper/lower lid index arrays (interior points), lid gaps (7,), eye centre (2,)."""
        sl = self.side_landmarks[side]
        up, lo = np.array(sl["eye_u"][1:-1]), np.array(sl["eye_l"][1:-1])
        gap = np.maximum(self.uv[lo, 1] - self.uv[up, 1], 0.0)
        centre = self.uv[list(sl["eye_u"]) + list(sl["eye_l"])].mean(0)
        return up, lo, gap, centre

    def build(self) -> np.ndarray:
        uv, u = self.uv, self.uv[:, 0]
        n = len(uv)
        # ---- jaw ----------------------------------------------------------------------------------
        self.add("jawOpen", -0.05 * self.jaw * (u - self.mc[0]), JAW_DROP * self.jaw)
        self.add("jawForward", 0.0, 0.04 * self.jaw)
        self.add("jawLeft", 0.12 * self.jaw, 0.0)
        self.add("jawRight", -0.12 * self.jaw, 0.0)
        # mouthClose lifts the lower lip back against the upper one while the jaw stays open.
        lip_drop = JAW_DROP * self.jaw
        soft_lower = np.maximum(self.lower, 0.6 * _gauss(uv, self.lower_mid, 0.22, 0.1) * (1 - self.upper))
        lower_mean = float(lip_drop[self.li > 0].mean())
        self.add("mouthClose", 0.0, -0.85 * lip_drop * soft_lower + 0.12 * lower_mean * self.upper)
        # ---- lips, both sides -----------------------------------------------------------------------
        sgn = np.sign(u - self.mc[0])
        corners_g = _gauss(uv, self.side_landmarks[1]["corner"], 0.17) + _gauss(uv, self.side_landmarks[-1]["corner"], 0.17)
        self.add("mouthFunnel", -0.10 * sgn * corners_g,
                 -0.035 * self.ui - 0.02 * self.uo + 0.05 * self.li + 0.03 * self.lo)
        self.add("mouthPucker", -0.15 * sgn * corners_g, -0.02 * self.uo + 0.02 * self.lo)
        mouth_region = np.maximum(np.maximum(self.upper, self.lower), _gauss(uv, self.mc, 0.5, 0.3))
        self.add("mouthLeft", 0.12 * mouth_region, 0.0)
        self.add("mouthRight", -0.12 * mouth_region, 0.0)
        self.add("mouthRollLower", 0.0, -0.05 * self.lo - 0.01 * self.li)
        self.add("mouthRollUpper", 0.0, 0.045 * self.uo + 0.01 * self.ui)
        chin_g = _gauss(uv, self.chin + np.array([0.0, -0.15]), 0.3, 0.2) * (1 - self.upper)
        self.add("mouthShrugLower", 0.0, -0.04 * np.maximum(self.lower, chin_g))
        self.add("mouthShrugUpper", 0.0, -0.03 * self.upper)
        for side, sfx in ((1, "Left"), (-1, "Right")):
            self._side(side, sfx)
        # ---- brows, cheeks, nose (bilateral) ---------------------------------------------------------
        inner = sum(_gauss(uv, uv[list(self.side_landmarks[s]["brow"])[4]], 0.16, 0.14) for s in (1, -1))
        self.add("browInnerUp", 0.0, -0.09 * inner)
        puff = sum(_gauss(uv, (s * 0.62, self.mc[1] - 0.12), 0.25, 0.3) for s in (1, -1))
        self.add("cheekPuff", 0.07 * sgn * puff * (1 - np.maximum(self.upper, self.lower)), 0.0)
        out = self.d
        assert out.shape == (NUM_BLENDSHAPES, n, 2)
        return out

    def _side(self, side: int, sfx: str) -> None:
        uv, u = self.uv, self.uv[:, 0]
        sl = self.side_landmarks[side]
        sw = self.side_weight(side)
        c = sl["corner"]
        gc = _gauss(uv, c, 0.2)
        cheek = _gauss(uv, c + np.array([side * 0.12, -0.35]), 0.22)
        self.add(f"mouthSmile{sfx}", side * 0.09 * gc, -0.10 * gc - 0.04 * cheek)
        self.add(f"mouthFrown{sfx}", side * 0.01 * gc, 0.09 * _gauss(uv, c, 0.18))
        self.add(f"mouthDimple{sfx}", side * 0.06 * _gauss(uv, c, 0.16), 0.01 * _gauss(uv, c, 0.16))
        self.add(f"mouthStretch{sfx}", side * 0.09 * gc, 0.04 * gc + 0.02 * self.lower * sw)
        self.add(f"mouthPress{sfx}", 0.0, (0.02 * self.upper - 0.025 * self.lo - 0.01 * self.li) * sw)
        nasolabial = _gauss(uv, 0.5 * (c + sl["ala"]), 0.15)
        self.add(f"mouthUpperUp{sfx}", 0.0, -0.07 * self.upper * sw - 0.03 * nasolabial * (1 - self.lower))
        below_lip = _gauss(uv, self.lower_mid + np.array([side * 0.15, 0.05]), 0.18, 0.12) * (1 - self.upper)
        self.add(f"mouthLowerDown{sfx}", 0.0, (0.08 * self.lower + 0.04 * below_lip * (1 - self.lower)) * sw)
        # ---- eye --------------------------------------------------------------------------------------
        up, lo, gap, centre = self.eye(side)
        n = len(uv)

        def on(idx, vals):
            a = np.zeros(n)
            a[idx] = vals
            return a
        crease = _gauss(uv, centre + np.array([0.0, -0.17]), 0.2, 0.07)
        # The lid itself is drawn by the compositor; the warp only lets the lid skin sag and the lids bulge.
        self.add(f"eyeBlink{sfx}", 0.0, on(up, 0.08 * gap) - on(lo, 0.08 * gap) + 0.03 * crease)
        below_eye = _gauss(uv, centre + np.array([side * 0.05, 0.32]), 0.2)
        self.add(f"eyeSquint{sfx}", 0.0, on(up, 0.1 * gap) - on(lo, 0.3 * gap) - 0.03 * below_eye)
        self.add(f"eyeWide{sfx}", 0.0, -on(up, 0.28 * gap) - 0.02 * crease)
        iris = np.array(sl["iris"])
        self.add(f"eyeLookUp{sfx}", 0.0, on(iris, -0.05) - on(up, 0.15 * gap))
        self.add(f"eyeLookDown{sfx}", 0.0, on(iris, 0.05) + on(up, 0.25 * gap))
        self.add(f"eyeLookIn{sfx}", on(iris, -side * 0.08), 0.0)
        self.add(f"eyeLookOut{sfx}", on(iris, side * 0.08), 0.0)
        # ---- brow, cheek, nose --------------------------------------------------------------------------
        brow = np.array(sl["brow"])
        bc = uv[brow].mean(0)
        inner_end, outer_end = uv[brow[4]], uv[brow[0]]
        along = np.clip((u - outer_end[0]) / (inner_end[0] - outer_end[0] + 1e-9), 0, 1)  # 0 outer, 1 inner
        gb = _gauss(uv, bc, 0.3, 0.13)
        self.add(f"browDown{sfx}", -side * 0.025 * gb, 0.07 * gb * (0.6 + 0.4 * along))
        self.add(f"browOuterUp{sfx}", 0.0, -0.08 * _gauss(uv, outer_end, 0.17, 0.13))
        self.add(f"cheekSquint{sfx}", 0.0, -0.05 * below_eye - on(lo, 0.1 * gap))
        ala = sl["ala"]
        self.add(f"noseSneer{sfx}", side * 0.01 * _gauss(uv, ala, 0.12),
                 -0.05 * _gauss(uv, ala, 0.12) - 0.02 * nasolabial * (1 - self.lower))


def build_basis(lm: np.ndarray) -> np.ndarray:
    """(52, 478, 2) pixel displacements at weight 1 for (478, 2+) pixel landmarks, ARKit order."""
    lm = np.asarray(lm, np.float64)
    if lm.ndim != 2 or lm.shape[0] != L.NUM_LANDMARKS:
        raise ValueError(f"need ({L.NUM_LANDMARKS}, 2+) landmarks, got {lm.shape}")
    frame = face_frame(lm)
    d_uv = _Shapes(frame.to_uv(lm)).build()
    return frame.vec_to_px(d_uv).astype(np.float32)
