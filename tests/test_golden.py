"""Golden outputs: a fixed animation written to every format and keyed in Blender gives the same bytes as when
tests/golden.json was recorded. Restructuring must not change them; a deliberate format change updates the
file (python tests/test_golden.py --record) and says why in the commit."""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import make_animation

GOLDEN = Path(__file__).with_name("golden.json")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _arrays_digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k], np.float32).tobytes())
    return h.hexdigest()


def glb_fingerprint(path: Path) -> dict:
    """A GLB reduced to what must not change: its JSON (less float bounds) and every buffer view that holds no
    float data exactly, each float accessor as a weighted sum plus its bounds, to 7 digits, compared with a
    tolerance (the proxy mesh's floats differ in the last bit between hosts: OpenBLAS picks its kernels by CPU)."""
    from dreamtalk.exporters.gltf import read_gltf
    from test_gltf import accessor
    gltf, blob, _ = read_gltf(path)
    float_views, sums = set(), []
    for i, acc in enumerate(gltf["accessors"]):
        if acc["componentType"] != 5126:
            continue
        x = accessor(gltf, blob, i).reshape(-1).astype(np.float64)  # dense, sparse values filled in
        w = 1.0 + (np.arange(x.size) * 2654435761 % 1000) / 1000.0  # fixed pseudo-random weights
        sums += [float(x @ w)] + [v for k in ("min", "max") for v in acc.pop(k, [])]
        float_views.update(v for v in (acc.get("bufferView"), acc.get("sparse", {}).get("values", {}).get("bufferView"))
                           if v is not None)
    exact = hashlib.sha256()
    for j, view in enumerate(gltf["bufferViews"]):
        if j not in float_views:  # indices, sparse indices, integer data
            start = view.get("byteOffset", 0)
            exact.update(blob[start:start + view["byteLength"]])
    return {"json": _digest(json.dumps(gltf, sort_keys=True).encode()), "ints": exact.hexdigest(),
            "floats": " ".join(f"{v:.7g}" for v in sums)}  # one line in golden.json


def _animation():
    return make_animation(45, 30.0, seed=3, gaze=True)


def file_digests(tmp: Path) -> dict:
    """sha256 of the animation written as JSON, CSV and NPZ, and the proxy GLB's fingerprint."""
    from dreamtalk.core.formats import write_animation
    from dreamtalk.exporters.gltf import write_proxy_glb
    anim = _animation()
    out = {}
    for ext in ("json", "csv", "npz"):
        write_animation(anim, tmp / f"a.{ext}")
        out[ext] = _digest((tmp / f"a.{ext}").read_bytes())
    write_proxy_glb(anim, tmp / "a.glb")
    out["glb"] = glb_fingerprint(tmp / "a.glb")
    return out


def keyed_digests() -> dict:
    """sha256 of the curves the add-on keys on the proxy head (quaternion bone, Euler object) and of the
    animation it reads back."""
    from dreamtalk.addon import keying
    from dreamtalk.exporters import blender_scene as bs
    from dreamtalk.rigs.proxy_head import build_proxy_head
    anim = _animation()
    bs.reset_session()
    ph = build_proxy_head()
    ob = bs.new_mesh_object("DreamTalkHead", ph.vertices, ph.triangles, ph.delta_dict)
    rig = bs.new_head_rig(ob, ph.pivot)
    mapping = keying.resolve_mapping(ob)
    keying.key_mapped_animation(ob, anim, mapping, 1, "T", fps=30.0)
    keying.key_head_animation(rig, "Head", anim, 1, "H", fps=30.0)

    def curves(idb) -> dict:
        out = {}
        for (path, i), fc in keying.active_fcurves(idb).items():
            co = np.empty(2 * len(fc.keyframe_points), np.float32)
            fc.keyframe_points.foreach_get("co", co)
            out[f"{path}[{i}]"] = co
        return out
    back, _, _ = keying.read_keyed_animation(ob, mapping, rig, "Head", fps=30.0)
    ob.rotation_mode = "XYZ"
    keying.key_head_animation(ob, None, anim, 1, "E", fps=30.0)
    return {"shape_keys": _arrays_digest(curves(ob.data.shape_keys)), "bone_quaternions": _arrays_digest(curves(rig)),
            "object_euler": _arrays_digest(curves(ob)),
            "read_back": _arrays_digest({"w": back.weights, "h": back.head_rotation})}


def test_written_files_match_golden(tmp_path):
    want = json.loads(GOLDEN.read_text())["files"]
    got = file_digests(tmp_path)
    want_glb, got_glb = want.pop("glb"), got.pop("glb")
    assert got == want
    assert (got_glb["json"], got_glb["ints"]) == (want_glb["json"], want_glb["ints"])
    got_f, want_f = (np.array(g["floats"].split(), float) for g in (got_glb, want_glb))
    np.testing.assert_allclose(got_f, want_f, rtol=2e-6, atol=1e-6)


@pytest.mark.blender
def test_keyed_curves_match_golden():
    pytest.importorskip("bpy")
    want = json.loads(GOLDEN.read_text())["keyed"]
    assert keyed_digests() == want


if __name__ == "__main__" and "--record" in sys.argv:
    import tempfile
    with tempfile.TemporaryDirectory() as td:
        GOLDEN.write_text(json.dumps({"files": file_digests(Path(td)), "keyed": keyed_digests()}, indent=1) + "\n")
    print(GOLDEN.read_text())
