"""bpy-side helpers for the FBX exporter and the add-on: build a shape-keyed mesh from arrays, key animation,
export (FBX; a mesh's geometry for the glTF writer).

Imported only inside a Blender process (or with the ``bpy`` wheel); :mod:`.fbx` imports it lazily.
Everything here works on plain arrays and names; of the package it needs ``core.rotation`` (and, where used,
``rigs.proxy_head`` and ``core.errors``).

Frames: glTF / ARKit data are +Y up with the face looking along +Z; Blender is +Z up with the face
looking along -Y. ``Y_UP_TO_Z_UP`` maps one to the other.
"""
from __future__ import annotations

import contextlib
import math
import os
import re

import bpy
import numpy as np

from ..core.rotation import quat_conj, quat_mul, sign_continuous

# (x, y, z) glTF -> (x, -z, y) Blender: a proper rotation (+90 degrees about X).
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

HEAD_NAME = "Head"
_HEAD_RE = re.compile(r"(?:^|[_:.\s-])head$", re.IGNORECASE)


# ---- session and timing -------------------------------------------------------------------------

def reset_session() -> None:
    """Start from an empty factory scene (standalone use only: never inside a user's Blender session)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)


def fps_settings(fps: float) -> tuple[int, float]:
    """Blender's (fps, fps_base) for a real rate: 30000/1001 -> (30, 1.001), 60 -> (60, 1.0)."""
    fps = float(fps)
    whole = max(1, int(round(fps)))
    return whole, whole / fps


def set_timing(scene, fps: float, num_frames: int) -> None:
    """Scene rate = ``fps`` exactly (fps / fps_base), frame 1 = first sample, frame_end = T."""
    scene.render.fps, scene.render.fps_base = fps_settings(fps)
    scene.frame_start = 1
    scene.frame_end = int(num_frames)
    scene.frame_set(1)


# ---- building the proxy ------------------------------------------------------------------------

def new_mesh_object(name: str, vertices: np.ndarray, triangles: np.ndarray, shape_deltas: dict,
                    collection=None, material_ids: np.ndarray | None = None,
                    materials: tuple = (), material_colors: dict | None = None):
    """A mesh object from glTF-frame arrays: (V, 3) vertices, (F, 3) triangles, name -> (V, 3) shape deltas."""
    v = np.asarray(vertices, np.float64) @ Y_UP_TO_Z_UP.T  # (V, 3) Blender frame
    tris = np.asarray(triangles, np.int64)
    me = bpy.data.meshes.new(name)
    me.vertices.add(len(v))
    me.vertices.foreach_set("co", v.astype(np.float32).ravel())
    me.loops.add(tris.size)
    me.loops.foreach_set("vertex_index", tris.astype(np.int32).ravel())
    me.polygons.add(len(tris))
    me.polygons.foreach_set("loop_start", (np.arange(len(tris)) * 3).astype(np.int32))
    me.polygons.foreach_set("use_smooth", np.ones(len(tris), bool))
    for mname in materials:
        mat = bpy.data.materials.new(mname)
        if material_colors and mname in material_colors:
            mat.diffuse_color = material_colors[mname]
        me.materials.append(mat)
    if material_ids is not None and len(materials):
        me.polygons.foreach_set("material_index", np.asarray(material_ids, np.int32))
    me.update()
    me.validate()
    ob = bpy.data.objects.new(name, me)
    (collection or bpy.context.scene.collection).objects.link(ob)
    ob.shape_key_add(name="Basis", from_mix=False)
    for sk_name, d in shape_deltas.items():
        kb = ob.shape_key_add(name=sk_name, from_mix=False)
        co = v + np.asarray(d, np.float64) @ Y_UP_TO_Z_UP.T
        kb.points.foreach_set("co", co.astype(np.float32).ravel())
        kb.slider_min, kb.slider_max = 0.0, 1.0
    return ob


def new_head_rig(mesh_ob, pivot, length: float = 0.2, name: str = "Armature"):
    """An armature with one bone ``Head`` at ``pivot`` (glTF frame), pointing up; ``mesh_ob`` skinned to it.

    A bone rather than an empty because Unreal imports morph targets only on skeletal meshes.
    """
    arm = bpy.data.armatures.new(name)
    rig = bpy.data.objects.new(name, arm)
    coll = mesh_ob.users_collection[0] if mesh_ob.users_collection else bpy.context.scene.collection
    coll.objects.link(rig)
    view = bpy.context.view_layer
    view.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm.edit_bones.new(HEAD_NAME)
    p = Y_UP_TO_Z_UP @ np.asarray(pivot, np.float64)
    bone.head = tuple(p)
    bone.tail = tuple(p + np.array([0.0, 0.0, length]))
    bpy.ops.object.mode_set(mode="OBJECT")
    vg = mesh_ob.vertex_groups.new(name=HEAD_NAME)
    vg.add(list(range(len(mesh_ob.data.vertices))), 1.0, "REPLACE")
    mod = mesh_ob.modifiers.new("Armature", "ARMATURE")
    mod.object = rig
    mesh_ob.parent = rig
    rig.pose.bones[HEAD_NAME].rotation_mode = "QUATERNION"
    return rig


def is_proxy_head(ob) -> bool:
    """Whether ``ob`` is the proxy head as built (same vertices and 52 shape keys), so its glTF is the CLI's."""
    from ..rigs.proxy_head import build_proxy_head

    key = getattr(ob.data, "shape_keys", None) if ob is not None and ob.type == "MESH" else None
    head = build_proxy_head()
    n = head.num_vertices
    if key is None or len(ob.data.vertices) != n or len(ob.data.polygons) != len(head.triangles):
        return False
    blocks = {kb.name: kb for kb in key.key_blocks if kb != key.reference_key}
    if sorted(blocks) != sorted(head.names):
        return False
    rest = head.vertices.astype(np.float64) @ Y_UP_TO_Z_UP.T  # (V, 3) Blender frame
    co = np.empty(3 * n, np.float32)
    ob.data.vertices.foreach_get("co", co)
    if not np.allclose(co.reshape(n, 3), rest, atol=1e-6):
        return False
    for name, d in head.delta_dict.items():  # an edited shape key makes it the user's own mesh
        blocks[name].data.foreach_get("co", co)
        if not np.allclose(co.reshape(n, 3), rest + d.astype(np.float64) @ Y_UP_TO_Z_UP.T, atol=1e-6):
            return False
    return True


# ---- finding targets in a user's scene -------------------------------------------------------

def shape_key_meshes(objects) -> list:
    """Mesh objects with at least one shape key besides the basis."""
    out = []
    for ob in objects:
        key = getattr(ob.data, "shape_keys", None) if ob.type == "MESH" else None
        if key is not None and len(key.key_blocks) > 1:
            out.append(ob)
    return out


def shape_key_names(ob) -> list[str]:
    """Shape-key names of ``ob`` without its reference (basis) key."""
    key = ob.data.shape_keys
    return [kb.name for kb in key.key_blocks if kb != key.reference_key]


def find_head(objects):
    """``(armature_object, bone_name)`` or ``(object, None)`` for a head bone/object, else ``(None, None)``."""
    objects = list(objects)
    for exact in (True, False):
        for ob in objects:
            if ob.type == "ARMATURE":
                for b in ob.data.bones:
                    if (b.name.lower() == "head") if exact else _HEAD_RE.search(b.name):
                        return ob, b.name
        for ob in objects:
            if ob.type in ("EMPTY", "ARMATURE") and ((ob.name.lower() == "head") if exact
                                                     else _HEAD_RE.search(ob.name)):
                return ob, None
    return None, None


# ---- keying (the one implementation: the add-on's addon/keying.py calls these too) ------------------
# Every take is a NEW action per datablock, keys written with ``keyframe_points.foreach_set`` (one call per
# curve). Blender 4.2/4.3 have legacy actions (``Action.fcurves``); 4.4+ layered ones (slots, layers, keyframe
# strips, channelbags), and 5.0 removed ``Action.fcurves``.

def is_layered(action) -> bool:
    """True when F-curves live in a slot's channelbag (4.4+), False for legacy actions (4.2/4.3)."""
    return hasattr(action, "slots") and (not hasattr(action, "fcurves") or hasattr(bpy.types, "ActionChannelbag"))


def fcurves_of(action) -> list:
    """All F-curves of an action (every layer, strip and channelbag in 4.4+, ``Action.fcurves`` before)."""
    if hasattr(action, "layers") and len(action.layers):
        return [fc for layer in action.layers for strip in layer.strips
                for bag in strip.channelbags for fc in bag.fcurves]
    return list(getattr(action, "fcurves", ()))


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


def new_take(id_block, name: str, id_type: str):
    """``(action, slot, curves)``: a new action for ``id_block`` (``id_type`` "KEY" or "OBJECT"), its slot
    (None before 4.4) and what owns its F-curves (the slot's channelbag, or the legacy action)."""
    action = bpy.data.actions.new(name)
    if not is_layered(action):
        return action, None, action
    slot = action.slots.new(id_type=id_type, name=id_block.name)
    layer = action.layers[0] if len(action.layers) else action.layers.new("Layer")
    strip = layer.strips[0] if len(layer.strips) else layer.strips.new(type="KEYFRAME")
    return action, slot, strip.channelbag(slot, ensure=True)


def key_curve(curves, path: str, index: int, frames: np.ndarray, values: np.ndarray, group: str | None = None):
    """A new LINEAR F-curve on ``curves`` (from :func:`new_take`) with (T,) ``values`` at (T,) ``frames``."""
    fc = curves.fcurves.new(path, index=index)
    if group:
        fc.group = curves.groups.get(group) or curves.groups.new(group)
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


def assign_take(id_block, action, slot, push_down: bool = True) -> str | None:
    """Make ``action`` the active action of ``id_block``; the old one moves to the NLA (``push_down``) or is
    just unassigned. Returns the name of the action pushed down."""
    ad = id_block.animation_data or id_block.animation_data_create()
    pushed = push_down_action(ad) if push_down else None
    ad.action = action
    if slot is not None and hasattr(ad, "action_slot"):
        ad.action_slot = slot
    return pushed


def keyed_take(id_block, id_type: str, name: str, curves_spec, push_down: bool):
    """Build a take from ``curves_spec`` [(path, index, frames, values, group)], removed again on failure."""
    action, slot, curves = new_take(id_block, name, id_type)
    try:
        for path, index, frames, values, group in curves_spec:
            key_curve(curves, path, index, frames, values, group)
    except Exception:
        bpy.data.actions.remove(action)
        raise
    assign_take(id_block, action, slot, push_down)
    return action


def key_shape_keys(mesh_ob, names, values: np.ndarray, start_frame: int = 1, action_name: str | None = None,
                   push_down: bool = False):
    """Key (T, K) ``values`` onto ``mesh_ob``'s shape keys ``names`` at frames start_frame .. start_frame+T-1."""
    key = mesh_ob.data.shape_keys
    values = np.asarray(values, np.float64)
    frames = start_frame + np.arange(values.shape[0], dtype=np.float64)
    spec = []
    for j, n in enumerate(names):
        kb = key.key_blocks[n]
        kb.slider_min = min(kb.slider_min, 0.0)
        kb.slider_max = max(kb.slider_max, 1.0)
        spec.append((f'key_blocks["{bpy.utils.escape_identifier(n)}"].value', 0, frames, values[:, j], None))
    return keyed_take(key, "KEY", action_name or f"DreamTalk_{mesh_ob.name}_shapes", spec, push_down)


# glTF/ARKit head frame (+Y up, face along +Z) -> Blender (+Z up, face along -Y): +90 degrees about X.
Q_Y_UP_TO_Z_UP = np.array([math.sin(math.pi / 4), 0.0, 0.0, math.cos(math.pi / 4)])  # (x, y, z, w)
WXYZ, XYZW = [3, 0, 1, 2], [1, 2, 3, 0]  # reorder (x, y, z, w) <-> Blender's (w, x, y, z)


def rest_quaternions(head_ob, bone_name):
    """(rest, pre), (x, y, z, w): world rest orientation of the head, local rotation applied before the delta."""
    if bone_name is not None:
        rest = head_ob.matrix_world.to_3x3() @ head_ob.data.bones[bone_name].matrix_local.to_3x3()
        pre = np.array([0.0, 0.0, 0.0, 1.0])
    else:
        rest = head_ob.matrix_world.to_3x3()
        pre = np.array(list(head_ob.matrix_basis.to_3x3().normalized().to_quaternion()), np.float64)[XYZW]
    return np.array(list(rest.normalized().to_quaternion()), np.float64)[XYZW], pre


def head_local_quaternions(head_ob, bone_name, q_gltf: np.ndarray) -> np.ndarray:
    """(T, 4) Blender local (w, x, y, z) rotations that turn the head by (T, 4) (x, y, z, w) rotations given in
    the glTF frame, about its own pivot.

    A world rotation Rw about the pivot is the local delta B^-1 Rw B for a head whose world rest orientation
    is B; an object keeps its current rotation under the delta. Neighbours stay on one hemisphere.
    """
    c = Q_Y_UP_TO_Z_UP
    world = quat_mul(quat_mul(c, q_gltf), quat_conj(c))  # (T, 4) Blender world frame
    rest, pre = rest_quaternions(head_ob, bone_name)
    local = quat_mul(pre, quat_mul(quat_mul(quat_conj(rest), world), rest))
    return sign_continuous(local)[:, WXYZ]


def gltf_quaternions_from_local(head_ob, bone_name, local: np.ndarray) -> np.ndarray:
    """Inverse of :func:`head_local_quaternions`: (T, 4) local (w, x, y, z) -> (T, 4) glTF-frame (x, y, z, w)."""
    rest, pre = rest_quaternions(head_ob, bone_name)
    c = Q_Y_UP_TO_Z_UP
    world = quat_mul(quat_mul(rest, quat_mul(quat_conj(pre), np.asarray(local, np.float64)[:, XYZW])), quat_conj(rest))
    q = quat_mul(quat_mul(quat_conj(c), world), c)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def rotation_target(head_ob, bone_name):
    """(owner with rotation_mode, data path prefix, group name) of the head's rotation channels."""
    if bone_name is not None:
        pb = head_ob.pose.bones[bone_name]
        return pb, f'pose.bones["{bpy.utils.escape_identifier(bone_name)}"].', bone_name
    return head_ob, "", "Object Transforms"


def key_head_rotation(head_ob, bone_name, q_gltf: np.ndarray, start_frame: int = 1, action_name: str | None = None,
                      push_down: bool = False):
    """Key (T, 4) glTF-frame head rotations (x, y, z, w) on a bone of ``head_ob`` or on the object itself.

    Keys quaternions, or Euler angles in the owner's own order when it rotates by Euler (so the rig's
    existing animation in the NLA keeps working). Returns the action.
    """
    quats = head_local_quaternions(head_ob, bone_name, q_gltf)  # (T, 4)
    owner, prefix, group = rotation_target(head_ob, bone_name)
    if owner.rotation_mode == "AXIS_ANGLE":
        owner.rotation_mode = "QUATERNION"
    if owner.rotation_mode == "QUATERNION":
        path, values = prefix + "rotation_quaternion", quats
    else:
        from mathutils import Quaternion
        eul, prev = [], None
        for q in quats:  # (T,) small loop: Euler continuity needs make-compatible per frame
            e = Quaternion(q).to_euler(owner.rotation_mode, prev) if prev is not None else \
                Quaternion(q).to_euler(owner.rotation_mode)
            eul.append(tuple(e))
            prev = e
        path, values = prefix + "rotation_euler", np.array(eul, np.float64)
    frames = start_frame + np.arange(len(quats), dtype=np.float64)
    spec = [(path, i, frames, values[:, i], group) for i in range(values.shape[1])]
    return keyed_take(head_ob, "OBJECT", action_name or f"DreamTalk_{head_ob.name}", spec, push_down)


# ---- time shift and export ------------------------------------------------------------------

def shift_time(offset: float) -> None:
    """Move every action key and NLA strip by ``offset`` frames (only in a session this process owns)."""
    for action in bpy.data.actions:
        for fc in fcurves_of(action):
            for kp in fc.keyframe_points:
                kp.co.x += offset
                kp.handle_left.x += offset
                kp.handle_right.x += offset
            fc.update()
    ids = list(bpy.data.objects) + list(bpy.data.shape_keys)
    for idb in ids:
        ad = idb.animation_data
        if ad is None:
            continue
        for track in ad.nla_tracks:
            strips = sorted(track.strips, key=lambda s: s.frame_start, reverse=offset > 0)
            for s in strips:
                s.frame_start_ui = s.frame_start_ui + offset


# Every option set here matters for a round trip of shape-key animation; defaults that drop it are noted.
FBX_EXPORT_OPTIONS = dict(
    # Nothing but meshes and the head rig: cameras/lights from a user's file are not face animation.
    object_types={"MESH", "ARMATURE", "EMPTY"},
    # Modifiers must NOT be applied: an evaluated (modified) mesh carries no shape keys, so the
    # default True silently exports no blend shapes for any mesh with e.g. a subdivision modifier.
    use_mesh_modifiers=False,
    # Sample the animation: FBX has no notion of Blender's F-curves on the Key datablock.
    bake_anim=True,
    # Both default True: then the exporter writes one take per *object-level* action and per NLA strip
    # and never the scene take; shape keys live on the Key datablock, so a mesh whose only animation
    # is its shape keys (no object action anywhere) exports with no animation at all. With both off
    # the exporter writes a single scene take sampled over frame_start..frame_end, including shape keys.
    bake_anim_use_all_actions=False,
    bake_anim_use_nla_strips=False,
    bake_anim_use_all_bones=True,  # a key on every bone every frame: engines see a complete track
    # Constant channels still get their first/last keys, so every blend shape exists as a curve.
    bake_anim_force_startend_keying=True,
    bake_anim_step=1.0,  # one key per frame = one key per source sample
    # The default 1.0 drops keys whose change is "small" (0.1 % relative): a lossy re-fit; 0 keeps all.
    bake_anim_simplify_factor=0.0,
    # Leaf bones add "Head_end" bones that Unreal/Unity show as extra joints and that re-import as bones.
    add_leaf_bones=False,
    primary_bone_axis="Y", secondary_bone_axis="X",  # Blender's own bone axes: exact round trip
    armature_nodetype="NULL",
    # FBX convention (-Z forward, +Y up); Blender's importer reverses the same conversion.
    axis_forward="-Z", axis_up="Y",
    # Scale baked into the data so the root has unit scale (avoids Unity's 100x root, Unreal's 0.01).
    apply_unit_scale=True, apply_scale_options="FBX_SCALE_ALL", global_scale=1.0,
    mesh_smooth_type="FACE",  # engines warn about missing smoothing groups otherwise
    use_custom_props=False, use_metadata=True,
    path_mode="AUTO", embed_textures=False,
)


def export_owned_scene(path: str, frame_start: int, frame_end: int, objects=None) -> dict:
    """Write the current scene (a session this process owns) to FBX; the first frame lands on FBX time 0.

    The single scene take stores absolute times (frame / fps), and Blender's importer adds its
    ``anim_offset`` of 1 frame; so every key is shifted to start at frame 0 first: time 0 = first
    sample in the file, and frame 1 = first sample after re-import.
    """
    scene = bpy.context.scene
    if frame_start != 0:
        shift_time(-frame_start)
    scene.frame_start = 0
    scene.frame_end = int(frame_end - frame_start)
    scene.frame_set(0)
    opts = dict(FBX_EXPORT_OPTIONS)
    if objects is not None:
        for ob in bpy.context.view_layer.objects:
            ob.select_set(False)
        for ob in objects:
            ob.select_set(True)
        opts["use_selection"] = True
    with silenced_stdout():  # the exporter prints progress and the (temporary) file name
        res = bpy.ops.export_scene.fbx(filepath=os.fspath(path), check_existing=False, **opts)
    if "FINISHED" not in res:
        raise RuntimeError(f"Blender's FBX exporter failed: {res}")
    return {"frames": int(frame_end - frame_start + 1),
            "fps": scene.render.fps / scene.render.fps_base}


# Blender's glTF exporter writes only the geometry for exporters/gltf.py to animate (see export_gltf_geometry).
GLTF_GEOMETRY_OPTIONS = dict(
    export_format="GLB", use_selection=True,
    export_animations=False,  # the animation is added by exporters/gltf.py, as the CLI adds it
    export_morph=True, export_morph_normal=True,  # shape keys -> morph targets named in mesh.extras.targetNames
    export_skins=True, export_def_bones=False,  # the head rig's joints: nodes named like the bones
    export_yup=True,  # glTF's +Y up, the frame FaceAnimation's head rotation is given in
)


def export_gltf_geometry(objects, active, path) -> None:
    """Write ``objects`` (``active`` the active one) without animation as GLB with Blender's glTF exporter;
    the view layer's selection and active object are restored."""
    if not hasattr(bpy.ops.export_scene, "gltf"):
        from ..core.errors import InputError
        raise InputError("writing a mesh to glTF needs Blender's glTF exporter (the io_scene_gltf2 add-on)")
    view = bpy.context.view_layer
    selected = [o for o in view.objects if o.select_get()]
    was_active = view.objects.active
    try:
        for o in selected:
            o.select_set(False)
        for o in objects:
            o.select_set(True)
        view.objects.active = active
        with silenced_stdout():  # the exporter prints progress
            res = bpy.ops.export_scene.gltf(filepath=os.fspath(path), check_existing=False, **GLTF_GEOMETRY_OPTIONS)
    finally:
        for o in objects:
            o.select_set(False)
        for o in selected:
            o.select_set(True)
        view.objects.active = was_active
    if "FINISHED" not in res:
        raise RuntimeError(f"Blender's glTF exporter failed: {res}")


@contextlib.contextmanager
def silenced_stdout():
    """Send this process's stdout (Python and C level) to /dev/null for the duration."""
    import sys
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# ---- used by tests and by the add-on's helper process ---------------------------------------

def read_back(path: str, frames: int) -> dict:
    """Import an FBX into a fresh scene; per mesh: shape-key values (T, K); head world rotations (T, 3, 3) glTF frame."""
    reset_session()
    bpy.ops.import_scene.fbx(filepath=os.fspath(path))
    scene = bpy.context.scene
    meshes = shape_key_meshes(scene.objects)
    head_ob, bone = find_head(scene.objects)
    shapes = {ob.name: (shape_key_names(ob), np.zeros((frames, len(shape_key_names(ob))))) for ob in meshes}
    rots = np.zeros((frames, 3, 3))
    rest = None
    if head_ob is not None:
        rest = (head_ob.matrix_world.to_3x3() @ head_ob.data.bones[bone].matrix_local.to_3x3()) if bone \
            else None
    # First/last key frame and key count over every imported F-curve (shape keys and bones).
    key_frames = [(fc.keyframe_points[0].co.x, fc.keyframe_points[-1].co.x, len(fc.keyframe_points))
                  for a in bpy.data.actions for fc in fcurves_of(a) if len(fc.keyframe_points)]
    # Imported shape-key keys by name: (frames, values), independent of how the importer times them.
    shape_keys = {}
    for ob in meshes:
        ad = ob.data.shape_keys.animation_data
        curves = {}
        for fc in (fcurves_of(ad.action) if ad and ad.action else ()):
            m = re.match(r'key_blocks\["(.+)"\]\.value$', fc.data_path)
            if m:
                co = np.empty(2 * len(fc.keyframe_points), np.float32)
                fc.keyframe_points.foreach_get("co", co)
                curves[m.group(1)] = co.reshape(-1, 2)  # (N, 2) frame, value
        shape_keys[ob.name] = curves
    for f in range(frames):
        scene.frame_set(f + 1)
        for ob in meshes:
            names, arr = shapes[ob.name]
            kbs = ob.data.shape_keys.key_blocks
            arr[f] = [kbs[n].value for n in names]
        if head_ob is not None:
            if bone:
                cur = head_ob.matrix_world.to_3x3() @ head_ob.pose.bones[bone].matrix.to_3x3()
                r = np.array(cur.normalized()) @ np.array(rest.normalized()).T
            else:
                r = np.array(head_ob.matrix_world.to_3x3().normalized())
            rots[f] = Y_UP_TO_Z_UP.T @ r @ Y_UP_TO_Z_UP
    return {"fps": scene.render.fps / scene.render.fps_base,
            "frame_range": (scene.frame_start, scene.frame_end),
            "shapes": {k: (v[0], v[1]) for k, v in shapes.items()},
            "key_frames": key_frames, "shape_key_curves": shape_keys, "actions": [a.name for a in bpy.data.actions],
            "head": None if head_ob is None else (head_ob.name, bone), "head_rotation": rots}


def export_blend_objects(blend: str, out: str, frame_start: int, frame_end: int, fps: int, fps_base: float) -> None:
    """Helper-process entry: load every object of ``blend`` into a fresh scene and export it to ``out``."""
    reset_session()
    scene = bpy.context.scene
    with bpy.data.libraries.load(blend, link=False) as (src, dst):
        dst.objects = list(src.objects)
    for ob in dst.objects:
        if ob is not None:
            scene.collection.objects.link(ob)
    scene.render.fps, scene.render.fps_base = int(fps), float(fps_base)
    export_owned_scene(out, int(frame_start), int(frame_end))
