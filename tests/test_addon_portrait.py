"""The add-on's Portrait panel operator under bpy 5.0.1, headless: render the current take onto a photo.

Each Blender session is a subprocess with temporary user folders (test_addon.run_session, which also provides
the pipeline: the real one, or a stand-in while core/pipeline.py is missing).
"""
from __future__ import annotations

import importlib.util
import textwrap

import numpy as np
import pytest

from test_addon import _write_wav, addon_zip, run_session  # noqa: F401  (addon_zip: module fixture)
from test_extension import pytestmark  # noqa: F401  (same skips and marks)

# Generate a short take on the proxy head (few sampler steps: only the keyed curves matter here).
TAKE = '''
sc = bpy.context.scene
bpy.ops.dreamtalk.add_proxy_head()
s = sc.dreamtalk
s.audio_path = TMP + "/hello.wav"
s.use_sampler_settings, s.steps = True, 2
out["generate"] = sorted(bpy.ops.dreamtalk.generate())
frames = len(next(iter(keying.active_fcurves(s.target_object.data.shape_keys).values())).keyframe_points)
out["take_frames"] = frames
s.portrait_image = TMP + "/astronaut.png"
portrait = sys.modules[MODULE + ".addon.portrait"]
'''


def _session(parts: list[str], zip_path, tmp) -> dict:
    """run_session over script parts, each dedented on its own."""
    return run_session("".join(textwrap.dedent(p) for p in parts), zip_path, tmp)


def _save_astronaut(path) -> None:
    from PIL import Image
    from skimage import data
    Image.fromarray(data.astronaut()).save(path)


def _needs(*modules):
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def test_render_portrait_warp_writes_mp4_with_audio(addon_zip, tmp_path):
    _needs("mediapipe", "skimage", "PIL")
    from dreamtalk.core.render.video import probe

    _write_wav(tmp_path / "hello.wav", 1.0)
    _save_astronaut(tmp_path / "astronaut.png")
    out = _session([TAKE, '''
    s.portrait_output = TMP + "/video/take.mp4"  # a folder that does not exist yet
    s.portrait_size = 256
    before = state()
    out["ret"] = sorted(bpy.ops.dreamtalk.render_portrait())
    out["untouched"] = state() == before
    out["status"] = dict(portrait.STATUS)
    out["fps"] = sc.render.fps / sc.render.fps_base

    # Esc through the modal's own code (stand-in events): the thread stops, no file is left.
    import time
    jobs = sys.modules[MODULE + ".addon.jobs"]
    Op = bpy.types.DREAMTALK_OT_render_portrait
    class Stand:
        modal, _cleanup, _status, _done = Op.modal, Op._cleanup, Op._status, Op._done
        _status_text, _on_job_done = Op._status_text, Op._on_job_done  # the jobs.BackgroundJobMixin hooks
        def __init__(self):
            self.reports, self._timer = [], None
        def report(self, kind, msg):
            self.reports.append([sorted(kind)[0], msg])
    s.portrait_output = TMP + "/cancelled.mp4"
    op = Stand()
    op._plan = portrait.plan_portrait(bpy.context)
    op._job = jobs.Job(lambda pr, ca: portrait.run_portrait(op._plan, pr, ca))
    op._job.cancel()  # Esc before the first frame is encoded
    op._job.start()
    op._job.wait(60)
    r = op.modal(bpy.context, types.SimpleNamespace(type="TIMER", value="NOTHING"))
    out["cancel"] = [sorted(r), op.reports, dict(portrait.STATUS)]
    '''], addon_zip, tmp_path)

    assert out["generate"] == ["FINISHED"] and out["ret"] == ["FINISHED"], out
    assert out["untouched"]
    assert out["status"]["icon"] == "CHECKMARK" and "take.mp4" in out["status"]["text"]
    assert not out["status"]["running"]
    info = probe(tmp_path / "video" / "take.mp4")
    video = [st for st in info["streams"] if st["codec_type"] == "video"]
    audio = [st for st in info["streams"] if st["codec_type"] == "audio"]
    assert len(video) == 1 and len(audio) == 1
    assert int(video[0]["nb_read_frames"]) == out["take_frames"]
    assert (video[0]["width"], video[0]["height"]) == (256, 256)
    assert abs(float(audio[0]["duration"]) - out["take_frames"] / out["fps"]) < 0.1
    assert not list((tmp_path / "video").glob(".*part*"))  # no temporary file left behind
    assert out["cancel"][0] == ["CANCELLED"]
    assert out["cancel"][1] == [["WARNING", "DREAM-Talk: portrait rendering cancelled"]]
    assert not (tmp_path / "cancelled.mp4").exists() and not list(tmp_path.glob(".cancelled*"))


def test_render_portrait_bad_input_and_missing_mediapipe(addon_zip, tmp_path):
    _needs("skimage", "PIL")
    _write_wav(tmp_path / "hello.wav", 0.5)
    _save_astronaut(tmp_path / "astronaut.png")
    out = _session(['''
    sys.modules["mediapipe"] = None  # as in a stock Blender: the import fails
    ''', TAKE, '''
    s.portrait_output = TMP + "/out.mp4"
    before = state()
    errs = {}
    errs["no_mediapipe"] = error_of(bpy.ops.dreamtalk.render_portrait)
    out["status"] = dict(portrait.STATUS)
    # The neural backend runs in an outside Python with torch, and none is set in the preferences here.
    s.portrait_backend = "neural"
    s.portrait_checkpoint = TMP + "/hello.wav"
    errs["weights_not_folder"] = error_of(bpy.ops.dreamtalk.render_portrait)
    s.portrait_checkpoint = TMP
    errs["neural"] = error_of(bpy.ops.dreamtalk.render_portrait)
    out["neural_problem"] = portrait.backend_problem("neural")
    s.portrait_backend = "warp"
    s.portrait_image = TMP + "/missing.png"
    errs["missing_image"] = error_of(bpy.ops.dreamtalk.render_portrait)
    s.portrait_image = TMP + "/astronaut.png"
    s.portrait_output = TMP + "/out.avi"
    errs["not_mp4"] = error_of(bpy.ops.dreamtalk.render_portrait)
    s.portrait_output = "//out.mp4"
    errs["unsaved_relative"] = error_of(bpy.ops.dreamtalk.render_portrait)
    s.portrait_output = str(Path(portrait.__file__).parent / "out.mp4")
    errs["own_folder"] = error_of(bpy.ops.dreamtalk.render_portrait)
    out["errs"] = errs
    out["untouched"] = state() == before
    out["own_folder_files"] = sorted(p.name for p in Path(portrait.__file__).parents[1].rglob("*.mp4"))
    # A mesh without a take (input checks come first, so mediapipe being absent does not hide this).
    s.portrait_output = TMP + "/out.mp4"
    bpy.ops.dreamtalk.add_proxy_head()
    errs["no_take"] = error_of(bpy.ops.dreamtalk.render_portrait)
    '''], addon_zip, tmp_path)

    e = out["errs"]
    for k, v in e.items():
        assert v is not None, k
        assert v.startswith("Error: ") and "Traceback" not in v and v.count("\n") <= 1, (k, v)
    assert e["no_mediapipe"].strip() == "Error: Portrait rendering needs mediapipe: pip install " \
        "mediapipe==0.10.21 into Blender's Python, or use `dreamtalk render` from the command line"
    assert out["status"]["icon"] == "ERROR" and "mediapipe" in out["status"]["text"]
    assert out["neural_problem"] in e["neural"]
    assert out["neural_problem"] == portrait_note()
    assert "LivePortrait weights folder not found" in e["weights_not_folder"]
    assert "portrait image not found" in e["missing_image"]
    assert ".mp4" in e["not_mp4"] and "save the file" in e["unsaved_relative"]
    assert "outside the add-on" in e["own_folder"]
    assert "has no take to render" in e["no_take"]
    assert out["untouched"] and out["own_folder_files"] == []
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.avi").exists()
    assert out["generate"] == ["FINISHED"]


def portrait_note() -> str:
    from dreamtalk.addon.portrait import NEURAL_PYTHON_NOTE
    return NEURAL_PYTHON_NOTE


def test_run_portrait_neural_in_outside_python(tmp_path):
    """The neural path of the operator's worker: `dreamtalk render --backend neural` run in the preferences'
    Python (here this test's interpreter, which has torch) on random weights in LivePortrait's published layout;
    the astronaut's face is cropped, animated and pasted back; progress reaches 1."""
    _needs("torch", "skimage", "PIL", "mediapipe")
    import sys

    from dreamtalk.addon import portrait
    from dreamtalk.core.animation import FaceAnimation
    from dreamtalk.core.render.portrait.neural import random_models, save_checkpoint
    from dreamtalk.core.render.video import probe

    save_checkpoint(random_models(0), tmp_path / "weights")
    _save_astronaut(tmp_path / "astronaut.png")
    _write_wav(tmp_path / "a.wav", 0.1)
    anim = FaceAnimation(30.0, np.random.default_rng(0).uniform(0, 1, (2, 52)).astype(np.float32), None)
    plan = portrait.PortraitPlan(anim, str(tmp_path / "astronaut.png"), str(tmp_path / "n.mp4"), "neural", 256,
                                 str(tmp_path / "a.wav"), str(tmp_path / "weights"), "take", python=sys.executable,
                                 net_size=128)
    assert portrait.probe_python(sys.executable) is None
    seen = []
    info = portrait.run_portrait(plan, seen.append, lambda: False)
    assert info["frames"] == 2 and abs(seen[-1] - 1.0) < 1e-9 and seen == sorted(seen)
    streams = probe(tmp_path / "n.mp4")["streams"]
    video = [s for s in streams if s["codec_type"] == "video"][0]
    assert int(video["nb_read_frames"]) == 2 and (video["width"], video["height"]) == (256, 256)
    assert any(s["codec_type"] == "audio" for s in streams)


def _fake_python(path, body: str) -> str:
    import sys
    path.write_text(f"#!/bin/sh\nexec {sys.executable} -c '{body}'\n")
    path.chmod(0o755)
    return str(path)


def test_run_portrait_neural_cancel_and_error(tmp_path):
    """Esc interrupts the outside render at once; its one-line error becomes the report."""
    import time

    from dreamtalk.addon import portrait
    from dreamtalk.core.animation import FaceAnimation
    from dreamtalk.core.errors import Cancelled, InputError

    anim = FaceAnimation(30.0, np.zeros((3, 52), np.float32), None)
    slow = _fake_python(tmp_path / "slow", "import sys, time; print(\"neural 1/10 (10%) 0.1s\", file=sys.stderr, "
                                           "flush=True); time.sleep(60)")
    plan = portrait.PortraitPlan(anim, "p.png", str(tmp_path / "c.mp4"), "neural", 256, None, str(tmp_path), "take",
                                 python=slow)
    work = tmp_path / "c.mp4.neural-work"  # a cancelled run's chunks are removed
    work.mkdir()
    (work / "manifest.json").write_text("{}")
    (work / "chunk_00000.npy").write_bytes(b"x")
    seen, t0 = [], time.monotonic()
    with pytest.raises(Cancelled):
        portrait.run_portrait(plan, seen.append, lambda: bool(seen) and seen[-1] > 0.1)
    assert time.monotonic() - t0 < 20 and abs(seen[-1] - (0.05 + 0.095)) < 1e-9
    assert not work.exists()
    plan.python = _fake_python(tmp_path / "bad", "import sys; print(\"dreamtalk render: error: weights are odd\", "
                                                 "file=sys.stderr); sys.exit(2)")
    with pytest.raises(InputError, match="^weights are odd$"):
        portrait.run_portrait(plan)
    assert "--net-size" in portrait.neural_command(plan, "a.json", "a.wav")
