"""FBX export through Blender: shape-key + head animation must survive re-import with no frame offset.

Every Blender session runs in its own subprocess (fresh global bpy state, a temporary HOME and
Blender config) and prints one JSON line of measurements; the assertions live here.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import gltf_exporter_crashes_at_exit

HAS_BPY = importlib.util.find_spec("bpy") is not None
TESTS = Path(__file__).resolve().parent
needs_bpy = pytest.mark.skipif(not HAS_BPY, reason="bpy not importable (pip install bpy==5.0.1)")

# Prepended to every subprocess script: a smooth animation and a measuring read-back.
PRELUDE = f"""
import json, sys
import numpy as np
sys.path.insert(0, {str(TESTS)!r})
from conftest import make_animation
from dreamtalk.core.rotation import head_rotation_matrices, head_rotation_quaternions
from dreamtalk.rigs.arkit import ARKIT_NAMES

def rot_err(a, b):
    # Largest angle (radians) between two (T, 3, 3) rotation sequences.
    c = np.clip((np.einsum('tij,tij->t', a, b) - 1) / 2, -1, 1)
    return float(np.arccos(c).max())

def measure(path, anim, expected):
    # expected: mesh name -> (names, (T, K) values). Returns per-frame errors and key timing.
    from dreamtalk.exporters import blender_scene as bs
    t = anim.num_frames
    b = bs.read_back(path, t)
    out = {{"fps": b["fps"], "head": b["head"], "meshes": sorted(b["shapes"])}}
    err, key_err, first, last, counts = 0.0, 0.0, [], [], []
    for mesh, (names, values) in expected.items():
        got_names, got = b["shapes"][mesh]
        col = {{n: i for i, n in enumerate(got_names)}}
        curves = b["shape_key_curves"][mesh]
        for j, n in enumerate(names):
            err = max(err, float(np.abs(got[:, col[n]] - values[:, j]).max()))
            c = curves[n]
            first.append(float(c[0, 0])); last.append(float(c[-1, 0])); counts.append(len(c))
            key_err = max(key_err, float(np.abs(c[:, 1] - values[:, j]).max()) if len(c) == t else 9.0)
        out["undriven_curves"] = sorted(set(curves) - set(names))
    out.update(shape_err=err, key_value_err=key_err, first_key=min(first), first_key_max=max(first),
               last_key=max(last), last_key_min=min(last), key_counts=sorted(set(counts)))
    if b["head"] is not None:
        out["head_err"] = rot_err(b["head_rotation"], head_rotation_matrices(anim.head_rotation))
    return out
"""


def run_blender(script: str, tmp_path: Path, timeout: float = 120) -> dict:
    """Run PRELUDE + script in a fresh Python with bpy; returns the JSON printed on the last line."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home), BLENDER_USER_CONFIG=str(home / "config"),
               BLENDER_USER_SCRIPTS=str(home / "scripts"), BLENDER_USER_RESOURCES=str(home / "res"),
               PYTHONDONTWRITEBYTECODE="1")
    code = PRELUDE + textwrap.dedent(script)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, proc.stdout[-2000:]
    return json.loads(lines[-1])


@pytest.mark.blender
@needs_bpy
@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_proxy_round_trip(tmp_path, fps):
    out = tmp_path / "proxy.fbx"
    r = run_blender(f"""
        from dreamtalk.exporters.fbx import export_fbx
        anim = make_animation(45, {fps}, seed=3)
        rep = export_fbx(anim, {str(out)!r})
        m = measure({str(out)!r}, anim, {{"DreamTalkHead": (list(ARKIT_NAMES), anim.weights)}})
        m["report"] = rep.to_dict()
        print(json.dumps(m))
    """, tmp_path)
    assert out.stat().st_size > 10_000 and not list(tmp_path.glob(".*.part*"))
    assert r["report"]["frames"] == 45 and r["report"]["fps"] == pytest.approx(fps)
    assert r["report"]["unmapped_arkit"] == [] and r["report"]["head"] == "Armature/Head"
    assert r["fps"] == pytest.approx(fps)
    # Every channel at every frame, read through Blender's depsgraph after re-import.
    assert r["shape_err"] < 1e-3 and r["key_value_err"] < 1e-3
    assert r["head_err"] < 1e-3
    # Frame 1 = first sample, one key per sample, nothing shifted.
    assert r["first_key"] == r["first_key_max"] == 1.0
    assert r["last_key"] == r["last_key_min"] == 45.0 and r["key_counts"] == [45]


@pytest.mark.blender
@needs_bpy
def test_ntsc_rate_written_exactly(tmp_path):
    """29.97 fps: the file's key times are k * 1001/30000 s; values survive key for key.

    Blender 5.0.1's FBX importer converts times with the integer ``render.fps`` (30) and so stretches
    a 29.97 take by 0.1 % on re-import; the file itself is checked here, the importer is not ours.
    """
    out = tmp_path / "ntsc.fbx"
    r = run_blender(f"""
        import bpy  # the FBX add-on ships with bpy; its parser reads the written file
        from io_scene_fbx import parse_fbx
        from dreamtalk.exporters.fbx import export_fbx
        anim = make_animation(40, 30000 / 1001, seed=4)
        export_fbx(anim, {str(out)!r})
        root, _ = parse_fbx.parse({str(out)!r})
        times = []
        def walk(e):
            for c in e.elems:
                if c.id == b"KeyTime":
                    times.append(np.asarray(c.props[0], np.int64))
                walk(c)
        walk(root)
        ktime = 46186158000
        expect = np.round(np.arange(40) * ktime * 1001 / 30000)
        m = measure({str(out)!r}, anim, {{"DreamTalkHead": (list(ARKIT_NAMES), anim.weights)}})
        m.update(curves=len(times), time_err_frames=max(float(np.abs(t - expect).max()) for t in times)
                 * 30000 / 1001 / ktime)
        print(json.dumps(m))
    """, tmp_path)
    assert r["curves"] >= 52 + 4  # every blend shape and the head's rotation
    assert r["time_err_frames"] < 1e-4
    assert r["fps"] == pytest.approx(30000 / 1001, rel=1e-6)
    assert r["key_value_err"] < 1e-3 and r["key_counts"] == [40] and r["first_key"] == 1.0


@pytest.mark.blender
@needs_bpy
def test_user_blend_cc4_names(tmp_path):
    src = tmp_path / "cc4.blend"
    out = tmp_path / "cc4.fbx"
    r = run_blender(f"""
        import bpy, hashlib
        from dreamtalk.exporters import blender_scene as bs
        from dreamtalk.exporters.fbx import export_fbx
        from dreamtalk.rigs.presets import map_names
        names = ["Jaw_Open", "Eye_Blink_L", "Eye_Blink_R", "Mouth_Smile_L", "Mouth_Smile_R",
                 "Brow_Raise_Inner_L", "Brow_Raise_Inner_R", "Cheek_Puff_L", "Cheek_Puff_R",
                 "Nose_Sneer_L", "V_Open"]
        # A small user rig: a grid mesh with CC4-named keys, skinned to a CC-style head bone.
        bs.reset_session()
        g = np.stack(np.meshgrid(np.linspace(-.1, .1, 6), np.linspace(0, .2, 6)), -1).reshape(-1, 2)
        verts = np.c_[g[:, 0], g[:, 1], np.zeros(len(g))]
        quads = [(r * 6 + c, r * 6 + c + 1, r * 6 + c + 7) for r in range(5) for c in range(5)]
        quads += [(r * 6 + c, r * 6 + c + 7, r * 6 + c + 6) for r in range(5) for c in range(5)]
        rng = np.random.default_rng(0)
        ob = bs.new_mesh_object("CC_Base_Body", verts, np.array(quads),
                                {{n: rng.normal(0, .01, verts.shape) for n in names}})
        rig = bs.new_head_rig(ob, [0, 0, 0], name="CC_Base_BoneRoot")
        rig.data.bones["Head"].name = "CC_Base_Head"
        bpy.ops.wm.save_as_mainfile(filepath={str(src)!r})
        before = hashlib.sha256(open({str(src)!r}, "rb").read()).hexdigest()

        anim = make_animation(30, 30.0, seed=5)
        rep = export_fbx(anim, {str(out)!r}, mesh={str(src)!r})
        mapping = map_names(names)
        values, targets = mapping.apply(anim.weights)
        m = measure({str(out)!r}, anim, {{"CC_Base_Body": (targets, values)}})
        m.update(report=rep.to_dict(), targets=targets, expect_unmapped=list(mapping.unmapped_arkit),
                 untouched=hashlib.sha256(open({str(src)!r}, "rb").read()).hexdigest() == before)
        print(json.dumps(m))
    """, tmp_path)
    rep = r["report"]
    assert r["untouched"]
    assert rep["preset"] == "cc4_extended" and rep["head"] == "CC_Base_BoneRoot/CC_Base_Head"
    assert rep["driven"] == {"CC_Base_Body": r["targets"]} and "V_Open" not in r["targets"]
    assert len(r["targets"]) == 10
    assert rep["unmapped_arkit"] == r["expect_unmapped"] and "tongueOut" in rep["unmapped_arkit"]
    assert "jawOpen" not in rep["unmapped_arkit"] and len(rep["unmapped_arkit"]) == 52 - 8
    assert r["shape_err"] < 1e-3 and r["key_value_err"] < 1e-3 and r["head_err"] < 1e-3
    assert r["first_key"] == 1.0 and r["last_key"] == 30.0 and r["key_counts"] == [30]


@pytest.mark.blender
@needs_bpy
@gltf_exporter_crashes_at_exit
def test_user_glb_with_head_node(tmp_path):
    src = tmp_path / "user.glb"
    out = tmp_path / "user.fbx"
    r = run_blender(f"""
        import bpy
        from dreamtalk.exporters import blender_scene as bs
        from dreamtalk.exporters.fbx import export_fbx
        names = ["jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft", "mouthSmileRight"]
        bs.reset_session()
        verts = np.array([[0, 0, 0], [.1, 0, 0], [0, .1, 0], [.1, .1, 0]], float)
        rng = np.random.default_rng(1)
        ob = bs.new_mesh_object("Face", verts, np.array([[0, 1, 3], [0, 3, 2]]),
                                {{n: rng.normal(0, .01, verts.shape) for n in names}})
        head = bpy.data.objects.new("Head", None)
        bpy.context.scene.collection.objects.link(head)
        ob.parent = head
        bpy.ops.export_scene.gltf(filepath={str(src)!r}, export_format="GLB")
        anim = make_animation(25, 25.0, seed=7)
        rep = export_fbx(anim, {str(out)!r}, mesh={str(src)!r})
        m = measure({str(out)!r}, anim, {{"Face": (names, anim.named_weights(names))}})
        m["report"] = rep.to_dict()
        print(json.dumps(m))
    """, tmp_path)
    rep = r["report"]
    assert rep["driven"] == {"Face": ["jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft",
                                      "mouthSmileRight"]}
    assert rep["head"] == "Head" and len(rep["unmapped_arkit"]) == 47
    assert r["shape_err"] < 1e-3 and r["head_err"] < 1e-3
    assert r["first_key"] == 1.0 and r["last_key"] == 25.0 and r["key_counts"] == [25]


@pytest.mark.blender
@needs_bpy
def test_export_from_scene_leaves_session_alone(tmp_path):
    out = tmp_path / "scene.fbx"
    r = run_blender(f"""
        import bpy
        from dreamtalk.exporters import blender_scene as bs
        from dreamtalk.exporters.fbx import export_fbx_from_scene
        from dreamtalk.rigs.proxy_head import build_proxy_head
        anim = make_animation(20, 24.0, seed=6)
        ph = build_proxy_head()
        bs.reset_session()
        ob = bs.new_mesh_object("DreamTalkHead", ph.vertices, ph.triangles, ph.delta_dict)
        rig = bs.new_head_rig(ob, ph.pivot)
        scene = bpy.context.scene
        bs.set_timing(scene, 24.0, 20)
        bs.key_shape_keys(ob, list(ARKIT_NAMES), anim.weights)
        bs.key_head_rotation(rig, "Head", head_rotation_quaternions(anim.head_rotation))
        extra = bpy.data.objects.new("NotSelected", None)
        scene.collection.objects.link(extra)
        info = export_fbx_from_scene([ob, rig], {str(out)!r})
        act = ob.data.shape_keys.animation_data.action
        fc = bs.fcurves_of(act)[0]
        kept = dict(first=fc.keyframe_points[0].co.x, start=scene.frame_start, end=scene.frame_end,
                    objects=sorted(o.name for o in scene.objects))
        m = measure({str(out)!r}, anim, {{"DreamTalkHead": (list(ARKIT_NAMES), anim.weights)}})
        m.update(kept=kept, info=info)
        print(json.dumps(m))
    """, tmp_path)
    assert r["kept"] == {"first": 1.0, "start": 1, "end": 20,
                         "objects": ["Armature", "DreamTalkHead", "NotSelected"]}
    assert r["info"]["frames"] == 20 and r["fps"] == pytest.approx(24.0)
    assert r["shape_err"] < 1e-3 and r["head_err"] < 1e-3
    assert r["first_key"] == 1.0 and r["last_key"] == 20.0


def test_missing_bpy_gives_install_hint(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["bpy"] = None  # makes `import bpy` raise ImportError
        sys.path.insert(0, {str(TESTS)!r})
        from conftest import make_animation
        from dreamtalk.core.errors import InputError
        from dreamtalk.exporters.fbx import export_fbx
        try:
            export_fbx(make_animation(5), {str(tmp_path / 'x.fbx')!r})
        except InputError as e:
            print("ERR", e)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "pip install bpy==5.0.1" in proc.stdout and "inside Blender" in proc.stdout
    assert not (tmp_path / "x.fbx").exists()


def test_bad_paths(tmp_path, make_anim):
    from dreamtalk.core.errors import InputError
    from dreamtalk.exporters.fbx import export_fbx

    with pytest.raises(InputError, match=r"\.fbx"):
        export_fbx(make_anim(5), tmp_path / "out.obj")
    with pytest.raises(InputError, match="not found"):
        export_fbx(make_anim(5), tmp_path / "out.fbx", mesh=tmp_path / "missing.blend")
    with pytest.raises(InputError, match="must be one of"):
        export_fbx(make_anim(5), tmp_path / "out.fbx", mesh=tmp_path / "mesh.obj")


@pytest.mark.blender
def test_helper_code_calls_only_public_names_that_exist():
    """The helper process's Python names functions as text: a rename must fail here, not inside Blender."""
    import re

    from dreamtalk.core import formats
    from dreamtalk.exporters import blender_scene, fbx
    mods = {"fbx": fbx, "bs": blender_scene, "formats": formats}
    code = fbx._helper_code("a = formats.read_animation('x')\nr = fbx.export_fbx_here(a, fbx.Path('y'), None, None)\n"
                            "bs.export_blend_objects('b', 'o', 1, 2, 30, 1.0)\n")
    compile(code, "helper", "exec")
    calls = re.findall(r"\b(fbx|bs|formats)\.(\w+)", code)
    assert {c for c in calls} >= {("fbx", "export_fbx_here"), ("bs", "export_blend_objects")}
    for mod, name in calls:
        assert not name.startswith("_") and hasattr(mods[mod], name), f"{mod}.{name}"
    src = Path(fbx.__file__).read_text()
    for mod, name in re.findall(r"\b(fbx|bs|formats)\.(\w+)\(", src[src.index("def _helper_code"):]):
        assert not name.startswith("_") and hasattr(mods[mod], name), f"{mod}.{name} in fbx.py's helper code"
