"""The add-on end to end under bpy 5.0.1, headless: proxy head, Generate through the operator, undo, NLA,
export, bad input, the modal's logic and a clean unregister.

Every Blender session is a subprocess with temporary user folders (see test_extension.run_blender).
Generate is checked against ``core.pipeline.generate`` called in the same Blender process. While
core/pipeline.py does not exist yet, the session installs a stand-in pipeline (same signature) and says so
in its output; the checks are the same either way.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import gltf_exporter_crashes_at_exit
from test_gltf import assert_valid

from test_extension import REPO, pytestmark, run_blender  # noqa: F401  (pytestmark: same skips and marks)

SESSION = '''
import importlib, math, types
from mathutils import Matrix, Quaternion
from pathlib import Path
P = None
try:
    P = importlib.import_module(MODULE + ".core.pipeline")
    out["pipeline"] = "real"
except ImportError:
    # Stand-in until core/pipeline.py lands: reads the audio length, seeded weights and head, honours cancel.
    anim_mod = importlib.import_module(MODULE + ".core.animation")
    errors = importlib.import_module(MODULE + ".core.errors")
    import wave as _wave
    def _generate(audio, sr=None, *, emotion="neutral", intensity=1.0, style=None, seed=0, steps=None,
                  guidance=None, fps=30.0, transcript=None, head=True, blink=True, progress=None, cancel=None):
        with _wave.open(str(audio)) as f:
            dur = f.getnframes() / f.getframerate()
        t = max(1, int(round(dur * fps)))
        rng = np.random.default_rng(seed + 1000 * int(intensity * 100))
        w = rng.uniform(0, 1, (t, 52)).astype(np.float32)
        hr = (0.25 * np.sin(np.arange(t)[:, None] / 5.0 + np.arange(3))).astype(np.float32) if head else None
        for i in range(5):
            if cancel is not None and cancel():
                raise errors.Cancelled("generation cancelled")
            if progress is not None:
                progress((i + 1) / 5)
        return anim_mod.FaceAnimation(fps, w, hr, metadata={"emotion": emotion, "seed": seed})
    P = types.ModuleType(MODULE + ".core.pipeline")
    P.generate = _generate
    sys.modules[P.__name__] = P
    out["pipeline"] = "stand-in"
keying = sys.modules[MODULE + ".addon.keying"]

def curves_of(idb):
    """{data_path[index]: [[frame, value], ...]} of the active action."""
    res = {}
    for (path, i), fc in keying.active_fcurves(idb).items():
        co = np.empty(2 * len(fc.keyframe_points), np.float32)
        fc.keyframe_points.foreach_get("co", co)
        res[f"{path}[{i}]"] = co.reshape(-1, 2).tolist()
    return res

def state():
    """What Generate may change, as plain data (compared before / after)."""
    sc = bpy.context.scene
    ads = {}
    for idb in list(bpy.data.objects) + list(bpy.data.shape_keys):
        ad = idb.animation_data
        if ad is not None:
            ads[idb.name] = [ad.action.name if ad.action else None,
                             [[s.action.name for s in t.strips] for t in ad.nla_tracks]]
    se = sc.sequence_editor
    return {"actions": sorted(a.name for a in bpy.data.actions), "objects": sorted(o.name for o in bpy.data.objects),
            "anim": ads, "strips": sorted(s.name for s in (se.strips_all if hasattr(se, "strips_all")  # 5.0 name
                                                           else se.sequences_all)) if se else [],
            "frame_end": sc.frame_end, "fps": [sc.render.fps, sc.render.fps_base]}

def error_of(fn):
    try:
        fn()
    except RuntimeError as e:
        return str(e)
    return None
'''


def run_session(body: str, zip_path: Path, tmp: Path) -> dict:
    """SESSION (helpers, pipeline) + the test's own body in one fresh Blender process."""
    return run_blender(SESSION + textwrap.dedent(body), zip_path, tmp)


# The start of several sessions: the proxy head as the target and a.wav as the audio.
PROXY_WITH_AUDIO = """
sc = bpy.context.scene
s = sc.dreamtalk
ops = sys.modules[MODULE + ".addon.operators"]
bpy.ops.dreamtalk.add_proxy_head()
s.audio_path = TMP + "/a.wav"
"""


def _write_wav(path: Path, seconds: float, sr: int = 16000) -> None:
    """A short speech-like tone burst as 16-bit mono WAV."""
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sr)
        f.writeframes((x * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def addon_zip(tmp_path_factory) -> Path:
    """The extension zip built with Blender's builder (as test_extension does)."""
    out = tmp_path_factory.mktemp("ext")
    r = subprocess.run([sys.executable, str(REPO / "tools" / "build_extension.py"), "--output-dir", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return next(out.glob("*.zip"))


def test_generate_keys_undo_nla_export_unregister(addon_zip, tmp_path):
    _write_wav(tmp_path / "hello.wav", 1.5)
    out = run_session('''
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = 30, 1.001  # 29.97 fps: fps_base must be respected
    sc.frame_end = 20
    out["proxy"] = sorted(bpy.ops.dreamtalk.add_proxy_head())
    s = sc.dreamtalk
    mesh, rig = s.target_object, s.head_object
    key = mesh.data.shape_keys
    out["n_shape_keys"] = len(key.key_blocks) - 1
    out["head"] = [s.head_mode, rig.type, s.head_bone]
    # Hand-made animation on the shape keys and on the rig: both must end up in the NLA.
    key.key_blocks["jawOpen"].value = 0.3
    key.key_blocks["jawOpen"].keyframe_insert("value", frame=1)
    key.animation_data.action.name = "HandShapes"
    rig.location.z = 0.5
    rig.keyframe_insert("location", frame=1)
    rig.animation_data.action.name = "HandRig"

    s.audio_path = TMP + "/hello.wav"
    s.emotion, s.intensity, s.seed, s.start_frame = "happy", 0.75, 7, 11
    s.use_sampler_settings, s.steps, s.guidance = True, 2, 1.5
    bpy.ops.ed.undo_push(message="before generate")
    before = state()
    out["ret"] = sorted(bpy.ops.dreamtalk.generate())
    after = state()
    sc = bpy.context.scene
    fps = sc.render.fps / sc.render.fps_base
    exp = P.generate(TMP + "/hello.wav", emotion="happy", intensity=0.75, seed=7, steps=2, guidance=1.5,
                     fps=fps, head=True, blink=True, style=None)
    out["expected_frames"] = exp.num_frames
    out["expected_fps"] = exp.fps
    names = list(importlib.import_module(MODULE + ".rigs.arkit").ARKIT_NAMES)
    sk = curves_of(key)
    out["shape_paths"] = sorted(sk)
    out["shape_action"] = key.animation_data.action.name
    err = 0.0
    frames_ok = True
    for i, n in enumerate(names):
        co = np.array(sk[f'key_blocks["{n}"].value[0]'])
        frames_ok &= bool(np.array_equal(co[:, 0], 11 + np.arange(exp.num_frames)))
        err = max(err, float(np.abs(co[:, 1] - exp.weights[:, i]).max()))
    out["shape_frames_ok"], out["shape_max_err"] = frames_ok, err
    hc = curves_of(rig)
    out["head_paths"] = sorted(hc)
    out["head_action"] = rig.animation_data.action.name
    # Independent check of the head: the evaluated bone's world rotation equals C R C^T times its rest.
    mats = importlib.import_module(MODULE + ".core.rotation").head_rotation_matrices(exp.head_rotation)
    c = Matrix(((1, 0, 0), (0, 0, -1), (0, 1, 0)))
    rest = (rig.matrix_world @ rig.data.bones["Head"].matrix_local).to_3x3().normalized()
    herr = 0.0
    for k in (0, exp.num_frames // 2, exp.num_frames - 1):
        sc.frame_set(11 + k)
        got = (rig.matrix_world @ rig.pose.bones["Head"].matrix).to_3x3().normalized()
        want = c @ Matrix(mats[k].tolist()) @ c.transposed() @ rest
        herr = max(herr, max(abs(got[i][j] - want[i][j]) for i in range(3) for j in range(3)))
    out["head_max_err"] = herr
    out["nla_key"] = [[st.action.name for st in t.strips] for t in key.animation_data.nla_tracks]
    out["nla_rig"] = [[st.action.name for st in t.strips] for t in rig.animation_data.nla_tracks]
    sc.frame_set(1)
    out["old_rig_z_plays"] = rig.matrix_world.translation.z
    se = sc.sequence_editor
    strips = [st for st in (se.strips_all if hasattr(se, "strips_all") else se.sequences_all) if st.type == "SOUND"]
    out["sound"] = [[st.frame_start, st.frame_final_duration, Path(st.sound.filepath).name] for st in strips]
    out["audio_build"] = bool(bpy.app.build_options.audaspace)  # the bpy 4.2 wheel has no audio
    out["frame_end"] = sc.frame_end

    # One undo step restores the scene exactly; redo brings the take back. Headless bpy has no window
    # manager loop, which is what pushes an undo step after an operator flagged UNDO; push it here the same way.
    out["undo_flag"] = "UNDO" in bpy.types.DREAMTALK_OT_generate.bl_options
    bpy.ops.ed.undo_push(message="Generate")
    bpy.ops.ed.undo()
    out["undo_equal"] = state() == before
    out["undo_actions"] = state()["actions"]
    bpy.ops.ed.redo()
    out["redo_equal"] = state() == after

    # Export the (redone) take: Live Link CSV from the keyed curves, GLB through the CLI's glTF writer.
    out["csv"] = sorted(bpy.ops.dreamtalk.export_animation(filepath=TMP + "/take.csv", format="CSV"))
    out["glb"] = sorted(bpy.ops.dreamtalk.export_animation(filepath=TMP + "/take.glb", format="GLB"))
    out["fbx"] = sorted(bpy.ops.dreamtalk.export_animation(filepath=TMP + "/take.fbx", format="FBX"))
    importlib.import_module(MODULE + ".core.formats").write_animation(exp, TMP + "/expected.json")
    np.save(TMP + "/expected_weights.npy", exp.weights)
    np.save(TMP + "/expected_head.npy", exp.head_rotation)

    addon_utils.disable(MODULE, default_set=True)
    out["types_after"] = dreamtalk_types()
    out["scene_prop_after"] = hasattr(bpy.types.Scene, "dreamtalk")
    out["handlers_after"] = [f.__module__ for h in dir(bpy.app.handlers) if not h.startswith("_")
                             for f in (getattr(bpy.app.handlers, h) if isinstance(getattr(bpy.app.handlers, h), list) else [])
                             if "dreamtalk" in getattr(f, "__module__", "")]
    out["ops_after"] = [n for n in ("generate", "add_proxy_head", "export_animation") if hasattr(bpy.types, "DREAMTALK_OT_" + n)]
    ''', addon_zip, tmp_path)

    print("pipeline:", out["pipeline"])
    assert out["proxy"] == ["FINISHED"] and out["n_shape_keys"] == 52
    assert out["head"] == ["BONE", "ARMATURE", "Head"]
    assert out["ret"] == ["FINISHED"]
    # Frame range = audio length at the scene's 29.97 fps, from the start frame.
    assert abs(out["expected_fps"] - 30 / 1.001) < 1e-5  # fps_base is a float32 in Blender
    assert abs(out["expected_frames"] - 1.5 * 30 / 1.001) <= 1
    assert len(out["shape_paths"]) == 52 and out["shape_frames_ok"]
    assert out["shape_max_err"] < 1e-6  # the core's own output, keyed as is
    assert out["shape_action"] == "DT_hello_happy" and out["head_action"] == "DT_hello_happy_head"
    assert out["head_paths"] == [f'pose.bones["Head"].rotation_quaternion[{i}]' for i in range(4)]
    assert out["head_max_err"] < 1e-5
    assert out["nla_key"] == [["HandShapes"]] and out["nla_rig"] == [["HandRig"]]
    assert abs(out["old_rig_z_plays"] - 0.5) < 1e-6  # the pushed-down action still plays
    if out["audio_build"]:
        assert out["sound"] == [[11, out["sound"][0][1], "hello.wav"]]
        assert abs(out["sound"][0][1] - out["expected_frames"]) <= 1
    else:
        assert out["sound"] == []  # keyed all the same (the report says the strip was skipped)
    assert out["frame_end"] == 11 + out["expected_frames"] - 1
    assert out["undo_flag"] and out["undo_equal"], out["undo_actions"]
    assert out["redo_equal"]
    assert out["csv"] == ["FINISHED"] and out["glb"] == ["FINISHED"] and out["fbx"] == ["FINISHED"]
    assert (tmp_path / "take.fbx").read_bytes().startswith(b"Kaydara FBX Binary")  # content: tests/test_fbx.py
    assert out["types_after"] == [] and not out["scene_prop_after"] and out["handlers_after"] == []
    assert out["ops_after"] == []

    # The exported files, read back outside Blender.
    from dreamtalk.core.formats import read_animation
    w = np.load(tmp_path / "expected_weights.npy")
    hr = np.load(tmp_path / "expected_head.npy")
    take = read_animation(tmp_path / "take.csv", fps=30 / 1.001)
    assert take.num_frames == w.shape[0]
    np.testing.assert_allclose(take.weights, w, atol=1e-6)
    np.testing.assert_allclose(take.head_rotation, hr, atol=1e-4)  # inverted from the keyed quaternions

    # The GLB is what the CLI writes for the generated animation (read back from the keys: same weights).
    from dreamtalk.exporters.save import save_output
    save_output(read_animation(tmp_path / "expected.json"), tmp_path / "cli.glb")
    got, cli = proxy_animation(tmp_path / "take.glb"), proxy_animation(tmp_path / "cli.glb")
    T = w.shape[0]
    assert got["weights"].shape[0] >= T and abs(got["times"][T - 1] - (T - 1) / (30 / 1.001)) < 1e-3
    assert_same_animation(got, cli)
    assert_valid(tmp_path / "take.glb")


def proxy_animation(path: Path) -> dict:
    """The one DreamTalk animation of a proxy-head glTF/GLB: target names, key times, (K, 52) weights, rotations."""
    from dreamtalk.exporters.gltf import read_gltf
    from test_gltf import accessor

    doc, blob, _ = read_gltf(path)
    if blob is None:  # .gltf: one embedded buffer
        import base64
        blob = base64.b64decode(doc["buffers"][0]["uri"].split(",", 1)[1])
    (an,) = doc["animations"]
    by = {doc["nodes"][c["target"]["node"]]["name"]: an["samplers"][c["sampler"]] for c in an["channels"]}
    names = doc["meshes"][0]["extras"]["targetNames"]
    times = accessor(doc, blob, by["ProxyHeadMesh"]["input"])[:, 0]
    return {"names": names, "times": times, "extras": an["extras"], "meshes": doc["meshes"],
            "weights": accessor(doc, blob, by["ProxyHeadMesh"]["output"]).reshape(len(times), len(names)),
            "rotation": accessor(doc, blob, by["Head"]["output"]).astype(np.float64)}


def assert_same_animation(got: dict, want: dict, rot_tol: float = 1e-4) -> None:
    """Same channels by name, same key times, weights within 1e-6, head rotations within ``rot_tol`` radians."""
    from dreamtalk.exporters.keyreduce import quat_angle

    assert got["names"] == want["names"] and got["meshes"] == want["meshes"]
    assert np.array_equal(got["times"], want["times"])
    assert np.abs(got["weights"] - want["weights"]).max() <= 1e-6
    assert quat_angle(got["rotation"], want["rotation"]).max() < rot_tol
    assert got["extras"]["fps"] == want["extras"]["fps"] and got["extras"]["frames"] == want["extras"]["frames"]


def test_proxy_glb_and_gltf_export_is_the_cli_writer(addon_zip, tmp_path):
    """The add-on's glTF export of the keyed proxy head = the CLI's file for the same FaceAnimation."""
    from dreamtalk.core.formats import read_animation, write_animation
    from dreamtalk.exporters.save import save_output
    from conftest import make_animation

    write_animation(make_animation(40, 30.0, seed=11, audio_duration=1.4), tmp_path / "take.json")
    out = run_session('''
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = 30, 1.0
    s = sc.dreamtalk
    bpy.ops.dreamtalk.add_proxy_head()
    s.start_frame = 7
    out["import"] = sorted(bpy.ops.dreamtalk.import_animation(filepath=TMP + "/take.json"))
    bs = sys.modules[MODULE + ".exporters.blender_scene"]
    out["is_proxy"] = bs.is_proxy_head(s.target_object)
    for fmt, name in (("GLB", "addon.glb"), ("GLTF", "addon.gltf")):
        out[fmt] = sorted(bpy.ops.dreamtalk.export_animation(filepath=TMP + "/" + name, format=fmt))
    # An edited shape key makes the head a mesh of the user's own: no longer the proxy.
    kb = s.target_object.data.shape_keys.key_blocks["jawOpen"]
    kb.data[0].co.z += 0.01
    out["edited_is_proxy"] = bs.is_proxy_head(s.target_object)
    ''', addon_zip, tmp_path)
    assert out["import"] == ["FINISHED"] and out["GLB"] == ["FINISHED"] and out["GLTF"] == ["FINISHED"]
    assert out["is_proxy"] and not out["edited_is_proxy"]
    anim = read_animation(tmp_path / "take.json")
    save_output(anim, tmp_path / "cli.glb")
    save_output(anim, tmp_path / "cli.gltf")
    assert (tmp_path / "addon.gltf").read_bytes()[:1] == b"{"  # glTF JSON, one file
    glb, cli = proxy_animation(tmp_path / "addon.glb"), proxy_animation(tmp_path / "cli.glb")
    assert glb["names"] == list(anim.blendshape_names) and len(glb["times"]) == anim.num_frames + 1  # + hold key
    assert_same_animation(glb, cli)
    assert_same_animation(proxy_animation(tmp_path / "addon.gltf"), proxy_animation(tmp_path / "cli.gltf"))
    assert np.abs(glb["weights"][:anim.num_frames] - anim.weights).max() <= 1e-6
    assert_valid(tmp_path / "addon.glb")
    assert_valid(tmp_path / "addon.gltf")


@gltf_exporter_crashes_at_exit
def test_user_mesh_glb_export_is_animated_by_the_cli_writer(addon_zip, tmp_path):
    """A user's mesh: Blender writes the geometry, exporters/gltf.py the keyed take (mapping, head bone by name)."""
    from dreamtalk.core.formats import read_animation, write_animation
    from dreamtalk.core.rotation import head_rotation_quaternions, quat_conj, quat_mul
    from dreamtalk.exporters.gltf import animate_user_gltf, read_gltf
    from dreamtalk.exporters.keyreduce import quat_angle
    from dreamtalk.rigs.arkit import INDEX
    from conftest import make_animation
    from test_gltf import accessor

    write_animation(make_animation(30, 30.0, seed=12), tmp_path / "take.json")
    out = run_session('''
    sc = bpy.context.scene
    sc.render.fps, sc.render.fps_base = 30, 1.0
    s = sc.dreamtalk
    me = bpy.data.meshes.new("UserFace")
    me.from_pydata([(0, 0, 0), (0.1, 0, 0), (0, 0, 0.1), (0.1, 0, 0.1)], [], [(0, 1, 3, 2)])
    ob = bpy.data.objects.new("UserFace", me)
    sc.collection.objects.link(ob)
    ob.shape_key_add(name="Basis")
    for i, n in enumerate(["eyeBlinkRight", "jawOpen", "Custom", "mouthSmileLeft"]):
        ob.shape_key_add(name=n).data[i].co.y += 0.01
    arm = bpy.data.armatures.new("UserRig")
    rig = bpy.data.objects.new("UserRig", arm)
    sc.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm.edit_bones.new("Skull")  # not named like a head: the add-on names the node to rotate
    bone.head, bone.tail = (0.05, 0, 0), (0.05, 0, 0.2)
    bpy.ops.object.mode_set(mode="OBJECT")
    ob.vertex_groups.new(name="Skull").add([0, 1, 2, 3], 1.0, "REPLACE")
    # Skinned but not parented: the validator warns about skinned meshes that are not at the root.
    ob.modifiers.new("Armature", "ARMATURE").object = rig
    s.target_object, s.head_mode, s.head_object, s.head_bone = ob, "BONE", rig, "Skull"
    bpy.ops.dreamtalk.refresh_mapping()
    next(r for r in s.mapping if r.arkit == "tongueOut").shape_key = "Custom"  # an override: the file follows it
    out["import"] = sorted(bpy.ops.dreamtalk.import_animation(filepath=TMP + "/take.json"))
    for o in bpy.context.view_layer.objects:
        o.select_set(o.name == "UserRig")
    bpy.context.view_layer.objects.active = rig
    for fmt, name in (("GLB", "user.glb"), ("GLTF", "user.gltf")):
        out[fmt] = sorted(bpy.ops.dreamtalk.export_animation(filepath=TMP + "/" + name, format=fmt))
    out["selection_after"] = sorted(o.name for o in bpy.context.view_layer.objects if o.select_get())
    out["active_after"] = bpy.context.view_layer.objects.active.name
    ''', addon_zip, tmp_path)
    assert out["import"] == ["FINISHED"] and out["GLB"] == ["FINISHED"] and out["GLTF"] == ["FINISHED"]
    assert out["selection_after"] == ["UserRig"] and out["active_after"] == "UserRig"
    anim = read_animation(tmp_path / "take.json")
    T = anim.num_frames
    for name in ("user.glb", "user.gltf"):
        path = tmp_path / name
        assert_valid(path)
        doc, blob, is_glb = read_gltf(path)
        if not is_glb:  # two embedded buffers: Blender's geometry, then the animation (all read below)
            import base64
            assert [b["uri"][:5] for b in doc["buffers"]] == ["data:", "data:"]
            blob = base64.b64decode(doc["buffers"][1]["uri"].split(",", 1)[1])
        (an,) = doc["animations"]
        ch = {(doc["nodes"][c["target"]["node"]]["name"], c["target"]["path"]): an["samplers"][c["sampler"]]
              for c in an["channels"]}
        assert set(ch) == {("UserFace", "weights"), ("Skull", "rotation")}, set(ch)
        face = next(n for n in doc["nodes"] if n["name"] == "UserFace")
        names = doc["meshes"][face["mesh"]]["extras"]["targetNames"]
        assert names == ["eyeBlinkRight", "jawOpen", "Custom", "mouthSmileLeft"]
        w = accessor(doc, blob, ch[("UserFace", "weights")]["output"]).reshape(-1, len(names))
        assert w.shape[0] == T + 1
        for j, n in enumerate(names):
            src = "tongueOut" if n == "Custom" else n
            assert np.abs(w[:T, j] - anim.weights[:, INDEX[src]]).max() <= 1e-6, n
        # The head: the bone's world rotation turns by the animation's rotation (glTF frame, about its pivot).
        nodes = doc["nodes"]
        parent = {c: i for i, nd in enumerate(nodes) for c in nd.get("children", [])}
        skull = next(i for i, n in enumerate(nodes) if n["name"] == "Skull")
        p, i = np.array([0.0, 0.0, 0.0, 1.0]), parent.get(skull)
        while i is not None:
            p, i = quat_mul(np.array(nodes[i].get("rotation", [0.0, 0.0, 0.0, 1.0])), p), parent.get(i)
        q0 = np.array(nodes[skull].get("rotation", [0.0, 0.0, 0.0, 1.0]))
        local = accessor(doc, blob, ch[("Skull", "rotation")]["output"]).astype(np.float64)[:T]
        world_delta = quat_mul(quat_mul(quat_mul(p, local), quat_conj(q0)), quat_conj(p))
        assert quat_angle(world_delta, head_rotation_quaternions(anim.head_rotation)).max() < 1e-5
    # The CLI's writer on the same file adds the same weights (the add-on's mapping is the preset's here,
    # except the override, which the CLI has no flag for).
    rep = animate_user_gltf(anim, tmp_path / "user.glb", tmp_path / "cli.glb", head_node=False,
                            overrides={"tongueOut": "Custom"})
    doc, blob, _ = read_gltf(tmp_path / "cli.glb")
    a, b = (accessor(doc, blob, an["samplers"][an["channels"][0]["sampler"]]["output"]) for an in doc["animations"])
    assert rep.meshes == ["UserFace"] and np.abs(a - b).max() <= 1e-6


def test_bad_input_reports_and_leaves_scene_untouched(addon_zip, tmp_path):
    _write_wav(tmp_path / "a.wav", 0.5)
    (tmp_path / "bad_style.csv").write_text("not,a,take\n1,2,3\n")
    out = run_session('''
    sc = bpy.context.scene
    s = sc.dreamtalk
    plain = bpy.data.objects.new("Plain", bpy.data.meshes.new("Plain"))
    sc.collection.objects.link(plain)
    odd = bpy.data.objects.new("Odd", bpy.data.meshes.new("Odd"))
    sc.collection.objects.link(odd)
    for n in ("Basis", "smile_big", "frown_big"):
        odd.shape_key_add(name=n)
    bpy.ops.dreamtalk.add_proxy_head()
    proxy = s.target_object
    start = state()
    errs = {}
    s.audio_path = TMP + "/missing.wav"
    errs["missing_audio"] = error_of(bpy.ops.dreamtalk.generate)
    s.audio_path = ""
    errs["no_audio"] = error_of(bpy.ops.dreamtalk.generate)
    s.audio_path = TMP + "/a.wav"
    s.target_object = plain
    errs["no_shape_keys"] = error_of(bpy.ops.dreamtalk.generate)
    s.target_object = odd
    errs["unknown_names"] = error_of(bpy.ops.dreamtalk.generate)
    # Nothing mapped: every row of the mapping list set to no shape key by hand.
    s.target_object = proxy
    bpy.ops.dreamtalk.refresh_mapping()
    out["rows"] = [len(s.mapping), sum(r.is_override for r in s.mapping)]
    for r in s.mapping:
        r.shape_key = ""
    errs["nothing_mapped"] = error_of(bpy.ops.dreamtalk.generate)
    bpy.ops.dreamtalk.refresh_mapping(reset=True)
    s.head_mode, s.head_object = "BONE", None
    errs["no_armature"] = error_of(bpy.ops.dreamtalk.generate)
    s.head_mode = "OBJECT"
    s.style_path = TMP + "/bad_style.csv"
    errs["bad_style"] = error_of(bpy.ops.dreamtalk.generate)
    s.style_path = ""
    s.lip_source, s.transcript = "TRANSCRIPT", "  "
    errs["no_transcript"] = error_of(bpy.ops.dreamtalk.generate)
    import importlib.util
    real_find = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a, **k: None if name == "pocketsphinx" else real_find(name, *a, **k)
    s.lip_source = "RECOGNIZE"
    errs["no_pocketsphinx"] = error_of(bpy.ops.dreamtalk.generate)
    importlib.util.find_spec = real_find
    ops = sys.modules[MODULE + ".addon.operators"]
    plans = {}
    if real_find("pocketsphinx") is not None:
        plans["recognize"] = ops.plan_generate(bpy.context).kwargs.get("recognize")
        s.lip_source, s.transcript = "TRANSCRIPT", "front center"
        plans["transcript"] = ops.plan_generate(bpy.context).kwargs.get("transcript")
    s.lip_source = "AUDIO"
    plans["audio"] = sorted(k for k in ops.plan_generate(bpy.context).kwargs if k in ("recognize", "transcript"))
    out["plans"] = plans
    errs["export_nothing"] = error_of(lambda: bpy.ops.dreamtalk.export_animation(filepath=TMP + "/x.csv", format="CSV"))
    out["errs"] = errs
    end = state()
    out["untouched"] = end == start
    out["diff"] = [start, end] if end != start else None
    # A hand override is used: jawOpen drives only mouthClose's key.
    bpy.ops.dreamtalk.refresh_mapping()
    row = next(r for r in s.mapping if r.arkit == "jawOpen")
    row.shape_key = "mouthClose"
    out["override_flag"] = row.is_override
    out["override_ret"] = sorted(bpy.ops.dreamtalk.generate())
    out["override_paths"] = len(curves_of(proxy.data.shape_keys))
    ''', addon_zip, tmp_path)

    e = out["errs"]
    assert out["pipeline"] in ("real", "stand-in")
    for k, v in e.items():
        assert v is not None, k
        assert v.startswith("Error: ") and "Traceback" not in v and v.count("\n") <= 1, (k, v)
    assert "audio file not found" in e["missing_audio"] and "choose an audio file" in e["no_audio"]
    assert "mesh 'Plain' has no shape keys" in e["no_shape_keys"]
    assert "no shape keys named like ARKit" in e["unknown_names"]
    assert "nothing mapped" in e["nothing_mapped"]
    assert "armature" in e["no_armature"]
    assert "bad_style" in e["bad_style"] or "Timecode" in e["bad_style"]
    assert "no shape-key animation" in e["export_nothing"]
    assert "type the transcript" in e["no_transcript"] and "pocketsphinx" in e["no_pocketsphinx"]
    assert out["plans"]["audio"] == []
    if "recognize" in out["plans"]:
        assert out["plans"]["recognize"] is True and out["plans"]["transcript"] == "front center"
    assert out["rows"] == [52, 0]
    assert out["untouched"], out["diff"]
    assert out["override_flag"] and out["override_ret"] == ["FINISHED"]
    # jawOpen no longer drives the jawOpen key; mouthClose is driven by mouthClose's channel and jawOpen: one curve.
    assert out["override_paths"] == 51


def test_keyframed_emotion_becomes_an_emotion_track(addon_zip, tmp_path):
    _write_wav(tmp_path / "a.wav", 3.0)
    out = run_session(PROXY_WITH_AUDIO + textwrap.dedent('''
    s.start_frame = 11
    out["fps"] = keying.scene_fps(sc)
    out["keyed_before"] = ops.emotion_is_keyed(sc)
    out["plain"] = sorted(k for k in ops.plan_generate(bpy.context).kwargs if k.startswith(("emotion", "intens")))
    s.emotion, s.intensity = "neutral", 0.6
    s.keyframe_insert("emotion", frame=11)
    s.keyframe_insert("intensity", frame=11)
    s.emotion = "happy"
    s.keyframe_insert("emotion", frame=35)
    s.intensity = 0.9
    s.keyframe_insert("intensity", frame=59)
    s.transition = 0.25
    out["keyed"] = ops.emotion_is_keyed(sc)
    plan = ops.plan_generate(bpy.context)
    out["track"] = [list(k) for k in plan.kwargs["emotion_track"]]
    out["transition"] = plan.kwargs["transition"]
    out["has_emotion"] = "emotion" in plan.kwargs
    out["ret"] = sorted(bpy.ops.dreamtalk.generate())
    ob = s.target_object
    out["meta_track"] = None
    if out["pipeline"] == "real":
        anim = P.generate(TMP + "/a.wav", **plan.kwargs)
        out["meta_track"] = anim.metadata.get("emotion_track")
    s.style_path = TMP + "/style.csv"
    out["style_err"] = error_of(bpy.ops.dreamtalk.generate)
    '''), addon_zip, tmp_path)
    fps = out["fps"]
    assert out["keyed_before"] is False and out["plain"] == ["emotion", "intensity"]
    assert out["keyed"] is True and out["has_emotion"] is False and out["transition"] == 0.25
    # Keys at frames 11, 35 and 59 of a take starting at frame 11; intensity follows its own curve (0.6 -> 0.9).
    times = [k[0] for k in out["track"]]
    assert times == pytest.approx([0.0, 24 / fps, 48 / fps])
    assert [k[1] for k in out["track"]] == ["neutral", "happy", "happy"]
    assert out["track"][0][2] == pytest.approx(0.6) and out["track"][2][2] == pytest.approx(0.9)
    assert out["ret"] == ["FINISHED"]
    if out["pipeline"] == "real":
        assert out["meta_track"].startswith("0:neutral@0.6,")
    assert out["style_err"] is not None and ("exclude each other" in out["style_err"] or "style" in out["style_err"])


def test_blender_without_audio_keys_everything_and_says_the_sound_strip_was_skipped(addon_zip, tmp_path):
    """The bpy 4.2 wheel has no Audaspace: new_sound raises. The keys must stand and the report must say so."""
    _write_wav(tmp_path / "a.wav", 1.0)
    out = run_session(PROXY_WITH_AUDIO + textwrap.dedent('''
    def no_audio(*a, **k):
        raise RuntimeError("Error: Blender compiled without Audaspace support\\n")
    keying.add_sound_strip = no_audio
    plan = ops.plan_generate(bpy.context)
    anim = P.generate(TMP + "/a.wav", **plan.kwargs)
    out["msg"] = ops.apply_plan(bpy.context, plan, anim)
    keys = s.target_object.data.shape_keys
    out["keyed"] = keys.animation_data is not None and keys.animation_data.action is not None
    se = sc.sequence_editor
    out["strips"] = 0 if se is None else len(se.strips_all if hasattr(se, "strips_all") else se.sequences_all)
    '''), addon_zip, tmp_path)
    assert out["keyed"] and out["strips"] == 0
    assert "keyed" in out["msg"] and "sound strip skipped (Error: Blender compiled without Audaspace support" in \
        out["msg"]


def test_modal_generate_progress_cancel(addon_zip, tmp_path):
    """The modal's own code, driven by stand-in TIMER / ESC events (bpy has no event loop headless)."""
    _write_wav(tmp_path / "a.wav", 0.5)
    out = run_session('''
    import threading, time
    ops = sys.modules[MODULE + ".addon.operators"]
    jobs = sys.modules[MODULE + ".addon.jobs"]
    Op = bpy.types.DREAMTALK_OT_generate
    class Stand:
        """Borrows the operator's methods; report() records."""
        modal, _cleanup, _status, _finish = Op.modal, Op._cleanup, Op._status, Op._finish
        _status_text, _on_job_done = Op._status_text, Op._on_job_done  # the jobs.BackgroundJobMixin hooks
        def __init__(self):
            self.reports = []
            self._timer = None
        def report(self, kind, msg):
            self.reports.append([sorted(kind)[0], msg])
    Ev = types.SimpleNamespace
    ctx = bpy.context
    bpy.ops.dreamtalk.add_proxy_head()
    s = ctx.scene.dreamtalk
    s.audio_path = TMP + "/a.wav"
    start = state()

    # Cancel: the pipeline waits on a gate, Esc arrives, the job stops, nothing is keyed.
    gate = threading.Event()
    real = P.generate
    def slow(*a, cancel=None, progress=None, **k):
        progress(0.3)
        gate.wait(5)
        if cancel():
            raise sys.modules[MODULE + ".core.errors"].Cancelled("generation cancelled")
        return real(*a, cancel=cancel, progress=progress, **k)
    P.generate = slow
    op = Stand()
    op._plan = ops.plan_generate(ctx)
    op._job = jobs.Job(lambda pr, ca: ops.run_plan(op._plan, pr, ca)).start()
    time.sleep(0.2)
    r1 = op.modal(ctx, Ev(type="TIMER", value="NOTHING"))
    out["fraction_seen"] = op._job.fraction
    r2 = op.modal(ctx, Ev(type="ESC", value="PRESS"))
    gate.set()
    op._job.wait(5)
    r3 = op.modal(ctx, Ev(type="TIMER", value="NOTHING"))
    out["cancel_rets"] = [sorted(r1), sorted(r2), sorted(r3)]
    out["cancel_reports"] = op.reports
    out["cancel_untouched"] = state() == start

    # Finish: TIMER events until the job is done, then keys on this (main) thread.
    P.generate = real
    op = Stand()
    op._plan = ops.plan_generate(ctx)
    op._job = jobs.Job(lambda pr, ca: ops.run_plan(op._plan, pr, ca)).start()
    ret = {"RUNNING_MODAL"}
    for _ in range(200):
        ret = op.modal(ctx, Ev(type="TIMER", value="NOTHING"))
        if ret != {"RUNNING_MODAL"}:
            break
        time.sleep(0.02)
    out["finish_ret"] = sorted(ret)
    out["finish_reports"] = op.reports
    out["keyed"] = len(curves_of(s.target_object.data.shape_keys))
    ''', addon_zip, tmp_path)
    assert out["cancel_rets"] == [["RUNNING_MODAL"], ["PASS_THROUGH"], ["CANCELLED"]]
    assert abs(out["fraction_seen"] - 0.3) < 1e-9
    assert out["cancel_reports"] == [["WARNING", "DREAM-Talk: generation cancelled"]]
    assert out["cancel_untouched"]
    assert out["finish_ret"] == ["FINISHED"] and out["keyed"] == 52
    assert out["finish_reports"][0][0] == "INFO"


def test_job_thread_progress_error_cancel():
    from dreamtalk.addon.jobs import Job
    from dreamtalk.core.errors import Cancelled, InputError

    def work(progress, cancel):
        for i in range(5):
            progress((i + 1) / 5)
        progress(0.1)  # never runs backwards
        return "done"
    j = Job(work).start()
    assert j.wait(5) and j.result == "done" and j.fraction == 1.0 and j.error is None

    def bad(progress, cancel):
        raise InputError("audio is silent")
    j = Job(bad).start()
    assert j.wait(5) and isinstance(j.error, InputError)

    import threading
    started = threading.Event()

    def loop(progress, cancel):
        started.set()
        while not cancel():
            threading.Event().wait(0.01)
        raise Cancelled("stop")
    j = Job(loop).start()
    started.wait(5)
    assert not j.done
    j.cancel()
    assert j.wait(5) and isinstance(j.error, Cancelled) and j.cancelled
