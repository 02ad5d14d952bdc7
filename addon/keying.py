"""Key a FaceAnimation onto a mesh's shape keys and a head (bpy only), read it back, add the sound strip.

Shared by the generate, import and export operators. Every take is a NEW action per datablock; the one it
replaces moves to the NLA. Keys are written with ``keyframe_points.foreach_set`` (one call per curve).

Works with Blender 4.2/4.3 (legacy ``Action.fcurves``) and 4.4+/5.x (layered actions: slots, layers,
keyframe strips and channelbags; ``Action.fcurves`` was removed in 5.0).
"""
from __future__ import annotations

import math

import bpy
import numpy as np

from ..core.errors import InputError
from ..rigs.arkit import ARKIT_NAMES, INDEX


def scene_fps(scene) -> float:
    """The scene's real frame rate (``fps / fps_base``, e.g. 30000/1001 for 29.97)."""
    return scene.render.fps / scene.render.fps_base


def _is_layered(action) -> bool:
    # 4.4+ has slots and channelbags; 5.0 removed the legacy Action.fcurves entirely.
    return hasattr(action, "slots") and (not hasattr(action, "fcurves") or hasattr(bpy.types, "ActionChannelbag"))


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


def _slot_for(action, id_type: str, name: str):
    return action.slots.new(id_type=id_type, name=name) if _is_layered(action) else None


def _assign(id_block, action, slot) -> str | None:
    """Make ``action`` the active action of ``id_block``, pushing the old one to the NLA; returns its name."""
    ad = id_block.animation_data or id_block.animation_data_create()
    pushed = push_down_action(ad)
    ad.action = action
    if slot is not None and hasattr(ad, "action_slot"):
        ad.action_slot = slot
    return pushed


def _container(action, slot):
    """What owns fcurves and groups: the slot's channelbag (4.4+) or the legacy action itself."""
    if slot is None:
        return action
    layer = action.layers[0] if len(action.layers) else action.layers.new("Layer")
    strip = layer.strips[0] if len(layer.strips) else layer.strips.new(type="KEYFRAME")
    return strip.channelbag(slot, ensure=True)


def _fill(container, path: str, index: int, frames: np.ndarray, values: np.ndarray, group: str | None = None):
    """A new LINEAR fcurve with one key per frame, written with foreach_set; (T,) frames and values."""
    fc = container.fcurves.new(path, index=index)
    if group:
        fc.group = container.groups.get(group) or container.groups.new(group)
    n = len(frames)
    co = np.empty((n, 2), np.float32)  # (T, 2) [frame, value]
    co[:, 0] = frames
    co[:, 1] = values
    fc.keyframe_points.add(n)
    fc.keyframe_points.foreach_set("co", co.ravel())
    linear = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value
    fc.keyframe_points.foreach_set("interpolation", np.full(n, linear, np.int32))
    fc.update()
    return fc


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
    action = bpy.data.actions.new(action_name)
    try:
        slot = _slot_for(action, "KEY", key.name)
        bag = _container(action, slot)
        for j, n in enumerate(names):
            _fill(bag, f'key_blocks["{bpy.utils.escape_identifier(n)}"].value', 0, frames, values[:, j])
    except Exception:
        bpy.data.actions.remove(action)
        raise
    _assign(key, action, slot)
    return action, list(names)


# glTF/ARKit head frame (+Y up, face along +Z) -> Blender (+Z up, face along -Y): +90 degrees about X.
_Q_Y_UP_TO_Z_UP = np.array([math.cos(math.pi / 4), math.sin(math.pi / 4), 0.0, 0.0])  # (w, x, y, z)


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (..., 4) quaternions in (w, x, y, z) order."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw], -1)


def _qconj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def _rest_quaternions(head_ob, bone_name):
    """(rest, pre): world rest orientation of the head and the local rotation applied before the delta."""
    if bone_name is not None:
        rest = head_ob.matrix_world.to_3x3() @ head_ob.data.bones[bone_name].matrix_local.to_3x3()
        pre = np.array([1.0, 0.0, 0.0, 0.0])
    else:
        rest = head_ob.matrix_world.to_3x3()
        pre = np.array(list(head_ob.matrix_basis.to_3x3().normalized().to_quaternion()), np.float64)
    return np.array(list(rest.normalized().to_quaternion()), np.float64), pre


def head_local_quaternions(head_ob, bone_name, head_rotation: np.ndarray) -> np.ndarray:
    """(T, 4) local (w, x, y, z) rotations that turn the head by (T, 3) [pitch, yaw, roll] about its own pivot.

    A world rotation Rw about the pivot is the local delta B^-1 Rw B for a head whose world rest orientation
    is B; an object keeps its current rotation under the delta. Neighbours stay on one hemisphere.
    """
    from ..core.animation import head_rotation_quaternions

    q = head_rotation_quaternions(head_rotation)[:, [3, 0, 1, 2]]  # (T, 4) glTF frame, w first
    c = _Q_Y_UP_TO_Z_UP
    world = _qmul(_qmul(c, q), _qconj(c))  # (T, 4) Blender world frame
    rest, pre = _rest_quaternions(head_ob, bone_name)
    local = _qmul(pre, _qmul(_qmul(_qconj(rest), world), rest))
    flips = np.sum(local[1:] * local[:-1], axis=1) < 0  # (T-1,)
    sign = np.concatenate([[1.0], np.where(np.cumsum(flips) % 2 == 1, -1.0, 1.0)])
    return local * sign[:, None]


def head_rotation_from_local(head_ob, bone_name, local: np.ndarray) -> np.ndarray:
    """Inverse of :func:`head_local_quaternions`: (T, 4) local rotations -> (T, 3) [pitch, yaw, roll]."""
    rest, pre = _rest_quaternions(head_ob, bone_name)
    c = _Q_Y_UP_TO_Z_UP
    world = _qmul(_qmul(rest, _qmul(_qconj(pre), local)), _qconj(rest))
    q = _qmul(_qmul(_qconj(c), world), c)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    # R = Ry(yaw) Rx(pitch) Rz(roll): row 1 is [cp sr, cp cr, -sp], column 2 is [sy cp, -sp, cy cp].
    r12 = 2 * (y * z - w * x)
    r10 = 2 * (x * y + w * z)
    r11 = 1 - 2 * (x * x + z * z)
    r02 = 2 * (x * z + w * y)
    r22 = 1 - 2 * (x * x + y * y)
    pitch = np.arcsin(np.clip(-r12, -1.0, 1.0))
    return np.stack([pitch, np.arctan2(r02, r22), np.arctan2(r10, r11)], -1).astype(np.float32)


def _rotation_target(head_ob, bone_name):
    """(owner with rotation_mode, data path prefix, group name) of the head's rotation channels."""
    if bone_name is not None:
        pb = head_ob.pose.bones[bone_name]
        return pb, f'pose.bones["{bpy.utils.escape_identifier(bone_name)}"].', bone_name
    return head_ob, "", "Object Transforms"


def key_head_animation(head_ob, bone_name, anim, start_frame: int, action_name: str, fps: float | None = None):
    """Key ``anim.head_rotation`` on a bone of ``head_ob`` or on the object itself, as a NEW action.

    Keys quaternions, or Euler angles in the owner's own order when it rotates by Euler (so the rig's
    existing animation in the NLA keeps working). Returns the action.
    """
    from mathutils import Quaternion

    if bone_name is not None and (head_ob.type != "ARMATURE" or bone_name not in head_ob.pose.bones):
        raise InputError(f"{head_ob.name!r} has no bone {bone_name!r}")
    fps = float(fps) if fps else scene_fps(bpy.context.scene)
    if abs(anim.fps - fps) > 1e-6:
        anim = anim.resample(fps)
    quats = head_local_quaternions(head_ob, bone_name, anim.head_rotation)  # (T, 4)
    owner, prefix, group = _rotation_target(head_ob, bone_name)
    if owner.rotation_mode == "AXIS_ANGLE":
        owner.rotation_mode = "QUATERNION"
    if owner.rotation_mode == "QUATERNION":
        path, values = prefix + "rotation_quaternion", quats
    else:
        eul = []
        prev = None
        for q in quats:  # (T,) small loop: Euler continuity needs make-compatible per frame
            e = Quaternion(q).to_euler(owner.rotation_mode, prev) if prev is not None else \
                Quaternion(q).to_euler(owner.rotation_mode)
            eul.append(tuple(e))
            prev = e
        path, values = prefix + "rotation_euler", np.array(eul, np.float64)
    frames = start_frame + np.arange(anim.num_frames, dtype=np.float64)
    action = bpy.data.actions.new(action_name)
    try:
        slot = _slot_for(action, "OBJECT", head_ob.name)
        bag = _container(action, slot)
        for i in range(values.shape[1]):
            _fill(bag, path, i, frames, values[:, i], group)
    except Exception:
        bpy.data.actions.remove(action)
        raise
    _assign(head_ob, action, slot)
    return action


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
        owner, prefix, _ = _rotation_target(head_ob, bone_name)
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
