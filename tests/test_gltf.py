"""glTF/GLB export: Khronos validator (0 errors, 0 warnings), timing, a user's file kept intact,
keyframe reduction's error bound, and (marked blender) the round trip through Blender's glTF importer.

The validator is the npm package ``gltf-validator`` installed repo-locally (``npm ci`` at the repo root),
run offline through ``node``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dreamtalk.core.rotation import head_rotation_matrices, head_rotation_quaternions
from dreamtalk.core.errors import InputError
from dreamtalk.exporters.gltf import animate_user_gltf, read_gltf, write_proxy_glb
from dreamtalk.exporters.keyreduce import quat_angle, slerp
from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX

from conftest import make_animation

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = REPO / "node_modules" / "gltf-validator"

_VALIDATE_JS = r"""
const validator = require(process.argv[1]);
const fs = require('fs'); const path = require('path');
const file = process.argv[2];
validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {
  uri: path.basename(file), maxIssues: 0,
  externalResourceFunction: (uri) => new Promise((ok, bad) => {
    fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)), (e, d) => e ? bad(e.toString()) : ok(new Uint8Array(d)));
  }),
}).then(r => console.log(JSON.stringify(r.issues)), e => { console.error(String(e)); process.exit(3); });
"""


def khronos_validate(path: Path) -> dict:
    """The Khronos glTF-Validator's issue summary for a file (skips when node or the package is missing)."""
    node = shutil.which("node")
    if node is None or not (VALIDATOR / "package.json").is_file():
        pytest.skip("Khronos glTF-Validator not installed: run `npm ci` in the repository root (needs node)")
    r = subprocess.run([node, "-e", _VALIDATE_JS, str(VALIDATOR), str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def assert_valid(path: Path) -> None:
    issues = khronos_validate(path)
    bad = [m for m in issues["messages"] if m["severity"] <= 1]
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, json.dumps(bad[:10], indent=1)


# ---- reading accessors back (plain numpy, dense and sparse) --------------------------------------------

_NCOMP = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_DT = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}


def accessor(doc: dict, blob: bytes, i: int) -> np.ndarray:
    """(count, n) values of accessor i of a GLB (tightly packed views)."""
    a = doc["accessors"][i]
    n, dt = _NCOMP[a["type"]], _DT[a["componentType"]]

    def view(bv_i, count, k, dtype, extra=0):
        bv = doc["bufferViews"][bv_i]
        off = bv.get("byteOffset", 0) + extra
        return np.frombuffer(blob, dtype=dtype, count=count * k, offset=off).reshape(count, k)

    out = (view(a["bufferView"], a["count"], n, dt, a.get("byteOffset", 0)).copy() if "bufferView" in a
           else np.zeros((a["count"], n), dt))
    if "sparse" in a:
        s = a["sparse"]
        idx = view(s["indices"]["bufferView"], s["count"], 1, _DT[s["indices"]["componentType"]])[:, 0]
        out[idx] = view(s["values"]["bufferView"], s["count"], n, dt)
    return out


# ---- the proxy head ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def proxy_file(tmp_path_factory):
    anim = make_animation(45, 30.0, audio_duration=1.52, emotion="happy")
    path = tmp_path_factory.mktemp("gltf") / "proxy.glb"
    summary = write_proxy_glb(anim, path)
    return anim, path, summary


def test_proxy_glb_is_valid(proxy_file):
    _, path, _ = proxy_file
    assert_valid(path)


def test_proxy_glb_structure_and_timing(proxy_file):
    anim, path, summary = proxy_file
    doc, blob, is_glb = read_gltf(path)
    assert is_glb
    (mesh,) = doc["meshes"]
    assert mesh["extras"]["targetNames"] == list(ARKIT_NAMES)
    for prim in mesh["primitives"]:
        assert len(prim["targets"]) == 52
        for t in prim["targets"]:
            a = doc["accessors"][t["POSITION"]]
            assert "min" in a and "max" in a
        assert "min" in doc["accessors"][prim["attributes"]["POSITION"]]
    (an,) = doc["animations"]
    paths = {doc["nodes"][c["target"]["node"]]["name"]: c["target"]["path"] for c in an["channels"]}
    assert paths == {"ProxyHeadMesh": "weights", "Head": "rotation"}
    by_path = {c["target"]["path"]: an["samplers"][c["sampler"]] for c in an["channels"]}
    ws, rs = by_path["weights"], by_path["rotation"]
    assert ws["interpolation"] == rs["interpolation"] == "LINEAR"
    t = accessor(doc, blob, ws["input"])[:, 0]
    # fps-exact times, then one hold key at the audio's duration (1.52 s > 45 / 30 s).
    assert len(t) == anim.num_frames + 1
    assert np.array_equal(t[:-1], (np.arange(45) / 30.0).astype(np.float32))
    assert t[-1] == np.float32(1.52) and summary["duration"] == pytest.approx(1.52)
    assert doc["accessors"][ws["input"]]["max"][0] == float(np.float32(1.52))
    w = accessor(doc, blob, ws["output"])
    assert doc["accessors"][ws["output"]]["count"] == len(t) * 52
    w = w.reshape(len(t), 52)
    assert np.array_equal(w[:-1], anim.weights) and np.array_equal(w[-1], anim.weights[-1])
    q = accessor(doc, blob, rs["output"])
    assert q.shape == (len(t), 4)
    ref = head_rotation_quaternions(anim.head_rotation)
    assert quat_angle(q[:-1], ref).max() < 1e-5


def test_proxy_glb_duration_without_audio(tmp_path):
    anim = make_animation(30, 60.0)
    s = write_proxy_glb(anim, tmp_path / "a.glb")
    assert s["duration"] == pytest.approx(0.5) and s["keys"] == 31  # frames / fps: last frame held


def test_proxy_gltf_is_one_json_file_with_the_glb_content(proxy_file, tmp_path):
    """A .gltf path gets glTF JSON with the buffer embedded (not GLB bytes): the same document and data."""
    anim, glb, _ = proxy_file
    path = tmp_path / "proxy.gltf"
    write_proxy_glb(anim, path)
    assert path.read_bytes()[:1] == b"{"
    assert_valid(path)
    doc, blob, is_glb = read_gltf(path)
    gdoc, gblob, _ = read_gltf(glb)
    assert not is_glb and blob is None
    uri = doc["buffers"][0].pop("uri")
    assert doc == gdoc
    import base64
    data = base64.b64decode(uri.split(",", 1)[1])
    assert data == gblob[:gdoc["buffers"][0]["byteLength"]]


def test_proxy_glb_geometry_matches_rig(proxy_file):
    """Posing the GLB's morph targets reproduces ProxyHead.pose for the same weights."""
    from dreamtalk.rigs.proxy_head import build_proxy_head
    head = build_proxy_head()
    anim, path, _ = proxy_file
    doc, blob, _ = read_gltf(path)
    w = anim.weights[7].astype(np.float64)
    posed = head.pose(w)
    tris = head.triangles.astype(np.int64)
    prims = doc["meshes"][0]["primitives"]
    assert [doc["materials"][p["material"]]["name"] for p in prims] == [
        m for i, m in enumerate(head.materials) if np.any(head.material_ids == i)]
    for prim in prims:
        m = head.materials.index(doc["materials"][prim["material"]]["name"])
        verts = np.unique(tris[head.material_ids == m])  # the exporter's vertex order for this primitive
        p = accessor(doc, blob, prim["attributes"]["POSITION"]).astype(np.float64)
        for k, t in enumerate(prim["targets"]):
            p += w[k] * accessor(doc, blob, t["POSITION"])
        assert np.abs(p - posed[verts]).max() < 1e-6
        idx = accessor(doc, blob, prim["indices"])[:, 0].reshape(-1, 3)
        assert np.array_equal(verts[idx], tris[head.material_ids == m])


# ---- a user's GLB ---------------------------------------------------------------------------------------

USER_TARGETS = ["jawOpen", "mouthSmileLeft", "EyeBlinkLeft", "browInnerUp", "wrinkleNose_custom"]


def build_user_glb(path: Path, with_targets: bool = True) -> None:
    """A small GLB with 2 materials (one with an extension), a skin with 2 joints, morph targets on one
    mesh, an unrelated translation animation and extras everywhere."""
    import pygltflib as g

    pos = np.array([[-1, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0]], np.float32) * 0.1
    tri = np.array([0, 1, 2, 0, 3, 1], np.uint16)
    joints = np.zeros((4, 4), np.uint16)
    joints[2, 0] = 1
    wts = np.zeros((4, 4), np.float32)
    wts[:, 0] = 1
    ibm = np.tile(np.eye(4, dtype=np.float32), (2, 1, 1))
    ibm[1, 1, 3] = -0.05  # translation of the head joint (row-major here, stored column-major below)
    times = np.array([0, 0.5, 1.0], np.float32)
    trans = np.array([[0, 0, 0], [0, 0.02, 0], [0, 0, 0]], np.float32)
    blobs, views, accs = [], [], []

    def add(a, type_, comp, target=None, mm=False):
        off = sum(len(b) for b in blobs)
        raw = a.tobytes()
        blobs.append(raw + b"\0" * (-len(raw) % 4))
        views.append(g.BufferView(buffer=0, byteOffset=off, byteLength=len(raw), target=target))
        flat = a.reshape(len(a), -1)
        accs.append(g.Accessor(bufferView=len(views) - 1, componentType=comp, count=len(a), type=type_,
                               min=flat.min(0).tolist() if mm else None, max=flat.max(0).tolist() if mm else None))
        return len(accs) - 1

    P = add(pos, "VEC3", g.FLOAT, g.ARRAY_BUFFER, True)
    I1 = add(tri[:3], "SCALAR", g.UNSIGNED_SHORT, g.ELEMENT_ARRAY_BUFFER)
    I2 = add(tri[3:], "SCALAR", g.UNSIGNED_SHORT, g.ELEMENT_ARRAY_BUFFER)
    J = add(joints, "VEC4", g.UNSIGNED_SHORT, g.ARRAY_BUFFER)
    W = add(wts, "VEC4", g.FLOAT, g.ARRAY_BUFFER)
    IBM = add(ibm.transpose(0, 2, 1).reshape(2, 16).copy(), "MAT4", g.FLOAT)
    targets = []
    if with_targets:
        for k in range(len(USER_TARGETS)):
            d = np.zeros((4, 3), np.float32)
            d[k % 4, 1] = 0.01 * (k + 1)
            targets.append({"POSITION": add(d, "VEC3", g.FLOAT, g.ARRAY_BUFFER, True)})
    TI = add(times, "SCALAR", g.FLOAT, None, True)
    TO = add(trans, "VEC3", g.FLOAT)
    attrs = g.Attributes(POSITION=P, JOINTS_0=J, WEIGHTS_0=W)
    prims = [g.Primitive(attributes=attrs, indices=I1, material=0, targets=targets or None),
             g.Primitive(attributes=attrs, indices=I2, material=1, targets=targets or None)]
    mesh = g.Mesh(name="Face", primitives=prims, weights=[0.0] * len(targets) if targets else None,
                  extras={"targetNames": USER_TARGETS} if targets else {"note": "no targets"})
    doc = g.GLTF2(
        asset=g.Asset(version="2.0", generator="dreamtalk test", extras={"keep": "me"}),
        scene=0, scenes=[g.Scene(nodes=[0, 1])],
        nodes=[g.Node(name="Face", mesh=0, skin=0, extras={"custom": [1, 2, 3]}),
               g.Node(name="Root", children=[2], translation=[0, 1.0, 0]),
               g.Node(name="Head", translation=[0, 0.05, 0], rotation=[0, 0, 0.0998334, 0.9950042])],
        meshes=[mesh],
        materials=[g.Material(name="skin", pbrMetallicRoughness=g.PbrMetallicRoughness(baseColorFactor=[0.8, 0.6, 0.5, 1])),
                   g.Material(name="glow", emissiveFactor=[1, 0.5, 0],
                              extensions={"KHR_materials_emissive_strength": {"emissiveStrength": 3.0}})],
        extensionsUsed=["KHR_materials_emissive_strength"],
        skins=[g.Skin(name="Rig", joints=[1, 2], inverseBindMatrices=IBM, skeleton=1)],
        animations=[g.Animation(name="Idle", samplers=[g.AnimationSampler(input=TI, output=TO, interpolation="LINEAR")],
                                channels=[g.AnimationChannel(sampler=0, target=g.AnimationChannelTarget(node=1, path="translation"))])],
        accessors=accs, bufferViews=views, buffers=[g.Buffer(byteLength=sum(len(b) for b in blobs))])
    doc.set_binary_blob(b"".join(blobs))
    doc.save_binary(str(path))


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("user")
    src, dst = d / "user.glb", d / "out" / "user_animated.glb"
    build_user_glb(src)
    anim = make_animation(60, 30.0, seed=3)
    report = animate_user_gltf(anim, src, dst)
    return anim, src, dst, report


def test_user_source_fixture_is_valid(user_files):
    _, src, _, _ = user_files
    assert_valid(src)


def test_user_glb_animated_is_valid(user_files):
    _, _, dst, _ = user_files
    assert_valid(dst)


def test_user_glb_keeps_everything_else(user_files):
    anim, src, dst, report = user_files
    before, bblob, _ = read_gltf(src)
    after, ablob, _ = read_gltf(dst)
    for key in ("asset", "scene", "scenes", "nodes", "meshes", "materials", "skins", "extensionsUsed"):
        assert after[key] == before[key], key
    assert after["animations"][0] == before["animations"][0]  # the unrelated animation, untouched
    n_acc, n_bv = len(before["accessors"]), len(before["bufferViews"])
    assert after["accessors"][:n_acc] == before["accessors"]
    assert after["bufferViews"][:n_bv] == before["bufferViews"]
    # The original binary data is byte-for-byte the start of the new buffer.
    assert ablob[:before["buffers"][0]["byteLength"]] == bblob[:before["buffers"][0]["byteLength"]]
    # Skin and the old animation still decode to the same numbers.
    for i in range(n_acc):
        assert np.array_equal(accessor(before, bblob, i), accessor(after, ablob, i))


def test_user_glb_animation_and_report(user_files):
    anim, _, dst, report = user_files
    doc, blob, _ = read_gltf(dst)
    new = doc["animations"][-1]
    assert len(doc["animations"]) == 2 and new["name"] == "DreamTalk"
    chans = {(doc["nodes"][c["target"]["node"]]["name"], c["target"]["path"]): new["samplers"][c["sampler"]]
             for c in new["channels"]}
    assert set(chans) == {("Face", "weights"), ("Head", "rotation")}
    s = chans[("Face", "weights")]
    t = accessor(doc, blob, s["input"])[:, 0]
    w = accessor(doc, blob, s["output"]).reshape(len(t), len(USER_TARGETS))  # this mesh's own target order
    assert np.allclose(w[:60, 0], anim.channel("jawOpen"), atol=1e-6)
    assert np.allclose(w[:60, 1], anim.channel("mouthSmileLeft"), atol=1e-6)
    assert np.allclose(w[:60, 2], anim.channel("eyeBlinkLeft"), atol=1e-6)
    assert np.all(w[:, 4] == 0)  # unmapped custom target keeps its default weight
    assert "wrinkleNose_custom" in report.unmapped_targets["Face"]
    assert "tongueOut" in report.unmapped_arkit and "jawOpen" not in report.unmapped_arkit
    assert report.head_node == "Head" and report.meshes == ["Face"]
    # Head rotation composes with the node's rest rotation: at rest pose it equals the rest rotation.
    q = accessor(doc, blob, chans[("Head", "rotation")]["output"])
    rest = np.array(doc["nodes"][2]["rotation"])
    from dreamtalk.core.rotation import quat_mul
    expect = quat_mul(head_rotation_quaternions(anim.head_rotation), rest)  # parent (Root) has no rotation
    assert quat_angle(q[:60], expect).max() < 1e-5
    assert any("wrinkleNose_custom" in line for line in report.lines())


def test_user_gltf_json_with_external_buffer(tmp_path):
    """A .gltf with an external .bin, written to another folder: URIs still resolve; validator passes."""
    src_glb = tmp_path / "u.glb"
    build_user_glb(src_glb)
    doc, blob, _ = read_gltf(src_glb)
    (tmp_path / "src").mkdir()
    doc["buffers"][0]["uri"] = "u.bin"
    (tmp_path / "src" / "u.bin").write_bytes(blob[:doc["buffers"][0]["byteLength"]])
    (tmp_path / "src" / "u.gltf").write_text(json.dumps(doc))
    assert_valid(tmp_path / "src" / "u.gltf")
    out = tmp_path / "elsewhere" / "out.gltf"
    animate_user_gltf(make_animation(20, 30.0), tmp_path / "src" / "u.gltf", out)
    d = json.loads(out.read_text())
    assert d["buffers"][0]["uri"] == "../src/u.bin" and d["buffers"][1]["uri"].startswith("data:")
    assert_valid(out)


def test_user_head_node_and_overrides(tmp_path):
    """``head_node`` names the node to rotate (or False: none); ``overrides`` re-map channels as map_names does."""
    src = tmp_path / "u.glb"
    build_user_glb(src)
    anim = make_animation(20, 30.0, seed=4)

    def channels(path):
        doc, blob, _ = read_gltf(path)
        an = doc["animations"][-1]
        named = {(doc["nodes"][c["target"]["node"]]["name"], c["target"]["path"]): an["samplers"][c["sampler"]]
                 for c in an["channels"]}
        return doc, blob, named

    rep = animate_user_gltf(anim, src, tmp_path / "root.glb", head_node="Root")
    assert rep.head_node == "Root"
    assert set(channels(tmp_path / "root.glb")[2]) == {("Face", "weights"), ("Root", "rotation")}
    rep = animate_user_gltf(anim, src, tmp_path / "none.glb", head_node=False)
    assert rep.head_node is None and set(channels(tmp_path / "none.glb")[2]) == {("Face", "weights")}
    with pytest.raises(InputError, match="no node named 'Skull'"):
        animate_user_gltf(anim, src, tmp_path / "bad.glb", head_node="Skull")
    assert not (tmp_path / "bad.glb").exists()
    animate_user_gltf(anim, src, tmp_path / "over.glb", overrides={"tongueOut": "wrinkleNose_custom"})
    doc, blob, ch = channels(tmp_path / "over.glb")
    w = accessor(doc, blob, ch[("Face", "weights")]["output"]).reshape(-1, len(USER_TARGETS))
    assert np.allclose(w[:20, 4], anim.channel("tongueOut"), atol=1e-6)
    assert np.allclose(w[:20, 0], anim.channel("jawOpen"), atol=1e-6)
    assert_valid(tmp_path / "over.glb")


def test_glb_embedded_as_gltf_then_animated(tmp_path):
    """embed_glb_as_gltf: the same document with the binary chunk as a data URI; animating it gives valid .gltf."""
    from dreamtalk.exporters.gltf import embed_glb_as_gltf
    src = tmp_path / "u.glb"
    build_user_glb(src)
    out = embed_glb_as_gltf(src, tmp_path / "u.gltf")
    doc, blob, is_glb = read_gltf(out)
    sdoc, sblob, _ = read_gltf(src)
    assert not is_glb and doc["buffers"][0].pop("uri").startswith("data:") and doc == sdoc
    assert_valid(out)
    animate_user_gltf(make_animation(20, 30.0), out, tmp_path / "o" / "anim.gltf")
    assert_valid(tmp_path / "o" / "anim.gltf")
    with pytest.raises(InputError, match="not a GLB"):
        embed_glb_as_gltf(out, tmp_path / "again.gltf")


def test_user_file_without_targets_is_refused(tmp_path):
    src = tmp_path / "plain.glb"
    build_user_glb(src, with_targets=False)
    with pytest.raises(InputError, match="no morph targets"):
        animate_user_gltf(make_animation(10), src, tmp_path / "o.glb")
    assert not (tmp_path / "o.glb").exists()


def test_user_file_errors(tmp_path):
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"not a gltf")
    with pytest.raises(InputError):
        animate_user_gltf(make_animation(10), bad, tmp_path / "o.glb")
    src = tmp_path / "u.glb"
    build_user_glb(src)
    with pytest.raises(InputError, match=".glb"):
        animate_user_gltf(make_animation(10), src, tmp_path / "o.gltf")


# ---- keyframe reduction ---------------------------------------------------------------------------------

def test_reduction_error_bound_on_every_channel(tmp_path):
    tol = 1e-3
    anim = make_animation(300, 60.0, seed=5)
    w = anim.weights.copy()
    w[100:200] = w[100]  # a pause: every channel holds, so the shared weights sampler can drop keys
    anim = anim.replace(weights=w)
    full = write_proxy_glb(anim, tmp_path / "full.glb")
    red = write_proxy_glb(anim, tmp_path / "red.glb", reduce=tol)
    assert red["bytes"] < full["bytes"]
    assert_valid(tmp_path / "red.glb")
    doc, blob, _ = read_gltf(tmp_path / "red.glb")
    an = doc["animations"][0]
    by_path = {c["target"]["path"]: an["samplers"][c["sampler"]] for c in an["channels"]}
    t = anim.times
    kt = accessor(doc, blob, by_path["weights"]["input"])[:, 0]
    kv = accessor(doc, blob, by_path["weights"]["output"]).reshape(len(kt), 52)
    assert len(kt) < 300 - 90
    resampled = np.stack([np.interp(t, kt, kv[:, c]) for c in range(52)], 1)
    err = np.abs(resampled - anim.weights).max(0)  # per channel
    assert err.max() <= tol + 1e-6, dict(zip(ARKIT_NAMES, err.round(5)))
    qt = accessor(doc, blob, by_path["rotation"]["input"])[:, 0]
    qv = accessor(doc, blob, by_path["rotation"]["output"]).astype(np.float64)
    ref = head_rotation_quaternions(anim.head_rotation)
    seg = np.clip(np.searchsorted(qt, t, side="right") - 1, 0, len(qt) - 2)
    f = np.clip((t - qt[seg]) / (qt[seg + 1] - qt[seg]), 0, 1)
    got = np.stack([slerp(qv[s], qv[s + 1], f[i:i + 1])[0] for i, s in enumerate(seg)])
    assert quat_angle(got, ref).max() <= tol + 1e-5


def test_reduce_linear_holds_bound_exhaustively():
    from dreamtalk.exporters.keyreduce import reduce_linear, resample_linear
    rng = np.random.default_rng(1)
    v = np.cumsum(rng.normal(0, 0.004, (2000, 7)), axis=0)
    for tol in (1e-4, 1e-3, 1e-2):
        k = reduce_linear(v, tol)
        assert k[0] == 0 and k[-1] == len(v) - 1 and np.all(np.diff(k) > 0)
        t = np.arange(len(v), dtype=np.float64)
        assert np.abs(resample_linear(t, t[k], v[k]) - v).max() <= tol + 1e-12
    assert len(reduce_linear(np.zeros((5000, 3)), 1e-3)) == 2


# ---- Blender round trip ---------------------------------------------------------------------------------

_BLENDER_SCRIPT = r"""
import json, sys
import bpy
path, fps, frames, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
bpy.ops.wm.read_factory_settings(use_empty=True)
sc = bpy.context.scene
sc.render.fps, sc.render.fps_base = fps, 1.0
bpy.ops.import_scene.gltf(filepath=path)
# Blender's glTF importer puts t = 0 on frame 0; DREAM-Talk's convention is frame 1 = first sample.
def fcurves(action):
    if not hasattr(action, "layers"):  # Blender 4.2/4.3: legacy actions
        yield from action.fcurves
        return
    for layer in action.layers:
        for strip in layer.strips:
            for bag in strip.channelbags:
                yield from bag.fcurves
for action in bpy.data.actions:
    for fc in fcurves(action):
        for kp in fc.keyframe_points:
            kp.co.x += 1; kp.handle_left.x += 1; kp.handle_right.x += 1
        fc.update()
mesh = next(o for o in bpy.data.objects if o.type == 'MESH' and o.data.shape_keys)
head = bpy.data.objects["Head"]
kb = mesh.data.shape_keys.key_blocks
names = [k.name for k in kb][1:]
vals, rots = [], []
for f in range(1, frames + 1):
    sc.frame_set(f)
    vals.append([kb[n].value for n in names])
    rots.append([list(r) for r in head.matrix_world.to_3x3()])
json.dump({"names": names, "values": vals, "rotations": rots}, open(out, "w"))
"""


@pytest.mark.blender
def test_blender_gltf_round_trip(tmp_path):
    pytest.importorskip("bpy")
    anim = make_animation(75, 30.0, seed=9)
    path = tmp_path / "rt.glb"
    write_proxy_glb(anim, path)
    out = tmp_path / "rt.json"
    r = subprocess.run([sys.executable, "-c", _BLENDER_SCRIPT, str(path), "30", "75", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    d = json.loads(out.read_text())
    got = np.array(d["values"])  # (T, 52) Blender frames 1..T
    idx = [INDEX[n] for n in d["names"]]
    assert sorted(d["names"]) == sorted(ARKIT_NAMES)
    assert np.abs(got - anim.weights[:, idx]).max() < 1e-3
    # Head rotation: Blender is Z-up; glTF (x, y, z) -> Blender (x, -z, y).
    c = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float64)
    rb = np.array(d["rotations"])
    ref = c @ head_rotation_matrices(anim.head_rotation) @ c.T
    assert np.abs(rb - ref).max() < 1e-3
