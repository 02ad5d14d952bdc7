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


def _animation():
    return make_animation(45, 30.0, seed=3, gaze=True)


def file_digests(tmp: Path) -> dict:
    """sha256 of the animation written as JSON, CSV, NPZ and the proxy GLB."""
    from dreamtalk.core.formats import write_animation
    from dreamtalk.exporters.gltf import write_proxy_glb
    anim = _animation()
    out = {}
    for ext in ("json", "csv", "npz"):
        write_animation(anim, tmp / f"a.{ext}")
        out[ext] = _digest((tmp / f"a.{ext}").read_bytes())
    write_proxy_glb(anim, tmp / "a.glb")
    out["glb"] = _digest((tmp / "a.glb").read_bytes())
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
    assert file_digests(tmp_path) == want


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
