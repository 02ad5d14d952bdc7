"""Portrait sub-panel and operator: render the target's current take onto a photo as an MP4 (core/render/portrait).

The take is read back from the target's keyed shape-key (and head) curves, as the CSV export does, so generated
and imported takes render the same way. The audio is the one the take was generated from (kept on its action),
else the panel's audio file. Rendering runs in a background thread (numpy / mediapipe, no bpy) polled by a modal
timer (jobs.BackgroundJobMixin, as Generate); it never changes the scene. The neural backend needs torch, which
Blender's Python lacks: the thread runs ``dreamtalk render --backend neural`` in the Python set in the add-on's
preferences, reads its progress lines and interrupts it on Esc (finished chunks are kept and resumed next time).
"""
from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import bpy
from bpy.props import BoolProperty

from ..core.errors import Cancelled, DreamTalkError, InputError
from . import keying, operators
from .jobs import BackgroundJobMixin
from .panels import _SubPanel, property_split

MEDIAPIPE_NOTE = ("Portrait rendering needs mediapipe: pip install mediapipe==0.10.21 into Blender's Python, "
                  "or use `dreamtalk render` from the command line")
NEURAL_PYTHON_NOTE = ("The neural backend runs outside Blender: set a Python with PyTorch and dreamtalk in "
                      "Preferences > Add-ons > DREAM-Talk > Python for Neural Portraits")
_PROGRESS_LINE = re.compile(r"^neural (\d+)/(\d+)")
_PROBED: dict = {}  # (python, mtime) -> problem or None: importing torch takes seconds, so ask once

_ADDON_ROOT = Path(__file__).resolve().parents[1]  # the extension's own folder: never written into

# What the panel's status line shows; only the main thread writes it.
STATUS = {"text": "", "icon": "NONE", "running": False}


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent that fails to import, or a module blocked in sys.modules
        return False


def _neural_python() -> str:
    from .preferences import neural_python
    return neural_python()


def backend_problem(backend: str) -> str | None:
    """Why ``backend`` cannot run here (a one-line note for the panel and the report), or None."""
    if backend == "warp":
        return None if _importable("mediapipe") else MEDIAPIPE_NOTE
    python = _neural_python()
    if not python:
        return NEURAL_PYTHON_NOTE
    if not os.path.isfile(python):
        return f"Python for neural portraits not found: {python} (see the add-on's preferences)"
    return None


def neural_env() -> dict:
    """Environment for the outside Python: Blender's own Python settings removed; a checkout's package on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    if _ADDON_ROOT.name == "dreamtalk" and (_ADDON_ROOT / "core/render/portrait/neural.py").is_file():
        env["PYTHONPATH"] = str(_ADDON_ROOT.parent)  # a checkout carries the neural code; a zip build does not
    env["PYTHONUNBUFFERED"] = "1"
    return env


def probe_python(python: str) -> str | None:
    """Why ``python`` cannot run the neural backend (no torch, no dreamtalk), or None; cached per file."""
    try:
        key = (python, os.stat(python).st_mtime_ns)
    except OSError:
        return f"Python for neural portraits not found: {python}"
    if key not in _PROBED:
        try:
            r = subprocess.run([python, "-c", "import torch, dreamtalk.core.render.portrait.neural"],
                               capture_output=True, text=True, env=neural_env(), timeout=120)
            last = (r.stderr.strip().splitlines() or [""])[-1]
            _PROBED[key] = None if r.returncode == 0 else \
                f"{python} cannot run the neural backend ({last[:120]}): pip install torch dreamtalk there"
        except (OSError, subprocess.TimeoutExpired) as e:
            _PROBED[key] = f"cannot run {python}: {e}"
    return _PROBED[key]


def _set_status(text: str, icon: str = "NONE", running: bool = False) -> None:
    STATUS.update(text=text, icon=icon, running=running)
    for window in getattr(bpy.context.window_manager, "windows", ()):
        for area in (window.screen.areas if window.screen is not None else ()):
            if area.type == "VIEW_3D":
                area.tag_redraw()


@dataclass
class PortraitPlan:
    """Everything a portrait render needs, checked on the main thread; no bpy data inside."""

    anim: object  # core.animation.FaceAnimation of the take, at the scene's frame rate
    image: str
    out: str
    backend: str
    size: int
    audio: str | None
    checkpoint: str | None
    take: str  # the shape-key action's name, for the report
    notes: list[str] = field(default_factory=list)
    python: str = ""  # neural: the outside interpreter with torch
    net_size: int = 256  # neural: the network's input size


def _existing_dir(raw: str, what: str) -> str:
    if not raw:
        raise InputError(f"choose a {what}")
    path = bpy.path.abspath(raw)
    if not os.path.isdir(path):
        raise InputError(f"{what} not found: {path} (the folder with LivePortrait's five .pth files)")
    return path


def _existing_file(raw: str, what: str) -> str:
    if not raw:
        raise InputError(f"choose a {what}")
    path = bpy.path.abspath(raw)
    if not os.path.isfile(path):
        raise InputError(f"{what} not found: {path}")
    return path


def _output_path(raw: str) -> str:
    """The absolute .mp4 output path; InputError for no path, an unsaved-relative one or the add-on's folder."""
    if not raw:
        raise InputError("choose an output .mp4 file")
    if raw.startswith("//") and not bpy.data.filepath:
        raise InputError("the output path is relative to the .blend file: save the file or choose an absolute path")
    out = Path(bpy.path.abspath(raw))
    if out.suffix == "":
        out = out.with_suffix(".mp4")
    if out.suffix.lower() not in (".mp4", ".m4v", ".mov"):
        raise InputError(f"the portrait video must be an .mp4 file, got {out.name!r}")
    if out.is_dir():
        raise InputError(f"the output is a folder: {out}")
    resolved = out.resolve()
    if resolved == _ADDON_ROOT or _ADDON_ROOT in resolved.parents:
        raise InputError("choose an output folder outside the add-on's own folder")
    return str(out)


def plan_portrait(context) -> PortraitPlan:
    """Validate the panel's portrait settings and read the current take; InputError with a reason otherwise."""
    props = context.scene.dreamtalk
    backend = props.portrait_backend
    image = _existing_file(props.portrait_image, "portrait image")
    checkpoint = _existing_dir(props.portrait_checkpoint, "LivePortrait weights folder") \
        if backend == "neural" else None
    if props.portrait_size % 2:
        raise InputError(f"the video size must be even, got {props.portrait_size}")
    out = _output_path(props.portrait_output)
    obj = operators.target_mesh(context)
    if obj is None:
        raise InputError("choose a target mesh with a take (Generate or Import first)")
    key = obj.data.shape_keys
    if key is None or not keying.active_fcurves(key):
        raise InputError(f"{obj.name!r} has no take to render: Generate or Import one first")
    mapping = operators.mapping_for(context, obj)
    head, bone = operators.head_target(context, obj)
    anim, _first, _read = keying.read_keyed_animation(obj, mapping, head, bone)
    action = obj.data.shape_keys.animation_data.action
    meta = action.get("dreamtalk")
    audio = meta.get("audio") if meta is not None else None  # the take's own audio (Generate keeps it)
    notes = []
    if not audio and props.audio_path:
        audio = bpy.path.abspath(props.audio_path)
    if audio and not os.path.isfile(audio):
        raise InputError(f"audio file not found: {audio}")
    if not audio:
        notes.append("no audio: the video is silent")
    problem = backend_problem(backend)  # last: every input problem is reported whatever the backend
    if problem is None and backend == "neural":
        problem = probe_python(_neural_python())
    if problem:
        raise InputError(problem)
    return PortraitPlan(anim, image, out, backend, int(props.portrait_size), audio or None, checkpoint,
                        action.name, notes, _neural_python() if backend == "neural" else "")


def _tracked(frames, total: int, start: float, progress, cancel):
    """Pass frames through, reporting progress from ``start`` to 1 and stopping when ``cancel()`` is set."""
    for k, f in enumerate(frames):
        if cancel is not None and cancel():
            raise Cancelled("portrait rendering cancelled")
        yield f
        if progress is not None:
            progress(start + (1.0 - start) * (k + 1) / total)


def _warp_frames(plan: PortraitPlan, notes: list[str]):
    try:
        import mediapipe  # noqa: F401  (checked here so a broken install gets the same clear note)
    except ImportError:
        raise InputError(MEDIAPIPE_NOTE) from None
    from ..core.render.portrait import PortraitRenderer, prepare_portrait

    portrait = prepare_portrait(plan.image, plan.size)
    notes += portrait.notes
    return PortraitRenderer(portrait).frames(plan.anim)


def neural_command(plan: PortraitPlan, anim_path: str, audio_path: str) -> list[str]:
    """The ``dreamtalk render --backend neural`` command line; resumes a work folder left by a cancelled run."""
    cmd = [plan.python, "-m", "dreamtalk", "render", plan.image, audio_path, "-o", plan.out, "--backend", "neural",
           "--checkpoint", plan.checkpoint, "--anim", anim_path, "--size", str(plan.size),
           "--net-size", str(plan.net_size)]
    work = plan.out + ".neural-work"
    if os.path.isfile(os.path.join(work, "manifest.json")):
        cmd += ["--resume", work]
    return cmd


def _interrupt(proc) -> None:
    """Stop the render like Ctrl+C (its chunks stay resumable, no partial video), then hard if it hangs."""
    try:
        proc.send_signal(signal.SIGINT if sys.platform != "win32" else signal.CTRL_BREAK_EVENT)
        proc.wait(15)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()


def _remove_work(work: str) -> None:
    """Delete a cancelled render's chunk files and manifest, then the folder when nothing else is in it."""
    folder = Path(work)
    if not (folder / "manifest.json").is_file():
        return
    for p in [*folder.glob("chunk_*.npy"), folder / "manifest.json"]:
        p.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass  # something else is in there: leave it


def _run_neural(plan: PortraitPlan, progress=None, cancel=None) -> dict:
    """Run the neural render in the outside Python; progress from its lines, Esc interrupts it."""
    import tempfile
    import threading
    import time

    import numpy as np

    from ..core.formats import write_animation
    from ..core.render.video import write_wav16

    t0 = time.perf_counter()
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dreamtalk-neural-") as tmp:
        anim_path = os.path.join(tmp, "take.json")
        write_animation(plan.anim, anim_path)
        audio = plan.audio
        if not audio:  # the command wants audio: a silent track of the take's length
            audio = os.path.join(tmp, "silence.wav")
            write_wav16(audio, np.zeros(int(16000 * plan.anim.num_frames / plan.anim.fps) + 1, np.float32), 16000)
        flags = subprocess.CREATE_NEW_PROCESS_GROUP if sys.platform == "win32" else 0
        proc = subprocess.Popen(neural_command(plan, anim_path, audio), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=neural_env(), creationflags=flags)

        def pump():
            for line in proc.stderr:
                lines.append(line.rstrip())
                m = _PROGRESS_LINE.match(line)
                if m and progress is not None and int(m.group(2)):
                    progress(0.05 + 0.95 * int(m.group(1)) / int(m.group(2)))
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        if progress is not None:
            progress(0.05)
        while proc.poll() is None:
            if cancel is not None and cancel():
                _interrupt(proc)
                reader.join(5)
                _remove_work(plan.out + ".neural-work")  # a later render may use another take: start afresh
                raise Cancelled("portrait rendering cancelled")
            time.sleep(0.1)
        reader.join(5)
    if proc.returncode != 0:
        err = next((ln for ln in reversed(lines) if "error: " in ln), lines[-1] if lines else "")
        raise InputError(err.split("error: ", 1)[-1] if err else f"the neural render failed (exit {proc.returncode})")
    notes = list(plan.notes) + [ln.split("warning: ", 1)[1] for ln in lines if "render: warning: " in ln]
    return {"path": plan.out, "frames": plan.anim.num_frames, "backend": "neural",
            "wall_seconds": time.perf_counter() - t0, "notes": notes}


def run_portrait(plan: PortraitPlan, progress=None, cancel=None) -> dict:
    """Render the plan's MP4 (safe in a background thread: no bpy); returns write_video's summary + notes."""
    import time

    from ..core.audio import load_audio
    from ..core.render.video import write_video

    if plan.backend == "neural":
        return _run_neural(plan, progress, cancel)
    t0 = time.perf_counter()
    notes = list(plan.notes)
    au = load_audio(plan.audio) if plan.audio else None
    frames = _warp_frames(plan, notes)
    if progress is not None:
        progress(0.05)  # landmarks / checkpoint ready
    n = plan.anim.num_frames
    info = write_video(plan.out, _tracked(frames, n, 0.05, progress, cancel), plan.anim.fps,
                       (plan.size, plan.size), audio=au, num_frames=n)
    info.update(backend=plan.backend, wall_seconds=time.perf_counter() - t0, notes=notes)
    return info


def _summary(plan: PortraitPlan, info: dict) -> str:
    msg = (f"wrote {Path(info['path']).name}: {info['frames']} frames of {plan.take} ({plan.backend}, "
           f"{info['wall_seconds']:.1f} s)")
    if info.get("notes"):
        msg += "; " + "; ".join(info["notes"])
    return msg


def _progress_text(fraction: float) -> str:
    """The panel's progress line."""
    return f"Rendering {100 * fraction:.0f}%  (Esc to cancel)"


class DREAMTALK_OT_render_portrait(BackgroundJobMixin, bpy.types.Operator):
    """Render the target's current take onto the portrait photo as an MP4 with the audio (Esc cancels)"""

    bl_idname = "dreamtalk.render_portrait"
    bl_label = "Render Portrait Video"
    bl_options = {"REGISTER"}  # writes a file, never changes the scene: nothing to undo

    synchronous: BoolProperty(name="Synchronous", default=False, options={"SKIP_SAVE"},
                              description="Run to the end before returning (scripts); always on in background mode")

    @classmethod
    def poll(cls, context) -> bool:
        return context.scene is not None and hasattr(context.scene, "dreamtalk") and not STATUS["running"]

    def _plan_or_report(self, context):
        try:
            return plan_portrait(context)
        except DreamTalkError as e:
            msg = str(e)
        except OSError as e:
            msg = f"cannot read input: {e.strerror or e}"
        self.report({"ERROR"}, msg)
        _set_status(msg, "ERROR")
        return None

    def _done(self, info=None, error=None) -> set:
        if isinstance(error, Cancelled) or (error is None and info is None):
            self.report({"WARNING"}, "DREAM-Talk: portrait rendering cancelled")
            _set_status("Cancelled", "CANCEL")
            return {"CANCELLED"}
        if isinstance(error, DreamTalkError):
            self.report({"ERROR"}, str(error))
            _set_status(str(error), "ERROR")
            return {"CANCELLED"}
        if isinstance(error, OSError):
            msg = f"cannot write {self._plan.out}: {error.strerror or error}"
            self.report({"ERROR"}, msg)
            _set_status(msg, "ERROR")
            return {"CANCELLED"}
        if error is not None:
            _set_status("Failed (see the console)", "ERROR")
            raise error  # a bug, not bad input: keep the traceback
        msg = _summary(self._plan, info)
        self.report({"INFO"}, msg)
        _set_status(f"Wrote {Path(info['path']).name} ({info['frames']} frames)", "CHECKMARK")
        return {"FINISHED"}

    def execute(self, context):
        if not self._take_plan(context):
            return {"CANCELLED"}
        _set_status("Rendering...", "RENDER_ANIMATION", running=True)
        try:
            info = run_portrait(self._plan)
        except (DreamTalkError, OSError) as e:
            return self._done(error=e)
        finally:
            STATUS["running"] = False
        return self._done(info)

    def _job_fn(self, plan):
        return lambda progress, cancel: run_portrait(plan, progress, cancel)

    def _status_text(self, fraction: float) -> str:
        return f"DREAM-Talk: portrait {Path(self._plan.out).name} {_progress_text(fraction)}"

    def _status(self, context, fraction: float) -> None:
        # Explicit base call, not super(): tests drive these methods on a stand-in object.
        BackgroundJobMixin._status(self, context, fraction)
        _set_status(_progress_text(fraction), "RENDER_ANIMATION", running=True)

    def _cleanup(self, context) -> None:
        BackgroundJobMixin._cleanup(self, context)
        STATUS["running"] = False

    def _on_job_done(self, context, job) -> set:
        # Esc after the last frame: the video is complete and written, so it is reported as such.
        return self._done(job.result, job.error)


def _wrapped_labels(layout, text: str, icon: str = "NONE", width: int = 38) -> None:
    """A long note as several labels (the sidebar clips a single long label)."""
    for i, line in enumerate(textwrap.wrap(text, width) or [""]):
        layout.label(text=line, icon=icon if i == 0 else "BLANK1")


class DREAMTALK_PT_portrait(_SubPanel, bpy.types.Panel):
    """Render the current take onto a photo: an MP4 with the audio"""

    bl_label = "Portrait"
    bl_idname = "DREAMTALK_PT_portrait"

    def draw(self, context):
        layout = property_split(self.layout)
        props = context.scene.dreamtalk
        col = layout.column()
        col.prop(props, "portrait_image")
        col.prop(props, "portrait_backend")
        if props.portrait_backend == "neural":
            col.prop(props, "portrait_checkpoint")
        col.prop(props, "portrait_output")
        col.prop(props, "portrait_size")
        problem = backend_problem(props.portrait_backend)
        if problem:
            _wrapped_labels(layout.box(), problem, "ERROR")
        elif props.portrait_backend == "neural":
            layout.label(text="Runs in the preferences' Python; slow on CPU", icon="INFO")
        row = layout.row()
        row.scale_y = 1.5
        row.enabled = not STATUS["running"]
        row.operator("dreamtalk.render_portrait", text="Render", icon="RENDER_ANIMATION")
        if STATUS["text"]:
            _wrapped_labels(layout, STATUS["text"], STATUS["icon"])


classes = (DREAMTALK_OT_render_portrait, DREAMTALK_PT_portrait)
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register() -> None:
    """Register the portrait operator and panel."""
    STATUS.update(text="", icon="NONE", running=False)
    _register_classes()


def unregister() -> None:
    """Unregister them and forget the status line."""
    _unregister_classes()
    STATUS.update(text="", icon="NONE", running=False)
