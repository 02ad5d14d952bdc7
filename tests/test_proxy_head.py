"""The procedural proxy head: closed surfaces, layout, all 52 shape keys, exact left/right mirroring."""
from __future__ import annotations

import numpy as np
import pytest

from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX, MIRROR, NUM_BLENDSHAPES
from dreamtalk.rigs.proxy_head import MOUTH_Y, PARTS, build_proxy_head


@pytest.fixture(scope="module")
def head():
    return build_proxy_head()


def part(head, name):
    return np.nonzero(head.part_ids == PARTS.index(name))[0]


def weights(**kw):
    w = np.zeros(NUM_BLENDSHAPES)
    for k, v in kw.items():
        w[INDEX[k]] = v
    return w


def test_sizes_and_frame(head):
    v = head.vertices
    assert 3000 <= head.num_vertices <= 12000
    assert head.deltas.shape == (52, head.num_vertices, 3) and head.names == ARKIT_NAMES
    assert np.all(np.isfinite(head.deltas)) and np.all(np.isfinite(v))
    skin = v[part(head, "skin")]
    above_neck = skin[skin[:, 1] > -0.10]
    assert 0.17 < np.ptp(above_neck[:, 1]) < 0.26  # about 0.2 m tall
    # Face looks +Z: the nose tip (frontmost point) is in the middle, between eyes and mouth.
    tip = skin[np.argmax(skin[:, 2])]
    assert abs(tip[0]) < 1e-6 and MOUTH_Y < tip[1] < v[part(head, "eyeLeft")][:, 1].mean()
    # +X is the subject's left: the "Left" eye sits at +x.
    assert v[part(head, "eyeLeft")][:, 0].mean() > 0.02 > -0.02 > v[part(head, "eyeRight")][:, 0].mean()
    n = np.linalg.norm(head.normals, axis=1)
    assert np.allclose(n, 1, atol=1e-5)


@pytest.mark.parametrize("name", ["skin", "eyeLeft", "eyeRight", "teethUpper", "teethLower", "tongue"])
def test_closed_and_outward(head, name):
    idx = part(head, name)
    t = head.triangles.astype(np.int64)
    t = t[np.isin(t[:, 0], idx)]
    edges = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    directed = set(map(tuple, edges))
    assert len(directed) == len(edges), "an edge is used twice in the same direction"
    assert all((b, a) in directed for a, b in directed), "the surface has a hole"
    v = head.vertices.astype(np.float64)
    volume = np.einsum("ij,ij->i", v[t[:, 0]], np.cross(v[t[:, 1]], v[t[:, 2]])).sum() / 6
    assert volume > 0, "normals point inward"


def test_every_key_moves_something_plausible(head):
    for k, name in enumerate(ARKIT_NAMES):
        d = np.linalg.norm(head.deltas[k], axis=1)
        assert d.max() > 1e-3, f"{name} does nothing"
        assert d.max() < 0.06, f"{name} moves a vertex {d.max():.3f} m"
        assert np.any(head.normal_deltas[k]), f"{name} has no normal deltas"


def _sorted_points(p):
    p = np.asarray(p, dtype=np.float64)
    return p[np.lexsort((p[:, 2], p[:, 1], p[:, 0]))]


def test_mirror_exact(head):
    """Posing a Left key and mirroring the whole mesh across x gives exactly the Right pose (point sets)."""
    reflect = np.array([-1.0, 1.0, 1.0])
    assert np.array_equal(_sorted_points(head.pose() * reflect), _sorted_points(head.pose()))
    for name in ARKIT_NAMES:
        if name.endswith("Right"):
            continue
        left = head.pose(weights(**{name: 1.0})) * reflect
        right = head.pose(weights(**{MIRROR[name]: 1.0}))
        assert np.array_equal(_sorted_points(left), _sorted_points(right)), name


def test_left_keys_stay_mostly_left(head):
    v = head.vertices
    for name in ("eyeBlinkLeft", "mouthSmileLeft", "browOuterUpLeft", "cheekSquintLeft", "noseSneerLeft"):
        d = np.linalg.norm(head.delta(name), axis=1)
        assert d[v[:, 0] > 0].sum() > 5 * d[v[:, 0] < 0].sum(), name


def test_jaw_open_hinges_lower_face(head):
    jaw = head.delta("jawOpen")
    lo, up = part(head, "teethLower"), part(head, "teethUpper")
    assert np.all(jaw[up] == 0)
    assert jaw[lo][:, 1].mean() < -0.004  # lower teeth drop
    # Rotation about a hinge: lower-teeth distances to each other are preserved.
    p0, p1 = head.vertices[lo].astype(float), head.vertices[lo] + jaw[lo]
    assert np.allclose(np.linalg.norm(p0[1:] - p0[0], axis=1), np.linalg.norm(p1[1:] - p1[0], axis=1), atol=2e-4)
    # The lips part: the lowest upper-lip edge point and the highest lower-lip edge point separate by > 1 cm.
    open_ = head.pose(weights(jawOpen=1.0))
    skin = part(head, "skin")
    front = skin[(np.abs(head.vertices[skin, 0]) < 1e-6) & (head.vertices[skin, 2] > 0.05)
                 & (np.abs(head.vertices[skin, 1] - MOUTH_Y) < 1e-6)]
    assert len(front) == 2  # upper and lower copies of the mid-lip vertex
    assert np.ptp(open_[front, 1]) > 0.01
    # mouthClose brings them back together with the jaw still open.
    closed = head.pose(weights(jawOpen=1.0, mouthClose=1.0))
    assert np.ptp(closed[front, 1]) < 0.35 * np.ptp(open_[front, 1])


def test_blink_covers_the_eye(head):
    lid = part(head, "lidLeft")
    eye = part(head, "eyeLeft")
    c = head.vertices[eye].mean(0)
    rest = head.pose()[lid]
    shut = head.pose(weights(eyeBlinkLeft=1.0))[lid]
    # The upper lid's lowest front point drops below the eye centre when blinking.
    front = (rest[:, 2] - c[2]) > 0.008
    assert (rest[front, 1] - c[1]).min() < -0.001  # the lower lid sits below the centre at rest
    upper = np.arange(len(lid)) < len(lid) // 2
    assert (rest[front & upper, 1] - c[1]).min() > 0.001
    assert (shut[front & upper, 1] - c[1]).min() < -0.001
    assert np.all(head.delta("eyeBlinkLeft")[part(head, "lidRight")] == 0)


def test_gaze_rotates_eyeball(head):
    eye = part(head, "eyeLeft")
    v = head.vertices[eye].astype(float)
    pupil = eye[np.argmax(v[:, 2])]
    c = 0.5 * (v.max(0) + v.min(0))  # centre of the sphere
    for name, axis, sign in (("eyeLookOutLeft", 0, 1), ("eyeLookInLeft", 0, -1),
                             ("eyeLookUpLeft", 1, 1), ("eyeLookDownLeft", 1, -1)):
        p = head.pose(weights(**{name: 1.0}))
        assert sign * (p[pupil, axis] - head.vertices[pupil, axis]) > 0.003, name
        r = np.linalg.norm(p[eye] - c, axis=1)
        assert r.min() > 0.95 * np.linalg.norm(v - c, axis=1).max()  # linear blend of a rotation: nearly a sphere


def test_smile_and_tongue(head):
    skin = part(head, "skin")
    v = head.vertices
    corner_l = skin[np.argmin(np.linalg.norm(v[skin] - [0.025, MOUTH_Y, 0.08], axis=1) - 1e3 * (v[skin, 2] > 0))]
    smile = head.delta("mouthSmileLeft")
    assert smile[corner_l, 1] > 0.004 and smile[corner_l, 2] < 0
    assert head.delta("mouthFrownLeft")[corner_l, 1] < -0.004
    tongue = part(head, "tongue")
    out = head.pose(weights(jawOpen=0.6, tongueOut=1.0))
    assert out[tongue, 2].max() > v[skin][np.abs(v[skin, 1] - MOUTH_Y) < 0.005, 2].max()


def test_pose_head_rotation(head):
    nose = np.argmax(head.vertices[:, 2] * (head.part_ids == 0))
    p = head.pose(head_rotation=np.array([0.3, 0.0, 0.0]))  # pitch + : chin down
    assert p[nose, 1] < head.vertices[nose, 1] - 0.01
    p = head.pose(head_rotation=np.array([0.0, 0.3, 0.0]))  # yaw + : face turns to the subject's left (+x)
    assert p[nose, 0] > 0.01
    # The pivot does not move.
    d = np.linalg.norm(head.vertices - head.pivot, axis=1)
    assert np.allclose(np.linalg.norm(p - head.pivot, axis=1), d, atol=1e-6)
    with pytest.raises(ValueError):
        head.pose(np.zeros(51))


@pytest.mark.parametrize("name", ["skin", "eyeLeft", "eyeRight", "teethUpper", "teethLower", "tongue"])
def test_winding_matches_vertex_normals(head, name):
    """Every triangle of a closed part faces the same way as the mean of its vertex normals."""
    t = head.triangles.astype(np.int64)
    t = t[np.isin(t[:, 0], part(head, name))]
    v = head.vertices.astype(np.float64)
    fn = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    bad = np.einsum("ij,ij->i", fn, head.normals[t].astype(np.float64).mean(1)) <= 0
    assert not bad.any(), f"{bad.sum()} triangles wound against their normals, e.g. at {v[t[bad]].mean(1)[:3]}"


def _front_z(p, tris, xy):
    """(N,) frontmost z of the +z-facing triangles covering each (x, y) point; nan where none does."""
    a, b, c = (p[tris[:, k], :2] for k in range(3))
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    keep = area > 1e-14
    a, b, c, area, tris = a[keep], b[keep], c[keep], area[keep], tris[keep]
    px, py = xy[:, None, 0], xy[:, None, 1]  # (N, 1)
    w0 = ((b[:, 0] - px) * (c[:, 1] - py) - (c[:, 0] - px) * (b[:, 1] - py)) / area
    w1 = ((c[:, 0] - px) * (a[:, 1] - py) - (a[:, 0] - px) * (c[:, 1] - py)) / area
    w2 = 1 - w0 - w1
    z = w0 * p[tris[:, 0], 2] + w1 * p[tris[:, 1], 2] + w2 * p[tris[:, 2], 2]
    hit = (w0 >= -1e-9) & (w1 >= -1e-9) & (w2 >= -1e-9)
    return np.where(hit, z, -np.inf).max(1)


def test_mouth_pouch_stays_behind_lips(head):
    """At rest and in every single-shape pose, no pouch vertex is in front of the lip skin covering it."""
    from dreamtalk.rigs.proxy_head import MATERIALS
    t = head.triangles.astype(np.int64)
    skin_t = head.part_ids[t[:, 0]] == PARTS.index("skin")
    mouth_t = head.material_ids == MATERIALS.index("mouth")
    # Pouch vertices: used by mouth triangles only (the lip edge loop also belongs to lip triangles).
    used_mouth = np.zeros(head.num_vertices, bool)
    used_mouth[t[mouth_t].ravel()] = True
    used_other = np.zeros(head.num_vertices, bool)
    used_other[t[skin_t & ~mouth_t].ravel()] = True
    pouch = np.nonzero(used_mouth & ~used_other)[0]
    assert len(pouch) > 50
    cen = head.vertices[t].mean(1)
    lip_region = t[skin_t & ~mouth_t & (np.abs(cen[:, 0]) < 0.045) & (np.abs(cen[:, 1] - MOUTH_Y) < 0.03)
                   & (cen[:, 2] > 0.03)]
    covered_at_rest = 0
    for k in range(-1, NUM_BLENDSHAPES):
        w = np.zeros(NUM_BLENDSHAPES)
        if k >= 0:
            w[k] = 1.0
        p = head.pose(w)
        zs = _front_z(p, lip_region, p[pouch, :2])
        covered = np.isfinite(zs)
        if k < 0:
            covered_at_rest = covered.sum()
        gap = zs[covered] - p[pouch[covered], 2]
        name = "rest" if k < 0 else ARKIT_NAMES[k]
        assert gap.min() > 0, f"{name}: a pouch vertex is {-gap.min() * 1000:.2f} mm in front of the lips"
    assert covered_at_rest > 0.8 * len(pouch)  # the check really looks at the pouch behind the closed lips
