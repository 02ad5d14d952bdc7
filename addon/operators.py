"""Operators: generate, add the proxy head, import, export, and the panel's small helpers.

Every operator checks the user's input completely before it changes the scene, so bad input ends in one
``self.report({'ERROR'}, ...)`` line and an untouched scene.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from ..core.errors import DreamTalkError, InputError
from . import keying, preferences
from .jobs import BackgroundJobMixin
from .properties import EXPORT_FORMATS

NATIVE_FPS = 30.0  # the model's own frame rate (preference "Set Scene to 30 fps")


# ---- shared helpers ---------------------------------------------------------------------------------

def target_mesh(context):
    """The panel's target mesh, else the active object when it is a mesh, else None."""
    props = context.scene.dreamtalk
    obj = props.target_object
    if obj is None and context.active_object is not None and context.active_object.type == "MESH":
        obj = context.active_object
    return obj


def mapping_overrides(props, obj) -> dict | None:
    """User overrides from the mapping list (ARKit -> shape key or None), when the list belongs to ``obj``."""
    if obj is None or props.mapping_object != obj.name:
        return None
    over = {row.arkit: (row.shape_key or None) for row in props.mapping if row.is_override}
    return over or None


def mapping_for(context, obj):
    """The rigs.presets Mapping used for ``obj``: panel preset + overrides; InputError when nothing maps."""
    props = context.scene.dreamtalk
    preset = None if props.preset == "AUTO" else props.preset
    return keying.resolve_mapping(obj, preset, mapping_overrides(props, obj))


def head_target(context, obj):
    """``(object, bone_name)`` the head rotation drives, ``(None, None)`` for none; InputError when invalid."""
    props = context.scene.dreamtalk
    if props.head_mode == "NONE":
        return None, None
    head = props.head_object
    if props.head_mode == "OBJECT":
        return (head or obj), None
    if head is None or head.type != "ARMATURE":
        raise InputError("head mode Bone needs an armature as Head Object")
    if not props.head_bone or props.head_bone not in head.data.bones:
        raise InputError(f"choose a bone of {head.name!r} for the head")
    return head, props.head_bone


def style_clip_path(context) -> str | None:
    """The style clip file: the panel's path, else the chosen preset in the style folder; None for none."""
    props = context.scene.dreamtalk
    if props.style_path:
        return bpy.path.abspath(props.style_path)
    if props.style_preset and props.style_preset != "NONE":
        return os.path.join(preferences.style_dir(context), props.style_preset)
    return None


def _pref(context, name: str, default):
    prefs = preferences.get_preferences(context)
    return getattr(prefs, name) if prefs is not None else default


@dataclass
class GeneratePlan:
    """Everything Generate needs, checked on the main thread before anything runs or changes."""

    audio: str
    mesh: str  # object names: the modal re-finds them (the user may have edited the scene meanwhile)
    mapping: object
    head: str | None
    bone: str | None
    start_frame: int
    fps: float
    set_scene_fps: bool
    action_name: str
    kwargs: dict = field(default_factory=dict)


EMOTION_PATHS = ("dreamtalk.emotion", "dreamtalk.intensity")


def emotion_is_keyed(scene) -> bool:
    """Whether the scene's Emotion or Intensity is animated (keyframes on the timeline)."""
    curves = keying.active_fcurves(scene)
    return any((p, 0) in curves for p in EMOTION_PATHS)


def keyed_emotion_track(scene, start_frame: int, fps: float) -> list[tuple[float, str, float]] | None:
    """The keyframed Emotion/Intensity as emotion-track keys (seconds from ``start_frame``); None if not keyed.

    Every keyframe of either curve becomes a key holding the emotion and intensity the curves give there; frames
    before the start frame fold into the first key.
    """
    from ..core.emotions import EMOTIONS

    curves = keying.active_fcurves(scene)
    emo_fc, int_fc = (curves.get((p, 0)) for p in EMOTION_PATHS)
    if emo_fc is None and int_fc is None:
        return None
    props = scene.dreamtalk
    frames = sorted({round(k.co[0], 4) for fc in (emo_fc, int_fc) if fc is not None for k in fc.keyframe_points})
    keys: dict[float, tuple[str, float]] = {}
    for f in frames:
        emo = EMOTIONS[int(round(emo_fc.evaluate(f)))] if emo_fc is not None else props.emotion
        inten = min(1.0, max(0.0, float(int_fc.evaluate(f)))) if int_fc is not None else float(props.intensity)
        keys[max(0.0, (f - start_frame) / fps)] = (emo, inten)  # earlier frames collapse onto 0
    return [(t, e, i) for t, (e, i) in sorted(keys.items())]


def plan_generate(context) -> GeneratePlan:
    """Validate the panel's settings into a plan; InputError with a one-line reason otherwise."""
    from ..core.emotions import canonical_emotion, check_intensity

    scene = context.scene
    props = scene.dreamtalk
    if not props.audio_path:
        raise InputError("choose an audio file")
    audio = bpy.path.abspath(props.audio_path)
    if not os.path.isfile(audio):
        raise InputError(f"audio file not found: {audio}")
    obj = target_mesh(context)
    if obj is None:
        raise InputError("choose a target mesh (or make a mesh the active object)")
    mapping = mapping_for(context, obj)
    head, bone = head_target(context, obj)
    style = style_clip_path(context)
    if style is not None:
        from ..core.formats import read_animation
        try:
            style = read_animation(style)  # a bad clip fails here, before the pipeline runs
        except (DreamTalkError, OSError) as e:
            raise InputError(f"style clip {Path(style).name}: {getattr(e, 'strerror', None) or e}") from None
    set_fps = _pref(context, "fps_mode", "SCENE") == "SET_SCENE"
    fps = NATIVE_FPS if set_fps else keying.scene_fps(scene)
    kwargs = dict(emotion=canonical_emotion(props.emotion), intensity=check_intensity(props.intensity),
                  style=style, seed=int(props.seed), fps=fps, head=head is not None, blink=props.blink)
    track = keyed_emotion_track(scene, props.start_frame, keying.scene_fps(scene))
    if track is not None:
        if style is not None:
            raise InputError("a style clip and keyframed Emotion/Intensity exclude each other; clear one")
        del kwargs["emotion"], kwargs["intensity"]
        kwargs.update(emotion_track=track, transition=float(props.transition))
    if props.use_sampler_settings:
        kwargs.update(steps=int(props.steps), guidance=float(props.guidance))
    if props.lip_source != "AUDIO":
        import importlib.util
        if props.lip_source == "TRANSCRIPT" and not props.transcript.strip():
            raise InputError("type the transcript (Advanced > Transcript) or set Lip Sync to Audio")
        if importlib.util.find_spec("pocketsphinx") is None:
            raise InputError("Transcript and Recognize Speech need the pocketsphinx package in Blender's Python; "
                             "set Lip Sync to Audio")
        if props.lip_source == "TRANSCRIPT":
            kwargs["transcript"] = props.transcript
        else:
            kwargs["recognize"] = True
    name = f"DT_{Path(audio).stem}_{props.emotion}"
    return GeneratePlan(audio, obj.name, mapping, head.name if head else None, bone, props.start_frame,
                        fps, set_fps, name, kwargs)


def run_plan(plan: GeneratePlan, progress=None, cancel=None):
    """Run the pipeline for a plan (safe in a background thread: numpy only, no bpy)."""
    from ..core.pipeline import generate
    return generate(plan.audio, progress=progress, cancel=cancel, **plan.kwargs)


def apply_plan(context, plan: GeneratePlan, anim) -> str:
    """Key the generated animation into the scene (main thread); returns the report line."""
    scene = context.scene
    obj = bpy.data.objects.get(plan.mesh)
    if obj is None or obj.type != "MESH" or obj.data.shape_keys is None:
        raise InputError(f"target mesh {plan.mesh!r} is gone")
    head = bpy.data.objects.get(plan.head) if plan.head else None
    if plan.head and head is None:
        raise InputError(f"head object {plan.head!r} is gone")
    if plan.bone is not None and plan.bone not in head.pose.bones:
        raise InputError(f"bone {plan.bone!r} is gone from {head.name!r}")
    if plan.set_scene_fps:
        from ..exporters.blender_scene import fps_settings
        scene.render.fps, scene.render.fps_base = fps_settings(plan.fps)
    action, keyed = keying.key_mapped_animation(obj, anim, plan.mapping, plan.start_frame, plan.action_name,
                                                fps=plan.fps)
    keying.store_take_metadata(action, anim.metadata, audio=plan.audio)
    msg = f"{action.name}: keyed {len(keyed)} shape keys on {obj.name}"
    if head is not None:
        head_action = keying.key_head_animation(head, plan.bone, anim, plan.start_frame,
                                                plan.action_name + "_head", fps=plan.fps)
        msg += f" and the head ({head_action.name})"
    last = plan.start_frame + anim.num_frames - 1 if abs(anim.fps - plan.fps) < 1e-6 else \
        plan.start_frame + max(1, int(round(anim.duration * plan.fps))) - 1
    if _pref(context, "extend_frame_range", True) and scene.frame_end < last:
        scene.frame_end = last
    msg += f", frames {plan.start_frame}-{last}"
    if _pref(context, "add_sound_strip", True):
        try:
            keying.add_sound_strip(scene, plan.audio, plan.start_frame, Path(plan.audio).name)
        except RuntimeError as e:  # a Blender built without audio (the bpy 4.2 wheel): the keys stand
            msg += f"; sound strip skipped ({str(e).strip().splitlines()[-1] if str(e).strip() else 'no audio'})"
    return msg


# ---- Generate -------------------------------------------------------------------------------------

class DREAMTALK_OT_generate(BackgroundJobMixin, bpy.types.Operator):
    """Generate facial animation from the audio and key it onto the target (Esc cancels)"""

    bl_idname = "dreamtalk.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    synchronous: BoolProperty(name="Synchronous", default=False, options={"SKIP_SAVE"},
                              description="Run to the end before returning (scripts); always on in background mode")

    @classmethod
    def poll(cls, context) -> bool:
        return context.scene is not None and hasattr(context.scene, "dreamtalk")

    def _plan_or_report(self, context):
        try:
            return plan_generate(context)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
        except OSError as e:
            self.report({"ERROR"}, f"cannot read input: {e.strerror or e}")
        return None

    def _finish(self, context, anim) -> set:
        try:
            msg = apply_plan(context, self._plan, anim)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, msg)
        return {"FINISHED"}

    def execute(self, context):
        if not self._take_plan(context):
            return {"CANCELLED"}
        try:
            anim = run_plan(self._plan)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        return self._finish(context, anim)

    def _job_fn(self, plan):
        return lambda progress, cancel: run_plan(plan, progress, cancel)

    def _status_text(self, fraction: float) -> str:
        return f"DREAM-Talk: generating {Path(self._plan.audio).name} {100 * fraction:.0f}%  (Esc to cancel)"

    def _on_job_done(self, context, job) -> set:
        from ..core.errors import Cancelled
        if job.cancelled or isinstance(job.error, Cancelled):
            self.report({"WARNING"}, "DREAM-Talk: generation cancelled")
            return {"CANCELLED"}
        if isinstance(job.error, DreamTalkError):
            self.report({"ERROR"}, str(job.error))
            return {"CANCELLED"}
        if job.error is not None:
            raise job.error  # a bug, not bad input: keep the traceback
        # Keyed on the main thread; returning FINISHED makes Blender push this one undo step.
        return self._finish(context, job.result)


class DREAMTALK_OT_randomize_seed(bpy.types.Operator):
    """Pick a new random seed"""

    bl_idname = "dreamtalk.randomize_seed"
    bl_label = "Random Seed"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        context.scene.dreamtalk.seed = random.randrange(0, 2**31 - 1)
        return {"FINISHED"}


class DREAMTALK_OT_refresh_mapping(bpy.types.Operator):
    """List the target's ARKit channels and the shape keys they drive (keeps hand-made overrides)"""

    bl_idname = "dreamtalk.refresh_mapping"
    bl_label = "Refresh Mapping"
    bl_options = {"REGISTER", "UNDO"}

    reset: BoolProperty(name="Reset Overrides", default=False, options={"SKIP_SAVE"},
                        description="Forget hand-made overrides and map from the preset only")

    def execute(self, context):
        from ..rigs.arkit import ARKIT_NAMES

        props = context.scene.dreamtalk
        obj = target_mesh(context)
        keep = {} if self.reset else (mapping_overrides(props, obj) or {})
        try:
            preset = None if props.preset == "AUTO" else props.preset
            mapping = keying.resolve_mapping(obj, preset, keep or None)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        props.mapping.clear()
        for a in ARKIT_NAMES:
            row = props.mapping.add()
            row.arkit = a
            row.shape_key = mapping.arkit_to_targets.get(a, ("",))[0]
            row.is_override = a in keep  # set after shape_key: its update marks every edit as an override
        props.mapping_object = obj.name
        props.mapping_preset = mapping.preset
        self.report({"INFO"}, f"{obj.name}: preset {mapping.preset}, {52 - len(mapping.unmapped_arkit)} of 52 "
                              f"ARKit channels mapped")
        return {"FINISHED"}


# ---- proxy head ---------------------------------------------------------------------------------

class DREAMTALK_OT_add_proxy_head(bpy.types.Operator):
    """Add the procedural ARKit proxy head: a mesh with all 52 ARKit shape keys on a one-bone "Head" rig"""

    bl_idname = "dreamtalk.add_proxy_head"
    bl_label = "Add ARKit Proxy Head"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        from ..exporters import blender_scene as bs
        from ..rigs.proxy_head import build_proxy_head

        if context.mode != "OBJECT" and bpy.ops.object.mode_set.poll():
            bpy.ops.object.mode_set(mode="OBJECT")
        head = build_proxy_head()
        coll = context.collection or context.scene.collection
        mesh = bs.new_mesh_object("ARKit Proxy Head", head.vertices, head.triangles, head.delta_dict, coll,
                                  head.material_ids, head.materials, head.material_colors)
        try:
            rig = bs.new_head_rig(mesh, head.pivot, name="ARKit Proxy Rig")
        except RuntimeError as e:  # e.g. the collection is hidden, so edit mode is refused
            me = mesh.data
            bpy.data.objects.remove(mesh)
            bpy.data.meshes.remove(me)
            self.report({"ERROR"}, f"cannot build the head rig here: {e}")
            return {"CANCELLED"}
        rig.location = context.scene.cursor.location
        for ob in context.view_layer.objects:
            ob.select_set(False)
        mesh.select_set(True)
        context.view_layer.objects.active = mesh
        props = context.scene.dreamtalk
        props.target_object = mesh
        props.head_mode, props.head_object, props.head_bone = "BONE", rig, bs.HEAD_NAME
        self.report({"INFO"}, f"added {mesh.name} ({len(head.names)} shape keys) on {rig.name}")
        return {"FINISHED"}


# ---- import / export ----------------------------------------------------------------------------

class DREAMTALK_OT_import_animation(bpy.types.Operator):
    """Key a Live Link Face CSV, DREAM-Talk JSON or NPZ onto the target mesh's shape keys and head"""

    bl_idname = "dreamtalk.import_animation"
    bl_label = "Import Face Animation"
    bl_options = {"REGISTER", "UNDO"}

    filepath: StringProperty(name="File", description="Animation file; empty uses the panel's Animation path",
                             subtype="FILE_PATH", options={"SKIP_SAVE"})

    @classmethod
    def poll(cls, context) -> bool:
        return context.scene is not None and hasattr(context.scene, "dreamtalk")

    def execute(self, context):
        from ..core.formats import read_animation

        props = context.scene.dreamtalk
        raw = self.filepath or props.anim_path
        if not raw:
            self.report({"ERROR"}, "choose an animation file (.csv, .json or .npz)")
            return {"CANCELLED"}
        path = Path(bpy.path.abspath(raw))
        obj = target_mesh(context)
        try:
            # Everything that can fail on the user's input happens before the scene changes.
            anim = read_animation(path)
            mapping = mapping_for(context, obj)
            head, bone = head_target(context, obj)
            action, keyed = keying.key_mapped_animation(obj, anim, mapping, props.start_frame, path.stem)
            keying.store_take_metadata(action, anim.metadata)  # e.g. audio_duration, for the glTF export
            if head is not None:
                keying.key_head_animation(head, bone, anim, props.start_frame, path.stem + "_head")
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        except OSError as e:  # unreadable file, permissions
            self.report({"ERROR"}, f"{path}: cannot read: {e.strerror or e}")
            return {"CANCELLED"}
        msg = f"{action.name}: keyed {len(keyed)} shape keys on {obj.name}"
        if mapping.unmapped_arkit:
            msg += f" ({len(mapping.unmapped_arkit)} ARKit shapes have no shape key)"
        self.report({"INFO"}, msg)
        return {"FINISHED"}


_SUFFIX = {"GLB": ".glb", "GLTF": ".gltf", "FBX": ".fbx", "CSV": ".csv"}


class DREAMTALK_OT_export_animation(bpy.types.Operator):
    """Export the target's keyed animation: glTF/GLB (the command line's writer), FBX (mesh + head) or Live Link CSV"""

    bl_idname = "dreamtalk.export_animation"
    bl_label = "Export Face Animation"
    bl_options = {"REGISTER"}

    filepath: StringProperty(name="File", subtype="FILE_PATH", options={"SKIP_SAVE"})
    format: EnumProperty(name="Format", items=EXPORT_FORMATS, default="GLB", options={"SKIP_SAVE"})
    use_panel_format: BoolProperty(default=True, options={"HIDDEN", "SKIP_SAVE"})
    filter_glob: StringProperty(default="*.glb;*.gltf;*.fbx;*.csv", options={"HIDDEN"})

    @classmethod
    def poll(cls, context) -> bool:
        return context.scene is not None and hasattr(context.scene, "dreamtalk")

    def invoke(self, context, event):
        if self.use_panel_format:
            self.format = context.scene.dreamtalk.export_format
        obj = target_mesh(context)
        stem = bpy.path.clean_name(obj.name) if obj is not None else "face"
        self.filepath = stem + _SUFFIX[self.format]
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        if self.use_panel_format and not self.properties.is_property_set("format"):
            self.format = context.scene.dreamtalk.export_format
        if not self.filepath:
            self.report({"ERROR"}, "choose a file to export to")
            return {"CANCELLED"}
        path = Path(bpy.path.abspath(self.filepath))
        if path.suffix.lower() != _SUFFIX[self.format]:
            path = path.with_suffix(_SUFFIX[self.format])
        obj = target_mesh(context)
        try:
            mapping = mapping_for(context, obj)
            head, bone = head_target(context, obj)
            if self.format == "CSV":
                msg = self._csv(context, obj, mapping, head, bone, path)
            elif self.format == "FBX":
                msg = self._fbx(context, obj, head, path)
            else:
                msg = self._gltf(context, obj, mapping, head, bone, path)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        except OSError as e:
            self.report({"ERROR"}, f"{path}: cannot write: {e.strerror or e}")
            return {"CANCELLED"}
        self.report({"INFO"}, msg)
        return {"FINISHED"}

    @staticmethod
    def _objects(obj, head):
        out = [obj]
        if head is not None and head != obj:
            out.append(head)
        return out

    def _csv(self, context, obj, mapping, head, bone, path: Path) -> str:
        from ..core.formats import write_animation

        anim, first, read = keying.read_keyed_animation(obj, mapping, head, bone)
        write_animation(anim, path)
        return f"wrote {path.name}: {anim.num_frames} frames from frame {first}, {len(read)} ARKit channels"

    def _fbx(self, context, obj, head, path: Path) -> str:
        from ..exporters.fbx import export_fbx_from_scene

        lo, hi = _keyed_range(obj)
        info = export_fbx_from_scene(self._objects(obj, head), path, lo, hi)
        return f"wrote {path.name}: {info['frames']} frames"

    def _gltf(self, context, obj, mapping, head, bone, path: Path) -> str:
        """The keyed take as glTF/GLB, written by exporters/gltf.py (the proxy head: exactly the CLI's file)."""
        from ..exporters.blender_scene import is_proxy_head
        from ..exporters.gltf import write_proxy_glb

        # Read back as for CSV: the numbers with their channel names.
        anim, first, read = keying.read_keyed_animation(obj, mapping, head, bone)
        anim.metadata.update(keying.take_metadata(obj))  # e.g. audio_duration: the closing key, as the CLI's
        if is_proxy_head(obj):
            write_proxy_glb(anim, path)  # byte for byte what `dreamtalk generate -o x.glb` writes for anim
        else:
            _write_user_mesh_gltf(context, self._objects(obj, head), obj, head, bone, anim, path)
        return f"wrote {path.name}: {anim.num_frames} frames from frame {first}, {len(read)} ARKit channels"


def _write_user_mesh_gltf(context, objects, obj, head, bone, anim, path: Path) -> None:
    """A user's mesh as glTF: its geometry from Blender's exporter, animated like ``generate --mesh``."""
    import tempfile

    from ..exporters.blender_scene import export_gltf_geometry
    from ..exporters.gltf import animate_user_gltf, embed_glb_as_gltf

    # exporters/gltf.py animates an existing glTF but cannot build one from an arbitrary Blender mesh (UVs,
    # materials, modifiers, skinning): Blender's exporter writes the static geometry with shape keys as morph
    # targets to a temporary file, and the take is added by the CLI's code; only the finished file reaches
    # ``path`` (atomically).
    props = context.scene.dreamtalk
    with tempfile.TemporaryDirectory(prefix="dreamtalk-gltf-") as td:
        src = Path(td) / "mesh.glb"
        export_gltf_geometry(objects, obj, src)
        if path.suffix.lower() == ".gltf":
            src = embed_glb_as_gltf(src, Path(td) / "mesh.gltf")
        animate_user_gltf(anim, src, path, preset=None if props.preset == "AUTO" else props.preset,
                          overrides=mapping_overrides(props, obj),
                          head_node=False if head is None else (bone or head.name))  # joints keep bone names


def _keyed_range(obj) -> tuple[int, int]:
    """First and last keyed frame of the target's active shape-key action; InputError when none."""
    curves = keying.active_fcurves(obj.data.shape_keys) if obj.data.shape_keys is not None else {}
    if not curves:
        raise InputError(f"{obj.name!r} has no shape-key animation to export")
    lo = min(fc.range()[0] for fc in curves.values())
    hi = max(fc.range()[1] for fc in curves.values())
    return int(lo), int(round(hi))


classes = (DREAMTALK_OT_generate, DREAMTALK_OT_randomize_seed, DREAMTALK_OT_refresh_mapping,
           DREAMTALK_OT_add_proxy_head, DREAMTALK_OT_import_animation, DREAMTALK_OT_export_animation)
register, unregister = bpy.utils.register_classes_factory(classes)
