"""The Blender extension: built with Blender's own builder, installed into bpy, used, disabled.

Each Blender session runs in a subprocess (bpy keeps global state) with every BLENDER_USER_* folder
pointed into a temporary directory, so the real user configuration is never read or written.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy (pip install bpy==5.0.1) not installed"),
]

# Common preamble of every Blender session: install the zip into a throw-away user repository and enable it.
PRELUDE = '''
import json, sys
import bpy
import addon_utils  # importable only once bpy is loaded
import numpy as np
ZIP, TMP = sys.argv[1], sys.argv[2]
MODULE = "bl_ext.user_default.dreamtalk"
repo = next(r for r in bpy.context.preferences.extensions.repos if r.module == "user_default")
assert repo.directory.startswith(TMP), repo.directory  # never the real user folder
result = bpy.ops.extensions.package_install_files(filepath=ZIP, repo="user_default", enable_on_install=True)
assert result == {"FINISHED"}, result
# The add-on's own class objects, kept so their state can be checked after the modules are unloaded.
CLASSES = [c for m in ("preferences", "properties", "operators", "panels", "portrait")
           for c in sys.modules[f"{MODULE}.addon.{m}"].classes]
def dreamtalk_types():
    """Registered DREAM-Talk classes: listed in bpy.types or flagged registered (PropertyGroups are not listed)."""
    return sorted(set(n for n in dir(bpy.types) if n.startswith("DREAMTALK_"))
                  | set(c.__name__ for c in CLASSES if c.is_registered))
out = {}
'''


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory) -> Path:
    """The extension zip built by tools/build_extension.py (Blender's ``blender_ext.py build``)."""
    out = tmp_path_factory.mktemp("ext")
    r = subprocess.run([sys.executable, str(REPO / "tools" / "build_extension.py"), "--output-dir", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    zips = list(out.glob("*.zip"))
    assert len(zips) == 1, zips
    return zips[0]


def run_blender(script: str, zip_path: Path, tmp: Path) -> dict:
    """Run PRELUDE + script in a fresh bpy process; returns the ``out`` dict the script fills."""
    res = tmp / "blender_user"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HOME=str(tmp / "home"),
               BLENDER_USER_RESOURCES=str(res), BLENDER_USER_CONFIG=str(res / "config"),
               BLENDER_USER_SCRIPTS=str(res / "scripts"), BLENDER_USER_DATAFILES=str(res / "datafiles"),
               BLENDER_USER_EXTENSIONS=str(res / "extensions"))
    path = tmp / "session.py"
    path.write_text(PRELUDE + textwrap.dedent(script) + "\nprint('RESULT ' + json.dumps(out))\n")
    r = subprocess.run([sys.executable, str(path), str(zip_path), str(tmp)], capture_output=True, text=True,
                       env=env, cwd=tmp, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def test_zip_contents(extension_zip):
    names = zipfile.ZipFile(extension_zip).namelist()
    assert "blender_manifest.toml" in names and "__init__.py" in names
    for f in ("addon/__init__.py", "addon/operators.py", "addon/panels.py", "addon/properties.py",
              "addon/keying.py", "core/formats.py", "core/animation.py", "rigs/arkit.py"):
        assert f in names, f
    for prefix in ("tests/", ".ci/", "tools/", "docs/", "core/data/", "core/training/", "core/eval/",
                   "node_modules/", "examples/", ".git/", "venv/", ".venv/"):
        assert not any(n.startswith(prefix) for n in names), prefix
    assert not any("__pycache__" in n or ".egg-info" in n or n.endswith(".pyc") for n in names)
    assert {"weights/emodiff.npz", "weights/lips.npz", "weights/lips_mel.npz"} <= set(names)  # mel: no onnxruntime
    assert not any(n.startswith("weights/phone_gmm") for n in names)  # only for lips trained on phone scores
    assert not any(n.startswith("weights/moonshine") for n in names)  # only the per-platform zips run it


def test_install_enable_disable(extension_zip, tmp_path):
    out = run_blender('''
    out["module"] = bpy.types.DREAMTALK_OT_import_animation.__module__
    out["types_enabled"] = dreamtalk_types()
    out["scene_prop"] = hasattr(bpy.types.Scene, "dreamtalk")
    out["enabled"] = MODULE in bpy.context.preferences.addons
    s = bpy.context.scene.dreamtalk
    out["emotions"] = [i.identifier for i in s.bl_rna.properties["emotion"].enum_items]
    out["props"] = sorted(p.identifier for p in s.bl_rna.properties if p.identifier not in ("rna_type", "name"))
    out["panel_category"] = bpy.types.DREAMTALK_PT_main.bl_category
    addon_utils.disable(MODULE, default_set=True)
    out["types_disabled"] = dreamtalk_types()
    out["scene_prop_disabled"] = hasattr(bpy.types.Scene, "dreamtalk")
    out["enabled_after"] = MODULE in bpy.context.preferences.addons
    try:
        bpy.ops.dreamtalk.import_animation.poll()
        out["op_after"] = True
    except AttributeError:  # "could not be found": the operator is unregistered
        out["op_after"] = False
    # Enabling again works (register after unregister leaves nothing stale).
    addon_utils.enable(MODULE, default_set=True)
    out["types_reenabled"] = dreamtalk_types()
    addon_utils.disable(MODULE, default_set=True)
    out["types_final"] = dreamtalk_types()
    ''', extension_zip, tmp_path)
    assert out["module"].startswith("bl_ext.user_default.dreamtalk.")  # the installed copy, not the checkout
    assert out["types_enabled"] == [
        "DREAMTALK_AP_preferences", "DREAMTALK_OT_add_proxy_head", "DREAMTALK_OT_export_animation",
        "DREAMTALK_OT_generate", "DREAMTALK_OT_import_animation", "DREAMTALK_OT_live", "DREAMTALK_OT_randomize_seed",
        "DREAMTALK_OT_refresh_mapping", "DREAMTALK_OT_render_portrait", "DREAMTALK_PG_mapping_item", "DREAMTALK_PG_settings",
        "DREAMTALK_PT_advanced", "DREAMTALK_PT_files", "DREAMTALK_PT_head", "DREAMTALK_PT_live", "DREAMTALK_PT_main",
        "DREAMTALK_PT_mapping", "DREAMTALK_PT_portrait", "DREAMTALK_UL_mapping"]
    assert out["scene_prop"] and out["enabled"]
    assert out["emotions"][:3] == ["neutral", "happy", "sad"] and len(out["emotions"]) == 8
    for p in ("anim_path", "audio_path", "emotion", "intensity", "seed", "start_frame", "target_object",
              "style_path", "steps", "guidance", "head_mode", "head_object", "head_bone", "mapping", "preset"):
        assert p in out["props"], p
    assert out["panel_category"] == "DREAM-Talk"
    assert out["types_disabled"] == [] and not out["scene_prop_disabled"] and not out["enabled_after"]
    assert not out["op_after"]
    assert out["types_reenabled"] == out["types_enabled"] and out["types_final"] == []


def _write_take(path: Path, frames: int, fps: int) -> None:
    """A Live Link Face CSV through the library writer (its reader is tested in test_formats)."""
    from conftest import make_animation
    from dreamtalk.core.formats import write_animation
    write_animation(make_animation(frames, fps=float(fps), seed=11), path)


def test_import_operator_keys_shape_keys(extension_zip, tmp_path):
    from dreamtalk.core.formats import read_animation

    _write_take(tmp_path / "take_one.csv", frames=90, fps=30)
    _write_take(tmp_path / "take_two.csv", frames=30, fps=30)
    (tmp_path / "broken.csv").write_text("Timecode,BlendshapeCount,EyeBlinkLeft\n00:00:00:00.000,61,0.1\n")
    out = run_blender('''
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    for o in list(bpy.data.objects):
        bpy.data.objects.remove(o)
    mesh = bpy.data.meshes.new("Face")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    obj = bpy.data.objects.new("Face", mesh)
    scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    for n in ("Basis", "jawOpen", "JAW_LEFT", "mouth_right", "EyeBlinkLeft", "custom"):
        obj.shape_key_add(name=n)
    key = mesh.shape_keys
    # A hand-made action already on the shape keys must survive in the NLA.
    key.key_blocks["custom"].value = 0.5
    key.key_blocks["custom"].keyframe_insert("value", frame=3)
    old = out["old_action"] = key.animation_data.action.name
    n_actions = len(bpy.data.actions)

    s = scene.dreamtalk
    plain = bpy.data.objects.new("Plain", bpy.data.meshes.new("Plain"))
    scene.collection.objects.link(plain)
    s.target_object, s.anim_path = plain, TMP + "/take_one.csv"
    try:
        bpy.ops.dreamtalk.import_animation()
    except RuntimeError as e:
        out["error_no_keys"] = str(e)
    s.target_object, s.start_frame = obj, 10
    s.anim_path = TMP + "/broken.csv"
    try:
        bpy.ops.dreamtalk.import_animation()
        out["error"] = None
    except RuntimeError as e:
        out["error"] = str(e)
    out["untouched"] = (len(bpy.data.actions) == n_actions and key.animation_data.action.name == old
                        and len(key.animation_data.nla_tracks) == 0)

    s.anim_path = TMP + "/take_one.csv"
    out["ret"] = sorted(bpy.ops.dreamtalk.import_animation())
    ad = key.animation_data
    act = ad.action
    out["action"] = act.name
    out["nla"] = [[st.action.name for st in t.strips] for t in ad.nla_tracks]
    layered = hasattr(act, "layers") and len(act.layers)  # slotted actions (4.4+); 4.2 keeps act.fcurves
    fcurves = act.layers[0].strips[0].channelbag(ad.action_slot).fcurves if layered else act.fcurves
    curves = {}
    for fc in fcurves:
        co = np.empty(2 * len(fc.keyframe_points), np.float32)
        fc.keyframe_points.foreach_get("co", co)
        curves[fc.data_path] = co.reshape(-1, 2).tolist()
    out["curves"] = curves
    scene.frame_set(15)
    out["evaluated_jaw_at_15"] = key.key_blocks["jawOpen"].value
    out["evaluated_custom_at_15"] = key.key_blocks["custom"].value

    out["ret2"] = sorted(bpy.ops.dreamtalk.import_animation(filepath=TMP + "/take_two.csv"))
    out["action2"] = key.animation_data.action.name
    out["nla2"] = [[st.action.name for st in t.strips] for t in key.animation_data.nla_tracks]
    addon_utils.disable(MODULE, default_set=True)
    out["types_after"] = dreamtalk_types()
    ''', extension_zip, tmp_path)

    assert "missing 51 blendshape column(s)" in out["error"] and "Traceback" not in out["error"]
    assert "mesh 'Plain' has no shape keys" in out["error_no_keys"]
    assert out["untouched"]
    assert out["ret"] == ["FINISHED"] and out["action"] == "take_one"
    assert out["nla"] == [[out["old_action"]]]

    expected = read_animation(tmp_path / "take_one.csv").resample(24.0)  # scene fps
    assert expected.num_frames == 72
    curves = out["curves"]
    assert sorted(curves) == sorted(f'key_blocks["{n}"].value'
                                    for n in ("jawOpen", "JAW_LEFT", "mouth_right", "EyeBlinkLeft"))
    for shape, arkit in (("jawOpen", "jawOpen"), ("JAW_LEFT", "jawLeft"), ("mouth_right", "mouthRight"),
                         ("EyeBlinkLeft", "eyeBlinkLeft")):
        co = np.array(curves[f'key_blocks["{shape}"].value'])
        np.testing.assert_array_equal(co[:, 0], 10 + np.arange(72))  # keyed from start_frame
        np.testing.assert_allclose(co[:, 1], expected.channel(arkit), atol=1e-6)
    assert abs(out["evaluated_jaw_at_15"] - expected.channel("jawOpen")[5]) < 1e-5
    assert abs(out["evaluated_custom_at_15"] - 0.5) < 1e-6  # the old action still plays from the NLA

    assert out["ret2"] == ["FINISHED"] and out["action2"] == "take_two"
    assert len(out["nla2"]) == 2 and ["take_one"] in out["nla2"]
    assert out["types_after"] == []


SPEECH = Path("/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")
WHEELS = REPO / "build" / "wheels"  # filled by tools/test.sh (pip download of the linux pocketsphinx wheel)


def test_platform_zip_bundles_recognition_for_recognize_speech(tmp_path):
    if not list(WHEELS.glob("pocketsphinx-*linux*x86_64*.whl")) or not list(WHEELS.glob("onnxruntime-*linux*.whl")):
        pytest.skip("no cached pocketsphinx/onnxruntime wheels in build/wheels (tools/test.sh downloads them)")
    if not SPEECH.exists():
        pytest.skip("pocketsphinx-testdata not installed")
    out = tmp_path / "zips"
    r = subprocess.run([sys.executable, str(REPO / "tools" / "build_extension.py"), "--wheels", "--platforms",
                        "linux-x64", "--wheels-dir", str(WHEELS), "--output-dir", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    zips = list(out.glob("*linux_x64.zip"))
    assert len(zips) == 1
    names = zipfile.ZipFile(zips[0]).namelist()
    assert any(n.startswith("wheels/pocketsphinx-") for n in names)
    assert any(n.startswith("wheels/onnxruntime-") for n in names)
    assert {"weights/moonshine/encoder_model.onnx", "weights/moonshine/LICENSE"} <= set(names)
    res = run_blender('''
    import importlib.machinery, importlib.util, os
    class OnlyTheExtensionsCopy:
        """Hide the test environment's pocketsphinx and onnxruntime: only the extension's wheels may load."""
        def find_spec(self, name, path=None, target=None):
            if name not in ("pocketsphinx", "onnxruntime", "moonshine_cpp"):
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, [p for p in sys.path if p.startswith(TMP)])
            if spec is None:
                raise ModuleNotFoundError(name + " hidden")
            return spec
    sys.meta_path.insert(0, OnlyTheExtensionsCopy())
    for name in ("pocketsphinx", "onnxruntime"):
        sys.modules.pop(name, None)
    os.environ.pop("DREAMTALK_MOONSHINE_DIR", None)
    os.environ.pop("DREAMTALK_RECOGNIZER", None)
    s = bpy.context.scene.dreamtalk
    ops = sys.modules[MODULE + ".addon.operators"]
    bpy.ops.dreamtalk.add_proxy_head()
    s.audio_path = SPEECH
    s.lip_source = "RECOGNIZE"
    plan = ops.plan_generate(bpy.context)
    out["recognize"] = plan.kwargs.get("recognize")
    anim = ops.run_plan(plan)
    import pocketsphinx, onnxruntime
    out["origin"] = pocketsphinx.__file__
    out["ort_origin"] = onnxruntime.__file__
    out["heard"] = anim.metadata.get("recognized_text")
    out["engine"] = anim.metadata.get("recognizer")
    out["frames"] = anim.num_frames
    out["lips"] = anim.metadata.get("model_version")
    out["ret"] = sorted(bpy.ops.dreamtalk.generate())
    '''.replace("SPEECH", repr(str(SPEECH))), zips[0], tmp_path)
    assert res["recognize"] is True and res["ret"] == ["FINISHED"]
    assert res["origin"].startswith(str(tmp_path))  # the bundled wheels, not the test environment's copies
    assert res["ort_origin"].startswith(str(tmp_path)) and res["engine"] == "moonshine"
    assert "young man" in res["heard"] and res["frames"] > 60
    assert ".states." in res["lips"]  # the bundled onnxruntime also runs the speech-state lip network
