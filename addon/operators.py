"""Operators: import a face animation file onto a mesh's shape keys."""
from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import StringProperty

from ..core.errors import DreamTalkError
from . import keying


class DREAMTALK_OT_import_animation(bpy.types.Operator):
    """Key a Live Link Face CSV, DREAM-Talk JSON or NPZ onto the target mesh's ARKit shape keys"""

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
        obj = props.target_object
        if obj is None and context.active_object is not None and context.active_object.type == "MESH":
            obj = context.active_object
        try:
            # Everything that can fail on the user's input happens before the scene changes.
            anim = read_animation(path)
            action, keyed, unmatched = keying.key_shape_animation(obj, anim, props.start_frame, path.stem)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        except OSError as e:  # unreadable file, permissions
            self.report({"ERROR"}, f"{path}: cannot read: {e.strerror or e}")
            return {"CANCELLED"}
        msg = f"{action.name}: keyed {len(keyed)} shape keys on {obj.name}"
        if unmatched:
            msg += f" ({len(unmatched)} ARKit shapes have no shape key)"
        self.report({"INFO"}, msg)
        return {"FINISHED"}


classes = (DREAMTALK_OT_import_animation,)
register, unregister = bpy.utils.register_classes_factory(classes)
