"""Key a FaceAnimation onto a mesh's shape keys and a head (bpy only), read it back, add the sound strip.

Shared by the generate, import and export operators. Every take is a NEW action per datablock; the one it
replaces moves to the NLA. The keying itself (actions, slots, F-curves, head quaternions) is the one
implementation in exporters/blender_scene.py, which the FBX path uses too; this module adds the add-on's side:
the ARKit mapping, frame rates, read-back and sound.
"""
from __future__ import annotations

import math

import bpy
import numpy as np

from ..core.errors import InputError
from ..exporters import blender_scene as bs
from ..rigs.arkit import ARKIT_NAMES, INDEX


def scene_fps(scene) -> float:
    """The scene's real frame rate (``fps / fps_base``, e.g. 30000/1001 for 29.97)."""
    return scene.render.fps / scene.render.fps_base


# ---- mapping, keying, head rotation, read-back ------------------------------------------------

def shape_key_names(obj) -> list[str]:
    """Shape-key names of a mesh without its reference (basis) key; [] when it has none."""
    key = getattr(obj.data, "shape_keys", None) if obj is not None and obj.type == "MESH" else None
    if key is None:
        return []
    return [kb.name for kb in key.key_blocks if kb != key.reference_key]


def resolve_mapping(obj, preset: str | None = None, overrides=None):
    """The rigs.presets Mapping (ARKit -> shape keys) of a mesh; InputError when nothing would be keyed."""
    from ..rigs.presets import map_names

    if obj is None or obj.type != "MESH":
        raise InputError("choose a mesh object as the target")
    names = shape_key_names(obj)
    if not names:
        raise InputError(f"mesh {obj.name!r} has no shape keys; add the ARKit proxy head or use a mesh "
                         "with ARKit-style shape keys")
    try:
        mapping = map_names(names, preset=preset, overrides=overrides)
    except InputError as e:
        if preset is None and not overrides:
            raise InputError(f"mesh {obj.name!r} has no shape keys named like ARKit blendshapes (e.g. jawOpen) "
                             "or a known rig preset") from None
        raise e
    if not mapping.target_names:
        raise InputError(f"nothing mapped: no ARKit channel drives a shape key of {obj.name!r}")
    return mapping


def key_mapped_animation(obj, anim, mapping, start_frame: int, action_name: str, fps: float | None = None):
    """Key ``anim`` through a rigs.presets Mapping onto ``obj``'s shape keys as a NEW action.

    Frame k of ``anim`` (resampled to ``fps``, default the scene's) lands on ``start_frame + k``; the previous
    shape-key action moves to the NLA. Returns ``(action, keyed_shape_key_names)``.
    """
    fps = float(fps) if fps else scene_fps(bpy.context.scene)
    if abs(anim.fps - fps) > 1e-6:
        anim = anim.resample(fps)
    values, names = mapping.apply(anim.weights)  # (T, K) in target order
    key = obj.data.shape_keys
    missing = [n for n in names if n not in key.key_blocks]
    if missing:
        raise InputError(f"shape key {missing[0]!r} is not on {obj.name!r}; refresh the mapping")
    frames = start_frame + np.arange(anim.num_frames, dtype=np.float64)  # (T,)
    spec = [(f'key_blocks["{bpy.utils.escape_identifier(n)}"].value', 0, frames, values[:, j], None)
            for j, n in enumerate(names)]
    action = bs.keyed_take(key, "KEY", action_name, spec, push_down=True)
    return action, list(names)


def head_local_quaternions(head_ob, bone_name, head_rotation: np.ndarray) -> np.ndarray:
    """(T, 4) local (w, x, y, z) rotations that turn the head by (T, 3) [pitch, yaw, roll] about its pivot."""
    from ..core.rotation import head_rotation_quaternions

    return bs.head_local_quaternions(head_ob, bone_name, head_rotation_quaternions(head_rotation))


def head_rotation_from_local(head_ob, bone_name, local: np.ndarray) -> np.ndarray:
    """Inverse of :func:`head_local_quaternions`: (T, 4) local rotations -> (T, 3) [pitch, yaw, roll]."""
    from ..core.rotation import head_rotation_from_quaternions

    return head_rotation_from_quaternions(bs.gltf_quaternions_from_local(head_ob, bone_name, local))


def key_head_animation(head_ob, bone_name, anim, start_frame: int, action_name: str, fps: float | None = None):
    """Key ``anim.head_rotation`` on a bone of ``head_ob`` or on the object itself, as a NEW action (quaternions,
    or Euler angles in the owner's own order when it rotates by Euler). Returns the action."""
    from ..core.rotation import head_rotation_quaternions

    if bone_name is not None and (head_ob.type != "ARMATURE" or bone_name not in head_ob.pose.bones):
        raise InputError(f"{head_ob.name!r} has no bone {bone_name!r}")
    fps = float(fps) if fps else scene_fps(bpy.context.scene)
    if abs(anim.fps - fps) > 1e-6:
        anim = anim.resample(fps)
    q = head_rotation_quaternions(anim.head_rotation)  # (T, 4) glTF frame (x, y, z, w)
    return bs.key_head_rotation(head_ob, bone_name, q, start_frame, action_name, push_down=True)


def active_fcurves(id_block) -> dict:
    """``{(data_path, index): fcurve}`` of the active action (its assigned slot in 4.4+); {} when none."""
    ad = getattr(id_block, "animation_data", None)
    action = ad.action if ad is not None else None
    if action is None:
        return {}
    if hasattr(ad, "action_slot") and hasattr(action, "layers"):
        slot = ad.action_slot
        curves = [fc for layer in action.layers for strip in layer.strips
                  for fc in (strip.channelbag(slot).fcurves if slot and strip.channelbag(slot) else ())]
    else:
        curves = list(action.fcurves)
    return {(fc.data_path, fc.array_index): fc for fc in curves}


def _sample(fc, frames: np.ndarray) -> np.ndarray:
    return np.array([fc.evaluate(f) for f in frames], np.float64)


def read_keyed_animation(obj, mapping, head_ob=None, bone_name=None, fps: float | None = None):
    """The active shape-key (and head) actions read back as a FaceAnimation, one sample per frame.

    Each ARKit channel reads the first shape key it drives (projection presets cannot be inverted: their
    channels stay 0). Returns ``(anim, first_frame, channels_read)``; InputError when nothing is keyed.
    """
    from ..core.animation import FaceAnimation

    key = getattr(obj.data, "shape_keys", None) if obj is not None else None
    curves = active_fcurves(key) if key is not None else {}
    if not curves:
        raise InputError(f"{getattr(obj, 'name', 'the target')!r} has no shape-key animation to export")
    lo = min(fc.range()[0] for fc in curves.values())
    hi = max(fc.range()[1] for fc in curves.values())
    frames = np.arange(int(math.floor(lo)), int(math.ceil(hi)) + 1, dtype=np.float64)  # (T,)
    w = np.zeros((len(frames), len(ARKIT_NAMES)), np.float64)  # (T, 52)
    read = []
    for arkit, targets in mapping.arkit_to_targets.items():
        fc = curves.get((f'key_blocks["{bpy.utils.escape_identifier(targets[0])}"].value', 0))
        if fc is not None:
            w[:, INDEX[arkit]] = _sample(fc, frames)
            read.append(arkit)
    if not read:
        raise InputError(f"no mapped shape key of {obj.name!r} is animated")
    head = None
    if head_ob is not None:
        hc = active_fcurves(head_ob)
        owner, prefix, _ = bs.rotation_target(head_ob, bone_name)
        q_curves = [hc.get((prefix + "rotation_quaternion", i)) for i in range(4)]
        e_curves = [hc.get((prefix + "rotation_euler", i)) for i in range(3)]
        if all(q_curves):
            local = np.stack([_sample(fc, frames) for fc in q_curves], -1)
        elif all(e_curves):
            from mathutils import Euler
            eul = np.stack([_sample(fc, frames) for fc in e_curves], -1)
            order = owner.rotation_mode if owner.rotation_mode in ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX") else "XYZ"
            local = np.array([list(Euler(e, order).to_quaternion()) for e in eul], np.float64)
        else:
            local = None
        if local is not None:
            head = head_rotation_from_local(head_ob, bone_name, local)
    fps = float(fps) if fps else scene_fps(bpy.context.scene)
    anim = FaceAnimation(fps, np.clip(w, 0.0, 1.0).astype(np.float32), head)
    return anim, int(frames[0]), read


def store_take_metadata(action, metadata: dict, **extra) -> None:
    """Keep the animation's plain facts (str/int/float metadata) on its take as ``action["dreamtalk"]``."""
    meta = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float))}
    action["dreamtalk"] = {**meta, **extra}


def take_metadata(obj) -> dict:
    """The facts stored on the active shape-key take by :func:`store_take_metadata`; {} when there are none."""
    key = getattr(obj.data, "shape_keys", None) if obj is not None else None
    ad = getattr(key, "animation_data", None)
    action = ad.action if ad is not None else None
    meta = action.get("dreamtalk") if action is not None else None
    if meta is None or not hasattr(meta, "to_dict"):
        return {}
    out = meta.to_dict()
    out.pop("audio", None)  # the add-on's own note of the file; the facts carry source_audio
    return out


# ---- sound ------------------------------------------------------------------------------------------

def add_sound_strip(scene, filepath: str, frame_start: int, name: str):
    """A sound strip for ``filepath`` at ``frame_start`` (reused when one is already there); returns it."""
    se = scene.sequence_editor or scene.sequence_editor_create()
    strips = se.strips if hasattr(se, "strips") else se.sequences  # Blender 5.0 renamed sequences -> strips
    everything = se.strips_all if hasattr(se, "strips_all") else se.sequences_all
    target = bpy.path.abspath(filepath)
    for s in everything:
        if s.type == "SOUND" and s.sound is not None and int(s.frame_start) == int(frame_start) \
                and bpy.path.abspath(s.sound.filepath) == target:
            return s
    channel = 1 + max((s.channel for s in everything), default=0)
    return strips.new_sound(name, filepath, channel, int(frame_start))
