"""Key a FaceAnimation onto a mesh's shape keys (bpy only). Shared by the import and generate operators.

Works with Blender 4.2/4.3 (legacy ``Action.fcurves``) and 4.4+/5.x (layered actions: slots, layers,
keyframe strips and channelbags; ``Action.fcurves`` was removed in 5.0).
"""
from __future__ import annotations

import math

import bpy
import numpy as np

from ..core.errors import InputError
from ..rigs.arkit import INDEX, canonical_name


def scene_fps(scene) -> float:
    """The scene's real frame rate (``fps / fps_base``, e.g. 30000/1001 for 29.97)."""
    return scene.render.fps / scene.render.fps_base


def shape_key_mapping(obj) -> dict[str, str]:
    """Map shape-key name -> ARKit name for every key block whose name is an ARKit name up to case/underscores."""
    key = getattr(obj.data, "shape_keys", None)
    if key is None:
        return {}
    ref = key.reference_key
    out: dict[str, str] = {}
    taken: set[str] = set()
    for kb in key.key_blocks:
        if kb == ref:
            continue
        arkit = canonical_name(kb.name)
        # Two key blocks spelling the same ARKit name (eyeBlinkLeft, EyeBlinkLeft): key the first only.
        if arkit is not None and arkit not in taken:
            out[kb.name] = arkit
            taken.add(arkit)
    return out


def _is_layered(action) -> bool:
    # 4.4+ has slots and channelbags; 5.0 removed the legacy Action.fcurves entirely.
    return hasattr(action, "slots") and (not hasattr(action, "fcurves") or hasattr(bpy.types, "ActionChannelbag"))


def _new_fcurves(action, slot):
    """The fcurve collection to add curves to: the slot's channelbag (4.4+) or ``action.fcurves``."""
    if slot is None:
        return action.fcurves
    layer = action.layers[0] if len(action.layers) else action.layers.new("Layer")
    strip = layer.strips[0] if len(layer.strips) else layer.strips.new(type="KEYFRAME")
    return strip.channelbag(slot, ensure=True).fcurves


def push_down_action(anim_data) -> str | None:
    """Move the active action (if any) to a new NLA track instead of overwriting it; returns its name."""
    old = anim_data.action
    if old is None:
        return None
    old_slot = getattr(anim_data, "action_slot", None)
    start = int(math.floor(old.frame_range[0]))
    track = anim_data.nla_tracks.new()
    track.name = old.name
    strip = track.strips.new(old.name, start, old)
    if old_slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = old_slot
    anim_data.action = None
    return old.name


def key_shape_animation(obj, anim, start_frame: int, action_name: str, fps: float | None = None):
    """Key ``anim`` (a FaceAnimation) onto ``obj``'s ARKit-named shape keys as a NEW action.

    The animation is resampled to ``fps`` (default: the scene's), frame k lands on ``start_frame + k``.
    Any action already on the shape keys moves to the NLA. Raises InputError before touching the scene
    when nothing can be keyed. Returns ``(action, keyed_shape_key_names, unmatched_arkit_names)``.
    """
    if obj is None or obj.type != "MESH":
        raise InputError("choose a mesh object as the target")
    mapping = shape_key_mapping(obj)
    if not mapping:
        raise InputError(f"mesh {obj.name!r} has no shape keys named like ARKit blendshapes (e.g. jawOpen)")
    fps = float(fps) if fps else scene_fps(bpy.context.scene)
    if abs(anim.fps - fps) > 1e-6:
        anim = anim.resample(fps)
    t = anim.num_frames
    frames = start_frame + np.arange(t, dtype=np.float64)  # (T,)
    co = np.empty((t, 2), np.float32)  # (T, 2) [frame, value] pairs for foreach_set
    co[:, 0] = frames

    key = obj.data.shape_keys
    action = bpy.data.actions.new(action_name)
    try:
        slot = None
        if _is_layered(action):
            slot = action.slots.new(id_type="KEY", name=key.name)
        fcurves = _new_fcurves(action, slot)
        linear = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value
        for sk_name, arkit in mapping.items():
            path = f'key_blocks["{bpy.utils.escape_identifier(sk_name)}"].value'
            fc = fcurves.new(path, index=0)
            co[:, 1] = anim.weights[:, INDEX[arkit]]
            fc.keyframe_points.add(t)
            fc.keyframe_points.foreach_set("co", co.ravel())
            fc.keyframe_points.foreach_set("interpolation", np.full(t, linear, np.int32))
            fc.update()
    except Exception:
        bpy.data.actions.remove(action)
        raise
    ad = key.animation_data or key.animation_data_create()
    push_down_action(ad)
    ad.action = action
    if slot is not None and hasattr(ad, "action_slot"):
        ad.action_slot = slot
    keyed = list(mapping)
    used = set(mapping.values())
    unmatched = [n for n in INDEX if n not in used]
    return action, keyed, unmatched
